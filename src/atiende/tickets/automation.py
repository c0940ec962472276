"""The auto-close sweep: what the worker runs every minute and `atiende sweep` runs once.

It reads the system clock through `now()`, so `faketime '+4 days' atiende sweep` closes what
is due then. It only touches tickets with a due deadline (partial indexes on auto_close_at
and reminder_at): its cost grows with the tickets due, not with all tickets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.db.models import Q

from atiende.core.clock import now
from atiende.tickets.models import Ticket
from atiende.tickets.services import ticket_auto_close, ticket_auto_close_remind

logger = logging.getLogger(__name__)

BATCH = 500


class _TicketStep(Protocol):
    def __call__(self, *, ticket_id: int, moment: datetime) -> bool: ...


@dataclass(frozen=True)
class SweepResult:
    reminded: int
    closed: int


def _due(
    field: str, moment: datetime, cursor: tuple[datetime, int] | None
) -> list[tuple[int, datetime]]:
    """The next batch of tickets whose `field` is due, in the order of the partial index on
    `field`, after `cursor` (the last (deadline, id) seen).

    Ordering and paging by the deadline, not by id, is what lets the database walk the
    partial index over the due rows only; ordered by id, SQLite walks the whole table.
    """
    rows = Ticket.objects.filter(**{f"{field}__lte": moment})
    if cursor is not None:
        last, last_pk = cursor
        rows = rows.filter(
            Q(**{f"{field}__gt": last}) | Q(**{field: last, "pk__gt": last_pk}),
            **{f"{field}__gte": last},
        )
    return list(rows.order_by(field, "pk").values_list("pk", field)[:BATCH])


def _apply(field: str, moment: datetime, apply: _TicketStep) -> int:
    """Apply `apply` to every ticket whose `field` is due, batch by batch; how many it did.

    Each ticket is its own transaction: one that fails (a template that cannot render for
    that customer, a lock timeout) is logged and left for the next sweep, and never holds
    back the tickets after it.
    """
    done = 0
    cursor: tuple[datetime, int] | None = None
    while batch := _due(field, moment, cursor):
        for pk, _deadline in batch:
            try:
                done += apply(ticket_id=pk, moment=moment)
            except Exception:
                logger.exception(
                    "auto-close sweep: ticket %s failed (%s); next sweep retries", pk, field
                )
        last_pk, last = batch[-1]
        cursor = (last, last_pk)
    return done


def auto_close_sweep() -> SweepResult:
    """Send the reminders and close the tickets that are due now; safe to run concurrently."""
    moment = now()
    reminded = _apply("reminder_at", moment, ticket_auto_close_remind)
    closed = _apply("auto_close_at", moment, ticket_auto_close)
    return SweepResult(reminded=reminded, closed=closed)
