"""Tickets in the Django admin: read-mostly. Writes belong to the services, so the admin can
look and search but cannot change a ticket's status behind the lifecycle's back."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from atiende.tickets.models import CannedReply, Event, Message, Ticket


class MessageInline(admin.TabularInline[Message, Ticket]):
    model = Message
    fields = ("created_at", "author", "author_kind", "is_internal", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        return False


class EventInline(admin.TabularInline[Event, Ticket]):
    model = Event
    fields = ("created_at", "kind", "actor", "actor_kind", "old_status", "new_status", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    list_display = (
        "reference",
        "subject",
        "account",
        "department",
        "status",
        "assignee",
        "updated_at",
    )
    list_filter = ("status", "department")
    search_fields = ("reference", "subject", "customer__email", "account__name")
    list_select_related = ("account", "department", "assignee")
    readonly_fields = (
        "reference",
        "account",
        "customer",
        "department",
        "service",
        "subject",
        "status",
        "assignee",
        "channel",
        "created_at",
        "updated_at",
    )
    exclude = (
        "collaborators",
        "submission_key",
        "last_author_kind",
        "last_author_name",
        "status_changed_at",
    )
    inlines = (MessageInline, EventInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        return False


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin[CannedReply]):
    """Each department's prepared answers; the placeholders are listed under the text."""

    list_display = ("title", "department", "is_active")
    list_filter = ("department", "is_active")
    list_select_related = ("department",)
    search_fields = ("title",)
    ordering = ("department__position", "department__name", "title")
    fields = ("department", "title", "body", "is_active")
