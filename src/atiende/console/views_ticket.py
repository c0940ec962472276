"""The console's ticket page and its actions.

Thin on purpose: each view fetches the ticket through `access_ticket_for_agent` (a ticket
outside the agent's departments is the one 404 page, like one that does not exist), calls one
domain function, and answers. Every action form carries what the page showed (status, assignee,
newest message); when someone else changed the ticket meanwhile the service refuses, and the
agent comes back to the page with the current state and a message, never an error page, and
with whatever he wrote still in its box.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atiende.accounts.selectors import service_list
from atiende.console.auth import AgentRequest, staff_page
from atiende.console.forms_ticket import (
    AssignForm,
    CannedPickForm,
    MoveForm,
    NoteForm,
    PresenceForm,
    PresenceLeaveForm,
    ReplyForm,
    StatusForm,
    domain_error_to_form,
)
from atiende.console.timeline import timeline_build
from atiende.core.downloads import download_response
from atiende.core.errors import DomainError, NewActivity, NotFound
from atiende.core.references import reference_normalize
from atiende.tickets import routing, services
from atiende.tickets.canned import canned_reply_list_for_ticket, canned_reply_render
from atiende.tickets.lifecycle import Action, Status, allowed_actions
from atiende.tickets.models import Channel, Ticket
from atiende.tickets.presence import (
    PRESENCE_BEAT,
    presence_leave,
    presence_others,
    presence_touch,
)
from atiende.tickets.selectors import (
    access_attachment_for_agent,
    access_ticket_for_agent,
    agent_is_supervisor,
    staff_list_for_department,
    ticket_events_for_agent,
    ticket_list_for_agent,
    ticket_list_other_for_agent,
    ticket_messages_since,
    ticket_thread_for_agent,
)

OTHER_TICKETS = 10
STATUS_ACTIONS = (Action.AGENT_RESOLVE, Action.AGENT_CLOSE, Action.AGENT_REOPEN)


def _ticket_url(ticket: Ticket) -> str:
    return reverse("console:ticket", kwargs={"reference": ticket.reference})


def _ticket(request: AgentRequest, reference: str) -> Ticket:
    return access_ticket_for_agent(agent=request.user, reference=reference)


def _back(ticket: Ticket, anchor: str = "") -> HttpResponse:
    response = redirect(_ticket_url(ticket) + (f"#{anchor}" if anchor else ""))
    assert isinstance(response, HttpResponse)
    return response


# --- The page --------------------------------------------------------------------------------


def _status_buttons(ticket: Ticket) -> list[dict[str, str]]:
    """The lifecycle's status actions allowed now, as the page draws them."""
    drawn = {
        Action.AGENT_RESOLVE: ("console:ticket_resolve", _("Resolve"), ""),
        Action.AGENT_CLOSE: (
            "console:ticket_close",
            _("Close"),
            _("Close this ticket? The customer can reopen it."),
        ),
        Action.AGENT_REOPEN: ("console:ticket_reopen", _("Reopen"), ""),
    }
    buttons = []
    for action in allowed_actions(ticket.status, STATUS_ACTIONS):
        url_name, label, confirm = drawn[action]
        buttons.append(
            {
                "action": str(action),
                "url": reverse(url_name, kwargs={"reference": ticket.reference}),
                "label": label,
                "confirm": confirm,
            }
        )
    return buttons


