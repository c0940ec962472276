"""`atiende search rebuild` puts back a dropped, damaged or stale index, batch by batch, while
writes go on; `atiende search check` says what is missing."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from atiende.search.index import index_missing, index_rebuild
from atiende.tickets import services
from atiende.tickets.models import Message, Ticket
from tests.conftest import Cast
from tests.search.support import OpenTicket, found

SQLITE = "sqlite"


def run(*args: str) -> tuple[str, str]:
    """`atiende search ARGS` in this process: (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("search", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def execute(*statements: str) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def drop_the_index() -> None:
    if connection.vendor == SQLITE:
        execute("DROP TABLE search_message_fts", "DROP TABLE search_ticket_fts")
    else:
        execute(
            # The test's transaction holds deferred foreign key checks, with which PostgreSQL
            # creates no index; a rebuild runs in transactions of its own.
            "SET CONSTRAINTS ALL IMMEDIATE",
            "DROP INDEX search_message_vector",
            "DROP INDEX search_ticket_vector",
            "UPDATE tickets_message SET search_vector = NULL",
            "UPDATE tickets_ticket SET search_vector = NULL",
        )


def drop_the_message_trigger() -> str:
    if connection.vendor == SQLITE:
        execute("DROP TRIGGER search_message_insert")
        return "search_message_insert"
    execute("DROP TRIGGER atiende_search_message ON tickets_message")
    return "atiende_search_message"


class TestCheck:
    def test_says_so_when_the_index_is_complete(self, db: None) -> None:
        out, _err = run("check")

        assert out == "The search index is complete.\n"

    def test_names_what_is_missing_and_fails(self, db: None) -> None:
        name = drop_the_message_trigger()

        with pytest.raises(CommandError, match=f"incomplete: {name}. Run `atiende search"):
            run("check")


class TestRebuild:
    def test_indexes_every_ticket_and_message_with_a_progress_bar(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Dominio", body="Vencido")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Renovado")
        open_ticket(subject="Correo", body="Lento")

        out, err = run("rebuild", "--batch-size", "1")

        assert out == "Indexed 2 tickets and 3 messages.\n"
        assert "Indexing" in err and "5/5" in err
        assert found(cast.ana, "renovado vencido") == [ticket]

    def test_puts_back_a_dropped_index(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Dominio", body="Vencido")
        drop_the_index()
        assert index_missing()

        _out, err = run("rebuild")

        assert "Recreated search_" in err
        assert index_missing() == []
        assert found(cast.ana, "vencido dominio") == [ticket]
        services.ticket_reply(ticket=ticket, author=cast.ana, body="Urgente")
        assert found(cast.ana, "urgente") == [ticket]

    def test_indexes_what_was_written_while_a_trigger_was_missing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Consulta")
        drop_the_message_trigger()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Reiniciamos el servidor")
        assert found(cast.ana, "servidor") == []

        run("rebuild")

        assert found(cast.ana, "servidor") == [ticket]
        assert index_missing() == []

    def test_replaces_stale_entries(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Consulta", body="Texto verdadero")
        renamed = open_ticket(subject="Asunto viejo", body="Hola")
        message = ticket.messages.get()
        if connection.vendor == SQLITE:
            # Damaged: one row says something else, another belongs to no message.
            execute(
                f"UPDATE search_message_fts SET body = 'texto falso' WHERE rowid = {message.pk}",
                "INSERT INTO search_message_fts(rowid, body, scope) "
                f"VALUES (999999, 'huerfano', 'a{cast.account.pk} t{ticket.pk}')",
                "DROP TRIGGER search_ticket_update",
            )
        else:
            execute(
                "UPDATE tickets_message SET search_vector = to_tsvector('simple', 'texto falso') "
                f"WHERE id = {message.pk}",
                "DROP TRIGGER atiende_search_ticket ON tickets_ticket",
            )
        Ticket.objects.filter(pk=renamed.pk).update(subject="Asunto nuevo")  # not indexed
        assert found(cast.ana, "falso") == [ticket]
        assert found(cast.ana, "nuevo") == []

        run("rebuild")

        assert found(cast.ana, "falso") == []
        assert found(cast.ana, "huerfano") == []
        assert found(cast.ana, "verdadero") == [ticket]
        assert found(cast.ana, "asunto nuevo") == [renamed]

    def test_a_message_written_between_two_batches_is_indexed_once(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        tickets = [open_ticket(subject=f"Consulta {number}") for number in range(3)]
        written: list[Message] = []

        def write_once(source: str, rows: int) -> None:
            if source == "messages" and not written:
                written.append(
                    services.ticket_reply(ticket=tickets[0], author=cast.ana, body="Intermedio")
                )

        result = index_rebuild(batch_size=1, on_batch=write_once)

        assert written
        assert result.indexed == {"tickets": 3, "messages": 4}
        assert found(cast.ana, "intermedio") == [tickets[0]]
        if connection.vendor == SQLITE:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*), COUNT(DISTINCT rowid) FROM search_message_fts")
                assert cursor.fetchone() == (4, 4)

    def test_refuses_a_batch_size_below_one(self, db: None) -> None:
        with pytest.raises(CommandError, match="--batch-size must be at least 1"):
            run("rebuild", "--batch-size", "0")
