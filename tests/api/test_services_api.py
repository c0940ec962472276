"""/customers/{id}/services: a billing system lists a customer's services and syncs each one
by its own external ID, again and again: 201 the first time, 200 after, never a duplicate.

An external ID belongs to its customer: the same ID on another customer is another service,
and a call about one customer never touches another's. Any staff token reads; only an
administrator's admin token writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from atiende.accounts.customers import service_upsert
from atiende.accounts.models import Account, Service
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]

HOSTING = {"kind": "hosting", "name": "tienda.mx", "plan": "Plan Pyme"}


def services_url(account: Account | str) -> str:
    public_id = account if isinstance(account, str) else account.public_id
    return f"/api/v1/customers/{public_id}/services"


def service_url(account: Account | str, external_id: str) -> str:
    return f"{services_url(account)}/{external_id}"


def rows() -> list[tuple[Any, ...]]:
    """Every service as stored, to show what a call wrote (or did not)."""
    return list(
        Service.objects.order_by("id").values_list(
            "id", "account_id", "external_id", "kind", "name", "plan", "status"
        )
    )


@pytest.fixture
def admin_api(cast: Cast, api_as: ApiAs) -> ApiClient:
    return api_as(cast.admin, "admin")


class TestTheList:
    def test_a_customer_sees_its_own_services_only(self, cast: Cast, api_as: ApiAs) -> None:
        service_upsert(account=cast.account, external_id="S-1", kind="email", name="correo")

        response = api_as(cast.agent, "read").get(services_url(cast.account))

        assert response.status_code == 200
        assert [(s["kind"], s["name"], s["status"], s["external_id"]) for s in response.json()] == [
            ("domain", "ejemplo.com.mx", "active", None),
            ("email", "correo", "active", "S-1"),
            ("hosting", "ejemplo.mx", "active", None),
            ("ssl", "www.ejemplo.mx", "cancelled", None),
        ]

    def test_the_other_account_sees_its_own(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent_ops, "read").get(services_url(cast.other_account))

        assert [s["name"] for s in response.json()] == ["otra.net"]

    @pytest.mark.parametrize("customer_id", ["5b0c1f1e-8a3d-4c55-9a57-1f0e7c2d9b41", "no-es-un-id"])
    def test_an_unknown_or_malformed_customer_is_404(
        self, cast: Cast, api_as: ApiAs, customer_id: str
    ) -> None:
        problem(api_as(cast.agent, "read").get(services_url(customer_id)), 404, "not-found")

    def test_no_token_is_401(self, cast: Cast) -> None:
        problem(ApiClient(None).get(services_url(cast.account)), 401, "unauthorized")


class TestTheUpsert:
    def test_a_new_external_id_is_created_201(self, cast: Cast, admin_api: ApiClient) -> None:
        response = admin_api.put(service_url(cast.account, "HOST-77"), HOSTING)

        assert response.status_code == 201, response.content
        body = response.json()
        assert {k: body[k] for k in ("external_id", "kind", "name", "plan", "status")} == {
            "external_id": "HOST-77",
            **HOSTING,
            "status": "active",
        }
        service = Service.objects.get(external_id="HOST-77")
        assert (service.account, service.kind, service.name, service.plan) == (
            cast.account,
            "hosting",
            "tienda.mx",
            "Plan Pyme",
        )

    def test_the_same_call_twice_is_200_and_one_row(self, cast: Cast, admin_api: ApiClient) -> None:
        first = admin_api.put(service_url(cast.account, "HOST-77"), HOSTING)
        before = rows()

        again = admin_api.put(service_url(cast.account, "HOST-77"), HOSTING)

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert rows() == before
        assert Service.objects.filter(account=cast.account, external_id="HOST-77").count() == 1

    def test_a_later_sync_brings_the_row_to_the_new_values(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        admin_api.put(service_url(cast.account, "HOST-77"), HOSTING)
        service = Service.objects.get(external_id="HOST-77")

        response = admin_api.put(
            service_url(cast.account, "HOST-77"),
            {"kind": "hosting", "name": "tienda.com.mx", "plan": "Plan Empresa"},
        )

        assert response.status_code == 200, response.content
        service.refresh_from_db()
        assert (service.name, service.plan, service.status) == (
            "tienda.com.mx",
            "Plan Empresa",
            "active",
        )
        assert Service.objects.filter(external_id="HOST-77").count() == 1

    def test_an_id_with_surrounding_spaces_is_the_same_service(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        admin_api.put(service_url(cast.account, "HOST-77"), HOSTING)

        response = admin_api.put(service_url(cast.account, "%20HOST-77%20"), HOSTING)

        assert response.status_code == 200, response.content
        assert response.json()["external_id"] == "HOST-77"
        assert Service.objects.filter(external_id__contains="HOST-77").count() == 1

    def test_a_cancelled_service_stays_and_comes_back_active(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        admin_api.put(service_url(cast.account, "HOST-77"), HOSTING)

        cancelled = admin_api.put(
            service_url(cast.account, "HOST-77"), {**HOSTING, "status": "cancelled"}
        )

        assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
        assert Service.objects.get(external_id="HOST-77").status == "cancelled"
        listed = admin_api.get(services_url(cast.account)).json()
        assert ("HOST-77", "cancelled") in [(s["external_id"], s["status"]) for s in listed]

        back = admin_api.put(service_url(cast.account, "HOST-77"), {**HOSTING, "status": "active"})
        assert (back.status_code, back.json()["status"]) == (200, "active")
        assert Service.objects.filter(external_id="HOST-77").count() == 1

    def test_a_suspended_status_is_kept(self, cast: Cast, admin_api: ApiClient) -> None:
        response = admin_api.put(
            service_url(cast.account, "DOM-1"),
            {"kind": "domain", "name": "a.mx", "status": "suspended"},
        )

        assert (response.status_code, response.json()["status"]) == (201, "suspended")


class TestAnExternalIdBelongsToItsCustomer:
    def test_the_same_id_on_another_customer_is_another_service(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        ours = admin_api.put(service_url(cast.account, "S-1"), HOSTING)
        theirs = admin_api.put(
            service_url(cast.other_account, "S-1"), {"kind": "domain", "name": "otra.org"}
        )

        assert (ours.status_code, theirs.status_code) == (201, 201)
        assert sorted(
            Service.objects.filter(external_id="S-1").values_list("account_id", "kind", "name")
        ) == sorted(
            [
                (cast.account.pk, "hosting", "tienda.mx"),
                (cast.other_account.pk, "domain", "otra.org"),
            ]
        )

    def test_a_sync_of_one_customer_leaves_the_others_service_alone(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        admin_api.put(service_url(cast.account, "S-1"), HOSTING)
        admin_api.put(
            service_url(cast.other_account, "S-1"), {"kind": "domain", "name": "otra.org"}
        )
        theirs_before = [row for row in rows() if row[1] == cast.other_account.pk]

        response = admin_api.put(
            service_url(cast.account, "S-1"), {**HOSTING, "status": "cancelled"}
        )

        assert response.status_code == 200
        assert [row for row in rows() if row[1] == cast.other_account.pk] == theirs_before

    def test_the_others_service_is_not_in_this_customers_list(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        admin_api.put(
            service_url(cast.other_account, "S-9"), {"kind": "domain", "name": "otra.org"}
        )

        listed = admin_api.get(services_url(cast.account)).json()

        assert "S-9" not in [s["external_id"] for s in listed]
        assert "otra.org" not in [s["name"] for s in listed]


class TestARefusedUpsertChangesNothing:
    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"kind": "servidor", "name": "x.mx"}, "kind"),
            ({"name": "x.mx"}, "kind"),
            ({"kind": "hosting", "name": "x.mx", "status": "borrado"}, "status"),
            ({"kind": "hosting", "name": ""}, "name"),
            ({"kind": "hosting", "name": "   "}, "name"),
            ({"kind": "hosting"}, "name"),
            ({"kind": "hosting", "name": "x" * 201}, "name"),
            ({"kind": "hosting", "name": "x.mx", "plan": "p" * 101}, "plan"),
        ],
    )
    def test_an_invalid_field_is_422_naming_it(
        self, cast: Cast, admin_api: ApiClient, payload: dict[str, Any], field: str
    ) -> None:
        admin_api.put(service_url(cast.account, "HOST-77"), HOSTING)
        before = rows()

        for external_id in ("HOST-77", "NEW-1"):
            response = admin_api.put(service_url(cast.account, external_id), payload)

            assert field in error_fields(problem(response, 422))
        assert rows() == before

    @pytest.mark.parametrize("external_id", ["%20%20", "x" * 101])
    def test_a_blank_or_too_long_external_id_is_422(
        self, cast: Cast, admin_api: ApiClient, external_id: str
    ) -> None:
        before = rows()

        response = admin_api.put(service_url(cast.account, external_id), HOSTING)

        assert error_fields(problem(response, 422)) == {"external_id"}
        assert rows() == before

    @pytest.mark.parametrize("customer_id", ["5b0c1f1e-8a3d-4c55-9a57-1f0e7c2d9b41", "no-es-un-id"])
    def test_an_unknown_or_malformed_customer_is_404(
        self, cast: Cast, admin_api: ApiClient, customer_id: str
    ) -> None:
        before = rows()

        problem(admin_api.put(service_url(customer_id, "S-1"), HOSTING), 404, "not-found")

        assert rows() == before


class TestWhoMayUpsert:
    @pytest.mark.parametrize(
        ("who", "scope"),
        [("admin", "read"), ("admin", "write"), ("agent", "write"), ("supervisor", "write")],
    )
    def test_anything_but_an_administrators_admin_token_is_403(
        self, cast: Cast, api_as: ApiAs, who: str, scope: str
    ) -> None:
        client = api_as(getattr(cast, who), scope)
        service_upsert(account=cast.account, external_id="HOST-77", **HOSTING)
        before = rows()

        problem(client.put(service_url(cast.account, "NEW-1"), HOSTING), 403, "forbidden")
        problem(
            client.put(service_url(cast.account, "HOST-77"), {**HOSTING, "status": "cancelled"}),
            403,
        )
        problem(client.put(service_url(cast.other_account, "S-1"), HOSTING), 403)

        assert rows() == before

    def test_a_read_token_still_reads(self, cast: Cast, api_as: ApiAs) -> None:
        assert api_as(cast.agent, "read").get(services_url(cast.account)).status_code == 200

    def test_no_token_is_401(self, cast: Cast) -> None:
        before = rows()

        problem(ApiClient(None).put(service_url(cast.account, "S-1"), HOSTING), 401)

        assert rows() == before
