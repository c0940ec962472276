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
"""

from __future__ import annotations

import enum
import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.dispatch import Signal

from atiende.core.clock import now
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.mail.outbound.compose import REFERENCES_KEPT, compose, header_address_check

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
    _kick_after_commit()
    return row


def _kick() -> None:
    outbox_enqueued.send(sender=OutboxMessage)


def _kick_after_commit() -> None:
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
        OutboxMessage.objects.filter(ticket_id=ticket_id, to__iexact=to)
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
    return OutboxMessage.objects.get(pk=pk) if claimed else None


def _failed(row: OutboxMessage, error: BaseException, *, permanent: bool) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        logger.error("outbox %s to %s failed for good: %s", row.pk, row.to, text)
        OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
            status=Status.FAILED, last_error=text, claimed_at=None
        )
    else:
        logger.warning("outbox %s to %s: attempt %s failed: %s", row.pk, row.to, row.attempts, text)
        OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
            status=Status.QUEUED,
            last_error=text,
            claimed_at=None,
            next_attempt_at=now() + backoff(row.attempts),
        )


def _close_quietly(connection: BaseEmailBackend) -> None:
    """Drop the SMTP session; a server that hangs or vanished must not fail the run here."""
    try:
        connection.close()
    except (smtplib.SMTPException, OSError) as error:
        logger.debug("outbox: closing the SMTP session failed: %s", error)


def outbox_due_ids(*, limit: int) -> list[int]:
    """Rows that may leave now, oldest first, none behind an earlier row of its ticket."""
    moment = now()
    earlier_on_its_way = OutboxMessage.objects.filter(
        ticket_id=OuterRef("ticket_id"),
        pk__lt=OuterRef("pk"),
        status__in=[Status.QUEUED, Status.SENDING],
    )
    return list(
        OutboxMessage.objects.filter(
            Q(status=Status.QUEUED, next_attempt_at__lte=moment)
            | Q(status=Status.SENDING, claimed_at__lt=moment - SENDING_LEASE)
        )
        .exclude(Exists(earlier_on_its_way))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


class _Outcome(enum.Enum):
    SENT = "sent"
    NOT_SENT = "not sent"  # this row failed; the next rows may still go
    SERVER_UNWELL = "server unwell"  # a temporary failure of the server: stop the run


def _deliver(row: OutboxMessage, connection: BaseEmailBackend) -> _Outcome:
    """Send one claimed row and record the outcome on it."""
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
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=Status.SENT, sent_at=now(), last_error="", claimed_at=None
    )
    return _Outcome.SENT


def outbox_deliver_due(*, limit: int = 200) -> int:
    """Deliver what is due (up to `limit` rows) over one SMTP session; returns how many the
    server accepted. Safe to run in any number of workers at once.

    The due rows are read again after each pass: a row that waits behind an earlier row of
    its ticket becomes due once that one has left, so a run drains the outbox instead of
    sending one row per ticket. A temporary failure of the server ends the run; the rest
    waits for the next one.
    """
    sent = tried = 0
    connection = get_connection()
    try:
        while tried < limit:
            took_any = False
            for pk in outbox_due_ids(limit=limit - tried):
                row = _claim(pk, now())
                if row is None:
                    continue  # another worker took it
                took_any = True
                tried += 1
                outcome = _deliver(row, connection)
                if outcome is _Outcome.SERVER_UNWELL:
                    return sent
                if outcome is _Outcome.SENT:
                    sent += 1
            if not took_any:
                break  # nothing due, or other workers took all of it
    finally:
        _close_quietly(connection)
    return sent


def outbox_resend(*, row_id: int) -> bool:
    """An administrator sends a failed row again: back to the queue, attempts from zero."""
    updated = OutboxMessage.objects.filter(pk=row_id, status=Status.FAILED).update(
        status=Status.QUEUED, attempts=0, next_attempt_at=now(), last_error=""
    )
    if updated:
        _kick_after_commit()
    return bool(updated)
