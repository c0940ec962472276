"""Tickets, their messages, attachments and the events of their life."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atiende.accounts.models import Account, Department, Service
from atiende.core.clock import now
from atiende.core.db import CurrentTransactionId
from atiende.tickets.lifecycle import Status


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class ActorKind(models.TextChoices):
    CUSTOMER = "customer", _("customer")
    AGENT = "agent", _("agent")
    SYSTEM = "system", _("system")
    EMAIL = "email", _("e-mail")


class Ticket(models.Model):
    reference = models.CharField(_("ticket ID"), max_length=32, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="tickets")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="opened_tickets",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="tickets"
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="collaborating_tickets"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    created_at = models.DateTimeField(_("created"), default=now)
    # Last public activity (a message either side can see); what lists sort by.
    updated_at = models.DateTimeField(_("last update"), default=now)
    # When anything last changed: a message, a status, an assignment, a move (every event,
    # see tickets/events.py). What integrations sync on; `updated_at` is the conversation's.
    changed_at = models.DateTimeField(_("last change"), default=now)
    last_author_kind = models.CharField(
        max_length=16, choices=ActorKind.choices, default=ActorKind.CUSTOMER
    )
    last_author_name = models.CharField(max_length=150, blank=True)
    status_changed_at = models.DateTimeField(default=now)
    # When the system closes a ticket that waits on the customer, and when it reminds him
    # first; None when nothing is due. The sweep reads only rows with a deadline (partial
    # indexes), so its cost grows with the tickets due, not with all tickets.
    auto_close_at = models.DateTimeField(null=True, blank=True)
    reminder_at = models.DateTimeField(null=True, blank=True)
    # Set by a form or an API client so that a resubmitted request opens no second ticket.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "submission_key"], name="ticket_submission_once"
            )
        ]
        indexes = [
            models.Index(fields=["-changed_at", "-id"], name="ticket_changed"),
            models.Index(fields=["account", "-updated_at"], name="ticket_account_recent"),
            # A customer's other tickets beside the one an agent reads, newest first.
            models.Index(fields=["customer", "-updated_at", "-id"], name="ticket_customer_recent"),
            models.Index(fields=["account", "status", "-updated_at"], name="ticket_account_status"),
            models.Index(fields=["department", "status", "-updated_at"], name="ticket_queue"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee"),
            models.Index(fields=["status", "status_changed_at"], name="ticket_status_since"),
            models.Index(
                fields=["auto_close_at"],
                name="ticket_auto_close_due",
                condition=models.Q(auto_close_at__isnull=False),
            ),
            models.Index(
                fields=["reminder_at"],
                name="ticket_reminder_due",
                condition=models.Q(reminder_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"


class Message(models.Model):
    """One entry in a ticket's thread: a customer message, a staff reply or an internal note."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ticket_messages",
    )
    author_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    is_internal = models.BooleanField(_("internal note"), default=False)
    body = models.TextField(_("message"))
    # From e-mail: the quoted history folded away from the new text, the sanitized HTML of an
    # HTML message (safe to show), and the address it came from (an authorized address of the
    # account, which need not be a user).
    quoted = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    sender_email = models.EmailField(max_length=254, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    created_at = models.DateTimeField(default=now)
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "submission_key"], name="message_submission_once"
            )
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_thread")]

    def __str__(self) -> str:
        return f"{self.ticket.reference} #{self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is ours: never the sender's, never a path the sender can steer.
    today = now()
    return f"{today:%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class Event(models.Model):
    """Something that happened to a ticket: who, when, from which status to which, and why."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        STATUS = "status", _("status changed")
        MESSAGE = "message", _("message")
        ASSIGNED = "assigned", _("assigned")
        COLLABORATOR = "collaborator", _("collaborator added")
        MOVED = "moved", _("moved to another department")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    action = models.CharField(max_length=32, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ticket_events",
    )
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    old_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    new_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)
    # The writing transaction (PostgreSQL; NULL on SQLite): the events feed reads in commit
    # order by (txid, id), so a reader never steps over an event that commits late.
    txid = models.BigIntegerField(null=True, editable=False, db_default=CurrentTransactionId())

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket"),
            models.Index(fields=["txid", "id"], name="event_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.old_status}->{self.new_status}"


class CannedReply(models.Model):
    """A prepared answer of a department, with placeholders filled in when inserted."""

    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="canned_replies",
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders: {customer_name}, {ticket_id}, {agent_name}, {subject}, {department}."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["department", "title"]

    def __str__(self) -> str:
        return self.title


class Presence(models.Model):
    """Which agent has which ticket open right now; shared by every app server."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="presences")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presences"
    )
    last_seen = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "agent"], name="presence_once")]
        indexes = [models.Index(fields=["ticket", "last_seen"], name="presence_recent")]

    def __str__(self) -> str:
        return f"{self.agent_id} @ {self.ticket_id}"
