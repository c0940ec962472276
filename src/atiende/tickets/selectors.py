"""Reads of tickets, and the access checks every surface uses.

Every customer query is scoped to the customer's account *in the query itself*; an object of
another account is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

import uuid

from django.db.models import Count, Prefetch, QuerySet
from django.utils.translation import gettext as _

from atiende.accounts.models import Service, User
from atiende.core.errors import NotFound
from atiende.core.references import reference_normalize
from atiende.tickets.lifecycle import Status
from atiende.tickets.models import Attachment, Message, Ticket


def _customer_account_id(user: User) -> int:
    if not user.is_authenticated or user.is_staff or user.account_id is None:
        raise NotFound(_("Ticket not found."))
    return user.account_id


def ticket_list_for_customer(*, user: User, status: str | None = None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(account_id=_customer_account_id(user))
    if status in Status.values:
        tickets = tickets.filter(status=status)
    return tickets.select_related("department", "service").order_by("-updated_at", "-id")


def ticket_status_counts_for_customer(*, user: User) -> dict[str, int]:
    rows = (
        Ticket.objects.filter(account_id=_customer_account_id(user))
        .values("status")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts = {status: 0 for status in Status.values}
    for row in rows:
        counts[row["status"]] = row["count"]
    return counts


def access_ticket_for_customer(*, user: User, reference: str) -> Ticket:
    """The ticket of the customer's account with this reference, or NotFound."""
    account_id = _customer_account_id(user)
    canonical = reference_normalize(reference)
    ticket = (
        Ticket.objects.filter(account_id=account_id, reference=canonical)
        .select_related("department", "service", "customer")
        .first()
        if canonical
        else None
    )
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return ticket


def ticket_thread_for_customer(*, ticket: Ticket) -> QuerySet[Message]:
    """The public thread: internal notes are excluded here, in the query."""
    return (
        Message.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def access_attachment_for_customer(*, user: User, public_id: str) -> Attachment:
    account_id = _customer_account_id(user)
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("File not found.")) from None
    attachment = (
        Attachment.objects.filter(
            public_id=key,
            message__ticket__account_id=account_id,
            message__is_internal=False,
        )
        .select_related("message__ticket")
        .first()
    )
    if attachment is None:
        raise NotFound(_("File not found."))
    return attachment


def service_list_for_customer(*, user: User, active_only: bool = False) -> QuerySet[Service]:
    services = Service.objects.filter(account_id=_customer_account_id(user))
    if active_only:
        services = services.filter(status=Service.Status.ACTIVE)
    return services.order_by("kind", "name")
