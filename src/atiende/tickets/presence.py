"""Which agents have a ticket open right now.

Kept in the database, not in process memory, so every app server sees every agent: a page
touches its row when it loads and then every PRESENCE_BEAT seconds; an agent whose row is
older than PRESENCE_TIMEOUT has left.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from atiende.accounts.models import User
from atiende.core.clock import now
from atiende.tickets.models import Presence, Ticket

PRESENCE_BEAT = 20
PRESENCE_TIMEOUT = timedelta(seconds=60)


def presence_touch(*, ticket: Ticket, agent: User) -> datetime:
    """Record that `agent` is looking at `ticket` now (an upsert; idempotent). Returns the
    moment recorded: the page that touched keeps it to say when it leaves."""
    moment = now()
    if Presence.objects.filter(ticket=ticket, agent=agent).update(last_seen=moment):
        return moment
    try:
        with transaction.atomic():
            Presence.objects.create(ticket=ticket, agent=agent, last_seen=moment)
    except IntegrityError:  # another request of his created it first
        Presence.objects.filter(ticket=ticket, agent=agent).update(last_seen=moment)
    return moment


def presence_leave(*, ticket: Ticket, agent: User, touched_at: datetime | None = None) -> None:
    """`agent` left the ticket's page. With `touched_at` (the last touch of the page that is
    leaving) a later touch wins: the browser says "gone" only once the next page has loaded,
    and when that page is this same ticket (after a reply, a reload) he is still here."""
    rows = Presence.objects.filter(ticket=ticket, agent=agent)
    if touched_at is not None:
        rows = rows.filter(last_seen__lte=touched_at)
    rows.delete()


def presence_others(*, ticket: Ticket, agent: User) -> list[User]:
    """The other agents who have the ticket open now."""
    since = now() - PRESENCE_TIMEOUT
    return [
        row.agent
        for row in Presence.objects.filter(ticket=ticket, last_seen__gte=since)
        .exclude(agent=agent)
        .select_related("agent")
        .order_by("agent__full_name")
    ]
