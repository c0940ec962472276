"""Bearer tokens: no valid token, no answer but 401; a token acts with its user's permissions,
narrowed by its scope (read reads; write also acts on tickets); an agent's token sees his
departments only, a supervisor's and an administrator's every department."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from atiende.api.models import ApiToken
from atiende.api.tokens import token_revoke
from atiende.tickets.models import Message, Ticket
from tests.api.conftest import ApiClient, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]


def listed(client: ApiClient) -> set[str]:
    response = client.get("/api/v1/tickets")
    assert response.status_code == 200
    return {item["id"] for item in response.json()["items"]}


class TestWithoutAValidToken:
    def test_no_token_is_401_with_a_bearer_challenge(self, cast: Cast) -> None:
        response = ApiClient(None).get("/api/v1/tickets")

        problem(response, 401, "unauthorized")
        assert response["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer atn_not-a-token-we-ever-made",
            "Bearer ",
            "Bearer " + "atn_" + "x" * 200,
            "Token atn_whatever",
            "Basic YWdlbnRlQGV4YW1wbGUuY29tOnNlY3JldG8=",
        ],
    )
    def test_an_unknown_or_malformed_token_is_401(self, cast: Cast, header: str) -> None:
        response = Client().get("/api/v1/tickets", headers={"Authorization": header})

        problem(response, 401, "unauthorized")

    def test_a_revoked_token_is_401(self, cast: Cast, token_for: Callable[..., str]) -> None:
        secret = token_for(cast.agent, "write")
        token = ApiToken.objects.get(user=cast.agent)
        assert ApiClient(secret).get("/api/v1/tickets").status_code == 200

        token_revoke(token_id=token.pk, by=cast.agent)

        problem(ApiClient(secret).get("/api/v1/tickets"), 401, "unauthorized")

    def test_the_token_of_a_deactivated_user_is_401(
        self, cast: Cast, token_for: Callable[..., str]
    ) -> None:
        secret = token_for(cast.agent, "write")
        cast.agent.is_active = False
        cast.agent.save(update_fields=["is_active"])

        problem(ApiClient(secret).get("/api/v1/tickets"), 401, "unauthorized")

    def test_a_user_who_is_no_longer_staff_is_401(
        self, cast: Cast, token_for: Callable[..., str]
    ) -> None:
        secret = token_for(cast.agent, "write")
        cast.agent.is_staff = False
        cast.agent.save(update_fields=["is_staff"])

        problem(ApiClient(secret).get("/api/v1/tickets"), 401, "unauthorized")

    def test_a_logged_in_browser_session_is_no_token(self, cast: Cast) -> None:
        browser = Client()
        browser.force_login(cast.agent)

        problem(browser.get("/api/v1/tickets"), 401, "unauthorized")


class TestScopes:
    def test_a_read_token_reads(self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        reader = api_as(cast.agent, "read")

        assert reader.get("/api/v1/tickets").status_code == 200
        assert reader.get(f"/api/v1/tickets/{ticket.reference}").status_code == 200
        assert reader.get("/api/v1/events").status_code == 200

    @pytest.mark.parametrize(
        ("path", "payload"),
        [
            ("replies", {"body": "Ya quedó."}),
            ("notes", {"body": "Revisar el DNS."}),
            ("resolve", {}),
            ("close", {}),
            ("assign", {"assignee": "agente@example.com"}),
        ],
    )
    def test_a_read_token_that_writes_is_403_and_nothing_changes(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, path: str, payload: dict[str, str]
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "read").post(
            f"/api/v1/tickets/{ticket.reference}/{path}", payload
        )

        problem(response, 403, "forbidden")
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee) == ("open", None)
        assert Message.objects.filter(ticket=ticket).count() == 1

    def test_a_read_token_cannot_open_a_ticket_nor_upload(self, cast: Cast, api_as: ApiAs) -> None:
        reader = api_as(cast.agent, "read")
        opened = reader.post(
            "/api/v1/tickets",
            {
                "customer": str(cast.account.public_id),
                "department": "soporte-tecnico",
                "subject": "Hola",
                "body": "Texto",
            },
        )

        problem(opened, 403, "forbidden")
        assert not Ticket.objects.exists()
        problem(reader.upload("/api/v1/uploads", {}), 403, "forbidden")

    def test_a_write_token_writes(self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").post(
            f"/api/v1/tickets/{ticket.reference}/notes", {"body": "Revisar el DNS."}
        )

        assert response.status_code == 201

    def test_an_admin_token_writes_too(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.admin, "admin").post(
            f"/api/v1/tickets/{ticket.reference}/resolve", {}
        )

        assert response.status_code == 200
        assert response.json()["status"] == "resolved"

    def test_a_token_records_when_it_was_last_used(
        self, cast: Cast, token_for: Callable[..., str]
    ) -> None:
        secret = token_for(cast.agent)
        assert ApiToken.objects.get(user=cast.agent).last_used_at is None

        ApiClient(secret).get("/api/v1/tickets")

        assert ApiToken.objects.get(user=cast.agent).last_used_at is not None


class TestTheUsersPermissions:
    def test_an_agents_token_sees_his_departments_only(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, ops_ticket: Ticket
    ) -> None:
        mine = open_ticket()

        assert listed(api_as(cast.agent)) == {mine.reference}
        assert listed(api_as(cast.agent_ops)) == {ops_ticket.reference}

    def test_a_supervisors_and_an_administrators_token_see_every_department(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, ops_ticket: Ticket
    ) -> None:
        mine = open_ticket()
        both = {mine.reference, ops_ticket.reference}

        assert listed(api_as(cast.supervisor)) == both
        assert listed(api_as(cast.admin)) == both

    def test_leaving_a_department_narrows_a_token_already_given(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent)
        assert listed(laura) == {ticket.reference}

        cast.agent.memberships.all().delete()

        assert listed(laura) == set()
        problem(laura.get(f"/api/v1/tickets/{ticket.reference}"), 404, "not-found")
