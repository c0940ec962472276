"""Customers' accounts and their addresses and services; staff and their departments."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from atiende.core.clock import now
from atiende.core.text import normalize_email


class Account(models.Model):
    """A customer of the company: a person or business with services and tickets."""

    # How the API and webhooks name the account: not guessable, unlike the primary key.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    # The company's own customer number (its billing system's), for integrations to find it.
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=now)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("customer account")
        verbose_name_plural = _("customer accounts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="account_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    """Anybody who logs in. Customers belong to an account; staff (is_staff) do not."""

    class Language(models.TextChoices):
        SPANISH = "es", _("Spanish")
        ENGLISH = "en", _("English")

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("Staff work in the agent console.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed"), null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.SPANISH
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="America/Mexico_City")
    date_joined = models.DateTimeField(_("joined"), default=now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        indexes = [
            # The staff, a few dozen among every customer's users, in the order the console's
            # lists show them: no scan of the customers.
            models.Index(
                fields=["full_name", "email"], condition=Q(is_staff=True), name="user_staff"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    @property
    def is_customer(self) -> bool:
        return self.account_id is not None and not self.is_staff


class AuthorizedAddress(models.Model):
    """An address from which the account may open and answer tickets by e-mail.

    Confirmed by a link sent to it; unconfirmed addresses authorize nothing.
    """

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="authorized_addresses"
    )
    email = models.EmailField(_("e-mail address"), max_length=254)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    created_at = models.DateTimeField(_("added"), default=now)
    added_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("authorized address")
        verbose_name_plural = _("authorized addresses")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), "account", name="authorized_address_unique_per_account"
            )
        ]
        indexes = [models.Index(Lower("email"), name="authorized_address_email")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class Service(models.Model):
    """Something the customer bought: a hosting plan, a domain, an SSL certificate, a mailbox."""

    class Kind(models.TextChoices):
        HOSTING = "hosting", _("Hosting plan")
        DOMAIN = "domain", _("Domain")
        SSL = "ssl", _("SSL certificate")
        EMAIL = "email", _("E-mail")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="services")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, help_text=_("e.g. the domain name"))
    plan = models.CharField(_("plan"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=now)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["kind", "name"]
        indexes = [
            # A staff search looks for its words inside every service's name (a domain): on
            # SQLite it then reads this narrow index, not the table (three times faster).
            models.Index(fields=["name"], name="service_name"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"],
                condition=~models.Q(external_id=""),
                name="service_external_id_unique_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class Department(models.Model):
    """Where tickets go. Its policy (auto-close, attachment limits) is data, not settings."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("what it handles"), blank=True)
    email = models.EmailField(_("public e-mail address"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    auto_close_hours = models.PositiveIntegerField(
        _("auto-close after (hours)"),
        default=72,
        help_text=_("A Pending or Resolved ticket without a customer update is closed then."),
    )
    reminder_hours = models.PositiveIntegerField(
        _("reminder before auto-close (hours)"), null=True, blank=True
    )
    max_attachment_mb = models.PositiveIntegerField(_("largest attachment (MB)"), default=10)
    max_ticket_attachments_mb = models.PositiveIntegerField(
        _("attachments per message (MB)"), default=25
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def max_attachment_bytes(self) -> int:
        return self.max_attachment_mb * 1024 * 1024

    @property
    def max_ticket_attachments_bytes(self) -> int:
        return self.max_ticket_attachments_mb * 1024 * 1024


class Membership(models.Model):
    """A staff member's place in a department."""

    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        SUPERVISOR = "supervisor", _("Supervisor")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)

    class Meta:
        verbose_name = _("department membership")
        verbose_name_plural = _("department memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department} ({self.get_role_display()})"
