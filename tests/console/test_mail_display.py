"""A message that came by e-mail, on the console's ticket page: its sanitized HTML with inline
images served by the console, who sent it, the quoted history folded in a <details>; nothing
of a mail's markup runs, and the page's queries stay fixed.

State is built through the real ingest, with messages written as bytes
(tests/portal/mail_support.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from atiende.tickets import services
from atiende.tickets.models import Attachment
from tests.conftest import Cast
from tests.console.ticket_support import html, login, page_url, queries_for
from tests.portal.mail_support import (
    AUTHSERV_ID,
    html_mail,
    plain_mail,
    png,
    received_ticket,
)

IMAGE_HTML = '<p>Así se ve:</p><img src="cid:captura@ana" alt="captura">'


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


def test_shows_the_html_with_the_inline_image_served_by_the_console(cast: Cast) -> None:
    ticket, message = received_ticket(html_mail(html=IMAGE_HTML, image=png()), cast.soporte)
    image = Attachment.objects.get(message=message)
    page = html(login(cast.agent).get(page_url(ticket)))
    src = f"/consola/tickets/{ticket.reference}/adjuntos/{image.public_id}/"
    assert (
        f'<div class="body mail-html"><p>Así se ve:</p><img src="{src}" alt="captura"></div>'
        in page
    )
    assert "cid:" not in page
    response = login(cast.agent).get(src)
    assert response.getvalue() == png()
    assert response["Content-Type"] == "image/png"
    assert login(cast.agent_ops).get(src).status_code == 404


def test_says_the_message_came_by_e_mail_and_from_which_address(cast: Cast) -> None:
    ticket, _message = received_ticket(plain_mail(), cast.soporte)
    page = html(login(cast.agent).get(page_url(ticket)))
    assert "customer, by e-mail from ana@example.com" in page


def test_a_web_message_and_a_staff_reply_stay_plain_text(cast: Cast, open_ticket: Any) -> None:
    ticket = open_ticket(body="Texto <b>web</b>\nsegunda línea")
    services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta <i>nuestra</i>")
    page = html(login(cast.agent).get(page_url(ticket)))
    assert '<div class="body">Texto &lt;b&gt;web&lt;/b&gt;\nsegunda línea</div>' in page
    assert '<div class="body">Respuesta &lt;i&gt;nuestra&lt;/i&gt;</div>' in page
    assert "mail-html" not in page and "by e-mail from" not in page


@pytest.mark.parametrize(
    "markup",
    [
        '<script>alert("html")</script>',
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">clic</a>',
        '<p onmouseover="alert(1)">pasa</p>',
    ],
)
def test_no_script_or_handler_of_the_mail_reaches_the_page(cast: Cast, markup: str) -> None:
    ticket, _message = received_ticket(
        html_mail(html=f"<p>Hola</p>{markup}", image=png()), cast.soporte
    )
    page = html(login(cast.agent).get(page_url(ticket)))
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert "alert(" not in timeline
    for forbidden in ("onerror", "onmouseover", "javascript:", "<script"):
        assert forbidden not in timeline


def test_the_quoted_history_is_folded_in_a_details(cast: Cast) -> None:
    body = "Ya probé.\n\nOn Mon, 2 Mar 2026 at 10:00, Soporte wrote:\n> ¿Probó <esto>?\n"
    ticket, message = received_ticket(plain_mail(body=body), cast.soporte)
    assert message.quoted
    page = html(login(cast.agent).get(page_url(ticket)))
    assert '<div class="body">Ya probé.</div>' in page
    details = re.search(r'<details class="quoted">(.*?)</details>', page, re.S)
    assert details is not None
    assert "<summary>Show quoted text</summary>" in details.group(1)
    assert "&gt; ¿Probó &lt;esto&gt;?" in details.group(1)


def test_the_page_runs_the_same_number_of_queries_for_2_and_12_mail_messages(
    cast: Cast, settings: Any
) -> None:
    settings.ATIENDE_MAIL_SENDER_HOURLY_LIMIT = 1000
    ticket, _message = received_ticket(html_mail(html=IMAGE_HTML, image=png()), cast.soporte)

    def reply_by_mail(count: int) -> None:
        for number in range(count):
            received_ticket(
                html_mail(
                    subject=f"Re: [{ticket.reference}]",
                    html=f'<p>Respuesta {number}</p><img src="cid:captura{number}@ana">',
                    image=png(),
                    content_id=f"captura{number}@ana",
                )
                if number % 2
                else plain_mail(
                    subject=f"Re: [{ticket.reference}]",
                    body=f"Respuesta {number}\n\nOn Mon, Ana wrote:\n> antes\n",
                ),
                cast.soporte,
            )

    client = login(cast.agent)
    reply_by_mail(1)
    client.get(page_url(ticket))  # the first visit also creates his presence row
    few = queries_for(client, page_url(ticket))
    reply_by_mail(10)
    many = queries_for(client, page_url(ticket))
    assert ticket.messages.count() == 12
    page = html(client.get(page_url(ticket)))
    assert page.count('class="body mail-html"') == 6
    assert page.count('<details class="quoted">') == 6
    assert few == many
