"""Helpers for the console ticket page's tests (the cast lives in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from atiende.tickets.models import Ticket
from tests.portal.conftest import html, login, queries_for, upload

__all__ = ["html", "login", "page_url", "post", "queries_for", "upload", "url"]


def page_url(ticket: Ticket) -> str:
    return f"/consola/tickets/{ticket.reference}/"


def url(ticket: Ticket, action: str) -> str:
    """The URL of one of the page's actions: `url(ticket, "responder")`."""
    return f"{page_url(ticket)}{action}/"


def post(client: Client, ticket: Ticket, action: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url(ticket, action), data or {})
