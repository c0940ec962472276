"""Delivery from the outbox over real SMTP, with faults, checked by what the server received.

Django's real SMTP backend talks to an aiosmtpd server on loopback (`smtp_mail`); the
notifications are written by the ticket services, as in production; `outbox_deliver_due()`
is what the worker's jobs run. Time moves with time-machine across the backoff, never by
sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from time_machine import TimeMachineFixture

from atiende.core.clock import now
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import (
    MAX_ATTEMPTS,
    SENDING_LEASE,
    _claim,
    backoff,
    outbox_deliver_due,
)
from atiende.tickets.models import Attachment, Ticket
from atiende.tickets.services import ticket_reply
from tests.conftest import Cast
from tests.mail.delivery_support import (
    RowKey,
    assert_each_received_once,
    order_received,
    site_outbox,
)
from tests.services.site import Site
from tests.services.smtp import SmtpServer

OpenTicket = Callable[..., Ticket]
Status = OutboxMessage.Status
START = datetime.fromisoformat("2025-03-03T15:00:00+00:00")


def rows() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.select_related("ticket").order_by("pk"))


def keys(outbox: list[OutboxMessage]) -> list[RowKey]:
    return [(row.ticket.reference if row.ticket else None, row.message_id) for row in outbox]


@pytest.fixture
def clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    """Time stands still at START until a test moves it."""
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def two_tickets(clock: TimeMachineFixture, cast: Cast, open_ticket: OpenTicket) -> list[Ticket]:
    """Ana and Beto open a ticket each, and the agent answers both: 8 notifications (the
    receipt and one to each of the two staff of Soporte per ticket, then each reply)."""
    tickets = [
        open_ticket(customer=cast.ana, subject="Mi sitio no carga"),
        open_ticket(customer=cast.beto, subject="No me llegan correos"),
    ]
    for ticket in tickets:
        ticket_reply(ticket=ticket, author=cast.agent, body="Ya lo revisamos; pruebe de nuevo.")
    assert len(rows()) == 8
    return tickets


class TestDelivery:
    def test_every_notification_reaches_the_server_once_in_order_over_one_session(
        self, smtp_mail: SmtpServer, two_tickets: list[Ticket], clock: TimeMachineFixture
    ) -> None:
        assert outbox_deliver_due() == 8

        received = smtp_mail.received
        assert_each_received_once(received, keys(rows()))
        assert {item.peer for item in received} == {received[0].peer}  # one SMTP session
        by_message_id = {item.message_id: item for item in received}
        for row in rows():
            item = by_message_id[row.message_id]
            assert row.status == Status.SENT
            assert row.sent_at == START
            assert row.claimed_at is None
            assert item.rcpt_tos == (row.to,)
            assert item.subject == row.subject
            assert item.message["In-Reply-To"] == row.headers["In-Reply-To"]

    def test_nothing_due_sends_nothing(self, smtp_mail: SmtpServer, cast: Cast) -> None:
        assert outbox_deliver_due() == 0
        assert smtp_mail.received == []


class TestServerDown:
    def test_mail_waits_while_the_server_is_down_then_each_leaves_once_in_order(
        self, smtp_mail: SmtpServer, two_tickets: list[Ticket], clock: TimeMachineFixture
    ) -> None:
        ana_first, beto_first = (
            OutboxMessage.objects.filter(ticket=ticket).earliest("pk") for ticket in two_tickets
        )
        smtp_mail.stop()

        assert outbox_deliver_due() == 0  # refused: the run stops at the first row
        ana_first.refresh_from_db()
        assert ana_first.status == Status.QUEUED
        assert ana_first.attempts == 1
        assert ana_first.next_attempt_at == START + backoff(1) == START + timedelta(minutes=1)
        assert "ConnectionRefusedError" in ana_first.last_error
        assert OutboxMessage.objects.filter(attempts=0).count() == 7

        clock.shift(timedelta(seconds=30))
        assert outbox_deliver_due() == 0  # Ana's ticket waits on its first row; Beto's is tried
        beto_first.refresh_from_db()
        assert (beto_first.status, beto_first.attempts) == (Status.QUEUED, 1)

        smtp_mail.start()
        clock.shift(timedelta(seconds=15))  # the server is back, but no row is due yet
        assert outbox_deliver_due() == 0
        assert smtp_mail.received == []

        clock.shift(timedelta(minutes=1))  # past both backoffs
        assert outbox_deliver_due() == 8

        assert_each_received_once(smtp_mail.received, keys(rows()))
        assert {row.status for row in rows()} == {Status.SENT}
        assert sorted(row.attempts for row in rows()) == [1] * 6 + [2, 2]


class TestTemporaryFailure:
    def test_451_is_retried_later_with_a_growing_backoff_then_delivered(
        self, smtp_mail: SmtpServer, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = open_ticket()
        first = OutboxMessage.objects.filter(ticket=ticket).earliest("pk")
        smtp_mail.fail(451)

        assert outbox_deliver_due() == 0
        first.refresh_from_db()
        assert (first.status, first.attempts) == (Status.QUEUED, 1)
        assert first.next_attempt_at == START + timedelta(minutes=1)
        assert "451" in first.last_error
        assert "SMTPDataError" in first.last_error

        clock.shift(timedelta(seconds=59))
        assert outbox_deliver_due() == 0  # not due yet: not even tried
        first.refresh_from_db()
        assert first.attempts == 1

        clock.shift(timedelta(seconds=1))
        assert outbox_deliver_due() == 0  # tried again, 451 again: twice as long now
        first.refresh_from_db()
        assert first.attempts == 2
        assert first.next_attempt_at == now() + timedelta(minutes=2)
        assert smtp_mail.received == []

        smtp_mail.heal()
        clock.shift(timedelta(minutes=2))
        assert outbox_deliver_due() == 3

        assert_each_received_once(smtp_mail.received, keys(rows()))
        first.refresh_from_db()
        assert (first.status, first.attempts, first.last_error) == (Status.SENT, 3, "")

    def test_a_recipient_refused_for_now_waits_and_the_others_are_delivered(
        self, smtp_mail: SmtpServer, two_tickets: list[Ticket], clock: TimeMachineFixture
    ) -> None:
        smtp_mail.fail(451, recipient="beto@example.com")

        assert outbox_deliver_due() == 4  # all of Ana's ticket

        beto_receipt, *after_it = OutboxMessage.objects.filter(ticket=two_tickets[1]).order_by("pk")
        assert (beto_receipt.status, beto_receipt.attempts) == (Status.QUEUED, 1)
        assert "SMTPRecipientsRefused" in beto_receipt.last_error
        assert "451" in beto_receipt.last_error
        # The rest of Beto's ticket, to the staff too, waits behind its receipt: in order.
        assert [(row.status, row.attempts) for row in after_it] == [(Status.QUEUED, 0)] * 3

        smtp_mail.heal()
        clock.shift(timedelta(minutes=1))
        assert outbox_deliver_due() == 4

        assert_each_received_once(smtp_mail.received, keys(rows()))

    def test_too_many_attempts_mark_the_row_failed(
        self, smtp_mail: SmtpServer, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        first = OutboxMessage.objects.filter(ticket=open_ticket()).earliest("pk")
        smtp_mail.fail(451)
        waits = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            outbox_deliver_due()
            first.refresh_from_db()
            assert first.attempts == attempt
            if first.status == Status.FAILED:
                break
            waits.append(first.next_attempt_at - now())
            clock.move_to(first.next_attempt_at, tick=False)

        assert (first.status, first.attempts) == (Status.FAILED, MAX_ATTEMPTS)
        assert "451" in first.last_error
        minutes = [int(wait.total_seconds() // 60) for wait in waits]
        assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
        assert smtp_mail.received == []


class TestPermanentFailure:
    def test_550_for_one_recipient_fails_its_rows_visibly_and_the_rest_are_delivered(
        self, smtp_mail: SmtpServer, two_tickets: list[Ticket], clock: TimeMachineFixture
    ) -> None:
        smtp_mail.fail(550, recipient="beto@example.com")

        assert outbox_deliver_due() == 6

        failed = OutboxMessage.objects.filter(status=Status.FAILED).order_by("pk")
        assert [row.to for row in failed] == ["beto@example.com"] * 2
        for row in failed:
            assert row.attempts == 1  # not retried
            assert "SMTPRecipientsRefused" in row.last_error
            assert "550" in row.last_error
        delivered = [row for row in rows() if row.status == Status.SENT]
        assert len(delivered) == 6
        assert_each_received_once(smtp_mail.received, keys(delivered))

        clock.shift(timedelta(hours=2))
        assert outbox_deliver_due() == 0  # failed rows stay failed
        assert len(smtp_mail.received) == 6

    def test_550_to_a_message_fails_it_and_the_next_rows_still_leave(
        self, smtp_mail: SmtpServer, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = open_ticket()
        smtp_mail.fail(550)
        first = OutboxMessage.objects.filter(ticket=ticket).earliest("pk")
        assert outbox_deliver_due() == 0  # every message refused for good: each tried once

        assert {row.status for row in rows()} == {Status.FAILED}
        first.refresh_from_db()
        assert "SMTPDataError" in first.last_error
        assert "550" in first.last_error

        smtp_mail.heal()
        ticket_reply(ticket=ticket, author=cast.agent, body="¿Sigue el problema?")
        assert outbox_deliver_due() == 1  # a later row of the ticket is not held by failed ones
        assert [item.rcpt_tos for item in smtp_mail.received] == [("ana@example.com",)]

    def test_a_row_whose_attachment_is_gone_is_logged_with_its_traceback_and_skipped(
        self,
        smtp_mail: SmtpServer,
        cast: Cast,
        open_ticket: OpenTicket,
        clock: TimeMachineFixture,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        ticket = open_ticket()
        outbox_deliver_due()
        smtp_mail.clear()
        message = ticket_reply(
            ticket=ticket,
            author=cast.agent,
            body="Le adjunto la factura.",
            files=[SimpleUploadedFile("factura.pdf", b"%PDF-1.4 factura", "application/pdf")],
        )
        ticket_reply(ticket=ticket, author=cast.agent, body="¿Le llegó la factura?")
        default_storage.delete(str(Attachment.objects.get(message=message).file.name))

        with caplog.at_level("ERROR", logger="atiende.mail.outbound.outbox"):
            assert outbox_deliver_due() == 1

        (lost,) = [row for row in rows() if row.attachment_ids]
        assert lost.status == Status.FAILED  # the file will not come back
        assert "FileNotFoundError" in lost.last_error
        built = [record for record in caplog.records if "cannot be built" in record.message]
        assert built
        assert built[0].exc_info is not None  # with its traceback
        assert [item.subject for item in smtp_mail.received] == [
            OutboxMessage.objects.latest("pk").subject
        ]


class TestWorkerThatDied:
    def test_a_row_left_sending_is_taken_again_when_its_lease_runs_out(
        self, smtp_mail: SmtpServer, two_tickets: list[Ticket], clock: TimeMachineFixture
    ) -> None:
        ana_first = OutboxMessage.objects.filter(ticket=two_tickets[0]).earliest("pk")
        assert _claim(ana_first.pk, now()) is not None  # a worker took it, then died

        assert outbox_deliver_due() == 4  # Beto's ticket; Ana's waits on the row in flight
        assert {item.ticket for item in smtp_mail.received} == {two_tickets[1].reference}

        clock.shift(SENDING_LEASE)
        assert outbox_deliver_due() == 0  # the lease has not run out yet

        clock.shift(timedelta(seconds=1))
        assert outbox_deliver_due() == 4
        assert_each_received_once(smtp_mail.received, keys(rows()))
        ana_first.refresh_from_db()
        assert (ana_first.status, ana_first.attempts) == (Status.SENT, 2)


class TestTwoWorkers:
    def test_two_workers_draining_one_outbox_send_no_mail_twice(
        self, smtp_server: SmtpServer, site: Site
    ) -> None:
        """Two processes run the delivery over the same database at the same time. The
        server holds the first message of each until both are in mid-delivery, so they
        really overlap; then they race over the rest."""
        site.use_smtp(smtp_server.host, smtp_server.port)
        written = json.loads(
            site.run_module(
                "tests.mail.outbox_site",
                "seed",
                json.dumps(
                    {
                        "tickets": 8,
                        "customers": ["ana@example.com", "beto@example.com"],
                        "kick": False,
                    }
                ),
            )
        )
        assert len(written) == 24
        smtp_server.gate()

        workers = [site.popen_module("tests.mail.outbox_site", "deliver") for _ in range(2)]
        first, second = smtp_server.next_arrival(), smtp_server.next_arrival()
        assert first.received.peer != second.received.peer  # two sessions, both in flight
        smtp_server.ungate()
        sent = []
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=60)
            assert worker.returncode == 0, stderr
            sent.append(json.loads(stdout)["sent"])

        received = smtp_server.received
        assert_each_received_once(received, [(row["ticket"], row["message_id"]) for row in written])
        assert sum(sent) == 24
        assert all(count > 0 for count in sent)
        assert len({item.peer for item in received}) == 2
        after = site_outbox(site)
        assert {row["status"] for row in after} == {"sent"}
        assert order_received(received).keys() == {row["ticket"] for row in written}
