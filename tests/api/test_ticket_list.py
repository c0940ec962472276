"""GET /tickets: the tickets the token's user may see, most recently updated first, filtered
by status, department, customer, assignee and `updated_since`, in pages that follow
`next_cursor`. A walk over the pages gives every ticket once; the cost of a page does not grow
with the number of tickets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from atiende.api.cursors import cursor_encode
from atiende.core.clock import now
from atiende.tickets import routing, services
from atiende.tickets.models import Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]
MOMENT = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)


def page(client: ApiClient, **query: Any) -> dict[str, Any]:
    response = client.get("/api/v1/tickets", query)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def ids(client: ApiClient, **query: Any) -> list[str]:
    return [item["id"] for item in page(client, **query)["items"]]


def walk(
    client: ApiClient, between: Callable[[int], None] | None = None, **query: Any
) -> list[str]:
    """Every page from the first, following next_cursor; `between(n)` runs after page n."""
    seen: list[str] = []
    cursor: str | None = None
    for number in range(1, 100):
        body = page(client, **query, **({"cursor": cursor} if cursor else {}))
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between is not None:
            between(number)
    raise AssertionError("the pages never ended")


def newest_first(tickets: list[Ticket]) -> list[str]:
    return [t.reference for t in sorted(tickets, key=lambda t: (t.changed_at, t.pk), reverse=True)]


class TestWhatIsListed:
    def test_the_agent_sees_his_departments_tickets_newest_activity_first(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, ops_ticket: Ticket
    ) -> None:
        first, second = open_ticket(), open_ticket(customer=cast.beto)
        services.ticket_reply(ticket=first, author=cast.ana, body="¿Alguna novedad?")

        assert ids(api_as(cast.agent)) == [first.reference, second.reference]

    def test_each_item_is_the_ticket_without_its_thread(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(service=cast.hosting)
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)

        [item] = page(api_as(cast.agent))["items"]

        assert item["id"] == ticket.reference
        assert (item["status"], item["department"], item["assignee"]) == (
            "open",
            "soporte-tecnico",
            cast.agent.email,
        )
        assert item["customer"]["id"] == str(cast.account.public_id)
        assert item["service"]["name"] == "ejemplo.mx"
        assert "messages" not in item

    def test_the_other_accounts_ticket_in_operaciones_is_never_listed(
        self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket
    ) -> None:
        laura = api_as(cast.agent)

        assert ids(laura) == []
        assert ids(laura, customer=str(cast.other_account.public_id)) == []
        assert ids(laura, status="open") == []


class TestFilters:
    def test_by_status_one_or_several(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        opened, pending, closed = open_ticket(), open_ticket(), open_ticket()
        services.ticket_reply(ticket=pending, author=cast.agent, body="¿Puede revisar?")
        services.ticket_close(ticket=closed, actor=cast.agent)
        laura = api_as(cast.agent)

        assert ids(laura, status="pending") == [pending.reference]
        assert set(ids(laura, status=["open", "closed"])) == {opened.reference, closed.reference}
        assert error_fields(problem(laura.get("/api/v1/tickets", {"status": "abierto"}), 422))

    def test_by_department_the_agent_works(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, ops_ticket: Ticket
    ) -> None:
        ticket = open_ticket()

        assert ids(api_as(cast.agent), department="soporte-tecnico") == [ticket.reference]
        assert ids(api_as(cast.supervisor), department="operaciones") == [ops_ticket.reference]

    def test_a_department_the_agent_does_not_work_is_as_unknown_as_a_made_up_one(
        self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket
    ) -> None:
        laura = api_as(cast.agent)

        foreign = problem(laura.get("/api/v1/tickets", {"department": "operaciones"}), 422)
        unknown = problem(laura.get("/api/v1/tickets", {"department": "ventas"}), 422)

        assert error_fields(foreign) == error_fields(unknown) == {"department"}

    def test_by_customer_every_user_of_the_account(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        anas, betos = open_ticket(), open_ticket(customer=cast.beto)
        others = open_ticket(customer=cast.otro)
        sara = api_as(cast.supervisor)

        assert set(ids(sara, customer=str(cast.account.public_id))) == {
            anas.reference,
            betos.reference,
        }
        assert ids(sara, customer=str(cast.other_account.public_id)) == [others.reference]
        assert error_fields(problem(sara.get("/api/v1/tickets", {"customer": "ana"}), 422)) == {
            "customer"
        }

    def test_by_assignee_me_nobody_or_an_address(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        mine, saras, nobodys = open_ticket(), open_ticket(), open_ticket()
        routing.ticket_assign(ticket=mine, assignee=cast.agent, actor=cast.agent)
        routing.ticket_assign(ticket=saras, assignee=cast.supervisor, actor=cast.supervisor)
        laura = api_as(cast.agent)

        assert ids(laura, assignee="me") == [mine.reference]
        assert ids(laura, assignee="none") == [nobodys.reference]
        assert ids(laura, assignee="SUPER@example.com") == [saras.reference]
        assert ids(laura, assignee=cast.agent_ops.email) == []

    def test_by_updated_since(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, time_machine: TimeMachineFixture
    ) -> None:
        time_machine.move_to(MOMENT, tick=False)
        old, quiet = open_ticket(), open_ticket()
        time_machine.move_to(MOMENT + timedelta(hours=2), tick=False)
        services.ticket_reply(ticket=old, author=cast.ana, body="Sigue fallando.")
        new = open_ticket()
        laura = api_as(cast.agent)

        since = (MOMENT + timedelta(hours=1)).isoformat()
        assert ids(laura, updated_since=since) == [new.reference, old.reference]
        # The very moment of the update is included: a client may pass the last one it saw.
        assert len(ids(laura, updated_since=(MOMENT + timedelta(hours=2)).isoformat())) == 2
        assert quiet.reference in ids(laura, updated_since=MOMENT.isoformat())
        assert error_fields(
            problem(laura.get("/api/v1/tickets", {"updated_since": "ayer"}), 422)
        ) == {"updated_since"}

    def test_filters_combine(self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket) -> None:
        wanted = open_ticket()
        open_ticket(customer=cast.otro)  # another customer
        assigned = open_ticket()
        routing.ticket_assign(ticket=assigned, assignee=cast.agent, actor=cast.agent)
        pending = open_ticket()
        services.ticket_reply(ticket=pending, author=cast.agent, body="¿Puede revisar?")
        open_ticket(department=cast.operaciones)  # another department

        found = ids(
            api_as(cast.supervisor),
            status="open",
            department="soporte-tecnico",
            customer=str(cast.account.public_id),
            assignee="none",
        )

        assert found == [wanted.reference]


class TestPages:
    def test_a_walk_gives_every_ticket_once_in_order(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        tickets = [open_ticket(subject=f"Caso {n}") for n in range(7)]

        first = page(api_as(cast.agent), limit=3)
        walked = walk(api_as(cast.agent), limit=3)

        assert len(first["items"]) == 3 and first["next_cursor"]
        assert walked == newest_first(tickets)

    def test_tickets_of_the_same_instant_are_neither_repeated_nor_skipped(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, time_machine: TimeMachineFixture
    ) -> None:
        time_machine.move_to(MOMENT, tick=False)
        tickets = [open_ticket(subject=f"Caso {n}") for n in range(7)]
        assert len({ticket.updated_at for ticket in tickets}) == 1

        walked = walk(api_as(cast.agent), limit=2)

        assert walked == [ticket.reference for ticket in reversed(tickets)]

    def test_a_page_exactly_full_ends_with_no_cursor(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        for _ in range(3):
            open_ticket()

        assert page(api_as(cast.agent), limit=3)["next_cursor"] is None

    def test_filters_hold_on_every_page(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        wanted = []
        for n in range(5):
            wanted.append(open_ticket(subject=f"Caso {n}"))
            closed = open_ticket(subject=f"Cerrado {n}")
            services.ticket_close(ticket=closed, actor=cast.agent)
            open_ticket(customer=cast.otro, subject=f"Otro {n}")

        walked = walk(
            api_as(cast.supervisor), limit=2, status="open", customer=str(cast.account.public_id)
        )

        assert walked == newest_first(wanted)

    def test_updates_between_pages_never_repeat_a_ticket(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        started = now()
        tickets = [open_ticket(subject=f"Caso {n}") for n in range(7)]
        laura = api_as(cast.agent)

        def activity(page_number: int) -> None:
            if page_number == 1:
                # One ticket already seen and one not yet seen get news.
                services.ticket_reply(ticket=tickets[-1], author=cast.ana, body="¿Y bien?")
                services.ticket_reply(ticket=tickets[0], author=cast.ana, body="Sigue igual.")

        walked = walk(laura, between=activity, limit=3)

        assert len(walked) == len(set(walked))
        # What moved ahead of the walk meanwhile is what `updated_since` gives from its start:
        # together they are every ticket.
        caught_up = ids(laura, updated_since=started.isoformat(), limit=100)
        assert set(walked) | set(caught_up) == {ticket.reference for ticket in tickets}

    @pytest.mark.parametrize(
        "cursor",
        [
            "not-base64!",
            cursor_encode(["2025-03-03T16:00:00+00:00"]),
            cursor_encode([1, 2]),
            cursor_encode(["mañana", 2]),
            cursor_encode(["2025-03-03T16:00:00+00:00", True]),
            cursor_encode(["2025-13-45T16:00:00+00:00", 2]),  # no such day
            cursor_encode(["2025-03-03T16:00:00+25:00", 2]),  # no such offset
            cursor_encode(["2025-03-03T16:00:00", 2]),  # no offset at all
            "x" * 500,
        ],
    )
    def test_a_cursor_the_api_did_not_give_is_422(
        self, cast: Cast, api_as: ApiAs, cursor: str
    ) -> None:
        response = api_as(cast.agent).get("/api/v1/tickets", {"cursor": cursor})

        assert error_fields(problem(response, 422)) == {"cursor"}

    @pytest.mark.parametrize("limit", [0, 101, "many"])
    def test_a_limit_out_of_range_is_422(self, cast: Cast, api_as: ApiAs, limit: object) -> None:
        response = api_as(cast.agent).get("/api/v1/tickets", {"limit": limit})

        assert error_fields(problem(response, 422, "validation")) == {"limit"}


class TestCost:
    def test_a_page_of_50_costs_the_queries_of_a_page_of_5(
        self,
        cast: Cast,
        api_as: ApiAs,
        open_ticket: OpenTicket,
        time_machine: TimeMachineFixture,
    ) -> None:
        # One instant: the token's use and its rate count are written the same way each time.
        time_machine.move_to(MOMENT, tick=False)
        laura = api_as(cast.agent)

        def cost() -> int:
            with CaptureQueriesContext(connection) as queries:
                body = page(laura, limit=100)
            assert body["next_cursor"] is None
            return len(queries.captured_queries)

        def add(count: int) -> None:
            for n in range(count):
                ticket = open_ticket(
                    customer=cast.beto if n % 2 else cast.ana, service=cast.hosting
                )
                routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)

        add(5)
        cost()  # the token's first use is recorded once
        five = cost()
        add(45)
        fifty = cost()

        assert len(ids(laura, limit=100)) == 50
        assert fifty == five
