"""Search stays instant: a constant number of queries, the full-text index in the plan, and a
word found everywhere costs no more than a rare one (its newest matches are ranked) without
losing a ticket that also holds a rare word."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.search import selectors
from atiende.search.selectors import ticket_search
from atiende.tickets import services
from atiende.tickets.models import ActorKind, Message
from tests.conftest import Cast
from tests.search.support import OpenTicket, found


def queries_of(user_query: tuple[object, str]) -> list[str]:
    user, query = user_query
    with CaptureQueriesContext(connection) as captured:
        ticket_search(user=user, query=query)  # type: ignore[arg-type]
    return [entry["sql"] for entry in captured.captured_queries]


def search_sql(user: object, query: str) -> str:
    """The SQL of the search query proper (not the agent's departments, not the fetch)."""
    return next(sql for sql in queries_of((user, query)) if "UNION ALL" in sql)


class TestQueryCount:
    @pytest.mark.parametrize("who", ["ana", "agent", "admin"])
    def test_is_the_same_for_3_and_30_tickets_found(
        self, cast: Cast, open_ticket: OpenTicket, who: str
    ) -> None:
        user = getattr(cast, who)

        def add(count: int) -> None:
            for number in range(count):
                ticket = open_ticket(subject=f"Respaldo {number}", body="El respaldo falló")
                services.ticket_reply(ticket=ticket, author=cast.agent, body="Otro respaldo")

        add(3)
        few = len(queries_of((user, "respaldo fallo")))
        add(27)
        many = len(queries_of((user, "respaldo fallo")))

        assert few == many <= 4
        assert len(found(user, "respaldo fallo")) == 30


class TestTheIndexIsUsed:
    def test_on_sqlite_the_fts_tables_drive_the_search(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        if connection.vendor != "sqlite":
            pytest.skip("SQLite's plan")
        open_ticket(subject="Dominio", body="Dominio vencido")

        for user in (cast.ana, cast.agent, cast.admin):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {search_sql(user, 'dominio')}")
                plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert "SCAN search_message_fts VIRTUAL TABLE INDEX" in plan
            assert "SCAN search_ticket_fts VIRTUAL TABLE INDEX" in plan

    def test_on_sqlite_a_staff_search_reaches_tickets_from_the_matching_customers(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        """Not by walking the department's tickets (half of them all) to find theirs."""
        if connection.vendor != "sqlite":
            pytest.skip("SQLite's plan")
        open_ticket(subject="Dominio", body="Dominio vencido")

        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {search_sql(cast.agent, 'cliente')}")
            plan = [str(row[-1]) for row in cursor.fetchall()]

        customers = plan.index("CO-ROUTINE found_by_customer_id")
        services_ = plan.index("CO-ROUTINE found_by_service_id")
        assert plan[customers + 1].startswith("SCAN x")  # the users matching the word first
        assert "(customer_id=?)" in plan[customers + 2]  # then their tickets by that index
        assert plan[services_ + 1] == "SCAN x USING COVERING INDEX service_name"
        assert "(service_id=?)" in plan[services_ + 2]
        assert not any("department_id" in line for line in plan[customers : services_ + 3])

    def test_on_postgresql_the_gin_indexes_answer_the_words(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL's plan")
        ticket = open_ticket(subject="Consulta", body="El xilófono desafinado")
        filler = open_ticket(subject="Relleno", body="Nada")
        Message.objects.bulk_create(
            Message(ticket=filler, author_kind=ActorKind.SYSTEM, body=f"Texto común {number}")
            for number in range(2000)
        )

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_message, tickets_ticket")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")  # no walk along the id index
            cursor.execute(f"EXPLAIN {search_sql(cast.admin, 'xilofono')}")
            plan = "\n".join(row[0] for row in cursor.fetchall())

        assert "Bitmap Index Scan on search_message_vector" in plan
        assert "Bitmap Index Scan on search_ticket_vector" in plan
        assert found(cast.admin, "xilofono") == [ticket]

    def test_on_postgresql_trigram_indexes_answer_the_staffs_matches_in_addresses_and_names(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        """Not a read of every user and every service (65 ms at a million tickets)."""
        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL's plan")
        ticket = open_ticket(subject="Consulta", body="Nada")

        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test's tables are tiny
            cursor.execute(f"EXPLAIN {search_sql(cast.agent, 'torres')}")
            plan = "\n".join(row[0] for row in cursor.fetchall())

        assert "Bitmap Index Scan on user_email_trigrams" in plan
        assert "Bitmap Index Scan on service_name_trigrams" in plan
        assert "Seq Scan on accounts_user" not in plan
        assert found(cast.agent, "ana@example") == [ticket]  # by its customer's address


class TestCommonWords:
    @pytest.fixture(autouse=True)
    def few_newest(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Three of a word's matches per source are ranked, instead of hundreds."""
        monkeypatch.setattr(selectors, "NEWEST_PER_WORD", 3)

    def test_a_common_word_ranks_its_newest_matches(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        tickets = [open_ticket(subject="Consulta", body="Problema de correo") for _ in range(6)]

        assert found(cast.ana, "correo") == tickets[::-1][:3]

    def test_an_old_ticket_with_a_rare_word_is_found_with_a_common_one(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        old = open_ticket(subject="Correo caído", body="Hola")
        services.ticket_reply(ticket=old, author=cast.agent, body="Revisamos el buzón")
        for _number in range(6):
            open_ticket(subject="Correo lento", body="Problema de correo")

        assert found(cast.ana, "correo buzon") == [old]
        assert found(cast.agent, "buzon correo") == [old]

    def test_common_words_together_find_the_newest_tickets_holding_them_all(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        old = open_ticket(subject="Correo y dominio", body="Correo y dominio")
        for _number in range(4):
            open_ticket(subject="Correo", body="Correo")
            open_ticket(subject="Dominio", body="Dominio")

        assert found(cast.ana, "correo dominio") == []  # older than the newest three of each
        newest = open_ticket(subject="Correo y dominio", body="Correo y dominio")
        assert found(cast.ana, "dominio correo") == [newest]
        assert old in found(cast.ana, old.reference)
