"""/customers: the billing system creates customers, finds them by e-mail or by its own ID,
pages through them, reads one and updates it.

Any staff token reads; only an administrator's admin token changes anything. Every refusal is
problem+json and leaves the database as it was; another account's data never shows up in
the answer about this one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.accounts import customers
from atiende.accounts.models import Account, AuthorizedAddress, User
from atiende.accounts.services import authorized_address_add
from atiende.api.cursors import cursor_encode
from atiende.api.models import IdempotencyRecord
from atiende.mail.models import OutboxMessage
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]

CUSTOMERS = "/api/v1/customers"
MOMENT = datetime(2025, 6, 2, 15, 30, tzinfo=UTC)
NEW = {"name": "Tienda Nueva S.A.", "email": "dueno@tienda.mx", "full_name": "Dueño Tienda"}


def customer_url(account: Account | str) -> str:
    public_id = account if isinstance(account, str) else account.public_id
    return f"{CUSTOMERS}/{public_id}"


def snapshot() -> dict[str, list[Any]]:
    """Every row a customer operation may write, to show that a refused one wrote none."""
    return {
        "accounts": list(
            Account.objects.order_by("id").values_list("id", "name", "external_id", "is_active")
        ),
        "users": list(
            User.objects.order_by("id").values_list(
                "id", "email", "full_name", "language", "account_id", "email_confirmed_at"
            )
        ),
        "addresses": list(
            AuthorizedAddress.objects.order_by("id").values_list(
                "id", "account_id", "email", "confirmed_at"
            )
        ),
        "outbox": list(OutboxMessage.objects.order_by("id").values_list("template", "to")),
    }


def customer_made(cast: Cast, **values: Any) -> Account:
    """A customer created through the service, as an earlier sync would have."""
    return customers.customer_create(**{**NEW, **values}, created_by=cast.admin)


def found(client: ApiClient, **query: str) -> list[str]:
    response = client.get(CUSTOMERS, query)
    assert response.status_code == 200, response.content
    assert response.json()["next_cursor"] is None
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def admin_api(cast: Cast, api_as: ApiAs) -> ApiClient:
    return api_as(cast.admin, "admin")


# Creating ---------------------------------------------------------------------------------


class TestAnAdministratorCreatesACustomer:
    def test_the_account_comes_with_a_confirmed_holder_and_its_main_address(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        payload = {**NEW, "external_id": "FAC-100", "language": "en"}
        payload["timezone"] = "America/Mexico_City"
        with time_machine.travel(MOMENT, tick=False):
            response = admin_api.post(CUSTOMERS, payload)

        assert response.status_code == 201, response.content
        body = response.json()
        account = Account.objects.get(public_id=body["id"])
        assert body == {
            "id": str(account.public_id),
            "name": "Tienda Nueva S.A.",
            "external_id": "FAC-100",
            "email": "dueno@tienda.mx",
            "full_name": "Dueño Tienda",
            "language": "en",
            "is_active": True,
            "created_at": "2025-06-02T15:30:00Z",
        }
        [holder] = account.users.all()
        assert (holder.email, holder.is_staff, holder.timezone) == (
            "dueno@tienda.mx",
            False,
            "America/Mexico_City",
        )
        assert holder.email_confirmed_at == MOMENT
        assert not holder.has_usable_password()
        [address] = AuthorizedAddress.objects.filter(account=account)
        assert (address.email, address.confirmed_at, address.added_by) == (
            "dueno@tienda.mx",
            MOMENT,
            cast.admin,
        )
        assert not OutboxMessage.objects.exists()

    def test_with_invite_the_holder_is_mailed_one_invitation(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        response = admin_api.post(CUSTOMERS, {**NEW, "invite": True})

        assert response.status_code == 201, response.content
        assert list(OutboxMessage.objects.values_list("template", "to")) == [
            ("account_invitation", "dueno@tienda.mx")
        ]

    def test_the_address_is_stored_trimmed_and_in_lower_case(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        response = admin_api.post(CUSTOMERS, {**NEW, "email": "  Dueno@Tienda.MX "})

        assert response.status_code == 201, response.content
        assert response.json()["email"] == "dueno@tienda.mx"
        assert User.objects.filter(email="dueno@tienda.mx").exists()

    @pytest.mark.parametrize("email", ["no-es-correo", "dueno@", "@tienda.mx", "a b@tienda.mx"])
    def test_a_bad_email_is_422_and_nothing_is_created(
        self, cast: Cast, admin_api: ApiClient, email: str
    ) -> None:
        before = snapshot()

        response = admin_api.post(CUSTOMERS, {**NEW, "email": email, "invite": True})

        assert error_fields(problem(response, 422)) == {"email"}
        assert snapshot() == before

    @pytest.mark.parametrize(
        "email", ["ana@example.com", "ANA@Example.com", "otro@example.net", "agente@example.com"]
    )
    def test_an_email_any_user_logs_in_with_is_422(
        self, cast: Cast, admin_api: ApiClient, email: str
    ) -> None:
        before = snapshot()

        response = admin_api.post(CUSTOMERS, {**NEW, "email": email})

        assert error_fields(problem(response, 422, "invalid")) == {"email"}
        assert snapshot() == before

    def test_an_external_id_another_account_has_is_422(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        customers.customer_update(account=cast.other_account, external_id="FAC-7")
        before = snapshot()

        response = admin_api.post(CUSTOMERS, {**NEW, "external_id": "FAC-7"})

        assert error_fields(problem(response, 422, "invalid")) == {"external_id"}
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"language": "fr"}, "language"),
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"email": None}, "email"),
            ({"external_id": "x" * 101}, "external_id"),
        ],
    )
    def test_an_invalid_field_is_422_naming_it(
        self, cast: Cast, admin_api: ApiClient, change: dict[str, Any], field: str
    ) -> None:
        before = snapshot()

        response = admin_api.post(CUSTOMERS, {**NEW, **change})

        assert field in error_fields(problem(response, 422))
        assert snapshot() == before


class TestARetriedCreate:
    def test_with_the_same_idempotency_key_creates_and_invites_once(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        payload = {**NEW, "invite": True}
        first = admin_api.post(CUSTOMERS, payload, **{"Idempotency-Key": "sync-42"})
        again = admin_api.post(CUSTOMERS, payload, **{"Idempotency-Key": "sync-42"})

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Account.objects.filter(users__email="dueno@tienda.mx").count() == 1
        assert OutboxMessage.objects.filter(template="account_invitation").count() == 1

    def test_without_a_key_is_a_second_create_refused_as_a_duplicate(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        assert admin_api.post(CUSTOMERS, NEW).status_code == 201

        problem(admin_api.post(CUSTOMERS, NEW), 422, "invalid")
        assert User.objects.filter(email="dueno@tienda.mx").count() == 1

    def test_the_same_key_for_another_customer_is_422_and_creates_nothing(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        admin_api.post(CUSTOMERS, NEW, **{"Idempotency-Key": "sync-42"})
        before = snapshot()

        response = admin_api.post(
            CUSTOMERS, {**NEW, "email": "otra@tienda.mx"}, **{"Idempotency-Key": "sync-42"}
        )

        assert error_fields(problem(response, 422, "idempotency-key-reused")) == {"Idempotency-Key"}
        assert snapshot() == before

    def test_a_refused_create_keeps_no_answer_for_its_key(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        problem(
            admin_api.post(
                CUSTOMERS, {**NEW, "email": "ana@example.com"}, **{"Idempotency-Key": "k-1"}
            ),
            422,
        )

        assert not IdempotencyRecord.objects.exists()
        response = admin_api.post(CUSTOMERS, NEW, **{"Idempotency-Key": "k-1"})
        assert response.status_code == 201, response.content


class TestWhoMayCreateOrUpdate:
    @pytest.mark.parametrize(
        ("who", "scope"),
        [
            ("admin", "read"),
            ("admin", "write"),
            ("agent", "write"),
            ("supervisor", "write"),
            ("agent_ops", "write"),
        ],
    )
    def test_anything_but_an_administrators_admin_token_is_403(
        self, cast: Cast, api_as: ApiAs, who: str, scope: str
    ) -> None:
        client = api_as(getattr(cast, who), scope)
        before = snapshot()

        problem(client.post(CUSTOMERS, {**NEW, "invite": True}), 403, "forbidden")
        problem(client.patch(customer_url(cast.account), {"name": "Otro nombre"}), 403)
        problem(client.patch(customer_url(cast.other_account), {"is_active": False}), 403)

        assert snapshot() == before

    def test_no_token_is_401(self, cast: Cast) -> None:
        before = snapshot()

        problem(ApiClient(None).post(CUSTOMERS, NEW), 401, "unauthorized")
        problem(ApiClient(None).patch(customer_url(cast.account), {"name": "X"}), 401)
        problem(ApiClient(None).get(CUSTOMERS), 401)
        problem(ApiClient(None).get(customer_url(cast.account)), 401)

        assert snapshot() == before

    def test_an_admin_token_of_a_user_no_longer_an_administrator_is_403(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        cast.admin.is_superuser = False
        cast.admin.save(update_fields=["is_superuser"])

        problem(admin_api.post(CUSTOMERS, NEW), 403, "forbidden")
        assert not User.objects.filter(email="dueno@tienda.mx").exists()


# Finding ----------------------------------------------------------------------------------


class TestFindByEmail:
    def test_the_holders_login_finds_his_account_in_any_case(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        reader = api_as(cast.agent, "read")

        assert found(reader, email="ana@example.com") == [str(cast.account.public_id)]
        assert found(reader, email="  ANA@Example.COM ") == [str(cast.account.public_id)]
        assert found(reader, email="otro@example.net") == [str(cast.other_account.public_id)]

    def test_any_user_of_the_account_finds_it_and_the_answer_names_the_holder(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        response = api_as(cast.agent, "read").get(CUSTOMERS, {"email": "beto@example.com"})

        [item] = response.json()["items"]
        assert (item["id"], item["email"], item["full_name"]) == (
            str(cast.account.public_id),
            "ana@example.com",
            "Ana Torres",
        )

    def test_a_confirmed_authorized_address_finds_its_account(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        authorized_address_add(
            account=cast.other_account,
            email="Contabilidad@otra.net",
            added_by=cast.admin,
            confirmed=True,
        )

        assert found(api_as(cast.agent, "read"), email="contabilidad@OTRA.net") == [
            str(cast.other_account.public_id)
        ]

    def test_an_unconfirmed_address_finds_nothing(self, cast: Cast, api_as: ApiAs) -> None:
        authorized_address_add(
            account=cast.other_account, email="contabilidad@otra.net", added_by=cast.admin
        )

        assert found(api_as(cast.agent, "read"), email="contabilidad@otra.net") == []

    def test_an_address_two_accounts_lead_to_finds_both_by_name(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        authorized_address_add(
            account=cast.other_account, email="ana@example.com", added_by=cast.admin, confirmed=True
        )

        assert found(api_as(cast.agent, "read"), email="ana@example.com") == [
            str(cast.account.public_id),  # "Hosting Ejemplo S.A." before "Otra Empresa"
            str(cast.other_account.public_id),
        ]

    @pytest.mark.parametrize(
        "email", ["nadie@example.com", "agente@example.com", "admin@example.com", "sin-arroba", ""]
    )
    def test_an_unknown_staff_or_malformed_address_finds_nothing(
        self, cast: Cast, api_as: ApiAs, email: str
    ) -> None:
        assert found(api_as(cast.agent, "read"), email=email) == []


class TestFindByExternalId:
    def test_the_id_finds_its_account_only(self, cast: Cast, api_as: ApiAs) -> None:
        customers.customer_update(account=cast.account, external_id="FAC-1")
        customers.customer_update(account=cast.other_account, external_id="FAC-2")
        reader = api_as(cast.agent_ops, "read")

        assert found(reader, external_id="FAC-1") == [str(cast.account.public_id)]
        assert found(reader, external_id=" FAC-2 ") == [str(cast.other_account.public_id)]

    @pytest.mark.parametrize("external_id", ["FAC-9", "fac-1", "", "   "])
    def test_an_unknown_or_empty_id_finds_nothing(
        self, cast: Cast, api_as: ApiAs, external_id: str
    ) -> None:
        customers.customer_update(account=cast.account, external_id="FAC-1")

        assert found(api_as(cast.agent, "read"), external_id=external_id) == []


class TestTheList:
    def test_pages_follow_the_cursor_without_duplicates_or_gaps(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        for number in range(9):
            customer_made(cast, name=f"Cliente {number}", email=f"c{number}@example.org")
        every = [
            str(pk) for pk in Account.objects.order_by("id").values_list("public_id", flat=True)
        ]
        reader = api_as(cast.agent, "read")

        seen: list[str] = []
        pages = 0
        query: dict[str, Any] = {"limit": 4}
        while True:
            body = reader.get(CUSTOMERS, query).json()
            seen += [item["id"] for item in body["items"]]
            pages += 1
            if body["next_cursor"] is None:
                break
            query = {"limit": 4, "cursor": body["next_cursor"]}

        assert seen == every  # 11: the cast's two, then these nine, oldest first
        assert pages == 3

    def test_a_page_that_ends_exactly_at_the_last_customer_has_no_next_cursor(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        body = api_as(cast.agent, "read").get(CUSTOMERS, {"limit": 2}).json()

        assert len(body["items"]) == 2
        assert body["next_cursor"] is None

    def test_a_customer_created_between_pages_shows_up_at_the_end(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        reader = api_as(cast.agent, "read")
        first = reader.get(CUSTOMERS, {"limit": 1}).json()
        late = customer_made(cast)

        second = reader.get(CUSTOMERS, {"limit": 5, "cursor": first["next_cursor"]}).json()

        assert [item["id"] for item in second["items"]] == [
            str(cast.other_account.public_id),
            str(late.public_id),
        ]

    @pytest.mark.parametrize("last_id", [10**6, 2**63, 10**30])
    def test_a_cursor_past_the_last_customer_is_an_empty_last_page(
        self, cast: Cast, api_as: ApiAs, last_id: int
    ) -> None:
        response = api_as(cast.agent, "read").get(CUSTOMERS, {"cursor": cursor_encode([last_id])})

        assert response.status_code == 200, response.content
        assert response.json() == {"items": [], "next_cursor": None}

    @pytest.mark.parametrize("cursor", ["nope", "W10", "WyJhIl0", "x" * 300])
    def test_a_cursor_we_never_gave_is_422(self, cast: Cast, api_as: ApiAs, cursor: str) -> None:
        response = api_as(cast.agent, "read").get(CUSTOMERS, {"cursor": cursor})

        assert error_fields(problem(response, 422)) == {"cursor"}

    @pytest.mark.parametrize("limit", ["0", "101", "muchos"])
    def test_a_limit_out_of_range_is_422(self, cast: Cast, api_as: ApiAs, limit: str) -> None:
        response = api_as(cast.agent, "read").get(CUSTOMERS, {"limit": limit})

        assert error_fields(problem(response, 422)) == {"limit"}

    def test_its_queries_do_not_grow_with_the_customers(self, cast: Cast, api_as: ApiAs) -> None:
        reader = api_as(cast.agent, "read")

        def queries_for_a_page() -> int:
            with CaptureQueriesContext(connection) as queries:
                response = reader.get(CUSTOMERS, {"limit": 100})
            assert response.status_code == 200
            return len(queries)

        with time_machine.travel(MOMENT, tick=False):  # one rate-limit window for both
            for number in range(3):
                customer_made(cast, name=f"Cliente {number}", email=f"c{number}@example.org")
            queries_for_a_page()  # the token's first use records it once
            with_five = queries_for_a_page()
            for number in range(3, 28):
                account = customer_made(
                    cast, name=f"Cliente {number}", email=f"c{number}@example.org"
                )
                User.objects.create_user(f"socio{number}@example.org", None, account=account)
            with_thirty = queries_for_a_page()

        assert Account.objects.count() == 30
        assert with_thirty == with_five


# One customer -----------------------------------------------------------------------------


class TestGet:
    def test_a_customer_is_read_with_its_holder(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent, "read").get(customer_url(cast.account))

        assert response.status_code == 200
        body = response.json()
        assert body["id"] == str(cast.account.public_id)
        assert (body["name"], body["email"], body["full_name"], body["external_id"]) == (
            "Hosting Ejemplo S.A.",
            "ana@example.com",
            "Ana Torres",
            None,
        )

    def test_each_id_answers_its_own_account_only(self, cast: Cast, api_as: ApiAs) -> None:
        body = api_as(cast.agent, "read").get(customer_url(cast.other_account)).json()

        assert (body["id"], body["name"], body["email"]) == (
            str(cast.other_account.public_id),
            "Otra Empresa",
            "otro@example.net",
        )
        assert "ana@example.com" not in str(body)

    @pytest.mark.parametrize(
        "customer_id",
        [
            "5b0c1f1e-8a3d-4c55-9a57-1f0e7c2d9b41",
            "no-es-un-id",
            "123",
            "00000000-0000-0000-0000-00000000000g",
        ],
    )
    def test_an_unknown_or_malformed_id_is_404(
        self, cast: Cast, api_as: ApiAs, customer_id: str
    ) -> None:
        reader = api_as(cast.agent, "read")

        problem(reader.get(customer_url(customer_id)), 404, "not-found")

    def test_an_unknown_id_is_404_for_a_change_too_and_nothing_changes(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        before = snapshot()

        problem(admin_api.patch(customer_url(str(uuid.uuid4())), {"name": "X"}), 404)
        problem(admin_api.patch(customer_url("no-es-un-id"), {"name": "X"}), 404)

        assert snapshot() == before


# Updating ---------------------------------------------------------------------------------


class TestUpdate:
    def test_only_the_fields_sent_change(self, cast: Cast, admin_api: ApiClient) -> None:
        customers.customer_update(account=cast.account, external_id="FAC-1")
        before = snapshot()

        response = admin_api.patch(customer_url(cast.account), {"full_name": "Ana María Torres"})

        assert response.status_code == 200, response.content
        assert response.json()["full_name"] == "Ana María Torres"
        assert (response.json()["name"], response.json()["external_id"]) == (
            "Hosting Ejemplo S.A.",
            "FAC-1",
        )
        expected = before
        expected["users"] = [
            (pk, email, "Ana María Torres" if pk == cast.ana.pk else full_name, *rest)
            for pk, email, full_name, *rest in before["users"]
        ]
        assert snapshot() == expected

    def test_account_fields_change_and_the_holder_stays(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        users_before = snapshot()["users"]

        response = admin_api.patch(
            customer_url(cast.account),
            {"name": "Hosting Ejemplo S.A. de C.V.", "external_id": "FAC-5", "is_active": False},
        )

        assert response.status_code == 200, response.content
        cast.account.refresh_from_db()
        assert (cast.account.name, cast.account.external_id, cast.account.is_active) == (
            "Hosting Ejemplo S.A. de C.V.",
            "FAC-5",
            False,
        )
        assert snapshot()["users"] == users_before
        cast.other_account.refresh_from_db()
        assert (cast.other_account.name, cast.other_account.is_active) == ("Otra Empresa", True)

    def test_an_empty_external_id_removes_it(self, cast: Cast, admin_api: ApiClient) -> None:
        customers.customer_update(account=cast.account, external_id="FAC-1")

        response = admin_api.patch(customer_url(cast.account), {"external_id": ""})

        assert response.json()["external_id"] is None
        cast.account.refresh_from_db()
        assert cast.account.external_id == ""

    def test_a_new_email_moves_the_login_and_the_main_address(
        self, cast: Cast, admin_api: ApiClient, api_as: ApiAs
    ) -> None:
        account = customer_made(cast)

        response = admin_api.patch(customer_url(account), {"email": "Nuevo.Dueno@Tienda.mx"})

        assert response.status_code == 200, response.content
        assert response.json()["email"] == "nuevo.dueno@tienda.mx"
        holder = account.users.get()
        assert holder.email == "nuevo.dueno@tienda.mx"
        assert holder.email_confirmed_at is not None
        assert not User.objects.filter(email="dueno@tienda.mx").exists()
        [address] = AuthorizedAddress.objects.filter(account=account)
        assert (address.email, address.is_confirmed) == ("nuevo.dueno@tienda.mx", True)
        reader = api_as(cast.agent, "read")
        assert found(reader, email="dueno@tienda.mx") == []
        assert found(reader, email="nuevo.dueno@tienda.mx") == [str(account.public_id)]
        addresses = admin_api.get(f"{customer_url(account)}/addresses").json()
        assert [(a["email"], a["main"]) for a in addresses] == [("nuevo.dueno@tienda.mx", True)]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"email": "beto@example.com"}, "email"),  # a user of the same account
            ({"email": "OTRO@example.net"}, "email"),  # another account's login
            ({"email": "agente@example.com"}, "email"),  # staff
            ({"email": "sin-arroba"}, "email"),
            ({"external_id": "FAC-2"}, "external_id"),  # the other account's
            ({"name": ""}, "name"),
            ({"language": "fr"}, "language"),
            ({"is_active": "quizá"}, "is_active"),
        ],
    )
    def test_an_invalid_or_taken_value_is_422_and_nothing_changes(
        self, cast: Cast, admin_api: ApiClient, change: dict[str, Any], field: str
    ) -> None:
        customers.customer_update(account=cast.other_account, external_id="FAC-2")
        before = snapshot()

        response = admin_api.patch(customer_url(cast.account), {"full_name": "Ana T.", **change})

        assert field in error_fields(problem(response, 422))
        assert snapshot() == before

    def test_an_account_keeps_its_own_external_id_when_it_is_sent_again(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        customers.customer_update(account=cast.account, external_id="FAC-1")

        response = admin_api.patch(
            customer_url(cast.account), {"external_id": "FAC-1", "email": "ANA@example.com"}
        )

        assert response.status_code == 200, response.content
        assert (response.json()["external_id"], response.json()["email"]) == (
            "FAC-1",
            "ana@example.com",
        )
