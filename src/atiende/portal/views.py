"""The customer portal's ticket pages.

Thin on purpose: each view parses the request, fetches what it needs through an `access_*`
selector (scoped to the customer's account in the query), calls one service, and answers.
`customer_page` maps the domain's "not found" to the one 404 page, so another account's ticket
and a ticket that does not exist look exactly alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import update_wrapper
from typing import Concatenate, ParamSpec, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atiende.accounts.models import Department, User
from atiende.core.downloads import download_response
from atiende.core.errors import DomainError, NotFound
from atiende.core.references import reference_normalize
from atiende.portal.forms import (
    SearchForm,
    TicketOpenForm,
    TicketReplyForm,
    TicketStatusForm,
    domain_error_to_form,
)
from atiende.search.selectors import ticket_search
from atiende.tickets import services
from atiende.tickets.lifecycle import (
    CUSTOMER_ACTIONS,
    CUSTOMER_EXPLANATIONS,
    Action,
    Status,
    allowed_actions,
)
from atiende.tickets.models import Channel, Ticket
from atiende.tickets.selectors import (
    access_attachment_for_customer,
    access_ticket_for_customer,
    ticket_list_for_customer,
    ticket_status_counts_for_customer,
    ticket_thread_for_customer,
)

TICKETS_PER_PAGE = 25
SEARCH_LIMIT = 50

P = ParamSpec("P")


class CustomerRequest(HttpRequest):
    """A request from a logged-in customer (a user of an account, not staff)."""

    user: User


CustomerView = Callable[Concatenate[CustomerRequest, P], HttpResponseBase]
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]


def customer_page(view: CustomerView[P]) -> View[P]:
    """Only customers: anonymous visitors go to the login page, anybody else gets the 404.

    The domain's NotFound becomes the 404 page here, once for every portal page.
    """

    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not isinstance(user, User) or not user.is_customer:
            # Staff get the console, not the customers' pages: to them these do not exist.
            raise Http404
        try:
            return view(cast(CustomerRequest, request), *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error.message)) from error

    update_wrapper(wrapper, view)
    return wrapper


def _ticket_url(ticket: Ticket) -> str:
    return reverse("portal:ticket_detail", kwargs={"reference": ticket.reference})


# --- Home ------------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if user.is_staff:
        return redirect("console:queue")
    return redirect("portal:ticket_list")


# --- Open a ticket ---------------------------------------------------------------------------


@customer_page
@require_http_methods(["GET", "POST"])
def ticket_new(request: CustomerRequest) -> HttpResponse:
    """Step 1 picks the department (a GET form); step 2 is the form, department preselected."""
    user = request.user
    if request.method == "POST":
        form = TicketOpenForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_open(
                    customer=user,
                    department=data["department"],
                    subject=data["subject"],
                    body=data["body"],
                    service=data["service"],
                    files=data["attachments"],
                    channel=Channel.WEB,
                    submission_key=data["submission_key"],
                )
            except DomainError as error:
                domain_error_to_form(form, error)
            else:
                return redirect("portal:ticket_opened", reference=ticket.reference)
        return _ticket_new_page(request, form, step=2)

    form = TicketOpenForm(user=user)
    slug = request.GET.get("departamento")
    if slug is None:
        return _ticket_new_page(request, form, step=1)
    if not any(department.slug == slug for department in _departments(form)):
        return _ticket_new_page(
            request,
            form,
            step=1,
            department_error=_(
                "This department does not take tickets now; choose one from the list."
            )
            if slug
            else _("Choose the department that handles your matter."),
        )
    form = TicketOpenForm(user=user, initial={"department": slug})
    return _ticket_new_page(request, form, step=2)


def _departments(form: TicketOpenForm) -> list[Department]:
    field = form.fields["department"]
    assert isinstance(field, forms.ModelChoiceField) and field.queryset is not None
    return list(field.queryset)


def _ticket_new_page(
    request: CustomerRequest, form: TicketOpenForm, *, step: int, department_error: str = ""
) -> HttpResponse:
    departments = _departments(form)
    chosen = str(form["department"].value() or "")
    return render(
        request,
        "portal/ticket_new.html",
        {
            "nav": "new",
            "form": form,
            "step": step,
            "departments": departments,
            "chosen": chosen,
            "chosen_department": next((d for d in departments if d.slug == chosen), None),
            "department_error": department_error,
        },
    )


@customer_page
@require_GET
def ticket_opened(request: CustomerRequest, reference: str) -> HttpResponse:
    ticket = access_ticket_for_customer(user=request.user, reference=reference)
    return render(request, "portal/ticket_opened.html", {"nav": "new", "ticket": ticket})


# --- Ticket history --------------------------------------------------------------------------


@customer_page
@require_GET
def ticket_list(request: CustomerRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("estado") or None
    if status not in Status.values:
        status = None
    counts = ticket_status_counts_for_customer(user=user)
    filters = [{"status": "", "label": pgettext("tickets", "All"), "count": sum(counts.values())}]
    filters += [
        {"status": value, "label": label, "count": counts[value]} for value, label in Status.choices
    ]
    page = Paginator(ticket_list_for_customer(user=user, status=status), TICKETS_PER_PAGE).get_page(
        request.GET.get("pagina")
    )
    return render(
        request,
        "portal/ticket_list.html",
        {"nav": "list", "page": page, "filters": filters, "status": status or ""},
    )


# --- One ticket ------------------------------------------------------------------------------


def _ticket_page(
    request: CustomerRequest, ticket: Ticket, *, reply_form: TicketReplyForm | None = None
) -> HttpResponse:
    actions = allowed_actions(ticket.status, CUSTOMER_ACTIONS)
    return render(
        request,
        "portal/ticket_detail.html",
        {
            "nav": "list",
            "ticket": ticket,
            "explanation": CUSTOMER_EXPLANATIONS[Status(ticket.status)],
            "thread": list(ticket_thread_for_customer(ticket=ticket)),
            "can_reply": Action.CUSTOMER_REPLY in actions,
            "can_close": Action.CUSTOMER_CLOSE in actions,
            "can_reopen": Action.CUSTOMER_REOPEN in actions,
            "reply_form": reply_form or TicketReplyForm(department=ticket.department),
            "reply_open": reply_form is not None,
        },
    )


@customer_page
@require_GET
def ticket_detail(request: CustomerRequest, reference: str) -> HttpResponse:
    ticket = access_ticket_for_customer(user=request.user, reference=reference)
    if ticket.reference != reference:
        # A forgiving form of the ID (lower case, no dashes) leads to the one canonical URL.
        return redirect(_ticket_url(ticket))
    return _ticket_page(request, ticket)


@customer_page
@require_POST
def ticket_reply(request: CustomerRequest, reference: str) -> HttpResponse:
    ticket = access_ticket_for_customer(user=request.user, reference=reference)
    form = TicketReplyForm(request.POST, request.FILES, department=ticket.department)
    if form.is_valid():
        status_before = ticket.status
        try:
            message = services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
                channel=Channel.WEB,
                submission_key=form.cleaned_data["submission_key"],
            )
        except DomainError as error:
            domain_error_to_form(form, error)
        else:
            if status_before == Status.CLOSED and ticket.status != Status.CLOSED:
                messages.success(request, _("Your reply was sent and the ticket was reopened."))
            else:
                messages.success(request, _("Your reply was sent."))
            return redirect(f"{_ticket_url(ticket)}#m-{message.public_id}")
    return _ticket_page(request, ticket, reply_form=form)


def _status_change(
    request: CustomerRequest,
    ticket: Ticket,
    change: Callable[..., Ticket],
    done: str,
) -> HttpResponse:
    """Apply close or reopen with the status the page showed; a stale page applies nothing."""
    form = TicketStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The page was out of date. Look at the ticket and try again."))
        return redirect(_ticket_url(ticket))
    try:
        change(
            ticket=ticket, actor=request.user, expected_status=form.cleaned_data["expected_status"]
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, done)
    return redirect(_ticket_url(ticket))


@customer_page
@require_http_methods(["GET", "POST"])
def ticket_close(request: CustomerRequest, reference: str) -> HttpResponse:
    """GET asks "are you sure?" (no JavaScript needed); POST closes."""
    ticket = access_ticket_for_customer(user=request.user, reference=reference)
    if request.method == "POST":
        return _status_change(
            request,
            ticket,
            services.ticket_close,
            _("The ticket was closed. You can reopen it at any time."),
        )
    if Action.CUSTOMER_CLOSE not in allowed_actions(ticket.status, CUSTOMER_ACTIONS):
        messages.info(
            request,
            _("This ticket is %(status)s: it cannot be closed now.")
            % {"status": Status(ticket.status).label},
        )
        return redirect(_ticket_url(ticket))
    return render(
        request,
        "portal/ticket_close.html",
        {
            "nav": "list",
            "ticket": ticket,
            "form": TicketStatusForm(initial={"expected_status": ticket.status}),
        },
    )


@customer_page
@require_POST
def ticket_reopen(request: CustomerRequest, reference: str) -> HttpResponse:
    ticket = access_ticket_for_customer(user=request.user, reference=reference)
    return _status_change(
        request,
        ticket,
        services.ticket_reopen,
        _("The ticket was reopened. Tell us what you still need in a reply."),
    )


@customer_page
@require_GET
def attachment_download(
    request: CustomerRequest, reference: str, public_id: uuid.UUID
) -> FileResponse:
    """Always a download, never rendered by the browser: whatever the file says it is."""
    attachment = access_attachment_for_customer(user=request.user, public_id=str(public_id))
    if attachment.message.ticket.reference != reference_normalize(reference):
        raise NotFound(_("File not found."))
    return download_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type
    )


# --- Search ----------------------------------------------------------------------------------


@customer_page
@require_GET
def search(request: CustomerRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    hits = ticket_search(user=request.user, query=query, limit=SEARCH_LIMIT) if query else []
    if hits and hits[0].matched_reference:
        return redirect(_ticket_url(hits[0].ticket))
    return render(
        request,
        "portal/search.html",
        {
            "nav": "search",
            "form": form,
            "query": query,
            "hits": hits,
            "limited": len(hits) >= SEARCH_LIMIT,
        },
    )
