"""Presence: who has a ticket open, shared by every app server through the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine

from atiende.core.clock import now
from atiende.tickets.models import Ticket
from atiende.tickets.presence import presence_leave, presence_others, presence_touch
from tests.conftest import Cast


def test_a_gone_signal_from_an_older_page_does_not_remove_a_newer_one(
    cast: Cast, open_ticket: Callable[..., Ticket]
) -> None:
    """After a reply the new page touches first, then the old page says it is gone."""
    ticket = open_ticket()
    with time_machine.travel(now(), tick=False) as clock:
        old_page = presence_touch(ticket=ticket, agent=cast.agent)
        clock.shift(timedelta(seconds=2))
        presence_touch(ticket=ticket, agent=cast.agent)  # the new page
        presence_leave(ticket=ticket, agent=cast.agent, touched_at=old_page)
        assert presence_others(ticket=ticket, agent=cast.supervisor) == [cast.agent]


def test_a_gone_signal_from_the_last_page_removes_him(
    cast: Cast, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    last = presence_touch(ticket=ticket, agent=cast.agent)
    presence_leave(ticket=ticket, agent=cast.agent, touched_at=last)
    assert presence_others(ticket=ticket, agent=cast.supervisor) == []


def test_touching_twice_keeps_one_row(cast: Cast, open_ticket: Callable[..., Ticket]) -> None:
    ticket = open_ticket()
    presence_touch(ticket=ticket, agent=cast.agent)
    presence_touch(ticket=ticket, agent=cast.agent)
    assert ticket.presences.count() == 1