def _ticket_page(
    request: AgentRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    note_form: NoteForm | None = None,
    move_form: MoveForm | None = None,
    new_message_ids: Collection[int] = (),
) -> HttpResponse:
    """The whole ticket in a fixed number of queries, whatever the length of its history."""
    agent = request.user
    touched = presence_touch(ticket=ticket, agent=agent)
    others = presence_others(ticket=ticket, agent=agent)
    thread = list(ticket_thread_for_agent(ticket=ticket))
    events = list(ticket_events_for_agent(ticket=ticket))
    # What this page shows is what the agent has seen: a later message stops a blind reply.
    seen_message_id = max((message.pk for message in thread), default=0)
    collaborators = list(ticket.collaborators.order_by("full_name", "email"))
    is_supervisor = agent_is_supervisor(agent)
    staff = (
        list(staff_list_for_department(department_id=ticket.department_id)) if is_supervisor else []
    )
    # A plain agent sees only his own departments' tickets; a supervisor or an administrator
    # may look at any, but takes only those of a department he works in.
    works_here = not is_supervisor or any(person.pk == agent.pk for person in staff)
    canned_replies = list(canned_reply_list_for_ticket(ticket=ticket))

    if reply_form is None:
        initial: dict[str, str] = {}
        pick = CannedPickForm(request.GET) if "respuesta" in request.GET else None
        if pick is not None:
            chosen = (
                next((c for c in canned_replies if c.pk == pick.cleaned_data["respuesta"]), None)
                if pick.is_valid()
                else None
            )
            if chosen is None:
                messages.error(request, _("That canned reply is not available for this ticket."))
            else:
                initial["body"] = canned_reply_render(canned=chosen, ticket=ticket, agent=agent)
        reply_form = ReplyForm(department=ticket.department, initial=initial)

    return render(
        request,
        "console/ticket.html",
        {
            "nav": "console",
            "ticket": ticket,
            "timeline": timeline_build(
                messages=thread, events=events, new_message_ids=new_message_ids
            ),
            "new_message_count": len(new_message_ids),
            "seen_message_id": seen_message_id,
            "others": others,
            "presence_beat": PRESENCE_BEAT,
            "presence_touched": touched.isoformat(),
            "collaborators": collaborators,
            "is_collaborator": any(person.pk == agent.pk for person in collaborators),
            "works_here": works_here,
            "is_supervisor": is_supervisor,
            "staff": staff,
            "status_buttons": _status_buttons(ticket),
            "is_closed": ticket.status == Status.CLOSED,
            "canned_replies": canned_replies,
            "reply_form": reply_form,
            "note_form": note_form or NoteForm(department=ticket.department),
            "move_form": move_form or MoveForm(current=ticket.department),
            "services": list(service_list(account=ticket.account)),
            "other_tickets": ticket_list_other_for_agent(
                agent=agent, ticket=ticket, limit=OTHER_TICKETS
            ),
        },
    )


@staff_page
@require_GET
def ticket_detail(request: AgentRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    if ticket.reference != reference:
        # A forgiving form of the ID (lower case, no dashes) leads to the one canonical URL.
        query = request.META.get("QUERY_STRING", "")
        response = redirect(_ticket_url(ticket) + (f"?{query}" if query else ""))
        assert isinstance(response, HttpResponse)
        return response
    return _ticket_page(request, ticket)


# --- Writing: replies and notes --------------------------------------------------------------


@staff_page
@require_POST
def ticket_reply(request: AgentRequest, reference: str) -> HttpResponse:
    """A public reply (optionally resolving). Not sent when the page was out of date: the
    agent sees the new messages, his text still in the box, and sends again."""
    ticket = _ticket(request, reference)
    form = ReplyForm(request.POST, request.FILES, department=ticket.department)
    new_message_ids: list[int] = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            message = services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body=data["body"],
                files=data["attachments"],
                channel=Channel.WEB,
                submission_key=data["submission_key"],
                resolve=data["resolve"],
                confirm_reopen=data["confirm_reopen"],
                seen_message_id=data["seen_message_id"],
            )
        except NewActivity as error:
            form.add_error(None, str(error.message))
            new_message_ids = error.message_ids
        except DomainError as error:
            domain_error_to_form(form, error)
        else:
            if ticket.status == Status.RESOLVED:
                messages.success(request, _("Your reply was sent and the ticket is resolved."))
            else:
                messages.success(request, _("Your reply was sent to the customer."))
            return _back(ticket, f"m-{message.public_id}")
    ticket = _ticket(request, reference)  # as it is now, after whatever refused the reply
    return _ticket_page(request, ticket, reply_form=form, new_message_ids=new_message_ids)


@staff_page
@require_POST
def ticket_note(request: AgentRequest, reference: str) -> HttpResponse:
    """An internal note: no status change, nothing sent to the customer."""
    ticket = _ticket(request, reference)
    form = NoteForm(request.POST, request.FILES, department=ticket.department)
    if form.is_valid():
        data = form.cleaned_data
        try:
            message = services.ticket_add_note(
                ticket=ticket,
                agent=request.user,
                body=data["body"],
                files=data["attachments"],
                submission_key=data["submission_key"],
            )
        except DomainError as error:
            domain_error_to_form(form, error)
        else:
            messages.success(request, _("Internal note added. The customer does not see it."))
            return _back(ticket, f"m-{message.public_id}")
    return _ticket_page(request, ticket, note_form=form)


