"""Webhook endpoints: where the events of tickets are POSTed, and which ones.

The deliveries themselves are outbox rows (`atiende.mail.models.OutboxMessage` with
`kind="webhook"`), so they share the outbox's claims, retries and administration with mail.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atiende.core.clock import now

# Marks a string as an Atiende webhook secret (as "sk_" does elsewhere); not itself secret.
SECRET_PREFIX = "whsec_"  # noqa: S105


class WebhookEvent(models.TextChoices):
    """What an endpoint may subscribe to. The values are the `type` of the payload and the
    `Atiende-Event` header: stable, never renamed."""

    TICKET_CREATED = "ticket.created", _("ticket created")
    TICKET_REPLIED = "ticket.replied", _("public reply (customer or staff)")
    TICKET_NOTE_ADDED = "ticket.note_added", _("internal note added")
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("status changed")
    TICKET_ASSIGNED = "ticket.assigned", _("assigned or unassigned")
    TICKET_MOVED = "ticket.moved", _("moved to another department")


def webhook_secret_generate() -> str:
    """A new signing secret: 256 random bits, prefixed so that it is recognized in a config."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribed to, each POST signed with `secret`.

    The secret is shown to administrators (the receiver needs it to verify signatures), so
    it is stored as is, unlike API tokens. `event_types` holds WebhookEvent values; an empty
    list receives nothing.
    """

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(
        _("signing secret"), max_length=100, default=webhook_secret_generate, editable=False
    )
    event_types = models.JSONField(_("events"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url
