"""The queue pages run as many queries for 50 rows as for 5, and counts cost one query (and
a capped one per department for the closed tickets)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.accounts.models import User
from atiende.tickets import routing, selectors
from tests.conftest import Cast, customer_create
from tests.console.queue_support import OpenTicket, login, queries_for, rows

VIEWS = ["/consola/", "/consola/?vista=mios", "/consola/?vista=todos&orden=creados"]


def _open_many(cast: Cast, open_ticket: OpenTicket, count: int, start: int) -> None:
    """`count` tickets of several customers: some taken by the agent, with collaborators."""
    for number in range(start, start + count):
        customer = customer_create(
            f"cliente{number}@example.com", cast.account, f"Cliente {number}"
        )
        ticket = open_ticket(customer=customer, subject=f"Ticket {number}")
        if number % 2:
            routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
            routing.ticket_collaborator_add(
                ticket=ticket, collaborator=cast.supervisor, actor=cast.supervisor
            )
        else:
            routing.ticket_collaborator_add(
                ticket=ticket, collaborator=cast.agent, actor=cast.agent
            )


def _counts(agent: User) -> list[int]:
    client = login(agent)
    return [queries_for(client, url) for url in VIEWS]


def test_the_queries_do_not_grow_with_the_rows(cast: Cast, open_ticket: OpenTicket) -> None:
    _open_many(cast, open_ticket, 5, start=0)
    few = _counts(cast.agent)
    assert len(rows(login(cast.agent).get("/consola/?vista=todos").content.decode())) == 5

    _open_many(cast, open_ticket, 45, start=5)
    many = _counts(cast.agent)
    assert len(rows(login(cast.agent).get("/consola/?vista=todos").content.decode())) == 50

    assert few == many


def test_the_counts_are_one_aggregate_query_and_a_capped_count_a_department(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    _open_many(cast, open_ticket, 3, start=0)
    open_ticket(department=cast.operaciones)
    departments = list(selectors.department_list_for_agent(agent=cast.supervisor))

    with CaptureQueriesContext(connection) as captured:
        counts = selectors.ticket_counts_for_agent(agent=cast.supervisor, departments=departments)

    # One to learn which departments he works (a supervisor: all), one to count the working
    # statuses, and one capped count of the closed tickets per department.
    assert len(captured.captured_queries) == 2 + len(departments)
    assert all("LIMIT 10001" in query["sql"] for query in captured.captured_queries[2:])
    assert sum(row.total for row in counts) == 4


def test_the_customers_other_tickets_and_the_staff_list_read_their_own_indexes(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    """Beside a ticket, the customer's other tickets come from his own index, not from the
    department's (half of a million tickets); the staff filter reads the staff's partial
    index, not every customer's user. Without statistics (nothing runs ANALYZE) SQLite's
    planner chose the department's index; PostgreSQL's has statistics and its own mind."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan")
    ticket = open_ticket()
    open_ticket()

    with CaptureQueriesContext(connection) as captured:
        selectors.ticket_list_other_for_agent(agent=cast.agent, ticket=ticket)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + captured.captured_queries[-1]["sql"])
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    staff = selectors.staff_list_for_agent(agent=cast.agent).explain()

    assert "ticket_customer_recent" in plan and "TEMP B-TREE" not in plan
    assert "USING INDEX user_staff" in staff
