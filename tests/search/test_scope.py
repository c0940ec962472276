"""Who finds what: a customer his account's tickets, an agent his departments'; an internal
note matches nobody and never shows in a snippet; the scope is in the search query itself."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.search.selectors import ticket_search
from atiende.tickets import routing, services
from tests.conftest import Cast
from tests.search.support import OpenTicket, found, text_file


class TestCustomers:
    def test_never_find_another_accounts_tickets(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ours = open_ticket(subject="Transferencia de dominio", body="Código de autorización")
        theirs = open_ticket(
            customer=cast.otro, subject="Transferencia de dominio", body="Código de autorización"
        )

        for query in ("transferencia", "autorizacion dominio", theirs.reference):
            assert theirs not in found(cast.ana, query), query
        assert found(cast.ana, "transferencia") == [ours]
        assert found(cast.otro, "transferencia") == [theirs]
        assert found(cast.otro, ours.reference) == []

    def test_never_find_an_internal_note_nor_see_it_in_a_snippet(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Facturación", body="Cobro doble")
        services.ticket_add_note(
            ticket=ticket, agent=cast.agent, body="Cliente moroso, cobro pendiente"
        )

        assert found(cast.ana, "moroso") == []
        hits = ticket_search(user=cast.ana, query="cobro")
        assert [hit.ticket for hit in hits] == [ticket]
        assert "moroso" not in hits[0].snippet and "pendiente" not in hits[0].snippet

    def test_an_attachment_of_an_internal_note_is_not_found(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Pago", body="Adjunto comprobante")
        services.ticket_add_note(
            ticket=ticket, agent=cast.agent, body="Ver", files=[text_file("lista-negra.txt")]
        )

        assert found(cast.ana, "lista negra") == []
        assert found(cast.agent, "lista negra") == []

    def test_without_an_account_or_logged_in_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        open_ticket(subject="Visible")
        cast.ana.is_active = False

        assert ticket_search(user=cast.ana, query="visible") == []
        assert ticket_search(user=AnonymousUser(), query="visible") == []  # type: ignore[arg-type]


class TestAgents:
    def test_never_find_another_departments_tickets(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        support = open_ticket(subject="Dominio caído", service=cast.domain)
        ops = open_ticket(department=cast.operaciones, subject="Dominio caído", service=cast.domain)

        for query in ("dominio", "ejemplo.com.mx", "ana@example.com", ops.reference):
            assert ops not in found(cast.agent, query), query
        assert found(cast.agent, "dominio") == [support]
        assert found(cast.agent_ops, "dominio") == [ops]

    def test_a_moved_ticket_is_found_by_its_new_department_only(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Migración de servidor")
        routing.ticket_move(
            ticket=ticket, department=cast.operaciones, actor=cast.agent, reason="Le toca a Ops"
        )

        assert found(cast.agent, "migracion") == []
        assert found(cast.agent_ops, "migracion") == [ticket]

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_supervisors_and_administrators_find_every_department(
        self, cast: Cast, open_ticket: OpenTicket, who: str
    ) -> None:
        tickets = {
            open_ticket(department=department, subject="Dominio caído")
            for department in (cast.soporte, cast.operaciones, cast.atencion)
        }

        assert set(found(getattr(cast, who), "dominio")) == tickets

    def test_an_internal_note_matches_no_agent_either(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        # Our choice: search results travel (the API hands snippets to other systems), so a
        # note's words stay on the ticket page.
        ticket = open_ticket(subject="Facturación")
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="cliente moroso")

        assert found(cast.agent, "moroso") == []
        assert found(cast.admin, "moroso") == []


class TestTheScopeIsInTheQuery:
    def test_the_search_query_names_the_account(self, cast: Cast, open_ticket: OpenTicket) -> None:
        open_ticket(subject="Dominio")

        with CaptureQueriesContext(connection) as captured:
            ticket_search(user=cast.ana, query="dominio")

        search = captured.captured_queries[0]["sql"]
        assert f"t.account_id = {cast.account.pk}" in search

    def test_an_agents_search_names_his_departments(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        open_ticket(subject="Dominio")

        with CaptureQueriesContext(connection) as captured:
            ticket_search(user=cast.agent, query="dominio")

        search = next(q["sql"] for q in captured.captured_queries if "UNION ALL" in q["sql"])
        assert f"t.department_id IN ({cast.soporte.pk})" in search
