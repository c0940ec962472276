"""Reads of tickets, and the access checks every surface uses.

Every customer query is scoped to the customer's account *in the query itself*; an object of
another account is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Final, Literal

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from atiende.accounts.models import Department, Membership, Service, User
from atiende.core.errors import NotFound
from atiende.core.references import reference_normalize
from atiende.tickets.lifecycle import Status
from atiende.tickets.models import ActorKind, Attachment, Event, Message, Ticket


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


# --- Staff ----------------------------------------------------------------------------------
#
# An agent works the departments he belongs to; a supervisor (of any department) and an
# administrator see every department. A ticket outside what he sees is "not found".


def agent_department_ids(agent: User) -> set[int] | None:
    """The departments `agent` works, or None for all of them; empty for a non-staff user."""
    if not agent.is_authenticated or not agent.is_staff or not agent.is_active:
        return set()
    if agent.is_superuser:
        return None
    # .all(): the memberships the console loaded once for the request when it did (see
    # console.auth.staff_page), else one query.
    memberships = [(each.department_id, each.role) for each in agent.memberships.all()]
    if any(role == Membership.Role.SUPERVISOR for _department, role in memberships):
        return None
    return {department for department, _role in memberships}


def agent_is_supervisor(agent: User) -> bool:
    """Whether `agent` may assign tickets to others (supervisors and administrators)."""
    if not agent.is_staff or not agent.is_active:
        return False
    if agent.is_superuser:
        return True
    return any(each.role == Membership.Role.SUPERVISOR for each in agent.memberships.all())


def ticket_list_for_agent(*, agent: User) -> QuerySet[Ticket]:
    """Every ticket the agent may see, scoped in the query."""
    departments = agent_department_ids(agent)
    tickets = Ticket.objects.all()
    if departments is not None:
        tickets = tickets.filter(department_id__in=departments)
    return tickets


def department_list_for_agent(*, agent: User) -> QuerySet[Department]:
    departments = agent_department_ids(agent)
    rows = Department.objects.all()
    if departments is not None:
        rows = rows.filter(pk__in=departments)
    return rows.order_by("position", "name")


def access_ticket_for_agent(*, agent: User, reference: str) -> Ticket:
    """The ticket with this reference in a department the agent works, or NotFound."""
    canonical = reference_normalize(reference)
    ticket = (
        ticket_list_for_agent(agent=agent)
        .filter(reference=canonical)
        .select_related("department", "service", "customer", "account", "assignee")
        .first()
        if canonical
        else None
    )
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return ticket


def access_attachment_for_agent(*, agent: User, public_id: str) -> Attachment:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("File not found.")) from None
    departments = agent_department_ids(agent)
    attachments = Attachment.objects.filter(public_id=key)
    if departments is not None:
        attachments = attachments.filter(message__ticket__department_id__in=departments)
    attachment = attachments.select_related("message__ticket").first()
    if attachment is None:
        raise NotFound(_("File not found."))
    return attachment


def ticket_thread_for_agent(*, ticket: Ticket) -> QuerySet[Message]:
    """Every message, internal notes included."""
    return (
        Message.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def ticket_events_for_agent(*, ticket: Ticket) -> QuerySet[Event]:
    """Status changes, assignments, collaborators and moves (message events are the thread)."""
    return (
        Event.objects.filter(ticket=ticket)
        .exclude(kind=Event.Kind.MESSAGE)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def ticket_list_other_for_agent(*, agent: User, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    """The customer's other tickets the agent may open, most recent activity first."""
    return list(
        ticket_list_for_agent(agent=agent)
        .filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .order_by("-updated_at", "-id")[:limit]
    )


def ticket_last_message_id(*, ticket: Ticket) -> int:
    """The newest message's id (0 for none): what a page shows it has seen."""
    last = Message.objects.filter(ticket=ticket).order_by("-id").values_list("pk", flat=True)
    return next(iter(last[:1]), 0)


def ticket_messages_since(*, ticket: Ticket, after_id: int, exclude_author: User) -> list[Message]:
    """Messages that arrived after the page showed `after_id`, written by someone else."""
    return list(
        Message.objects.filter(ticket=ticket, pk__gt=after_id)
        .exclude(author=exclude_author)
        .select_related("author")
        .order_by("id")
    )


