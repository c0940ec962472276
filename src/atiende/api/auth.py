"""Bearer tokens: who calls, with what scope, at what rate, in which language."""

from __future__ import annotations

from typing import cast

from django.db import connection
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.errors import AuthorizationError, Throttled
from ninja.security import HttpBearer

from atiende.accounts.models import User
from atiende.api.models import ApiRateWindow, ApiToken, Scope
from atiende.api.tokens import token_authenticate
from atiende.core.clock import now

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RATE_WINDOW_SECONDS = 60


def _rate_check(token: ApiToken) -> None:
    """At most `token.rate_per_minute` requests per calendar minute.

    One atomic upsert per request (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, the same
    SQL on SQLite and PostgreSQL) counts it in the database every app server shares: exact
    under concurrency, unlike a cache's read-then-write increment.
    """
    moment = int(now().timestamp())
    minute = moment // RATE_WINDOW_SECONDS
    table = connection.ops.quote_name(ApiRateWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (token_id, minute, count) VALUES (%s, %s, 1) "  # noqa: S608 -- our own table name
            f"ON CONFLICT (token_id, minute) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING count",
            [token.pk, minute],
        )
        row = cursor.fetchone()
    if row is not None and row[0] > token.rate_per_minute:
        raise Throttled(wait=RATE_WINDOW_SECONDS - moment % RATE_WINDOW_SECONDS)


def rate_windows_purge() -> int:
    """Forget the counts of minutes that are over (a periodic job)."""
    current = int(now().timestamp()) // RATE_WINDOW_SECONDS
    deleted, _by_model = ApiRateWindow.objects.filter(minute__lt=current - 1).delete()
    return deleted


class TokenAuth(HttpBearer):
    """`Authorization: Bearer atn_...`. Reading needs the read scope; anything else needs
    write. With `admin`, only an administrator's admin token passes, checked before the
    body is read, so a non-administrator learns nothing from the validation of his request."""

    def __init__(self, *, admin: bool = False) -> None:
        super().__init__()
        self.admin = admin

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = token_authenticate(token.strip())
        if api_token is None:
            return None
        if not request.headers.get("Accept-Language"):
            translation.activate(api_token.user.language)
            request.LANGUAGE_CODE = api_token.user.language
        _rate_check(api_token)
        needed = Scope.READ if request.method in SAFE_METHODS else Scope.WRITE
        if not api_token.allows(needed):
            raise AuthorizationError(
                message=_("This token may only read; a token with the write scope is needed.")
            )
        request.user = api_token.user
        if self.admin:
            request.auth = api_token  # type: ignore[attr-defined]
            require_admin(request)
        return api_token


def token_of(request: HttpRequest) -> ApiToken:
    return cast(ApiToken, request.auth)  # type: ignore[attr-defined]


def staff_of(request: HttpRequest) -> User:
    """The staff user the token acts for."""
    return token_of(request).user


def require_admin(request: HttpRequest) -> User:
    """For customer, service and webhook management: an admin token of an administrator."""
    token = token_of(request)
    if not token.allows(Scope.ADMIN) or not token.user.is_superuser:
        raise AuthorizationError(
            message=_("This operation needs a token with the admin scope of an administrator.")
        )
    return token.user


# One security scheme in the OpenAPI document (ninja names it after the class): operations
# for administrators use the same bearer token, refused (403) before the body is even read.
ADMIN = TokenAuth(admin=True)
