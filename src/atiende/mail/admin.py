"""The outbox for administrators: what is queued, sent and failed, and sending a failed row again.

Mail and webhook deliveries share it (`kind`); a delivery shows its endpoint and the
receiver's last answer (`last_response`).

Rows are a record of what was sent: nobody adds, edits or deletes them here. The one write is
*Send again* (an action on the list, and a button on a failed row's page), which calls
`outbox_resend()`, the same function any other caller would use.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
)
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from atiende.core.admin import ObjectButtonAdmin
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import outbox_resend

ERROR_SHORT = 80


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ObjectButtonAdmin[OutboxMessage]):
    button = button_path = "resend"

    list_display = (
        "created_at",
        "status",
        "kind",
        "template",
        "to",
        "subject",
        "attempts",
        "error_short",
        "sent_at",
    )
    list_filter = ("status", "kind", "template", "endpoint")
    search_fields = ("to", "subject", "message_id", "ticket__reference")
    # The primary key follows creation and is indexed: a long outbox lists without a sort.
    ordering = ("-id",)
    # COUNT(*) over a large outbox on every page is not worth the exact total.
    show_full_result_count = False
    actions = ("resend",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status",
                    "kind",
                    "template",
                    "to",
                    "endpoint",
                    "subject",
                    "ticket",
                    "created_at",
                    "sent_at",
                )
            },
        ),
        (
            _("Delivery"),
            {
                "fields": (
                    "attempts",
                    "next_attempt_at",
                    "claimed_at",
                    "last_error",
                    "last_response",
                )
            },
        ),
        (
            _("Message"),
            {"fields": ("message_id", "headers", "attachment_ids", "body_text", "body_html")},
        ),
    )
    # Every field shown is read-only (the list above is the one list of them).
    readonly_fields = tuple(flatten_fieldsets(fieldsets))

    # --- read-only ----------------------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        # A saved form would write the whole row back over what a worker changed meanwhile.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        """Who may change outbox rows (the model permission) may send a failed one again."""
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    # --- list ---------------------------------------------------------------------------

    @admin.display(description=_("last error"))
    def error_short(self, row: OutboxMessage) -> str:
        return Truncator(row.last_error).chars(ERROR_SHORT)

    @admin.action(description=_("Send again"), permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        queued = sum(outbox_resend(row_id=pk) for pk in chosen)
        if queued:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message is queued to be sent again.",
                    "%(count)d messages are queued to be sent again.",
                    queued,
                )
                % {"count": queued},
                messages.SUCCESS,
            )
        if skipped := len(chosen) - queued:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was left as it is: only a failed message can be sent again.",
                    "%(count)d messages were left as they are: only a failed message can be "
                    "sent again.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    # --- the button on a failed row's page ------------------------------------------------

    def button_act(self, request: HttpRequest, row: OutboxMessage) -> None:
        if outbox_resend(row_id=row.pk):
            self.message_user(
                request,
                (
                    _("The message to %(to)s is queued to be sent again.") % {"to": row.to}
                    if row.kind == OutboxMessage.Kind.MAIL
                    else _("The webhook delivery %(id)s is queued to be sent again.")
                    % {"id": row.message_id}
                ),
                messages.SUCCESS,
            )
        elif row.kind == OutboxMessage.Kind.WEBHOOK and row.endpoint_id is None:
            self.message_user(
                request,
                _("Its webhook endpoint was deleted: this delivery cannot be sent again."),
                messages.WARNING,
            )
        else:
            row.refresh_from_db(fields=["status"])
            self.message_user(
                request,
                _("Only a failed message can be sent again; this one is %(status)s.")
                % {"status": row.get_status_display()},
                messages.WARNING,
            )


from atiende.mail import admin_mailbox  # noqa: E402, F401  (registers MailboxAdmin)
