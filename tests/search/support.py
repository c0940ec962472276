"""Helpers of the search tests: who finds what."""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile

from atiende.accounts.models import User
from atiende.search.selectors import SearchHit, ticket_search
from atiende.tickets.models import Ticket

OpenTicket = Callable[..., Ticket]


def found(user: User, query: str, *, limit: int = 50) -> list[Ticket]:
    """The tickets `user` finds with `query`, in the order given."""
    return [hit.ticket for hit in ticket_search(user=user, query=query, limit=limit)]


def hit_for(user: User, query: str, ticket: Ticket) -> SearchHit:
    """The hit of `ticket` among what `user` finds with `query` (the test fails without one)."""
    hits = [hit for hit in ticket_search(user=user, query=query) if hit.ticket == ticket]
    assert hits, f"{ticket.reference} not found with {query!r}"
    return hits[0]


def text_file(name: str, content: bytes = b"contenido de prueba\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")
