"""Searching one's tickets, old ones included: by ID, subject or any word of a public message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser

from atiende.search.selectors import fold, search_terms, snippet, ticket_search
from atiende.tickets import services
from atiende.tickets.models import Ticket
from tests.conftest import Cast
from tests.portal.conftest import html, login, queries_for

OpenTicket = Callable[..., Ticket]


def _found(cast: Cast, query: str, user_name: str = "ana") -> list[Ticket]:
    return [hit.ticket for hit in ticket_search(user=getattr(cast, user_name), query=query)]


class TestTicketSearch:
    def test_finds_a_word_of_the_subject_or_of_any_public_message(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        by_subject = open_ticket(subject="Certificado SSL vencido", body="Ayuda")
        by_reply = open_ticket(subject="Otra cosa", body="Hola")
        services.ticket_reply(ticket=by_reply, author=cast.agent, body="Renovamos el certificado")
        open_ticket(subject="Nada que ver", body="Correo lento")
        assert set(_found(cast, "certificado")) == {by_subject, by_reply}

    def test_closed_tickets_are_found_too(self, cast: Cast, open_ticket: OpenTicket) -> None:
        old = open_ticket(body="Configurar registros DKIM")
        services.ticket_close(ticket=old, actor=cast.ana)
        assert _found(cast, "dkim") == [old]

    def test_ignores_case_and_spanish_accents_both_ways(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="CAMIÓN de mudanza", body="La migración falló")
        for query in ("camion", "Camión", "MIGRACION", "fallo", "falló"):
            assert _found(cast, query) == [ticket], query

    def test_every_word_must_appear_somewhere_in_the_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        both = open_ticket(subject="Error 500", body="En el sitio ejemplo.mx")
        open_ticket(subject="Error 404", body="En otra página")
        assert _found(cast, "error ejemplo.mx") == [both]

    def test_internal_notes_never_match(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="palabrasecreta")
        assert _found(cast, "palabrasecreta") == []
        assert _found(cast, "palabrasecreta", "agent") == []

    def test_another_accounts_tickets_never_match(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        theirs = open_ticket(customer=cast.otro, subject="Transferencia de dominio")
        assert _found(cast, "transferencia") == []
        assert _found(cast, theirs.reference) == []
        assert _found(cast, "transferencia", "otro") == [theirs]

    def test_both_customers_of_the_account_find_its_tickets(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(customer=cast.ana, subject="Facturación")
        assert _found(cast, "facturacion", "beto") == [ticket]

    def test_matches_the_id_in_any_forgiving_form_first(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        other = open_ticket(body=f"Ver también {ticket.reference}")
        body = ticket.reference.split("-", 1)[1]
        for typed in (ticket.reference, ticket.reference.lower(), body.replace("-", " ")):
            hits = ticket_search(user=cast.ana, query=typed)
            assert hits[0].ticket == ticket and hits[0].matched_reference, typed
        assert other in _found(cast, ticket.reference)

    def test_a_snippet_shows_the_matching_text_escaped_and_highlighted(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        long_intro = "Texto de relleno. " * 20
        open_ticket(subject="<b>Sin</b> relación", body=f"{long_intro}El <script> Falló otra vez")
        hit = ticket_search(user=cast.ana, query="fallo")[0]
        assert "<mark>Falló</mark>" in hit.snippet
        assert "&lt;script&gt;" in hit.snippet and "<script>" not in hit.snippet
        assert hit.snippet.startswith("… ")
        assert len(hit.snippet) < 300
        assert hit.subject_html == "&lt;b&gt;Sin&lt;/b&gt; relación"

    def test_a_subject_match_is_its_own_snippet(self, cast: Cast, open_ticket: OpenTicket) -> None:
        open_ticket(subject="Dominio <vencido>", body="Nada más")
        hit = ticket_search(user=cast.ana, query="vencido")[0]
        assert hit.snippet == "Dominio &lt;<mark>vencido</mark>&gt;"

    def test_nobody_without_an_account_finds_anything(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        open_ticket(subject="Visible")
        assert ticket_search(user=AnonymousUser(), query="visible") == []  # type: ignore[arg-type]
        assert ticket_search(user=cast.ana, query="   ") == []

    def test_the_limit_is_honoured_newest_first(self, cast: Cast, open_ticket: OpenTicket) -> None:
        tickets = [open_ticket(subject=f"Correo {n}") for n in range(4)]
        assert _found(cast, "correo")[:2] == [tickets[3], tickets[2]]
        assert len(ticket_search(user=cast.ana, query="correo", limit=2)) == 2

    def test_like_wildcards_are_plain_characters(self, cast: Cast, open_ticket: OpenTicket) -> None:
        open_ticket(subject="Sin comodines")
        assert _found(cast, "%") == [] and _found(cast, "_") == []


class TestHelpers:
    def test_fold_and_terms(self) -> None:
        assert fold("ÁRBOL Ñandú") == "arbol nandu"
        assert search_terms(" ¿Cómo   configuro DNS? dns ") == ["como", "configuro", "dns"]

    def test_snippet_maps_matches_back_to_the_original_text(self) -> None:
        assert snippet("Señal débil", ["debil"]) == "Señal <mark>débil</mark>"

    @pytest.mark.parametrize("text", ["\u0130stanbul \u0131\u0131", "\u00df stra\u00dfe"])
    def test_snippet_survives_letters_that_change_length_when_lowered(self, text: str) -> None:
        assert "<mark>" in snippet(text, ["stra", "stanbul"])


class TestSearchPage:
    def test_results_show_id_subject_status_and_snippet(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Correo rebotado", body="El servidor rechaza el envío")
        services.ticket_close(ticket=ticket, actor=cast.ana)
        page = html(login(cast.ana).get("/buscar/", {"q": "rechaza"}))
        assert ticket.reference in page
        assert f'href="/tickets/{ticket.reference}/"' in page
        assert "Correo rebotado" in page
        assert '<span class="badge badge-closed">Closed</span>' in page
        assert "<mark>rechaza</mark>" in page

    def test_an_exact_id_goes_straight_to_the_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        response = login(cast.beto).get("/buscar/", {"q": ticket.reference.lower()})
        assert response.status_code == 302
        assert response["Location"] == f"/tickets/{ticket.reference}/"

    def test_another_accounts_id_finds_nothing(self, cast: Cast, open_ticket: OpenTicket) -> None:
        theirs = open_ticket(customer=cast.otro)
        response = login(cast.ana).get("/buscar/", {"q": theirs.reference})
        assert response.status_code == 200
        assert theirs.subject not in html(response)

    def test_the_query_is_kept_and_shown_escaped(self, cast: Cast) -> None:
        page = html(login(cast.ana).get("/buscar/", {"q": "<script>x</script>"}))
        assert "<script>x</script>" not in page
        assert 'value="&lt;script&gt;x&lt;/script&gt;"' in page

    def test_an_empty_query_shows_the_form_only(self, cast: Cast) -> None:
        response = login(cast.ana).get("/buscar/")
        assert response.status_code == 200
        assert 'name="q"' in html(response)

    def test_the_page_runs_the_same_number_of_queries_for_5_and_50_results(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        client = login(cast.ana)

        def add(count: int) -> None:
            for n in range(count):
                ticket = open_ticket(subject=f"Asunto {n}", body=f"Mensaje con palabra {n}")
                services.ticket_reply(ticket=ticket, author=cast.agent, body="Otra palabra")

        add(5)
        few = queries_for(client, "/buscar/?q=palabra")
        add(45)
        many = queries_for(client, "/buscar/?q=palabra")
        assert few == many
