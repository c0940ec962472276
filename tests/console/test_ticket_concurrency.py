"""Two agents on one ticket: whoever acts second on an outdated page is told, never overwrites.

Each page carries what it showed (status, assignee, newest message). The simulation: both
agents load the page, then both post what their pages carry.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client

from atiende.mail.models import OutboxMessage
from atiende.tickets import services
from atiende.tickets.models import Event, Message, Ticket
from tests.conftest import Cast, staff_create
from tests.console.ticket_support import html, login, page_url, post

OpenTicket = Callable[..., Ticket]


def _hidden(page: str, name: str, form_action: str) -> str:
    """The value of hidden input `name` in the form that posts to `form_action`."""
    form = page.split(f'action="{form_action}"', 1)[1].split("</form>", 1)[0]
    found = re.search(rf'name="{name}" value="([^"]*)"', form)
    assert found is not None, name
    return found.group(1)


def _load(client: Client, ticket: Ticket) -> str:
    response = client.get(page_url(ticket))
    assert response.status_code == 200
    return html(response)


def _both_post(
    first: Client, second: Client, ticket: Ticket, actions: tuple[str, str], data: dict[str, object]
) -> tuple[str, str]:
    """Both pages were loaded before either posts; returns the pages each is sent back to."""
    pages = []
    for client, action in zip((first, second), actions, strict=True):
        response = post(client, ticket, action, data)
        assert response.status_code == 302
        assert response["Location"] == page_url(ticket)
        pages.append(html(client.get(response["Location"])))
    return pages[0], pages[1]


class TestStatusAtTheSameMoment:
    def test_two_resolves_one_wins_the_other_sees_the_current_state(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura, sara = login(cast.agent), login(cast.supervisor)
        shown = _hidden(_load(laura, ticket), "expected_status", f"{page_url(ticket)}resolver/")
        assert shown == _hidden(
            _load(sara, ticket), "expected_status", f"{page_url(ticket)}resolver/"
        )
        won, lost = _both_post(
            laura, sara, ticket, ("resolver", "resolver"), {"expected_status": shown}
        )
        assert "The ticket is resolved." in won
        assert "This ticket changed meanwhile: it is now Resolved. Nothing was applied." in lost
        assert '<span class="badge badge-resolved">Resolved</span>' in lost
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS).count() == 1

    def test_resolve_against_close_one_wins(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        laura, sara = login(cast.agent), login(cast.supervisor)
        _load(laura, ticket), _load(sara, ticket)
        won, lost = _both_post(
            laura, sara, ticket, ("cerrar", "resolver"), {"expected_status": "open"}
        )
        assert "The ticket is closed." in won
        assert "it is now Closed. Nothing was applied." in lost
        ticket.refresh_from_db()
        assert ticket.status == "closed"
        [event] = Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS)
        assert (event.old_status, event.new_status, event.actor) == ("open", "closed", cast.agent)

    def test_two_reopens_reopen_once(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana)
        laura, sara = login(cast.agent), login(cast.supervisor)
        won, lost = _both_post(
            laura, sara, ticket, ("reabrir", "reabrir"), {"expected_status": "closed"}
        )
        assert "The ticket is open again." in won
        assert "it is now Open. Nothing was applied." in lost
        assert (
            Event.objects.filter(ticket=ticket, new_status="open", old_status="closed").count() == 1
        )


class TestAssignAtTheSameMoment:
    def test_two_agents_take_it_one_gets_it_the_other_is_told_who(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        carla = staff_create("colega@example.com", "Carla Colega", cast.soporte)
        ticket = open_ticket()
        laura, other = login(cast.agent), login(carla)
        action = f"{page_url(ticket)}asignar/"
        shown = _hidden(_load(laura, ticket), "expected_assignee", action)
        assert shown == _hidden(_load(other, ticket), "expected_assignee", action) == "0"
        first = post(laura, ticket, "asignar", {"assignee": cast.agent.pk, "expected_assignee": 0})
        second = post(other, ticket, "asignar", {"assignee": carla.pk, "expected_assignee": 0})
        assert first.status_code == second.status_code == 302
        lost = html(other.get(second["Location"]))
        assert "Meanwhile the ticket was assigned to Laura Agente. Nothing was changed." in lost
        assert '<dd class="assignee">Laura Agente</dd>' in lost
        ticket.refresh_from_db()
        assert ticket.assignee == cast.agent
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.ASSIGNED).count() == 1

    def test_a_supervisor_reassigning_from_an_outdated_page_changes_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        carla = staff_create("colega@example.com", "Carla Colega", cast.soporte)
        ticket = open_ticket()
        sara, laura = login(cast.supervisor), login(cast.agent)
        _load(sara, ticket)
        post(laura, ticket, "asignar", {"assignee": cast.agent.pk, "expected_assignee": 0})
        response = post(sara, ticket, "asignar", {"assignee": carla.pk, "expected_assignee": 0})
        assert "Meanwhile the ticket was assigned to Laura Agente." in html(
            sara.get(response["Location"])
        )
        ticket.refresh_from_db()
        assert ticket.assignee == cast.agent
        assert not OutboxMessage.objects.filter(template="staff_ticket_assigned").exists()


class TestNewMessagesWhileWriting:
    def test_a_reply_is_held_back_the_text_kept_and_the_new_message_shown(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = login(cast.agent)
        reply_action = f"{page_url(ticket)}responder/"
        seen = _hidden(_load(laura, ticket), "seen_message_id", reply_action)
        customer = services.ticket_reply(
            ticket=ticket, author=cast.ana, body="Ya encontré el problema"
        )

        response = post(
            laura, ticket, "responder", {"body": "Mi respuesta <larga>", "seen_message_id": seen}
        )
        page = html(response)
        assert response.status_code == 200
        assert "New messages arrived on this ticket while you were writing." in page
        assert ">\nMi respuesta &lt;larga&gt;</textarea>" in page
        assert f'<li id="m-{customer.public_id}" class="entry from-customer is-new">' in page
        assert not Message.objects.filter(body="Mi respuesta <larga>").exists()
        assert not OutboxMessage.objects.filter(template="ticket_staff_reply").exists()

        # The page now shows the new message: sending again (as the page says) goes through.
        updated = _hidden(page, "seen_message_id", reply_action)
        assert int(updated) == customer.pk
        response = post(
            laura, ticket, "responder", {"body": "Mi respuesta <larga>", "seen_message_id": updated}
        )
        assert response.status_code == 302
        assert Message.objects.filter(body="Mi respuesta <larga>").count() == 1
        assert OutboxMessage.objects.filter(template="ticket_staff_reply").count() == 1

    def test_a_colleagues_note_also_holds_the_reply_back(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = login(cast.agent)
        seen = _hidden(_load(laura, ticket), "seen_message_id", f"{page_url(ticket)}responder/")
        services.ticket_add_note(ticket=ticket, agent=cast.supervisor, body="No prometas fechas")
        response = post(laura, ticket, "responder", {"body": "Mañana", "seen_message_id": seen})
        assert response.status_code == 200
        assert "No prometas fechas" in html(response)
        assert not Message.objects.filter(body="Mañana").exists()

    def test_his_own_messages_do_not_hold_him_back(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = login(cast.agent)
        seen = _hidden(_load(laura, ticket), "seen_message_id", f"{page_url(ticket)}responder/")
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Mi nota")
        response = post(laura, ticket, "responder", {"body": "Respuesta", "seen_message_id": seen})
        assert response.status_code == 302
        assert Message.objects.filter(body="Respuesta").exists()


class TestClosedWhileWriting:
    def test_the_reply_waits_for_a_reopen_and_send_confirmation(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = login(cast.agent)
        reply_action = f"{page_url(ticket)}responder/"
        page = _load(laura, ticket)
        assert 'name="confirm_reopen"' not in page
        seen = _hidden(page, "seen_message_id", reply_action)
        services.ticket_close(ticket=ticket, actor=cast.ana)

        response = post(
            laura, ticket, "responder", {"body": "Mi respuesta", "seen_message_id": seen}
        )
        page = html(response)
        assert response.status_code == 200
        assert "This ticket is closed. Confirm that your reply should reopen it." in page
        assert ">\nMi respuesta</textarea>" in page
        assert ">Reopen and send</button>" in page
        assert _hidden(page, "confirm_reopen", reply_action) == "1"
        assert not Message.objects.filter(body="Mi respuesta").exists()
        ticket.refresh_from_db()
        assert ticket.status == "closed"

        response = post(
            laura,
            ticket,
            "responder",
            {
                "body": "Mi respuesta",
                "seen_message_id": _hidden(page, "seen_message_id", reply_action),
                "confirm_reopen": "1",
            },
        )
        assert response.status_code == 302
        assert Message.objects.filter(body="Mi respuesta").count() == 1
        ticket.refresh_from_db()
        assert ticket.status == "pending"
