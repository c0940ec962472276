"""Every change to a ticket is an event, messages included: replies and notes are recorded
(for the API's feed and the webhooks) without showing twice in the console's history."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from atiende.tickets import routing, services
from atiende.tickets.models import ActorKind, Event, Ticket
from tests.conftest import Cast
from tests.console.ticket_support import html, login, page_url

OpenTicket = Callable[..., Ticket]


def _kinds(ticket: Ticket) -> list[str]:
    return list(Event.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))


class TestMessagesAreEvents:
    def test_a_staff_reply_records_the_message_then_the_status_change_it_caused(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        reply = services.ticket_reply(ticket=ticket, author=cast.agent, body="Revisado.")

        assert _kinds(ticket) == [Event.Kind.CREATED, Event.Kind.MESSAGE, Event.Kind.STATUS]
        event = Event.objects.get(ticket=ticket, kind=Event.Kind.MESSAGE)
        assert event.data == {"message": str(reply.public_id), "internal": False}
        assert (event.actor, event.actor_kind) == (cast.agent, ActorKind.AGENT)
        assert event.created_at == reply.created_at

    def test_a_customer_reply_is_recorded_as_his(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        reply = services.ticket_reply(ticket=ticket, author=cast.ana, body="Sigue igual.")
        event = Event.objects.get(ticket=ticket, kind=Event.Kind.MESSAGE)
        assert event.data == {"message": str(reply.public_id), "internal": False}
        assert (event.actor, event.actor_kind) == (cast.ana, ActorKind.CUSTOMER)

    def test_an_internal_note_is_recorded_as_internal(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        note = services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Ojo: cliente VIP.")
        assert _kinds(ticket) == [Event.Kind.CREATED, Event.Kind.MESSAGE]
        event = Event.objects.get(ticket=ticket, kind=Event.Kind.MESSAGE)
        assert event.data == {"message": str(note.public_id), "internal": True}

    def test_a_resubmitted_reply_records_nothing_more(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        key = uuid.uuid4()
        for _attempt in range(2):
            services.ticket_reply(ticket=ticket, author=cast.ana, body="Hola", submission_key=key)
        assert _kinds(ticket).count(Event.Kind.MESSAGE) == 1


class TestAssignmentEventsNameThePeople:
    def test_the_event_keeps_its_ids_and_adds_both_addresses(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.supervisor)
        routing.ticket_assign(ticket=ticket, assignee=None, actor=cast.supervisor)
        taken, released = Event.objects.filter(ticket=ticket, kind=Event.Kind.ASSIGNED).order_by(
            "id"
        )
        assert taken.data == {
            "from": None,
            "to": cast.agent.pk,
            "to_name": cast.agent.display_name,
            "from_email": "",
            "to_email": cast.agent.email,
        }
        assert released.data == {
            "from": cast.agent.pk,
            "to": None,
            "to_name": "",
            "from_email": cast.agent.email,
            "to_email": "",
        }


class TestTheHistoriesShowAMessageOnce:
    def test_the_console_shows_each_message_once_and_no_message_event(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta única 4711.")
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota única 4712.")
        page = html(login(cast.agent).get(page_url(ticket)))
        assert page.count("Respuesta única 4711.") == 1
        assert page.count("Nota única 4712.") == 1
        # Opened, its first message, the reply, the status change it caused, the note.
        timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
        entries = re.findall(r'<li (?:id="[^"]*" )?class="entry[^"]*">', timeline)
        assert len(entries) == 5

    def test_the_portal_shows_the_reply_once_and_never_the_note(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta única 4711.")
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota única 4712.")
        page = html(login(cast.ana).get(f"/tickets/{ticket.reference}/"))
        assert page.count("Respuesta única 4711.") == 1
        assert "Nota única 4712." not in page
