"""Creating, checking and revoking API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from atiende.accounts.models import User
from atiende.api.models import ApiToken, Scope
from atiende.core.clock import now
from atiende.core.errors import DomainError, NotFound

TOKEN_PREFIX = "atn_"  # noqa: S105 -- a public marker that makes leaked tokens greppable
# last_used_at is written at most this often per token: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_MAX = 100


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *,
    user: User,
    name: str,
    scope: str,
    created_by: User | None,
    submission_key: uuid.UUID | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the staff `user`; returns it with its secret, which is never stored and
    can be shown only now. The admin scope is for administrators only."""
    if not user.is_staff or not user.is_active:
        raise DomainError(_("API tokens are for active staff users."), field="user")
    try:
        scope = Scope(scope)
    except ValueError:
        raise DomainError(_("Choose a scope: read, write or admin."), field="scope") from None
    if scope == Scope.ADMIN and not user.is_superuser:
        raise DomainError(_("Only an administrator can hold an admin token."), field="scope")
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(
            _("Give the token a name, such as the system that will use it."), field="name"
        )
    if len(name) > NAME_MAX:
        raise DomainError(
            _("The name can have at most %(max)d characters.") % {"max": NAME_MAX}, field="name"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 8],
        digest=token_digest(secret),
        scope=scope,
        created_by=created_by,
        submission_key=submission_key,
    )
    return token, secret


def token_create_once(
    *, user: User, name: str, scope: str, submission_key: uuid.UUID | None
) -> tuple[ApiToken, str | None]:
    """`token_create` for a form submission: when this `submission_key` already created a
    token of `user`, that token and None (its secret was shown then and is kept nowhere).
    A concurrent second submission fails on the unique key, then finds the first's token.
    Without a key every call creates a token."""
    if submission_key is None:
        return token_create(user=user, name=name, scope=scope, created_by=user)
    earlier = ApiToken.objects.filter(user=user, submission_key=submission_key).first()
    if earlier is not None:
        return earlier, None
    try:
        with transaction.atomic():
            return token_create(
                user=user, name=name, scope=scope, created_by=user, submission_key=submission_key
            )
    except IntegrityError:
        earlier = ApiToken.objects.filter(user=user, submission_key=submission_key).first()
        if earlier is None:
            raise
        return earlier, None


def token_authenticate(secret: str) -> ApiToken | None:
    """The active token of an active staff user with this secret, or None. Records the use."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active or not token.user.is_staff:
        return None
    moment = now()
    if token.last_used_at is None or token.last_used_at < moment - LAST_USED_RESOLUTION:
        # Conditional: many app servers seeing one token write it once a minute between them.
        ApiToken.objects.filter(pk=token.pk).exclude(
            last_used_at__gte=moment - LAST_USED_RESOLUTION
        ).update(last_used_at=moment)
        token.last_used_at = moment
    return token


def token_list_for_user(*, user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user))


def token_revoke(*, token_id: int, by: User) -> ApiToken:
    """Revoke a token of `by`'s own, or any token when `by` is an administrator. Idempotent."""
    with transaction.atomic():
        tokens = ApiToken.objects.select_for_update()
        if not by.is_superuser:
            tokens = tokens.filter(user=by)
        token = tokens.filter(pk=token_id).first()
        if token is None:
            raise NotFound(_("Token not found."))
        if token.revoked_at is None:
            token.revoked_at = now()
            token.save(update_fields=["revoked_at"])
    return token
