"""PostgreSQL: a larger statistics target for the search vectors (see `STATISTICS` in
`atiende.search.backends.postgres`), so that the planner tells a rare word from a common one.
Nothing to do on SQLite. The next ANALYZE (autovacuum's, or one run by hand) uses it."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def vector_statistics(target: int | None) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        from atiende.search.backends.postgres import COLUMN, INDEXES, STATISTICS

        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in INDEXES:
                cursor.execute(
                    f"ALTER TABLE {table} ALTER COLUMN {COLUMN} "
                    f"SET STATISTICS {STATISTICS if target is None else target}"
                )

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_full_text_index")]

    operations = [
        migrations.RunPython(vector_statistics(None), vector_statistics(-1), elidable=False)
    ]
