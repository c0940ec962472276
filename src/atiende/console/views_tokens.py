"""API tokens in the console: each staff member lists, creates and revokes his own; an
administrator also sees and revokes everybody's.

A token's secret exists in clear only in the answer to the POST that created it: it is
rendered there (marked `no-store`) and nowhere else — not in a URL, a redirect, a flash
message or the session. A resubmission of that form (a double click, a reload of the answer)
finds the token its submission key created and says so; it creates nothing and shows no secret.
Another user's token is the one 404 page, like a token that does not exist.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from atiende.accounts.models import User
from atiende.api.models import ApiToken, IdempotencyRecord
from atiende.api.tokens import token_create, token_list_for_user, token_revoke
from atiende.console.auth import AgentRequest, staff_page
from atiende.console.forms_tokens import TokenCreateForm
from atiende.core.errors import DomainError
from atiende.portal.forms import domain_error_to_form

ALL_TOKENS_PER_PAGE = 50
API_DOCS_URL = "/api/v1/docs"
# Console submissions share the API's Idempotency-Key table; their keys live apart.
SUBMISSION_KEY_PREFIX = "console:token-create:"
NO_STORE = "private, no-store"


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = NO_STORE
    return response


# --- Creating once per submission ------------------------------------------------------------


def _token_created_by_key(*, user: User, key: str) -> ApiToken | None:
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is None:
        return None
    token_id = json.loads(record.body or "{}").get("token")
    return ApiToken.objects.filter(pk=token_id, user=user).first()


def _token_create_once(
    *, user: User, name: str, scope: str, submission_key: uuid.UUID | None
) -> tuple[ApiToken, str | None]:
    """A new token of `user` and its secret; or, when this submission key already created a
    token, that token and None (its secret was shown then and is kept nowhere).

    The key's record is inserted in the token's own transaction, so it exists exactly when the
    token does; a concurrent second submission waits on the record's unique index, fails, and
    then finds the first one's token. Raises DomainError when `token_create` refuses.
    """
    if submission_key is None:
        return token_create(user=user, name=name, scope=scope, created_by=user)
    key = f"{SUBMISSION_KEY_PREFIX}{submission_key}"
    if (earlier := _token_created_by_key(user=user, key=key)) is not None:
        return earlier, None
    try:
        with transaction.atomic():
            token, secret = token_create(user=user, name=name, scope=scope, created_by=user)
            IdempotencyRecord.objects.create(
                user=user,
                key=key,
                fingerprint=hashlib.sha256(f"{token.name}\n{token.scope}".encode()).hexdigest(),
                status_code=201,
                body=json.dumps({"token": token.pk}),
            )
    except IntegrityError:
        if (earlier := _token_created_by_key(user=user, key=key)) is not None:
            return earlier, None
        raise
    return token, secret


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
            token, secret = _token_create_once(
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
