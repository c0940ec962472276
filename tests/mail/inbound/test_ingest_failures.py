"""A message that cannot be taken is never lost and never blocks the next one: the raw bytes
are stored first, and whatever fails afterwards ends in quarantine with the reason. Only a
database that cannot be reached propagates, so that the mail server delivers it again."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.db import OperationalError

from atiende.mail.inbound import ingest, write
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.tickets.models import Message, Ticket
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import AUTHSERV_ID, eml, receive

Outcome = InboundMessage.Outcome


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


def _next_message_is_taken(cast: Cast) -> None:
    row = receive(eml(subject="La siguiente"), department=cast.soporte)
    assert row.outcome == Outcome.TICKET


def test_a_message_over_the_limits_waits_in_quarantine_intact(cast: Cast, settings: Any) -> None:
    settings.ATIENDE_MAIL_MAX_PARTS = 3
    raw = eml(attachments=[(f"f{n}.txt", b"x", "text/plain") for n in range(5)])

    row = receive(raw, department=cast.soporte)

    assert row.outcome == Outcome.QUARANTINED
    assert row.reason
    assert row.raw == raw
    assert row.from_address == "ana@example.com"  # read from the headers for the staff's list
    assert row.subject == "Mi sitio no carga"
    assert not Ticket.objects.exists()
    _next_message_is_taken(cast)


def test_a_message_larger_than_allowed_waits_in_quarantine_intact(
    cast: Cast, settings: Any
) -> None:
    settings.ATIENDE_MAIL_MAX_MB = 1
    raw = eml(attachments=[("grande.pdf", b"%PDF" + os.urandom(1024 * 1024), "application/pdf")])
    row = receive(raw, department=cast.soporte)
    assert row.outcome == Outcome.QUARANTINED
    assert row.raw == raw
    _next_message_is_taken(cast)


def test_bytes_that_are_no_message_wait_in_quarantine_intact(cast: Cast) -> None:
    raw = b"\x00\xff\xfe" + os.urandom(2048) + b"\r\n\r\n\x00"
    row = receive(raw, department=cast.soporte)
    assert row.outcome == Outcome.QUARANTINED
    assert row.raw == raw
    _next_message_is_taken(cast)


def test_an_unexpected_error_quarantines_with_the_error(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(parsed: Any) -> Any:
        raise RuntimeError("threading exploded")

    monkeypatch.setattr(ingest, "ticket_for_reply", broken)
    raw = eml()
    row = receive(raw, department=cast.soporte)

    assert row.outcome == Outcome.QUARANTINED
    assert "RuntimeError: threading exploded" in row.reason
    assert row.raw == raw
    monkeypatch.undo()
    _next_message_is_taken(cast)


def test_an_error_while_acting_undoes_the_whole_act(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise ValueError("storage is full")

    monkeypatch.setattr(write, "message_mail_details_set", broken)
    row = receive(eml(), department=cast.soporte)

    assert row.outcome == Outcome.QUARANTINED
    assert "storage is full" in row.reason
    # The ticket, its message and its receipt were in the transaction that failed.
    assert not Ticket.objects.exists()
    assert not Message.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_database_that_went_away_propagates_and_the_next_delivery_finishes_it(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(parsed: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ingest, "ticket_for_reply", unreachable)
    raw = eml()
    with pytest.raises(OperationalError):
        receive(raw, department=cast.soporte)
    stored = InboundMessage.objects.get()
    assert stored.outcome == Outcome.RECEIVED
    assert stored.raw == raw

    monkeypatch.undo()
    again = receive(raw, department=cast.soporte)  # the mail server's retry: the same bytes
    assert again.pk == stored.pk
    assert again.outcome == Outcome.TICKET
    assert Ticket.objects.count() == 1
