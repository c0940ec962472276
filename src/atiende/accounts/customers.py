"""Customers as the company's other systems see them: accounts, their holders and services.

The API calls these (and a billing system behind it, again and again): an account is created
with its holder, found by e-mail, by the company's external ID or by its public ID, and its
services are kept in step with billing by their external IDs.

Contracts shared by every function here:

- Input is cleaned (trimmed, control characters dropped from names) and checked against the
  model's own rules before anything is written; bad input raises DomainError naming the
  field, and nothing changes (not even the objects passed in).
- Each write runs in one transaction. A duplicate that a concurrent request commits between
  our check and our INSERT is caught on the database's unique constraint, inside a savepoint,
  and ends as the same DomainError as a duplicate seen beforehand (or, for a service, as an
  update): never as an IntegrityError.
- Services are never deleted here. A billing system that ends one calls `service_upsert`
  with status "cancelled": the service stays on the tickets that name it and in the
  account's history, and comes back with the same call and status "active".
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator, validate_email
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from atiende.accounts.models import Account, AuthorizedAddress, Service, User
from atiende.accounts.selectors import account_holder
from atiende.accounts.services import language_normalize, timezone_validate, user_invite
from atiende.core.clock import now
from atiende.core.errors import DomainError, NotFound
from atiende.core.text import normalize_email, strip_control

# Django's own message ("This field cannot be blank."), translated by Django's catalogue.
_BLANK = models.Field.default_error_messages["blank"]


# Cleaning ---------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    # Whitespace (tabs, newlines) becomes one space before control characters are dropped.
    return " ".join(strip_control(" ".join(text.split())).split())


def _field_clean(model: type[models.Model], name: str, value: str) -> str:
    """`value` checked against the model field's own rules (blank, choices, max_length),
    with Django's translated messages."""
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    try:
        # The database would refuse a NUL with an error of its own (PostgreSQL does).
        ProhibitNullCharactersValidator()(value)
        cleaned = model_field.clean(value, None)
    except ValidationError as error:
        raise DomainError(error.messages[0], field=name) from None
    return str(cleaned)


def _email_clean(email: str) -> str:
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(_("Enter a valid e-mail address."), field="email") from None
    return _field_clean(User, "email", email)


def _external_id_clean(model: type[models.Model], external_id: str) -> str:
    return _field_clean(model, "external_id", external_id.strip())


def _email_taken_check(email: str, *, exclude: User | None = None) -> None:
    users = User.objects.filter(email__iexact=email)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    if users.exists():
        raise DomainError(_("A user with this e-mail address already exists."), field="email")


def _external_id_taken_check(external_id: str, *, exclude: Account | None = None) -> None:
    if not external_id:
        return
    accounts = Account.objects.filter(external_id=external_id)
    if exclude is not None:
        accounts = accounts.exclude(pk=exclude.pk)
    if accounts.exists():
        raise DomainError(
            _("A customer account with this external ID already exists."), field="external_id"
        )


# Customers --------------------------------------------------------------------------------


def customer_create(
    *,
    name: str,
    email: str,
    full_name: str = "",
    language: str = "es",
    timezone: str | None = None,
    external_id: str = "",
    invite: bool = False,
    created_by: User,
) -> Account:
    """Open a customer account and its holder, the user who logs in with `email`.

    The company vouches for the address: the holder's e-mail counts as confirmed and is the
    account's main authorized address, confirmed too. He has no usable password; with
    `invite` he is mailed a link to choose one (one outbox row, `account_invitation`),
    otherwise he gets in through "forgot your password". `language` is normalized ("es-MX"
    is "es"; unknown is Spanish); `timezone` defaults to the model's. `created_by` (the staff
    user acting) is recorded as who added the main address.

    Raises DomainError for a blank or too long `name`, an invalid `email` or one any user
    (customer or staff) already has, compared case-insensitively, an `external_id` another
    account has, or an unknown `timezone`. One transaction, race-safe: of two concurrent
    creates with the same e-mail or external ID, one gets the DomainError.
    """
    name = _field_clean(Account, "name", _one_line(name))
    email = _email_clean(email)
    full_name = _field_clean(User, "full_name", _one_line(full_name))
    language = language_normalize(language)
    extra: dict[str, Any] = {}
    if timezone is not None:
        extra["timezone"] = timezone_validate(timezone)
    external_id = _external_id_clean(Account, external_id)
    with transaction.atomic():
        _email_taken_check(email)
        _external_id_taken_check(external_id)
        confirmed_at = now()
        try:
            with transaction.atomic():
                account = Account.objects.create(name=name, external_id=external_id)
                holder = User.objects.create_user(
                    email,
                    None,
                    account=account,
                    full_name=full_name,
                    language=language,
                    email_confirmed_at=confirmed_at,
                    **extra,
                )
                AuthorizedAddress.objects.create(
                    account=account, email=email, confirmed_at=confirmed_at, added_by=created_by
                )
        except IntegrityError:
            # Another request committed the same address or ID after our checks.
            _email_taken_check(email)
            _external_id_taken_check(external_id)
            raise
        if invite:
            user_invite(user=holder)
    return account


