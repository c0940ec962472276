"""Who may see the portal's ticket pages: customers of the account, nobody else.

Another account's ticket or file looks exactly like one that does not exist; staff get the
same 404 (they will work in the console); anonymous visitors are sent to log in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.test import Client

from atiende.tickets.models import Attachment, Ticket
from tests.conftest import Cast
from tests.portal.conftest import comparable, html, login, upload

OpenTicket = Callable[..., Ticket]
NONEXISTENT = "ATN-0000-0000"


def _pages(reference: str) -> list[str]:
    return [
        f"/tickets/{reference}/",
        f"/tickets/{reference}/cerrar/",
        f"/soporte/abierto/{reference}/",
    ]


@pytest.fixture
def others_ticket(cast: Cast, open_ticket: OpenTicket) -> Ticket:
    return open_ticket(customer=cast.otro, files=[upload("contrato.pdf", b"%PDF-1.4")])


def test_another_accounts_ticket_pages_are_the_same_404_as_a_missing_ticket(
    cast: Cast, others_ticket: Ticket
) -> None:
    client = login(cast.ana)
    for theirs, missing in zip(_pages(others_ticket.reference), _pages(NONEXISTENT), strict=True):
        response, nothing = client.get(theirs), client.get(missing)
        assert response.status_code == nothing.status_code == 404
        assert comparable(response) == comparable(nothing)
        assert others_ticket.subject not in html(response)


def test_another_accounts_ticket_cannot_be_changed_and_answers_the_same_404(
    cast: Cast, others_ticket: Ticket
) -> None:
    client = login(cast.ana)
    for action, data in (
        ("responder", {"body": "Intruso"}),
        ("cerrar", {"expected_status": "open"}),
        ("reabrir", {"expected_status": "closed"}),
    ):
        response = client.post(f"/tickets/{others_ticket.reference}/{action}/", data)
        nothing = client.post(f"/tickets/{NONEXISTENT}/{action}/", data)
        assert response.status_code == nothing.status_code == 404
        assert comparable(response) == comparable(nothing)
    others_ticket.refresh_from_db()
    assert others_ticket.status == "open"
    assert others_ticket.messages.count() == 1


def test_another_accounts_attachment_url_is_the_same_404_as_a_missing_file(
    cast: Cast, others_ticket: Ticket
) -> None:
    attachment = Attachment.objects.get(message__ticket=others_ticket)
    client = login(cast.ana)
    theirs = client.get(f"/tickets/{others_ticket.reference}/adjuntos/{attachment.public_id}/")
    missing = client.get(f"/tickets/{others_ticket.reference}/adjuntos/{uuid.uuid4()}/")
    assert theirs.status_code == missing.status_code == 404
    assert comparable(theirs) == comparable(missing)
    assert theirs["Content-Type"].startswith("text/html")


def test_the_404_page_is_friendly_and_leads_to_the_ticket_history(cast: Cast) -> None:
    response = login(cast.ana).get(f"/tickets/{NONEXISTENT}/")
    assert response.status_code == 404
    assert 'href="/tickets/"' in html(response)
    assert "<h1>" in html(response)


def test_both_customers_of_an_account_open_each_others_tickets(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket(customer=cast.ana)
    response = login(cast.beto).get(f"/tickets/{ticket.reference}/")
    assert response.status_code == 200
    assert ticket.subject in html(response)


@pytest.mark.parametrize(
    "url",
    ["/tickets/", "/soporte/abrir/", "/buscar/?q=x", f"/tickets/{NONEXISTENT}/"],
)
def test_staff_get_the_404_on_customer_pages(cast: Cast, url: str) -> None:
    for staff in (cast.agent, cast.admin):
        assert login(staff).get(url).status_code == 404


@pytest.mark.parametrize(
    "url", ["/tickets/", "/soporte/abrir/", "/buscar/?q=x", f"/tickets/{NONEXISTENT}/"]
)
def test_anonymous_visitors_are_sent_to_log_in_and_come_back(db: None, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/cuenta/entrar/?next=")


class TestHome:
    def test_a_customer_lands_on_his_ticket_history(self, cast: Cast) -> None:
        response = login(cast.ana).get("/")
        assert response.status_code == 302
        assert response["Location"] == "/tickets/"

    def test_an_anonymous_visitor_lands_on_the_login_page(self, db: None) -> None:
        response = Client().get("/")
        assert response.status_code == 302
        assert response["Location"] == "/cuenta/entrar/"

    def test_staff_land_in_the_console(self, cast: Cast) -> None:
        response = login(cast.agent).get("/")
        assert response.status_code == 302
        assert response["Location"] == "/consola/"
