"""The forms of the customer's account pages. They validate input; services do the writing."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from atiende.accounts import services
from atiende.accounts.models import User
from atiende.core.text import normalize_email

# The zones most of our customers live in; a zone set by an administrator is added to the list.
COMMON_TIMEZONES = (
    "America/Mexico_City",
    "America/Cancun",
    "America/Merida",
    "America/Monterrey",
    "America/Chihuahua",
    "America/Hermosillo",
    "America/Mazatlan",
    "America/Tijuana",
    "America/Guatemala",
    "America/El_Salvador",
    "America/Tegucigalpa",
    "America/Managua",
    "America/Costa_Rica",
    "America/Panama",
    "America/Havana",
    "America/Santo_Domingo",
    "America/Puerto_Rico",
    "America/Bogota",
    "America/Caracas",
    "America/Guayaquil",
    "America/Lima",
    "America/La_Paz",
    "America/Santiago",
    "America/Asuncion",
    "America/Argentina/Buenos_Aires",
    "America/Montevideo",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Vancouver",
    "Europe/Madrid",
    "Atlantic/Canary",
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "UTC",
)


def timezone_choices(current: str | None = None) -> list[tuple[str, str]]:
    zones = list(COMMON_TIMEZONES)
    if current and current not in zones:
        zones.insert(0, current)
    return [(zone, zone.replace("_", " ")) for zone in zones]


class EmailLoginForm(AuthenticationForm):
    """Log in with the e-mail address. Axes sees the normalized address, so "Ana@X" and
    "ana@x" count as one account when failures are counted."""

    username = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _("The e-mail or the password is not right. Check both and try again."),
        "inactive": _("This account is inactive. Write to support if you think it should not be."),
        "unconfirmed": _(
            "Your e-mail address is not confirmed yet: open the link we sent you when you "
            "registered. If it expired, ask for a new password below: the link we send you "
            "confirms your address too."
        ),
    }

    def clean_username(self) -> str:
        return normalize_email(self.cleaned_data["username"])

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        # Customers log in once they prove they own their address; staff are created by
        # administrators, who vouch for theirs.
        if user.email_confirmed_at is None and not user.is_staff:
            raise forms.ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")


class RegistrationForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("You log in with it, and we write to it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not only digits, not a common password."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    account_name = forms.CharField(
        label=_("Company or account name"),
        max_length=200,
        required=False,
        help_text=_("Optional. If you leave it empty, the account takes your name."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are different."))
        elif password1:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class AtiendePasswordResetForm(PasswordResetForm):
    """Django's reset form, but the mail goes through our outbox, and an unknown address gets
    a mail too ("there is no account here"), so both cases look and cost the same."""

    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def save(self, *args: Any, **kwargs: Any) -> None:
        services.user_password_reset_request(
            email=self.cleaned_data["email"], language=translation.get_language() or ""
        )


class AtiendeSetPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """The new password from a reset link; saving also confirms the user's address."""

    def save(self, commit: bool = True) -> Any:
        return services.user_password_reset_complete(
            user=self.user, password=self.cleaned_data["new_password1"]
        )


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=User.Language.choices)
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Dates and times are shown in this zone."),
        choices=[],
    )

    def __init__(self, *args: Any, current_timezone: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices(current_timezone)  # type: ignore[attr-defined]

    def clean_timezone(self) -> str:
        value = str(self.cleaned_data["timezone"])
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("Choose a time zone from the list.")) from None
        return value


class AddressAddForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address to authorize"),
        max_length=254,
        help_text=_(
            "Messages from a confirmed address can open and answer this account's tickets. "
            "We send it a link to confirm it."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])
