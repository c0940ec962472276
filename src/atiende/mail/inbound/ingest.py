"""Ingest: one received message, from raw bytes to a ticket, a reply, or quarantine.

    store (own transaction) -> parse -> guard -> thread -> authorize -> act (one transaction)

The IMAP poller and the pipe command both call `inbound_receive()`.

Contracts:

- The raw bytes are stored first, compressed, in a transaction of their own that commits
  before anything else is tried (so `inbound_receive` must not run inside a transaction).
  Whatever happens next, the message is never lost: an error becomes a quarantine with the
  error as its reason, and the next message is processed as usual.
- The database being unreachable (OperationalError, InterfaceError) is the one failure that
  propagates: the caller must not take the message (the pipe command exits 75, EX_TEMPFAIL,
  so the mail server delivers it again; the poller leaves it unseen).
- Idempotent. A second delivery of the same bytes (sha256) returns the stored row and does
  nothing else, unless the first delivery never finished (the row is still `received`: the
  database went away half-way), in which case it finishes it. A re-send with other transport
  headers (another sha256) but the Message-ID and From of a message that was taken in the
  last 7 days is stored and ignored as a duplicate.
- The outcome is written in the transaction that acts on it (the ticket, the reply, the
  bounce marks, the answer to an unknown sender), with the row locked and still `received`:
  two deliveries at once act once. `submission_key` (uuid5 of the sha256) keeps the ticket
  services idempotent as well.
- What goes into the ticket, and how refused attachments and inline images are kept: see
  `write.py`.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import logging
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.header import decode_header, make_header
from email.utils import parseaddr
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from atiende.accounts.models import Department
from atiende.core.clock import now
from atiende.core.errors import DomainError
from atiende.core.text import normalize_email, strip_control
from atiende.mail.inbound.authorize import (
    address_is_unknown,
    sender_authorize,
    sender_refusal_reason,
)
from atiende.mail.inbound.guard import Action, dmarc_result, guard_check
from atiende.mail.inbound.parse import message_parse
from atiende.mail.inbound.thread import ticket_for_reply
from atiende.mail.inbound.types import Limits, MessageRejected, ParsedMessage
from atiende.mail.inbound.write import content_of, ticket_write
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.mail.outbound.outbox import enqueue
from atiende.tickets.models import Ticket

logger = logging.getLogger(__name__)

Outcome = InboundMessage.Outcome
# Failures that mean "the database cannot be reached": never a quarantine (it cannot be
# written), always the caller's to retry.
DATABASE_DOWN = (OperationalError, InterfaceError)
# submission_key = uuid5(this, sha256 of the raw message).
SUBMISSION_NAMESPACE = uuid.UUID("4f1c1c4e-6a0e-5b8e-9a53-61746965e4de")
DUPLICATE_WINDOW = timedelta(days=7)
RATE_WINDOW = timedelta(hours=1)
UNKNOWN_SENDER_TEMPLATE = "inbound_unknown_sender"
UNKNOWN_SENDER_ANSWER_EVERY = timedelta(days=1)
PEEK_BYTES = 64 * 1024
TAKEN = (Outcome.TICKET, Outcome.REPLY, Outcome.ACCEPTED, Outcome.BOUNCE, Outcome.DISCARDED)


def inbound_limits() -> Limits:
    return Limits(
        max_bytes=settings.ATIENDE_MAIL_MAX_MB * 1024 * 1024,
        max_parts=settings.ATIENDE_MAIL_MAX_PARTS,
        max_depth=settings.ATIENDE_MAIL_MAX_DEPTH,
        max_header_bytes=settings.ATIENDE_MAIL_MAX_HEADER_KB * 1024,
    )


def submission_key_for(sha256: str) -> uuid.UUID:
    return uuid.uuid5(SUBMISSION_NAMESPACE, sha256)


def department_default() -> Department | None:
    """Where a new ticket goes when the mailbox has no department: the first active one."""
    return Department.objects.filter(is_active=True).order_by("position", "name").first()


def department_addresses() -> frozenset[str]:
    """Every department's public address (the inactive ones too): mail from them is a loop."""
    return frozenset(
        normalize_email(address)
        for address in Department.objects.exclude(email="").values_list("email", flat=True)
    )


# --- 1. store ---------------------------------------------------------------------------------


class _Peek(NamedTuple):
    message_id: str
    from_address: str
    subject: str


def _one_line(value: str, limit: int) -> str:
    return " ".join(strip_control(" ".join(value.split())).split())[:limit]


def _peek(raw: bytes) -> _Peek:
    """Message-ID, From and Subject read from the header block for the stored row, before
    (and whether or not) the message can be parsed; the parsed values replace them. Best
    effort, on the first 64 KB with the stdlib's string-based rules: "" for what is unreadable.
    """
    head = raw[:PEEK_BYTES]
    for separator in (b"\r\n\r\n", b"\n\n"):
        if separator in head:
            head = head.split(separator, 1)[0]
            break
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        message_id = _one_line(str(headers.get("Message-ID", "") or ""), 998)
        from_address = normalize_email(parseaddr(str(headers.get("From", "") or ""))[1])
        subject = str(make_header(decode_header(str(headers.get("Subject", "") or ""))))
    except Exception:  # a header the stdlib cannot read: the parser will say why
        return _Peek("", "", "")
    return _Peek(message_id, from_address[:254], _one_line(subject, 300))


