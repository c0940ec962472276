"""Department mailboxes for administrators: where the worker fetches each department's mail.

The password is never sent back to the browser: its field is always empty, and left empty it
keeps the stored password. What the poller records (last polled, last error) is shown, not
edited, and saving the form writes only the fields it edits, never the poller's columns over
what a worker wrote meanwhile.

Registered when this module is imported (from `atiende.mail.admin`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from atiende.mail.models import Mailbox

ERROR_SHORT = 80


class MailboxForm(forms.ModelForm[Mailbox]):
    password = forms.CharField(
        label=_("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the stored password."),
    )

    class Meta:
        model = Mailbox
        fields = (
            "department",
            "is_active",
            "host",
            "port",
            "security",
            "username",
            "password",
            "folder",
            "poll_seconds",
        )

    def clean_password(self) -> str:
        password: str = self.cleaned_data.get("password") or ""
        if password:
            return password
        # The instance still holds the stored password here (the form's values are copied to
        # it after cleaning).
        if self.instance.pk is not None and self.instance.password:
            return self.instance.password
        raise forms.ValidationError(_("Enter the mailbox's password."), code="required")


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin[Mailbox]):
    form = MailboxForm
    list_display = (
        "department",
        "host",
        "username",
        "is_active",
        "last_polled_at",
        "error_short",
    )
    list_select_related = ("department",)
    list_filter = ("is_active", "security")
    search_fields = ("host", "username", "department__name")
    ordering = ("department__name",)
    readonly_fields = ("last_polled_at", "last_error")
    fieldsets = (
        (None, {"fields": ("department", "is_active")}),
        (
            _("Server"),
            {
                "fields": (
                    "host",
                    "port",
                    "security",
                    "username",
                    "password",
                    "folder",
                    "poll_seconds",
                )
            },
        ),
        (_("Status"), {"fields": ("last_polled_at", "last_error")}),
    )

    @admin.display(description=_("last error"))
    def error_short(self, row: Mailbox) -> str:
        return Truncator(row.last_error).chars(ERROR_SHORT)

    def save_model(self, request: HttpRequest, obj: Mailbox, form: Any, change: bool) -> None:
        if change:
            # Only what the form edits: the poller writes last_polled_at and last_error.
            obj.save(update_fields=[name for name in MailboxForm.Meta.fields])
        else:
            obj.save()
