"""Webhook deliveries leave through the outbox to a real HTTP receiver on loopback.

The receiver checks each signature with the README's snippet and refuses what fails it; it
goes down, answers 500, holds requests. The deliveries are written by the ticket services,
as in production; `outbox_deliver_due()` is what the worker's jobs run. Time moves with
time-machine across the backoff, never by sleeping.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from time_machine import TimeMachineFixture

from atiende.jobs.tasks import outbox_kick
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import (
    MAX_ATTEMPTS,
    backoff,
    outbox_deliver_due,
    outbox_enqueued,
    outbox_resend,
)
from atiende.tickets import services
from atiende.tickets.models import Ticket
from atiende.webhooks.delivery import USER_AGENT, webhook_signature
from atiende.webhooks.models import WebhookEvent
from atiende.webhooks.services import (
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_secret_rotate,
)
from tests.conftest import Cast
from tests.services.smtp import SmtpServer
from tests.webhooks.conftest import START, MakeEndpoint
from tests.webhooks.receiver import Receiver

OpenTicket = Callable[..., Ticket]
Status = OutboxMessage.Status
Kind = OutboxMessage.Kind


def deliveries() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=Kind.WEBHOOK).order_by("id"))


def mail_rows() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=Kind.MAIL).order_by("id"))


class TestDelivered:
    def test_each_delivery_arrives_once_signed_with_its_headers_and_is_marked_sent(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint()
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Listo.")
        rows = deliveries()
        assert len(rows) == 3  # created, replied, status changed

        sent = outbox_deliver_due()

        assert sent == len(rows) + len(mail_rows())
        got = receiver.deliveries
        assert [item.delivery_id for item in got] == [row.message_id for row in rows]
        assert all(item.verified for item in got)
        for item, row in zip(got, rows, strict=True):
            assert item.body == row.body_text.encode()
            assert item.headers["content-type"] == "application/json"
            assert item.headers["user-agent"] == USER_AGENT
            assert item.headers["atiende-event"] == row.subject
            assert json.loads(item.body)["id"] == item.delivery_id
            assert item.headers["atiende-signature"].startswith(f"t={int(START.timestamp())},v1=")
            row.refresh_from_db()
            assert (row.status, row.attempts, row.sent_at) == (Status.SENT, 1, START)
            assert row.last_response == "HTTP 200: received"
            assert row.last_error == ""

    def test_the_signature_is_the_documented_hmac_and_a_tampered_body_fails_it(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        hook = endpoint(WebhookEvent.TICKET_CREATED)
        open_ticket()
        outbox_deliver_due()
        [item] = receiver.deliveries
        header = item.headers["atiende-signature"]
        timestamp = int(START.timestamp())
        expected = hmac.new(
            hook.secret.encode(), f"{timestamp}.".encode() + item.body, hashlib.sha256
        ).hexdigest()
        assert header == f"t={timestamp},v1={expected}"
        assert header == webhook_signature(secret=hook.secret, timestamp=timestamp, body=item.body)

        verify = receiver.verify
        assert verify(hook.secret, item.body, header)
        assert not verify(hook.secret, item.body.replace(b"open", b"closed"), header)
        assert not verify(hook.secret, item.body + b" ", header)
        assert not verify("whsec_another", item.body, header)
        assert not verify(hook.secret, item.body, header.replace(f"t={timestamp}", "t=1"))
        assert not verify(hook.secret, item.body, "garbage")
        assert not verify(hook.secret, item.body, "")

    def test_an_old_signature_is_refused_by_the_snippet(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        hook = endpoint(WebhookEvent.TICKET_CREATED)
        open_ticket()
        outbox_deliver_due()
        [item] = receiver.deliveries
        header = item.headers["atiende-signature"]
        clock.shift(timedelta(minutes=4, seconds=59))
        assert receiver.verify(hook.secret, item.body, header)
        clock.shift(timedelta(seconds=2))
        assert not receiver.verify(hook.secret, item.body, header)

    def test_a_run_of_webhooks_only_opens_no_smtp_session(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        settings: Any,
    ) -> None:
        ticket = open_ticket()
        outbox_deliver_due()  # the mail of the opening
        endpoint()
        settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
        CountingBackend.opened = 0
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota.")  # no mail
        assert outbox_deliver_due() == 1
        assert CountingBackend.opened == 0
        assert len(receiver.accepted) == 1


class CountingBackend(EmailBackend):
    """The test mail backend, counting the sessions opened."""

    opened = 0

    def open(self) -> bool:
        CountingBackend.opened += 1
        return True


class TestReceiverDown:
    def test_a_delivery_waits_with_backoff_then_arrives_exactly_once_per_event(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint()
        receiver.stop()
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.ana, body="¿Novedades?")
        first, *later = deliveries()
        assert len(later) == 1  # created, replied (the ticket was already open)

        outbox_deliver_due()

        first.refresh_from_db()
        assert (first.status, first.attempts) == (Status.QUEUED, 1)
        assert first.next_attempt_at == START + backoff(1) == START + timedelta(minutes=1)
        assert "ConnectError" in first.last_error
        assert first.last_response == ""
        # The next one of the ticket waits behind it, untried; the mail left meanwhile.
        later[0].refresh_from_db()
        assert (later[0].status, later[0].attempts) == (Status.QUEUED, 0)
        assert {row.status for row in mail_rows()} == {Status.SENT}

        receiver.start()
        clock.shift(timedelta(seconds=59))
        assert outbox_deliver_due() == 0  # not due yet
        assert receiver.deliveries == []

        clock.shift(timedelta(seconds=1))
        assert outbox_deliver_due() == 2
        clock.shift(timedelta(hours=2))
        assert outbox_deliver_due() == 0  # nothing is sent twice

        rows = deliveries()
        assert receiver.accepted_counts() == Counter({row.message_id: 1 for row in rows})
        assert [item.delivery_id for item in receiver.deliveries] == [r.message_id for r in rows]
        assert all(item.verified for item in receiver.deliveries)
        # One per event: the bodies name each event once.
        assert [json.loads(item.body)["type"] for item in receiver.deliveries] == [
            WebhookEvent.TICKET_CREATED,
            WebhookEvent.TICKET_REPLIED,
        ]
        assert [(row.status, row.attempts) for row in rows] == [(Status.SENT, 2), (Status.SENT, 1)]
        # Signed anew at the second attempt: a minute later than the first would have been.
        stamp = receiver.deliveries[0].headers["atiende-signature"].split(",")[0]
        assert stamp == f"t={int((START + timedelta(minutes=1)).timestamp())}"

    def test_a_dead_endpoint_holds_back_only_its_own_deliveries(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        alive = endpoint(path="/alive")
        dead = endpoint()
        webhook_endpoint_update(endpoint=dead, url="http://127.0.0.1:9/closed")  # discard port
        for subject in ("Uno", "Dos", "Tres"):
            open_ticket(subject=subject)

        outbox_deliver_due()

        dead_rows = [row for row in deliveries() if row.endpoint_id == dead.pk]
        # Found unreachable at its first delivery: the others of the run were not tried.
        assert sorted(row.attempts for row in dead_rows) == [0, 0, 1]
        assert len(receiver.accepted) == 3
        assert {item.path for item in receiver.accepted} == {"/alive"}
        assert all(row.status == Status.SENT for row in deliveries() if row.endpoint_id == alive.pk)


class TestRefusedAnswers:
    def test_a_500_is_retried_with_its_answer_recorded_then_delivered(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint(WebhookEvent.TICKET_CREATED)
        receiver.answer(500)
        open_ticket()
        [row] = deliveries()

        assert outbox_deliver_due() == len(mail_rows())
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.QUEUED, 1)
        assert row.last_error == "HTTP 500"
        assert row.last_response == "HTTP 500: refused by the test receiver"

        clock.shift(backoff(1))
        outbox_deliver_due()
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.QUEUED, 2)
        assert row.next_attempt_at == START + backoff(1) + backoff(2)

        receiver.answer(204)
        clock.shift(backoff(2))
        assert outbox_deliver_due() == 1
        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_error) == (Status.SENT, 3, "")
        assert row.last_response == "HTTP 204"
        assert [item.status for item in receiver.deliveries] == [500, 500, 204]
        assert receiver.accepted_counts() == Counter({row.message_id: 1})

    def test_a_redirect_is_not_followed_and_counts_as_a_failure(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint(WebhookEvent.TICKET_CREATED)
        receiver.answer(302)
        open_ticket()
        outbox_deliver_due()
        [row] = deliveries()
        assert row.status == Status.QUEUED
        assert row.last_error == "HTTP 302 (redirects are not followed)"
        assert len(receiver.deliveries) == 1

    def test_too_many_failures_mark_it_failed_and_send_again_delivers_it(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint(WebhookEvent.TICKET_CREATED)
        receiver.answer(503)
        open_ticket()
        [row] = deliveries()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            outbox_deliver_due()
            clock.shift(backoff(attempt))
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.FAILED, MAX_ATTEMPTS)
        assert row.last_response == "HTTP 503: refused by the test receiver"
        assert len(receiver.deliveries) == MAX_ATTEMPTS

        receiver.answer(200)
        assert outbox_resend(row_id=row.pk)
        assert outbox_deliver_due() == 1
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 1)
        assert receiver.accepted_counts() == Counter({row.message_id: 1})

    def test_a_request_that_fails_the_receivers_check_is_retried_after_a_rotation(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        hook = endpoint(WebhookEvent.TICKET_CREATED)
        webhook_secret_rotate(endpoint=hook)  # the receiver still has the old secret
        open_ticket()
        outbox_deliver_due()
        [row] = deliveries()
        row.refresh_from_db()
        assert (row.status, row.last_error) == (Status.QUEUED, "HTTP 401")
        assert not receiver.deliveries[0].verified

        hook.refresh_from_db()
        receiver.secrets["/hook"] = hook.secret  # the receiver is given the new secret
        clock.shift(backoff(1))
        assert outbox_deliver_due() == 1
        assert receiver.deliveries[-1].verified


class TestEndpointsChanged:
    def test_an_endpoint_switched_off_fails_its_queued_deliveries_visibly(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        hook = endpoint(WebhookEvent.TICKET_CREATED)
        open_ticket()
        webhook_endpoint_update(endpoint=hook, is_active=False)
        outbox_deliver_due()
        [row] = deliveries()
        assert (row.status, row.last_error) == (Status.FAILED, "The webhook endpoint is inactive.")
        assert receiver.deliveries == []

        webhook_endpoint_update(endpoint=hook, is_active=True)
        assert outbox_resend(row_id=row.pk)
        assert outbox_deliver_due() == 1
        assert len(receiver.accepted) == 1

    def test_a_deleted_endpoint_drops_what_was_queued_and_keeps_what_was_sent(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        hook = endpoint(WebhookEvent.TICKET_CREATED)
        open_ticket(subject="Enviado")
        outbox_deliver_due()
        receiver.answer(500)
        open_ticket(subject="Fallido")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            outbox_deliver_due()
            clock.shift(backoff(attempt))
        open_ticket(subject="Reintentando")
        outbox_deliver_due()
        open_ticket(subject="En cola")
        sent, failed, retrying, queued = deliveries()
        assert [sent.status, failed.status, retrying.status, queued.status] == [
            Status.SENT,
            Status.FAILED,
            Status.QUEUED,
            Status.QUEUED,
        ]
        assert (retrying.attempts, queued.attempts) == (1, 0)

        assert webhook_endpoint_delete(endpoint=hook) == 2

        assert [(row.pk, row.status, row.endpoint_id) for row in deliveries()] == [
            (sent.pk, Status.SENT, None),
            (failed.pk, Status.FAILED, None),
        ]
        failed.refresh_from_db()
        assert failed.last_response == "HTTP 500: refused by the test receiver"
        assert not outbox_resend(row_id=failed.pk)  # it has nowhere to go


class TestMailAndWebhooksApart:
    def test_a_receiver_that_is_down_does_not_hold_back_the_mail(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        smtp_mail: SmtpServer,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint()
        receiver.stop()
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta.")
        assert len(deliveries()) == 3

        assert outbox_deliver_due() == len(mail_rows())

        assert {row.status for row in mail_rows()} == {Status.SENT}
        assert len(smtp_mail.received) == len(mail_rows())
        assert [row.attempts for row in deliveries()] == [1, 0, 0]

    def test_an_smtp_server_that_is_down_does_not_hold_back_the_webhooks(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        smtp_mail: SmtpServer,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint()
        smtp_mail.stop()
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta.")

        assert outbox_deliver_due() == 3

        assert {row.status for row in deliveries()} == {Status.SENT}
        assert len(receiver.accepted) == 3
        # The mail run stopped at its first row, as without webhooks.
        assert sorted(row.attempts for row in mail_rows())[-1] == 1
        assert {row.status for row in mail_rows()} == {Status.QUEUED}

    def test_mail_and_webhooks_of_one_ticket_do_not_wait_on_each_other(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint()
        receiver.answer(500)
        ticket = open_ticket()
        outbox_deliver_due()  # mail sent, the webhook refused
        mail.outbox.clear()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta.")
        # The reply's mail leaves although a delivery of its ticket is still queued.
        outbox_deliver_due()
        assert [message.to for message in mail.outbox] == [[cast.ana.email]]
        assert [row.attempts for row in deliveries()] == [1, 0, 0]


class TestOrder:
    def test_deliveries_of_a_ticket_to_an_endpoint_leave_in_the_order_of_its_events(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        endpoint(path="/slow")
        endpoint(path="/fast")
        receiver.answer(500, path="/slow")
        ticket = open_ticket()
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota.")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta.")
        outbox_deliver_due()
        assert [item.path for item in receiver.accepted] == ["/fast"] * 4
        assert [item.path for item in receiver.deliveries].count("/slow") == 1

        receiver.answer(200, path="/slow")
        clock.shift(backoff(1))
        outbox_deliver_due()
        by_path: dict[str, list[str]] = {"/slow": [], "/fast": []}
        for item in receiver.accepted:
            by_path[item.path].append(json.loads(item.body)["type"])
        expected = [
            WebhookEvent.TICKET_CREATED,
            WebhookEvent.TICKET_NOTE_ADDED,
            WebhookEvent.TICKET_REPLIED,
            WebhookEvent.TICKET_STATUS_CHANGED,
        ]
        assert by_path == {"/slow": expected, "/fast": expected}


class TestTwoWorkers:
    def test_two_runs_at_once_deliver_each_once(
        self,
        transactional_db: None,
        cast: Cast,
        open_ticket: OpenTicket,
        endpoint: MakeEndpoint,
        receiver: Receiver,
        settings: Any,
    ) -> None:
        """Two threads run the delivery over the same database at the same time. The
        receiver holds the first request of each until both are in flight, so they really
        overlap; then they race over the rest."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        endpoint(WebhookEvent.TICKET_CREATED, WebhookEvent.TICKET_NOTE_ADDED)
        with no_delivery_after_commit():
            for index in range(8):
                ticket = open_ticket(subject=f"Caso {index}")
                services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota.")
        rows = deliveries()
        assert len(rows) == 16 and {row.status for row in rows} == {Status.QUEUED}
        receiver.hold(2)
        sent: list[int] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                sent.append(outbox_deliver_due())
            except BaseException as error:  # surfaced by the asserts below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        assert not errors, errors

        assert receiver.held_together  # two deliveries in flight at once
        assert receiver.accepted_counts() == Counter({row.message_id: 1 for row in rows})
        assert {row.status for row in deliveries()} == {Status.SENT}
        webhook_sent = sum(sent) - len(mail_rows())
        assert webhook_sent == 16
        assert all(count > 0 for count in sent)  # both took part
        # Each ticket's created came before its note.
        seen = [json.loads(item.body) for item in receiver.accepted]
        for index in range(8):
            mine = [p["type"] for p in seen if p["data"]["ticket"]["subject"] == f"Caso {index}"]
            assert mine == [WebhookEvent.TICKET_CREATED, WebhookEvent.TICKET_NOTE_ADDED]


@contextlib.contextmanager
def no_delivery_after_commit() -> Iterator[None]:
    """Commits in the block ask for no delivery (the jobs app would run it inline under
    ATIENDE_TASKS_IMMEDIATE): the test runs the deliveries itself."""
    uid = "atiende.jobs.outbox_kick"
    outbox_enqueued.disconnect(dispatch_uid=uid)
    try:
        yield
    finally:
        outbox_enqueued.connect(outbox_kick, dispatch_uid=uid)