def customer_update(
    *,
    account: Account,
    name: str | None = None,
    external_id: str | None = None,
    is_active: bool | None = None,
    email: str | None = None,
    full_name: str | None = None,
    language: str | None = None,
) -> Account:
    """Change what is given (None leaves a field as it is) and return the account.

    `name`, `external_id` ("" removes it) and `is_active` are the account's; `email`,
    `full_name` and `language` its holder's (see `account_holder`). A new holder e-mail counts
    as confirmed (the company vouches for it) and the account's main authorized address
    follows it: the row of the old address becomes the new one, confirmed; an address of the
    list equal to the new one is merged into it. Deactivating keeps the users as they are
    (incoming mail already refuses an inactive account).

    The same checks as `customer_create`, plus DomainError (field "email") when the holder
    is to change and the account has no user. Fields that already hold the value are not
    written; one transaction, race-safe like `customer_create`.
    """
    account_input: dict[str, Any] = {}
    if name is not None:
        account_input["name"] = _field_clean(Account, "name", _one_line(name))
    if external_id is not None:
        account_input["external_id"] = _external_id_clean(Account, external_id)
    if is_active is not None:
        account_input["is_active"] = bool(is_active)
    holder_input: dict[str, Any] = {}
    if email is not None:
        holder_input["email"] = _email_clean(email)
    if full_name is not None:
        holder_input["full_name"] = _field_clean(User, "full_name", _one_line(full_name))
    if language is not None:
        holder_input["language"] = language_normalize(language)

    with transaction.atomic():
        # Compared with the row as it is now, not with the caller's copy, which may be old.
        current = Account.objects.select_for_update().get(pk=account.pk)
        account_changes = _changes(current, account_input)
        holder = None
        holder_changes: dict[str, Any] = {}
        if holder_input:
            holder = account_holder(account=current)
            if holder is None:
                raise DomainError(_("This customer account has no users."), field="email")
            holder_changes = _changes(holder, holder_input)
        if "email" in holder_changes:
            _email_taken_check(holder_changes["email"], exclude=holder)
            holder_changes["email_confirmed_at"] = now()
        if "external_id" in account_changes:
            _external_id_taken_check(account_changes["external_id"], exclude=current)
        try:
            with transaction.atomic():
                if account_changes:
                    Account.objects.filter(pk=current.pk).update(**account_changes)
                if holder is not None and holder_changes:
                    User.objects.filter(pk=holder.pk).update(**holder_changes)
                    if "email" in holder_changes:
                        _main_address_move(
                            account=current,
                            old=holder.email,
                            new=holder_changes["email"],
                            confirmed_at=holder_changes["email_confirmed_at"],
                        )
        except IntegrityError:
            # Another request committed the same address or ID after our checks.
            if "email" in holder_changes:
                _email_taken_check(holder_changes["email"], exclude=holder)
            if "external_id" in account_changes:
                _external_id_taken_check(account_changes["external_id"], exclude=current)
            raise
    # Written: only now do the caller's objects show it.
    for field in ("name", "external_id", "is_active"):
        setattr(account, field, account_changes.get(field, getattr(current, field)))
    return account


def _changes(instance: models.Model, values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if getattr(instance, key) != value}


