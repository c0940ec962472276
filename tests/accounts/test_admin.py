"""The admin: customer accounts with their addresses and services, users, departments."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from atiende.accounts.models import User
from tests.accounts.conftest import client_for
from tests.conftest import Cast


@pytest.fixture
def admin_client_(cast: Cast) -> Client:
    return client_for(cast.admin)


@pytest.mark.parametrize("model", ["account", "user", "department"])
def test_the_lists_open(cast: Cast, admin_client_: Client, model: str) -> None:
    assert admin_client_.get(reverse(f"admin:accounts_{model}_changelist")).status_code == 200


def test_an_account_shows_its_users_addresses_and_services(
    cast: Cast, admin_client_: Client
) -> None:
    response = admin_client_.get(reverse("admin:accounts_account_change", args=[cast.account.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    for text in ("ana@example.com", "ejemplo.mx", "authorized_addresses"):
        assert text in body


def test_users_are_listed_and_found_by_email(cast: Cast, admin_client_: Client) -> None:
    response = admin_client_.get(reverse("admin:accounts_user_changelist"), {"q": "beto@"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [cast.beto]
    body = response.content.decode()
    assert "Beto Ruiz" in body
    assert "Hosting Ejemplo S.A." in body


def test_a_user_shows_his_department_memberships(cast: Cast, admin_client_: Client) -> None:
    response = admin_client_.get(reverse("admin:accounts_user_change", args=[cast.agent.pk]))

    assert response.status_code == 200
    assert "memberships" in response.content.decode()


def test_a_user_is_created_with_a_normalized_address(cast: Cast, admin_client_: Client) -> None:
    response = admin_client_.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Nuevo@Example.com",
            "usable_password": "true",
            "password1": "una-clave-larga-de-alta",
            "password2": "una-clave-larga-de-alta",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(email="nuevo@example.com").check_password("una-clave-larga-de-alta")


def test_a_second_user_with_the_same_address_in_other_case_is_refused(
    cast: Cast, admin_client_: Client
) -> None:
    response = admin_client_.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "ANA@example.com",
            "usable_password": "true",
            "password1": "una-clave-larga-de-alta",
            "password2": "una-clave-larga-de-alta",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]


def test_customers_cannot_enter(cast: Cast, ana_client: Client) -> None:
    response = ana_client.get(reverse("admin:accounts_account_changelist"))

    assert response.status_code == 302
