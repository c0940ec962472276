"""The console's ticket page: the header, the whole history in time order, the sidebar.

Internal notes are unmistakable, events say who changed what, user text is escaped, and the
page runs the same number of queries whatever the length of the history.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.utils.html import escape

from atiende.accounts.models import Service
from atiende.core.clock import now
from atiende.tickets import routing, services
from atiende.tickets.models import Attachment, Ticket
from tests.conftest import Cast, staff_create
from tests.console.ticket_support import html, login, page_url, queries_for, upload

OpenTicket = Callable[..., Ticket]
NOTE_FLAG = "Internal note — the customer never sees this"


def _entries(page: str) -> list[str]:
    """The history's entries, in the order the page shows them."""
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<li (?:id="[^"]*" )?class="entry[^"]*">.*?</li>', timeline, re.S)


class TestTheHeader:
    def test_shows_id_subject_status_department_assignee_and_collaborators(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        colleague = staff_create("colega@example.com", "Carla Colega", cast.soporte)
        ticket = open_ticket(service=cast.hosting)
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        routing.ticket_collaborator_add(ticket=ticket, collaborator=colleague, actor=colleague)
        page = html(login(cast.agent).get(page_url(ticket)))
        assert f'<span class="ref">{ticket.reference}</span>' in page
        assert f'<h1 class="subject">{ticket.subject}</h1>' in page
        assert '<span class="badge badge-open">Open</span>' in page
        assert "<dd>Soporte técnico</dd>" in page
        assert '<dd class="assignee">Laura Agente</dd>' in page
        assert '<dd class="collaborators">Carla Colega</dd>' in page
        assert str(cast.hosting) in page

    def test_an_unassigned_ticket_says_nobody(self, cast: Cast, open_ticket: OpenTicket) -> None:
        page = html(login(cast.agent).get(page_url(open_ticket())))
        assert '<dd class="assignee"><span class="muted">Nobody</span></dd>' in page


class TestTheHistory:
    def test_messages_notes_and_events_are_interleaved_in_time_order(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        start = now()
        with time_machine.travel(start, tick=False) as clock:
            ticket = open_ticket(body="Primer mensaje")
            clock.shift(timedelta(minutes=1))
            routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
            clock.shift(timedelta(minutes=1))
            services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Revisar logs")
            clock.shift(timedelta(minutes=1))
            services.ticket_reply(ticket=ticket, author=cast.agent, body="Ya lo revisamos")
            clock.shift(timedelta(minutes=1))
            services.ticket_reply(ticket=ticket, author=cast.ana, body="Sigue fallando")
            clock.shift(timedelta(minutes=1))
            routing.ticket_move(
                ticket=ticket,
                department=cast.operaciones,
                actor=cast.supervisor,
                reason="Es un problema del servidor",
            )
        entries = _entries(html(login(cast.admin).get(page_url(ticket))))
        expected = [
            "Ana Torres opened the ticket (Web).",
            "Primer mensaje",
            "Laura Agente took the ticket.",
            "Revisar logs",
            "Ya lo revisamos",
            "Laura Agente changed the status.",
            "Sigue fallando",
            "Ana Torres changed the status.",
            "Sara Supervisora moved the ticket from Soporte técnico to Operaciones.",
        ]
        assert len(entries) == len(expected)
        for entry, text in zip(entries, expected, strict=True):
            assert text in entry

    def test_status_changes_show_old_and_new_status_and_who(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
        services.ticket_close(ticket=ticket, actor=cast.supervisor)
        entries = _entries(html(login(cast.agent).get(page_url(ticket))))
        resolved, closed = entries[-2], entries[-1]
        assert "Laura Agente changed the status." in resolved
        assert re.search(
            r"badge-open\">Open</span>.*→.*badge-resolved\">Resolved</span>", resolved, re.S
        )
        assert "Sara Supervisora changed the status." in closed
        assert re.search(
            r"badge-resolved\">Resolved</span>.*→.*badge-closed\">Closed</span>", closed, re.S
        )

    def test_assignments_collaborators_and_moves_say_who_did_what(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        colleague = staff_create("colega@example.com", "Carla Colega", cast.soporte)
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=colleague, actor=cast.supervisor)
        routing.ticket_assign(ticket=ticket, assignee=None, actor=cast.supervisor)
        routing.ticket_collaborator_add(ticket=ticket, collaborator=cast.agent, actor=cast.agent)
        routing.ticket_collaborator_add(
            ticket=ticket, collaborator=colleague, actor=cast.supervisor
        )
        routing.ticket_collaborator_remove(ticket=ticket, collaborator=cast.agent, actor=cast.agent)
        routing.ticket_move(
            ticket=ticket, department=cast.atencion, actor=cast.admin, reason="Es de facturación"
        )
        page = html(login(cast.admin).get(page_url(ticket)))
        for sentence in (
            "Sara Supervisora assigned the ticket to Carla Colega.",
            "Sara Supervisora unassigned the ticket.",
            "Laura Agente joined as a collaborator.",
            "Sara Supervisora added Carla Colega as a collaborator.",
            "Laura Agente left the ticket.",
            "Admin moved the ticket from Soporte técnico to Atención a clientes.",
        ):
            assert sentence in page
        assert '<span class="muted">Reason:</span> Es de facturación' in page

    def test_internal_notes_are_unmistakable_and_public_messages_are_not_marked(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(body="Mensaje del cliente")
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Solo para el equipo")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta pública")
        entries = _entries(html(login(cast.agent).get(page_url(ticket))))
        [note] = [entry for entry in entries if "Solo para el equipo" in entry]
        assert 'class="entry note"' in note
        assert NOTE_FLAG in note
        for public in ("Mensaje del cliente", "Respuesta pública"):
            [entry] = [entry for entry in entries if public in entry]
            assert NOTE_FLAG not in entry
            assert "entry note" not in entry

    def test_attachments_of_messages_and_notes_are_download_links(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(files=[upload("captura.png", b"\x89PNG")])
        services.ticket_add_note(
            ticket=ticket, agent=cast.agent, body="x", files=[upload("interno.txt")]
        )
        page = html(login(cast.agent).get(page_url(ticket)))
        for attachment in Attachment.objects.filter(message__ticket=ticket):
            link = f'href="{page_url(ticket)}adjuntos/{attachment.public_id}/" download'
            assert link in page
            assert f">{attachment.filename}</a>" in page


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        "<a href='javascript:alert(1)'>clic</a>",
    ],
)
def test_html_and_script_in_replies_notes_subjects_and_names_are_shown_escaped(
    cast: Cast, open_ticket: OpenTicket, hostile: str
) -> None:
    cast.ana.full_name = f"Ana {hostile}"
    cast.ana.save()
    ticket = open_ticket(subject=f"Asunto {hostile}", body=f"Cliente {hostile}")
    services.ticket_add_note(ticket=ticket, agent=cast.agent, body=f"Nota {hostile}")
    services.ticket_reply(ticket=ticket, author=cast.agent, body=f"Respuesta {hostile}")
    routing.ticket_move(
        ticket=ticket, department=cast.operaciones, actor=cast.admin, reason=f"Motivo {hostile}"
    )
    page = html(login(cast.admin).get(page_url(ticket)))
    assert hostile not in page
    assert "<script>alert" not in page
    assert 'onerror="alert' not in page
    for text in ("Asunto", "Cliente", "Nota", "Respuesta", "Motivo", "Ana"):
        assert f"{text} {escape(hostile)}" in page, text


class TestTheSidebar:
    def test_shows_the_customer_his_account_and_its_services_with_their_status(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        page = html(login(cast.agent).get(page_url(open_ticket(customer=cast.beto))))
        side = page.split('<aside class="ticket-side"', 1)[1]
        assert "Beto Ruiz" in side
        assert "beto@example.com" in side
        assert "Hosting Ejemplo S.A." in side
        for service in Service.objects.filter(account=cast.account):
            assert service.name in side
        assert '<span class="chip chip-cancelled">Cancelled</span>' in side
        assert '<span class="chip chip-active">Active</span>' in side
        assert "otra.net" not in side

    def test_lists_his_other_tickets_linked_with_status_at_most_ten(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        others = [open_ticket(subject=f"Anterior {number}") for number in range(12)]
        services.ticket_close(ticket=others[-1], actor=cast.ana)
        open_ticket(customer=cast.beto, subject="De Beto")
        hidden = open_ticket(department=cast.operaciones, subject="De Operaciones")
        ticket = open_ticket(subject="Actual")
        side = html(login(cast.agent).get(page_url(ticket))).split('<aside class="ticket-side"')[1]
        links = re.findall(r'<a href="/consola/tickets/([^/]+)/">', side)
        assert len(links) == 10
        assert others[-1].reference in links  # the most recent first
        assert ticket.reference not in links
        assert hidden.reference not in links  # he could not open it
        assert "De Beto" not in side
        assert '<span class="badge badge-closed">Closed</span>' in side


def _busy_ticket(cast: Cast, open_ticket: OpenTicket, messages: int) -> Ticket:
    colleague = staff_create(f"c{messages}@example.com", "Colega", cast.soporte)
    ticket = open_ticket(files=[upload("a.txt")])
    routing.ticket_collaborator_add(ticket=ticket, collaborator=colleague, actor=colleague)
    for number in range(messages):
        if number % 3 == 0:
            services.ticket_add_note(
                ticket=ticket, agent=cast.agent, body=f"Nota {number}", files=[upload("n.txt")]
            )
        elif number % 3 == 1:
            services.ticket_reply(
                ticket=ticket,
                author=cast.agent,
                body=f"Respuesta {number}",
                files=[upload("r.txt")],
            )
        else:
            services.ticket_reply(ticket=ticket, author=cast.ana, body=f"Cliente {number}")
        if number % 10 == 5:
            routing.ticket_assign(
                ticket=ticket,
                assignee=cast.agent if ticket.assignee_id is None else None,
                actor=cast.supervisor,
            )
    return ticket


def test_the_page_runs_the_same_number_of_queries_for_5_and_50_messages(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    short = _busy_ticket(cast, open_ticket, 5)
    long = _busy_ticket(cast, open_ticket, 50)
    assert long.messages.count() == 51 and long.events.count() > short.events.count()
    for who in (cast.agent, cast.supervisor):
        client = login(who)
        client.get(page_url(short))  # the first visit also creates his presence row
        client.get(page_url(long))
        assert queries_for(client, page_url(short)) == queries_for(client, page_url(long))
