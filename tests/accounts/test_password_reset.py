"""Password reset by e-mail, through the outbox; and changing the password when logged in."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from atiende.accounts.models import AuthorizedAddress, User
from atiende.core.clock import now
from tests.accounts.conftest import outbox
from tests.conftest import PASSWORD, Cast

RESET = reverse("accounts:password_reset")
NEW_PASSWORD = "una-clave-nueva-y-larga"


def ask(client: Client, captured: Any, email: str) -> Any:
    with captured(execute=True):
        return client.post(RESET, {"email": email})


def reset_link(body: str) -> str:
    match = re.search(r"https?://[^\s\"<>]+?(/cuenta/clave/recuperar/[^\s\"<>]+)", body)
    assert match, body
    return match.group(1)


def choose(client: Client, link: str, password: str = NEW_PASSWORD) -> Any:
    """Follow the link from the mail and choose a password, as a person would."""
    page = client.get(link, follow=True)
    if not page.context["validlink"]:
        return page
    return client.post(
        page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )


def without_csrf(content: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content.decode())


class TestAsking:
    def test_a_known_address_gets_a_link_through_the_outbox(
        self, cast: Cast, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        response = ask(client, django_capture_on_commit_callbacks, "Ana@Example.com")

        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:password_reset_done")
        [row] = outbox()
        assert (row.template, row.to) == ("account_password_reset", "ana@example.com")
        [sent] = mail.outbox
        assert sent.to == ["ana@example.com"]
        assert reset_link(str(sent.body))

    def test_an_unknown_address_is_told_there_is_no_account_and_the_answer_is_the_same(
        self, cast: Cast, django_capture_on_commit_callbacks: Any
    ) -> None:
        known, unknown = Client(), Client()
        known_response = ask(known, django_capture_on_commit_callbacks, "ana@example.com")
        unknown_response = ask(unknown, django_capture_on_commit_callbacks, "Nadie@Example.com")

        assert unknown_response.status_code == known_response.status_code == 302
        assert unknown_response["Location"] == known_response["Location"]
        assert without_csrf(unknown.get(unknown_response["Location"]).content) == without_csrf(
            known.get(known_response["Location"]).content
        )
        row = outbox()[-1]
        assert (row.template, row.to) == ("account_no_account", "nadie@example.com")
        assert reverse("accounts:register") in row.body_text
        assert "/cuenta/clave/recuperar/" not in row.body_text
        assert len(mail.outbox) == 2

    def test_a_deactivated_user_gets_no_link(
        self, cast: Cast, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        User.objects.filter(pk=cast.beto.pk).update(is_active=False)

        ask(client, django_capture_on_commit_callbacks, "beto@example.com")

        [row] = outbox()
        assert row.template == "account_no_account"

    def test_an_invalid_address_is_refused_with_the_error_beside_the_field(
        self, client: Client, db: None
    ) -> None:
        response = client.post(RESET, {"email": "no-es-correo"})

        assert response.status_code == 200
        assert 'id="id_email_error"' in response.content.decode()
        assert outbox() == []


class TestTheLink:
    def test_sets_a_new_password(
        self, cast: Cast, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        ask(client, django_capture_on_commit_callbacks, "ana@example.com")

        response = choose(client, reset_link(outbox()[0].body_text))

        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:password_reset_complete")
        cast.ana.refresh_from_db()
        assert cast.ana.check_password(NEW_PASSWORD)
        assert not cast.ana.check_password(PASSWORD)

    def test_works_only_once(
        self, cast: Cast, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        ask(client, django_capture_on_commit_callbacks, "ana@example.com")
        link = reset_link(outbox()[0].body_text)
        choose(client, link)

        again = Client().get(link, follow=True)

        assert again.status_code == 200
        assert again.context["validlink"] is False
        assert "already used or has expired" in again.content.decode()
        cast.ana.refresh_from_db()
        assert cast.ana.check_password(NEW_PASSWORD)

    def test_expires(
        self, cast: Cast, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        ask(client, django_capture_on_commit_callbacks, "ana@example.com")
        link = reset_link(outbox()[0].body_text)

        later = now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
        with time_machine.travel(later):
            response = choose(Client(), link)

        assert response.context["validlink"] is False
        assert "already used or has expired" in response.content.decode()
        assert reverse("accounts:password_reset") in response.content.decode()
        cast.ana.refresh_from_db()
        assert cast.ana.check_password(PASSWORD)

    def test_a_weak_password_is_refused_and_the_link_still_works(
        self, cast: Cast, client: Client, django_capture_on_commit_callbacks: Any
    ) -> None:
        ask(client, django_capture_on_commit_callbacks, "ana@example.com")
        link = reset_link(outbox()[0].body_text)

        weak = choose(client, link, password="12345678")

        assert weak.status_code == 200
        assert weak.context["form"].errors["new_password2"]
        assert choose(client, link).status_code == 302

    def test_confirms_the_address_of_a_user_who_never_confirmed_it(
        self, client: Client, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("accounts:register"),
                {
                    "full_name": "Dora",
                    "email": "dora@example.org",
                    "password1": PASSWORD,
                    "password2": PASSWORD,
                },
            )
        ask(client, django_capture_on_commit_callbacks, "dora@example.org")
        link = reset_link(outbox("account_password_reset")[0].body_text)

        choose(client, link)

        dora = User.objects.get(email="dora@example.org")
        assert dora.email_confirmed_at is not None
        assert AuthorizedAddress.objects.get(account=dora.account).confirmed_at is not None
        login = Client().post(
            reverse("accounts:login"), {"username": "dora@example.org", "password": NEW_PASSWORD}
        )
        assert login.status_code == 302


class TestChangingThePassword:
    def test_needs_the_old_password(self, cast: Cast, ana_client: Client) -> None:
        url = reverse("accounts:password_change")
        wrong = ana_client.post(
            url,
            {
                "old_password": "no-es-la-clave",
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert wrong.status_code == 200
        assert wrong.context["form"].errors["old_password"]

        right = ana_client.post(
            url,
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )

        assert right.status_code == 302
        assert right["Location"] == reverse("accounts:profile")
        cast.ana.refresh_from_db()
        assert cast.ana.check_password(NEW_PASSWORD)
        # Still logged in: the session follows the new password.
        assert ana_client.get(reverse("accounts:profile")).status_code == 200

    def test_the_profile_links_to_it(self, ana_client: Client) -> None:
        body = ana_client.get(reverse("accounts:profile")).content.decode()

        assert reverse("accounts:password_change") in body
