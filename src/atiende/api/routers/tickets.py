"""/tickets: open on a customer's behalf, list, read with the thread, reply, note, assign,
move, and the lifecycle actions. Each operation checks access, calls one service, answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.params.functions import Header as HeaderParam
from ninja.params.functions import Query as QueryParam

from atiende.accounts.models import Account, Service, User
from atiende.accounts.selectors import account_holder
from atiende.api.auth import staff_of
from atiende.api.idempotency import idempotent_create
from atiende.api.payloads import event_data, message_data, ticket_data
from atiende.api.schemas import (
    AssignIn,
    CollaboratorIn,
    MessageOut,
    MoveIn,
    NoteCreate,
    ReplyCreate,
    StatusChange,
    StatusName,
    Text,
    TicketCreate,
    TicketDetail,
    TicketPage,
)
from atiende.api.selectors import TICKET_RELATED, department_by_slug, ticket_page_for_agent
from atiende.api.uploads import uploads_use
from atiende.core.errors import DomainError, NotFound
from atiende.tickets import routing, services
from atiende.tickets.lifecycle import Action, allowed_actions
from atiende.tickets.models import Channel, Message, Ticket
from atiende.tickets.selectors import (
    access_ticket_for_agent,
    ticket_events_for_agent,
    ticket_thread_for_agent,
)

router = Router(tags=["tickets"])

IDEMPOTENCY_KEY = HeaderParam(
    None,
    alias="Idempotency-Key",
    description="Send the same key when retrying: the operation runs once.",
)
ASSIGNEE_FILTER = QueryParam(None, description='A staff e-mail, "me" or "none".')
# The staff lifecycle actions, by the name the API gives them.
ACTIONS = {
    "resolve": Action.AGENT_RESOLVE,
    "close": Action.AGENT_CLOSE,
    "reopen": Action.AGENT_REOPEN,
}


def _detail(ticket: Ticket) -> dict[str, Any]:
    ticket = (
        Ticket.objects.select_related(*TICKET_RELATED)
        .prefetch_related("collaborators")
        .get(pk=ticket.pk)
    )
    names = {action: name for name, action in ACTIONS.items()}
    return {
        **ticket_data(ticket),
        "collaborators": sorted(user.email for user in ticket.collaborators.all()),
        "allowed_actions": [
            names[action] for action in allowed_actions(ticket.status, tuple(ACTIONS.values()))
        ],
        "messages": [message_data(message) for message in ticket_thread_for_agent(ticket=ticket)],
        "events": [event_data(event) for event in ticket_events_for_agent(ticket=ticket)],
    }


def _message(message: Message) -> dict[str, Any]:
    return message_data(
        Message.objects.select_related("author").prefetch_related("attachments").get(pk=message.pk)
    )


def _staff(email: str, *, field: str) -> User:
    user = User.objects.filter(email__iexact=email.strip(), is_staff=True, is_active=True).first()
    if user is None:
        raise DomainError(
            _("No staff member has the address %(email)s.") % {"email": email}, field=field
        )
    return user


def _requester(account: Account, email: str | None) -> User:
    if email:
        user = account.users.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise DomainError(
                _("%(email)s is not a user of this customer.") % {"email": email},
                field="requester",
            )
        return user
    holder = account_holder(account=account)
    if holder is None or not holder.is_active:
        raise DomainError(_("This customer has no user to open the ticket for."), field="customer")
    return holder


@router.post(
    "/tickets",
    response={201: TicketDetail},
    summary="Open a ticket on a customer's behalf",
    description="The customer gets the usual receipt with the ticket's ID. Files are sent first "
    "with POST /uploads and named in `attachments`.",
)
def ticket_create(
    request: HttpRequest, payload: TicketCreate, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> HttpResponse:
    agent = staff_of(request)

    def create() -> dict[str, Any]:
        account = Account.objects.filter(public_id=payload.customer, is_active=True).first()
        if account is None:
            raise DomainError(_("Unknown customer."), field="customer")
        customer = _requester(account, payload.requester)
        department = department_by_slug(slug=payload.department, agent=agent)
        service = None
        if payload.service:
            service = Service.objects.filter(account=account, external_id=payload.service).first()
            if service is None:
                raise DomainError(_("The customer has no service with this ID."), field="service")
        with transaction.atomic(), uploads_use(user=agent, ids=payload.attachments) as files:
            ticket = services.ticket_open(
                customer=customer,
                department=department,
                subject=payload.subject,
                body=payload.body,
                service=service,
                files=files,
                channel=Channel.API,
            )
        return _detail(ticket)

    return idempotent_create(request, key=idempotency_key, schema=TicketDetail, create=create)


@router.get(
    "/tickets",
    response=TicketPage,
    summary="List tickets",
    description="Most recently updated first, in pages of `limit`; follow `next_cursor`. An "
    "agent's token lists the tickets of his departments.",
)
def ticket_list(
    request: HttpRequest,
    status: Query[list[StatusName] | None] = None,
    department: Text | None = None,
    customer: UUID | None = None,
    assignee: Text | None = ASSIGNEE_FILTER,
    updated_since: datetime | None = None,
    cursor: str | None = None,
    limit: int = QueryParam(50, ge=1, le=100),
) -> dict[str, Any]:
    rows, next_cursor = ticket_page_for_agent(
        agent=staff_of(request),
        statuses=list(status) if status else None,
        department=department,
        customer=customer,
        assignee=assignee,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [ticket_data(ticket) for ticket in rows], "next_cursor": next_cursor}


@router.get("/tickets/{ticket_id}", response=TicketDetail, summary="A ticket with its thread")
def ticket_get(request: HttpRequest, ticket_id: str) -> dict[str, Any]:
    """Every message (internal notes marked `internal`), attachments, and the events."""
    return _detail(access_ticket_for_agent(agent=staff_of(request), reference=ticket_id))


@router.post(
    "/tickets/{ticket_id}/replies",
    response={201: MessageOut},
    summary="Reply to the customer",
    description="Mailed to the customer; the ticket waits on him (pending), or is resolved with "
    "`resolve`. On a closed ticket `reopen` must be true, else 409.",
)
def ticket_reply(
    request: HttpRequest,
    ticket_id: str,
    payload: ReplyCreate,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> HttpResponse:
    agent = staff_of(request)
    ticket = access_ticket_for_agent(agent=agent, reference=ticket_id)

    def create() -> dict[str, Any]:
        with transaction.atomic(), uploads_use(user=agent, ids=payload.attachments) as files:
            message = services.ticket_reply(
                ticket=ticket,
                author=agent,
                body=payload.body,
                files=files,
                channel=Channel.API,
                resolve=payload.resolve,
                confirm_reopen=payload.reopen,
            )
        return _message(message)

    return idempotent_create(request, key=idempotency_key, schema=MessageOut, create=create)


@router.post(
    "/tickets/{ticket_id}/notes",
    response={201: MessageOut},
    summary="Add an internal note",
    description="Seen by staff only; never shown or mailed to the customer.",
)
def ticket_note(
    request: HttpRequest,
    ticket_id: str,
    payload: NoteCreate,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> HttpResponse:
    agent = staff_of(request)
    ticket = access_ticket_for_agent(agent=agent, reference=ticket_id)

    def create() -> dict[str, Any]:
        with transaction.atomic(), uploads_use(user=agent, ids=payload.attachments) as files:
            message = services.ticket_add_note(
                ticket=ticket, agent=agent, body=payload.body, files=files
            )
        return _message(message)

    return idempotent_create(request, key=idempotency_key, schema=MessageOut, create=create)


# The lifecycle actions of staff, each its own operation: (summary, description).
_STATUS_OPERATIONS = {
    "resolve": (
        "Mark the ticket resolved",
        "From open or pending; 409 otherwise. It closes by itself if the customer does not answer.",
    ),
    "close": ("Close the ticket", "From open, pending or resolved; 409 when already closed."),
    "reopen": ("Reopen the ticket", "From resolved or closed; 409 otherwise."),
}


def _status_operation(name: str) -> None:
    """Register POST /tickets/{id}/<name>: the staff action `name` of the lifecycle table,
    refused (409) when the table does not allow it or `expected_status` is no longer true."""
    summary, description = _STATUS_OPERATIONS[name]

    def operation(
        request: HttpRequest, ticket_id: str, payload: StatusChange | None = None
    ) -> dict[str, Any]:
        agent = staff_of(request)
        ticket = access_ticket_for_agent(agent=agent, reference=ticket_id)
        change = payload or StatusChange.model_validate({})
        expected, reason = change.expected_status, change.reason
        if name == "resolve":
            services.ticket_resolve(
                ticket=ticket, agent=agent, expected_status=expected, reason=reason
            )
        else:
            by_name = {"close": services.ticket_close, "reopen": services.ticket_reopen}
            by_name[name](ticket=ticket, actor=agent, expected_status=expected, reason=reason)
        return _detail(ticket)

    operation.__name__ = operation.__qualname__ = f"ticket_{name}"
    router.post(
        f"/tickets/{{ticket_id}}/{name}",
        response=TicketDetail,
        summary=summary,
        description=description,
    )(operation)


for _name in ACTIONS:
    _status_operation(_name)


@router.post(
    "/tickets/{ticket_id}/assign",
    response=TicketDetail,
    summary="Assign the ticket, or unassign it",
    description="An agent may take a ticket or let it go; giving it to someone else needs a "
    "supervisor's or administrator's token.",
)
def ticket_assign(request: HttpRequest, ticket_id: str, payload: AssignIn) -> dict[str, Any]:
    agent = staff_of(request)
    ticket = access_ticket_for_agent(agent=agent, reference=ticket_id)
    assignee = _staff(payload.assignee, field="assignee") if payload.assignee else None
    routing.ticket_assign(ticket=ticket, assignee=assignee, actor=agent)
    return _detail(ticket)


@router.post(
    "/tickets/{ticket_id}/move",
    response=TicketDetail,
    summary="Move the ticket to another department",
)
def ticket_move(request: HttpRequest, ticket_id: str, payload: MoveIn) -> dict[str, Any]:
    agent = staff_of(request)
    ticket = access_ticket_for_agent(agent=agent, reference=ticket_id)
    department = department_by_slug(slug=payload.department)
    routing.ticket_move(ticket=ticket, department=department, actor=agent, reason=payload.reason)
    return _detail(ticket)


@router.post(
    "/tickets/{ticket_id}/collaborators",
    response=TicketDetail,
    summary="Add a collaborator",
    description="Staff of the ticket's department who work it beside its assignee.",
)
def ticket_collaborator_add(
    request: HttpRequest, ticket_id: str, payload: CollaboratorIn
) -> dict[str, Any]:
    agent = staff_of(request)
    ticket = access_ticket_for_agent(agent=agent, reference=ticket_id)
    collaborator = _staff(payload.email, field="email")
    routing.ticket_collaborator_add(ticket=ticket, collaborator=collaborator, actor=agent)
    return _detail(ticket)


@router.delete(
    "/tickets/{ticket_id}/collaborators/{email}",
    response=TicketDetail,
    summary="Remove a collaborator",
)
def ticket_collaborator_remove(request: HttpRequest, ticket_id: str, email: Text) -> dict[str, Any]:
    agent = staff_of(request)
    ticket = access_ticket_for_agent(agent=agent, reference=ticket_id)
    collaborator = User.objects.filter(email__iexact=email, is_staff=True).first()
    if collaborator is None:
        raise NotFound(_("Not found."))
    routing.ticket_collaborator_remove(ticket=ticket, collaborator=collaborator, actor=agent)
    return _detail(ticket)
