"""Mail in and out.

The outbox: every notification is a row written in the transaction that caused it. Webhook
deliveries are outbox rows too (`kind="webhook"`): one queue, one worker, one retry policy.
The inbox: every message received is stored raw before anything else happens; what became
of it (a ticket, a reply, quarantine, ignored as an auto-reply) is recorded on the same row.
"""

from __future__ import annotations

import zlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atiende.core.clock import now


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        BOUNCED = "bounced", _("bounced")

    class Kind(models.TextChoices):
        MAIL = "mail", _("mail")
        WEBHOOK = "webhook", _("webhook")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.MAIL)
    template = models.CharField(max_length=64)
    # Empty for a webhook delivery: it goes to its endpoint's URL.
    to = models.EmailField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    headers = models.JSONField(default=dict, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbox_messages",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=now)
    last_error = models.TextField(blank=True)
    # When a worker took the row for sending; a row stuck in `sending` past its lease
    # belonged to a worker that died and is taken again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # tickets.Attachment ids to attach (a staff reply carries its files).
    attachment_ids = models.JSONField(default=list, blank=True)
    # A webhook delivery: where it goes (NULL once the endpoint is deleted; the row stays as
    # the record of what was sent), and the receiver's answer to the last attempt.
    endpoint = models.ForeignKey(
        "webhooks.WebhookEndpoint",
        verbose_name=_("webhook endpoint"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    last_response = models.TextField(_("last response"), blank=True)
    created_at = models.DateTimeField(_("created"), default=now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["ticket", "status"], name="outbox_ticket_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.to or self.kind}: {self.subject}"


class Mailbox(models.Model):
    """A department's IMAP mailbox that the worker polls."""

    class Security(models.TextChoices):
        TLS = "tls", _("TLS (IMAPS)")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("none (loopback or trusted network only)")

    department = models.OneToOneField(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="mailbox",
    )
    host = models.CharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=16, choices=Security.choices, default=Security.TLS
    )
    username = models.CharField(_("user"), max_length=255)
    password = models.CharField(_("password"), max_length=255)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    is_active = models.BooleanField(_("active"), default=True)
    poll_seconds = models.PositiveIntegerField(_("poll every (seconds)"), default=60)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("department mailbox")
        verbose_name_plural = _("department mailboxes")

    def __str__(self) -> str:
        return f"{self.username}@{self.host}"


class InboundMessage(models.Model):
    """One message received, stored raw (compressed) before it is parsed or acted on.

    `sha256` of the raw bytes makes a second delivery of the same message (a mail server's
    retry, an IMAP re-fetch) add nothing.
    """

    class Channel(models.TextChoices):
        IMAP = "imap", _("IMAP")
        PIPE = "pipe", _("pipe")
        API = "api", _("API")

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("received")
        TICKET = "ticket", _("opened a ticket")
        REPLY = "reply", _("added to a ticket")
        QUARANTINED = "quarantined", _("in quarantine")
        IGNORED = "ignored", _("ignored (automatic message)")
        BOUNCE = "bounce", _("bounce of our mail")
        DISCARDED = "discarded", _("discarded by staff")
        ACCEPTED = "accepted", _("accepted by staff")

    sha256 = models.CharField(max_length=64, unique=True)
    raw_compressed = models.BinaryField()
    size = models.PositiveBigIntegerField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    received_at = models.DateTimeField(_("received"), default=now)
    message_id = models.CharField(max_length=998, blank=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED
    )
    reason = models.TextField(_("reason"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    ticket_message = models.OneToOneField(
        "tickets.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["message_id"], name="inbound_message_id"),
            models.Index(fields=["outcome", "-received_at"], name="inbound_outcome"),
            models.Index(fields=["from_address", "received_at"], name="inbound_sender_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"

    @property
    def raw(self) -> bytes:
        return zlib.decompress(bytes(self.raw_compressed))
