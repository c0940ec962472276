"""Every write to accounts, users and authorized addresses goes through these functions.

Each runs in one transaction and writes the mail it causes to the outbox in that same
transaction (`enqueue()`), so the change and its notification commit together or not at all.

Two rules shape the functions that answer anonymous visitors (registration, password reset):
they never reveal whether an address has an account, so both branches give the caller nothing
to tell them apart and do the same work (one password hash, one outbox row).
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atiende.accounts.models import Account, AuthorizedAddress, User
from atiende.accounts.selectors import access_authorized_address, account_main_email
from atiende.core.clock import now
from atiende.core.errors import DomainError, NotFound
from atiende.core.text import normalize_email, strip_control
from atiende.mail.outbound.outbox import enqueue

EMAIL_CONFIRMATION_MAX_AGE = timedelta(days=3)
_EMAIL_CONFIRMATION_SALT = "atiende.accounts.email-confirmation"
# An account's list of addresses is for its people, not a way to mail the world.
ADDRESSES_PER_ACCOUNT_MAX = 50

LANGUAGES = {code for code, _name in User.Language.choices}


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _one_line(text: str) -> str:
    return " ".join(strip_control(text or "").split())


def language_normalize(language: str | None) -> str:
    """One of the languages a user can choose ("es-mx" is "es"); Spanish when unknown."""
    code = (language or "").split("-")[0].lower()
    return code if code in LANGUAGES else User.Language.SPANISH.value


def timezone_validate(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DomainError(_("Choose a time zone from the list."), field="timezone") from None
    return name


# Registration and e-mail confirmation ------------------------------------------------------


def _email_digest(email: str) -> str:
    """Ties a link to the address it was sent to, without writing the address in the URL."""
    return salted_hmac(_EMAIL_CONFIRMATION_SALT, normalize_email(email)).hexdigest()[:24]


def email_confirmation_token_make(*, user: User) -> str:
    """A signed token naming the user and his address; `user_email_confirm` checks its age."""
    return signing.TimestampSigner(salt=_EMAIL_CONFIRMATION_SALT).sign_object(
        {"u": user.pk, "e": _email_digest(user.email)}
    )


def _password_reset_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return _absolute(
        reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    )


def _enqueue_account_exists(user: User) -> None:
    context: dict[str, Any] = {
        "user_name": user.display_name,
        "email": user.email,
        "login_url": _absolute(reverse("accounts:login")),
        # A deactivated user gets no reset link: logging in would still be refused.
        "reset_url": _password_reset_url(user) if user.is_active else "",
    }
    enqueue(template="account_exists", to=user.email, language=user.language, context=context)


def _enqueue_confirmation(user: User) -> None:
    token = email_confirmation_token_make(user=user)
    enqueue(
        template="account_confirm",
        to=user.email,
        language=user.language,
        context={
            "user_name": user.display_name,
            "confirm_url": _absolute(reverse("accounts:register_confirm", kwargs={"token": token})),
            "days": EMAIL_CONFIRMATION_MAX_AGE.days,
        },
    )


def account_register(
    *, full_name: str, email: str, password: str, account_name: str = "", language: str
) -> None:
    """Open an account whose holder is a new, unconfirmed user; or tell the address's owner.

    When no user has `email`: creates the Account, its holder User (who cannot log in until
    he confirms his address) and the account's main AuthorizedAddress, and mails him the
    confirmation link. When a user already has it: mails that address that an account exists,
    with a password-reset link. Both branches hash the password once and write one outbox row,
    and return nothing, so a caller cannot tell them apart. One transaction.
    """
    email = normalize_email(email)
    full_name = _one_line(full_name)
    account_name = _one_line(account_name) or full_name
    language = language_normalize(language)
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email).first()
        if existing is None:
            try:
                with transaction.atomic():
                    user = _register_new(
                        full_name=full_name,
                        email=email,
                        password=password,
                        account_name=account_name,
                        language=language,
                    )
            except IntegrityError:
                # Somebody registered the same address at the same moment.
                existing = User.objects.filter(email__iexact=email).first()
                if existing is None:
                    raise
            else:
                _enqueue_confirmation(user)
                return
        # The same cost as the other branch: the time to answer says nothing either.
        make_password(password)
        _enqueue_account_exists(existing)


def _register_new(
    *, full_name: str, email: str, password: str, account_name: str, language: str
) -> User:
    account = Account.objects.create(name=account_name)
    user = User.objects.create_user(
        email, password, account=account, full_name=full_name, language=language
    )
    AuthorizedAddress.objects.create(account=account, email=user.email, added_by=user)
    return user


@dataclass(frozen=True)
class EmailConfirmation:
    user: User
    newly_confirmed: bool


def _mark_email_confirmed(user: User) -> bool:
    """Confirm the user's address and his account's address for it; whether it was new."""
    moment = now()
    updated = User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=moment
    )
    if user.account_id is not None:
        AuthorizedAddress.objects.filter(
            account_id=user.account_id, email__iexact=user.email, confirmed_at__isnull=True
        ).update(confirmed_at=moment)
    user.refresh_from_db(fields=["email_confirmed_at"])
    return updated == 1


def user_email_confirm(*, token: str) -> EmailConfirmation:
    """Confirm the address a registration link names. Idempotent.

    Raises DomainError when the link is damaged, expired (after EMAIL_CONFIRMATION_MAX_AGE) or
    names an address the user no longer has. `newly_confirmed` is False on a second visit:
    only the first visit may log the visitor in.
    """
    try:
        data = signing.TimestampSigner(salt=_EMAIL_CONFIRMATION_SALT).unsign_object(
            token, max_age=EMAIL_CONFIRMATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise DomainError(_("This confirmation link has expired.")) from None
    except signing.BadSignature:
        raise DomainError(_("This confirmation link is not valid.")) from None
    user_id = data.get("u") if isinstance(data, dict) else None
    if not isinstance(user_id, int):
        raise DomainError(_("This confirmation link is not valid."))
    with transaction.atomic():
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or not constant_time_compare(_email_digest(user.email), data.get("e")):
            raise DomainError(_("This confirmation link is not valid."))
        newly = _mark_email_confirmed(user)
    return EmailConfirmation(user=user, newly_confirmed=newly)


# Passwords ---------------------------------------------------------------------------------


def user_password_reset_request(*, email: str, language: str) -> None:
    """Mail a single-use reset link to the active user with this address, or tell the address
    that no active account uses it. Either way one outbox row, and nothing returned.
    """
    email = normalize_email(email)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is not None:
            enqueue(
                template="account_password_reset",
                to=user.email,
                language=user.language,
                context={
                    "user_name": user.display_name,
                    "reset_url": _password_reset_url(user),
                    "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
                },
            )
        else:
            enqueue(
                template="account_no_account",
                to=email,
                language=language_normalize(language),
                context={
                    "email": email,
                    "register_url": _absolute(reverse("accounts:register")),
                },
            )


def user_invite(*, user: User) -> None:
    """Mail the user a link to choose his password: the invitation to an account the company
    opened for him (he has no usable password yet). The link is the password-reset link, so
    it works once and for PASSWORD_RESET_TIMEOUT; once expired, he asks for another on the
    password-reset page, which the mail names. One outbox row, in the caller's transaction
    when there is one; calling again sends a new link (earlier ones stay valid until used).
    """
    with transaction.atomic():
        enqueue(
            template="account_invitation",
            to=user.email,
            language=user.language,
            context={
                "user_name": user.display_name,
                "email": user.email,
                "reset_url": _password_reset_url(user),
                "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
                "forgot_url": _absolute(reverse("accounts:password_reset")),
            },
        )


def user_password_reset_complete(*, user: User, password: str) -> User:
    """Set the new password from a reset link. The link reached the user's mailbox, so it also
    confirms his address (a user who lost his confirmation mail gets in this way)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        _mark_email_confirmed(user)
    return user


