"""The full-text backend of a database connection: SQLite FTS5 or PostgreSQL tsvector."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper

from atiende.search.backends.base import SearchBackend
from atiende.search.backends.postgres import PostgresBackend
from atiende.search.backends.sqlite import SqliteBackend

_BACKENDS: dict[str, SearchBackend] = {
    backend.vendor: backend for backend in (SqliteBackend(), PostgresBackend())
}


def backend_for(connection: BaseDatabaseWrapper) -> SearchBackend:
    try:
        return _BACKENDS[connection.vendor]
    except KeyError:
        raise ImproperlyConfigured(
            f"Atiende's search supports SQLite and PostgreSQL, not {connection.vendor}."
        ) from None
