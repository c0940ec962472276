"""The console's search: words, a customer's e-mail, a service or domain, an ID; scoped to the
agent's departments; constant queries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from atiende.tickets import routing, services
from atiende.tickets.models import Ticket
from tests.conftest import Cast, customer_create
from tests.console.queue_support import OpenTicket, html, login, queries_for

SEARCH = reverse("console:search")


def found(client: Client, query: str) -> list[str]:
    """The IDs the search lists, in its order."""
    page = html(client.get(SEARCH, {"q": query}))
    return re.findall(r'<a class="ref" href="/consola/tickets/([^/]+)/">', page)


@pytest.fixture
def tickets(cast: Cast, open_ticket: OpenTicket) -> dict[str, Ticket]:
    return {
        "dns": open_ticket(
            customer=cast.beto,
            subject="Dominio sin resolver",
            body="El DNS de mi dominio no responde desde el lunes.",
            service=cast.domain,
        ),
        "correo": open_ticket(subject="Correo rebota", body="Los correos vuelven con error."),
        "ops": open_ticket(
            department=cast.operaciones,
            subject="Renovar dominio",
            body="Quiero renovar el dominio por dos años.",
            service=cast.domain,
        ),
    }


class TestFinding:
    def test_by_words_of_the_subject(self, cast: Cast, tickets: dict[str, Ticket]) -> None:
        assert found(login(cast.agent), "rebota") == [tickets["correo"].reference]

    def test_by_words_of_a_message_in_any_case(
        self, cast: Cast, tickets: dict[str, Ticket]
    ) -> None:
        assert found(login(cast.agent), "LUNES dns") == [tickets["dns"].reference]

    def test_by_a_later_reply(self, cast: Cast, tickets: dict[str, Ticket]) -> None:
        services.ticket_reply(ticket=tickets["correo"], author=cast.ana, body="Adjunto cabeceras")

        assert found(login(cast.agent), "cabeceras") == [tickets["correo"].reference]

    def test_by_the_customers_email(self, cast: Cast, tickets: dict[str, Ticket]) -> None:
        client = login(cast.agent)

        assert found(client, "beto@example.com") == [tickets["dns"].reference]
        assert found(client, "ana@example") == [tickets["correo"].reference]

    def test_by_the_service_or_domain_name(self, cast: Cast, tickets: dict[str, Ticket]) -> None:
        assert found(login(cast.agent), "ejemplo.com.mx") == [tickets["dns"].reference]

    def test_by_the_ticket_id_in_any_spelling(self, cast: Cast, tickets: dict[str, Ticket]) -> None:
        reference = tickets["correo"].reference

        assert found(login(cast.agent), reference.lower().replace("-", " ")) == [reference]


class TestScope:
    def test_an_agent_finds_only_his_departments_tickets(
        self, cast: Cast, tickets: dict[str, Ticket]
    ) -> None:
        support = login(cast.agent)
        ops = login(cast.agent_ops)

        assert found(support, "dominio") == [tickets["dns"].reference]
        assert found(ops, "dominio") == [tickets["ops"].reference]
        assert found(ops, "beto@example.com") == []
        assert found(ops, "ana@example.com") == [tickets["ops"].reference]
        assert found(support, tickets["ops"].reference) == []
        assert "Renovar dominio" not in html(support.get(SEARCH, {"q": "renovar"}))

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_supervisors_and_administrators_find_every_department(
        self, cast: Cast, tickets: dict[str, Ticket], who: str
    ) -> None:
        listed = found(login(getattr(cast, who)), "dominio")

        assert sorted(listed) == sorted([tickets["dns"].reference, tickets["ops"].reference])

    def test_an_internal_note_is_not_searched(self, cast: Cast, tickets: dict[str, Ticket]) -> None:
        services.ticket_add_note(ticket=tickets["correo"], agent=cast.agent, body="cliente moroso")

        assert found(login(cast.agent), "moroso") == []


class TestResults:
    def test_each_result_shows_id_subject_snippet_status_customer_and_department(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(
            customer=cast.beto,
            subject="Error <b>500</b> en ejemplo.mx",
            body="Desde ayer el sitio muestra un error 500 al entrar al panel.",
        )

        page = html(login(cast.agent).get(SEARCH, {"q": "panel"}))
        item = page.split('<ol class="results console-results">', 1)[1].split("</ol>", 1)[0]

        link = f'href="/consola/tickets/{ticket.reference}/"'
        assert f'<a class="ref" {link}>{ticket.reference}</a>' in item
        assert f"<a {link}>Error &lt;b&gt;500&lt;/b&gt; en ejemplo.mx</a>" in item
        assert "<mark>panel</mark>" in item
        assert '<span class="badge badge-open">Open</span>' in item
        assert "Beto Ruiz &lt;beto@example.com&gt;" in item
        assert f'<span class="department">{cast.soporte.name}</span>' in item
        assert '<span class="assignee">Not assigned</span>' in item
        assert "One ticket in your departments matches “panel”." in page

    def test_a_taken_ticket_names_its_assignee(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Caída del correo")
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)

        page = html(login(cast.agent).get(SEARCH, {"q": "correo"}))

        assert '<span class="assignee">Assigned to Laura Agente</span>' in page

    def test_the_query_stays_in_the_search_box_escaped(self, cast: Cast) -> None:
        page = html(login(cast.agent).get(SEARCH, {"q": '"><script>x</script>'}))

        assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page
        assert "<script>x" not in page

    def test_nothing_found_and_nothing_asked_say_so(self, cast: Cast) -> None:
        client = login(cast.agent)

        assert "No ticket in your departments matches “zzz”." in html(
            client.get(SEARCH, {"q": "zzz"})
        )
        assert "in the search box above" in html(client.get(SEARCH))
        assert "in the search box above" in html(client.get(SEARCH, {"q": "   "}))

    def test_a_long_query_is_no_error(self, cast: Cast) -> None:
        assert login(cast.agent).get(SEARCH, {"q": "palabra " * 500}).status_code == 200

    def test_the_queries_do_not_grow_with_the_results(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        def open_some(count: int, start: int) -> None:
            for number in range(start, start + count):
                customer = customer_create(f"c{number}@example.com", cast.account, f"C {number}")
                ticket = open_ticket(customer=customer, subject=f"Caída número {number}")
                if number % 2:
                    routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)

        client = login(cast.agent)
        url = f"{SEARCH}?q=caida"
        open_some(5, 0)
        few = queries_for(client, url)
        open_some(45, 5)
        many = queries_for(client, url)

        assert len(found(client, "caida")) == 50
        assert few == many
