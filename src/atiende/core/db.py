"""Database expressions that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, Func
from django.db.models.sql.compiler import SQLCompiler


class CurrentTransactionId(Func):
    """The id of the transaction writing the row (PostgreSQL's `pg_current_xact_id()`), NULL
    on SQLite.

    Rows stamped with it can be read in commit-safe order: every row whose id is below the
    oldest transaction still running (`pg_snapshot_xmin`) is committed, and no row that
    commits later can carry a smaller id. SQLite runs one writer at a time, so there the
    primary key already is commit order.
    """

    template = "NULL"
    output_field = BigIntegerField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler, connection, template="(pg_current_xact_id()::text::bigint)", **extra
        )
