"""A message that came by e-mail, on the customer's ticket page: its sanitized HTML with inline
images served by the portal, the plain text as before for the others, the quoted history
folded in a <details>; nothing of a mail's markup runs, and the page's queries stay fixed.

State is built through the real ingest, with messages written as bytes (mail_support.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from atiende.tickets.models import Attachment, Message, Ticket
from tests.conftest import Cast
from tests.portal.conftest import html, login, queries_for
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


def _url(ticket: Ticket) -> str:
    return f"/tickets/{ticket.reference}/"


def _entry(page: str, message: Message) -> str:
    """The thread's entry of one message."""
    rest = page.split(f'id="m-{message.public_id}"', 1)[1]
    return re.split(r'<li id="m-|</ol>', rest, maxsplit=1)[0]


class TestHtmlMail:
    def test_shows_its_html_with_the_inline_image_served_by_the_portal(self, cast: Cast) -> None:
        ticket, message = received_ticket(html_mail(html=IMAGE_HTML, image=png()), cast.soporte)
        image = Attachment.objects.get(message=message)
        page = html(login(cast.ana).get(_url(ticket)))
        src = f"/tickets/{ticket.reference}/adjuntos/{image.public_id}/"
        assert (
            f'<div class="body mail-html"><p>Así se ve:</p><img src="{src}" alt="captura"></div>'
            in page
        )
        assert "cid:" not in page
        # The link is the portal's download of the file, after its access check.
        assert login(cast.ana).get(src).getvalue() == png()
        assert login(cast.otro).get(src).status_code == 404

    def test_is_the_customer_s_colleague_s_page_too(self, cast: Cast) -> None:
        ticket, message = received_ticket(html_mail(html=IMAGE_HTML, image=png()), cast.soporte)
        image = Attachment.objects.get(message=message)
        page = html(login(cast.beto).get(_url(ticket)))
        assert f'<img src="/tickets/{ticket.reference}/adjuntos/{image.public_id}/"' in page

    def test_a_cid_link_to_a_file_of_another_message_stays_inert(self, cast: Cast) -> None:
        _first, other = received_ticket(html_mail(html=IMAGE_HTML, image=png()), cast.soporte)
        theirs = Attachment.objects.get(message=other)
        # Otro names Ana's file by its public_id in his own mail: it is not his message's file.
        ticket, _message = received_ticket(
            html_mail(
                sender="Otro Cliente <otro@example.net>",
                html=f'<p>Mira</p><img src="cid:{theirs.public_id}" alt="ajena">',
            ),
            cast.soporte,
        )
        page = html(login(cast.otro).get(_url(ticket)))
        assert f'<img src="cid:{theirs.public_id}" alt="ajena">' in page
        assert f"/adjuntos/{theirs.public_id}/" not in page

    @pytest.mark.parametrize(
        "markup",
        [
            '<script>alert("html")</script>',
            '<img src="x" onerror="alert(1)">',
            '<img src="cid:captura@ana" onerror="alert(1)">',
            '<a href="javascript:alert(1)">clic</a>',
            '<p onclick="alert(1)" style="color:red">clic</p>',
            '<iframe src="https://evil.example/"></iframe>',
        ],
    )
    def test_no_script_or_handler_of_the_mail_reaches_the_page(
        self, cast: Cast, markup: str
    ) -> None:
        raw = html_mail(
            html=f"<p>Hola</p>{markup}",
            text='Hola <script>alert("text")</script>',
            image=png(),
        )
        ticket, _message = received_ticket(raw, cast.soporte)
        page = html(login(cast.ana).get(_url(ticket)))
        assert "alert(" not in page
        for forbidden in ("onerror", "onclick", "javascript:", "<iframe", 'style="color'):
            assert forbidden not in page


class TestPlainMail:
    def test_shows_the_text_escaped_with_its_line_breaks(self, cast: Cast) -> None:
        ticket, _message = received_ticket(
            plain_mail(body="Línea uno <b>negrita</b>\nLínea <script>alert(1)</script> dos"),
            cast.soporte,
        )
        page = html(login(cast.ana).get(_url(ticket)))
        assert (
            '<div class="body">Línea uno &lt;b&gt;negrita&lt;/b&gt;\n'
            "Línea &lt;script&gt;alert(1)&lt;/script&gt; dos</div>"
        ) in page
        assert "mail-html" not in page

    def test_the_quoted_history_is_folded_in_a_details(self, cast: Cast) -> None:
        body = (
            "Sigue fallando.\n\n"
            "El lun, 2 mar 2026 a las 10:00, Soporte <soporte@atiende.test> escribió:\n"
            "> Prueba borrar la <caché>.\n"
        )
        ticket, message = received_ticket(plain_mail(body=body), cast.soporte)
        assert message.quoted
        entry = _entry(html(login(cast.ana).get(_url(ticket))), message)
        assert '<div class="body">Sigue fallando.</div>' in entry
        details = re.search(r'<details class="quoted">(.*?)</details>', entry, re.S)
        assert details is not None
        assert "<summary>Show quoted text</summary>" in details.group(1)
        assert "&gt; Prueba borrar la &lt;caché&gt;." in details.group(1)
        assert "escribió:\n&gt;" in details.group(1)  # line breaks kept (pre-wrap)

    def test_a_web_message_has_no_quoted_block(self, cast: Cast, open_ticket: Any) -> None:
        ticket = open_ticket()
        assert '<details class="quoted">' not in html(login(cast.ana).get(_url(ticket)))


def test_the_page_runs_the_same_number_of_queries_for_2_and_12_mail_messages(
    cast: Cast, settings: Any
) -> None:
    settings.ATIENDE_MAIL_SENDER_HOURLY_LIMIT = 1000
    ticket, _message = received_ticket(html_mail(html=IMAGE_HTML, image=png()), cast.soporte)

    def reply_by_mail(count: int) -> None:
        for number in range(count):
            received_ticket(
                html_mail(
                    subject=f"Re: Así se ve el error [{ticket.reference}]",
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

    client = login(cast.ana)
    reply_by_mail(1)
    few = queries_for(client, _url(ticket))
    reply_by_mail(10)
    many = queries_for(client, _url(ticket))
    assert ticket.messages.count() == 12
    assert html(client.get(_url(ticket))).count('class="body mail-html"') == 6
    assert few == many
