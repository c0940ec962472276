"""Authorization: for which account, and as which user, a sender may write.

Identity comes from the From address alone (the parser hands it over lower-cased); Reply-To,
Sender and the display name grant nothing. An address may write for an account when it is

- the e-mail of one of the account's active customer users (the holder's is the account's
  main address), or
- one of the account's authorized addresses, once CONFIRMED.

For a reply, the account is the one that OWNS the ticket: an address authorized on account A
that writes with the ID of a ticket of account B is not authorized for that ticket. For a new
matter, the address must lead to exactly one account (a user's own account wins; an address
authorized on several accounts, and nobody's login, is ambiguous and authorizes nothing).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from atiende.accounts.models import Account, AuthorizedAddress, User
from atiende.accounts.selectors import account_holder
from atiende.core.text import normalize_email
from atiende.tickets.models import Ticket


def _customers(account_id: int) -> QuerySet[User]:
    return User.objects.filter(account_id=account_id, is_active=True, is_staff=False)


def acting_user(account: Account, address: str) -> User | None:
    """The active customer of the account with that e-mail, else its holder, else (a holder
    deactivated) its earliest active customer."""
    own = _customers(account.pk).filter(email__iexact=address).first()
    if own is not None:
        return own
    holder = account_holder(account=account)
    if holder is not None and holder.is_active and not holder.is_staff:
        return holder
    return _customers(account.pk).order_by("date_joined", "id").first()


def _login_user(address: str) -> User | None:
    """The active customer who logs in with this address, on an active account."""
    return (
        User.objects.filter(
            email__iexact=address,
            is_active=True,
            is_staff=False,
            account__isnull=False,
            account__is_active=True,
        )
        .select_related("account")
        .first()
    )


def _confirmed_accounts(address: str) -> QuerySet[Account]:
    return Account.objects.filter(
        is_active=True,
        authorized_addresses__email__iexact=address,
        authorized_addresses__confirmed_at__isnull=False,
    ).distinct()


def sender_authorize(*, address: str, ticket: Ticket | None) -> tuple[Account, User] | None:
    """The account the sender writes for and the user to act as, or None (quarantine).

    With `ticket`, only the account that owns the ticket is considered.
    """
    address = normalize_email(address)
    if not address or "@" not in address:
        return None
    if ticket is not None:
        account = ticket.account
        if not account.is_active:
            return None
        login = _login_user(address)
        authorized = login is not None and login.account_id == account.pk
        if not authorized:
            authorized = _confirmed_accounts(address).filter(pk=account.pk).exists()
        if not authorized:
            return None
        user = acting_user(account, address)
        return (account, user) if user is not None else None
    login = _login_user(address)
    if login is not None and login.account is not None:
        return login.account, login
    accounts = list(_confirmed_accounts(address)[:2])
    if len(accounts) != 1:
        return None
    user = acting_user(accounts[0], address)
    return (accounts[0], user) if user is not None else None


def address_is_unknown(*, address: str) -> bool:
    """Whether the address is nobody's: no user (customer or staff) logs in with it and no
    account has confirmed it. Such a sender may be told how to write to us; a known one
    writing where he may not (another account's ticket) is not answered."""
    address = normalize_email(address)
    return not (
        User.objects.filter(email__iexact=address).exists()
        or AuthorizedAddress.objects.filter(
            email__iexact=address, confirmed_at__isnull=False
        ).exists()
    )


def sender_refusal_reason(*, address: str, ticket: Ticket | None) -> str:
    """Why `sender_authorize` said None, in words for the staff who read the quarantine."""
    address = normalize_email(address)
    if User.objects.filter(email__iexact=address, is_staff=True).exists():
        return _("%(address)s is a staff address: staff answer in the console, not by e-mail.") % {
            "address": address
        }
    if ticket is not None:
        return _(
            "%(address)s is not authorized on the account of ticket %(reference)s "
            "(not one of its users, nor a confirmed authorized address)."
        ) % {"address": address, "reference": ticket.reference}
    pending = AuthorizedAddress.objects.filter(email__iexact=address, confirmed_at__isnull=True)
    if pending.exists():
        return _("%(address)s is an authorized address not confirmed yet.") % {"address": address}
    if _confirmed_accounts(address).count() > 1:
        return _("%(address)s is authorized on several accounts and did not name a ticket.") % {
            "address": address
        }
    return _("%(address)s is not authorized on any account.") % {"address": address}
