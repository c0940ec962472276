"""The search index as a whole: check it, rebuild it (`atiende search rebuild`).

The index is kept in step by database triggers (see `backends/`); a rebuild is for repairs: a
dropped or damaged index, rows written while its triggers were missing, a change of the
text search configuration. It is safe while the application runs: first the index's objects
that are missing or broken are recreated, then every ticket and message is indexed again in
batches of ids, each batch in its own short transaction that replaces exactly that range, so
concurrent writes (indexed by the triggers) are never lost nor indexed twice, and searches
keep working between batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections, transaction

from atiende.search.backends import backend_for
from atiende.search.backends.base import SOURCE_TABLES, SOURCES, Source

BATCH_SIZE = 1000


@dataclass
class RebuildResult:
    repaired: list[str] = field(default_factory=list)
    indexed: dict[Source, int] = field(default_factory=dict)


def index_missing(*, using: str = "default") -> list[str]:
    """The index's objects (tables, columns, triggers, indexes) that are missing or broken."""
    connection = connections[using]
    return backend_for(connection).missing(connection)


def index_rows_total(*, using: str = "default") -> int:
    """How many rows a rebuild indexes: every ticket and every message."""
    with connections[using].cursor() as cursor:
        total = 0
        for table in SOURCE_TABLES.values():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            total += int(cursor.fetchone()[0])
    return total


def index_rebuild(
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[Source, int], None] | None = None,
    on_repair: Callable[[str], None] | None = None,
    using: str = "default",
) -> RebuildResult:
    """Recreate what is missing, then index every ticket and message again, `batch_size` ids
    per transaction; `on_batch(source, rows)` after each batch, `on_repair(name)` for each
    object recreated. Idempotent."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    connection = connections[using]
    backend = backend_for(connection)
    result = RebuildResult()
    with transaction.atomic(using=using):
        result.repaired = backend.repair(connection)
    for name in result.repaired:
        if on_repair:
            on_repair(name)
    for source in SOURCES:
        table = SOURCE_TABLES[source]
        after = 0
        result.indexed[source] = 0
        while True:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                # The batch's last id; None for the last batch, which has no upper bound so
                # that it also drops index rows of deleted rows past the end.
                cursor.execute(
                    f"SELECT id FROM {table} WHERE id > %s ORDER BY id LIMIT 1 OFFSET %s",
                    [after, batch_size - 1],
                )
                row = cursor.fetchone()
                upto = int(row[0]) if row else None
                count = backend.reindex_range(cursor, source=source, after=after, upto=upto)
            result.indexed[source] += count
            if on_batch:
                on_batch(source, count)
            if upto is None:
                break
            after = upto

    def repaired(name: str) -> None:
        result.repaired.append(name)
        if on_repair:
            on_repair(name)

    backend.finish(connection, report=repaired)
    return result
