"""The account's services, read-only: only those of the customer's own account."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atiende.accounts.models import Service
from tests.accounts.conftest import client_for
from tests.conftest import Cast

SERVICES = reverse("accounts:services")


def test_lists_the_accounts_services_with_kind_plan_and_status(
    cast: Cast, ana_client: Client
) -> None:
    response = ana_client.get(SERVICES)

    assert list(response.context["services"]) == [cast.domain, cast.hosting, cast.cancelled_ssl]
    body = response.content.decode()
    for text in (
        "ejemplo.mx",
        "Plan Pyme",
        "Hosting plan",
        "ejemplo.com.mx",
        "Domain",
        "www.ejemplo.mx",
        "SSL certificate",
        "Cancelled",
        "Active",
    ):
        assert text in body
    assert "otra.net" not in body


def test_the_other_account_sees_only_its_own(cast: Cast, otro_client: Client) -> None:
    response = otro_client.get(SERVICES)

    assert list(response.context["services"]) == [cast.other_domain]
    assert "ejemplo.mx" not in response.content.decode()


def test_offers_no_way_to_change_them(cast: Cast, ana_client: Client) -> None:
    body = ana_client.get(SERVICES).content.decode()
    main = body.split('<main id="main">', 1)[1]

    assert "<form" not in main
    assert ana_client.post(SERVICES).status_code == 405


def test_service_names_are_escaped(cast: Cast, ana_client: Client) -> None:
    Service.objects.create(account=cast.account, kind="other", name="<img src=x onerror=y()>")

    body = ana_client.get(SERVICES).content.decode()

    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=y()&gt;" in body


def test_costs_the_same_queries_with_many_services(cast: Cast, ana_client: Client) -> None:
    ana_client.get(SERVICES)
    with CaptureQueriesContext(connection) as few:
        ana_client.get(SERVICES)
    for number in range(10):
        Service.objects.create(account=cast.account, kind="domain", name=f"d{number}.mx")
    with CaptureQueriesContext(connection) as many:
        ana_client.get(SERVICES)

    assert len(many) == len(few)


def test_a_staff_user_without_account_finds_nothing(cast: Cast) -> None:
    assert client_for(cast.agent).get(SERVICES).status_code == 404
