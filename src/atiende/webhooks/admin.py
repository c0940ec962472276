"""Webhook endpoints for superusers: register a URL, choose its events, read its secret.

Every write goes through `atiende.webhooks.services` (the form's fields are checked by the
same functions, so the page and any other caller accept the same URLs). The secret is shown
read-only, since the receiver needs it, and rotated by a button or a list action. The latest
deliveries are listed on the endpoint's page, each linked to its outbox row, where a failed
one is sent again; all of them are in the outbox, filtered by endpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import quote
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from atiende.accounts.models import User
from atiende.core.admin import ObjectButtonAdmin
from atiende.core.errors import DomainError
from atiende.mail.models import OutboxMessage
from atiende.webhooks.models import WebhookEndpoint, WebhookEvent
from atiende.webhooks.services import (
    URL_MAX,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_event_types_clean,
    webhook_secret_rotate,
    webhook_url_clean,
)

LATEST_DELIVERIES = 20
TEXT_SHORT = 80


def _moment(value: datetime | None) -> str:
    return formats.localize(timezone.localtime(value)) if value is not None else "—"


def _checked(clean: Any, value: Any) -> Any:
    """A service's check as a form field's: its DomainError becomes the field's error."""
    try:
        return clean(value)
    except DomainError as error:
        raise forms.ValidationError(str(error.message)) from None


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    # A plain text field: the service decides what a valid URL is (http or https only).
    url = forms.CharField(
        label=_("URL"),
        max_length=URL_MAX,
        help_text=_("Where the events are POSTed: http:// or https://, without a password."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,  # the service says what is missing, in the service's words
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "event_types", "is_active")

    def clean_url(self) -> str:
        url: str = _checked(webhook_url_clean, self.cleaned_data.get("url", ""))
        return url

    def clean_event_types(self) -> list[str]:
        chosen: list[str] = _checked(
            webhook_event_types_clean, self.cleaned_data.get("event_types") or []
        )
        return chosen


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ObjectButtonAdmin[WebhookEndpoint]):
    button = "rotate"
    button_path = "rotate-secret"

    form = WebhookEndpointForm
    list_display = ("url", "description", "events", "is_active", "last_delivery")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    actions = ("rotate_secret",)
    readonly_fields = ("secret", "created_at", "created_by", "latest_deliveries")

    main_fields = ("url", "description", "event_types", "is_active")
    fieldsets = (
        (None, {"fields": main_fields}),
        (
            _("Signature"),
            {
                "fields": ("secret", "created_at", "created_by"),
                "description": _(
                    "Each delivery carries Atiende-Signature: an HMAC-SHA256 of its timestamp "
                    "and body made with this secret. Give it to the receiver; rotate it if it "
                    "leaked."
                ),
            },
        ),
        (_("Latest deliveries"), {"fields": ("latest_deliveries",)}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        if obj is None:
            return ((None, {"fields": self.main_fields}),)  # the secret comes with the save
        return super().get_fieldsets(request, obj)

    # --- superusers only --------------------------------------------------------------------

    def _superuser(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> bool:
        return self._superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_change_permission(
        self, request: HttpRequest, obj: WebhookEndpoint | None = None
    ) -> bool:
        return self._superuser(request)

    def has_delete_permission(
        self, request: HttpRequest, obj: WebhookEndpoint | None = None
    ) -> bool:
        return self._superuser(request)

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    # --- list -------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        latest = OutboxMessage.objects.filter(endpoint=OuterRef("pk")).order_by("-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_status=Subquery(latest.values("status")[:1]),
                last_created_at=Subquery(latest.values("created_at")[:1]),
            )
        )

    @admin.display(description=_("events"))
    def events(self, endpoint: WebhookEndpoint) -> str:
        labels = dict(WebhookEvent.choices)
        return ", ".join(str(labels.get(value, value)) for value in endpoint.event_types or [])

    @admin.display(description=_("last delivery"))
    def last_delivery(self, endpoint: WebhookEndpoint) -> str:
        status = getattr(endpoint, "last_status", None)
        if status is None:
            return "—"
        return str(OutboxMessage.Status(status).label)

    @admin.action(description=_("Rotate the signing secret"), permissions=["rotate"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        rotated = 0
        for endpoint in queryset:
            webhook_secret_rotate(endpoint=endpoint)
            rotated += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d endpoint has a new secret: give it to its receiver.",
                "%(count)d endpoints have a new secret: give it to their receivers.",
                rotated,
            )
            % {"count": rotated},
            messages.SUCCESS,
        )

    # --- the endpoint's page ----------------------------------------------------------------

    @admin.display(description=_("latest deliveries"))
    def latest_deliveries(self, endpoint: WebhookEndpoint) -> SafeString:
        rows = list(
            OutboxMessage.objects.filter(endpoint=endpoint)
            .select_related("ticket")
            .order_by("-id")[:LATEST_DELIVERIES]
        )
        everything = (
            reverse("admin:mail_outboxmessage_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        )
        if not rows:
            return format_html("<p>{}</p>", _("No delivery yet."))
        body = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:mail_outboxmessage_change", args=[quote(row.pk)]),
                    row.subject,
                    row.ticket.reference if row.ticket else "—",
                    row.get_status_display(),
                    row.attempts,
                    _moment(row.created_at),
                    _moment(row.sent_at),
                    Truncator(row.last_response).chars(TEXT_SHORT) or "—",
                    Truncator(row.last_error).chars(TEXT_SHORT) or "—",
                )
                for row in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
            "<p>{} <a href='{}'>{}</a></p>",
            _("event"),
            _("ticket"),
            _("status"),
            _("attempts"),
            _("created"),
            _("sent"),
            _("last response"),
            _("last error"),
            body,
            _("Open a delivery to read it whole, or to send a failed one again."),
            everything,
            _("All deliveries of this endpoint"),
        )

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            webhook_endpoint_update(
                endpoint=obj,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
                is_active=data["is_active"],
            )
            return
        created = webhook_endpoint_create(
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
            created_by=request.user if isinstance(request.user, User) else None,
        )
        if not data["is_active"]:
            webhook_endpoint_update(endpoint=created, is_active=False)
        # The admin goes on with `obj` (the log entry, the redirect to its page).
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        obj.created_by = created.created_by
        obj._state.adding = False

    def response_add(
        self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        """After registering, the endpoint's page: its secret is there, for the receiver."""
        response = super().response_add(request, obj, post_url_continue)
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return response
        return HttpResponseRedirect(self.admin_url("change", quote(obj.pk)))

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        webhook_endpoint_delete(endpoint=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint)

    # --- the rotate button ------------------------------------------------------------------

    def button_act(self, request: HttpRequest, endpoint: WebhookEndpoint) -> None:
        webhook_secret_rotate(endpoint=endpoint)
        self.message_user(
            request,
            _(
                "The endpoint has a new secret: give it to the receiver. Deliveries are "
                "signed with it from now on, those already queued included."
            ),
            messages.SUCCESS,
        )