# Profile -----------------------------------------------------------------------------------


def user_profile_update(*, user: User, full_name: str, language: str, timezone: str) -> User:
    if language not in LANGUAGES:
        raise DomainError(_("Choose a language from the list."), field="language")
    user.full_name = _one_line(full_name)[:150]
    user.language = language
    user.timezone = timezone_validate(timezone)
    with transaction.atomic():
        user.save(update_fields=["full_name", "language", "timezone"])
    return user


def user_language_update(*, user: User, language: str) -> User:
    if language not in LANGUAGES:
        raise DomainError(_("Choose a language from the list."), field="language")
    if user.language != language:
        user.language = language
        with transaction.atomic():
            user.save(update_fields=["language"])
    return user


# Authorized addresses ----------------------------------------------------------------------


def _enqueue_address_confirmation(address: AuthorizedAddress, *, by: User) -> None:
    confirm_url = _absolute(reverse("accounts:address_confirm", kwargs={"token": address.token}))
    enqueue(
        template="account_address_confirm",
        to=address.email,
        language=by.language,
        context={
            "email": address.email,
            "account_name": address.account.name,
            "added_by": by.display_name,
            "confirm_url": confirm_url,
        },
    )


def authorized_address_add(
    *, account: Account, email: str, added_by: User, confirmed: bool = False
) -> AuthorizedAddress:
    """Add an address to the account, waiting for confirmation, and mail it the link.

    With `confirmed`, the company vouches for the address (staff or its billing system add
    it): it is stored confirmed and no mail is sent.
    Raises DomainError (field "email") for an invalid address, one already on the list
    (compared case-insensitively, confirmed or not) or a full list.
    """
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(_("Enter a valid e-mail address."), field="email") from None
    duplicate = DomainError(_("This address is already on your account's list."), field="email")
    with transaction.atomic():
        addresses = AuthorizedAddress.objects.filter(account=account)
        if addresses.filter(email__iexact=email).exists():
            raise duplicate
        if addresses.count() >= ADDRESSES_PER_ACCOUNT_MAX:
            raise DomainError(
                ngettext(
                    "An account can have at most %(max)d address. Remove one first.",
                    "An account can have at most %(max)d addresses. Remove one first.",
                    ADDRESSES_PER_ACCOUNT_MAX,
                )
                % {"max": ADDRESSES_PER_ACCOUNT_MAX},
                field="email",
            )
        try:
            with transaction.atomic():
                address = AuthorizedAddress.objects.create(
                    account=account,
                    email=email,
                    added_by=added_by,
                    confirmed_at=now() if confirmed else None,
                )
        except IntegrityError:
            raise duplicate from None
        if not confirmed:
            _enqueue_address_confirmation(address, by=added_by)
    return address


