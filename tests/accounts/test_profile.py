"""The profile: name, language and time zone; the user's language follows him everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from atiende.accounts.models import User
from tests.accounts.conftest import client_for
from tests.conftest import PASSWORD, Cast

PROFILE = reverse("accounts:profile")
COOKIE = settings.LANGUAGE_COOKIE_NAME


def html_lang(response: Any) -> str:
    body: str = response.content.decode()
    start = body.index('<html lang="') + len('<html lang="')
    return body[start : body.index('"', start)]


class TestProfilePage:
    def test_shows_the_user_his_data_in_labelled_fields(
        self, cast: Cast, ana_client: Client
    ) -> None:
        body = ana_client.get(PROFILE).content.decode()

        assert "ana@example.com" in body
        assert 'value="Ana Torres"' in body
        for field in ("full_name", "language", "timezone"):
            assert f'<label for="id_{field}">' in body
        assert '<option value="America/Mexico_City" selected>' in body

    def test_saves_name_language_and_time_zone(self, cast: Cast, ana_client: Client) -> None:
        response = ana_client.post(
            PROFILE,
            {"full_name": "  Ana  Torres Gil ", "language": "en", "timezone": "Europe/Madrid"},
        )

        assert response.status_code == 302
        cast.ana.refresh_from_db()
        assert (cast.ana.full_name, cast.ana.language, cast.ana.timezone) == (
            "Ana Torres Gil",
            "en",
            "Europe/Madrid",
        )
        assert response.cookies[COOKIE].value == "en"
        page = ana_client.get(PROFILE)
        assert html_lang(page) == "en"
        assert "Your profile has been saved." in page.content.decode()

    def test_refuses_a_time_zone_outside_the_list_and_changes_nothing(
        self, cast: Cast, ana_client: Client
    ) -> None:
        response = ana_client.post(
            PROFILE, {"full_name": "Otro Nombre", "language": "es", "timezone": "Mars/Olympus"}
        )

        assert response.status_code == 200
        assert response.context["form"].errors["timezone"]
        assert 'value="Otro Nombre"' in response.content.decode()  # nothing typed is lost
        cast.ana.refresh_from_db()
        assert cast.ana.full_name == "Ana Torres"

    def test_refuses_a_language_we_do_not_offer(self, cast: Cast, ana_client: Client) -> None:
        response = ana_client.post(
            PROFILE, {"full_name": "Ana", "language": "fr", "timezone": "UTC"}
        )

        assert response.context["form"].errors["language"]
        cast.ana.refresh_from_db()
        assert cast.ana.language == "es"

    def test_keeps_a_zone_an_administrator_set_outside_the_list(
        self, cast: Cast, ana_client: Client
    ) -> None:
        User.objects.filter(pk=cast.ana.pk).update(timezone="Pacific/Auckland")

        body = ana_client.get(PROFILE).content.decode()

        assert '<option value="Pacific/Auckland" selected>' in body

    def test_the_name_is_escaped(self, cast: Cast, ana_client: Client) -> None:
        User.objects.filter(pk=cast.ana.pk).update(full_name='"><script>x()</script>')

        body = ana_client.get(PROFILE).content.decode()

        assert "<script>x()</script>" not in body

    def test_staff_see_their_own_profile(self, cast: Cast) -> None:
        response = client_for(cast.agent).get(PROFILE)

        assert response.status_code == 200
        assert "agente@example.com" in response.content.decode()


class TestTheLanguageFollowsTheUser:
    def test_logging_in_switches_to_the_saved_language(self, cast: Cast) -> None:
        User.objects.filter(pk=cast.ana.pk).update(language="en")
        client = Client()
        client.cookies[COOKIE] = "es"  # the browser's earlier choice
        client.post(
            reverse("accounts:login"), {"username": "ana@example.com", "password": PASSWORD}
        )

        page = client.get(PROFILE)

        assert html_lang(page) == "en"
        assert page.cookies[COOKIE].value == "en"  # the cookie is corrected too

    def test_a_browser_asking_for_another_language_gets_the_saved_one(self, cast: Cast) -> None:
        client = client_for(cast.otro)
        assert html_lang(client.get(PROFILE, HTTP_ACCEPT_LANGUAGE="en")) == "es"

    def test_the_header_selector_saves_the_choice_in_the_profile(
        self, cast: Cast, ana_client: Client
    ) -> None:
        response = ana_client.post(
            reverse("accounts:set_language"), {"language": "en", "next": "/cuenta/servicios/"}
        )

        assert response.status_code == 302
        assert response["Location"] == "/cuenta/servicios/"
        cast.ana.refresh_from_db()
        assert cast.ana.language == "en"
        assert html_lang(ana_client.get(PROFILE)) == "en"
        # And it stays after logging out and in again elsewhere.
        other = Client()
        other.post(reverse("accounts:login"), {"username": "ana@example.com", "password": PASSWORD})
        assert html_lang(other.get(PROFILE)) == "en"

    def test_the_header_selector_posts_to_the_saving_view(self, ana_client: Client) -> None:
        body = ana_client.get(PROFILE).content.decode()

        assert f'action="{reverse("accounts:set_language")}"' in body

    def test_an_anonymous_visitor_only_gets_the_cookie(self, client: Client, db: None) -> None:
        response = client.post(reverse("accounts:set_language"), {"language": "en", "next": "/"})

        assert response.cookies[COOKIE].value == "en"
        assert html_lang(client.get(reverse("accounts:login"))) == "en"

    def test_a_language_we_do_not_offer_changes_nothing(
        self, cast: Cast, ana_client: Client
    ) -> None:
        ana_client.post(reverse("accounts:set_language"), {"language": "xx", "next": "/"})

        cast.ana.refresh_from_db()
        assert cast.ana.language == "es"


@pytest.fixture
def cast(cast: Cast) -> Cast:
    """Here the cast keeps the product's default language, Spanish: these tests are about
    how a saved language wins over the browser's."""
    User.objects.filter(pk__in=[cast.ana.pk, cast.beto.pk, cast.otro.pk]).update(language="es")
    for user in (cast.ana, cast.beto, cast.otro):
        user.refresh_from_db()
    return cast
