"""The API's search is the same search: stems, scope, escaped snippets, the ID first."""

from __future__ import annotations

from atiende.api.tokens import token_create
from atiende.tickets import services
from tests.api.conftest import ApiClient
from tests.conftest import Cast
from tests.search.support import OpenTicket


def api_for(cast: Cast) -> ApiClient:
    _token, secret = token_create(
        user=cast.agent, name="pruebas", scope="read", created_by=cast.agent
    )
    return ApiClient(secret)


def test_finds_by_another_form_of_a_word_within_the_agents_departments(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket(subject="Dominios", body="El <b>dominio</b> no resuelve")
    open_ticket(department=cast.operaciones, subject="Dominio", body="Renovar el dominio")
    services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Cliente moroso")

    response = api_for(cast).get("/api/v1/search", {"q": "dominio"})

    assert response.status_code == 200
    [hit] = response.json()
    assert hit["ticket"]["id"] == ticket.reference
    assert hit["snippet_html"] == "El &lt;b&gt;<mark>dominio</mark>&lt;/b&gt; no resuelve"
    assert hit["matched_id"] is False
    assert api_for(cast).get("/api/v1/search", {"q": "moroso"}).json() == []


def test_the_id_comes_first(cast: Cast, open_ticket: OpenTicket) -> None:
    ticket = open_ticket(subject="Primero")
    open_ticket(subject="Segundo", body=f"Ver {ticket.reference}")

    hits = api_for(cast).get("/api/v1/search", {"q": ticket.reference.lower()}).json()

    assert hits[0]["ticket"]["id"] == ticket.reference
    assert hits[0]["matched_id"] is True
