"""Which agents have a ticket open right now.

Kept in the database, not in process memory, so every app server sees every agent: a page
touches its row when it loads and then every PRESENCE_BEAT seconds; an agent whose row is
older than PRESENCE_TIMEOUT has left.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction

from atiende.accounts.models import User
from atiende.core.clock import now
from atiende.tickets.models import Presence, Ticket

PRESENCE_BEAT = 20
PRESENCE_TIMEOUT = timedelta(seconds=60)


def presence_touch(*, ticket: Ticket, agent: User) -> None:
    """Record that `agent` is looking at `ticket` now (an upsert; idempotent)."""
    moment = now()
    if Presence.objects.filter(ticket=ticket, agent=agent).update(last_seen=moment):
        return
    try:
        with transaction.atomic():
            Presence.objects.create(ticket=ticket, agent=agent, last_seen=moment)
    except IntegrityError:  # another request of his created it first
        Presence.objects.filter(ticket=ticket, agent=agent).update(last_seen=moment)


def presence_leave(*, ticket: Ticket, agent: User) -> None:
    Presence.objects.filter(ticket=ticket, agent=agent).delete()


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
