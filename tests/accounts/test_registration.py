"""Registration: an account, its unconfirmed holder and main address; a link to confirm; and
never a hint of whether an address already has an account."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from atiende.accounts.models import Account, AuthorizedAddress, User
from atiende.core.clock import now
from tests.accounts.conftest import outbox
from tests.conftest import PASSWORD, Cast

REGISTER = reverse("accounts:register")
NEW_PASSWORD = "otra-clave-bastante-larga"


def form(**overrides: str) -> dict[str, str]:
    data = {
        "full_name": "Carla Núñez",
        "email": "carla@example.org",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "account_name": "",
    }
    data.update(overrides)
    return data


def link_in(text: str, path_start: str) -> str:
    match = re.search(rf"https?://[^\s\"<>]+?({re.escape(path_start)}[^\s\"<>]*)", text)
    assert match, f"no link to {path_start} in: {text}"
    return match.group(1)


def register(client: Client, captured: Any, **overrides: str) -> Any:
    with captured(execute=True):
        return client.post(REGISTER, form(**overrides))


class TestANewAddress:
    def test_opens_an_account_held_by_an_unconfirmed_user(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        response = register(client, django_capture_on_commit_callbacks)

        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:register_sent")
        user = User.objects.get(email="carla@example.org")
        assert user.full_name == "Carla Núñez"
        assert user.email_confirmed_at is None
        assert user.check_password(NEW_PASSWORD)
        assert user.account is not None
        assert user.account.name == "Carla Núñez"  # the person's name when no company is given
        main = AuthorizedAddress.objects.get(account=user.account)
        assert main.email == "carla@example.org"
        assert main.confirmed_at is None

    def test_takes_the_company_name_when_given(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks, account_name="  Núñez Hosting  ")

        assert Account.objects.get(users__email="carla@example.org").name == "Núñez Hosting"

    def test_mails_one_confirmation_link_through_the_outbox(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks)

        [row] = outbox()
        assert row.template == "account_confirm"
        assert row.to == "carla@example.org"
        [sent] = mail.outbox
        assert sent.to == ["carla@example.org"]
        assert link_in(str(sent.body), "/cuenta/registro/confirmar/")

    def test_the_user_cannot_log_in_before_confirming(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks)

        response = client.post(
            reverse("accounts:login"), {"username": "carla@example.org", "password": NEW_PASSWORD}
        )

        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
        assert "not confirmed yet" in response.content.decode()

    def test_the_link_confirms_the_user_and_the_main_address_and_logs_in(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks)
        link = link_in(outbox()[0].body_text, "/cuenta/registro/confirmar/")

        visitor = Client()
        response = visitor.get(link)

        assert response.status_code == 302
        assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
        user = User.objects.get(email="carla@example.org")
        assert user.email_confirmed_at is not None
        assert AuthorizedAddress.objects.get(account=user.account).confirmed_at is not None
        assert visitor.session["_auth_user_id"] == str(user.pk)

    def test_a_second_visit_of_the_link_confirms_nothing_new_and_logs_nobody_in(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks)
        link = link_in(outbox()[0].body_text, "/cuenta/registro/confirmar/")
        Client().get(link)

        again = Client()
        response = again.get(link)

        assert response.status_code == 200
        assert "already confirmed" in response.content.decode()
        assert "_auth_user_id" not in again.session

    def test_an_expired_link_is_refused_with_a_clear_page(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks)
        link = link_in(outbox()[0].body_text, "/cuenta/registro/confirmar/")

        with time_machine.travel(now() + timedelta(days=3, minutes=1)):
            response = Client().get(link)

        assert response.status_code == 400
        assert "This confirmation link has expired." in response.content.decode()
        assert User.objects.get(email="carla@example.org").email_confirmed_at is None

    def test_a_damaged_link_is_refused(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks)
        link = link_in(outbox()[0].body_text, "/cuenta/registro/confirmar/")

        response = Client().get(link[:-3] + "xyz/")

        assert response.status_code == 400
        assert "not valid" in response.content.decode()
        assert User.objects.get(email="carla@example.org").email_confirmed_at is None

    def test_a_link_for_an_address_the_user_no_longer_has_is_refused(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks)
        link = link_in(outbox()[0].body_text, "/cuenta/registro/confirmar/")
        User.objects.filter(email="carla@example.org").update(email="carla@example.net")

        response = Client().get(link)

        assert response.status_code == 400
        assert User.objects.get(email="carla@example.net").email_confirmed_at is None

    def test_the_link_does_not_carry_the_address(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks)
        link = link_in(outbox()[0].body_text, "/cuenta/registro/confirmar/")

        assert (
            "carla"
            not in base64.urlsafe_b64decode(link.split("/")[-2].split(":")[0] + "==").decode()
        )


class TestAnAddressThatHasAnAccount:
    def test_answers_exactly_like_a_new_address(
        self, cast: Cast, django_capture_on_commit_callbacks: Any
    ) -> None:
        new, known = Client(), Client()
        new_response = register(new, django_capture_on_commit_callbacks)
        known_response = register(
            known, django_capture_on_commit_callbacks, email="ana@example.com"
        )

        assert known_response.status_code == new_response.status_code == 302
        assert known_response["Location"] == new_response["Location"]
        assert known_response.content == new_response.content
        new_page = new.get(new_response["Location"])
        known_page = known.get(known_response["Location"])
        assert new_page.status_code == known_page.status_code == 200
        # The pages differ only by each visitor's CSRF token.
        assert _without_csrf(known_page.content) == _without_csrf(new_page.content)
        assert len(outbox()) == 2  # one row each

    def test_creates_nothing_and_mails_the_owner_a_reset_link(
        self, cast: Cast, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        accounts, users = Account.objects.count(), User.objects.count()

        register(client, django_capture_on_commit_callbacks, email="  ANA@Example.com ")

        assert (Account.objects.count(), User.objects.count()) == (accounts, users)
        assert cast.ana.check_password(PASSWORD)
        [row] = outbox()  # one row, as for a new address
        assert row.template == "account_exists"
        assert row.to == "ana@example.com"
        [sent] = mail.outbox
        assert sent.to == ["ana@example.com"]
        reset = link_in(str(sent.body), "/cuenta/clave/recuperar/")
        page = client.get(reset, follow=True)
        assert page.status_code == 200
        assert page.context["validlink"] is True

    def test_the_reset_link_of_that_mail_lets_the_owner_choose_a_password(
        self, cast: Cast, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        register(client, django_capture_on_commit_callbacks, email="ana@example.com")
        reset = link_in(outbox()[0].body_text, "/cuenta/clave/recuperar/")

        page = client.get(reset)
        client.post(
            page["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )

        cast.ana.refresh_from_db()
        assert cast.ana.check_password(NEW_PASSWORD)


def _without_csrf(content: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content.decode())


class TestBadInput:
    def test_different_passwords_create_nothing_and_keep_what_was_typed(
        self, client: Client, db: None
    ) -> None:
        response = client.post(REGISTER, form(password2="no-es-la-misma-clave"))

        assert response.status_code == 200
        body = response.content.decode()
        assert "The two passwords are different." in body
        assert 'value="Carla Núñez"' in body
        assert 'value="carla@example.org"' in body
        assert not User.objects.filter(email="carla@example.org").exists()
        assert outbox() == []

    @pytest.mark.parametrize("weak", ["12345678", "carla@example.org", "corta"])
    def test_a_weak_password_is_refused(self, client: Client, db: None, weak: str) -> None:
        response = client.post(REGISTER, form(password1=weak, password2=weak))

        assert response.status_code == 200
        assert response.context["form"].errors["password1"]
        assert not User.objects.filter(email="carla@example.org").exists()

    def test_an_invalid_address_is_refused(self, client: Client, db: None) -> None:
        response = client.post(REGISTER, form(email="carla-en-example.org"))

        assert response.context["form"].errors["email"]
        assert outbox() == []

    def test_what_a_person_types_is_escaped(self, client: Client, db: None) -> None:
        response = client.post(
            REGISTER, form(full_name="<script>alert(1)</script>", password2="distinta-clave-1")
        )

        body = response.content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
