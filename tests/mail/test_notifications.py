"""Who hears of what by mail, in which language, and what every ticket mail carries.

The customer: the receipt, each public staff reply with its files, the auto-close reminder
and notice, a closing or reopening done by staff. Staff: a new ticket of their department, a
customer's message on a ticket they work, an assignment. Every ticket mail: `[#ID] Asunto`,
a text body and an HTML alternative, a link to the ticket, a Message-ID of our domain and the
ticket's thread root first in References, and In-Reply-To the latest mail of the ticket its
recipient got (the root for the first one).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.translation import gettext, ngettext
from time_machine import TimeMachineFixture

from atiende.accounts.models import User
from atiende.core.clock import now
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.compose import ticket_thread_root
from atiende.mail.outbound.outbox import outbox_deliver_due
from atiende.tickets import routing, services
from atiende.tickets.automation import auto_close_sweep
from atiende.tickets.models import Ticket
from tests.conftest import Cast, staff_create

OpenTicket = Callable[..., Ticket]

START = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)
SUBJECT = 'Sitio <caído> & "lento"'
CUSTOMER_TEMPLATES = {
    "ticket_receipt",
    "ticket_staff_reply",
    "ticket_closed_by_staff",
    "ticket_reopened_by_staff",
    "ticket_auto_close_reminder",
    "ticket_auto_closed",
}
STAFF_TEMPLATES = {"staff_new_ticket", "staff_customer_reply", "staff_ticket_assigned"}


def _rows(template: str | None = None) -> list[OutboxMessage]:
    rows = OutboxMessage.objects.order_by("id")
    return list(rows.filter(template=template) if template else rows)


def _speaks(user: User, language: str) -> None:
    user.language = language
    user.save()


def _customer_link(ticket: Ticket) -> str:
    return f"{settings.SITE_URL}/tickets/{ticket.reference}/"


def _console_link(ticket: Ticket) -> str:
    return f"{settings.SITE_URL}/consola/tickets/{ticket.reference}/"


class TestTheCustomerHears:
    def test_of_a_closing_by_staff_with_who_and_why(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        _speaks(cast.ana, "en")
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.agent, reason="Resuelto por <teléfono>")
        [notice] = _rows("ticket_closed_by_staff")
        assert notice.to == cast.ana.email
        assert "Laura Agente of Soporte técnico closed your ticket." in notice.body_text
        assert "Reason: Resuelto por <teléfono>" in notice.body_text
        assert "Resuelto por &lt;teléfono&gt;" in notice.body_html
        assert _customer_link(ticket) in notice.body_text
        assert "Replying to this e-mail also reopens the ticket." in notice.body_text

    def test_of_a_reopening_by_staff(self, cast: Cast, open_ticket: OpenTicket) -> None:
        _speaks(cast.ana, "en")
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana)
        services.ticket_reopen(ticket=ticket, actor=cast.agent, reason="Falta un paso")
        [notice] = _rows("ticket_reopened_by_staff")
        assert notice.to == cast.ana.email
        assert "Laura Agente of Soporte técnico reopened your ticket" in notice.body_text
        assert "Reason: Falta un paso" in notice.body_text
        assert _customer_link(ticket) in notice.body_text

    def test_of_staff_reopening_a_resolved_ticket_too(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
        services.ticket_reopen(ticket=ticket, actor=cast.supervisor)
        [notice] = _rows("ticket_reopened_by_staff")
        assert notice.to == cast.ana.email
        assert "Sara Supervisora" in notice.body_text

    def test_nothing_of_his_own_closing_and_reopening(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana)
        services.ticket_reopen(ticket=ticket, actor=cast.ana)
        services.ticket_close(ticket=ticket, actor=cast.ana)
        assert [row.template for row in _rows() if row.to == cast.ana.email] == ["ticket_receipt"]

    def test_of_a_staff_reply_with_its_files_attached(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        _speaks(cast.ana, "en")
        ticket = open_ticket()
        services.ticket_reply(
            ticket=ticket,
            author=cast.agent,
            body="Adjunto el diagnóstico.",
            files=[
                SimpleUploadedFile("diagnostico.txt", b"todo bien", content_type="text/plain"),
                SimpleUploadedFile("captura.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
            ],
        )
        [reply] = _rows("ticket_staff_reply")
        assert len(reply.attachment_ids) == 2
        assert "The 2 files of this reply are attached to this e-mail:" in reply.body_text
        assert "- diagnostico.txt\n- captura.png\n" in reply.body_text
        assert "<li>diagnostico.txt</li><li>captura.png</li>" in reply.body_html
        assert "download" not in reply.body_text

        outbox_deliver_due()
        [sent] = [m for m in mail.outbox if m.attachments]
        names = [attachment[0] for attachment in sent.attachments]
        assert names == ["diagnostico.txt", "captura.png"]
        assert sent.attachments[0][1] in (b"todo bien", "todo bien")


class TestStaffHear:
    def test_of_a_new_ticket_every_active_agent_of_its_department_and_nobody_else(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        gone = staff_create("baja@example.com", "Agente De Baja", cast.soporte)
        gone.is_active = False
        gone.save()
        _speaks(cast.agent, "en")
        ticket = open_ticket(service=cast.hosting, body="El sitio da <error> 500")

        notices = _rows("staff_new_ticket")
        assert sorted(row.to for row in notices) == sorted(
            [cast.agent.email, cast.supervisor.email]
        )
        laura = next(row for row in notices if row.to == cast.agent.email)
        assert laura.body_text.startswith(
            "Hello Laura Agente,\n\nAna Torres opened a new ticket in Soporte técnico:"
        )
        assert "El sitio da <error> 500" in laura.body_text
        assert "El sitio da &lt;error&gt; 500" in laura.body_html
        assert "Ana Torres <ana@example.com>" in laura.body_text
        assert "ejemplo.mx" in laura.body_text
        assert _console_link(ticket) in laura.body_text
        assert f'href="{_console_link(ticket)}"' in laura.body_html

    def test_of_a_new_ticket_in_another_department_only_its_own_agents(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        open_ticket(department=cast.operaciones)
        assert [row.to for row in _rows("staff_new_ticket")] == [cast.agent_ops.email]

    def test_of_a_customer_message_the_assignee_and_collaborators_only(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        colleague = staff_create("colega@example.com", "Carla Colega", cast.soporte)
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        routing.ticket_collaborator_add(ticket=ticket, collaborator=colleague, actor=colleague)
        services.ticket_reply(ticket=ticket, author=cast.beto, body="Más datos")
        assert sorted(row.to for row in _rows("staff_customer_reply")) == sorted(
            [cast.agent.email, colleague.email]
        )

    def test_of_an_assignment_the_assignee_unless_he_took_it_himself(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        assert not _rows("staff_ticket_assigned")
        routing.ticket_assign(ticket=ticket, assignee=cast.supervisor, actor=cast.supervisor)
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.supervisor)
        assert [row.to for row in _rows("staff_ticket_assigned")] == [cast.agent.email]


@pytest.fixture
def every_mail(cast: Cast, open_ticket: OpenTicket, time_machine: TimeMachineFixture) -> Ticket:
    """One ticket that went through everything that sends mail, one of each kind."""
    # The clock ticks: each mail gets its own moment, as in life (the thread is ordered by it).
    time_machine.move_to(START, tick=True)
    cast.soporte.reminder_hours = 24
    cast.soporte.save()
    ticket = open_ticket(subject=SUBJECT)  # receipt; new ticket to each agent
    routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.supervisor)
    services.ticket_reply(
        ticket=ticket,
        author=cast.agent,
        body="Revise el archivo.",
        files=[SimpleUploadedFile("diagnostico.txt", b"todo bien", content_type="text/plain")],
    )
    services.ticket_reply(ticket=ticket, author=cast.ana, body="Sigue igual")
    services.ticket_close(ticket=ticket, actor=cast.agent, reason="Duplicado")
    services.ticket_reopen(ticket=ticket, actor=cast.agent, reason="No era duplicado")
    services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Ya funciona?")
    time_machine.move_to(START + timedelta(hours=49), tick=True)
    assert auto_close_sweep().reminded == 1
    time_machine.move_to(START + timedelta(hours=73), tick=True)
    assert auto_close_sweep().closed == 1
    return ticket


class TestEveryTicketMail:
    def test_the_story_sent_one_of_each_kind(self, every_mail: Ticket) -> None:
        assert {row.template for row in _rows()} == CUSTOMER_TEMPLATES | STAFF_TEMPLATES

    def test_is_threaded_and_linked_in_the_outbox(self, every_mail: Ticket) -> None:
        ticket = every_mail
        root = ticket_thread_root(ticket.reference)
        latest: dict[str, str] = {}  # the last Message-ID each address got on this ticket
        for row in _rows():
            where = row.template
            assert row.subject == f"[#{ticket.reference}] {SUBJECT}", where
            assert row.body_text.strip(), where
            assert row.body_html.lstrip().startswith("<!doctype html>"), where
            assert row.message_id.startswith("<"), where
            assert row.message_id.endswith(f"@{settings.ATIENDE_MAIL_DOMAIN}>"), where
            references = row.headers["References"].split()
            assert references[0] == root, where
            assert row.headers["In-Reply-To"] == references[-1], where
            assert row.headers["In-Reply-To"] == latest.get(row.to, root), where
            latest[row.to] = row.message_id
            assert row.headers["Auto-Submitted"] == "auto-generated", where
            assert ticket.reference in row.body_text, where
            link = (
                _console_link(ticket) if row.template in STAFF_TEMPLATES else _customer_link(ticket)
            )
            assert link in row.body_text, where
            assert f'href="{link}"' in row.body_html, where
            # User text is escaped in HTML and left as it is in plain text.
            assert SUBJECT in row.body_text, where
            assert "Sitio &lt;caído&gt; &amp; &quot;lento&quot;" in row.body_html, where
        assert len({row.message_id for row in _rows()}) == len(_rows())

    def test_leaves_with_a_text_body_an_html_alternative_and_its_headers(
        self, every_mail: Ticket
    ) -> None:
        ticket = every_mail
        rows = _rows()
        assert outbox_deliver_due() == len(rows)
        assert len(mail.outbox) == len(rows)
        root = ticket_thread_root(ticket.reference)
        for row, sent in zip(rows, mail.outbox, strict=True):
            assert isinstance(sent, EmailMultiAlternatives)
            assert sent.to == [row.to]
            assert sent.subject == f"[#{ticket.reference}] {SUBJECT}"
            assert sent.body == row.body_text
            assert [(content, kind) for content, kind in sent.alternatives] == [
                (row.body_html, "text/html")
            ]
            parsed = email.message_from_bytes(
                sent.message().as_bytes(), policy=email.policy.default
            )
            assert parsed["Subject"] == f"[#{ticket.reference}] {SUBJECT}"
            assert parsed["Message-ID"] == row.message_id
            assert parsed["In-Reply-To"] == row.headers["In-Reply-To"]
            assert str(parsed["References"]).split()[0] == root
            assert parsed.get_body(("plain",)) is not None
            assert parsed.get_body(("html",)) is not None
        [reply] = [m for m in mail.outbox if "Revise el archivo." in str(m.body)]
        assert [a[0] for a in reply.attachments] == ["diagnostico.txt"]
        assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


class TestTheRecipientsLanguage:
    """English is the source; Spanish comes from the catalogue. Sentences that existed before
    the automation notices are translated already; the new ones wait for `make messages`."""

    @pytest.fixture
    def notices(self, cast: Cast, open_ticket: OpenTicket) -> Callable[[str], dict[str, str]]:
        def _for(language: str) -> dict[str, str]:
            _speaks(cast.ana, language)
            _speaks(cast.agent, language)
            cast.soporte.reminder_hours = 24
            cast.soporte.save()
            ticket = open_ticket()
            services.ticket_reply(ticket=ticket, author=cast.agent, body="Hecho")
            services.ticket_close(ticket=ticket, actor=cast.agent, reason="Listo")
            services.ticket_reopen(ticket=ticket, actor=cast.agent)
            services.ticket_resolve(ticket=ticket, agent=cast.agent)
            services.ticket_auto_close_remind(
                ticket_id=ticket.pk, moment=now() + timedelta(hours=49)
            )
            services.ticket_auto_close(ticket_id=ticket.pk, moment=now() + timedelta(hours=73))
            return {
                row.template: row.body_text
                for row in _rows()
                if row.to in (cast.ana.email, cast.agent.email)
            }

        return _for

    def test_an_english_customer_and_agent_read_english(
        self, notices: Callable[[str], dict[str, str]]
    ) -> None:
        bodies = notices("en")
        assert set(bodies) == {
            "ticket_receipt",
            "staff_new_ticket",
            "ticket_staff_reply",
            "ticket_closed_by_staff",
            "ticket_reopened_by_staff",
            "ticket_auto_close_reminder",
            "ticket_auto_closed",
        }
        assert bodies["staff_new_ticket"].startswith("Hello Laura Agente,\n")
        for template, body in bodies.items():
            if template != "staff_new_ticket":
                assert body.startswith("Hello Ana Torres,\n"), template
            assert "Ticket ID:" in body, template
        assert "We received your ticket." in bodies["ticket_receipt"]
        assert "We marked your ticket as resolved" in bodies["ticket_auto_close_reminder"]
        assert "We closed your ticket because" in bodies["ticket_auto_closed"]

    def test_a_spanish_customer_and_agent_read_spanish(
        self, notices: Callable[[str], dict[str, str]]
    ) -> None:
        bodies = notices("es")
        assert bodies["staff_new_ticket"].startswith("Hola, Laura Agente:\n")
        for template, body in bodies.items():
            if template != "staff_new_ticket":
                assert body.startswith("Hola, Ana Torres:\n"), template
            assert "ID del ticket:" in body, template
            assert "Ticket ID:" not in body, template
        assert "Hola, Ana Torres:" in bodies["ticket_receipt"]

    # New sentences of the new mails, where they appear, and their placeholders' values.
    NEW_SENTENCES: list[tuple[str, str, dict[str, str]]] = [
        (
            "ticket_auto_closed",
            "Nothing is lost: the whole conversation stays in your ticket history.",
            {},
        ),
        ("ticket_auto_closed", "Replying to this e-mail also reopens the ticket.", {}),
        (
            "ticket_auto_close_reminder",
            "We marked your ticket as resolved and have not heard from you since.",
            {},
        ),
        ("ticket_closed_by_staff", "If you still need help, reopen the ticket here:", {}),
        ("ticket_closed_by_staff", "Reason:", {}),
        (
            "ticket_reopened_by_staff",
            "%(agent)s of %(department)s reopened your ticket: our team is working on it again.",
            {"agent": "Laura Agente", "department": "Soporte técnico"},
        ),
        (
            "staff_new_ticket",
            "%(customer)s opened a new ticket in %(department)s:",
            {"customer": "Ana Torres", "department": "Soporte técnico"},
        ),
    ]

    @pytest.mark.parametrize(("template", "msgid", "values"), NEW_SENTENCES)
    def test_the_new_sentences_are_spanish_once_translated(
        self,
        notices: Callable[[str], dict[str, str]],
        template: str,
        msgid: str,
        values: dict[str, str],
    ) -> None:
        with translation.override("es"):
            spanish = gettext(msgid)
        if spanish == msgid:
            pytest.skip(
                f"NOT YET TRANSLATED: {msgid!r} has no Spanish in the catalogue; run "
                "`make messages` and translate it (tests/test_i18n.py fails until then)"
            )
        body = notices("es")[template]
        assert (spanish % values if values else spanish) in body
        assert (msgid % values if values else msgid) not in body

    def test_the_attachment_sentence_is_spanish_once_translated(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        singular = "The file of this reply is attached to this e-mail:"
        plural = "The %(counter)s files of this reply are attached to this e-mail:"
        with translation.override("es"):
            spanish = ngettext(singular, plural, 1)
        if spanish == singular:
            pytest.skip(f"NOT YET TRANSLATED: {singular!r}; run `make messages` and translate it")
        ticket = open_ticket()
        services.ticket_reply(
            ticket=ticket, author=cast.agent, body="Va", files=[SimpleUploadedFile("a.txt", b"1")]
        )
        [reply] = _rows("ticket_staff_reply")
        assert spanish in reply.body_text
