"""Who works a ticket: its assignee, its collaborators, its department.

Same contract as `services.py`: one transaction that locks the ticket row, an Event for every
change (`events.event_record`), notifications to the outbox in that transaction. Staff only;
a user who may not see the ticket gets NotFound, never a hint that it exists.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from atiende.accounts.models import Department, User
from atiende.core.errors import DomainError, NotFound, StaleState
from atiende.tickets.events import event_record
from atiende.tickets.models import ActorKind, Event, Ticket
from atiende.tickets.selectors import agent_department_ids, agent_is_supervisor
from atiende.tickets.services import lock_ticket, ticket_notify

# "Nobody" and "not given" differ for expected_assignee: None means "it was unassigned".
UNCHECKED = -1


def _may_see(agent: User, department_id: int) -> bool:
    departments = agent_department_ids(agent)
    return departments is None or department_id in departments


def _works_in(user: User, department_id: int) -> bool:
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.memberships.filter(department_id=department_id).exists())
    )


def _locked_for(agent: User, ticket: Ticket) -> Ticket:
    locked = lock_ticket(ticket)
    if not _may_see(agent, locked.department_id):
        raise NotFound(_("Ticket not found."))
    return locked


def ticket_assign(
    *,
    ticket: Ticket,
    assignee: User | None,
    actor: User,
    expected_assignee_id: int | None = UNCHECKED,
) -> Ticket:
    """Give the ticket to a staff member of its department, or to nobody.

    An agent may take a ticket himself (*Asignarme*) or let it go; giving it to someone else
    is for supervisors and administrators. With `expected_assignee_id` (the assignee the page
    showed) a concurrent change wins: StaleState names the current assignee, nothing applied.
    """
    with transaction.atomic():
        locked = _locked_for(actor, ticket)
        if expected_assignee_id != UNCHECKED and locked.assignee_id != expected_assignee_id:
            current = locked.assignee.display_name if locked.assignee else _("nobody")
            raise StaleState(
                _("Meanwhile the ticket was assigned to %(name)s. Nothing was changed.")
                % {"name": current}
            )
        target_id = assignee.pk if assignee else None
        if locked.assignee_id == target_id:
            return locked
        is_self = assignee is not None and assignee.pk == actor.pk
        letting_go = assignee is None and locked.assignee_id == actor.pk
        if not (is_self or letting_go or agent_is_supervisor(actor)):
            raise DomainError(
                _("Only a supervisor can assign a ticket to someone else."), field="assignee"
            )
        if assignee is not None and not _works_in(assignee, locked.department_id):
            raise DomainError(
                _("%(name)s does not work in %(department)s.")
                % {"name": assignee.display_name, "department": locked.department.name},
                field="assignee",
            )
        previous_id, previous = locked.assignee_id, locked.assignee
        locked.assignee = assignee
        locked.save(update_fields=["assignee"])
        # After the change: the event's webhooks carry the ticket with its new assignee.
        event_record(
            ticket=locked,
            kind=Event.Kind.ASSIGNED,
            actor=actor,
            actor_kind=ActorKind.AGENT,
            data={
                "from": previous_id,
                "to": target_id,
                "to_name": assignee.display_name if assignee else "",
                "from_email": previous.email if previous else "",
                "to_email": assignee.email if assignee else "",
            },
        )
        if assignee is not None and assignee.pk != actor.pk:
            ticket_notify(
                assignee,
                template="staff_ticket_assigned",
                ticket=locked,
                context={"ticket": locked, "agent": assignee, "actor": actor},
            )
    ticket.refresh_from_db()
    return ticket


def ticket_collaborator_add(*, ticket: Ticket, collaborator: User, actor: User) -> Ticket:
    """Add a staff member who works the ticket beside its assignee (himself, or by a
    supervisor). Idempotent."""
    with transaction.atomic():
        locked = _locked_for(actor, ticket)
        if collaborator.pk != actor.pk and not agent_is_supervisor(actor):
            raise DomainError(_("Only a supervisor can add someone else to a ticket."))
        if not _works_in(collaborator, locked.department_id):
            raise DomainError(
                _("%(name)s does not work in %(department)s.")
                % {"name": collaborator.display_name, "department": locked.department.name}
            )
        if locked.collaborators.filter(pk=collaborator.pk).exists():
            return locked
        locked.collaborators.add(collaborator)
        event_record(
            ticket=locked,
            kind=Event.Kind.COLLABORATOR,
            actor=actor,
            actor_kind=ActorKind.AGENT,
            data={"added": collaborator.pk, "name": collaborator.display_name},
        )
    return ticket


def ticket_collaborator_remove(*, ticket: Ticket, collaborator: User, actor: User) -> Ticket:
    """Leave a ticket (or, for a supervisor, take someone off it). Idempotent."""
    with transaction.atomic():
        locked = _locked_for(actor, ticket)
        if collaborator.pk != actor.pk and not agent_is_supervisor(actor):
            raise DomainError(_("Only a supervisor can take someone else off a ticket."))
        if not locked.collaborators.filter(pk=collaborator.pk).exists():
            return locked
        locked.collaborators.remove(collaborator)
        event_record(
            ticket=locked,
            kind=Event.Kind.COLLABORATOR,
            actor=actor,
            actor_kind=ActorKind.AGENT,
            data={"removed": collaborator.pk, "name": collaborator.display_name},
        )
    return ticket


def ticket_move(*, ticket: Ticket, department: Department, actor: User, reason: str) -> Ticket:
    """Send the ticket to another department, saying why.

    The assignee and collaborators who do not work in the new department are let go, so the
    ticket lands in the new department's unassigned queue.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(_("Say why the ticket moves to another department."), field="reason")
    if not department.is_active:
        raise DomainError(_("That department is not active."), field="department")
    with transaction.atomic():
        locked = _locked_for(actor, ticket)
        if locked.department_id == department.pk:
            raise DomainError(_("The ticket is already in that department."), field="department")
        old = locked.department
        # Who does not work in the new department lets go of the ticket; the event says who.
        released_assignee = (
            locked.assignee
            if locked.assignee is not None and not _works_in(locked.assignee, department.pk)
            else None
        )
        leaving = [
            user for user in locked.collaborators.all() if not _works_in(user, department.pk)
        ]
        locked.department = department
        update = ["department"]
        if released_assignee is not None:
            locked.assignee = None
            update.append("assignee")
        locked.save(update_fields=update)
        if leaving:
            locked.collaborators.remove(*leaving)
        # After the change: the event's webhooks carry the ticket in its new department.
        event_record(
            ticket=locked,
            kind=Event.Kind.MOVED,
            actor=actor,
            actor_kind=ActorKind.AGENT,
            reason=reason,
            data={
                "from": old.pk,
                "from_name": old.name,
                "to": department.pk,
                "to_name": department.name,
                "unassigned": released_assignee.display_name if released_assignee else "",
                "collaborators_released": [user.display_name for user in leaving],
            },
        )
    ticket.refresh_from_db()
    return ticket
