"""Helpers for the console queue, jump and search tests (the cast lives in tests/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from django.test import Client

from atiende.tickets.models import Ticket
from tests.portal.conftest import html, login, queries_for

__all__ = [
    "QUEUE",
    "START",
    "OpenTicket",
    "at",
    "html",
    "login",
    "queries_for",
    "queue",
    "references",
    "rows",
]

OpenTicket = Callable[..., Ticket]
START = datetime(2026, 3, 2, 15, tzinfo=UTC)
QUEUE = "/consola/"


def at(hours: float) -> Any:
    """Travel to START + `hours` (and stay there): `with at(2): ...`."""
    return time_machine.travel(START + timedelta(hours=hours), tick=False)


def rows(page: str) -> list[str]:
    """The rows of the queue's ticket table (not the counts table)."""
    if 'class="responsive tickets queue"' not in page:
        return []
    table = page.split('class="responsive tickets queue"', 1)[1]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def references(page: str) -> list[str]:
    """The ticket IDs the queue lists, in its order."""
    return [
        match
        for row in rows(page)
        for match in re.findall(r'class="ref"><a href="/consola/tickets/([^/]+)/">', row)
    ]


def queue(client: Client, **params: str) -> str:
    return html(client.get(QUEUE, params))
