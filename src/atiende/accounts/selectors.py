"""Reads of accounts, their addresses and services, and the access checks the pages use.

Every customer query is scoped to the customer's own account *in the query itself*: an object
of another account is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from atiende.accounts.models import Account, AuthorizedAddress, Service, User
from atiende.core.errors import NotFound
from atiende.core.text import normalize_email


def access_account_for_user(*, user: User) -> Account:
    """The customer account the user belongs to, or NotFound (staff without one, anonymous)."""
    if not user.is_authenticated or user.account_id is None:
        raise NotFound(_("This user does not belong to a customer account."))
    account = Account.objects.filter(pk=user.account_id).first()
    if account is None:
        raise NotFound(_("This user does not belong to a customer account."))
    return account


def account_holder(*, account: Account) -> User | None:
    """The account's holder: the user who opened it, i.e. its first user.

    The holder's e-mail is the account's main address, which cannot be removed.
    """
    return account.users.order_by("date_joined", "id").first()


def account_main_email(*, account: Account) -> str:
    holder = account_holder(account=account)
    return holder.email if holder is not None else ""


@dataclass(frozen=True)
class AddressRow:
    """An authorized address as the addresses page shows it."""

    address: AuthorizedAddress
    is_main: bool

    @property
    def is_confirmed(self) -> bool:
        return self.address.is_confirmed


def authorized_address_list(*, account: Account) -> list[AddressRow]:
    """The account's addresses, the main one first; two queries whatever their number."""
    main = normalize_email(account_main_email(account=account))
    rows = [
        AddressRow(address=address, is_main=bool(main) and normalize_email(address.email) == main)
        for address in AuthorizedAddress.objects.filter(account=account).order_by("email", "id")
    ]
    rows.sort(key=lambda row: not row.is_main)
    return rows


def access_authorized_address(*, account: Account, address_id: int) -> AuthorizedAddress:
    """One address of this account, or NotFound (also for another account's address)."""
    address = AuthorizedAddress.objects.filter(account=account, pk=address_id).first()
    if address is None:
        raise NotFound(_("Address not found."))
    return address


def service_list(*, account: Account) -> QuerySet[Service]:
    return Service.objects.filter(account=account).order_by("kind", "name", "id")


def user_for_email(*, email: str) -> User | None:
    """The user who logs in with this address (addresses are compared case-insensitively)."""
    return User.objects.filter(email__iexact=normalize_email(email)).first()


def account_find(*, query: str, limit: int = 6) -> list[Account]:
    """The accounts staff may mean by `query` (at most `limit`, by name): one is a match,
    several mean the query is ambiguous.

    An e-mail address means the account of the customer who logs in with it, else the
    accounts that confirmed it as an authorized address. Anything else is a name: the
    accounts with exactly that name (in any case), else those whose name contains it.
    """
    query = " ".join(query.split())
    if not query:
        return []
    accounts = Account.objects.order_by("name", "id")
    if "@" in query:
        address = normalize_email(query)
        login = (
            User.objects.filter(email__iexact=address, is_staff=False, account__isnull=False)
            .select_related("account")
            .first()
        )
        if login is not None and login.account is not None:
            return [login.account]
        return list(
            accounts.filter(
                authorized_addresses__email__iexact=address,
                authorized_addresses__confirmed_at__isnull=False,
            ).distinct()[:limit]
        )
    exact = list(accounts.filter(name__iexact=query)[:limit])
    return exact or list(accounts.filter(name__icontains=query)[:limit])
