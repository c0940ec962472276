"""Working together: who else has the ticket open, and whether messages arrived meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine

from atiende.core.clock import now
from atiende.tickets import services
from atiende.tickets.models import Presence, Ticket
from atiende.tickets.presence import presence_touch
from tests.conftest import Cast
from tests.console.ticket_support import html, login, page_url, post

OpenTicket = Callable[..., Ticket]


def _also_here(page: str) -> str:
    presence = page.split('id="presence"', 1)[1].split("</div>", 1)[0]
    return presence


def test_opening_the_page_marks_the_agent_present(cast: Cast, open_ticket: OpenTicket) -> None:
    ticket = open_ticket()
    login(cast.agent).get(page_url(ticket))
    assert Presence.objects.filter(ticket=ticket, agent=cast.agent).exists()


def test_another_agents_page_shows_him_and_after_61_seconds_no_longer(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    start = now()
    with time_machine.travel(start, tick=False) as clock:
        presence_touch(ticket=ticket, agent=cast.agent)
        page = html(login(cast.supervisor).get(page_url(ticket)))
        assert "Also here:</strong> Laura Agente" in _also_here(page)
        clock.shift(timedelta(seconds=61))
        page = html(login(cast.supervisor).get(page_url(ticket)))
        assert "Laura Agente" not in _also_here(page)
        assert "Also here" not in page


def test_an_agent_is_not_shown_to_himself(cast: Cast, open_ticket: OpenTicket) -> None:
    ticket = open_ticket()
    client = login(cast.agent)
    client.get(page_url(ticket))
    assert "Also here" not in html(client.get(page_url(ticket)))


def test_the_heartbeat_keeps_him_present_and_answers_who_else_is_here(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    laura, sara = login(cast.agent), login(cast.supervisor)
    start = now()
    with time_machine.travel(start, tick=False) as clock:
        laura.get(page_url(ticket))
        sara.get(page_url(ticket))
        for _beat in range(4):  # 80 s of 20 s beats: longer than the timeout, still present
            clock.shift(timedelta(seconds=20))
            post(laura, ticket, "presencia", {"seen": 0})
            response = post(sara, ticket, "presencia", {"seen": 0})
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        fragment = html(response)
        assert "Also here:</strong> Laura Agente" in fragment
        assert "<html" not in fragment


def test_the_heartbeat_says_when_a_message_arrived_since_the_page_was_loaded(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    client = login(cast.agent)
    seen = ticket.messages.get().pk
    assert "New message" not in html(post(client, ticket, "presencia", {"seen": seen}))
    services.ticket_reply(ticket=ticket, author=cast.agent, body="Mi propia respuesta")
    assert "New message" not in html(post(client, ticket, "presencia", {"seen": seen}))
    services.ticket_reply(ticket=ticket, author=cast.ana, body="Otra cosa")
    fragment = html(post(client, ticket, "presencia", {"seen": seen}))
    assert "New message since you opened this ticket" in fragment
    assert f'<a href="{page_url(ticket)}">reload</a>' in fragment


def test_the_page_tells_the_script_where_to_beat_and_what_it_has_seen(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta")
    page = html(login(cast.agent).get(page_url(ticket)))
    newest = ticket.messages.order_by("-id").first()
    assert newest is not None
    assert f'data-url="{page_url(ticket)}presencia/"' in page
    assert f'data-seen="{newest.pk}"' in page
    assert 'data-beat="20"' in page
    assert "/static/atiende/console_ticket.js" in page


def test_leaving_the_page_removes_him(cast: Cast, open_ticket: OpenTicket) -> None:
    ticket = open_ticket()
    client = login(cast.agent)
    client.get(page_url(ticket))
    assert post(client, ticket, "presencia/salir").status_code == 204
    assert not Presence.objects.filter(ticket=ticket).exists()
