"""Reads the API needs beyond the console's: keyset pages of tickets and the events feed.

Both are scoped by `ticket_list_for_agent` (the departments the token's user works in) in the
query itself, and both page by position, never by offset: the 1000th page costs what the
first does.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db import connection
from django.db.models import BigIntegerField, Func, Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from atiende.accounts.models import Department, User
from atiende.api.cursors import cursor_decode, cursor_encode
from atiende.core.errors import DomainError
from atiende.tickets.models import Event, Ticket
from atiende.tickets.selectors import (
    agent_department_ids,
    department_list_for_agent,
    ticket_list_for_agent,
)

TICKET_RELATED = ("department", "customer", "account", "service", "assignee")


class FeedHorizon(Func):
    """PostgreSQL: the lowest transaction id that may still commit an event, as of the
    statement's snapshot. Every event below it that the statement does not see never will.

    It is the lowest of: the snapshot's running transactions (`pg_snapshot_xip`) less those
    that `pg_stat_activity` places in another database of the cluster, which cannot write our
    rows; the snapshot's `xmax`; the reader's own transaction if it wrote (its events are not
    final before it commits). `pg_snapshot_xmin` alone would also wait on every other
    database's writers: one long transaction anywhere on the server would stall the feed.
    A transaction whose database cannot be told (it ended meanwhile, or its session is hidden
    from us) still counts: a doubt only delays an event, it never skips one.
    """

    template = (
        "(SELECT LEAST(COALESCE(MIN(running.xid),"
        " pg_snapshot_xmax(pg_current_snapshot())::text::bigint),"
        " pg_current_xact_id_if_assigned()::text::bigint)"
        " FROM (SELECT xip::text::bigint AS xid"
        " FROM pg_snapshot_xip(pg_current_snapshot()) AS xip) AS running"
        " WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity AS activity"
        " WHERE activity.backend_xid::text::bigint = mod(running.xid, 4294967296)"
        " AND activity.datname IS DISTINCT FROM current_database()))"
    )
    output_field = BigIntegerField()


def department_by_slug(*, slug: str, agent: User | None = None) -> Department:
    """The department the API names by its slug; with `agent`, only one he works in. An
    unknown department and one he may not see are the same DomainError on `department`."""
    departments = (
        department_list_for_agent(agent=agent) if agent is not None else Department.objects.all()
    )
    found = departments.filter(slug=slug).first()
    if found is None:
        raise DomainError(_("Unknown department: %(id)s.") % {"id": slug}, field="department")
    return found


def ticket_page_for_agent(
    *,
    agent: User,
    statuses: list[str] | None = None,
    department: str | None = None,
    customer: UUID | None = None,
    assignee: str | None = None,
    updated_since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Ticket], str | None]:
    """Tickets the agent may see, most recently updated first, and the cursor of the next
    page (None at the end). `assignee` is an e-mail, "me" or "none"."""
    tickets: QuerySet[Ticket] = ticket_list_for_agent(agent=agent)
    if statuses:
        tickets = tickets.filter(status__in=statuses)
    if department:
        tickets = tickets.filter(department=department_by_slug(slug=department, agent=agent))
    if customer is not None:
        tickets = tickets.filter(account__public_id=customer)
    if assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee == "me":
        tickets = tickets.filter(assignee=agent)
    elif assignee:
        tickets = tickets.filter(assignee__email__iexact=assignee)
    if updated_since is not None:
        tickets = tickets.filter(changed_at__gte=updated_since)
    if cursor:
        moment_text, last_id = cursor_decode(cursor, shape=(str, int))
        try:
            moment = parse_datetime(moment_text)
        except ValueError:  # well formed, but no such moment (month 13)
            moment = None
        if moment is None or moment.tzinfo is None:
            raise DomainError(
                _("This cursor is not valid; use one the API returned."), field="cursor"
            )
        # The redundant bound lets both databases start the index range at the cursor
        # instead of reading (and dropping) every newer row: page 1000 costs what page 1 does.
        tickets = tickets.filter(changed_at__lte=moment).filter(
            Q(changed_at__lt=moment) | Q(changed_at=moment, pk__lt=last_id)
        )
    rows = list(tickets.select_related(*TICKET_RELATED).order_by("-changed_at", "-id")[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, cursor_encode([last.changed_at.isoformat(), last.pk])


def event_feed_for_agent(
    *, agent: User, after: str | None, limit: int = 100
) -> tuple[list[tuple[Event, str]], str]:
    """Every event of the tickets the agent may see after the cursor `after` (from the first
    one without it), in commit order, each with its own cursor; and the cursor to ask from
    next time (`after` itself when nothing is new).

    On PostgreSQL the order is (txid, id) and only events of transactions older than every
    running one (`FeedHorizon`) are given out: an event committed late can never fall behind
    a cursor already handed out. On SQLite writers run one at a time, so the id is commit
    order.
    """
    events = Event.objects.all()
    departments = agent_department_ids(agent)
    if departments is not None:
        events = events.filter(ticket__department_id__in=departments)
    postgres = connection.vendor == "postgresql"
    if after:
        txid, last_id = cursor_decode(after, shape=(int, int), field="after")
        if postgres:
            events = events.filter(Q(txid__gt=txid) | Q(txid=txid, pk__gt=last_id))
        else:
            events = events.filter(pk__gt=last_id)
    if postgres:
        events = events.filter(txid__lt=FeedHorizon()).order_by("txid", "id")
    else:
        events = events.order_by("id")
    rows = list(events.select_related("actor", "ticket")[:limit])
    items = [(event, cursor_encode([event.txid or 0, event.pk])) for event in rows]
    next_cursor = items[-1][1] if items else (after or cursor_encode([0, 0]))
    return items, next_cursor
