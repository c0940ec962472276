"""The quarantine for staff: the messages that stopped on their way in, and what staff do.

An agent sees the quarantined messages of the departments he works (by the department of
the mailbox or pipe they arrived on); messages that arrived without a department are for
supervisors and administrators only. Another department's message is "not found".

Staff either discard a message (it stays stored, marked discarded) or accept it for an
account they chose: a new ticket for that account, or, with a ticket ID of that account, a
customer reply on that ticket, exactly as if the customer had written it by e-mail. Both
record who did it and when, in the transaction that settles the message.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from atiende.accounts.models import Account, User
from atiende.core.clock import now
from atiende.core.errors import DomainError, NotFound
from atiende.core.text import normalize_email
from atiende.mail.inbound.authorize import acting_user
from atiende.mail.inbound.ingest import department_default, inbound_limits, submission_key_for
from atiende.mail.inbound.parse import message_parse
from atiende.mail.inbound.types import MessageRejected, ParsedAttachment
from atiende.mail.inbound.write import Content, content_of, ticket_write
from atiende.mail.models import InboundMessage
from atiende.tickets.models import Ticket
from atiende.tickets.selectors import access_ticket_for_agent, agent_department_ids

Outcome = InboundMessage.Outcome


def inbound_list_for_agent(*, agent: User) -> QuerySet[InboundMessage]:
    """Every received message the agent may see, scoped in the query (raw bytes deferred)."""
    departments = agent_department_ids(agent)
    rows = InboundMessage.objects.defer("raw_compressed")
    if departments is not None:
        rows = rows.filter(department_id__in=departments)
    return rows


def inbound_quarantine_list_for_agent(*, agent: User) -> QuerySet[InboundMessage]:
    """The quarantined messages the agent may handle, newest first."""
    return (
        inbound_list_for_agent(agent=agent)
        .filter(outcome=Outcome.QUARANTINED)
        .select_related("department")
        .order_by("-received_at", "-id")
    )


def access_inbound_for_agent(*, agent: User, inbound_id: int) -> InboundMessage:
    """One received message the agent may see, or NotFound."""
    row = inbound_list_for_agent(agent=agent).filter(pk=inbound_id).first()
    if row is None:
        raise NotFound(_("Message not found."))
    return row


def _locked_in_quarantine(*, agent: User, inbound: InboundMessage) -> InboundMessage:
    """The message's row locked for this transaction; NotFound outside the agent's reach,
    DomainError when it left the quarantine meanwhile."""
    access_inbound_for_agent(agent=agent, inbound_id=inbound.pk)
    locked = InboundMessage.objects.select_for_update().get(pk=inbound.pk)
    if locked.outcome != Outcome.QUARANTINED:
        raise DomainError(
            _("This message is no longer in quarantine: it is now “%(outcome)s”.")
            % {"outcome": Outcome(locked.outcome).label}
        )
    return locked


def inbound_discard(*, inbound: InboundMessage, agent: User) -> InboundMessage:
    """Staff drop a quarantined message: it stays stored, marked discarded by them."""
    with transaction.atomic():
        locked = _locked_in_quarantine(agent=agent, inbound=inbound)
        locked.outcome = Outcome.DISCARDED
        locked.handled_by = agent
        locked.handled_at = now()
        locked.save(update_fields=["outcome", "handled_by", "handled_at"])
    inbound.refresh_from_db()
    return inbound


def _content_for(inbound: InboundMessage) -> Content:
    """The message as the ticket will show it; one that cannot be parsed goes in whole, as
    an .eml file, with a line saying why it could not be read."""
    raw = inbound.raw
    try:
        parsed = message_parse(
            raw, limits=inbound_limits(), authserv_id=settings.ATIENDE_MAIL_AUTHSERV_ID
        )
    except MessageRejected as rejected:
        with translation.override(settings.LANGUAGE_CODE):
            text = _(
                "[This e-mail could not be read (%(reason)s); the original is attached as "
                "message.eml.]"
            ) % {"reason": rejected.reason}
        return Content(
            subject=inbound.subject,
            text=text,
            quoted="",
            html="",
            attachments=(
                ParsedAttachment(filename="message.eml", data=raw, declared_type="message/rfc822"),
            ),
            sender_email=inbound.from_address,
        )
    return content_of(parsed)


def inbound_accept(
    *,
    inbound: InboundMessage,
    agent: User,
    account: Account,
    ticket_reference: str | None = None,
) -> Ticket:
    """Staff take a quarantined message for `account`: a new ticket for the account (as the
    user with the sender's address, else the holder) in the message's department (or the
    first active one), or, with `ticket_reference`, a customer reply on that ticket of the
    account. The receipt and staff notices go out as for any customer message.

    NotFound: the message, or the ticket, is not one the agent may see (or the ticket is not
    the account's). DomainError: the message left the quarantine, the account has no active
    user, or a ticket rule refused it.
    """
    ticket: Ticket | None = None
    if ticket_reference:
        ticket = access_ticket_for_agent(agent=agent, reference=ticket_reference)
        if ticket.account_id != account.pk:
            raise NotFound(_("Ticket not found."))
    if not account.is_active:
        raise DomainError(_("This account is not active."), field="account")
    user = acting_user(account, normalize_email(inbound.from_address))
    if user is None:
        raise DomainError(_("This account has no active user to write as."), field="account")
    department = ticket.department if ticket is not None else inbound.department
    if department is None or not department.is_active:
        department = department_default()
    if department is None:
        raise DomainError(_("No active department takes new tickets."))
    content = _content_for(inbound)
    with transaction.atomic():
        # Refusals speak the agent's language; what goes into the ticket, the site's.
        locked = _locked_in_quarantine(agent=agent, inbound=inbound)
        with translation.override(settings.LANGUAGE_CODE):
            written, message = ticket_write(
                content=content,
                user=user,
                ticket=ticket,
                department=department,
                submission_key=submission_key_for(locked.sha256),
            )
        locked.outcome = Outcome.ACCEPTED
        locked.ticket = written
        locked.ticket_message = message
        locked.handled_by = agent
        locked.handled_at = now()
        locked.save(
            update_fields=["outcome", "ticket", "ticket_message", "handled_by", "handled_at"]
        )
    inbound.refresh_from_db()
    return written
