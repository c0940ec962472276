"""/customers/{id}/addresses: the addresses from which a customer may write tickets by
e-mail. The holder's login is the main one, always there; the company adds others, vouching
for them (no mail) or not (a confirmation link is mailed to the address), and removes them.

An address is named by the customer it belongs to: another customer's address, through this
customer's URL, is not found. Any staff token reads; only an administrator's admin token
changes the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from atiende.accounts import customers
from atiende.accounts.models import Account, AuthorizedAddress
from atiende.accounts.services import authorized_address_add
from atiende.mail.models import OutboxMessage
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]


def addresses_url(account: Account | str) -> str:
    public_id = account if isinstance(account, str) else account.public_id
    return f"/api/v1/customers/{public_id}/addresses"


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """The addresses and the mail they cause, to show what a call wrote (or did not)."""
    return {
        "addresses": list(
            AuthorizedAddress.objects.order_by("id").values_list(
                "id", "account_id", "email", "confirmed_at"
            )
        ),
        "outbox": list(OutboxMessage.objects.order_by("id").values_list("template", "to")),
    }


@pytest.fixture
def admin_api(cast: Cast, api_as: ApiAs) -> ApiClient:
    return api_as(cast.admin, "admin")


@pytest.fixture
def tienda(cast: Cast) -> Account:
    """A customer created as the API creates them: its holder's login is its main address."""
    return customers.customer_create(
        name="Tienda Nueva S.A.", email="dueno@tienda.mx", created_by=cast.admin
    )


@pytest.fixture
def otra_tienda(cast: Cast) -> Account:
    """Another customer, with an extra address of its own."""
    account = customers.customer_create(
        name="Otra Tienda", email="duena@otra-tienda.mx", created_by=cast.admin
    )
    authorized_address_add(
        account=account, email="ventas@otra-tienda.mx", added_by=cast.admin, confirmed=True
    )
    return account


class TestTheList:
    def test_the_main_address_comes_first_then_the_others_confirmed_or_not(
        self, cast: Cast, api_as: ApiAs, tienda: Account, otra_tienda: Account
    ) -> None:
        authorized_address_add(
            account=tienda, email="admin@tienda.mx", added_by=cast.admin, confirmed=True
        )
        authorized_address_add(account=tienda, email="caja@tienda.mx", added_by=cast.admin)

        response = api_as(cast.agent, "read").get(addresses_url(tienda))

        assert response.status_code == 200
        assert [(a["email"], a["main"], a["confirmed"]) for a in response.json()] == [
            ("dueno@tienda.mx", True, True),
            ("admin@tienda.mx", False, True),
            ("caja@tienda.mx", False, False),
        ]

    def test_the_other_customers_addresses_are_its_own(
        self, cast: Cast, api_as: ApiAs, tienda: Account, otra_tienda: Account
    ) -> None:
        response = api_as(cast.agent, "read").get(addresses_url(otra_tienda))

        assert [a["email"] for a in response.json()] == [
            "duena@otra-tienda.mx",
            "ventas@otra-tienda.mx",
        ]

    @pytest.mark.parametrize("customer_id", ["5b0c1f1e-8a3d-4c55-9a57-1f0e7c2d9b41", "no-es-un-id"])
    def test_an_unknown_or_malformed_customer_is_404(
        self, cast: Cast, api_as: ApiAs, customer_id: str
    ) -> None:
        problem(api_as(cast.agent, "read").get(addresses_url(customer_id)), 404, "not-found")

    def test_no_token_is_401(self, cast: Cast, tienda: Account) -> None:
        problem(ApiClient(None).get(addresses_url(tienda)), 401, "unauthorized")


