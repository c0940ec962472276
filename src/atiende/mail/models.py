"""The outbox: every notification is a row written in the transaction that caused it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from atiende.core.clock import now


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    template = models.CharField(max_length=64)
    to = models.EmailField(_("to"), max_length=254)
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
        return f"{self.to}: {self.subject}"