def _main_address_move(*, account: Account, old: str, new: str, confirmed_at: datetime) -> None:
    """The row of the holder's old address becomes the new one (merging a row that already
    had it); an account whose list lacked the old one gets the new one added."""
    addresses = AuthorizedAddress.objects.filter(account=account)
    addresses.filter(email__iexact=new).delete()
    moved = addresses.filter(email__iexact=old).update(email=new, confirmed_at=confirmed_at)
    if not moved:
        AuthorizedAddress.objects.create(account=account, email=new, confirmed_at=confirmed_at)


def customer_find(*, email: str) -> list[Account]:
    """The accounts an e-mail address leads to, each once, by name: the account of the
    customer who logs in with it, and those that CONFIRMED it as an authorized address
    (an address waiting for confirmation leads nowhere). Compared case-insensitively;
    an empty or malformed address finds nothing.

    Three queries, each answered by an index: users' addresses are stored normalized
    (`User.save`), so the unique index on `email` answers; authorized addresses are read
    through the `Lower(email)` index.
    """
    address = normalize_email(email)
    if "@" not in address or "\x00" in address:
        return []
    by_login = User.objects.filter(email=address, is_staff=False, account__isnull=False)
    by_address = AuthorizedAddress.objects.alias(email_lower=Lower("email")).filter(
        email_lower=address, confirmed_at__isnull=False
    )
    account_ids = set(by_login.values_list("account_id", flat=True))
    account_ids.update(by_address.values_list("account_id", flat=True))
    if not account_ids:
        return []
    return list(Account.objects.filter(pk__in=account_ids).order_by("name", "id"))


def customer_by_external_id(*, external_id: str) -> Account | None:
    """The account the company's systems know by `external_id` (trimmed); None when no
    account has it, or for an empty ID (which names no account)."""
    external_id = external_id.strip()
    if not external_id or "\x00" in external_id:
        return None
    return Account.objects.filter(external_id=external_id).first()


def access_customer(*, public_id: str | uuid.UUID) -> Account:
    """The account with this public ID, active or not, or NotFound (also for a malformed
    ID: the caller cannot tell it from an unknown one)."""
    try:
        parsed = public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("Customer not found.")) from None
    account = Account.objects.filter(public_id=parsed).first()
    if account is None:
        raise NotFound(_("Customer not found."))
    return account


# Services ---------------------------------------------------------------------------------


def service_upsert(
    *,
    account: Account,
    external_id: str,
    kind: str,
    name: str,
    plan: str = "",
    status: str = Service.Status.ACTIVE,
) -> tuple[Service, bool]:
    """Create the account's service with this external ID, or bring it to the given values;
    return it and whether it was created. The sync a billing system repeats at will.

    An external ID is the account's: the same ID on another account is another service.
    `kind` and `status` are values of `Service.Kind` / `Service.Status`; `name` is required.
    Raises DomainError (naming the field) for bad input, and nothing changes.

    Idempotent: the same call again returns created=False and writes nothing (fields that
    already hold their value are not written). One transaction; the existing row is locked
    (SELECT ... FOR UPDATE) while it is compared and updated. Race-safe: of two concurrent
    calls for a new ID, one creates it and the other, stopped by the unique constraint,
    updates that row: one row, never an IntegrityError.
    """
    external_id = external_id.strip()
    if not external_id:
        raise DomainError(_BLANK, field="external_id")
    values = {
        "external_id": _external_id_clean(Service, external_id),
        "kind": _field_clean(Service, "kind", kind.strip()),
        "name": _field_clean(Service, "name", _one_line(name)),
        "plan": _field_clean(Service, "plan", _one_line(plan)),
        "status": _field_clean(Service, "status", status.strip()),
    }
    with transaction.atomic():
        service = _service_for_update(account=account, external_id=values["external_id"])
        if service is None:
            try:
                with transaction.atomic():
                    return Service.objects.create(account=account, **values), True
            except IntegrityError:
                # A concurrent call created it after our look: update that row instead.
                service = _service_for_update(account=account, external_id=values["external_id"])
                if service is None:
                    raise
        changed = [key for key, value in values.items() if getattr(service, key) != value]
        if changed:
            for key in changed:
                setattr(service, key, values[key])
            service.save(update_fields=changed)
    return service, False


def _service_for_update(*, account: Account, external_id: str) -> Service | None:
    """The account's service with this external ID, locked until the transaction ends."""
    return (
        Service.objects.select_for_update().filter(account=account, external_id=external_id).first()
    )
