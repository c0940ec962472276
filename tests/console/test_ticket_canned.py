"""Canned replies: the department's list on the page, the text filled in for the ticket."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from atiende.tickets.models import CannedReply, Ticket
from tests.conftest import Cast
from tests.console.ticket_support import html, login, page_url, url

OpenTicket = Callable[..., Ticket]


@pytest.fixture
def greeting(cast: Cast) -> CannedReply:
    return CannedReply.objects.create(
        department=cast.soporte,
        title="Saludo",
        body="Hola {customer_name}: sobre {ticket_id}, le escribe {agent_name}. {desconocido}",
    )


def test_the_text_comes_back_filled_in_as_plain_text(
    cast: Cast, open_ticket: OpenTicket, greeting: CannedReply
) -> None:
    ticket = open_ticket()
    response = login(cast.agent).get(url(ticket, f"respuestas/{greeting.pk}"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        f"Hola Ana Torres: sobre {ticket.reference}, le escribe Laura Agente. {{desconocido}}"
    )


def test_the_page_lists_only_the_departments_active_canned_replies(
    cast: Cast, open_ticket: OpenTicket, greeting: CannedReply
) -> None:
    CannedReply.objects.create(department=cast.soporte, title="Retirada", body="x", is_active=False)
    other = CannedReply.objects.create(
        department=cast.operaciones, title="De Operaciones", body="x"
    )
    ticket = open_ticket()
    page = html(login(cast.agent).get(page_url(ticket)))
    select = page.split('id="canned-select"', 1)[1].split("</select>", 1)[0]
    assert f'data-url="{url(ticket, f"respuestas/{greeting.pk}")}">Saludo</option>' in select
    assert "Retirada" not in select
    assert "De Operaciones" not in select
    assert '<label for="canned-select">Canned reply</label>' in page
    assert login(cast.agent).get(url(ticket, f"respuestas/{other.pk}")).status_code == 404


def test_without_javascript_the_page_comes_back_with_the_reply_box_filled(
    cast: Cast, open_ticket: OpenTicket, greeting: CannedReply
) -> None:
    ticket = open_ticket()
    page = html(login(cast.agent).get(f"{page_url(ticket)}?respuesta={greeting.pk}"))
    assert f">\nHola Ana Torres: sobre {ticket.reference}, le escribe Laura Agente." in page


def test_an_unknown_canned_reply_leaves_the_box_empty_and_says_so(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    for value in ("999999", "abc"):
        page = html(login(cast.agent).get(f"{page_url(ticket)}?respuesta={value}"))
        assert "That canned reply is not available for this ticket." in page
        assert 'id="id_body">\n</textarea>' in page


def test_placeholders_with_markup_are_escaped_on_the_page(
    cast: Cast, open_ticket: OpenTicket, greeting: CannedReply
) -> None:
    cast.ana.full_name = "<b>Ana</b>"
    cast.ana.save()
    ticket = open_ticket()
    page = html(login(cast.agent).get(f"{page_url(ticket)}?respuesta={greeting.pk}"))
    assert "Hola &lt;b&gt;Ana&lt;/b&gt;" in page
