"""API tokens of staff users, and the answers kept for Idempotency-Key."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atiende.core.clock import now


class Scope(models.TextChoices):
    """What a token may do. Each scope includes the ones before it: write reads, admin writes."""

    READ = "read", _("read")
    WRITE = "write", _("write")
    ADMIN = "admin", _("admin")


SCOPE_ORDER = [Scope.READ, Scope.WRITE, Scope.ADMIN]


class ApiToken(models.Model):
    """A secret a staff user's program sends as `Authorization: Bearer <token>`.

    Only a SHA-256 digest of the secret is stored (the secret is 256 random bits, so a slow
    hash adds nothing); `prefix` names the token in lists without revealing it. The token acts
    with its user's permissions, narrowed to `scope`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    rate_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        default=600,
        help_text=_("Requests above this rate are answered 429 with Retry-After."),
    )
    created_at = models.DateTimeField(_("created"), default=now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # The console form's one-time key: a second submission of it finds this token.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "submission_key"], name="api_token_submission_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, needed: Scope | str) -> bool:
        return SCOPE_ORDER.index(Scope(self.scope)) >= SCOPE_ORDER.index(Scope(needed))


class IdempotencyRecord(models.Model):
    """The answer given to a create operation sent with an Idempotency-Key.

    The row is inserted in the transaction of the operation itself, so it exists exactly when
    the operation's effects do; a concurrent retry waits on the unique index and then replays
    this answer. `fingerprint` is a digest of the request, to refuse a key reused for another.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_age")]

    def __str__(self) -> str:
        return self.key


def upload_path(instance: Upload, filename: str) -> str:
    # Our own name: nothing the client said reaches the storage path.
    return f"uploads/{instance.created_at:%Y/%m}/{instance.public_id.hex}"


class Upload(models.Model):
    """A file sent ahead of the message that will carry it (POST /uploads, then its id in
    `attachments`). Used once, by its uploader only; unused ones expire after a day."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=upload_path, max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="upload_age")]

    def __str__(self) -> str:
        return self.filename


class ApiRateWindow(models.Model):
    """How many requests a token sent in one calendar minute: counted with one atomic upsert
    per request, shared by every app server (see api/auth.py). Old minutes are purged."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "minute"], name="api_rate_window_once")
        ]

    def __str__(self) -> str:
        return f"{self.token_id}@{self.minute}: {self.count}"
