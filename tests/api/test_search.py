"""GET /search?q=: the console's search over the tickets the token's user may see, by ID in
any spelling, by words of the subject or of public messages, by the customer's e-mail or
domain. Another department's tickets never match, even on the same words or their exact ID;
an internal note never matches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from atiende.core.clock import now
from atiende.tickets import services
from atiende.tickets.models import Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]


def search(client: ApiClient, q: str, **more: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/search", {"q": q, **more})
    assert response.status_code == 200, response.content
    hits: list[dict[str, Any]] = response.json()
    return hits


def found(client: ApiClient, q: str) -> list[str]:
    return [hit["ticket"]["id"] for hit in search(client, q)]


class TestFinding:
    def test_words_of_a_message_with_the_match_marked(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(body="El certificado SSL venció el lunes & nadie avisó.")

        [hit] = search(api_as(cast.agent), "certificado vencio")

        assert hit["ticket"]["id"] == ticket.reference
        assert hit["ticket"]["department"] == "soporte-tecnico"
        assert "<mark>certificado</mark>" in hit["snippet_html"]
        assert "&amp;" in hit["snippet_html"]
        assert hit["matched_id"] is False

    def test_an_id_in_any_spelling_comes_first(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        open_ticket(body=f"Esto sigue al ticket {ticket.reference}.")

        [first, *_rest] = search(api_as(cast.agent), ticket.reference.lower().replace("-", ""))

        assert (first["ticket"]["id"], first["matched_id"]) == (ticket.reference, True)

    def test_a_customers_address_or_domain(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        anas = open_ticket(service=cast.hosting, body="No puedo entrar al panel.")
        betos = open_ticket(customer=cast.beto, body="No llegan los correos.")
        laura = api_as(cast.agent)

        assert found(laura, "beto@example.com") == [betos.reference]
        assert found(laura, "ejemplo.mx") == [anas.reference]

    def test_a_note_never_matches(self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="morosidad confirmada")

        assert found(api_as(cast.agent), "morosidad") == []

    def test_limit(self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket) -> None:
        for _ in range(4):
            open_ticket()

        assert len(search(api_as(cast.agent), "sitio", limit=2)) == 2


class TestAnotherDepartment:
    def test_its_tickets_never_match_the_same_words(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, ops_ticket: Ticket
    ) -> None:
        mine = open_ticket(subject="Servidor caído", body="El servidor no responde.")

        assert found(api_as(cast.agent), "servidor") == [mine.reference]
        assert set(found(api_as(cast.supervisor), "servidor")) == {
            mine.reference,
            ops_ticket.reference,
        }

    def test_nor_its_exact_id_nor_its_customers_address(
        self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket
    ) -> None:
        laura = api_as(cast.agent)

        assert found(laura, ops_ticket.reference) == []
        assert found(laura, cast.otro.email) == []
        assert found(api_as(cast.agent_ops), ops_ticket.reference) == [ops_ticket.reference]


class TestRefused:
    @pytest.mark.parametrize(
        "query", [{}, {"q": ""}, {"q": "x" * 201}, {"q": "sitio", "limit": 51}]
    )
    def test_no_query_or_one_out_of_bounds_is_422(
        self, cast: Cast, api_as: ApiAs, query: dict[str, Any]
    ) -> None:
        response = api_as(cast.agent).get("/api/v1/search", query)

        assert error_fields(problem(response, 422, "validation")) <= {"q", "limit"}


class TestCost:
    def test_twenty_hits_cost_the_queries_of_two(
        self,
        cast: Cast,
        api_as: ApiAs,
        open_ticket: OpenTicket,
        time_machine: TimeMachineFixture,
    ) -> None:
        # One instant: the token's use and its rate count are written the same way each time.
        time_machine.move_to(now(), tick=False)
        laura = api_as(cast.agent)
        for _ in range(2):
            open_ticket(service=cast.hosting)
        search(laura, "sitio")  # the token's first use is recorded once

        def cost(hits: int) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert len(search(laura, "sitio")) == hits
            return len(queries.captured_queries)

        two = cost(2)
        for _ in range(18):
            open_ticket(customer=cast.beto)

        assert cost(20) == two
