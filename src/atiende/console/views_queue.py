"""The console's way in and its lists: login and logout, the queues, jump to an ID, search.

Thin on purpose: each view parses the request (the queue's filters with a form), calls a
selector scoped to the agent's departments, and renders. `staff_page` sends anybody who is
not active staff, customers included, to the console's login page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from atiende.accounts.models import User
from atiende.console.auth import AgentRequest, staff_page
from atiende.console.forms import VIEW_PARAM_OF, ConsoleLoginForm, QueueFilterForm
from atiende.core.errors import NotFound
from atiende.core.pagination import CappedPaginator
from atiende.search.selectors import QUERY_MAX, ticket_search
from atiende.tickets.lifecycle import Status
from atiende.tickets.selectors import (
    COUNT_CAP,
    access_ticket_for_agent,
    department_list_for_agent,
    queue_order_default,
    queue_status,
    staff_list_for_agent,
    ticket_counts_for_agent,
    ticket_queue_for_agent,
)

TICKETS_PER_PAGE = 50
SEARCH_LIMIT = 50
# Longer than any way of typing an ID; what is kept of a mistyped one to show it back.
JUMP_MAX = 40
# The queue page shows the value of a failed jump in the jump box again.
JUMP_PARAM = "ir"


def _is_staff(user: Any) -> bool:
    return isinstance(user, User) and user.is_authenticated and user.is_staff and user.is_active


# --- Logging in and out ------------------------------------------------------------------------


class ConsoleLoginView(auth_views.LoginView):
    """The staff's login, apart from the customers' one but through the same `authenticate()`:
    django-axes counts failures here too, and its lockout page (AXES_LOCKOUT_CALLABLE) is
    this page when the attempt came here."""

    form_class = ConsoleLoginForm
    template_name = "console/login.html"
    next_page = "console:queue"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # A customer's session gets the form (to log in as staff), not a redirect loop.
        if request.method == "GET" and _is_staff(request.user):
            return HttpResponseRedirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def get_redirect_url(self, request: HttpRequest | None = None) -> str:
        """A safe `next` inside the console; anything else (a portal page) is ignored."""
        url = super().get_redirect_url()
        return url if url.startswith(reverse("console:queue")) else ""


class ConsoleLogoutView(auth_views.LogoutView):
    """POST only: a link or an image cannot log anybody out."""

    http_method_names = ["post", "options"]
    next_page = "console:login"


# --- Queues --------------------------------------------------------------------------------


@staff_page
@require_GET
def queue(request: AgentRequest) -> HttpResponse:
    agent = request.user
    departments = list(department_list_for_agent(agent=agent))
    form = QueueFilterForm(
        request.GET, departments=departments, staff=staff_list_for_agent(agent=agent)
    )
    if not form.is_valid():
        messages.warning(request, _("Some filters could not be understood and were left out."))
    filters = form.filters()
    tickets = ticket_queue_for_agent(
        agent=agent,
        view=filters.view,
        department_id=filters.department_id,
        status=filters.status,
        assignee=filters.assignee,
        customer=filters.customer,
        created_from=filters.created_from,
        created_to=filters.created_to,
        order=filters.order,
    )
    page = CappedPaginator(tickets, TICKETS_PER_PAGE, cap=COUNT_CAP).get_page(
        request.GET.get("pagina")
    )
    listed_status = queue_status(view=filters.view, status=filters.status)
    return render(
        request,
        "console/queue.html",
        {
            "nav": "console",
            "view_name": filters.view.value,
            "view_param": VIEW_PARAM_OF[filters.view],
            "form": form,
            "page": page,
            "counts": ticket_counts_for_agent(agent=agent, departments=departments),
            "statuses": Status.choices,
            "order": (filters.order or queue_order_default(status=listed_status)).value,
            "jump_value": request.GET.get(JUMP_PARAM, "")[:JUMP_MAX],
        },
    )


# --- Jump to an ID -------------------------------------------------------------------------


@staff_page
@require_GET
def jump(request: AgentRequest) -> HttpResponseBase:
    """To the ticket whose ID was typed in any forgiving form; else back to the queue.

    A ticket of another department gets the same answer as one that does not exist.
    """
    typed = " ".join(request.GET.get("id", "").split())[:JUMP_MAX]
    if not typed:
        messages.error(request, _("Type a ticket ID to go to it."))
        return redirect("console:queue")
    try:
        ticket = access_ticket_for_agent(agent=request.user, reference=typed)
    except NotFound:
        messages.error(request, _("No ticket with ID %(id)s in your departments.") % {"id": typed})
        return redirect(f"{reverse('console:queue')}?{urlencode({JUMP_PARAM: typed})}")
    return redirect(reverse("console:ticket", kwargs={"reference": ticket.reference}))


# --- Search --------------------------------------------------------------------------------


@staff_page
@require_GET
def search(request: AgentRequest) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:QUERY_MAX]
    hits = ticket_search(user=request.user, query=query, limit=SEARCH_LIMIT) if query else []
    prefetch_related_objects([hit.ticket for hit in hits], "customer", "assignee")
    return render(
        request,
        "console/search.html",
        {
            "nav": "console",
            "view_name": "search",
            "search_query": query,
            "hits": hits,
            "limited": len(hits) >= SEARCH_LIMIT,
        },
    )


urlpatterns: list[URLPattern] = [
    path("", queue, name="queue"),
    path("entrar/", ConsoleLoginView.as_view(), name="login"),
    path("salir/", ConsoleLogoutView.as_view(), name="logout"),
    path("ir/", jump, name="jump"),
    path("buscar/", search, name="search"),
]