# --- Status ----------------------------------------------------------------------------------


def _status_change(
    request: AgentRequest,
    ticket: Ticket,
    change: Callable[[str], object],
    done: str,
) -> HttpResponse:
    """Apply a status action with the status the page showed; a stale page applies nothing."""
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The page was out of date. Look at the ticket and try again."))
        return _back(ticket)
    try:
        change(form.cleaned_data["expected_status"])
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, done)
    return _back(ticket)


@staff_page
@require_POST
def ticket_resolve(request: AgentRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    return _status_change(
        request,
        ticket,
        lambda expected: services.ticket_resolve(
            ticket=ticket, agent=request.user, expected_status=expected
        ),
        _("The ticket is resolved."),
    )


@staff_page
@require_POST
def ticket_close(request: AgentRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    return _status_change(
        request,
        ticket,
        lambda expected: services.ticket_close(
            ticket=ticket, actor=request.user, expected_status=expected
        ),
        _("The ticket is closed."),
    )


@staff_page
@require_POST
def ticket_reopen(request: AgentRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    return _status_change(
        request,
        ticket,
        lambda expected: services.ticket_reopen(
            ticket=ticket, actor=request.user, expected_status=expected
        ),
        _("The ticket is open again."),
    )


# --- Who works it ----------------------------------------------------------------------------


@staff_page
@require_POST
def ticket_assign(request: AgentRequest, reference: str) -> HttpResponse:
    """*Asignarme*, letting go, or (supervisors) giving the ticket to another agent."""
    ticket = _ticket(request, reference)
    form = AssignForm(request.POST)
    if not form.is_valid():
        if "assignee" in form.errors:
            messages.error(request, " ".join(str(error) for error in form.errors["assignee"]))
        else:
            messages.error(
                request, _("The page was out of date. Look at the ticket and try again.")
            )
        return _back(ticket)
    assignee = form.cleaned_data["assignee"]
    try:
        routing.ticket_assign(
            ticket=ticket,
            assignee=assignee,
            actor=request.user,
            expected_assignee_id=form.expected_assignee_id,
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        if assignee is None:
            messages.success(request, _("The ticket is now unassigned."))
        elif assignee.pk == request.user.pk:
            messages.success(request, _("The ticket is now assigned to you."))
        else:
            messages.success(
                request,
                _("The ticket is now assigned to %(name)s.") % {"name": assignee.display_name},
            )
    return _back(ticket)


@staff_page
@require_POST
def ticket_join(request: AgentRequest, reference: str) -> HttpResponse:
    """*Colaborar*: work the ticket beside its assignee."""
    ticket = _ticket(request, reference)
    try:
        routing.ticket_collaborator_add(
            ticket=ticket, collaborator=request.user, actor=request.user
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("You collaborate on this ticket now."))
    return _back(ticket)


@staff_page
@require_POST
def ticket_leave(request: AgentRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    try:
        routing.ticket_collaborator_remove(
            ticket=ticket, collaborator=request.user, actor=request.user
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("You no longer collaborate on this ticket."))
    return _back(ticket)


@staff_page
@require_POST
def ticket_move(request: AgentRequest, reference: str) -> HttpResponse:
    """Send the ticket to another department, saying why."""
    ticket = _ticket(request, reference)
    form = MoveForm(request.POST, current=ticket.department)
    if form.is_valid():
        department = form.cleaned_data["department"]
        try:
            routing.ticket_move(
                ticket=ticket,
                department=department,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            domain_error_to_form(form, error)
        else:
            messages.success(
                request,
                _("Ticket %(reference)s moved to %(department)s.")
                % {"reference": ticket.reference, "department": department.name},
            )
            if ticket_list_for_agent(agent=request.user).filter(pk=ticket.pk).exists():
                return _back(ticket)
            # Moved out of the agent's departments: it is no longer his to look at.
            response = redirect("console:queue")
            assert isinstance(response, HttpResponse)
            return response
    return _ticket_page(request, ticket, move_form=form)


# --- Canned replies --------------------------------------------------------------------------


@staff_page
@require_GET
def canned_reply_text(request: AgentRequest, reference: str, canned_id: int) -> HttpResponse:
    """A canned reply of the ticket's department, filled in for this ticket, as plain text
    (console_ticket.js inserts it at the cursor; the agent edits it before sending)."""
    ticket = _ticket(request, reference)
    canned = canned_reply_list_for_ticket(ticket=ticket).filter(pk=canned_id).first()
    if canned is None:
        raise NotFound(_("Canned reply not found."))
    response = HttpResponse(
        canned_reply_render(canned=canned, ticket=ticket, agent=request.user),
        content_type="text/plain; charset=utf-8",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Working together ------------------------------------------------------------------------


@staff_page
@require_POST
def presence_beat(request: AgentRequest, reference: str) -> HttpResponse:
    """The page's heartbeat: I am still here; who else is; did messages arrive since `seen`?"""
    ticket = _ticket(request, reference)
    agent = request.user
    touched = presence_touch(ticket=ticket, agent=agent)
    form = PresenceForm(request.POST)
    seen = form.cleaned_data["seen"] if form.is_valid() else None
    arrived = (
        ticket_messages_since(ticket=ticket, after_id=seen, exclude_author=agent)
        if seen is not None
        else []
    )
    response = HttpResponse(
        render_to_string(
            "console/ticket_presence.html",
            {
                "ticket": ticket,
                "others": presence_others(ticket=ticket, agent=agent),
                "arrived": len(arrived),
            },
            request=request,
        )
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Presence-Touched"] = touched.isoformat()  # the page keeps it for leaving
    return response


@staff_page
@require_POST
def presence_gone(request: AgentRequest, reference: str) -> HttpResponse:
    """The page was left (sent by the browser as it unloads the page). The browser sends this
    after the next page loaded: when that page is this ticket again, it touched later than
    `touched`, the leaving page's last touch, and the agent stays present."""
    form = PresenceLeaveForm(request.POST)
    touched_at = form.cleaned_data["touched"] if form.is_valid() else None
    presence_leave(ticket=_ticket(request, reference), agent=request.user, touched_at=touched_at)
    return HttpResponse(status=204)


# --- Files -----------------------------------------------------------------------------------


@staff_page
@require_GET
def attachment_download(
    request: AgentRequest, reference: str, public_id: uuid.UUID
) -> FileResponse:
    """Always a download, never rendered by the browser, whatever the file says it is."""
    attachment = access_attachment_for_agent(agent=request.user, public_id=str(public_id))
    if attachment.message.ticket.reference != reference_normalize(reference):
        raise NotFound(_("File not found."))
    return download_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type
    )


urlpatterns: list[URLPattern] = [
    path("tickets/<str:reference>/", ticket_detail, name="ticket"),
    path(
        "tickets/<str:reference>/adjuntos/<uuid:public_id>/",
        attachment_download,
        name="ticket_attachment",
    ),
    path("tickets/<str:reference>/responder/", ticket_reply, name="ticket_reply"),
    path("tickets/<str:reference>/nota/", ticket_note, name="ticket_note"),
    path("tickets/<str:reference>/resolver/", ticket_resolve, name="ticket_resolve"),
    path("tickets/<str:reference>/cerrar/", ticket_close, name="ticket_close"),
    path("tickets/<str:reference>/reabrir/", ticket_reopen, name="ticket_reopen"),
    path("tickets/<str:reference>/asignar/", ticket_assign, name="ticket_assign"),
    path("tickets/<str:reference>/colaborar/", ticket_join, name="ticket_join"),
    path("tickets/<str:reference>/dejar/", ticket_leave, name="ticket_leave"),
    path("tickets/<str:reference>/mover/", ticket_move, name="ticket_move"),
    path(
        "tickets/<str:reference>/respuestas/<int:canned_id>/",
        canned_reply_text,
        name="ticket_canned",
    ),
    path("tickets/<str:reference>/presencia/", presence_beat, name="ticket_presence"),
    path("tickets/<str:reference>/presencia/salir/", presence_gone, name="ticket_presence_leave"),
]
