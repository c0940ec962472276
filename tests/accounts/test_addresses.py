"""Authorized e-mail addresses: listed, added, confirmed by a link, resent and removed; only
ever those of the customer's own account."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atiende.accounts import services
from atiende.accounts.models import AuthorizedAddress
from tests.accounts.conftest import client_for, outbox
from tests.conftest import Cast

ADDRESSES = reverse("accounts:addresses")


def add(cast: Cast, email: str, *, account: str = "account") -> AuthorizedAddress:
    """An address added through the service, as the page would add it."""
    owner = cast.ana if account == "account" else cast.otro
    return services.authorized_address_add(
        account=getattr(cast, account), email=email, added_by=owner
    )


def confirm_url(address: AuthorizedAddress) -> str:
    return reverse("accounts:address_confirm", kwargs={"token": address.token})


@pytest.fixture
def main(cast: Cast) -> AuthorizedAddress:
    """Ana's own address, the account's main one, confirmed."""
    address = add(cast, "ana@example.com")
    services.authorized_address_confirm(token=address.token)
    address.refresh_from_db()
    return address


class TestTheList:
    def test_shows_the_accounts_addresses_with_their_status(
        self, cast: Cast, main: AuthorizedAddress, ana_client: Client
    ) -> None:
        confirmed = add(cast, "compras@example.com")
        services.authorized_address_confirm(token=confirmed.token)
        add(cast, "facturas@example.com")
        add(cast, "ajeno@example.net", account="other_account")

        response = ana_client.get(ADDRESSES)

        rows = {row.address.email: row for row in response.context["rows"]}
        assert set(rows) == {"ana@example.com", "compras@example.com", "facturas@example.com"}
        assert rows["ana@example.com"].is_main
        assert rows["compras@example.com"].is_confirmed
        assert not rows["facturas@example.com"].is_confirmed
        body = response.content.decode()
        assert "ajeno@example.net" not in body
        for status in ("Main", "Confirmed", "Waiting for confirmation"):
            assert status in body

    def test_every_customer_of_the_account_sees_the_same_list(
        self, cast: Cast, main: AuthorizedAddress
    ) -> None:
        response = client_for(cast.beto).get(ADDRESSES)

        assert [row.address.email for row in response.context["rows"]] == ["ana@example.com"]

    def test_costs_the_same_queries_with_many_addresses(
        self, cast: Cast, main: AuthorizedAddress, ana_client: Client
    ) -> None:
        ana_client.get(ADDRESSES)  # warm up the session and the cache
        with CaptureQueriesContext(connection) as few:
            ana_client.get(ADDRESSES)
        for number in range(10):
            add(cast, f"persona{number}@example.com")
        with CaptureQueriesContext(connection) as many:
            ana_client.get(ADDRESSES)

        assert len(many) == len(few)

    def test_a_staff_user_without_account_finds_nothing(self, cast: Cast) -> None:
        assert client_for(cast.agent).get(ADDRESSES).status_code == 404


class TestAdding:
    def test_adds_a_waiting_address_and_mails_it_the_link(
        self, cast: Cast, ana_client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = ana_client.post(ADDRESSES, {"email": " Soporte@Ejemplo.MX "})

        assert response.status_code == 302
        address = AuthorizedAddress.objects.get(account=cast.account)
        assert address.email == "soporte@ejemplo.mx"
        assert address.added_by == cast.ana
        assert address.confirmed_at is None
        [row] = outbox()
        assert (row.template, row.to) == ("account_address_confirm", "soporte@ejemplo.mx")
        assert confirm_url(address) in row.body_text
        assert mail.outbox[0].to == ["soporte@ejemplo.mx"]
        page = ana_client.get(ADDRESSES)
        assert "We sent a confirmation link to soporte@ejemplo.mx." in page.content.decode()

    @pytest.mark.parametrize("spelling", ["ana@example.com", "ANA@Example.com"])
    def test_refuses_an_address_already_on_the_list(
        self, cast: Cast, main: AuthorizedAddress, ana_client: Client, spelling: str
    ) -> None:
        response = ana_client.post(ADDRESSES, {"email": spelling})

        assert response.status_code == 200
        assert response.context["form"].errors["email"] == [
            "This address is already on your account's list."
        ]
        assert AuthorizedAddress.objects.filter(account=cast.account).count() == 1
        assert len(outbox()) == 1  # the main address's own, from the fixture

    def test_an_address_of_another_account_is_no_duplicate_here(
        self, cast: Cast, ana_client: Client
    ) -> None:
        add(cast, "compartido@example.com", account="other_account")

        response = ana_client.post(ADDRESSES, {"email": "compartido@example.com"})

        assert response.status_code == 302
        assert AuthorizedAddress.objects.filter(email="compartido@example.com").count() == 2

    def test_refuses_an_invalid_address_keeping_what_was_typed(
        self, cast: Cast, ana_client: Client
    ) -> None:
        response = ana_client.post(ADDRESSES, {"email": "<b>no es correo</b>"})

        assert response.status_code == 200
        assert response.context["form"].errors["email"]
        body = response.content.decode()
        assert 'id="id_email_error"' in body
        assert "&lt;b&gt;no es correo&lt;/b&gt;" in body
        assert "<b>no es correo</b>" not in body
        assert not AuthorizedAddress.objects.exists()


class TestConfirming:
    def test_the_link_confirms_without_logging_in(self, cast: Cast, client: Client) -> None:
        address = add(cast, "compras@example.com")

        response = client.get(confirm_url(address))

        assert response.status_code == 200
        assert "Address confirmed" in response.content.decode()
        address.refresh_from_db()
        assert address.is_confirmed

    def test_a_second_visit_changes_nothing(self, cast: Cast, client: Client) -> None:
        address = add(cast, "compras@example.com")
        client.get(confirm_url(address))
        address.refresh_from_db()
        first = address.confirmed_at

        response = client.get(confirm_url(address))

        assert response.status_code == 200
        assert "Address already confirmed" in response.content.decode()
        address.refresh_from_db()
        assert address.confirmed_at == first

    def test_another_accounts_link_confirms_only_its_own_address(
        self, cast: Cast, ana_client: Client
    ) -> None:
        ours = add(cast, "compras@example.com")
        theirs = add(cast, "compras@example.net", account="other_account")

        response = ana_client.get(confirm_url(theirs))

        assert response.status_code == 200
        theirs.refresh_from_db()
        ours.refresh_from_db()
        assert theirs.is_confirmed
        assert not ours.is_confirmed
        # Ana is not offered the other account's list.
        assert ADDRESSES not in response.content.decode().split("<main", 1)[1]

    def test_the_link_of_a_removed_address_is_dead_even_if_it_is_added_again(
        self, cast: Cast, client: Client
    ) -> None:
        address = add(cast, "compras@example.com")
        old_link = confirm_url(address)
        services.authorized_address_remove(account=cast.account, address_id=address.pk)
        again = add(cast, "compras@example.com")

        response = client.get(old_link)

        assert response.status_code == 404
        assert "This confirmation link is not valid." in response.content.decode()
        again.refresh_from_db()
        assert not again.is_confirmed

    def test_an_unknown_token_is_not_found(self, client: Client, db: None) -> None:
        url = reverse("accounts:address_confirm", kwargs={"token": uuid.uuid4()})

        assert client.get(url).status_code == 404


class TestResending:
    def test_mails_the_same_link_again(self, cast: Cast, ana_client: Client) -> None:
        address = add(cast, "compras@example.com")

        response = ana_client.post(reverse("accounts:address_resend", args=[address.pk]))

        assert response.status_code == 302
        _first, second = outbox()
        assert second.to == "compras@example.com"
        assert confirm_url(address) in second.body_text

    def test_a_confirmed_address_gets_nothing(
        self, cast: Cast, main: AuthorizedAddress, ana_client: Client
    ) -> None:
        before = len(outbox())

        response = ana_client.post(reverse("accounts:address_resend", args=[main.pk]), follow=True)

        assert "This address is already confirmed." in response.content.decode()
        assert len(outbox()) == before

    def test_another_accounts_address_is_not_found(self, cast: Cast, ana_client: Client) -> None:
        theirs = add(cast, "compras@example.net", account="other_account")
        before = len(outbox())

        response = ana_client.post(reverse("accounts:address_resend", args=[theirs.pk]))

        assert response.status_code == 404
        assert len(outbox()) == before

    def test_needs_a_post(self, cast: Cast, ana_client: Client) -> None:
        address = add(cast, "compras@example.com")

        assert (
            ana_client.get(reverse("accounts:address_resend", args=[address.pk])).status_code == 405
        )


class TestRemoving:
    def test_removes_an_address(self, cast: Cast, ana_client: Client) -> None:
        address = add(cast, "compras@example.com")

        response = ana_client.post(reverse("accounts:address_remove", args=[address.pk]))

        assert response.status_code == 302
        assert not AuthorizedAddress.objects.filter(pk=address.pk).exists()

    def test_the_main_address_stays(
        self, cast: Cast, main: AuthorizedAddress, ana_client: Client
    ) -> None:
        response = ana_client.post(reverse("accounts:address_remove", args=[main.pk]), follow=True)

        assert "cannot be removed" in response.content.decode()
        assert AuthorizedAddress.objects.filter(pk=main.pk).exists()

    def test_the_main_address_stays_whoever_asks(self, cast: Cast, main: AuthorizedAddress) -> None:
        client_for(cast.beto).post(reverse("accounts:address_remove", args=[main.pk]))

        assert AuthorizedAddress.objects.filter(pk=main.pk).exists()

    def test_the_main_address_has_no_remove_button(
        self, cast: Cast, main: AuthorizedAddress, ana_client: Client
    ) -> None:
        body = ana_client.get(ADDRESSES).content.decode()

        assert reverse("accounts:address_remove", args=[main.pk]) not in body

    def test_another_accounts_address_is_not_found_and_stays(
        self, cast: Cast, ana_client: Client
    ) -> None:
        theirs = add(cast, "compras@example.net", account="other_account")

        response = ana_client.post(reverse("accounts:address_remove", args=[theirs.pk]))

        assert response.status_code == 404
        assert AuthorizedAddress.objects.filter(pk=theirs.pk).exists()

    def test_needs_a_post(self, cast: Cast, ana_client: Client) -> None:
        address = add(cast, "compras@example.com")

        response = ana_client.get(reverse("accounts:address_remove", args=[address.pk]))

        assert response.status_code == 405
        assert AuthorizedAddress.objects.filter(pk=address.pk).exists()
