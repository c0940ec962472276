"""Every write to a ticket goes through these functions.

The portal, the console, the API, e-mail and jobs call them; nothing else saves a ticket, a
message or an event. Each runs in one transaction that locks the ticket row (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions serialize writers), applies the lifecycle
table, records an Event for every change (`events.event_record`, which also queues the
webhooks), and writes the notifications it causes to the outbox in that same transaction.
Attached files go to the storage inside that transaction, each before its row, so a committed
message always has its files; when the transaction rolls back they are deleted again
(`attachments_undone_on_error`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atiende.accounts.models import Department, Service, User
from atiende.core.clock import now
from atiende.core.errors import DomainError, NewActivity, NotFound, StaleState
from atiende.core.references import reference_generate
from atiende.core.text import strip_control
from atiende.mail.outbound.outbox import enqueue
from atiende.tickets.attachments import (
    attachments_store,
    attachments_undone_on_error,
    attachments_validate,
)
from atiende.tickets.events import event_record, event_record_message
from atiende.tickets.lifecycle import (
    AUTO_CLOSING,
    WAITING_ON_CUSTOMER,
    Action,
    Status,
    next_status,
)
from atiende.tickets.models import ActorKind, Channel, Event, Message, Ticket

# The customer hears of a closing or reopening done by staff (his own he just did).
STAFF_STATUS_NOTICES = {
    Action.AGENT_CLOSE: "ticket_closed_by_staff",
    Action.AGENT_REOPEN: "ticket_reopened_by_staff",
}
# What `_record_status` may change, for save(update_fields=...).
STATUS_FIELDS = ["status", "status_changed_at", "auto_close_at", "reminder_at"]
SUBJECT_MAX = 200
BODY_MAX = 50_000


def _clean_subject(subject: str) -> str:
    # Split on whitespace first: a line break must separate words, not vanish with the controls.
    cleaned = " ".join(strip_control(" ".join((subject or "").split())).split())
    if not cleaned:
        raise DomainError(_("Write a subject: a short description of the matter."), field="subject")
    if len(cleaned) > SUBJECT_MAX:
        raise DomainError(
            _("The subject can have at most %(max)d characters (it has %(count)d).")
            % {"max": SUBJECT_MAX, "count": len(cleaned)},
            field="subject",
        )
    return cleaned


def _clean_body(body: str) -> str:
    cleaned = strip_control(
        (body or "").replace("\r\n", "\n").replace("\r", "\n"), keep_newlines=True
    ).strip()
    if not cleaned:
        raise DomainError(_("Write a message."), field="body")
    if len(cleaned) > BODY_MAX:
        raise DomainError(
            _("The message can have at most %(max)d characters (it has %(count)d).")
            % {"max": BODY_MAX, "count": len(cleaned)},
            field="body",
        )
    return cleaned


def _actor_kind(user: User, channel: str) -> str:
    if user.is_staff:
        return ActorKind.AGENT
    return ActorKind.EMAIL if channel == Channel.EMAIL else ActorKind.CUSTOMER


def lock_ticket(ticket: Ticket) -> Ticket:
    """The ticket re-read inside the current transaction, its row locked until commit.

    Only the ticket's row (`of=("self",)`): on PostgreSQL a plain FOR UPDATE would also lock
    the joined department and account rows, and every write to any ticket of a department
    would wait for every other one.
    """
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("department", "account")
        .get(pk=ticket.pk)
    )


def _check_expected(ticket: Ticket, expected_status: str | None) -> None:
    if expected_status and expected_status != ticket.status:
        raise StaleState(
            _("This ticket changed meanwhile: it is now %(status)s. Nothing was applied.")
            % {"status": Status(ticket.status).label}
        )


def _record_status(
    ticket: Ticket, *, action: Action, actor: User | None, actor_kind: str, reason: str = ""
) -> None:
    """Apply `action` to the locked `ticket`, record the change as an event, and keep the
    auto-close deadline in step (the caller saves STATUS_FIELDS)."""
    old = ticket.status
    new = next_status(action, old)
    if action in WAITING_ON_CUSTOMER:
        deadline_start(ticket)
    elif new not in AUTO_CLOSING or new != old:
        ticket.auto_close_at = None
        ticket.reminder_at = None
    if new != old:
        ticket.status = new
        ticket.status_changed_at = now()
        event_record(
            ticket=ticket,
            kind=Event.Kind.STATUS,
            action=action,
            actor=actor,
            actor_kind=actor_kind,
            old_status=old,
            new_status=new,
            reason=reason,
        )


def deadline_start(ticket: Ticket) -> None:
    """The ticket now waits on the customer: it closes by itself after the department's
    hours, with a reminder first when the department asks for one."""
    department = ticket.department
    ticket.auto_close_at = now() + timedelta(hours=department.auto_close_hours)
    ticket.reminder_at = (
        ticket.auto_close_at - timedelta(hours=department.reminder_hours)
        if department.reminder_hours and department.reminder_hours < department.auto_close_hours
        else None
    )


def _new_reference() -> str:
    for _attempt in range(10):
        reference = reference_generate()
        if not Ticket.objects.filter(reference=reference).exists():
            return reference
    raise RuntimeError("could not draw a free ticket reference")  # 10 collisions in 1e12


def ticket_open(
    *,
    customer: User,
    department: Department,
    subject: str,
    body: str,
    service: Service | None = None,
    files: Sequence[File[bytes]] = (),
    channel: str = Channel.WEB,
    submission_key: uuid.UUID | None = None,
) -> Ticket:
    """Open a ticket for the customer's account and send him the receipt with its ID.

    Idempotent on `submission_key`: a resubmission of the same form returns the ticket the
    first submission opened and opens no other.
    """
    if customer.account_id is None or customer.is_staff:
        raise DomainError(_("Only customers can open tickets from the portal."))
    if submission_key is not None:
        existing = Ticket.objects.filter(customer=customer, submission_key=submission_key).first()
        if existing is not None:
            return existing
    if not department.is_active:
        raise DomainError(_("This department does not take tickets now."), field="department")
    if service is not None and (
        service.account_id != customer.account_id or service.status != Service.Status.ACTIVE
    ):
        raise DomainError(_("Choose one of your active services, or none."), field="service")
    subject = _clean_subject(subject)
    body = _clean_body(body)
    attachments_validate(files, department=department)
    try:
        with attachments_undone_on_error() as stored, transaction.atomic():
            moment = now()
            ticket = Ticket.objects.create(
                reference=_new_reference(),
                account_id=customer.account_id,
                customer=customer,
                department=department,
                service=service,
                subject=subject,
                status=Status.OPEN,
                channel=channel,
                created_at=moment,
                updated_at=moment,
                status_changed_at=moment,
                last_author_kind=_actor_kind(customer, channel),
                last_author_name=customer.display_name,
                submission_key=submission_key,
            )
            message = Message.objects.create(
                ticket=ticket,
                author=customer,
                author_kind=_actor_kind(customer, channel),
                body=body,
                channel=channel,
                created_at=moment,
            )
            attachments_store(message=message, files=files, department=department, stored=stored)
            event_record(
                ticket=ticket,
                kind=Event.Kind.CREATED,
                actor=customer,
                actor_kind=_actor_kind(customer, channel),
                new_status=Status.OPEN,
                data={"channel": channel},
                created_at=moment,
            )
            ticket_notify(
                customer,
                template="ticket_receipt",
                ticket=ticket,
                context={"ticket": ticket, "customer": customer, "body": body},
            )
            _notify_department_of_new_ticket(ticket, message)
    except IntegrityError:
        # Two submissions of one form raced; the first one's ticket is the answer.
        if submission_key is None:
            raise
        return Ticket.objects.get(customer=customer, submission_key=submission_key)
    return ticket


def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    files: Sequence[File[bytes]] = (),
    channel: str = Channel.WEB,
    submission_key: uuid.UUID | None = None,
    resolve: bool = False,
    confirm_reopen: bool = False,
    seen_message_id: int | None = None,
) -> Message:
    """Add a public message to the thread and move the ticket as the lifecycle says.

    A customer's message reopens the ticket (Abierto, from any status) and is announced to the
    assignee and collaborators. A staff reply waits on the customer (Pendiente), or resolves the
    ticket with `resolve`, and is mailed to the customer; on a Cerrado ticket a staff reply
    needs `confirm_reopen`. With `seen_message_id` (the newest message the agent's page showed),
    a message someone else added since raises NewActivity instead of sending blind.
    Idempotent on `submission_key`.
    """
    body = _clean_body(body)
    with attachments_undone_on_error() as stored, transaction.atomic():
        locked = lock_ticket(ticket)
        if submission_key is not None:
            existing = Message.objects.filter(ticket=locked, submission_key=submission_key).first()
            if existing is not None:
                return existing
        kind = _actor_kind(author, channel)
        if author.is_staff:
            if locked.status == Status.CLOSED and not confirm_reopen:
                raise StaleState(
                    _("This ticket is closed. Confirm that your reply should reopen it.")
                )
            if seen_message_id is not None:
                arrived = list(
                    Message.objects.filter(ticket=locked, pk__gt=seen_message_id)
                    .exclude(author=author)
                    .values_list("pk", flat=True)
                )
                if arrived:
                    raise NewActivity(
                        _(
                            "New messages arrived on this ticket while you were writing. "
                            "Read them, then send your reply again."
                        ),
                        message_ids=arrived,
                    )
            action = Action.AGENT_REPLY_RESOLVE if resolve else Action.AGENT_REPLY
        else:
            action = Action.CUSTOMER_REPLY
        moment = now()
        message = Message.objects.create(
            ticket=locked,
            author=author,
            author_kind=kind,
            body=body,
            channel=channel,
            created_at=moment,
            submission_key=submission_key,
        )
        attachments_store(message=message, files=files, department=locked.department, stored=stored)
        # Set before the events are recorded: their webhooks carry the ticket as it is now.
        locked.updated_at = moment
        locked.last_author_kind = kind
        locked.last_author_name = author.display_name
        event_record_message(ticket=locked, message=message, actor_kind=kind)
        _record_status(locked, action=action, actor=author, actor_kind=kind)
        locked.save(
            update_fields=[*STATUS_FIELDS, "updated_at", "last_author_kind", "last_author_name"]
        )
        if author.is_staff:
            customer = locked.customer
            ticket_notify(
                customer,
                template="ticket_staff_reply",
                ticket=locked,
                context={
                    "ticket": locked,
                    "customer": customer,
                    "message": message,
                    "agent": author,
                },
                attachment_ids=list(message.attachments.values_list("pk", flat=True)),
            )
        else:
            _notify_staff_of_customer_message(locked, message)
    ticket.refresh_from_db()
    return message


def ticket_notify(
    user: User,
    *,
    template: str,
    ticket: Ticket,
    context: dict[str, Any],
    attachment_ids: list[int] | None = None,
) -> None:
    """Write one notification about `ticket` to `user`, in his language, to the outbox (in
    the caller's transaction)."""
    enqueue(
        template=template,
        to=user.email,
        language=user.language,
        context=context,
        ticket=ticket,
        reference=ticket.reference,
        attachment_ids=attachment_ids,
        # A customer's Reply lands in the department's mailbox, and so on the ticket.
        reply_to="" if user.is_staff else ticket.department.email,
    )


def _notify_department_of_new_ticket(ticket: Ticket, message: Message) -> None:
    """Every active agent of the ticket's department hears of a new ticket."""
    for agent in User.objects.filter(
        is_active=True, is_staff=True, memberships__department_id=ticket.department_id
    ).distinct():
        ticket_notify(
            agent,
            template="staff_new_ticket",
            ticket=ticket,
            context={"ticket": ticket, "agent": agent, "message": message},
        )


def _notify_staff_of_customer_message(ticket: Ticket, message: Message) -> None:
    """The assignee and every collaborator hear of the customer's message."""
    staff = {user.pk: user for user in ticket.collaborators.filter(is_active=True)}
    if ticket.assignee is not None and ticket.assignee.is_active:
        staff[ticket.assignee.pk] = ticket.assignee
    for user in staff.values():
        ticket_notify(
            user,
            template="staff_customer_reply",
            ticket=ticket,
            context={"ticket": ticket, "agent": user, "message": message},
        )


def _status_action(
    *,
    ticket: Ticket,
    actor: User | None,
    actor_kind: str,
    action: Action,
    expected_status: str | None,
    reason: str = "",
) -> Ticket:
    with transaction.atomic():
        locked = lock_ticket(ticket)
        _check_expected(locked, expected_status)
        _record_status(locked, action=action, actor=actor, actor_kind=actor_kind, reason=reason)
        locked.save(update_fields=STATUS_FIELDS)
        if action in STAFF_STATUS_NOTICES and actor is not None:
            customer = locked.customer
            ticket_notify(
                customer,
                template=STAFF_STATUS_NOTICES[action],
                ticket=locked,
                context={"ticket": locked, "customer": customer, "agent": actor, "reason": reason},
            )
    ticket.refresh_from_db()
    return ticket


def ticket_close(
    *, ticket: Ticket, actor: User, expected_status: str | None = None, reason: str = ""
) -> Ticket:
    """Close the ticket (Cerrado), by the customer or by staff."""
    action = Action.AGENT_CLOSE if actor.is_staff else Action.CUSTOMER_CLOSE
    return _status_action(
        ticket=ticket,
        actor=actor,
        actor_kind=_actor_kind(actor, Channel.WEB),
        action=action,
        expected_status=expected_status,
        reason=reason,
    )


def ticket_reopen(
    *, ticket: Ticket, actor: User, expected_status: str | None = None, reason: str = ""
) -> Ticket:
    """Bring a closed (or, for staff, resolved) ticket back to Abierto."""
    action = Action.AGENT_REOPEN if actor.is_staff else Action.CUSTOMER_REOPEN
    return _status_action(
        ticket=ticket,
        actor=actor,
        actor_kind=_actor_kind(actor, Channel.WEB),
        action=action,
        expected_status=expected_status,
        reason=reason,
    )


def ticket_resolve(
    *, ticket: Ticket, agent: User, expected_status: str | None = None, reason: str = ""
) -> Ticket:
    """Staff mark the ticket solved (Resuelto)."""
    if not agent.is_staff:
        raise NotFound(_("Ticket not found."))
    return _status_action(
        ticket=ticket,
        actor=agent,
        actor_kind=ActorKind.AGENT,
        action=Action.AGENT_RESOLVE,
        expected_status=expected_status,
        reason=reason,
    )


def ticket_add_note(
    *,
    ticket: Ticket,
    agent: User,
    body: str,
    files: Sequence[File[bytes]] = (),
    submission_key: uuid.UUID | None = None,
) -> Message:
    """An internal note: staff only, never shown or sent to the customer, no status change."""
    if not agent.is_staff:
        raise NotFound(_("Ticket not found."))
    body = _clean_body(body)
    with attachments_undone_on_error() as stored, transaction.atomic():
        locked = lock_ticket(ticket)
        if submission_key is not None:
            existing = Message.objects.filter(ticket=locked, submission_key=submission_key).first()
            if existing is not None:
                return existing
        next_status(Action.AGENT_NOTE, locked.status)
        message = Message.objects.create(
            ticket=locked,
            author=agent,
            author_kind=ActorKind.AGENT,
            body=body,
            is_internal=True,
            submission_key=submission_key,
        )
        attachments_store(message=message, files=files, department=locked.department, stored=stored)
        event_record_message(ticket=locked, message=message, actor_kind=ActorKind.AGENT)
    return message


def _system_reason(text: str) -> str:
    """Reasons the system writes are stored in the site's language: every reader shares it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def ticket_auto_close(*, ticket_id: int, moment: datetime) -> bool:
    """Close one ticket whose deadline passed at `moment`; True when this call closed it.

    Locks the row and re-checks the deadline inside the transaction, so two sweeps running at
    once (on any number of machines) close each ticket once and send one notice. A Pendiente
    ticket is first marked resolved, then closed: two events with actor *system*.
    """
    with transaction.atomic():
        ticket = (
            # Only the ticket's row: locking the joined department and customer rows too
            # made a concurrent sweep skip every other ticket sharing them (SKIP LOCKED).
            Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("department", "customer")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None or ticket.auto_close_at is None or ticket.auto_close_at > moment:
            return False  # another sweep has it, or a customer answered meanwhile
        hours = ticket.department.auto_close_hours
        reason = _system_reason(
            ngettext(
                "No reply from the customer within %(hours)d hour.",
                "No reply from the customer within %(hours)d hours.",
                hours,
            )
            % {"hours": hours}
        )
        if ticket.status not in AUTO_CLOSING:
            ticket.auto_close_at = ticket.reminder_at = None
            ticket.save(update_fields=STATUS_FIELDS)
            return False
        was_pending = ticket.status == Status.PENDING
        if was_pending:
            _record_status(
                ticket,
                action=Action.SYSTEM_AUTO_RESOLVE,
                actor=None,
                actor_kind=ActorKind.SYSTEM,
                reason=reason,
            )
        _record_status(
            ticket,
            action=Action.SYSTEM_AUTO_CLOSE,
            actor=None,
            actor_kind=ActorKind.SYSTEM,
            reason=reason,
        )
        ticket.save(update_fields=STATUS_FIELDS)
        customer = ticket.customer
        ticket_notify(
            customer,
            template="ticket_auto_closed",
            ticket=ticket,
            context={
                "ticket": ticket,
                "customer": customer,
                "hours": hours,
                "was_pending": was_pending,
            },
        )
    return True


def ticket_auto_close_remind(*, ticket_id: int, moment: datetime) -> bool:
    """Send the one reminder before the auto-close; True when this call sent it.

    The reminder time is cleared by a conditional UPDATE in the transaction that writes the
    mail: whoever clears it sends it, so it is sent once whatever runs at the same time.
    """
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_related("department", "customer")
            .filter(pk=ticket_id, reminder_at__lte=moment, status__in=AUTO_CLOSING)
            .first()
        )
        if ticket is None or ticket.reminder_at is None:
            return False
        if ticket.auto_close_at is None or ticket.auto_close_at <= moment:
            # The close itself is due (the sweep did not run for a while): a reminder of a
            # deadline already past would arrive beside the closing notice. The close clears it.
            return False
        claimed = Ticket.objects.filter(pk=ticket_id, reminder_at=ticket.reminder_at).update(
            reminder_at=None
        )
        if not claimed:
            return False
        customer = ticket.customer
        ticket_notify(
            customer,
            template="ticket_auto_close_reminder",
            ticket=ticket,
            context={"ticket": ticket, "customer": customer},
        )
    return True


def message_mail_details_set(
    *, message: Message, sender_email: str, quoted: str, body_html: str
) -> None:
    """Record what a message that came by e-mail carried beside its text: the address it came
    from (an authorized address of the account need not be a user), the quoted history folded
    away from the text, and its sanitized HTML. Only for e-mail messages; runs in the caller's
    transaction, the one that wrote the message."""
    Message.objects.filter(pk=message.pk, channel=Channel.EMAIL).update(
        sender_email=sender_email[:254], quoted=quoted, body_html=body_html
    )
