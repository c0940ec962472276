"""Logging in with the e-mail address, logging out, and the brake on guessing passwords."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from atiende.core.clock import now
from tests.conftest import PASSWORD, Cast

LOGIN = reverse("accounts:login")
LOGOUT = reverse("accounts:logout")
WRONG = "no-es-la-clave"
LOCKED = "Too many failed attempts. Wait 10 minutes and try again."


def attempt(client: Client, email: str, password: str, ip: str = "10.0.0.1", **data: str) -> Any:
    return client.post(LOGIN, {"username": email, "password": password, **data}, REMOTE_ADDR=ip)


def logged_in_as(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


class TestLogin:
    def test_the_login_page_has_labelled_fields(self, client: Client, db: None) -> None:
        body = client.get(LOGIN).content.decode()

        assert '<label for="id_username">E-mail' in body
        assert '<label for="id_password">' in body
        assert reverse("accounts:register") in body
        assert reverse("accounts:password_reset") in body

    def test_a_customer_logs_in_with_his_address_in_any_case(
        self, cast: Cast, client: Client
    ) -> None:
        response = client.post(LOGIN, {"username": " Ana@Example.COM ", "password": PASSWORD})

        assert response.status_code == 302
        assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
        assert logged_in_as(client) == str(cast.ana.pk)

    def test_a_safe_next_is_followed_and_a_foreign_one_ignored(
        self, cast: Cast, client: Client
    ) -> None:
        safe = client.post(
            LOGIN, {"username": "ana@example.com", "password": PASSWORD, "next": "/cuenta/perfil/"}
        )
        assert safe["Location"] == "/cuenta/perfil/"

        other = Client()
        foreign = other.post(
            LOGIN,
            {"username": "ana@example.com", "password": PASSWORD, "next": "https://evil.test/"},
        )
        assert foreign["Location"] == reverse(settings.LOGIN_REDIRECT_URL)

    def test_staff_go_to_the_same_place(self, cast: Cast, client: Client) -> None:
        response = client.post(LOGIN, {"username": "agente@example.com", "password": PASSWORD})

        assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)

    def test_a_wrong_password_says_so_without_saying_which_part_is_wrong(
        self, cast: Cast, client: Client
    ) -> None:
        known = attempt(client, "ana@example.com", WRONG)
        unknown = attempt(Client(), "nadie@example.com", WRONG)

        assert known.status_code == unknown.status_code == 200
        assert known.context["form"].non_field_errors() == (
            unknown.context["form"].non_field_errors()
        )
        assert logged_in_as(client) is None

    def test_an_anonymous_visitor_is_sent_to_the_login_page_and_back(
        self, client: Client, db: None
    ) -> None:
        for name in ("profile", "addresses", "services", "password_change"):
            url = reverse(f"accounts:{name}")
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"] == f"{LOGIN}?next={url}"


class TestLogout:
    def test_only_a_post_logs_out(self, cast: Cast, ana_client: Client) -> None:
        assert ana_client.get(LOGOUT).status_code == 405
        assert logged_in_as(ana_client) == str(cast.ana.pk)

        response = ana_client.post(LOGOUT)

        assert response.status_code == 302
        assert response["Location"] == reverse(settings.LOGOUT_REDIRECT_URL)
        assert logged_in_as(ana_client) is None


class TestRepeatedFailures:
    def test_five_failures_on_one_account_from_many_places_lock_it(
        self, cast: Cast, client: Client
    ) -> None:
        for number in range(settings.AXES_FAILURE_LIMIT):
            attempt(Client(), "ana@example.com", WRONG, ip=f"10.0.1.{number}")

        response = attempt(client, "ana@example.com", PASSWORD, ip="10.0.2.1")

        assert response.status_code == 429
        assert LOCKED in response.content.decode()
        assert logged_in_as(client) is None

    def test_five_failures_from_one_place_over_many_accounts_lock_the_place(
        self, cast: Cast, client: Client
    ) -> None:
        for email in (
            "beto@example.com",
            "otro@example.net",
            "x@example.com",
            "y@example.com",
            "z@example.com",
        ):
            attempt(Client(), email, WRONG, ip="10.0.3.1")

        response = attempt(client, "ana@example.com", PASSWORD, ip="10.0.3.1")

        assert response.status_code == 429
        assert logged_in_as(client) is None
        # The account itself is not locked: from elsewhere Ana gets in.
        elsewhere = Client()
        assert attempt(elsewhere, "ana@example.com", PASSWORD, ip="10.0.3.2").status_code == 302

    def test_the_fifth_failure_already_answers_with_the_lockout_page(
        self, cast: Cast, client: Client
    ) -> None:
        responses = [
            attempt(client, "ana@example.com", WRONG) for _ in range(settings.AXES_FAILURE_LIMIT)
        ]

        assert [r.status_code for r in responses] == [200] * 4 + [429]
        body = responses[-1].content.decode()
        assert LOCKED in body
        assert '<label for="id_username">' in body  # the form is there, for after the wait

    def test_the_lockout_page_is_the_same_for_an_address_without_account(self, cast: Cast) -> None:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            known = attempt(Client(), "ana@example.com", WRONG, ip="10.0.4.1")
            unknown = attempt(Client(), "nadie@example.com", WRONG, ip="10.0.4.2")

        assert known.status_code == unknown.status_code == 429
        known_body = known.content.decode().replace("ana@example.com", "X")
        unknown_body = unknown.content.decode().replace("nadie@example.com", "X")
        assert _strip_csrf(known_body) == _strip_csrf(unknown_body)

    def test_the_wait_ends(self, cast: Cast, client: Client) -> None:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            attempt(client, "ana@example.com", WRONG)
        wait = timedelta(hours=settings.AXES_COOLOFF_TIME, seconds=1)

        with time_machine.travel(now() + wait):
            assert attempt(client, "ana@example.com", PASSWORD).status_code == 302

    def test_a_success_resets_the_count(self, cast: Cast, client: Client) -> None:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            attempt(Client(), "ana@example.com", WRONG)
        assert attempt(Client(), "ana@example.com", PASSWORD).status_code == 302

        again = [
            attempt(Client(), "ana@example.com", WRONG)
            for _ in range(settings.AXES_FAILURE_LIMIT - 1)
        ]

        assert {r.status_code for r in again} == {200}
        assert attempt(client, "ana@example.com", PASSWORD).status_code == 302

    @pytest.mark.parametrize("spelling", ["ANA@example.com", " ana@EXAMPLE.com"])
    def test_other_spellings_of_the_address_count_as_the_same_account(
        self, cast: Cast, client: Client, spelling: str
    ) -> None:
        for number in range(settings.AXES_FAILURE_LIMIT):
            attempt(Client(), spelling, WRONG, ip=f"10.0.5.{number}")

        assert attempt(client, "ana@example.com", PASSWORD, ip="10.0.6.1").status_code == 429


def _strip_csrf(body: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
