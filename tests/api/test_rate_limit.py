"""A token sends at most its `rate_per_minute` requests in a calendar minute; the next ones
are 429 with `Retry-After` (the seconds left in the minute) and do nothing. Each token counts
its own; the next minute starts again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from time_machine import TimeMachineFixture

from atiende.api.models import ApiToken
from atiende.tickets.models import Message, Ticket
from tests.api.conftest import ApiClient, problem
from tests.conftest import Cast

OpenTicket = Callable[..., Ticket]
# Forty-five seconds into a minute: fifteen are left.
MOMENT = datetime(2025, 3, 3, 16, 0, 45, tzinfo=UTC)


@pytest.fixture
def slow_token(cast: Cast, token_for: Callable[..., str]) -> ApiClient:
    """Laura's write token, allowed three requests a minute."""
    secret = token_for(cast.agent, "write", name="Lento")
    ApiToken.objects.filter(name="Lento").update(rate_per_minute=3)
    return ApiClient(secret)


@pytest.fixture
def frozen(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    time_machine.move_to(MOMENT, tick=False)
    return time_machine


def test_requests_over_the_rate_are_429_with_the_seconds_to_wait(
    cast: Cast, slow_token: ApiClient, frozen: TimeMachineFixture
) -> None:
    for _ in range(3):
        assert slow_token.get("/api/v1/tickets").status_code == 200

    response = slow_token.get("/api/v1/tickets")

    problem(response, 429, "rate-limited")
    assert response["Retry-After"] == "15"


def test_a_throttled_write_does_nothing(
    cast: Cast, slow_token: ApiClient, open_ticket: OpenTicket, frozen: TimeMachineFixture
) -> None:
    ticket = open_ticket()
    for _ in range(3):
        slow_token.get("/api/v1/tickets")

    response = slow_token.post(f"/api/v1/tickets/{ticket.reference}/notes", {"body": "Hola"})

    problem(response, 429, "rate-limited")
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_the_next_minute_starts_again(
    cast: Cast, slow_token: ApiClient, frozen: TimeMachineFixture
) -> None:
    for _ in range(4):
        slow_token.get("/api/v1/tickets")

    frozen.move_to(MOMENT + timedelta(seconds=15), tick=False)

    assert slow_token.get("/api/v1/tickets").status_code == 200


def test_each_token_counts_its_own(
    cast: Cast,
    slow_token: ApiClient,
    api_as: Callable[..., ApiClient],
    frozen: TimeMachineFixture,
) -> None:
    for _ in range(4):
        slow_token.get("/api/v1/tickets")
    problem(slow_token.get("/api/v1/tickets"), 429)

    assert api_as(cast.agent).get("/api/v1/tickets").status_code == 200
    assert api_as(cast.supervisor).get("/api/v1/tickets").status_code == 200


def test_errors_count_too(cast: Cast, slow_token: ApiClient, frozen: TimeMachineFixture) -> None:
    for _ in range(3):
        problem(slow_token.get("/api/v1/tickets/ATN-ZZZZ-ZZZZ"), 404)

    problem(slow_token.get("/api/v1/tickets"), 429, "rate-limited")
