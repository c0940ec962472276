"""The auto-close sweep: what the worker runs every minute and `atiende sweep` runs once.

It reads the system clock through `now()`, so `faketime '+4 days' atiende sweep` closes what
is due then. It only touches tickets with a due deadline (partial indexes on auto_close_at
and reminder_at): its cost grows with the tickets due, not with all tickets.
"""

from __future__ import annotations

from dataclasses import dataclass

from atiende.core.clock import now
from atiende.tickets.models import Ticket
from atiende.tickets.services import ticket_auto_close, ticket_auto_close_remind

BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    reminded: int
    closed: int


def _due_ids(field: str, moment: object, after: int) -> list[int]:
    return list(
        Ticket.objects.filter(**{f"{field}__lte": moment, "pk__gt": after})
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def auto_close_sweep() -> SweepResult:
    """Send the reminders and close the tickets that are due now; safe to run concurrently."""
    moment = now()
    reminded = closed = 0
    after = 0
    while ids := _due_ids("reminder_at", moment, after):
        reminded += sum(ticket_auto_close_remind(ticket_id=pk, moment=moment) for pk in ids)
        after = ids[-1]
    after = 0
    while ids := _due_ids("auto_close_at", moment, after):
        closed += sum(ticket_auto_close(ticket_id=pk, moment=moment) for pk in ids)
        after = ids[-1]
    return SweepResult(reminded=reminded, closed=closed)
