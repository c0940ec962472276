"""The quarantine in the console: each agent sees and handles the messages of his
departments only; he reads one (reason, decoded headers, escaped text, file names), downloads
its original, discards it, or accepts it into a new ticket or a ticket of the account he
names. A refusal says why on the page and applies nothing.

State is built through the real ingest, with messages written as bytes (tests/portal/
mail_support.py): a stranger's message is quarantined by the pipeline itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from atiende.accounts.models import Account
from atiende.console import views_mail
from atiende.mail.models import InboundMessage
from atiende.tickets.models import Channel, Message, Ticket
from tests.conftest import Cast
from tests.console.ticket_support import html, login, queries_for
from tests.portal.mail_support import (
    AUTHSERV_ID,
    STRANGER,
    html_mail,
    plain_mail,
    png,
    receive,
)

OpenTicket = Callable[..., Ticket]
Outcome = InboundMessage.Outcome
LIST = "/consola/cuarentena/"


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


def _url(inbound: InboundMessage, action: str = "") -> str:
    return f"{LIST}{inbound.pk}/{action + '/' if action else ''}"


def _quarantine(department: Any, subject: str, body: str = "Hola, ¿me ayudan?") -> InboundMessage:
    row = receive(plain_mail(sender=STRANGER, subject=subject, body=body), department)
    assert row.outcome == Outcome.QUARANTINED, row.reason
    return row


@pytest.fixture
def quarantined(cast: Cast) -> dict[str, InboundMessage]:
    """A stranger's message on each of two departments' addresses, and one on none."""
    return {
        "soporte": _quarantine(cast.soporte, "Mensaje para soporte"),
        "operaciones": _quarantine(cast.operaciones, "Mensaje para operaciones"),
        "none": _quarantine(None, "Mensaje sin departamento"),
    }


def _nav_count(page: str) -> int:
    match = re.search(
        r'<a href="/consola/cuarentena/"[^>]*>Quarantine <span class="nav-count"[^>]*>(\d+)</span>',
        page,
    )
    assert match is not None, "no Quarantine link in the console's frame"
    return int(match.group(1))


class TestTheList:
    def test_an_agent_sees_only_his_departments_messages(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        page = html(login(cast.agent).get(LIST))
        assert "Mensaje para soporte" in page
        assert "Mensaje para operaciones" not in page
        assert "Mensaje sin departamento" not in page

        page = html(login(cast.agent_ops).get(LIST))
        assert "Mensaje para operaciones" in page
        assert "Mensaje para soporte" not in page
        assert "Mensaje sin departamento" not in page

    def test_a_supervisor_sees_all_also_those_without_department(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        page = html(login(cast.supervisor).get(LIST))
        for row in quarantined.values():
            assert f'href="{_url(row)}"' in page

    def test_a_row_says_when_from_whom_what_where_and_why(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        page = html(login(cast.agent).get(LIST))
        row = quarantined["soporte"]
        assert "nadie@desconocido.example" in page
        assert f'<a href="{_url(row)}">Mensaje para soporte</a>' in page
        assert '<td data-label="Department">Soporte técnico</td>' in page
        # Reasons are written in the site's language (Spanish), whoever reads them later.
        assert "no está autorizada en ninguna cuenta" in row.reason
        assert escape(row.reason) in page
        assert '<time datetime="' in page

    def test_handled_messages_leave_the_list(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        client = login(cast.agent)
        client.post(_url(quarantined["soporte"], "descartar"))
        page = html(client.get(LIST))
        assert "Mensaje para soporte" not in page
        assert "No message is waiting in quarantine." in page

    def test_the_frame_links_it_with_the_agent_s_count(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        _quarantine(cast.soporte, "Otro más")
        assert _nav_count(html(login(cast.agent).get("/consola/"))) == 2
        assert _nav_count(html(login(cast.agent_ops).get("/consola/"))) == 1
        assert _nav_count(html(login(cast.supervisor).get(LIST))) == 4
        assert 'aria-current="page">Quarantine' in html(login(cast.agent).get(LIST))

    def test_the_queries_do_not_grow_with_the_rows(self, cast: Cast, settings: Any) -> None:
        settings.ATIENDE_MAIL_SENDER_HOURLY_LIMIT = 1000  # one stranger writes them all
        for number in range(3):
            _quarantine(cast.soporte, f"Mensaje {number}")
        client = login(cast.agent)
        few = queries_for(client, LIST)
        for number in range(3, 30):
            _quarantine(cast.soporte, f"Mensaje {number}")
        many = queries_for(client, LIST)
        assert html(client.get(LIST)).count('<td data-label="From" class="sender">') == 30
        assert few == many

    def test_it_is_paginated(
        self, cast: Cast, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings.ATIENDE_MAIL_SENDER_HOURLY_LIMIT = 1000
        monkeypatch.setattr(views_mail, "MESSAGES_PER_PAGE", 2)
        for number in range(3):
            _quarantine(cast.soporte, f"Mensaje {number}")
        client = login(cast.agent)
        first = html(client.get(LIST))
        second = html(client.get(LIST, {"pagina": "2"}))
        assert "Page 1 of 2" in first and 'href="?pagina=2"' in first
        assert first.count('class="sender"') == 2 and second.count('class="sender"') == 1
        assert "Mensaje 2" in first and "Mensaje 0" in second


class TestWhoMayLook:
    @pytest.mark.parametrize("who", ["ana", "otro"])
    def test_customers_get_the_console_login(
        self, cast: Cast, quarantined: dict[str, InboundMessage], who: str
    ) -> None:
        client = login(getattr(cast, who))
        row = quarantined["soporte"]
        for response in (
            client.get(LIST),
            client.get(_url(row)),
            client.get(_url(row, "original")),
            client.post(_url(row, "descartar")),
            client.post(_url(row, "aceptar"), {"account": "ana@example.com"}),
        ):
            assert response.status_code == 302
            assert response["Location"].startswith("/consola/entrar/?next=")
        row.refresh_from_db()
        assert row.outcome == Outcome.QUARANTINED

    def test_anonymous_visitors_get_the_console_login(
        self, quarantined: dict[str, InboundMessage]
    ) -> None:
        response = Client().get(_url(quarantined["soporte"]))
        assert response.status_code == 302
        assert response["Location"].startswith("/consola/entrar/")

    def test_another_department_s_message_does_not_exist_for_the_agent(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        client = login(cast.agent)
        for row in (quarantined["operaciones"], quarantined["none"]):
            assert client.get(_url(row)).status_code == 404
            assert client.get(_url(row, "original")).status_code == 404
            assert client.post(_url(row, "descartar")).status_code == 404
            response = client.post(_url(row, "aceptar"), {"account": "ana@example.com"})
            assert response.status_code == 404
            row.refresh_from_db()
            assert row.outcome == Outcome.QUARANTINED
        assert not Ticket.objects.exists()

    def test_a_message_that_does_not_exist_is_the_same_404(self, cast: Cast) -> None:
        assert login(cast.agent).get(f"{LIST}999999/").status_code == 404


class TestOneMessage:
    def test_shows_the_reason_the_decoded_headers_the_escaped_text_and_file_names(
        self, cast: Cast
    ) -> None:
        raw = html_mail(
            sender=STRANGER,
            subject="=?utf-8?q?Factura_de_marzo_=E2=82=AC?=",
            text='Hola <script>alert("x")</script> <b>equipo</b>\ncon saltos',
            html='<p>Hola <script>alert("x")</script></p><img src="cid:captura@ana">',
            image=png(),
        )
        row = receive(raw, cast.soporte)
        page = html(login(cast.agent).get(_url(row)))
        assert escape(row.reason) in page
        assert '<h1 class="subject">Factura de marzo €</h1>' in page
        assert '<th scope="row">Subject</th><td>Factura de marzo €</td>' in page
        assert "Nadie Conocido &lt;nadie@desconocido.example&gt;" in page
        assert (
            "Hola &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &lt;b&gt;equipo&lt;/b&gt;"
            in page
        )
        assert "<script>alert" not in page and "<b>equipo</b>" not in page
        assert "captura.png" in page
        assert f'href="{_url(row, "original")}"' in page
        assert "Accept into a ticket" in page and "Discard" in page

    def test_a_message_the_parser_cannot_read_shows_its_raw_headers(
        self, cast: Cast, settings: Any
    ) -> None:
        row = receive(html_mail(sender=STRANGER, html="<p>hola</p>"), cast.soporte)
        settings.ATIENDE_MAIL_MAX_PARTS = 1  # the same message is now over the limits
        page = html(login(cast.agent).get(_url(row)))
        assert "This message could not be read:" in page
        assert '<pre class="raw-headers">' in page
        assert "From: Nadie Conocido &lt;nadie@desconocido.example&gt;" in page
        assert "Content-Type: multipart/alternative" in page

    def test_the_original_is_a_download_that_is_never_rendered(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        row = quarantined["soporte"]
        response = login(cast.agent).get(_url(row, "original"))
        assert response.status_code == 200
        assert response.content == row.raw
        assert response["Content-Disposition"] == f'attachment; filename="message-{row.pk}.eml"'
        assert response["Content-Type"] == "message/rfc822"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"
        assert "no-store" in response["Cache-Control"]

    def test_a_handled_message_shows_what_became_of_it_and_no_actions(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        row = quarantined["soporte"]
        client = login(cast.agent)
        client.post(_url(row, "descartar"))
        page = html(client.get(_url(row)))
        assert "discarded by staff" in page and "Laura Agente" in page
        assert f'action="{_url(row, "aceptar")}"' not in page


class TestDiscard:
    def test_marks_it_discarded_by_the_agent_and_goes_back_to_the_list(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        row = quarantined["soporte"]
        client = login(cast.agent)
        response = client.post(_url(row, "descartar"))
        assert response.status_code == 302 and response["Location"] == LIST
        row.refresh_from_db()
        assert row.outcome == Outcome.DISCARDED
        assert row.handled_by == cast.agent and row.handled_at is not None
        assert "was discarded" in html(client.get(LIST))
        assert not Ticket.objects.exists()

    def test_twice_says_so_on_the_page_and_changes_nothing(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        row = quarantined["soporte"]
        login(cast.supervisor).post(_url(row, "descartar"))
        response = login(cast.agent).post(_url(row, "descartar"))
        assert response.status_code == 200
        assert "This message is no longer in quarantine" in html(response)
        row.refresh_from_db()
        assert row.handled_by == cast.supervisor

    def test_only_by_post(self, cast: Cast, quarantined: dict[str, InboundMessage]) -> None:
        assert login(cast.agent).get(_url(quarantined["soporte"], "descartar")).status_code == 405


def _accept(client: Client, row: InboundMessage, account: str, ticket: str = "") -> Any:
    return client.post(_url(row, "aceptar"), {"account": account, "ticket": ticket})


def _form_error(page: str) -> list[str]:
    return [unescape(error) for error in re.findall(r'<p class="error"[^>]*>(.*?)</p>', page, re.S)]


class TestAcceptIntoANewTicket:
    @pytest.mark.parametrize(
        "typed", ["beto@example.com", "  BETO@example.COM ", "hosting ejemplo s.a.", "Hosting"]
    )
    def test_opens_a_ticket_for_the_account_typed_by_e_mail_or_name(
        self, cast: Cast, quarantined: dict[str, InboundMessage], typed: str
    ) -> None:
        row = quarantined["soporte"]
        response = _accept(login(cast.agent), row, typed)
        ticket = Ticket.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/consola/tickets/{ticket.reference}/"
        assert ticket.account == cast.account and ticket.department == cast.soporte
        assert ticket.customer == cast.ana  # the holder: the sender is nobody's login
        message = ticket.messages.get()
        assert message.channel == Channel.EMAIL
        assert message.sender_email == "nadie@desconocido.example"
        row.refresh_from_db()
        assert row.outcome == Outcome.ACCEPTED and row.ticket == ticket
        assert row.handled_by == cast.agent

    def test_the_ticket_page_says_it_came_by_e_mail_from_the_sender(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        client = login(cast.agent)
        response = _accept(client, quarantined["soporte"], "ana@example.com")
        page = html(client.get(response["Location"]))
        assert "was opened from the message" in page
        assert "customer, by e-mail from nadie@desconocido.example" in page


class TestAcceptIntoATicket:
    def test_adds_it_to_the_account_s_ticket_typed_in_any_form(
        self, cast: Cast, open_ticket: OpenTicket, quarantined: dict[str, InboundMessage]
    ) -> None:
        ticket = open_ticket(customer=cast.beto)
        typed = ticket.reference.lower().replace("-", " ")
        row = quarantined["soporte"]
        response = _accept(login(cast.agent), row, "Hosting Ejemplo S.A.", typed)
        assert response.status_code == 302
        assert response["Location"] == f"/consola/tickets/{ticket.reference}/"
        assert Ticket.objects.count() == 1
        added = ticket.messages.order_by("id").last()
        assert added is not None and added.sender_email == "nadie@desconocido.example"
        row.refresh_from_db()
        assert row.outcome == Outcome.ACCEPTED and row.ticket_message == added

    def test_another_account_s_ticket_is_refused_and_nothing_is_applied(
        self, cast: Cast, open_ticket: OpenTicket, quarantined: dict[str, InboundMessage]
    ) -> None:
        theirs = open_ticket(customer=cast.otro)
        row = quarantined["soporte"]
        response = _accept(login(cast.agent), row, "ana@example.com", theirs.reference)
        assert response.status_code == 200
        page = html(response)
        assert _form_error(page) == [
            f"No ticket {theirs.reference} of the account “Hosting Ejemplo S.A.” in your "
            "departments."
        ]
        # What he typed is still in the boxes.
        assert 'value="ana@example.com"' in page and f'value="{theirs.reference}"' in page
        row.refresh_from_db()
        assert row.outcome == Outcome.QUARANTINED and row.handled_by is None
        assert theirs.messages.count() == 1 and Ticket.objects.count() == 1
        assert Message.objects.count() == 1

    def test_a_ticket_of_another_department_is_refused_too(
        self, cast: Cast, open_ticket: OpenTicket, quarantined: dict[str, InboundMessage]
    ) -> None:
        elsewhere = open_ticket(department=cast.operaciones)
        row = quarantined["soporte"]
        response = _accept(login(cast.agent), row, "ana@example.com", elsewhere.reference)
        assert response.status_code == 200
        assert "in your departments" in html(response)
        row.refresh_from_db()
        assert row.outcome == Outcome.QUARANTINED
        assert elsewhere.messages.count() == 1


class TestAcceptRefusals:
    def test_an_account_that_is_not_found(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        row = quarantined["soporte"]
        for typed in ("nadie@ninguna.example", "Empresa Inexistente"):
            page = html(_accept(login(cast.agent), row, typed))
            assert _form_error(page) == [
                f"No account found for “{typed}”. Type a customer's e-mail address or the "
                "account's name."
            ]
        row.refresh_from_db()
        assert row.outcome == Outcome.QUARANTINED and not Ticket.objects.exists()

    def test_an_ambiguous_account_names_the_candidates(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        Account.objects.create(name="Empresa Uno")
        Account.objects.create(name="Empresa Dos")
        row = quarantined["soporte"]
        page = html(_accept(login(cast.agent), row, "empresa"))
        assert _form_error(page) == [
            "Several accounts match “empresa”: Empresa Dos, Empresa Uno, Otra Empresa. Type "
            "the account's whole name, or the e-mail address of one of its customers."
        ]
        row.refresh_from_db()
        assert row.outcome == Outcome.QUARANTINED and not Ticket.objects.exists()

    def test_the_whole_name_settles_it(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        Account.objects.create(name="Otra Empresa Más")
        response = _accept(login(cast.agent), quarantined["soporte"], "otra empresa")
        assert response.status_code == 302
        assert Ticket.objects.get().account == cast.other_account

    def test_an_inactive_account_is_refused_next_to_the_field(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        Account.objects.filter(pk=cast.account.pk).update(is_active=False)
        row = quarantined["soporte"]
        page = html(_accept(login(cast.agent), row, "ana@example.com"))
        assert _form_error(page) == ["This account is not active."]
        row.refresh_from_db()
        assert row.outcome == Outcome.QUARANTINED and not Ticket.objects.exists()

    def test_a_message_no_longer_in_quarantine_is_not_taken_twice(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        row = quarantined["soporte"]
        assert _accept(login(cast.supervisor), row, "ana@example.com").status_code == 302
        response = _accept(login(cast.agent), row, "otro@example.net")
        assert response.status_code == 200
        assert "This message is no longer in quarantine" in html(response)
        assert Ticket.objects.get().account == cast.account

    def test_the_account_is_required(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        page = html(_accept(login(cast.agent), quarantined["soporte"], ""))
        assert _form_error(page) == ["This field is required."]
        assert not Ticket.objects.exists()