def _store(
    raw: bytes, *, channel: str, department: Department | None
) -> tuple[InboundMessage, bool]:
    """The row of these bytes, and whether this call stored it."""
    digest = hashlib.sha256(raw).hexdigest()
    existing = InboundMessage.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing, False
    peek = _peek(raw)
    try:
        with transaction.atomic(durable=True):
            row = InboundMessage.objects.create(
                sha256=digest,
                raw_compressed=zlib.compress(raw),
                size=len(raw),
                channel=channel,
                department=department,
                message_id=peek.message_id,
                from_address=peek.from_address,
                subject=peek.subject,
            )
    except IntegrityError:  # the same bytes arrived by another way at the same moment
        existing = InboundMessage.objects.filter(sha256=digest).first()
        if existing is None:
            raise
        return existing, False
    return row, True


# --- settling the outcome ----------------------------------------------------------------------


@contextmanager
def _settling(row: InboundMessage) -> Iterator[InboundMessage | None]:
    """A transaction with the row locked, or None when it is no longer `received` (another
    delivery of it settled it). What the block writes commits with the outcome, or not at
    all."""
    with transaction.atomic(durable=True):
        yield (
            InboundMessage.objects.select_for_update()
            .filter(pk=row.pk, outcome=Outcome.RECEIVED)
            .first()
        )


def _settle(locked: InboundMessage, outcome: str, reason: str = "", **fields: object) -> None:
    locked.outcome = outcome
    locked.reason = reason
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["outcome", "reason", *fields])


def _settle_now(row: InboundMessage, outcome: str, reason: str) -> None:
    with _settling(row) as locked:
        if locked is not None:
            _settle(locked, outcome, reason)


# --- the pipeline -------------------------------------------------------------------------------


def inbound_receive(*, raw: bytes, channel: str, department: Department | None) -> InboundMessage:
    """Take one received message (see the module docstring for the contracts); its row.

    Raises only when the database cannot be reached (OperationalError, InterfaceError).
    """
    row, stored = _store(raw, channel=channel, department=department)
    if not stored and row.outcome != Outcome.RECEIVED:
        logger.info("inbound #%s: a second delivery of the same message, nothing done", row.pk)
        return row
    # Reasons and the notes written into tickets are read by everyone: the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        try:
            _process(row, raw)
        except DATABASE_DOWN:
            raise
        except Exception as error:
            logger.error(
                "inbound #%s: unexpected %s, quarantined: %s",
                row.pk,
                type(error).__name__,
                _one_line(str(error), 300),
            )
            logger.debug("inbound #%s: traceback", row.pk, exc_info=True)
            _settle_now(
                row,
                Outcome.QUARANTINED,
                _("Unexpected error while processing the message: %(error)s")
                % {"error": f"{type(error).__name__}: {_one_line(str(error), 1000)}"},
            )
    row.refresh_from_db()
    logger.info(
        "inbound #%s from %s: %s%s",
        row.pk,
        row.from_address or "?",
        row.outcome,
        f" ({_one_line(row.reason, 300)})" if row.reason else "",
    )
    return row


def _process(row: InboundMessage, raw: bytes) -> None:
    try:
        parsed = message_parse(
            raw, limits=inbound_limits(), authserv_id=settings.ATIENDE_MAIL_AUTHSERV_ID
        )
    except MessageRejected as rejected:
        _settle_now(
            row,
            Outcome.QUARANTINED,
            _("The message could not be read: %(reason)s") % {"reason": rejected.reason},
        )
        return
    InboundMessage.objects.filter(pk=row.pk).update(
        message_id=_one_line(parsed.message_id, 998),
        from_address=parsed.from_address[:254],
        subject=_one_line(parsed.subject, 300),
    )
    earlier = _earlier_copy(row, parsed)
    if earlier is not None:
        _settle_now(
            row,
            Outcome.IGNORED,
            _("Duplicate of message #%(id)s (same Message-ID and From).") % {"id": earlier},
        )
        return
    recent = (
        InboundMessage.objects.filter(
            from_address=parsed.from_address, received_at__gte=now() - RATE_WINDOW
        )
        .exclude(pk=row.pk)
        .count()
        if parsed.from_address
        else 0
    )
    verdict = guard_check(
        parsed,
        sender_recent_count=recent,
        hourly_limit=settings.ATIENDE_MAIL_SENDER_HOURLY_LIMIT,
        own_addresses=department_addresses(),
    )
    if verdict.action is Action.IGNORE:
        _settle_now(row, Outcome.IGNORED, verdict.reason)
        return
    if verdict.action is Action.QUARANTINE:
        _settle_now(row, Outcome.QUARANTINED, verdict.reason)
        return
    if verdict.action is Action.BOUNCE:
        _bounce(row, verdict.reported_message_ids)
        return
    ticket = ticket_for_reply(parsed)
    authorized = sender_authorize(address=parsed.from_address, ticket=ticket)
    if authorized is None:
        _refuse(row, parsed, ticket)
        return
    _account, user = authorized
    department = ticket.department if ticket is not None else row.department or department_default()
    if department is None:
        _settle_now(row, Outcome.QUARANTINED, _("No active department takes new tickets."))
        return
    try:
        with _settling(row) as locked:
            if locked is None:
                return
            written, message = ticket_write(
                content=content_of(parsed),
                user=user,
                ticket=ticket,
                department=department,
                submission_key=submission_key_for(row.sha256),
            )
            _settle(
                locked,
                Outcome.REPLY if ticket is not None else Outcome.TICKET,
                ticket=written,
                ticket_message=message,
            )
    except DomainError as error:
        _settle_now(
            row,
            Outcome.QUARANTINED,
            _("The ticket refused the message: %(error)s") % {"error": error.message},
        )


