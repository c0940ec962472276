"""An internal note never reaches the customer: not on a page, not in search, not as a file,
not in a mail.

A note carrying a unique marker (in its text and in its file's name) is written through the
console; then every customer-facing view of both customers of the account is rendered, and
every outbox row of the ticket is read, and the marker is nowhere.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from atiende.mail.models import OutboxMessage
from atiende.tickets import routing, services
from atiende.tickets.models import Attachment, Message, Ticket
from tests.conftest import Cast
from tests.console.ticket_support import html, login, post, upload

OpenTicket = Callable[..., Ticket]
MARKER = "zorrovioleta7731"


@pytest.fixture
def ticket(cast: Cast, open_ticket: OpenTicket) -> Ticket:
    """A ticket that lived a full life around a note with the marker."""
    ticket = open_ticket(subject="El correo no llega", body="No recibo correos desde ayer")
    routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.supervisor)
    routing.ticket_collaborator_add(
        ticket=ticket, collaborator=cast.supervisor, actor=cast.supervisor
    )
    response = post(
        login(cast.agent),
        ticket,
        "nota",
        {
            "note-body": f"Clave del panel: {MARKER}. No compartir con el cliente.",
            "note-attachments": [upload(f"{MARKER}.txt", f"secreto {MARKER}".encode())],
        },
    )
    assert response.status_code == 302
    services.ticket_reply(ticket=ticket, author=cast.agent, body="Revisamos su buzón")
    services.ticket_reply(ticket=ticket, author=cast.ana, body="Sigue igual")
    services.ticket_reply(ticket=ticket, author=cast.agent, body="Listo", resolve=True)
    services.ticket_close(ticket=ticket, actor=cast.beto)
    services.ticket_reopen(ticket=ticket, actor=cast.ana)
    return ticket


def test_the_note_was_stored_with_its_file(ticket: Ticket) -> None:
    note = Message.objects.get(ticket=ticket, is_internal=True)
    assert MARKER in note.body
    assert Attachment.objects.get(message=note).filename == f"{MARKER}.txt"


@pytest.mark.parametrize("who", ["ana", "beto"])
def test_no_customer_page_shows_the_note(cast: Cast, ticket: Ticket, who: str) -> None:
    client: Client = login(getattr(cast, who))
    ref = ticket.reference
    for address in (
        "/tickets/",
        f"/tickets/?estado={ticket.status}",
        f"/tickets/{ref}/",
        f"/tickets/{ref}/cerrar/",
        f"/soporte/abierto/{ref}/",
        "/buscar/?q=panel",
        "/buscar/?q=compartir+cliente",
        f"/buscar/?q={ref}",
    ):
        response = client.get(address, follow=True)
        assert response.status_code == 200, address
        page = html(response)
        assert MARKER not in page, address
        assert "Clave del panel" not in page, address
    # Searching for the marker (which the search page repeats) does not even find the ticket.
    page = html(client.get(f"/buscar/?q={MARKER}"))
    assert f"No ticket matches “{MARKER}”." in page
    assert ref not in page
    assert "Clave del panel" not in page


@pytest.mark.parametrize("who", ["ana", "beto"])
def test_the_notes_file_is_a_404_for_the_customer(cast: Cast, ticket: Ticket, who: str) -> None:
    attachment = Attachment.objects.get(message__ticket=ticket, message__is_internal=True)
    response = login(getattr(cast, who)).get(
        f"/tickets/{ticket.reference}/adjuntos/{attachment.public_id}/"
    )
    assert response.status_code == 404
    assert MARKER.encode() not in response.content


def test_no_mail_of_the_ticket_carries_the_note(ticket: Ticket) -> None:
    rows = list(OutboxMessage.objects.filter(ticket=ticket))
    templates = {row.template for row in rows}
    # Mails went to the customer and to staff while the note existed: none carries it.
    assert {"ticket_staff_reply", "staff_customer_reply"} <= templates
    for row in rows:
        for part in (row.subject, row.body_text, row.body_html, str(row.headers)):
            assert MARKER not in part, row.template
            assert "Clave del panel" not in part, row.template


def test_writing_the_note_mailed_nobody(cast: Cast, open_ticket: OpenTicket) -> None:
    ticket = open_ticket()
    before = OutboxMessage.objects.count()
    post(login(cast.agent), ticket, "nota", {"note-body": f"Nota {MARKER}"})
    assert OutboxMessage.objects.count() == before


def test_staff_see_the_note_in_the_console(cast: Cast, ticket: Ticket) -> None:
    page = html(login(cast.agent).get(f"/consola/tickets/{ticket.reference}/"))
    assert MARKER in page
