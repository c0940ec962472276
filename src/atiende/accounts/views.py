"""The customer's account pages: thin views that parse a form, call one service and answer."""

from __future__ import annotations

import math
import uuid
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from atiende.accounts import selectors, services
from atiende.accounts.forms import (
    AddressAddForm,
    AtiendePasswordResetForm,
    AtiendeSetPasswordForm,
    EmailLoginForm,
    ProfileForm,
    RegistrationForm,
)
from atiende.accounts.language import language_cookie_set, language_remember
from atiende.accounts.models import Account, User
from atiende.core.errors import DomainError, NotFound

# Logging in from a link (e-mail confirmation) names the backend: axes' one only counts.
_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class UserRequest(HttpRequest):
    """A request that passed `login_required`: its user is one of ours."""

    user: User


def _form_error(form: Form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


def _customer_account(request: UserRequest) -> Account:
    try:
        return selectors.access_account_for_user(user=request.user)
    except NotFound as error:
        raise Http404(str(error.message)) from error


# Logging in and out --------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = EmailLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the login page again, status 429.

    The same words whether the address has an account or not, and whether the account or the
    IP address is the one locked.
    """
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0
    if minutes:
        message = ngettext(
            "Too many failed attempts. Wait %(minutes)d minute and try again.",
            "Too many failed attempts. Wait %(minutes)d minutes and try again.",
            minutes,
        ) % {"minutes": minutes}
    else:
        message = _("Too many failed attempts. Write to support to unlock your access.")
    typed = request.POST.get("username", "")[:254]
    context = {
        "form": EmailLoginForm(request, initial={"username": typed}),
        "locked_out_message": message,
        "next": request.POST.get("next", ""),
    }
    # The staff's login page has the same form; an attempt made there is answered there.
    match = request.resolver_match
    staff = match is not None and match.view_name == "console:login"
    template = "console/login.html" if staff else "accounts/login.html"
    return render(request, template, context, status=429)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's own rule since 5.0): a link or an image cannot log anybody out."""

    http_method_names = ["post", "options"]


# Registration ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Whether the address already had an account is known only to its mailbox.
        services.account_register(
            full_name=data["full_name"],
            email=data["email"],
            password=data["password1"],
            account_name=data["account_name"],
            language=translation.get_language() or "",
        )
        return redirect("accounts:register_sent")
    return render(request, "accounts/register.html", {"form": form})


@require_GET
def register_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/register_sent.html",
        {"days": services.EMAIL_CONFIRMATION_MAX_AGE.days},
    )


@require_GET
def register_confirm(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        confirmation = services.user_email_confirm(token=token)
    except DomainError as error:
        return render(
            request, "accounts/register_confirm.html", {"error": error.message}, status=400
        )
    if confirmation.newly_confirmed:
        # Only the first visit logs in: a link seen again later is no key to the account.
        login(request, confirmation.user, backend=_MODEL_BACKEND)
        messages.success(request, _("Your e-mail address is confirmed. Welcome to Atiende!"))
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/register_confirm.html", {"already": True})


# Passwords ---------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = AtiendePasswordResetForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = AtiendeSetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_user(self, uidb64: str) -> Any:
        user: AbstractBaseUser | None = super().get_user(uidb64)
        # A deactivated user keeps his tokens, but they open nothing.
        return user if user is not None and user.is_active else None


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response


# Profile and language ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: UserRequest) -> HttpResponse:
    user = request.user
    initial = {"full_name": user.full_name, "language": user.language, "timezone": user.timezone}
    form = ProfileForm(request.POST or None, initial=initial, current_timezone=user.timezone)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_profile_update(
                user=user,
                full_name=form.cleaned_data["full_name"],
                language=form.cleaned_data["language"],
                timezone=form.cleaned_data["timezone"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            language_remember(request, user.language)
            # Said in the language just chosen: it is the one the next page speaks.
            with translation.override(user.language):
                messages.success(request, _("Your profile has been saved."))
            response = redirect("accounts:profile")
            language_cookie_set(response, user.language)
            return response
    return render(request, "accounts/profile.html", {"form": form, "nav": "profile"})


@require_POST
def language_set(request: HttpRequest) -> HttpResponseBase:
    """Django's set_language, and for a logged-in user his saved choice too."""
    response = set_language(request)
    cookie = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    user = request.user
    if cookie is not None and isinstance(user, User) and user.is_authenticated:
        try:
            services.user_language_update(user=user, language=cookie.value)
        except DomainError:
            return response  # a language Django knows but users cannot choose: cookie only
        language_remember(request, user.language)
    return response


# Authorized addresses ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def addresses(request: UserRequest) -> HttpResponse:
    account = _customer_account(request)
    form = AddressAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            address = services.authorized_address_add(
                account=account, email=form.cleaned_data["email"], added_by=request.user
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "We sent a confirmation link to %(email)s. The address works once it is "
                    "confirmed."
                )
                % {"email": address.email},
            )
            return redirect("accounts:addresses")
    rows = selectors.authorized_address_list(account=account)
    return render(
        request,
        "accounts/addresses.html",
        {"form": form, "rows": rows, "account": account, "nav": "addresses"},
    )


@login_required
@require_POST
def address_resend(request: UserRequest, address_id: int) -> HttpResponse:
    account = _customer_account(request)
    try:
        address = services.authorized_address_resend(
            account=account, address_id=address_id, by=request.user
        )
    except NotFound as error:
        raise Http404(str(error.message)) from error
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        message = _("We sent the confirmation link again to %(email)s.")
        messages.success(request, message % {"email": address.email})
    return redirect("accounts:addresses")


@login_required
@require_POST
def address_remove(request: UserRequest, address_id: int) -> HttpResponse:
    account = _customer_account(request)
    try:
        services.authorized_address_remove(account=account, address_id=address_id)
    except NotFound as error:
        raise Http404(str(error.message)) from error
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The address has been removed."))
    return redirect("accounts:addresses")


@require_GET
def address_confirm(request: HttpRequest, token: uuid.UUID) -> HttpResponse:
    """No login needed: following the link is the proof of control of the mailbox."""
    try:
        confirmation = services.authorized_address_confirm(token=token)
    except NotFound as error:
        return render(
            request, "accounts/address_confirm.html", {"error": error.message}, status=404
        )
    return render(
        request,
        "accounts/address_confirm.html",
        {"address": confirmation.address, "newly_confirmed": confirmation.newly_confirmed},
    )


# Services ----------------------------------------------------------------------------------


@login_required
@require_GET
def services_list(request: UserRequest) -> HttpResponse:
    account = _customer_account(request)
    return render(
        request,
        "accounts/services.html",
        {"services": selectors.service_list(account=account), "nav": "services"},
    )
