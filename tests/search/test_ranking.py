"""The order of results: the ticket whose ID was typed, then relevance, then recent activity;
the snippet comes from the best-matching message."""

from __future__ import annotations

import pytest

from atiende.tickets import services
from tests.conftest import Cast
from tests.search.support import OpenTicket, found, hit_for

FILLER = "Texto de relleno sobre facturas, pagos y planes de hospedaje. " * 6


@pytest.fixture
def others(open_ticket: OpenTicket) -> None:
    """Tickets without the words searched: relevance weighs a word by how rare it is, which
    means nothing among two or three tickets."""
    for number in range(8):
        open_ticket(subject=f"Asunto {number}", body=f"Mensaje cualquiera {number}")


@pytest.mark.usefixtures("others")
class TestRelevance:
    def test_the_typed_id_comes_before_tickets_that_mention_it(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Primero", body="Hola")
        mentions = open_ticket(
            subject=f"Sobre {ticket.reference}", body=f"{ticket.reference} {ticket.reference}"
        )

        hits = found(cast.ana, ticket.reference)

        assert hits[0] == ticket
        assert mentions in hits

    def test_a_word_of_the_subject_weighs_more_than_one_buried_in_a_message(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        by_subject = open_ticket(subject="Dominio vencido", body="Ayuda por favor")
        in_message = open_ticket(subject="Consulta", body=f"{FILLER} Y además el dominio.")

        assert found(cast.ana, "dominio") == [by_subject, in_message]

    def test_a_message_about_the_word_weighs_more_than_a_mention_in_passing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        about = open_ticket(
            subject="Consulta", body="El dominio no resuelve: dominio sin DNS, dominio caído."
        )
        in_passing = open_ticket(subject="Otra consulta", body=f"{FILLER} Y un dominio.")

        assert found(cast.ana, "dominio") == [about, in_passing]

    def test_relevance_comes_before_recent_activity(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        relevant = open_ticket(subject="Certificado SSL vencido", body="El certificado venció")
        recent = open_ticket(subject="Consulta", body=f"{FILLER} Pregunta por un certificado.")
        services.ticket_reply(ticket=recent, author=cast.agent, body="Lo revisamos.")

        assert found(cast.ana, "certificado") == [relevant, recent]

    def test_equally_relevant_tickets_come_by_recent_activity(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        first = open_ticket(subject="Correo rebotado", body="Ayuda")
        second = open_ticket(subject="Correo rebotado", body="Ayuda")
        services.ticket_reply(ticket=first, author=cast.ana, body="¿Novedades?")

        assert found(cast.ana, "rebotado") == [first, second]

    def test_the_limit_keeps_the_best(self, cast: Cast, open_ticket: OpenTicket) -> None:
        best = open_ticket(subject="Respaldo fallido", body="El respaldo falló")
        for _number in range(3):
            open_ticket(subject="Consulta", body=f"{FILLER} Algo de un respaldo.")

        assert found(cast.ana, "respaldo", limit=1) == [best]


@pytest.mark.usefixtures("others")
class TestTheSnippetsMessage:
    def test_is_the_best_matching_public_message(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Consulta", body=f"{FILLER} Pregunto por un dominio.")
        services.ticket_reply(
            ticket=ticket, author=cast.agent, body="Dominio suspendido: el dominio venció."
        )
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="dominio dominio dominio")

        snippet = hit_for(cast.ana, "dominio", ticket).snippet

        assert "suspendido" in snippet
        assert "<mark>Dominio</mark>" in snippet

    def test_is_the_subject_when_only_the_subject_matched(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Dominio caído", body="Nada más")

        hit = hit_for(cast.ana, "dominios", ticket)

        assert hit.snippet == hit.subject_html == "<mark>Dominio</mark> caído"
