"""The staff's own login at /consola/entrar/: staff only, same brake on guessing as customers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from atiende.tickets.models import Ticket
from tests.conftest import PASSWORD, Cast
from tests.portal.conftest import html, login

OpenTicket = Callable[..., Ticket]
LOGIN = reverse("console:login")
LOGOUT = reverse("console:logout")
QUEUE = reverse("console:queue")
WRONG = "no-es-la-clave"


def english() -> Client:
    """An anonymous browser that reads English (the msgids)."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def attempt(client: Client, email: str, password: str, ip: str = "10.9.0.1", **data: str) -> Any:
    return client.post(LOGIN, {"username": email, "password": password, **data}, REMOTE_ADDR=ip)


def logged_in_as(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


class TestThePage:
    def test_has_labelled_fields_worded_buttons_and_the_way_to_the_client_area(
        self, db: None
    ) -> None:
        page = html(english().get(LOGIN))

        assert '<label for="id_username">E-mail' in page
        assert '<label for="id_password">Password' in page
        assert '<button type="submit">Log in</button>' in page
        assert f'action="{LOGIN}"' in page
        assert f'href="{reverse("accounts:login")}"' in page

    def test_staff_already_logged_in_go_straight_to_the_queue(self, cast: Cast) -> None:
        response = login(cast.agent).get(LOGIN)

        assert response.status_code == 302
        assert response["Location"] == QUEUE

    def test_a_customer_session_gets_the_form_and_a_word_about_it(self, cast: Cast) -> None:
        response = login(cast.ana).get(LOGIN)

        assert response.status_code == 200
        page = html(response)
        assert "The console is for staff" in page
        assert '<label for="id_username">' in page


class TestLoggingIn:
    def test_the_home_page_sends_staff_to_the_console(self, cast: Cast) -> None:
        response = login(cast.agent).get("/")

        assert response.status_code == 302
        assert response["Location"] == QUEUE

    def test_a_customer_session_can_be_traded_for_a_staff_one(self, cast: Cast) -> None:
        client = login(cast.ana)

        response = attempt(client, cast.agent.email, PASSWORD)

        assert response["Location"] == QUEUE
        assert logged_in_as(client) == str(cast.agent.pk)
        assert client.get(QUEUE).status_code == 200

    @pytest.mark.parametrize("who", ["agent", "supervisor", "admin"])
    def test_staff_land_on_the_queue(self, cast: Cast, who: str) -> None:
        user = getattr(cast, who)
        client = english()

        response = attempt(client, f" {user.email.upper()} ", PASSWORD)

        assert response.status_code == 302
        assert response["Location"] == QUEUE
        assert logged_in_as(client) == str(user.pk)

    def test_a_console_next_is_followed_anything_else_ignored(self, cast: Cast) -> None:
        wanted = f"{QUEUE}?vista=todos"
        assert attempt(english(), cast.agent.email, PASSWORD, next=wanted)["Location"] == wanted
        for elsewhere in ("/cuenta/perfil/", "https://evil.test/consola/", "//evil.test/"):
            response = attempt(english(), cast.agent.email, PASSWORD, next=elsewhere)
            assert response["Location"] == QUEUE, elsewhere

    @pytest.mark.parametrize("who", ["ana", "beto", "otro"])
    def test_a_customers_right_password_is_refused_with_words_that_say_why(
        self, cast: Cast, who: str
    ) -> None:
        client = english()

        response = attempt(client, getattr(cast, who).email, PASSWORD)

        assert response.status_code == 200
        assert "This login is for staff." in html(response)
        assert logged_in_as(client) is None

    def test_a_wrong_password_says_nothing_about_who_exists(self, cast: Cast) -> None:
        known = attempt(english(), cast.agent.email, WRONG)
        unknown = attempt(english(), "nadie@example.com", WRONG)
        customer = attempt(english(), cast.ana.email, WRONG)

        errors = {tuple(r.context["form"].non_field_errors()) for r in (known, unknown, customer)}
        assert len(errors) == 1
        assert "This login is for staff." not in html(customer)

    def test_an_inactive_agent_cannot_log_in(self, cast: Cast) -> None:
        cast.agent.is_active = False
        cast.agent.save()
        client = english()

        assert attempt(client, cast.agent.email, PASSWORD).status_code == 200
        assert logged_in_as(client) is None


class TestRepeatedFailures:
    def test_failures_lock_the_account_and_the_console_says_so_on_its_own_page(
        self, cast: Cast
    ) -> None:
        responses = [
            attempt(english(), cast.agent.email, WRONG, ip=f"10.9.1.{n}")
            for n in range(settings.AXES_FAILURE_LIMIT)
        ]
        client = english()
        locked = attempt(client, cast.agent.email, PASSWORD, ip="10.9.2.1")

        assert [r.status_code for r in responses] == [200] * 4 + [429]
        assert locked.status_code == 429
        assert logged_in_as(client) is None
        page = html(locked)
        assert "Too many failed attempts" in page
        assert f'action="{LOGIN}"' in page  # the console's form, not the customers'

    def test_failures_count_across_both_login_pages(self, cast: Cast) -> None:
        customers_login = reverse("accounts:login")
        for n in range(settings.AXES_FAILURE_LIMIT - 1):
            english().post(
                customers_login,
                {"username": cast.agent.email, "password": WRONG},
                REMOTE_ADDR=f"10.9.3.{n}",
            )

        assert attempt(english(), cast.agent.email, WRONG, ip="10.9.4.1").status_code == 429

    def test_the_customers_lockout_page_is_still_theirs(self, cast: Cast) -> None:
        customers_login = reverse("accounts:login")
        for n in range(settings.AXES_FAILURE_LIMIT):
            response = english().post(
                customers_login,
                {"username": cast.ana.email, "password": WRONG},
                REMOTE_ADDR=f"10.9.5.{n}",
            )

        assert response.status_code == 429
        assert f'action="{customers_login}"' in html(response)


class TestLoggingOut:
    def test_only_a_post_logs_out_and_it_lands_on_the_console_login(self, cast: Cast) -> None:
        client = login(cast.agent)
        assert client.get(LOGOUT).status_code == 405
        assert logged_in_as(client) == str(cast.agent.pk)

        response = client.post(LOGOUT)

        assert response.status_code == 302
        assert response["Location"] == LOGIN
        assert logged_in_as(client) is None

    def test_the_console_pages_log_staff_out_through_the_console(self, cast: Cast) -> None:
        page = html(login(cast.agent).get(QUEUE))

        assert f'<form action="{LOGOUT}" method="post">' in page


class TestNobodyButStaffGetsIn:
    """Anonymous visitors and customers get the console's login page, never data."""

    @pytest.fixture
    def urls(self, cast: Cast, open_ticket: OpenTicket) -> list[str]:
        ticket = open_ticket(customer=cast.ana, subject="Secreto de Ana")
        return [
            QUEUE,
            f"{QUEUE}?vista=todos",
            f"{QUEUE}?vista=mios&estado=open",
            f"{reverse('console:jump')}?id={ticket.reference}",
            f"{reverse('console:search')}?q=Secreto",
            reverse("console:ticket", kwargs={"reference": ticket.reference}),
        ]

    @pytest.mark.parametrize("who", ["anonymous", "ana", "otro"])
    def test_every_console_url_sends_them_to_the_console_login(
        self, cast: Cast, urls: list[str], who: str
    ) -> None:
        client = english() if who == "anonymous" else login(getattr(cast, who))
        for url in urls:
            response = client.get(url)

            assert response.status_code == 302, url
            assert response["Location"].startswith(f"{LOGIN}?next="), url
            assert b"Secreto" not in response.content

    def test_after_logging_in_the_agent_comes_back_to_the_page_he_asked_for(
        self, cast: Cast
    ) -> None:
        client = english()
        wanted = f"{QUEUE}?vista=todos"
        sent_to = client.get(wanted)["Location"]

        form_page = html(client.get(sent_to))
        response = attempt(client, cast.agent.email, PASSWORD, next=wanted)

        assert 'name="next"' in form_page
        assert response["Location"] == wanted
