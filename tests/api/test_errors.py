"""Every error is `application/problem+json` (RFC 9457) with the right status: a body that is
not JSON 400, no valid token 401, not allowed 403, unknown or not visible 404, not possible
now 409, too large 413, not valid 422 naming the fields, too many 429, our fault 500 (saying
nothing of why). `detail` speaks the caller's language: `Accept-Language`, else the token
user's, else Spanish; `Content-Language` says which.

The catalogue of new messages is translated apart: these tests read the language-neutral
parts (status, type, field names) and `Content-Language`, and English text only where it is
the message id itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from atiende.api.routers import tickets as tickets_router
from atiende.tickets.models import Message, Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]


def raw_post(client: ApiClient, path: str, body: str, content_type: str) -> Any:
    return client.client.post(path, data=body, content_type=content_type, headers=client.headers)


class TestBadRequest:
    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            ('{"body": "Hola"', "application/json"),
            ("{body: 'Hola'}", "application/json"),
            ("body=Hola", "application/json"),
            ('{"body": "Hola"', "text/plain"),
        ],
    )
    def test_a_body_that_is_not_json_is_400_and_changes_nothing(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, body: str, content_type: str
    ) -> None:
        ticket = open_ticket()

        response = raw_post(
            api_as(cast.agent, "write"),
            f"/api/v1/tickets/{ticket.reference}/notes",
            body,
            content_type,
        )

        problem(response, 400, "bad-request")
        assert Message.objects.filter(ticket=ticket).count() == 1


class TestValidation:
    def test_fields_of_the_wrong_type_are_422_naming_each(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").post(
            f"/api/v1/tickets/{ticket.reference}/replies",
            {"body": 5, "resolve": "tal vez", "attachments": ["no-es-un-id"]},
        )

        body = problem(response, 422, "validation")
        assert error_fields(body) == {"body", "resolve", "attachments.0"}
        assert all(error["message"] for error in body["errors"])

    def test_a_json_body_that_is_not_an_object_is_422(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = raw_post(
            api_as(cast.agent, "write"),
            f"/api/v1/tickets/{ticket.reference}/notes",
            '["Hola"]',
            "application/json",
        )

        problem(response, 422, "validation")

    def test_a_rule_of_the_service_is_422_naming_its_field(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets",
            {
                "customer": str(cast.account.public_id),
                "department": "soporte-tecnico",
                "subject": "x" * 201,
                "body": "Hola",
            },
        )

        body = problem(response, 422, "invalid")
        assert body["errors"] == [{"field": "subject", "message": body["detail"]}]


class TestNulCharacters:
    """PostgreSQL can neither store nor compare text with a NUL: refused up front, on every
    backend alike, never a 500."""

    @pytest.mark.parametrize(
        ("action", "payload", "field"),
        [
            ("notes", {"body": "no\x00ta"}, "body"),
            ("replies", {"body": "res\x00puesta"}, "body"),
            ("resolve", {"reason": "r\x00"}, "reason"),
            ("close", {"reason": "r\x00"}, "reason"),
            ("assign", {"assignee": "agente\x00@example.com"}, "assignee"),
            ("collaborators", {"email": "agente\x00@example.com"}, "email"),
            ("move", {"department": "opera\x00ciones", "reason": "Servidor"}, "department"),
            ("move", {"department": "operaciones", "reason": "Servi\x00dor"}, "reason"),
        ],
    )
    def test_in_a_ticket_action(
        self,
        cast: Cast,
        api_as: ApiAs,
        open_ticket: OpenTicket,
        action: str,
        payload: dict[str, str],
        field: str,
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.supervisor, "write").post(
            f"/api/v1/tickets/{ticket.reference}/{action}", payload
        )

        assert error_fields(problem(response, 422, "validation")) == {field}

    @pytest.mark.parametrize("field", ["requester", "department", "service", "subject"])
    def test_in_a_new_ticket(self, cast: Cast, api_as: ApiAs, field: str) -> None:
        payload = {
            "customer": str(cast.account.public_id),
            "department": "soporte-tecnico",
            "subject": "Hola",
            "body": "Texto",
        }
        payload[field] = "x\x00y"

        response = api_as(cast.agent, "write").post("/api/v1/tickets", payload)

        assert error_fields(problem(response, 422, "validation")) == {field}
        assert not Ticket.objects.exists()

    @pytest.mark.parametrize("name", ["assignee", "department"])
    def test_in_a_filter(self, cast: Cast, api_as: ApiAs, name: str) -> None:
        response = api_as(cast.agent).get("/api/v1/tickets", {name: "x\x00y"})

        assert error_fields(problem(response, 422, "validation")) == {name}

    def test_in_a_collaborators_address(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").delete(
            f"/api/v1/tickets/{ticket.reference}/collaborators/agente%00@example.com"
        )

        problem(response, 422, "validation")

    def test_in_a_search_it_is_dropped(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent).get("/api/v1/search", {"q": "si\x00tio"})

        assert [hit["ticket"]["id"] for hit in response.json()] == [ticket.reference]


class TestNotFound:
    @pytest.mark.parametrize("path", ["/api/v1/nada", "/api/v2/tickets", "/api/"])
    def test_an_address_that_names_no_operation_is_404_problem(
        self, cast: Cast, api_as: ApiAs, path: str
    ) -> None:
        problem(api_as(cast.agent).get(path), 404, "not-found")


class TestServerError:
    def test_an_unexpected_error_is_500_and_tells_nothing_of_its_cause(
        self,
        cast: Cast,
        token_for: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        def broken(**kwargs: object) -> None:
            raise RuntimeError("password=hunter2 at db.internal:5432")

        monkeypatch.setattr(tickets_router, "ticket_page_for_agent", broken)
        client = Client(raise_request_exception=False)

        response = client.get(
            "/api/v1/tickets", headers={"Authorization": f"Bearer {token_for(cast.agent)}"}
        )

        body = problem(response, 500)
        assert body["type"] == "about:blank"
        assert "hunter2" not in response.content.decode()
        assert "RuntimeError" not in response.content.decode()


class TestLanguage:
    def test_spanish_by_default(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent).get("/api/v1/tickets/ATN-ZZZZ-ZZZZ")

        spanish = problem(response, 404, "not-found")
        assert response["Content-Language"] == "es"
        assert spanish["detail"] != "Ticket not found."

    def test_english_when_the_caller_asks(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent).get(
            "/api/v1/tickets/ATN-ZZZZ-ZZZZ", **{"Accept-Language": "en"}
        )

        assert problem(response, 404, "not-found")["detail"] == "Ticket not found."
        assert response["Content-Language"] == "en"

    def test_the_token_users_language_without_a_header_and_the_header_over_it(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        cast.agent.language = "en"
        cast.agent.save(update_fields=["language"])
        laura = api_as(cast.agent)

        plain = laura.get("/api/v1/tickets/ATN-ZZZZ-ZZZZ")
        asked = laura.get("/api/v1/tickets/ATN-ZZZZ-ZZZZ", **{"Accept-Language": "es"})

        assert (plain["Content-Language"], problem(plain, 404)["detail"]) == (
            "en",
            "Ticket not found.",
        )
        assert asked["Content-Language"] == "es"

    def test_a_language_we_do_not_speak_falls_back_to_spanish(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        response = api_as(cast.agent).get(
            "/api/v1/tickets/ATN-ZZZZ-ZZZZ", **{"Accept-Language": "fr"}
        )

        assert response["Content-Language"] == "es"

    @pytest.mark.parametrize("language", ["es", "en"])
    def test_validation_names_the_same_fields_in_either_language(
        self, cast: Cast, api_as: ApiAs, language: str
    ) -> None:
        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets",
            {"customer": str(cast.account.public_id)},
            **{"Accept-Language": language},
        )

        assert error_fields(problem(response, 422, "validation")) == {
            "department",
            "subject",
            "body",
        }
        assert response["Content-Language"] == language

    @pytest.mark.parametrize("language", ["es", "en"])
    def test_errors_before_the_token_is_known_follow_the_header(
        self, cast: Cast, language: str
    ) -> None:
        unauthorized = ApiClient(None).get("/api/v1/tickets", **{"Accept-Language": language})
        malformed = ApiClient("atn_desconocido").post(
            "/api/v1/tickets", None, **{"Accept-Language": language}
        )

        problem(unauthorized, 401, "unauthorized")
        assert unauthorized["Content-Language"] == language
        assert malformed["Content-Language"] == language

    def test_a_conflict_is_told_in_the_callers_language(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")
        path = f"/api/v1/tickets/{ticket.reference}/reopen"

        english = laura.post(path, {}, **{"Accept-Language": "en"})
        spanish = laura.post(path, {}, **{"Accept-Language": "es"})

        assert problem(english, 409, "transition-not-allowed")["detail"] == (
            "This action is not possible while the ticket is Open."
        )
        assert (
            problem(spanish, 409, "transition-not-allowed")["detail"]
            != problem(english, 409)["detail"]
        )
        assert (english["Content-Language"], spanish["Content-Language"]) == ("en", "es")
