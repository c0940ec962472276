"""Authorization: an address writes for an account when it is one of the account's users or a
CONFIRMED authorized address; for a reply, only for the account that owns the ticket."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from atiende.accounts import services as account_services
from atiende.accounts.models import Account, AuthorizedAddress, User
from atiende.mail.inbound.authorize import sender_authorize
from atiende.tickets.models import Ticket
from tests.conftest import Cast

OpenTicket = Callable[..., Ticket]


def authorize(
    address: str, *, account: Account, added_by: User, confirm: bool = True
) -> AuthorizedAddress:
    row = account_services.authorized_address_add(account=account, email=address, added_by=added_by)
    if confirm:
        account_services.authorized_address_confirm(token=row.token)
    return row


class TestNewMatter:
    def test_the_holder_acts_as_herself(self, cast: Cast) -> None:
        assert sender_authorize(address="ana@example.com", ticket=None) == (cast.account, cast.ana)

    def test_another_user_of_the_account_acts_as_himself(self, cast: Cast) -> None:
        assert sender_authorize(address="beto@example.com", ticket=None) == (
            cast.account,
            cast.beto,
        )

    def test_addresses_compare_case_insensitively(self, cast: Cast) -> None:
        assert sender_authorize(address="ANA@Example.COM", ticket=None) == (cast.account, cast.ana)

    def test_a_confirmed_address_acts_as_the_holder(self, cast: Cast) -> None:
        authorize("Facturas@Ejemplo.mx", account=cast.account, added_by=cast.ana)
        assert sender_authorize(address="facturas@ejemplo.mx", ticket=None) == (
            cast.account,
            cast.ana,
        )

    def test_an_unconfirmed_address_authorizes_nothing(self, cast: Cast) -> None:
        authorize("facturas@ejemplo.mx", account=cast.account, added_by=cast.ana, confirm=False)
        assert sender_authorize(address="facturas@ejemplo.mx", ticket=None) is None

    def test_a_removed_address_authorizes_nothing(self, cast: Cast) -> None:
        row = authorize("facturas@ejemplo.mx", account=cast.account, added_by=cast.ana)
        account_services.authorized_address_remove(account=cast.account, address_id=row.pk)
        assert sender_authorize(address="facturas@ejemplo.mx", ticket=None) is None

    def test_an_unknown_address_authorizes_nothing(self, cast: Cast) -> None:
        assert sender_authorize(address="nadie@example.org", ticket=None) is None

    def test_staff_and_deactivated_users_authorize_nothing(self, cast: Cast) -> None:
        cast.beto.is_active = False
        cast.beto.save()
        assert sender_authorize(address=cast.agent.email, ticket=None) is None
        assert sender_authorize(address="beto@example.com", ticket=None) is None

    def test_a_deactivated_account_authorizes_nothing(self, cast: Cast) -> None:
        cast.account.is_active = False
        cast.account.save()
        assert sender_authorize(address="ana@example.com", ticket=None) is None

    def test_an_address_authorized_on_two_accounts_must_name_a_ticket(self, cast: Cast) -> None:
        authorize("compartido@example.org", account=cast.account, added_by=cast.ana)
        authorize("compartido@example.org", account=cast.other_account, added_by=cast.otro)
        assert sender_authorize(address="compartido@example.org", ticket=None) is None

    def test_a_deactivated_holder_leaves_the_next_customer_to_act(self, cast: Cast) -> None:
        authorize("facturas@ejemplo.mx", account=cast.account, added_by=cast.ana)
        cast.ana.is_active = False
        cast.ana.save()
        assert sender_authorize(address="facturas@ejemplo.mx", ticket=None) == (
            cast.account,
            cast.beto,
        )


class TestReply:
    @pytest.fixture
    def tickets(self, cast: Cast, open_ticket: OpenTicket) -> tuple[Ticket, Ticket]:
        return open_ticket(), open_ticket(customer=cast.otro)

    def test_a_user_of_the_owning_account(self, cast: Cast, tickets: tuple[Ticket, Ticket]) -> None:
        anas, _otros = tickets
        assert sender_authorize(address="beto@example.com", ticket=anas) == (
            cast.account,
            cast.beto,
        )

    def test_a_user_of_another_account_is_not_authorized_for_the_ticket(
        self, cast: Cast, tickets: tuple[Ticket, Ticket]
    ) -> None:
        _anas, otros = tickets
        assert sender_authorize(address="ana@example.com", ticket=otros) is None

    def test_an_address_authorized_on_a_is_not_authorized_on_b_s_ticket(
        self, cast: Cast, tickets: tuple[Ticket, Ticket]
    ) -> None:
        anas, otros = tickets
        authorize("facturas@ejemplo.mx", account=cast.account, added_by=cast.ana)
        assert sender_authorize(address="facturas@ejemplo.mx", ticket=anas) == (
            cast.account,
            cast.ana,
        )
        assert sender_authorize(address="facturas@ejemplo.mx", ticket=otros) is None

    def test_the_ticket_decides_for_an_address_authorized_on_both(
        self, cast: Cast, tickets: tuple[Ticket, Ticket]
    ) -> None:
        anas, otros = tickets
        authorize("compartido@example.org", account=cast.account, added_by=cast.ana)
        authorize("compartido@example.org", account=cast.other_account, added_by=cast.otro)
        assert sender_authorize(address="compartido@example.org", ticket=otros) == (
            cast.other_account,
            cast.otro,
        )
        assert sender_authorize(address="compartido@example.org", ticket=anas) == (
            cast.account,
            cast.ana,
        )

    def test_a_user_login_elsewhere_and_authorized_here_acts_as_the_holder_here(
        self, cast: Cast, tickets: tuple[Ticket, Ticket]
    ) -> None:
        _anas, otros = tickets
        authorize("ana@example.com", account=cast.other_account, added_by=cast.otro)
        assert sender_authorize(address="ana@example.com", ticket=otros) == (
            cast.other_account,
            cast.otro,
        )
