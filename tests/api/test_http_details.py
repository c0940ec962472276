"""Details of HTTP every client meets: a wrong method, an empty body, what `updated_since`
and the list order mean."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from time_machine import TimeMachineFixture

from atiende.tickets import routing, services
from tests.api.conftest import problem
from tests.conftest import Cast

MOMENT_HOURS = 3


def test_a_method_an_address_does_not_take_is_a_405_problem_with_allow(
    cast: Cast, api_as: Any
) -> None:
    response = api_as(cast.agent, "write").put("/api/v1/departments", {})

    problem(response, 405, "method-not-allowed")
    assert "GET" in response["Allow"]


def test_an_action_with_optional_fields_only_needs_no_body(
    cast: Cast, api_as: Any, open_ticket: Any
) -> None:
    ticket = open_ticket()

    client = api_as(cast.agent, "write")

    # As `curl -X POST` sends it: no body, no content type.
    response = client.client.generic(
        "POST", f"/api/v1/tickets/{ticket.reference}/resolve", b"", headers=client.headers
    )

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"


def test_any_change_moves_updated_at_so_updated_since_misses_no_close_or_assignment(
    cast: Cast, api_as: Any, open_ticket: Any, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to("2026-11-02 09:00:00+00:00", tick=False)
    closed, assigned, quiet = (open_ticket(subject=f"Caso {n}") for n in range(3))
    time_machine.shift(timedelta(hours=MOMENT_HOURS))
    since = "2026-11-02T10:00:00+00:00"
    services.ticket_close(ticket=closed, actor=cast.agent)
    routing.ticket_assign(ticket=assigned, assignee=cast.agent, actor=cast.agent)

    page = api_as(cast.agent).get("/api/v1/tickets", {"updated_since": since}).json()

    assert [item["id"] for item in page["items"]] == [assigned.reference, closed.reference]
    assert quiet.reference not in {item["id"] for item in page["items"]}
    first = page["items"][0]
    assert first["updated_at"].startswith("2026-11-02T12:00")
    assert first["last_message_at"].startswith("2026-11-02T09:00")
