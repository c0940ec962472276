"""Who may open a ticket in the console: staff of its department, supervisors, administrators.

A ticket of another department looks exactly like one that does not exist; a customer's session
or an anonymous visitor on any console ticket URL gets the console's login page, never data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.http import FileResponse
from django.test import Client

from atiende.accounts.models import User
from atiende.tickets import services
from atiende.tickets.models import Attachment, CannedReply, Message, Ticket
from tests.conftest import Cast
from tests.console.ticket_support import html, login, page_url, upload, url
from tests.portal.conftest import comparable

OpenTicket = Callable[..., Ticket]
NONEXISTENT = "ATN-0000-0000"

# Every action of the page, with a body that would change something if it were accepted.
ACTIONS: list[tuple[str, dict[str, str]]] = [
    ("responder", {"body": "Intruso"}),
    ("nota", {"note-body": "Intruso"}),
    ("resolver", {"expected_status": "open"}),
    ("cerrar", {"expected_status": "open"}),
    ("reabrir", {"expected_status": "closed"}),
    ("asignar", {"assignee": "", "expected_assignee": "0"}),
    ("colaborar", {}),
    ("dejar", {}),
    ("mover", {"move-department": "1", "move-reason": "Intruso"}),
    ("presencia", {"seen": "0"}),
    ("presencia/salir", {}),
]


@pytest.fixture
def ticket(cast: Cast, open_ticket: OpenTicket) -> Ticket:
    ticket = open_ticket(files=[upload("captura.png", b"\x89PNG")])
    services.ticket_add_note(
        ticket=ticket, agent=cast.agent, body="Nota", files=[upload("interno.txt")]
    )
    return ticket


@pytest.fixture
def canned(cast: Cast) -> CannedReply:
    return CannedReply.objects.create(
        department=cast.soporte, title="Saludo", body="Hola {customer_name}"
    )


def _every_url(ticket: Ticket, canned: CannedReply) -> list[str]:
    attachment = Attachment.objects.filter(message__ticket=ticket).first()
    assert attachment is not None
    return [
        page_url(ticket),
        url(ticket, f"adjuntos/{attachment.public_id}"),
        url(ticket, f"respuestas/{canned.pk}"),
        *(url(ticket, action) for action, _data in ACTIONS),
    ]


def _unchanged(ticket: Ticket) -> None:
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.assignee_id is None
    assert ticket.department.slug == "soporte-tecnico"
    assert Message.objects.filter(ticket=ticket).count() == 2
    assert not ticket.collaborators.exists()
    assert not ticket.presences.exists()


class TestAnAgentOfAnotherDepartment:
    def test_gets_the_same_404_as_for_a_ticket_that_does_not_exist(
        self, cast: Cast, ticket: Ticket
    ) -> None:
        client = login(cast.agent_ops)
        response = client.get(page_url(ticket))
        nothing = client.get(f"/consola/tickets/{NONEXISTENT}/")
        assert response.status_code == nothing.status_code == 404
        assert comparable(response) == comparable(nothing)
        assert ticket.subject not in html(response)

    def test_cannot_act_on_it_and_every_action_answers_the_same_404(
        self, cast: Cast, ticket: Ticket
    ) -> None:
        client = login(cast.agent_ops)
        for action, data in ACTIONS:
            response = client.post(url(ticket, action), data)
            nothing = client.post(f"/consola/tickets/{NONEXISTENT}/{action}/", data)
            assert response.status_code == nothing.status_code == 404, action
            assert comparable(response) == comparable(nothing)
        _unchanged(ticket)

    def test_cannot_download_its_files_or_read_its_canned_replies(
        self, cast: Cast, ticket: Ticket, canned: CannedReply
    ) -> None:
        client = login(cast.agent_ops)
        for attachment in Attachment.objects.filter(message__ticket=ticket):
            response = client.get(url(ticket, f"adjuntos/{attachment.public_id}"))
            assert response.status_code == 404
        assert client.get(url(ticket, f"respuestas/{canned.pk}")).status_code == 404


@pytest.mark.parametrize("who", ["agent", "supervisor", "admin"])
def test_staff_of_the_department_a_supervisor_and_an_administrator_open_it(
    cast: Cast, ticket: Ticket, who: str
) -> None:
    staff: User = getattr(cast, who)
    response = login(staff).get(page_url(ticket))
    assert response.status_code == 200
    assert ticket.subject in html(response)


@pytest.mark.parametrize("who", ["ana", "beto", "otro", None])
def test_a_customer_or_a_visitor_gets_the_console_login_on_every_ticket_url(
    cast: Cast, ticket: Ticket, canned: CannedReply, who: str | None
) -> None:
    client = login(getattr(cast, who)) if who else Client()
    for address in _every_url(ticket, canned):
        for method in (client.get, client.post):
            response = method(address)
            assert response.status_code == 302, (address, method)
            assert response["Location"].startswith("/consola/entrar/?next="), address
            assert not isinstance(response, FileResponse)
            assert ticket.subject not in response.content.decode()
    _unchanged(ticket)


def test_a_file_of_another_ticket_is_not_served_under_this_tickets_url(
    cast: Cast, ticket: Ticket, open_ticket: OpenTicket
) -> None:
    other = open_ticket(customer=cast.otro)
    attachment = Attachment.objects.filter(message__ticket=ticket).first()
    assert attachment is not None
    client = login(cast.agent)
    assert client.get(url(other, f"adjuntos/{attachment.public_id}")).status_code == 404
    assert client.get(url(ticket, f"adjuntos/{uuid.uuid4()}")).status_code == 404


def test_files_are_downloads_with_safe_headers_internal_notes_included(
    cast: Cast, ticket: Ticket
) -> None:
    client = login(cast.agent)
    for attachment in Attachment.objects.filter(message__ticket=ticket):
        response = client.get(url(ticket, f"adjuntos/{attachment.public_id}"))
        assert isinstance(response, FileResponse)
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"
        assert response["Cache-Control"] == "private"


def test_actions_answer_only_to_post(cast: Cast, ticket: Ticket) -> None:
    client = login(cast.agent)
    for action, _data in ACTIONS:
        assert client.get(url(ticket, action)).status_code == 405, action
    _unchanged(ticket)


def test_a_forgiving_form_of_the_id_leads_to_the_canonical_page(cast: Cast, ticket: Ticket) -> None:
    typed = ticket.reference.lower().replace("-", "")
    response = login(cast.agent).get(f"/consola/tickets/{typed}/")
    assert response.status_code == 302
    assert response["Location"] == page_url(ticket)
