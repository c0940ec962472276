"""Writing to the outbox, and delivering what waits in it.

`enqueue()` must run inside the transaction of the change that causes the mail: the row and
the change commit together or not at all. After the commit a worker is asked to deliver
(`outbox_enqueued` signal); the periodic job catches anything that was missed.

Delivery claims each row with a conditional UPDATE (queued -> sending), so any number of
workers may drain the outbox at once and no row is sent twice. A row is marked sent right
after the server accepts it: a worker killed between the server's "250 OK" and that UPDATE
leaves the row in `sending`; its lease runs out and it is sent again. That instant is the
only window for a duplicate.

Temporary failures (connection refused, timeout, 4xx) are retried with exponential backoff;
a permanent one (5xx to the message or its recipient) or too many attempts marks the row
failed, for an administrator to see and send again. A session the server will not open
(greeting or login refused) is never final for a row: it is our settings or the server, not
the message. Rows of one ticket leave in the order they were written: a row waits while
an earlier row of its ticket is still on its way.

Webhook deliveries are rows of this outbox too (`kind="webhook"`), POSTed by
`atiende.webhooks.delivery`: any answer but 2xx, and no answer, is retried with the same
backoff. The two kinds never wait on each other: a mail row waits only behind earlier mail of
its ticket, a webhook row only behind earlier deliveries of its ticket to the same endpoint;
an SMTP server that is down stops the mail of a run but not its webhooks, and an endpoint
that does not answer holds back only its own deliveries.
"""

from __future__ import annotations

import enum
import logging
import smtplib
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.dispatch import Signal

from atiende.core.clock import now
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.mail.outbound.compose import REFERENCES_KEPT, compose, header_address_check
from atiende.webhooks.delivery import WebhookSender

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# A row left in `sending` longer than this belonged to a worker that died: send it again.
SENDING_LEASE = timedelta(minutes=10)

# Sent after the commit of a transaction that wrote outbox rows: the jobs app answers by
# asking a worker to deliver now rather than at the next periodic run.
outbox_enqueued = Signal()

Status = OutboxMessage.Status
Kind = OutboxMessage.Kind


def enqueue(
    *,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    ticket: Any | None = None,
    reference: str | None = None,
    attachment_ids: list[int] | None = None,
    in_reply_to: str | None = None,
    auto_submitted: str = "auto-generated",
    reply_to: str = "",
) -> OutboxMessage:
    """Render a notification and store it, to be delivered once the transaction commits.

    A mail of a ticket is threaded on the conversation its recipient has seen (our earlier
    mail to the same address, and the messages received on the ticket). `reply_to` is for
    mail a customer may answer (the department's address); staff mail has none, so an agent's
    *Reply* does not write into the ticket as if he were the customer. `in_reply_to` threads
    a mail without a ticket on a received message (an answer to it:
    `auto_submitted="auto-replied"`).
    Raises ValueError for a recipient that is not one bare address (CR/LF, controls, a list).
    """
    header_address_check(to)
    if reply_to:
        header_address_check(reply_to)
    thread: list[str] = []
    if ticket is not None:
        thread = ticket_thread_message_ids(ticket_id=ticket.pk, to=to)
    elif in_reply_to:
        thread = [in_reply_to]
    composed = compose(
        template=template,
        language=language,
        context=context,
        reference=reference,
        thread=thread,
        reply_to=reply_to or None,
        auto_submitted=auto_submitted,
    )
    row = OutboxMessage.objects.create(
        template=template,
        to=to,
        subject=composed.subject,
        body_text=composed.body_text,
        body_html=composed.body_html,
        message_id=composed.message_id,
        headers=composed.headers,
        ticket=ticket,
        attachment_ids=attachment_ids or [],
    )
    outbox_kick_after_commit()
    return row


def _kick() -> None:
    outbox_enqueued.send(sender=OutboxMessage)