def _earlier_copy(row: InboundMessage, parsed: ParsedMessage) -> int | None:
    """The id of a message taken in the last 7 days with the same Message-ID and From."""
    if not parsed.message_id or not parsed.from_address:
        return None
    return (
        InboundMessage.objects.filter(
            message_id=_one_line(parsed.message_id, 998),
            from_address=parsed.from_address[:254],
            received_at__gte=now() - DUPLICATE_WINDOW,
            outcome__in=[*TAKEN, Outcome.IGNORED],
            pk__lt=row.pk,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def _bounce(row: InboundMessage, reported: tuple[str, ...]) -> None:
    """A delivery status notification: the outbox rows it reports are marked bounced."""
    ours = OutboxMessage.objects.filter(
        kind=OutboxMessage.Kind.MAIL,  # a webhook delivery's id never went out as a Message-ID
        message_id__in=[message_id.strip() for message_id in reported if message_id.strip()],
        status__in=[
            OutboxMessage.Status.SENT,
            OutboxMessage.Status.SENDING,
            OutboxMessage.Status.FAILED,
            OutboxMessage.Status.BOUNCED,
        ],
    )
    with _settling(row) as locked:
        if locked is None:
            return
        bounced = list(ours.order_by("pk").values_list("pk", "ticket_id"))
        if not bounced:
            _settle(
                locked,
                Outcome.IGNORED,
                _("Delivery status notification about no message we sent."),
            )
            return
        ours.update(
            status=OutboxMessage.Status.BOUNCED,
            last_error=f"bounced: delivery status notification (received message #{row.pk})",
            claimed_at=None,
        )
        _settle(
            locked,
            Outcome.BOUNCE,
            _("Delivery status notification: our message(s) %(ids)s bounced.")
            % {"ids": ", ".join(f"#{pk}" for pk, _ticket in bounced)},
            ticket_id=next((ticket for _pk, ticket in bounced if ticket is not None), None),
        )


def _refuse(row: InboundMessage, parsed: ParsedMessage, ticket: Ticket | None) -> None:
    """Quarantine for a sender who may not write here. An address that is nobody's, whose
    domain proved the From (DMARC pass), hears how to write to us, once a day at most; a
    known one (a user, staff, another account's address) is not answered."""
    reason = sender_refusal_reason(address=parsed.from_address, ticket=ticket)
    with _settling(row) as locked:
        if locked is None:
            return
        if address_is_unknown(address=parsed.from_address) and _unknown_sender_answer(
            locked, parsed
        ):
            reason = " ".join([reason, _("The sender was told how to write to us.")])
        _settle(locked, Outcome.QUARANTINED, reason)


def _unknown_sender_answer(row: InboundMessage, parsed: ParsedMessage) -> bool:
    """Answer an unknown sender, when that cannot be backscatter or a storm: only to a From
    that our server saw pass DMARC, at most once a day per address."""
    address = parsed.from_address
    if dmarc_result(parsed) != "pass":
        return False
    since = now() - UNKNOWN_SENDER_ANSWER_EVERY
    if OutboxMessage.objects.filter(
        template=UNKNOWN_SENDER_TEMPLATE, to__iexact=address, created_at__gte=since
    ).exists():
        return False
    # Two messages of one sender settled at the same moment on two machines: one answer.
    key = f"atiende:inbound:unknown-sender-answer:{hashlib.sha256(address.encode()).hexdigest()}"
    if not cache.add(key, row.pk, timeout=int(UNKNOWN_SENDER_ANSWER_EVERY.total_seconds())):
        return False
    department = row.department
    enqueue(
        template=UNKNOWN_SENDER_TEMPLATE,
        to=address,
        language=settings.LANGUAGE_CODE,
        context={
            "address": address,
            "subject": parsed.subject,
            "department": department,
            "addresses_url": f"{settings.SITE_URL}{reverse('accounts:addresses')}",
            "new_ticket_url": f"{settings.SITE_URL}{reverse('portal:ticket_new')}",
        },
        in_reply_to=parsed.message_id or None,
        auto_submitted="auto-replied",
    )
    return True
