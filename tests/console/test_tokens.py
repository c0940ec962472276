"""API tokens in the console: each staff member lists, creates and revokes his own; the secret
is shown once, in the answer to the POST that created it, and never again; a resubmitted form
creates nothing; an administrator sees and revokes everybody's. Another staff member's token
is the one 404 page; customers and strangers get the console's login page.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from atiende.api.models import ApiToken
from atiende.api.tokens import token_authenticate, token_create, token_digest
from atiende.console import views_tokens
from atiende.core.errors import DomainError
from tests.conftest import Cast
from tests.console.ticket_support import html, login

PAGE = "/consola/api/tokens/"
LOGIN = reverse("console:login")
SECRET = re.compile(r'id="token-secret" type="text" value="(atn_[^"]+)"')


def revoke_url(token: ApiToken) -> str:
    return f"{PAGE}{token.pk}/revocar/"


def submission_key(page: str) -> str:
    found = re.search(r'name="submission_key" value="([^"]*)"', page)
    assert found is not None
    return found.group(1)


def create(
    client: Client, name: str = "Facturación", scope: str = "read", key: str | None = None
) -> Any:
    """Load the page, fill the form, send it: the answer to the POST."""
    if key is None:
        key = submission_key(html(client.get(PAGE)))
    return client.post(PAGE, {"name": name, "scope": scope, "submission_key": key})


def secret_in(response: Any) -> str:
    found = SECRET.search(html(response))
    assert found is not None, "no secret on the page"
    return found.group(1)


def token_of(user: Any, name: str = "Monitor", scope: str = "read") -> tuple[ApiToken, str]:
    return token_create(user=user, name=name, scope=scope, created_by=user)


class TestCreating:
    def test_the_answer_shows_the_secret_once_with_a_warning_and_a_copy_button(
        self, cast: Cast
    ) -> None:
        client = login(cast.agent)

        response = create(client, name="Facturación", scope="write")

        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        page = html(response)
        secret = secret_in(response)
        [token] = ApiToken.objects.filter(user=cast.agent)
        assert (token.name, token.scope, token.created_by) == ("Facturación", "write", cast.agent)
        assert secret.startswith(token.prefix)
        assert "Copy the token now: it will not be shown again." in page
        assert f'data-copy="{secret}"' in page
        # Once in the box and once for the copy button; the list names it by its prefix only.
        assert page.count(secret) == 2
        assert f'<code class="ref prefix">{token.prefix}…</code>' in page

    def test_the_secret_shown_authenticates_and_only_its_digest_is_stored(self, cast: Cast) -> None:
        secret = secret_in(create(login(cast.agent), scope="write"))

        token = token_authenticate(secret)

        assert token is not None
        assert token.user == cast.agent
        assert token.allows("write") and not token.allows("admin")
        assert token.digest == token_digest(secret)
        assert not ApiToken.objects.filter(digest=secret).exists()

    def test_the_secret_is_in_no_later_page_no_url_no_session_and_no_cookie(
        self, cast: Cast
    ) -> None:
        client = login(cast.agent)
        response = create(client)
        secret = secret_in(response)
        token = ApiToken.objects.get(user=cast.agent)

        assert not response.has_header("Location")
        assert secret not in str(response.cookies)
        assert all(secret not in str(value) for value in client.session.values())
        for url in (PAGE, reverse("console:queue")):
            later = html(client.get(url))
            assert secret not in later
            assert "token-secret" not in later
        later = html(client.get(PAGE))
        assert f'<code class="ref prefix">{token.prefix}…</code>' in later
        assert "Facturación" in later

    def test_a_resubmitted_form_creates_nothing_and_shows_no_secret(self, cast: Cast) -> None:
        client = login(cast.agent)
        key = submission_key(html(client.get(PAGE)))
        first = create(client, key=key)
        secret = secret_in(first)

        again = create(client, key=key)

        assert again.status_code == 200
        assert "no-store" in again["Cache-Control"]
        page = html(again)
        token = ApiToken.objects.get(user=cast.agent)
        assert secret not in page
        assert "token-secret" not in page
        assert (
            f"This form was already sent: it created the token “Facturación” ({token.prefix}…)"
            in page
        )
        assert "cannot be shown again" in page
        # The form on that answer is a new one: the next token is really created.
        assert submission_key(page) != key
        secret_in(create(client, name="Otro", key=submission_key(page)))
        assert ApiToken.objects.filter(user=cast.agent).count() == 2

    def test_another_users_submission_key_is_not_his(self, cast: Cast) -> None:
        key = submission_key(html(login(cast.agent).get(PAGE)))
        secret_in(create(login(cast.agent), key=key))

        secret_in(create(login(cast.agent_ops), key=key))

        assert ApiToken.objects.filter(user=cast.agent_ops).count() == 1

    def test_without_a_name_nothing_is_created_and_the_field_says_why(self, cast: Cast) -> None:
        response = create(login(cast.agent), name="   ")

        assert response.status_code == 200
        assert "Give the token a name, such as the system that will use it." in html(response)
        assert not SECRET.search(html(response))
        assert not ApiToken.objects.exists()

    def test_a_refusal_of_the_service_is_shown_next_to_its_field(
        self, cast: Cast, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def refuse(**kwargs: Any) -> Any:
            raise DomainError("That name is taken by a ghost.", field="name")

        # The form already refuses every input token_create would: only a stand-in service
        # can show how the page presents the service's own refusal.
        monkeypatch.setattr(views_tokens, "token_create_once", refuse)

        page = html(create(login(cast.agent), name="Fantasma"))

        assert '<p class="error" id="id_name_error" role="alert">That name is taken' in page
        assert 'value="Fantasma"' in page
        assert not ApiToken.objects.exists()

    def test_an_agent_is_offered_read_and_write_but_not_admin(self, cast: Cast) -> None:
        page = html(login(cast.agent).get(PAGE))

        assert 'name="scope" value="read"' in page
        assert 'name="scope" value="write"' in page
        assert 'value="admin"' not in page

    def test_an_agent_forging_the_admin_scope_gets_an_error_and_no_token(self, cast: Cast) -> None:
        for user in (cast.agent, cast.supervisor):
            response = create(login(user), scope="admin")

            assert response.status_code == 200
            assert "Choose one of the scopes offered." in html(response)
        assert not ApiToken.objects.exists()

    def test_an_administrator_may_create_an_admin_token(self, cast: Cast) -> None:
        client = login(cast.admin)
        assert 'name="scope" value="admin"' in html(client.get(PAGE))

        secret = secret_in(create(client, scope="admin"))

        token = token_authenticate(secret)
        assert token is not None and token.allows("admin")

    def test_the_form_is_csrf_protected(self, cast: Cast) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(cast.agent)

        response = client.post(PAGE, {"name": "Sin CSRF", "scope": "read"})

        assert response.status_code == 403
        assert not ApiToken.objects.exists()


class TestDoubleClickAtOnce:
    def test_two_posts_of_one_form_at_the_same_moment_create_one_token(
        self, transactional_db: None, cast: Cast
    ) -> None:
        clients = [login(cast.agent), login(cast.agent)]
        key = submission_key(html(clients[0].get(PAGE)))
        barrier = threading.Barrier(2)
        pages: list[str] = []
        errors: list[BaseException] = []

        def post(client: Client) -> None:
            try:
                barrier.wait(timeout=30)
                response = create(client, key=key)
                assert response.status_code == 200
                pages.append(html(response))
            except BaseException as error:  # surfaced by the asserts below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=post, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        assert not errors, errors

        assert ApiToken.objects.filter(user=cast.agent).count() == 1
        assert sum(bool(SECRET.search(page)) for page in pages) == 1
        assert sum("This form was already sent" in page for page in pages) == 1


class TestTheList:
    def test_shows_name_prefix_scope_dates_and_state_never_a_secret(self, cast: Cast) -> None:
        used, used_secret = token_of(cast.agent, "Monitor", "write")
        token_authenticate(used_secret)
        idle, idle_secret = token_of(cast.agent, "Respaldo")

        page = html(login(cast.agent).get(PAGE))

        assert used_secret not in page and idle_secret not in page
        rows = page.split('<tr class="token')[1:]
        assert len(rows) == 2
        newest, older = rows
        assert "Respaldo" in newest and f"{idle.prefix}…" in newest
        assert "Never" in newest and ">Active<" in newest
        assert "Monitor" in older and f"{used.prefix}…" in older
        assert ">write<" in older and "Never" not in older

    def test_revoked_tokens_stay_listed_as_revoked_without_a_button(self, cast: Cast) -> None:
        token, _secret = token_of(cast.agent)
        login(cast.agent).post(revoke_url(token))

        page = html(login(cast.agent).get(PAGE))

        [row] = page.split('<tr class="token')[1:]
        assert row.startswith(' revoked"')
        assert ">Revoked<" in row
        assert revoke_url(token) not in row

    def test_says_how_to_send_a_token_and_where_the_api_is_described(self, cast: Cast) -> None:
        page = html(login(cast.agent).get(PAGE))

        assert "Authorization: Bearer atn_…" in page
        assert 'href="/api/v1/docs"' in page
        assert "You have no API token yet." in page

    def test_the_console_navigation_leads_to_it(self, cast: Cast) -> None:
        assert f'href="{PAGE}"' in html(login(cast.agent).get(reverse("console:queue")))
        assert f'href="{PAGE}" aria-current="page"' in html(login(cast.agent).get(PAGE))

    def test_an_agent_sees_only_his_own_tokens(self, cast: Cast) -> None:
        mine, _ = token_of(cast.agent, "Mío")
        theirs, _ = token_of(cast.agent_ops, "De Omar")

        page = html(login(cast.agent).get(PAGE))

        assert mine.prefix in page
        assert theirs.prefix not in page and "De Omar" not in page
        assert "All tokens" not in page


class TestRevoking:
    def test_revoking_his_own_token_stops_it_at_once(self, cast: Cast) -> None:
        token, secret = token_of(cast.agent, "Monitor")
        client = login(cast.agent)

        response = client.post(revoke_url(token))

        assert response.status_code == 302
        assert response["Location"] == PAGE
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert token_authenticate(secret) is None
        assert f"The token “Monitor” ({token.prefix}…) is revoked" in html(client.get(PAGE))

    def test_the_button_asks_for_confirmation(self, cast: Cast) -> None:
        token, _ = token_of(cast.agent, "Monitor")

        page = html(login(cast.agent).get(PAGE))

        found = re.search(rf'<form method="post" action="{revoke_url(token)}"[^>]*>', page)
        assert found is not None
        assert f'data-confirm="Revoke the token “Monitor” ({token.prefix}…)?' in found.group(0)

    def test_revoking_twice_changes_nothing(self, cast: Cast) -> None:
        token, _ = token_of(cast.agent)
        client = login(cast.agent)
        client.post(revoke_url(token))
        token.refresh_from_db()
        first = token.revoked_at

        assert client.post(revoke_url(token)).status_code == 302

        token.refresh_from_db()
        assert token.revoked_at == first

    def test_another_agents_token_is_not_found_and_stays_active(self, cast: Cast) -> None:
        theirs, secret = token_of(cast.agent_ops)

        for user in (cast.agent, cast.supervisor):
            assert login(user).post(revoke_url(theirs)).status_code == 404

        theirs.refresh_from_db()
        assert theirs.revoked_at is None
        assert token_authenticate(secret) is not None

    def test_a_token_that_does_not_exist_is_the_same_404(self, cast: Cast) -> None:
        assert login(cast.agent).post(f"{PAGE}999999/revocar/").status_code == 404

    def test_only_by_post(self, cast: Cast) -> None:
        token, _ = token_of(cast.agent)

        assert login(cast.agent).get(revoke_url(token)).status_code == 405

        token.refresh_from_db()
        assert token.revoked_at is None


class TestTheAdministrator:
    def test_sees_every_staff_members_tokens_with_their_owner(self, cast: Cast) -> None:
        mine, _ = token_of(cast.admin, "Del admin")
        theirs, _ = token_of(cast.agent_ops, "De Omar")

        page = html(login(cast.admin).get(PAGE))

        everybody = page.split("All tokens", 1)[1]
        assert f"{theirs.prefix}…" in everybody and "De Omar" in everybody
        assert "ops@example.com" in everybody
        assert f"{mine.prefix}…" in everybody
        assert revoke_url(theirs) in everybody
        own = page.split("All tokens", 1)[0]
        assert theirs.prefix not in own

    def test_revokes_another_staff_members_token(self, cast: Cast) -> None:
        theirs, secret = token_of(cast.agent_ops)

        response = login(cast.admin).post(revoke_url(theirs))

        assert response.status_code == 302
        assert token_authenticate(secret) is None


class TestWhoGetsIn:
    @pytest.mark.parametrize("who", ["anonymous", "customer"])
    def test_customers_and_strangers_get_the_console_login(self, cast: Cast, who: str) -> None:
        token, secret = token_of(cast.agent)
        client = Client() if who == "anonymous" else login(cast.ana)

        for response in (
            client.get(PAGE),
            client.post(PAGE, {"name": "Intruso", "scope": "read"}),
            client.post(revoke_url(token)),
        ):
            assert response.status_code == 302
            assert response["Location"].startswith(f"{LOGIN}?next=")

        assert ApiToken.objects.count() == 1
        assert token_authenticate(secret) is not None