class TestAdding:
    def test_a_vouched_address_is_confirmed_and_no_mail_is_sent(
        self, cast: Cast, admin_api: ApiClient, tienda: Account
    ) -> None:
        response = admin_api.post(
            addresses_url(tienda), {"email": " Soporte@Tienda.MX", "confirmed": True}
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["email"], body["confirmed"], body["main"]) == (
            "soporte@tienda.mx",
            True,
            False,
        )
        address = AuthorizedAddress.objects.get(account=tienda, email="soporte@tienda.mx")
        assert address.is_confirmed
        assert address.added_by == cast.admin
        assert not OutboxMessage.objects.exists()

    def test_an_address_not_vouched_for_is_mailed_its_confirmation_link(
        self, cast: Cast, admin_api: ApiClient, tienda: Account
    ) -> None:
        response = admin_api.post(addresses_url(tienda), {"email": "caja@tienda.mx"})

        assert response.status_code == 201, response.content
        assert response.json()["confirmed"] is False
        address = AuthorizedAddress.objects.get(account=tienda, email="caja@tienda.mx")
        assert not address.is_confirmed
        [mail] = OutboxMessage.objects.all()
        assert (mail.template, mail.to) == ("account_address_confirm", "caja@tienda.mx")
        assert str(address.token) in mail.body_text

    def test_an_unconfirmed_address_does_not_find_the_customer_yet(
        self, cast: Cast, admin_api: ApiClient, tienda: Account
    ) -> None:
        admin_api.post(addresses_url(tienda), {"email": "caja@tienda.mx"})
        admin_api.post(addresses_url(tienda), {"email": "admin@tienda.mx", "confirmed": True})

        def found(email: str) -> list[str]:
            items = admin_api.get("/api/v1/customers", {"email": email}).json()["items"]
            return [item["id"] for item in items]

        assert found("caja@tienda.mx") == []
        assert found("admin@tienda.mx") == [str(tienda.public_id)]

    def test_an_address_of_another_customer_may_be_added_to_this_one_too(
        self, cast: Cast, admin_api: ApiClient, tienda: Account, otra_tienda: Account
    ) -> None:
        response = admin_api.post(addresses_url(tienda), {"email": "ventas@otra-tienda.mx"})

        assert response.status_code == 201
        assert AuthorizedAddress.objects.filter(email="ventas@otra-tienda.mx").count() == 2

    @pytest.mark.parametrize(
        "email", ["dueno@tienda.mx", "DUENO@tienda.mx", "admin@tienda.mx", " Admin@Tienda.mx "]
    )
    def test_an_address_already_on_the_list_is_422(
        self, cast: Cast, admin_api: ApiClient, tienda: Account, email: str
    ) -> None:
        authorized_address_add(account=tienda, email="admin@tienda.mx", added_by=cast.admin)
        before = snapshot()

        response = admin_api.post(addresses_url(tienda), {"email": email, "confirmed": True})

        assert error_fields(problem(response, 422, "invalid")) == {"email"}
        assert snapshot() == before

    @pytest.mark.parametrize(
        "payload",
        [
            {"email": "sin-arroba"},
            {"email": "a@"},
            {"email": ""},
            {},
            {"email": "x@y.mx", "confirmed": "quizá"},
        ],
    )
    def test_an_invalid_address_is_422_and_nothing_is_added(
        self, cast: Cast, admin_api: ApiClient, tienda: Account, payload: dict[str, Any]
    ) -> None:
        before = snapshot()

        response = admin_api.post(addresses_url(tienda), payload)

        assert error_fields(problem(response, 422)) & {"email", "confirmed"}
        assert snapshot() == before

    @pytest.mark.parametrize("customer_id", ["5b0c1f1e-8a3d-4c55-9a57-1f0e7c2d9b41", "no-es-un-id"])
    def test_to_an_unknown_or_malformed_customer_is_404(
        self, cast: Cast, admin_api: ApiClient, tienda: Account, customer_id: str
    ) -> None:
        before = snapshot()

        response = admin_api.post(addresses_url(customer_id), {"email": "caja@tienda.mx"})

        problem(response, 404, "not-found")
        assert snapshot() == before


