"""API tokens in the console: each staff member lists, creates and revokes his own; an
administrator also sees and revokes everybody's.

A token's secret exists in clear only in the answer to the POST that created it: it is
rendered there (marked `no-store`) and nowhere else — not in a URL, a redirect, a flash
message or the session. A resubmission of that form (a double click, a reload of the answer)
finds the token its submission key created and says so; it creates nothing and shows no secret.
Another user's token is the one 404 page, like a token that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from atiende.api.models import ApiToken
from atiende.api.tokens import (
    token_create_once,
    token_list_for_user,
    token_revoke,
)
from atiende.console.auth import AgentRequest, staff_page
from atiende.console.forms_tokens import TokenCreateForm
from atiende.core.errors import DomainError
from atiende.portal.forms import domain_error_to_form

ALL_TOKENS_PER_PAGE = 50
API_DOCS_URL = "/api/v1/docs"
# Console submissions share the API's Idempotency-Key table; their keys live apart.
NO_STORE = "private, no-store"


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = NO_STORE
    return response


# --- The page ------------------------------------------------------------------------------


def _all_tokens(request: AgentRequest) -> Page[ApiToken] | None:
    """Every staff member's tokens, for an administrator; None for anybody else."""
    if not request.user.is_superuser:
        return None
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    return Paginator(tokens, ALL_TOKENS_PER_PAGE).get_page(request.GET.get("pagina"))


def _tokens_page(
    request: AgentRequest,
    *,
    form: TokenCreateForm | None = None,
    created: ApiToken | None = None,
    secret: str | None = None,
    already: ApiToken | None = None,
) -> HttpResponse:
    user = request.user
    return render(
        request,
        "console/tokens.html",
        {
            "nav": "console",
            "view_name": "tokens",
            "form": form or TokenCreateForm(superuser=user.is_superuser),
            "own_tokens": token_list_for_user(user=user),
            "page": _all_tokens(request),
            "created": created,
            "secret": secret,
            "already": already,
            "api_docs_url": API_DOCS_URL,
        },
    )


@staff_page
@require_http_methods(["GET", "HEAD", "POST"])
def tokens(request: AgentRequest) -> HttpResponse:
    """GET: the list and the form. POST: create a token, and show its secret this once."""
    if request.method != "POST":
        return _tokens_page(request)
    user = request.user
    form = TokenCreateForm(request.POST, superuser=user.is_superuser)
    if form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = token_create_once(
                user=user,
                name=data["name"],
                scope=data["scope"],
                submission_key=data["submission_key"],
            )
        except DomainError as error:
            domain_error_to_form(form, error)
        else:
            fresh = TokenCreateForm(superuser=user.is_superuser)
            if secret is None:
                return _no_store(_tokens_page(request, form=fresh, already=token))
            return _no_store(_tokens_page(request, form=fresh, created=token, secret=secret))
    return _no_store(_tokens_page(request, form=form))


@staff_page
@require_POST
def token_revoke_view(request: AgentRequest, token_id: int) -> HttpResponse:
    """Revoke one of the user's tokens (an administrator: anybody's). Idempotent."""
    token = token_revoke(token_id=token_id, by=request.user)
    messages.success(
        request,
        _("The token “%(name)s” (%(prefix)s…) is revoked: requests that send it are refused.")
        % {"name": token.name, "prefix": token.prefix},
    )
    response = redirect(reverse("console:tokens"))
    assert isinstance(response, HttpResponse)
    return response


urlpatterns: list[URLPattern] = [
    path("api/tokens/", tokens, name="tokens"),
    path("api/tokens/<int:token_id>/revocar/", token_revoke_view, name="token_revoke"),
]
