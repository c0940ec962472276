"""Responder, Cerrar, Reabrir: each applied once, a stale page applies nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponseBase
from django.test import Client
from django.utils.html import escape

from atiende.tickets import services
from atiende.tickets.lifecycle import Status
from atiende.tickets.models import Attachment, Event, Message, Ticket
from tests.conftest import Cast
from tests.portal.conftest import html, login, upload

OpenTicket = Callable[..., Ticket]


def _url(ticket: Ticket, action: str = "") -> str:
    return f"/tickets/{ticket.reference}/{action + '/' if action else ''}"


def _flash(response: HttpResponseBase) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def _status_events(ticket: Ticket) -> list[tuple[str, str]]:
    return list(
        Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS)
        .order_by("id")
        .values_list("old_status", "new_status")
    )


@pytest.fixture
def ticket(open_ticket: OpenTicket) -> Ticket:
    return open_ticket()


@pytest.fixture
def ana(cast: Cast) -> Client:
    return login(cast.ana)


class TestResponder:
    def test_a_reply_joins_the_thread_and_leads_back_to_it(
        self, cast: Cast, ticket: Ticket, ana: Client
    ) -> None:
        response = ana.post(
            _url(ticket, "responder"),
            {
                "body": "Ya probé\ny sigue igual",
                "submission_key": str(uuid.uuid4()),
                "attachments": [upload("error.log")],
            },
        )
        message = Message.objects.filter(ticket=ticket).latest("id")
        assert response.status_code == 302
        assert response["Location"] == f"{_url(ticket)}#m-{message.public_id}"
        assert message.body == "Ya probé\ny sigue igual"
        assert message.author == cast.ana
        assert message.attachments.get().filename == "error.log"
        assert _flash(response) == ["Your reply was sent."]

    def test_replying_to_a_resolved_ticket_opens_it_again(
        self, cast: Cast, ticket: Ticket, ana: Client
    ) -> None:
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Resuelto", resolve=True)
        assert ticket.status == Status.RESOLVED
        ana.post(_url(ticket, "responder"), {"body": "No, sigue fallando"})
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN

    def test_replying_to_a_closed_ticket_reopens_it_and_says_so(
        self, cast: Cast, ticket: Ticket, ana: Client
    ) -> None:
        services.ticket_close(ticket=ticket, actor=cast.beto)
        response = ana.post(_url(ticket, "responder"), {"body": "Vuelve a pasar"})
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN
        assert _flash(response) == ["Your reply was sent and the ticket was reopened."]

    def test_the_same_submission_key_adds_one_message(self, ticket: Ticket, ana: Client) -> None:
        data = {"body": "Doble clic", "submission_key": str(uuid.uuid4())}
        first = ana.post(_url(ticket, "responder"), data)
        second = ana.post(_url(ticket, "responder"), data)
        assert ticket.messages.count() == 2
        assert first["Location"] == second["Location"]

    @pytest.mark.parametrize("body", ["", "   ", "x" * 50_001])
    def test_an_empty_or_too_long_reply_comes_back_open_with_the_error(
        self, ticket: Ticket, ana: Client, body: str
    ) -> None:
        response = ana.post(_url(ticket, "responder"), {"body": body})
        page = html(response)
        assert response.status_code == 200
        assert '<details class="reply" id="responder" open>' in page
        assert '<div class="field has-error">\n  <label for="id_body">' in page
        assert ticket.messages.count() == 1

    def test_a_refused_file_keeps_the_text_and_asks_to_attach_again(
        self, cast: Cast, ticket: Ticket, ana: Client
    ) -> None:
        key = str(uuid.uuid4())
        text = "Adjunto el programa <que falla>"
        response = ana.post(
            _url(ticket, "responder"),
            {"body": text, "submission_key": key, "attachments": [upload("tool.exe")]},
        )
        page = html(response)
        assert response.status_code == 200
        assert escape(text) in page
        assert f'name="submission_key" value="{key}"' in page
        assert "tool.exe" in page and "attach the files again" in page
        assert ticket.messages.count() == 1
        assert (
            not Attachment.objects.filter(message__ticket=ticket)
            .exclude(message=ticket.messages.first())
            .exists()
        )


class TestCerrar:
    def test_asks_are_you_sure_on_a_page_that_works_without_javascript(
        self, ticket: Ticket, ana: Client
    ) -> None:
        page = html(ana.get(_url(ticket, "cerrar")))
        assert "Are you sure?" in page
        assert f'<form method="post" action="{_url(ticket, "cerrar")}">' in page
        assert 'name="expected_status" value="open"' in page
        assert '<button type="submit" class="danger">' in page

    def test_closing_closes_the_ticket_once(self, ticket: Ticket, ana: Client) -> None:
        response = ana.post(_url(ticket, "cerrar"), {"expected_status": "open"})
        ticket.refresh_from_db()
        assert response["Location"] == _url(ticket)
        assert ticket.status == Status.CLOSED
        assert _status_events(ticket) == [(Status.OPEN, Status.CLOSED)]

    def test_closing_a_ticket_closed_in_another_tab_says_its_status_and_changes_nothing(
        self, cast: Cast, ticket: Ticket, ana: Client
    ) -> None:
        confirm = html(ana.get(_url(ticket, "cerrar")))
        assert 'name="expected_status" value="open"' in confirm
        login(cast.beto).post(_url(ticket, "cerrar"), {"expected_status": "open"})
        response = ana.post(_url(ticket, "cerrar"), {"expected_status": "open"})
        assert response.status_code == 302
        assert response["Location"] == _url(ticket)
        flash = _flash(response)
        assert len(flash) == 1 and "Closed" in flash[0] and "Nothing was applied" in flash[0]
        assert _status_events(ticket) == [(Status.OPEN, Status.CLOSED)]
        page = html(ana.get(response["Location"]))
        assert escape(flash[0]) in page

    def test_the_confirmation_page_of_a_closed_ticket_leads_back_to_it(
        self, cast: Cast, ticket: Ticket, ana: Client
    ) -> None:
        services.ticket_close(ticket=ticket, actor=cast.ana)
        response = ana.get(_url(ticket, "cerrar"))
        assert response.status_code == 302
        assert "Closed" in _flash(response)[0]

    def test_a_post_without_the_status_the_page_showed_applies_nothing(
        self, ticket: Ticket, ana: Client
    ) -> None:
        response = ana.post(_url(ticket, "cerrar"), {})
        ticket.refresh_from_db()
        assert response.status_code == 302
        assert ticket.status == Status.OPEN
        assert _flash(response)


class TestReabrir:
    def test_reopens_a_closed_ticket(self, cast: Cast, ticket: Ticket, ana: Client) -> None:
        services.ticket_close(ticket=ticket, actor=cast.ana)
        response = ana.post(_url(ticket, "reabrir"), {"expected_status": "closed"})
        ticket.refresh_from_db()
        assert response["Location"] == _url(ticket)
        assert ticket.status == Status.OPEN

    def test_reopening_twice_from_two_tabs_reopens_once(
        self, cast: Cast, ticket: Ticket, ana: Client
    ) -> None:
        services.ticket_close(ticket=ticket, actor=cast.ana)
        ana.post(_url(ticket, "reabrir"), {"expected_status": "closed"})
        response = ana.post(_url(ticket, "reabrir"), {"expected_status": "closed"})
        assert "Open" in _flash(response)[-1]
        assert _status_events(ticket) == [
            (Status.OPEN, Status.CLOSED),
            (Status.CLOSED, Status.OPEN),
        ]

    def test_an_active_ticket_cannot_be_reopened(self, ticket: Ticket, ana: Client) -> None:
        response = ana.post(_url(ticket, "reabrir"), {"expected_status": "open"})
        assert _flash(response)
        assert _status_events(ticket) == []

    def test_reopen_accepts_only_post(self, ticket: Ticket, ana: Client) -> None:
        assert ana.get(_url(ticket, "reabrir")).status_code == 405
