"""PostgreSQL: trigram indexes for the staff's matches inside customers' e-mail addresses and
services' names (`ILIKE '%word%'`), which otherwise read every user and every service on each
staff search: 65 ms with 60 000 users and 140 000 services (bench/pages.py, a million
tickets). The `pg_trgm` extension is trusted since PostgreSQL 13, so the database's owner may
create it; where Atiende's user may not, the indexes are left out (a warning says so) and the
search works as before, only slower, until a DBA runs `CREATE EXTENSION pg_trgm;` and the
migration is run again. Nothing to do on SQLite, whose LIKE reads narrow indexes instead."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

INDEXES = [
    ("user_email_trigrams", "accounts_user", "email"),
    ("service_name_trigrams", "accounts_service", "name"),
]


def create(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:
            logger.warning(
                "pg_trgm could not be created (%s): staff searches will read every user and "
                "service. A DBA can run CREATE EXTENSION pg_trgm; then migrate search zero "
                "and migrate again.",
                error,
            )
            return
        for name, table, column in INDEXES:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
            )


def drop(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name, _table, _column in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_vector_statistics"),
        ("accounts", "0004_staff_and_service_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