def staff_list_for_department(*, department_id: int) -> QuerySet[User]:
    """The active staff who may take a ticket of the department."""
    return (
        User.objects.filter(is_staff=True, is_active=True)
        .filter(Q(memberships__department_id=department_id) | Q(is_superuser=True))
        .distinct()
        .order_by("full_name", "email")
    )


# --- Console queues ---
#
# What the agent console lists and counts. Every query starts from `ticket_list_for_agent`, so
# a ticket of a department the agent does not work is never listed, counted or found.


class QueueView(StrEnum):
    UNASSIGNED = "unassigned"  # Open tickets nobody has taken
    MINE = "mine"  # assigned to the agent, or he works on them beside the assignee
    ALL = "all"


class QueueOrder(StrEnum):
    WAITING = "waiting"  # the customer who has waited longest first
    RECENT = "recent"  # newest public activity first
    CREATED = "created"  # newest tickets first


# The assignee filter's "assigned to nobody", as opposed to None, "whoever".
ASSIGNED_TO_NOBODY: Final = "nobody"

_CUSTOMER_SIDE = (ActorKind.CUSTOMER, ActorKind.EMAIL)
# Where counting closed tickets stops: beyond it the queue says "more than".
COUNT_CAP = 10_000


@dataclass(frozen=True)
class DepartmentCounts:
    """How many tickets of one department are in each status, and how many wait for a taker."""

    department: Department
    by_status: dict[str, int]
    unassigned_open: int
    # Statuses whose count stopped at COUNT_CAP: there are more.
    capped: frozenset[str] = frozenset()

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def cells(self) -> list[tuple[Status, int, bool]]:
        """(status, count, capped) in the lifecycle's order: a row of the summary table."""
        return [(status, self.by_status.get(status, 0), status in self.capped) for status in Status]


def queue_status(*, view: QueueView, status: Status | None) -> Status | None:
    """The status a queue lists: the one asked for, else Open for the unassigned queue."""
    if status is not None:
        return status
    return Status.OPEN if view == QueueView.UNASSIGNED else None


def queue_order_default(*, status: Status | None) -> QueueOrder:
    """Open tickets are worked oldest-waiting first; any other list by latest activity."""
    return QueueOrder.WAITING if status == Status.OPEN else QueueOrder.RECENT


