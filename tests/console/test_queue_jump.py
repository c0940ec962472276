"""Jump to a ticket by the ID a customer reads out on the phone: /consola/ir/?id=..."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from atiende.tickets import services
from atiende.tickets.models import Ticket
from tests.conftest import Cast
from tests.console.queue_support import OpenTicket, html, login

JUMP = reverse("console:jump")
QUEUE = reverse("console:queue")


def ticket_page(ticket: Ticket) -> str:
    return reverse("console:ticket", kwargs={"reference": ticket.reference})


def spellings(reference: str) -> list[str]:
    """How people type an ID: the exact one, lower case, spaces, no dashes, no prefix."""
    prefix = f"{settings.ATIENDE_TICKET_PREFIX}-"
    body = reference.removeprefix(prefix)
    return [
        reference,
        reference.lower(),
        f"  {reference.replace('-', ' ')} ",
        reference.replace("-", ""),
        body,
        body.replace("-", "").lower(),
        f"#{reference}",
    ]


def jump(client: Client, typed: str) -> str:
    response = client.get(JUMP, {"id": typed})
    assert response.status_code == 302
    return str(response["Location"])


class TestFound:
    def test_any_way_of_typing_the_id_leads_to_the_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        client = login(cast.agent)

        for typed in spellings(ticket.reference):
            assert jump(client, typed) == ticket_page(ticket), typed

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_supervisors_and_administrators_reach_any_department(
        self, cast: Cast, open_ticket: OpenTicket, who: str
    ) -> None:
        ticket = open_ticket(department=cast.operaciones)

        assert jump(login(getattr(cast, who)), ticket.reference) == ticket_page(ticket)

    def test_a_closed_ticket_is_found_too(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana)

        assert jump(login(cast.agent), ticket.reference) == ticket_page(ticket)


class TestNotFound:
    def test_another_departments_ticket_looks_exactly_like_no_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        elsewhere = open_ticket(department=cast.operaciones)
        missing = f"{settings.ATIENDE_TICKET_PREFIX}-0000-0000"
        client = login(cast.agent)

        pages = []
        for typed in (elsewhere.reference, missing):
            location = jump(client, typed)
            assert location.startswith(f"{QUEUE}?")
            page = html(client.get(location))
            assert f"No ticket with ID {typed} in your departments." in page
            assert 'name="id" type="text"' in page and f'value="{typed}"' in page
            pages.append(page.replace(typed, "X"))

        assert elsewhere.subject not in pages[0]
        assert _without_tokens(pages[0]) == _without_tokens(pages[1])

    @pytest.mark.parametrize("typed", ["hola", "ATN-1234", "12345678901234567890", "ATN-OOOO-IIII"])
    def test_what_cannot_be_an_id_gets_the_same_answer(self, cast: Cast, typed: str) -> None:
        client = login(cast.agent)

        page = html(client.get(jump(client, typed)))

        assert f"No ticket with ID {typed} in your departments." in page

    def test_nothing_typed_asks_for_an_id(self, cast: Cast) -> None:
        client = login(cast.agent)

        location = jump(client, "   ")

        assert location == QUEUE
        assert "Type a ticket ID to go to it." in html(client.get(location))

    def test_what_was_typed_comes_back_escaped(self, cast: Cast) -> None:
        client = login(cast.agent)

        page = html(client.get(jump(client, '<b>"x"</b>')))

        assert "<b>" not in page.split('<main id="main">', 1)[1]
        assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in page

    def test_a_very_long_input_is_cut(self, cast: Cast) -> None:
        client = login(cast.agent)

        page = html(client.get(jump(client, "A" * 5000)))

        assert "A" * 41 not in page
        assert "A" * 40 in page


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
