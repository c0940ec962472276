"""The ticket page: its facts, the public thread, and the actions the lifecycle allows."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from atiende.tickets import services
from atiende.tickets.lifecycle import CUSTOMER_EXPLANATIONS, Status
from atiende.tickets.models import Attachment, Ticket
from tests.conftest import Cast
from tests.portal.conftest import html, login, queries_for, upload

OpenTicket = Callable[..., Ticket]


def _url(ticket: Ticket) -> str:
    return f"/tickets/{ticket.reference}/"


def test_shows_subject_id_status_its_meaning_department_service_and_created(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket(service=cast.hosting)
    page = html(login(cast.ana).get(_url(ticket)))
    assert f'<h1 class="subject">{ticket.subject}</h1>' in page
    assert ticket.reference in page
    assert '<span class="badge badge-open">Open</span>' in page
    assert str(CUSTOMER_EXPLANATIONS[Status.OPEN]) in page
    assert cast.soporte.name in page
    assert str(cast.hosting) in page
    created = ticket.created_at.astimezone(ZoneInfo(cast.ana.timezone)).isoformat()
    assert f'<time datetime="{created}">' in page


def test_the_thread_shows_public_messages_with_authors_and_never_internal_notes(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket(customer=cast.beto, body="Primera línea\nSegunda línea")
    services.ticket_add_note(ticket=ticket, agent=cast.agent, body="NOTA-INTERNA-SECRETA")
    services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta <b>pública</b>")
    services.ticket_reply(ticket=ticket, author=cast.ana, body="Gracias")
    page = html(login(cast.ana).get(_url(ticket)))
    assert "NOTA-INTERNA-SECRETA" not in page
    assert '<div class="body">Primera línea\nSegunda línea</div>' in page
    assert "Respuesta &lt;b&gt;pública&lt;/b&gt;" in page
    assert "<strong>Beto Ruiz</strong>" in page
    assert "<strong>Laura Agente (Support)</strong>" in page
    assert "<strong>You</strong>" in page
    assert page.index("Primera línea") < page.index("Respuesta") < page.index("Gracias")


def test_each_message_lists_its_attachments_as_download_links(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket(files=[upload("captura.png", b"\x89PNG")])
    services.ticket_reply(
        ticket=ticket, author=cast.agent, body="Mira", files=[upload("guía.pdf", b"%PDF")]
    )
    services.ticket_add_note(
        ticket=ticket, agent=cast.agent, body="x", files=[upload("interno.txt")]
    )
    page = html(login(cast.ana).get(_url(ticket)))
    for attachment in Attachment.objects.filter(message__is_internal=False):
        link = f'href="/tickets/{ticket.reference}/adjuntos/{attachment.public_id}/" download'
        assert link in page
        assert f">{attachment.filename}</a>" in page
    assert "interno.txt" not in page


def test_a_forgiving_form_of_the_id_leads_to_the_canonical_page(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    typed = ticket.reference.lower().replace("-", "")
    response = login(cast.ana).get(f"/tickets/{typed}/")
    assert response.status_code == 302
    assert response["Location"] == _url(ticket)


def _to_status(cast: Cast, ticket: Ticket, status: str) -> None:
    if status in ("pending", "resolved"):
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta del agente")
    if status == "resolved":
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
    if status == "closed":
        services.ticket_close(ticket=ticket, actor=cast.ana)
    assert ticket.status == status


@pytest.mark.parametrize("status", ["open", "pending", "resolved"])
def test_responder_and_cerrar_are_offered_on_an_active_ticket_and_not_reabrir(
    cast: Cast, open_ticket: OpenTicket, status: str
) -> None:
    ticket = open_ticket()
    _to_status(cast, ticket, status)
    page = html(login(cast.ana).get(_url(ticket)))
    assert f'action="/tickets/{ticket.reference}/responder/"' in page
    assert '<details class="reply" id="responder">' in page
    assert f'href="/tickets/{ticket.reference}/cerrar/"' in page
    assert f'action="/tickets/{ticket.reference}/reabrir/"' not in page


def test_reabrir_is_offered_on_a_closed_ticket_and_not_cerrar(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    _to_status(cast, ticket, "closed")
    page = html(login(cast.ana).get(_url(ticket)))
    assert f'action="/tickets/{ticket.reference}/reabrir/"' in page
    assert 'name="expected_status" value="closed"' in page
    assert f'href="/tickets/{ticket.reference}/cerrar/"' not in page
    assert str(CUSTOMER_EXPLANATIONS[Status.CLOSED]) in page


def test_an_agent_reply_shows_the_ticket_as_pending(cast: Cast, open_ticket: OpenTicket) -> None:
    ticket = open_ticket()
    services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Puedes probar de nuevo?")
    page = html(login(cast.ana).get(_url(ticket)))
    assert '<span class="badge badge-pending">Pending</span>' in page
    assert str(CUSTOMER_EXPLANATIONS[Status.PENDING]) in page


def test_the_page_runs_the_same_number_of_queries_for_5_and_50_messages(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket(files=[upload("uno.txt"), upload("dos.txt")])

    def add(count: int) -> None:
        for n in range(count):
            author = (cast.agent, cast.ana, cast.beto)[n % 3]
            services.ticket_reply(
                ticket=ticket, author=author, body=f"Mensaje {n}", files=[upload(f"f{n}.txt")]
            )
            if n % 5 == 0:
                services.ticket_add_note(ticket=ticket, agent=cast.agent, body="nota")

    client = login(cast.ana)
    add(4)
    few = queries_for(client, _url(ticket))
    add(46)
    many = queries_for(client, _url(ticket))
    assert ticket.messages.filter(is_internal=False).count() == 51
    assert few == many
