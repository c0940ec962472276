"""GET /events?after=: every change to the tickets the token's user may see, in commit order,
so that an integration can catch up after downtime without missing one.

Following `next_cursor` gives each event once; from the end the answer is empty and the cursor
stays. On PostgreSQL events are stamped with their transaction (`txid`) and an event that
commits late, in a transaction that began before others committed, is never stepped over: the
feed holds back what committed after it until it commits, then gives it first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from atiende.api.cursors import cursor_encode
from atiende.core.clock import now
from atiende.tickets import routing, services
from atiende.tickets.models import Event, Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]
# Events of messages may or may not be recorded (the thread already holds them): the tests of
# order compare with what the database holds, and name only the other kinds.
NOT_MESSAGES = ("created", "status", "assigned", "collaborator", "moved")
# Committed transactions, as an integration sees them: on PostgreSQL the feed never gives out
# what the reading transaction itself wrote (it is not final until it commits).
pytestmark = pytest.mark.django_db(transaction=True)


def feed(client: ApiClient, after: str | None = None, **query: Any) -> dict[str, Any]:
    response = client.get("/api/v1/events", {**({"after": after} if after else {}), **query})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def read_all(
    client: ApiClient, after: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str]:
    """Every event after `after`, page by page; and the cursor to ask from next time."""
    items: list[dict[str, Any]] = []
    while True:
        body = feed(client, after, limit=limit)
        items.extend(body["items"])
        if not body["items"]:
            return items, body["next_cursor"]
        after = body["next_cursor"]


def described(items: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [
        (item["ticket"], item["kind"], item["action"])
        for item in items
        if item["kind"] in NOT_MESSAGES
    ]


def stored(tickets: list[Ticket]) -> list[tuple[str, str, str | None]]:
    """The events of `tickets` as the database holds them, in the order they were written."""
    return [
        (event.ticket.reference, event.kind, event.action or None)
        for event in Event.objects.filter(ticket__in=tickets, kind__in=NOT_MESSAGES)
        .select_related("ticket")
        .order_by("id")
    ]


def a_day_of_work(cast: Cast, open_ticket: OpenTicket) -> list[Ticket]:
    first = open_ticket()
    second = open_ticket(customer=cast.beto, subject="Correo rebotado")
    routing.ticket_assign(ticket=first, assignee=cast.agent, actor=cast.agent)
    services.ticket_reply(ticket=first, author=cast.agent, body="¿Puede revisar ahora?")
    services.ticket_add_note(ticket=second, agent=cast.agent, body="Revisar el SPF.")
    services.ticket_reply(ticket=first, author=cast.ana, body="Sigue igual.")
    routing.ticket_collaborator_add(ticket=second, collaborator=cast.agent, actor=cast.agent)
    services.ticket_resolve(ticket=first, agent=cast.agent, reason="Se reinició Apache.")
    services.ticket_close(ticket=second, actor=cast.beto)
    return [first, second]


class TestTheFeed:
    def test_every_change_appears_once_in_the_order_it_happened(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        first, second = a_day_of_work(cast, open_ticket)

        items, _cursor = read_all(api_as(cast.agent))

        assert described(items) == stored([first, second])
        assert described(items) == [
            (first.reference, "created", None),
            (second.reference, "created", None),
            (first.reference, "assigned", None),
            (first.reference, "status", "agent_reply"),
            (first.reference, "status", "customer_reply"),
            (second.reference, "collaborator", None),
            (first.reference, "status", "agent_resolve"),
            (second.reference, "status", "customer_close"),
        ]
        assert len({item["cursor"] for item in items}) == len(items)

    def test_an_item_says_who_did_what(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_resolve(ticket=ticket, agent=cast.agent, reason="Se reinició Apache.")

        items, _cursor = read_all(api_as(cast.agent))

        [resolved] = [item for item in items if item["action"] == "agent_resolve"]
        assert resolved["ticket"] == ticket.reference
        assert resolved["actor"] == {"kind": "agent", "email": cast.agent.email}
        assert (resolved["old_status"], resolved["new_status"], resolved["reason"]) == (
            "open",
            "resolved",
            "Se reinició Apache.",
        )
        assert resolved["created_at"]

    def test_pages_give_each_event_once(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        a_day_of_work(cast, open_ticket)
        laura = api_as(cast.agent)
        everything = feed(laura)["items"]

        paged, _cursor = read_all(laura, limit=3)

        assert [item["cursor"] for item in paged] == [item["cursor"] for item in everything]
        assert len(everything) >= 8

    def test_from_the_end_nothing_and_the_same_cursor_then_only_what_is_new(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent)
        _items, end = read_all(laura)

        quiet = feed(laura, end)
        assert (quiet["items"], quiet["next_cursor"]) == ([], end)

        services.ticket_close(ticket=ticket, actor=cast.agent)
        news, later = read_all(laura, end)

        assert described(news) == [(ticket.reference, "status", "agent_close")]
        assert feed(laura, later) == {"items": [], "next_cursor": later}

    def test_an_empty_feed_gives_a_cursor_that_later_finds_the_first_event(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        laura = api_as(cast.agent)
        start = feed(laura)
        assert start["items"] == []

        ticket = open_ticket()

        assert described(feed(laura, start["next_cursor"])["items"]) == [
            (ticket.reference, "created", None)
        ]


class TestWhatEachTokenSees:
    def test_the_agent_never_sees_another_departments_events(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, ops_ticket: Ticket
    ) -> None:
        mine = open_ticket()
        services.ticket_resolve(ticket=ops_ticket, agent=cast.agent_ops)

        lauras, _cursor = read_all(api_as(cast.agent))
        omars, _cursor = read_all(api_as(cast.agent_ops))
        saras, _cursor = read_all(api_as(cast.supervisor))

        assert {item["ticket"] for item in lauras} == {mine.reference}
        assert {item["ticket"] for item in omars} == {ops_ticket.reference}
        assert {item["ticket"] for item in saras} == {mine.reference, ops_ticket.reference}


class TestRefused:
    @pytest.mark.parametrize(
        "after",
        [
            "ayer",
            cursor_encode(["2025-01-01T00:00:00+00:00", 3]),
            cursor_encode([1]),
        ],
    )
    def test_a_cursor_the_api_did_not_give_is_422(
        self, cast: Cast, api_as: ApiAs, after: str
    ) -> None:
        response = api_as(cast.agent).get("/api/v1/events", {"after": after})

        assert error_fields(problem(response, 422)) == {"after"}

    @pytest.mark.parametrize("limit", [0, 501])
    def test_a_limit_out_of_range_is_422(self, cast: Cast, api_as: ApiAs, limit: int) -> None:
        response = api_as(cast.agent).get("/api/v1/events", {"limit": limit})

        assert error_fields(problem(response, 422, "validation")) == {"limit"}


class TestCost:
    def test_fifty_events_cost_the_queries_of_five(
        self,
        cast: Cast,
        api_as: ApiAs,
        open_ticket: OpenTicket,
        time_machine: TimeMachineFixture,
    ) -> None:
        # One instant: the token's use and its rate count are written the same way each time.
        time_machine.move_to(now(), tick=False)
        laura = api_as(cast.agent)
        feed(laura)  # the token's first use is recorded once

        def cost() -> int:
            with CaptureQueriesContext(connection) as queries:
                feed(laura, limit=500)
            return len(queries.captured_queries)

        for _ in range(5):
            open_ticket()
        five = cost()
        for n in range(15):
            ticket = open_ticket(customer=cast.beto if n % 2 else cast.ana)
            services.ticket_resolve(ticket=ticket, agent=cast.agent)
            routing.ticket_assign(ticket=ticket, assignee=cast.supervisor, actor=cast.supervisor)

        assert len(feed(laura, limit=500)["items"]) >= 50
        assert cost() == five


class TestOnPostgreSQL:
    @pytest.fixture(autouse=True)
    def _postgres_only(self, cast: Cast) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("SQLite runs one writer at a time: its ids are commit order already")

    def test_each_event_carries_its_transaction(self, cast: Cast, open_ticket: OpenTicket) -> None:
        with transaction.atomic():
            ticket = open_ticket()
            services.ticket_resolve(ticket=ticket, agent=cast.agent)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id()::text::bigint")
                (current,) = cursor.fetchone()

        txids = set(Event.objects.filter(ticket=ticket).values_list("txid", flat=True))
        assert txids == {current}

    def test_an_event_committed_late_is_never_stepped_over(
        self,
        transactional_db: None,
        cast: Cast,
        api_as: ApiAs,
        open_ticket: OpenTicket,
    ) -> None:
        early, late = open_ticket(), open_ticket(customer=cast.beto)
        laura = api_as(cast.agent)
        _items, start = read_all(laura)
        written, release = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def slow_writer() -> None:
            """Resolves `early` in a transaction it holds open until told to commit."""
            try:
                with transaction.atomic():
                    services.ticket_resolve(
                        ticket=Ticket.objects.get(pk=early.pk), agent=cast.agent
                    )
                    written.set()
                    assert release.wait(timeout=60)
            except BaseException as error:  # surfaced by the asserts below
                errors.append(error)
            finally:
                written.set()
                connection.close()

        writer = threading.Thread(target=slow_writer)
        writer.start()
        try:
            assert written.wait(timeout=60)
            assert not errors, errors
            # Meanwhile another transaction, begun after it, writes and commits.
            services.ticket_close(ticket=late, actor=cast.agent)
            assert Event.objects.filter(ticket=late, action="agent_close").exists()

            held_back = feed(laura, start)
            assert held_back == {"items": [], "next_cursor": start}
        finally:
            release.set()
            writer.join(timeout=60)
        assert not writer.is_alive()
        assert not errors, errors

        after_commit, _end = read_all(laura, start)

        assert described(after_commit) == [
            (early.reference, "status", "agent_resolve"),
            (late.reference, "status", "agent_close"),
        ]