def _zone_of(agent: User) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(agent.timezone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _day_start(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def ticket_queue_for_agent(
    *,
    agent: User,
    view: QueueView = QueueView.UNASSIGNED,
    department_id: int | None = None,
    status: Status | None = None,
    assignee: int | Literal["nobody"] | None = None,
    customer: str = "",
    created_from: date | None = None,
    created_to: date | None = None,
    order: QueueOrder | None = None,
) -> QuerySet[Ticket]:
    """The tickets of one console queue, filtered and sorted; scoped to the agent's departments.

    `status` narrows any view; in the unassigned view it replaces the default Open (see
    `queue_status`). `created_from` and `created_to` are days in the agent's time zone, both
    included. `order` None sorts as `queue_order_default` says.

    Each ticket carries `waiting_since` (when the customer's wait began: his last message, or
    the moment the ticket last became Open when staff wrote last) and `collaborator_count`,
    and has its customer, account, department and assignee loaded: one query per page,
    whatever the number of rows.
    """
    tickets = ticket_list_for_agent(agent=agent)
    if view == QueueView.UNASSIGNED:
        tickets = tickets.filter(assignee__isnull=True)
    elif view == QueueView.MINE:
        collaborating = Ticket.collaborators.through.objects.filter(
            ticket_id=OuterRef("pk"), user_id=agent.pk
        )
        tickets = tickets.filter(Q(assignee=agent) | Q(Exists(collaborating)))
    listed_status = queue_status(view=view, status=status)
    if listed_status is not None:
        tickets = tickets.filter(status=listed_status)
    if department_id is not None:
        tickets = tickets.filter(department_id=department_id)
    if assignee == ASSIGNED_TO_NOBODY:
        tickets = tickets.filter(assignee__isnull=True)
    elif isinstance(assignee, int):
        tickets = tickets.filter(assignee_id=assignee)
    customer = " ".join(customer.split())
    if customer:
        tickets = tickets.filter(
            Q(customer__email__icontains=customer)
            | Q(customer__full_name__icontains=customer)
            | Q(account__name__icontains=customer)
        )
    zone = _zone_of(agent)
    if created_from is not None:
        tickets = tickets.filter(created_at__gte=_day_start(created_from, zone))
    if created_to is not None and created_to < date.max:
        tickets = tickets.filter(created_at__lt=_day_start(created_to + timedelta(days=1), zone))

    collaborators = (
        Ticket.collaborators.through.objects.filter(ticket_id=OuterRef("pk"))
        .order_by()
        .values("ticket_id")
        .values(count=Count("pk"))
    )
    tickets = tickets.annotate(
        waiting_since=Case(
            When(last_author_kind__in=_CUSTOMER_SIDE, then=F("updated_at")),
            default=F("status_changed_at"),
            output_field=DateTimeField(),
        ),
        collaborator_count=Coalesce(Subquery(collaborators), 0),
    ).select_related("customer", "account", "department", "assignee")

    sort = order or queue_order_default(status=listed_status)
    if sort == QueueOrder.WAITING:
        return tickets.order_by("waiting_since", "id")
    if sort == QueueOrder.CREATED:
        return tickets.order_by("-created_at", "-id")
    return tickets.order_by("-updated_at", "-id")


def ticket_counts_for_agent(
    *, agent: User, departments: Iterable[Department]
) -> list[DepartmentCounts]:
    """Tickets per status (and Open ones nobody took) in each of `departments`.

    The working statuses are counted exactly, in one query: how many there are depends on the
    staff's workload, not on the years kept. Closed tickets are every ticket ever closed (a
    million, for a company of some years): each department's are counted up to COUNT_CAP
    and marked as capped beyond, so the queue costs the same in its tenth year as in its
    first. `departments` is what `department_list_for_agent` gave; counts are scoped to the
    agent's departments whatever is passed.
    """
    departments = list(departments)
    tickets = ticket_list_for_agent(agent=agent)
    rows = (
        # IN, not "not closed": each status is a range of the ticket_queue index.
        tickets.filter(status__in=[Status.OPEN, Status.PENDING, Status.RESOLVED])
        .values("department_id", "status")
        .annotate(
            count=Count("id"),
            unassigned=Count("id", filter=Q(status=Status.OPEN, assignee__isnull=True)),
        )
        .order_by()
    )
    by_department: dict[int, dict[str, int]] = {
        department.pk: dict.fromkeys(Status.values, 0) for department in departments
    }
    unassigned: dict[int, int] = {}
    for row in rows:
        counts = by_department.setdefault(row["department_id"], dict.fromkeys(Status.values, 0))
        counts[row["status"]] = row["count"]
        unassigned[row["department_id"]] = (
            unassigned.get(row["department_id"], 0) + row["unassigned"]
        )
    capped: set[int] = set()
    for department in departments:
        # COUNT(*) over a LIMITed subquery: at most COUNT_CAP + 1 entries of the ticket_queue
        # index (department, status, ...) are read. One query a department: their number
        # grows with the departments an agent works, never with the tickets.
        count = (
            tickets.filter(department_id=department.pk, status=Status.CLOSED)
            .order_by()
            .values("id")[: COUNT_CAP + 1]
            .count()
        )
        by_department[department.pk][Status.CLOSED] = min(count, COUNT_CAP)
        if count > COUNT_CAP:
            capped.add(department.pk)
    return [
        DepartmentCounts(
            department=department,
            by_status=by_department[department.pk],
            unassigned_open=unassigned.get(department.pk, 0),
            capped=frozenset({Status.CLOSED.value}) if department.pk in capped else frozenset(),
        )
        for department in departments
    ]


def staff_list_for_agent(*, agent: User) -> QuerySet[User]:
    """The active staff of the departments the agent sees (administrators too): whom his
    queues can be filtered by."""
    departments = agent_department_ids(agent)
    staff = User.objects.filter(is_staff=True, is_active=True)
    if departments is not None:
        staff = staff.filter(
            Q(memberships__department_id__in=departments) | Q(is_superuser=True)
        ).distinct()
    return staff.order_by("full_name", "email")
