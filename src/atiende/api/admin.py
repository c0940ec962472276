"""API tokens for administrators: who holds which, how they are used, and revoking them.

Tokens are not created here: only `token_create` makes one, and its secret can be shown once,
on the console's page (/consola/api/tokens/) or by `atiende token create`; the admin's *Add*
leads to the console. Nor are they deleted: a revoked token stays as the record of who had
access. The digest is never shown. The one write besides the name and the rate limit is
*Revoke*, which calls `token_revoke()`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from atiende.accounts.models import User
from atiende.api.models import ApiToken
from atiende.api.tokens import token_revoke
from atiende.core.errors import NotFound


class TokenStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, Any]]:
        return [("active", _("active")), ("revoked", _("revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "prefix", "user", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = (TokenStateFilter, "scope", "created_at")
    list_select_related = ("user",)
    search_fields = ("prefix", "user__email", "name")
    ordering = ("-created_at", "-id")
    actions = ("revoke",)
    fields = (
        "name",
        "user",
        "prefix",
        "scope",
        "rate_per_minute",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    )
    # The scope is chosen when the token is created, where token_create checks who may hold it.
    readonly_fields = (
        "user",
        "prefix",
        "scope",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The console creates tokens: there its secret is shown, once, to its owner."""
        return HttpResponseRedirect(reverse("console:tokens"))

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        by = request.user
        assert isinstance(by, User)
        revoked = 0
        for token_id in queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True):
            try:
                token_revoke(token_id=token_id, by=by)
            except NotFound:  # another's token, for a staff member who is no administrator
                continue
            revoked += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d token revoked.",
                "%(count)d tokens revoked.",
                revoked,
            )
            % {"count": revoked},
            messages.SUCCESS,
        )
