from __future__ import annotations

from django.contrib import admin

from atiende.mail.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    list_display = ("created_at", "to", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("to", "subject", "message_id")
    readonly_fields = (
        "template",
        "to",
        "subject",
        "body_text",
        "body_html",
        "message_id",
        "headers",
        "ticket",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False
