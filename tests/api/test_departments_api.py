"""/departments: the active departments the token's user works in; every active one for a
supervisor or an administrator. A department switched off is nobody's to see."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from atiende.accounts.models import Department, Membership
from tests.api.conftest import ApiClient, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]

DEPARTMENTS = "/api/v1/departments"
EVERY_ACTIVE = ["soporte-tecnico", "atencion-a-clientes", "operaciones"]


def listed(client: ApiClient) -> list[str]:
    response = client.get(DEPARTMENTS)
    assert response.status_code == 200, response.content
    return [department["id"] for department in response.json()]


def switched_off(department: Department) -> None:
    """As an administrator unticking "active" in the admin."""
    Department.objects.filter(pk=department.pk).update(is_active=False)


def in_order(slugs: list[str]) -> list[str]:
    """The slugs in the order departments are shown (position, then name)."""
    return list(
        Department.objects.filter(slug__in=slugs)
        .order_by("position", "name")
        .values_list("slug", flat=True)
    )


class TestWhatEachOneSees:
    def test_an_agent_sees_the_departments_he_works_in(self, cast: Cast, api_as: ApiAs) -> None:
        assert listed(api_as(cast.agent, "read")) == ["soporte-tecnico"]
        assert listed(api_as(cast.agent_ops, "read")) == ["operaciones"]

    def test_an_agent_of_two_departments_sees_both(self, cast: Cast, api_as: ApiAs) -> None:
        Membership.objects.create(user=cast.agent, department=cast.operaciones, role="agent")

        assert listed(api_as(cast.agent, "read")) == in_order(["soporte-tecnico", "operaciones"])

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_a_supervisor_and_an_administrator_see_every_active_one(
        self, cast: Cast, api_as: ApiAs, who: str
    ) -> None:
        assert listed(api_as(getattr(cast, who), "read")) == in_order(EVERY_ACTIVE)

    def test_a_staff_user_of_no_department_sees_none(self, cast: Cast, api_as: ApiAs) -> None:
        Membership.objects.filter(user=cast.agent).delete()

        assert listed(api_as(cast.agent, "read")) == []

    def test_each_department_is_described_with_its_policy(self, cast: Cast, api_as: ApiAs) -> None:
        Department.objects.filter(pk=cast.soporte.pk).update(
            email="soporte@hosting.example", max_attachment_mb=15, auto_close_hours=48
        )

        [department] = api_as(cast.agent, "read").get(DEPARTMENTS).json()

        assert department == {
            "id": "soporte-tecnico",
            "name": cast.soporte.name,
            "description": cast.soporte.description,
            "email": "soporte@hosting.example",
            "max_attachment_mb": 15,
            "auto_close_hours": 48,
        }


class TestAnInactiveDepartment:
    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_is_hidden_from_those_who_see_all(self, cast: Cast, api_as: ApiAs, who: str) -> None:
        switched_off(cast.atencion)

        assert listed(api_as(getattr(cast, who), "read")) == in_order(
            ["soporte-tecnico", "operaciones"]
        )

    def test_is_hidden_from_its_own_agents(self, cast: Cast, api_as: ApiAs) -> None:
        switched_off(cast.operaciones)

        assert listed(api_as(cast.agent_ops, "read")) == []
        assert listed(api_as(cast.agent, "read")) == ["soporte-tecnico"]


class TestWhoMayList:
    @pytest.mark.parametrize("scope", ["read", "write"])
    def test_any_scope_reads(self, cast: Cast, api_as: ApiAs, scope: str) -> None:
        assert listed(api_as(cast.agent, scope)) == ["soporte-tecnico"]

    def test_an_admin_token_reads_too(self, cast: Cast, api_as: ApiAs) -> None:
        assert listed(api_as(cast.admin, "admin")) == in_order(EVERY_ACTIVE)

    def test_no_token_is_401(self, cast: Cast) -> None:
        problem(ApiClient(None).get(DEPARTMENTS), 401, "unauthorized")

    def test_there_is_no_way_to_write_departments(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.admin, "admin").post(DEPARTMENTS, {"name": "Ventas"})

        assert response.status_code == 405
        assert not Department.objects.filter(name="Ventas").exists()
