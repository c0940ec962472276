"""The index's schema: complete after the migrations, reversible, and on SQLite its triggers
come back when a migration of the tickets app drops them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from atiende.search.apps import triggers_restore
from atiende.search.backends.postgres import PostgresBackend
from atiende.search.index import index_missing
from atiende.tickets import services
from tests.conftest import Cast
from tests.search.support import OpenTicket, found


def test_nothing_is_missing_after_the_migrations(db: None) -> None:
    assert index_missing() == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_and_indexes_what_exists_when_applied(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket(subject="Migración", body="Antes")

    call_command("migrate", "search", "zero", verbosity=0)
    try:
        tables = connection.introspection.table_names()
        assert "search_message_fts" not in tables
        with connection.cursor() as cursor:
            columns = [
                column.name
                for column in connection.introspection.get_table_description(
                    cursor, "tickets_message"
                )
            ]
        assert "search_vector" not in columns
        services.ticket_reply(ticket=ticket, author=cast.ana, body="Durante")  # writes work
    finally:
        call_command("migrate", "search", verbosity=0)

    assert index_missing() == []
    assert found(cast.ana, "migracion antes durante") == [ticket]


def test_sqlite_triggers_dropped_by_a_table_remake_are_put_back(db: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps triggers when a table changes")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER search_message_insert")
        cursor.execute("DROP TRIGGER search_attachment_delete")
    assert index_missing() == ["search_message_insert", "search_attachment_delete"]

    triggers_restore(using="default")

    assert index_missing() == []


def test_postgresql_without_unaccent_says_what_a_dba_must_run(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's extension")
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION unaccent CASCADE")  # all rolled back after the test
        cursor.execute("CREATE ROLE atiende_search_test NOLOGIN")
        cursor.execute("GRANT ALL ON SCHEMA public TO atiende_search_test")
        cursor.execute("SET ROLE atiende_search_test")

    with pytest.raises(ImproperlyConfigured, match=r"run `CREATE EXTENSION unaccent;`"):
        PostgresBackend().install(connection, fill=False)


def test_postgresql_samples_the_vectors_widely_enough_to_tell_rare_words(db: None) -> None:
    """A word in no subject was estimated in 0.5 % of them with the default target, and the
    planner walked every ticket newest first instead of asking the GIN index."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statistics")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attrelid::regclass::text, attstattarget FROM pg_attribute "
            "WHERE attname = 'search_vector' AND attrelid IN "
            "('tickets_ticket'::regclass, 'tickets_message'::regclass) ORDER BY 1"
        )
        assert cursor.fetchall() == [("tickets_message", 1000), ("tickets_ticket", 1000)]