def outbox_kick_after_commit() -> None:
    """Ask for one delivery after the commit, however many rows the transaction wrote.

    Django keeps the open transaction's callbacks in `run_on_commit`, each with the savepoints
    open when it was registered, and drops them when one of those is rolled back. A `_kick`
    registered within the savepoints still open now will run at this commit: nothing to add.
    (One registered in an already-released inner savepoint is not counted: a second ask then,
    which is harmless, and exact under the test harness, which keeps executed callbacks.)
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        open_savepoints = set(connection.savepoint_ids)
        if any(
            callback is _kick and savepoints <= open_savepoints
            for savepoints, callback, _robust in connection.run_on_commit
        ):
            return
    transaction.on_commit(_kick)


def ticket_thread_message_ids(*, ticket_id: int, to: str) -> list[str]:
    """The latest Message-IDs of a ticket's conversation as `to` has it, oldest first: what
    we sent to that address and what we received that went into the ticket."""
    sent = (
        OutboxMessage.objects.filter(ticket_id=ticket_id, kind=Kind.MAIL, to__iexact=to)
        .order_by("-created_at", "-id")
        .values_list("created_at", "message_id")[:REFERENCES_KEPT]
    )
    received = (
        InboundMessage.objects.filter(
            ticket_id=ticket_id,
            outcome__in=[
                InboundMessage.Outcome.TICKET,
                InboundMessage.Outcome.REPLY,
                InboundMessage.Outcome.ACCEPTED,
            ],
        )
        .exclude(message_id="")
        .order_by("-received_at", "-id")
        .values_list("received_at", "message_id")[:REFERENCES_KEPT]
    )
    latest = sorted([*sent, *received])[-REFERENCES_KEPT:]
    return [message_id for _moment, message_id in latest]


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 1, 2, 4 ... minutes, at most
    an hour."""
    return min(BACKOFF_FIRST * int(2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def is_permanent(error: BaseException) -> bool:
    """A 5xx answer will not change by asking again; anything else may."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


def _build(row: OutboxMessage, connection: BaseEmailBackend) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers={"Message-ID": row.message_id, **row.headers},
        connection=connection,
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    if row.attachment_ids:
        attachment_model = apps.get_model("tickets", "Attachment")
        for attachment in attachment_model.objects.filter(pk__in=row.attachment_ids).order_by("pk"):
            with attachment.file.open("rb") as handle:
                message.attach(attachment.filename, handle.read(), attachment.content_type)
    return message


def _claim(pk: int, moment: Any) -> OutboxMessage | None:
    """Take one due row for this worker, or None when another worker took it first."""
    claimed = (
        OutboxMessage.objects.filter(pk=pk)
        .filter(
            Q(status=Status.QUEUED, next_attempt_at__lte=moment)
            | Q(status=Status.SENDING, claimed_at__lt=moment - SENDING_LEASE)
        )
        .update(status=Status.SENDING, claimed_at=moment, attempts=F("attempts") + 1)
    )
    return OutboxMessage.objects.select_related("endpoint").get(pk=pk) if claimed else None


def _destination(row: OutboxMessage) -> str:
    return row.to if row.kind == Kind.MAIL else f"webhook endpoint {row.endpoint_id}"


def _failed(
    row: OutboxMessage,
    error: BaseException | str,
    *,
    permanent: bool,
    last_response: str | None = None,
) -> None:
    """Record a failed attempt: back to the queue after its backoff, or failed for good.
    `last_response` (webhooks) replaces the answer of the previous attempt."""
    text = (error if isinstance(error, str) else f"{type(error).__name__}: {error}")[:2000]
    extra = {} if last_response is None else {"last_response": last_response}
    if permanent or row.attempts >= MAX_ATTEMPTS:
        logger.error("outbox %s to %s failed for good: %s", row.pk, _destination(row), text)
        OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
            status=Status.FAILED, last_error=text, claimed_at=None, **extra
        )
    else:
        logger.warning(
            "outbox %s to %s: attempt %s failed: %s", row.pk, _destination(row), row.attempts, text
        )
        OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
            status=Status.QUEUED,
            last_error=text,
            claimed_at=None,
            next_attempt_at=now() + backoff(row.attempts),
            **extra,
        )


def _sent(row: OutboxMessage, *, last_response: str = "") -> None:
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=Status.SENT,
        sent_at=now(),
        last_error="",
        claimed_at=None,
        last_response=last_response,
    )


def _close_quietly(connection: BaseEmailBackend) -> None:
    """Drop the SMTP session; a server that hangs or vanished must not fail the run here."""
    try:
        connection.close()
    except (smtplib.SMTPException, OSError) as error:
        logger.debug("outbox: closing the SMTP session failed: %s", error)


def _due_rows(
    *, limit: int, mail: bool = True, skip_endpoints: Collection[int] = ()
) -> list[tuple[int, str, int | None]]:
    """(pk, kind, endpoint id) of the rows that may leave now, none behind an earlier row of
    its line: the mail of its ticket, or the deliveries of its ticket to its endpoint.

    Mail comes first, then webhooks, each oldest first: a slow receiver must not make the
    customers' mail of the run wait. `mail=False` and `skip_endpoints` leave out what this
    run has found unreachable.
    """
    moment = now()
    earlier_on_its_way = OutboxMessage.objects.filter(
        ticket_id=OuterRef("ticket_id"),
        kind=OuterRef("kind"),
        pk__lt=OuterRef("pk"),
        status__in=[Status.QUEUED, Status.SENDING],
    ).filter(
        # Mail waits on the mail of its ticket; a delivery only on those to its own endpoint.
        Q(kind=Kind.MAIL) | Q(endpoint_id=OuterRef("endpoint_id"))
    )
    due = OutboxMessage.objects.filter(
        Q(status=Status.QUEUED, next_attempt_at__lte=moment)
        | Q(status=Status.SENDING, claimed_at__lt=moment - SENDING_LEASE)
    ).exclude(Exists(earlier_on_its_way))
    if not mail:
        due = due.exclude(kind=Kind.MAIL)
    if skip_endpoints:
        due = due.exclude(endpoint_id__in=list(skip_endpoints))
    mail_first = Case(When(kind=Kind.MAIL, then=Value(0)), default=Value(1))
    return list(due.order_by(mail_first, "pk").values_list("pk", "kind", "endpoint_id")[:limit])


def outbox_due_ids(*, limit: int) -> list[int]:
    """Rows that may leave now, none behind an earlier row of its line (see `_due_rows`)."""
    return [pk for pk, _kind, _endpoint in _due_rows(limit=limit)]


class _Outcome(enum.Enum):
    SENT = "sent"
    NOT_SENT = "not sent"  # this row failed; the next rows may still go
    SERVER_UNWELL = "server unwell"  # the server (or endpoint) failed: no more of its rows now


def _deliver_mail(row: OutboxMessage, connection: BaseEmailBackend) -> _Outcome:
    """Send one claimed mail row and record the outcome on it."""
    try:
        message = _build(row, connection)
    except Exception as error:  # a row that cannot be built: its file is gone, storage is down
        logger.exception("outbox %s to %s cannot be built", row.pk, row.to)
        # A file missing from storage will not come back; anything else may be passing.
        _failed(row, error, permanent=isinstance(error, FileNotFoundError))
        return _Outcome.NOT_SENT
    try:
        # Opened here, not by send(): a session that send() opens it also closes, and every
        # row would pay for a new connection.
        connection.open()
    except (smtplib.SMTPException, OSError) as error:  # OSError: refused, timeout, reset
        # No session (refused, timed out, greeting or login answered 5xx): the server or our
        # settings are at fault, never this message, so it is not final for the row.
        _failed(row, error, permanent=False)
        _close_quietly(connection)
        return _Outcome.SERVER_UNWELL
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        permanent = is_permanent(error)
        _failed(row, error, permanent=permanent)
        _close_quietly(connection)  # a broken session must not poison the next row
        if permanent or isinstance(error, smtplib.SMTPRecipientsRefused):
            return _Outcome.NOT_SENT  # about this message or recipient, not the server
        return _Outcome.SERVER_UNWELL
    _sent(row)
    return _Outcome.SENT


def _deliver_webhook(row: OutboxMessage, sender: WebhookSender) -> _Outcome:
    """POST one claimed webhook row and record the outcome and the answer on it."""
    try:
        attempt = sender.post(row)
    except Exception as error:  # a fault of ours must not stop the other rows of the run
        logger.exception("outbox %s to %s cannot be posted", row.pk, _destination(row))
        _failed(row, error, permanent=False, last_response="")
        return _Outcome.NOT_SENT
    if attempt.ok:
        _sent(row, last_response=attempt.response)
        return _Outcome.SENT
    _failed(row, attempt.error, permanent=attempt.permanent, last_response=attempt.response)
    return _Outcome.SERVER_UNWELL if attempt.unreachable else _Outcome.NOT_SENT


def outbox_deliver_due(*, limit: int = 200) -> int:
    """Deliver what is due (up to `limit` rows): mail over one SMTP session, webhooks over
    one HTTP client; returns how many the servers accepted. Safe to run in any number of
    workers at once.

    The due rows are read again after each pass: a row that waits behind an earlier row of
    its line becomes due once that one has left, so a run drains the outbox instead of
    sending one row per ticket. A temporary failure of the SMTP server ends the run's mail,
    an endpoint that cannot be reached ends the run's deliveries to it; the rest goes on,
    and what was held back waits for the next run. An SMTP session is opened only when a
    mail row is due.
    """
    sent = tried = 0
    connection = get_connection()  # opens nothing yet
    webhooks = WebhookSender()
    mail = True
    unreachable: set[int] = set()
    try:
        while tried < limit:
            took_any = False
            for pk, kind, endpoint_id in _due_rows(
                limit=limit - tried, mail=mail, skip_endpoints=unreachable
            ):
                if (kind == Kind.MAIL and not mail) or endpoint_id in unreachable:
                    continue  # found down earlier in this pass: leave it for the next run
                row = _claim(pk, now())
                if row is None:
                    continue  # another worker took it
                took_any = True
                tried += 1
                if row.kind == Kind.WEBHOOK:
                    outcome = _deliver_webhook(row, webhooks)
                    if outcome is _Outcome.SERVER_UNWELL and row.endpoint_id is not None:
                        unreachable.add(row.endpoint_id)
                else:
                    outcome = _deliver_mail(row, connection)
                    if outcome is _Outcome.SERVER_UNWELL:
                        mail = False
                if outcome is _Outcome.SENT:
                    sent += 1
            if not took_any:
                break  # nothing due, or other workers took all of it
    finally:
        _close_quietly(connection)
        webhooks.close()
    return sent


def outbox_resend(*, row_id: int) -> bool:
    """An administrator sends a failed row again: back to the queue, attempts from zero.

    A webhook delivery whose endpoint was deleted has nowhere to go and stays failed. A
    delivery sent again is signed anew, with the endpoint's current secret and URL.
    """
    updated = (
        OutboxMessage.objects.filter(pk=row_id, status=Status.FAILED)
        .exclude(kind=Kind.WEBHOOK, endpoint__isnull=True)
        .update(status=Status.QUEUED, attempts=0, next_attempt_at=now(), last_error="")
    )
    if updated:
        outbox_kick_after_commit()
    return bool(updated)