class TestRemoving:
    def test_an_address_is_removed_and_no_longer_finds_the_customer(
        self, cast: Cast, admin_api: ApiClient, tienda: Account
    ) -> None:
        authorized_address_add(
            account=tienda, email="admin@tienda.mx", added_by=cast.admin, confirmed=True
        )

        response = admin_api.delete(f"{addresses_url(tienda)}/Admin@Tienda.MX")

        assert response.status_code == 204, response.content
        assert list(AuthorizedAddress.objects.filter(account=tienda).values_list("email")) == [
            ("dueno@tienda.mx",)
        ]
        items = admin_api.get("/api/v1/customers", {"email": "admin@tienda.mx"}).json()["items"]
        assert items == []

    def test_the_main_address_cannot_be_removed(
        self, cast: Cast, admin_api: ApiClient, tienda: Account
    ) -> None:
        before = snapshot()

        response = admin_api.delete(f"{addresses_url(tienda)}/dueno@tienda.mx")

        problem(response, 422, "invalid")
        assert snapshot() == before

    def test_another_customers_address_through_this_customer_is_404(
        self, cast: Cast, admin_api: ApiClient, tienda: Account, otra_tienda: Account
    ) -> None:
        before = snapshot()

        for email in ("ventas@otra-tienda.mx", "duena@otra-tienda.mx"):
            response = admin_api.delete(f"{addresses_url(tienda)}/{email}")

            problem(response, 404, "not-found")
        assert snapshot() == before

    def test_the_same_address_on_two_customers_goes_from_the_one_named_only(
        self, cast: Cast, admin_api: ApiClient, tienda: Account, otra_tienda: Account
    ) -> None:
        authorized_address_add(account=tienda, email="ventas@otra-tienda.mx", added_by=cast.admin)

        response = admin_api.delete(f"{addresses_url(tienda)}/ventas@otra-tienda.mx")

        assert response.status_code == 204
        assert list(
            AuthorizedAddress.objects.filter(email="ventas@otra-tienda.mx").values_list(
                "account_id", flat=True
            )
        ) == [otra_tienda.pk]

    @pytest.mark.parametrize("email", ["nadie@tienda.mx", "sin-arroba", "%00"])
    def test_an_unknown_address_is_404(
        self, cast: Cast, admin_api: ApiClient, tienda: Account, email: str
    ) -> None:
        before = snapshot()

        problem(admin_api.delete(f"{addresses_url(tienda)}/{email}"), 404, "not-found")

        assert snapshot() == before

    @pytest.mark.parametrize("customer_id", ["5b0c1f1e-8a3d-4c55-9a57-1f0e7c2d9b41", "no-es-un-id"])
    def test_from_an_unknown_or_malformed_customer_is_404(
        self, cast: Cast, admin_api: ApiClient, otra_tienda: Account, customer_id: str
    ) -> None:
        before = snapshot()

        response = admin_api.delete(f"{addresses_url(customer_id)}/ventas@otra-tienda.mx")

        problem(response, 404, "not-found")
        assert snapshot() == before


class TestWhoMayChangeTheList:
    @pytest.mark.parametrize(
        ("who", "scope"),
        [("admin", "read"), ("admin", "write"), ("agent", "write"), ("supervisor", "write")],
    )
    def test_anything_but_an_administrators_admin_token_is_403(
        self, cast: Cast, api_as: ApiAs, tienda: Account, who: str, scope: str
    ) -> None:
        authorized_address_add(account=tienda, email="admin@tienda.mx", added_by=cast.admin)
        client = api_as(getattr(cast, who), scope)
        before = snapshot()

        added = client.post(addresses_url(tienda), {"email": "caja@tienda.mx", "confirmed": True})
        removed = client.delete(f"{addresses_url(tienda)}/admin@tienda.mx")

        problem(added, 403, "forbidden")
        problem(removed, 403, "forbidden")
        assert snapshot() == before

    def test_a_read_token_still_reads(self, cast: Cast, api_as: ApiAs, tienda: Account) -> None:
        assert api_as(cast.agent_ops, "read").get(addresses_url(tienda)).status_code == 200

    def test_no_token_is_401_and_nothing_changes(self, cast: Cast, tienda: Account) -> None:
        before = snapshot()

        problem(ApiClient(None).post(addresses_url(tienda), {"email": "caja@tienda.mx"}), 401)
        problem(ApiClient(None).delete(f"{addresses_url(tienda)}/dueno@tienda.mx"), 401)

        assert snapshot() == before