@dataclass(frozen=True)
class AddressConfirmation:
    address: AuthorizedAddress
    newly_confirmed: bool


def authorized_address_confirm(*, token: uuid.UUID) -> AddressConfirmation:
    """Confirm the one address this token belongs to, whoever follows the link: the link is
    the proof of control of the mailbox. Idempotent; a removed address's token is NotFound."""
    with transaction.atomic():
        address = AuthorizedAddress.objects.select_related("account").filter(token=token).first()
        if address is None:
            raise NotFound(_("This confirmation link is not valid."))
        updated = AuthorizedAddress.objects.filter(pk=address.pk, confirmed_at__isnull=True).update(
            confirmed_at=now()
        )
        address.refresh_from_db(fields=["confirmed_at"])
    return AddressConfirmation(address=address, newly_confirmed=updated == 1)


def authorized_address_resend(*, account: Account, address_id: int, by: User) -> AuthorizedAddress:
    """Mail the confirmation link again (the same link) to an address waiting for it."""
    with transaction.atomic():
        address = access_authorized_address(account=account, address_id=address_id)
        if address.is_confirmed:
            raise DomainError(_("This address is already confirmed."))
        _enqueue_address_confirmation(address, by=by)
    return address


def authorized_address_remove(*, account: Account, address_id: int) -> None:
    """Remove one of the account's addresses; the main one (the holder's) stays."""
    with transaction.atomic():
        address = access_authorized_address(account=account, address_id=address_id)
        if normalize_email(address.email) == normalize_email(account_main_email(account=account)):
            raise DomainError(
                _("The main address is the account holder's login and cannot be removed.")
            )
        address.delete()
