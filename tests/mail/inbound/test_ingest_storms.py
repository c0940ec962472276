"""Auto-replies, bounces and loops never open a ticket and are never answered; a bounce of our
own mail marks it in the outbox; a flood from one sender stops in quarantine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from time_machine import TimeMachineFixture

from atiende.core.clock import now
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.tickets import services
from atiende.tickets.models import Message, Ticket
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import (
    AUTHSERV_ID,
    REPORTS,
    eml,
    receive,
    report_naming,
)

OpenTicket = Callable[..., Ticket]
Outcome = InboundMessage.Outcome


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


@pytest.fixture
def ticket(cast: Cast, open_ticket: OpenTicket) -> Ticket:
    """Ana's ticket, answered by staff: an auto-reply to that answer names the ticket."""
    ticket = open_ticket()
    services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Puede revisar el DNS?")
    return ticket


def _state() -> tuple[int, int, int]:
    return Ticket.objects.count(), Message.objects.count(), OutboxMessage.objects.count()


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("ana@example.com", [("Auto-Submitted", "auto-replied")]),
        ("ana@example.com", [("Precedence", "bulk")]),
        ("ana@example.com", [("X-Autoreply", "yes")]),
        ("ana@example.com", [("Return-Path", "<>")]),
        ("MAILER-DAEMON@mx.example.com", []),
        ("ana@example.com", [("List-Id", "Clientes <clientes.example.com>")]),
    ],
    ids=[
        "auto-submitted",
        "precedence-bulk",
        "x-autoreply",
        "null-sender",
        "mailer-daemon",
        "list",
    ],
)
def test_automatic_mail_opens_nothing_and_is_not_answered(
    cast: Cast, ticket: Ticket, sender: str, headers: list[tuple[str, str]]
) -> None:
    before = _state()
    row = receive(
        eml(
            sender=sender,
            subject=f"Respuesta automática: [#{ticket.reference}] Mi sitio no carga",
            body="Estoy fuera de la oficina hasta el lunes.",
            headers=headers,
        ),
        department=cast.soporte,
    )
    assert row.outcome == Outcome.IGNORED
    assert row.reason
    assert row.ticket is None
    assert _state() == before


@pytest.mark.parametrize("corpus_file", sorted(path.name for path in REPORTS.glob("*.eml")))
def test_a_delivery_report_about_mail_we_never_sent_opens_nothing(
    cast: Cast, ticket: Ticket, corpus_file: str
) -> None:
    before = _state()
    row = receive((REPORTS / corpus_file).read_bytes(), department=cast.soporte)
    assert row.outcome == Outcome.IGNORED
    assert _state() == before


def test_a_delivery_report_of_our_notification_marks_it_bounced(cast: Cast, ticket: Ticket) -> None:
    ours = OutboxMessage.objects.get(ticket=ticket, template="ticket_staff_reply")
    OutboxMessage.objects.filter(pk=ours.pk).update(status=OutboxMessage.Status.SENT)
    other = OutboxMessage.objects.get(ticket=ticket, template="ticket_receipt")
    before = _state()

    row = receive(report_naming(ours.message_id), department=cast.soporte)

    assert row.outcome == Outcome.BOUNCE
    assert row.ticket == ticket
    ours.refresh_from_db()
    assert ours.status == OutboxMessage.Status.BOUNCED
    assert f"#{row.pk}" in ours.last_error
    other.refresh_from_db()
    assert other.status != OutboxMessage.Status.BOUNCED
    assert _state() == before


def test_a_bounce_storm_of_the_same_report_adds_nothing(cast: Cast, ticket: Ticket) -> None:
    ours = OutboxMessage.objects.get(ticket=ticket, template="ticket_staff_reply")
    report = report_naming(ours.message_id)
    first = receive(report)
    assert receive(report).pk == first.pk
    assert InboundMessage.objects.count() == 1


class TestLoops:
    def test_mail_from_our_own_address_is_ignored(self, cast: Cast, settings: Any) -> None:
        settings.DEFAULT_FROM_EMAIL = "Atiende <soporte@atiende.test>"
        row = receive(eml(sender="soporte@atiende.test"))
        assert row.outcome == Outcome.IGNORED
        assert not Ticket.objects.exists()

    def test_mail_from_a_department_s_address_is_ignored(self, cast: Cast) -> None:
        cast.operaciones.email = "operaciones@atiende.test"
        cast.operaciones.save()
        before = _state()
        row = receive(eml(sender="Operaciones <Operaciones@atiende.test>"))
        assert row.outcome == Outcome.IGNORED
        assert _state() == before


class TestAFlood:
    def test_the_thirty_first_message_in_an_hour_from_one_sender_is_quarantined(
        self, cast: Cast, settings: Any, time_machine: TimeMachineFixture
    ) -> None:
        assert settings.ATIENDE_MAIL_SENDER_HOURLY_LIMIT == 30
        start = now()
        time_machine.move_to(start, tick=False)
        outcomes = []
        for number in range(31):
            time_machine.move_to(start + timedelta(seconds=number * 100), tick=False)
            raw = eml(subject=f"Mensaje {number + 1}", body=f"Texto {number + 1}")
            outcomes.append(receive(raw, department=cast.soporte).outcome)
        assert outcomes == [Outcome.TICKET] * 30 + [Outcome.QUARANTINED]
        flooded = InboundMessage.objects.get(subject="Mensaje 31")
        assert "30" in flooded.reason
        assert "ana@example.com" in flooded.reason
        assert Ticket.objects.count() == 30

        # An hour after the first ones, the sender writes again as usual.
        time_machine.move_to(start + timedelta(minutes=100), tick=False)
        assert receive(eml(subject="Más tarde"), department=cast.soporte).outcome == (
            Outcome.TICKET
        )


def test_reports_in_the_corpus_exist() -> None:
    assert REPORTS.is_dir(), REPORTS
    assert len(list(Path(REPORTS).glob("*.eml"))) >= 5
