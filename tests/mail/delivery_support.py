"""Helpers of the delivery tests: what the outbox holds against what the SMTP server received."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from atiende.mail.models import OutboxMessage
from atiende.tickets.models import Ticket
from tests.services.site import Site
from tests.services.smtp import Received

# (ticket reference or None, Message-ID) of an outbox row, in the order the rows were written.
RowKey = tuple[str | None, str]


_OUTBOX_COLUMNS = (
    "id",
    "ticket",
    "template",
    "to",
    "message_id",
    "status",
    "attempts",
    "last_error",
)
_OUTBOX_SQL = (  # table names of our models, no input: S608 does not apply
    'SELECT o.id, t.reference, o.template, o."to", o.message_id, o.status, o.attempts, '  # noqa: S608
    f"o.last_error FROM {OutboxMessage._meta.db_table} o "
    f"LEFT JOIN {Ticket._meta.db_table} t ON t.id = o.ticket_id ORDER BY o.id"
)


def site_outbox(site: Site) -> list[dict[str, Any]]:
    """The outbox of a site (as `tests.mail.outbox_site` prints it), oldest row first."""
    return [dict(zip(_OUTBOX_COLUMNS, row, strict=True)) for row in site.sql(_OUTBOX_SQL)]


def order_written(rows: Iterable[RowKey]) -> dict[str | None, list[str]]:
    """Message-IDs per ticket, in the order the outbox rows were written."""
    order: dict[str | None, list[str]] = defaultdict(list)
    for ticket, message_id in rows:
        order[ticket].append(message_id)
    return dict(order)


def order_received(received: Iterable[Received]) -> dict[str | None, list[str]]:
    """Message-IDs per ticket, in the order the server first accepted them."""
    order: dict[str | None, list[str]] = defaultdict(list)
    for item in received:
        if item.message_id not in order[item.ticket]:
            order[item.ticket].append(item.message_id)
    return dict(order)


def assert_each_received_once(received: list[Received], rows: Iterable[RowKey]) -> None:
    """Every row reached the server exactly once, nothing else did, and the mails of each
    ticket arrived in the order they were written."""
    rows = list(rows)
    counts = Counter(item.message_id for item in received)
    assert counts == Counter(message_id for _ticket, message_id in rows)
    assert order_received(received) == order_written(rows)
