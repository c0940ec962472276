"""Snippets and subjects: the text escaped, the matches (in any of their forms) in <mark>;
nothing a customer wrote is ever taken as HTML or as a highlight."""

from __future__ import annotations

from atiende.search.selectors import ticket_search
from atiende.tickets import services
from atiende.tickets.models import Message
from tests.conftest import Cast
from tests.search.support import OpenTicket, hit_for


class TestEscaping:
    def test_html_in_a_message_is_shown_as_text(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(
            subject="<b>Urgente</b>", body='<script>alert("x")</script> el <i>dominio</i> & más'
        )

        hit = hit_for(cast.ana, "dominio", ticket)

        assert "<script>" not in hit.snippet and "<i>" not in hit.snippet
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in hit.snippet
        assert "&lt;i&gt;<mark>dominio</mark>&lt;/i&gt; &amp; más" in hit.snippet
        assert hit.subject_html == "&lt;b&gt;Urgente&lt;/b&gt;"

    def test_a_word_inside_html_like_text_is_found_and_marked(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Error <timeout> del servidor", body="Ver asunto")

        assert hit_for(cast.ana, "timeout", ticket).subject_html == (
            "Error &lt;<mark>timeout</mark>&gt; del servidor"
        )

    def test_punctuation_comes_back_as_written(self, cast: Cast, open_ticket: OpenTicket) -> None:
        body = r"dominio: C:\sitio\web, correo a@b.mx, url https://x.mx/a?b=1&c=2 <nota> fin"
        ticket = open_ticket(subject="Rutas", body=body)

        snippet = hit_for(cast.ana, "dominio", ticket).snippet

        assert snippet == (
            r"<mark>dominio</mark>: C:\sitio\web, correo a@b.mx, url https://x.mx/a?b=1&amp;c=2 "
            "&lt;nota&gt; fin"
        )

    def test_a_message_cannot_forge_a_highlight(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Consulta", body="Hola")
        message = ticket.messages.get()
        # The services strip private-use characters; a message written by other means may not.
        Message.objects.filter(pk=message.pk).update(body="\ue000falso\ue001 dominio \ue001")

        snippet = hit_for(cast.ana, "dominio", ticket).snippet

        assert snippet == "falso <mark>dominio</mark>"


class TestWhatIsMarked:
    def test_the_forms_of_the_word_that_matched(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(
            subject="Dominios y configuración", body="La configuracion del dominio falló"
        )

        hit = hit_for(cast.ana, "dominio configuraciones", ticket)

        assert hit.subject_html == "<mark>Dominios</mark> y <mark>configuración</mark>"
        assert hit.snippet == "La <mark>configuracion</mark> del <mark>dominio</mark> falló"

    def test_not_the_function_words_of_the_query(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="El correo de la empresa", body="Y el correo de ventas")

        hit = hit_for(cast.ana, "el correo de", ticket)

        assert hit.subject_html == "El <mark>correo</mark> de la empresa"

    def test_a_long_message_is_cut_around_the_match(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(
            subject="Consulta",
            body=("Párrafo de relleno.\n\n" * 30)
            + "Aquí el respaldo falló.\n"
            + "Más texto. " * 40,
        )

        snippet = hit_for(cast.ana, "respaldo", ticket).snippet

        assert snippet.startswith("… ") and snippet.endswith(" …")
        assert "Aquí el <mark>respaldo</mark> falló." in snippet
        assert "\n" not in snippet
        assert len(snippet) < 300

    def test_a_reply_matching_only_by_an_attachment_shows_its_name(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        from tests.search.support import text_file

        ticket = open_ticket(subject="Consulta", body="Hola")
        services.ticket_reply(
            ticket=ticket,
            author=cast.ana,
            body="Adjunto lo que pidieron",
            files=[text_file("factura-marzo.txt"), text_file("recibo.txt")],
        )

        hits = ticket_search(user=cast.ana, query="facturas")

        assert [hit.ticket for hit in hits] == [ticket]
        assert "<mark>factura</mark>-marzo.txt" in hits[0].snippet
