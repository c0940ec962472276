"""Administrators manage customers, their addresses and services, staff and departments here.

Labels come from the models' verbose names, so they follow the interface language.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from atiende.accounts.models import (
    Account,
    AuthorizedAddress,
    Department,
    Membership,
    Service,
    User,
)
from atiende.core.text import normalize_email


class AuthorizedAddressInline(admin.TabularInline[AuthorizedAddress, Account]):
    model = AuthorizedAddress
    fields = ("email", "confirmed_at", "created_at", "added_by")
    readonly_fields = ("created_at", "added_by")
    extra = 0


class ServiceInline(admin.TabularInline[Service, Account]):
    model = Service
    fields = ("kind", "name", "plan", "status", "external_id")
    extra = 0


class AccountUserInline(admin.TabularInline[User, Account]):
    model = User
    fields = ("email", "full_name", "is_active", "email_confirmed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("user")
    verbose_name_plural = _("users")

    def has_add_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin[Account]):
    list_display = ("name", "external_id", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = (
        "name",
        "external_id",
        "users__email",
        "authorized_addresses__email",
        "services__name",
    )
    fields = ("name", "public_id", "external_id", "is_active", "created_at")
    readonly_fields = ("public_id",)
    inlines = (AccountUserInline, AuthorizedAddressInline, ServiceInline)
    date_hierarchy = "created_at"


class UserCreationForm(AdminUserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise self.instance.unique_error_message(User, ["email"])
        return email


class UserChangeAdminForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise self.instance.unique_error_message(User, ["email"])
        return email


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    fields = ("department", "role")
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    form = UserChangeAdminForm
    add_form = UserCreationForm
    list_display = ("email", "full_name", "account", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "language")
    list_select_related = ("account",)
    search_fields = ("email", "full_name")
    ordering = ("email",)
    autocomplete_fields = ("account",)
    inlines = (MembershipInline,)
    readonly_fields = ("last_login", "date_joined")

    def get_inlines(
        self, request: HttpRequest, obj: User | None
    ) -> list[type[InlineModelAdmin[Any, Any]]]:
        # Like Django's own user admin, adding is one step (address and password); the rest,
        # departments included, comes on the change page.
        return list(super().get_inlines(request, obj)) if obj is not None else []

    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "account", "language", "timezone")}),
        (
            _("Access"),
            {
                "fields": (
                    "is_active",
                    "email_confirmed_at",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )


class DepartmentMembershipInline(admin.TabularInline[Membership, Department]):
    model = Membership
    fields = ("user", "role")
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ("name", "slug", "email", "is_active", "position", "auto_close_hours")
    list_editable = ("position",)
    list_filter = ("is_active",)
    search_fields = ("name", "slug", "email")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (DepartmentMembershipInline,)
