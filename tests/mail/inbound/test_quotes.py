"""The quoted history of a reply is folded away from the new text."""

from __future__ import annotations

import textwrap

import pytest

from atiende.mail.inbound.quotes import text_split_quoted
from atiende.mail.inbound.sanitize import html_render
from tests.mail.inbound.parse_support import CORPUS, parse

STANDARD_REPLIES = CORPUS / "mailgun-talon" / "standard_replies"


def split(text: str) -> tuple[str, str]:
    return text_split_quoted(textwrap.dedent(text).strip("\n"))


class TestPlainText:
    def test_english_attribution_and_quote(self):
        new, quoted = split(
            """
            Thanks, it works now.

            On Mon, Apr 2, 2012 at 6:26 PM, Soporte <soporte@atiende.test> wrote:

            > Please restart the server.
            """
        )
        assert new == "Thanks, it works now."
        assert quoted.startswith("On Mon, Apr 2, 2012")
        assert quoted.endswith("> Please restart the server.")

    def test_spanish_attribution_wrapped_over_two_lines(self):
        new, quoted = split(
            """
            Gracias, ya funciona.

            El lun, 5 ene 2025 a las 10:00, Soporte Atiende (ATN-4821-937) <
            soporte@atiende.test> escribió:
            > Reinicie el servidor.
            """
        )
        assert new == "Gracias, ya funciona."
        assert quoted.splitlines()[0].startswith("El lun, 5 ene 2025")

    @pytest.mark.parametrize(
        "attribution",
        [
            "Le 5 janv. 2025 à 10:00, Support <s@x.test> a écrit :",
            "Am 05.01.2025 um 10:00 schrieb Support <s@x.test>:",
            "Em seg., 5 de jan. de 2025 às 10:00, Support <s@x.test> escreveu:",
            "Il giorno lun 5 gen 2025, Support <s@x.test> ha scritto:",
            "Support <s@x.test> wrote:",
            "2012/4/3 Support <s@x.test> escribió:",
        ],
    )
    def test_other_attributions_above_a_quote(self, attribution: str):
        new, quoted = text_split_quoted(f"Nuevo texto.\n\n{attribution}\n> viejo\n> texto")
        assert new == "Nuevo texto."
        assert quoted == f"{attribution}\n> viejo\n> texto"

    def test_outlook_header_block_in_spanish(self):
        new, quoted = split(
            """
            Adjunto la captura.

            ________________________________
            De: Soporte <soporte@atiende.test>
            Enviado: lunes, 5 de enero de 2025 10:00
            Para: Ana <ana@example.com>
            Asunto: [ATN-4821-937] Servidor caído

            Reinicie el servidor.
            """
        )
        assert new == "Adjunto la captura."
        assert quoted.startswith("________________________________\nDe: Soporte")
        assert quoted.endswith("Reinicie el servidor.")

    def test_original_message_separator(self):
        new, quoted = split(
            """
            Sigue igual.

            -----Mensaje original-----
            De: Soporte
            Reinicie.
            """
        )
        assert (new, quoted.splitlines()[0]) == ("Sigue igual.", "-----Mensaje original-----")

    def test_a_forward_is_not_folded(self):
        text = textwrap.dedent(
            """
            Os reenvío lo que me llegó.

            ---------- Forwarded message ---------
            From: Banco <avisos@banco.example>
            Date: Mon, 5 Jan 2025 at 10:00
            Subject: Aviso

            Su dominio caduca mañana.
            """
        ).strip()
        assert text_split_quoted(text) == (text, "")

    def test_answers_written_between_quotes_are_not_folded(self):
        text = "On Mon, Ana wrote:\n> ¿Reinicio?\nSí, reinicie.\n> ¿Y luego?\nLuego nada."
        assert text_split_quoted("Hola.\n\n" + text) == ("Hola.\n\n" + text, "")

    def test_a_bottom_posted_reply(self):
        new, quoted = split(
            """
            On 04/02/2012 06:26 PM, Soporte wrote:
            > Reinicie.

            Hecho, gracias.
            """
        )
        assert (new, quoted) == (
            "Hecho, gracias.",
            "On 04/02/2012 06:26 PM, Soporte wrote:\n> Reinicie.",
        )

    def test_a_trailing_quote_without_attribution(self):
        assert text_split_quoted("Vale.\n\n> uno\n>\n> dos\n") == ("Vale.", "> uno\n>\n> dos")

    def test_nothing_new_means_nothing_is_folded(self):
        text = "On Mon, Ana wrote:\n> solo la cita"
        assert text_split_quoted(text) == (text, "")

    def test_signatures_and_sent_from_stay(self):
        new, _ = split(
            """
            Hola

            --
            Ana
            Sent from my iPhone

            On Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wrote:

            > Hi
            """
        )
        assert new == "Hola\n\n--\nAna\nSent from my iPhone"

    def test_a_plain_message_is_left_alone(self):
        text = "Hola:\n\n  - uno\n  - dos\n\nTo: nadie\nFrom: aquí"
        assert text_split_quoted(text) == (text, "")

    def test_one_enormous_line_is_linear(self):
        text = "On " + "a " * 2_000_000
        assert text_split_quoted(text)[1] == ""


class TestHtml:
    def render(self, html: str) -> tuple[str, str, str]:
        rendered = html_render(html)
        return rendered.text, rendered.quoted, rendered.html

    def test_gmail(self):
        text, quoted, html = self.render(
            '<div dir="ltr">Gracias</div><br><div class="gmail_quote"><div class="gmail_attr">'
            "El lun, 5 ene 2025, Soporte &lt;s@x.test&gt; escribió:<br></div>"
            '<blockquote class="gmail_quote">Reinicie.</blockquote></div>'
        )
        assert (text, html) == ("Gracias", '<div dir="ltr">Gracias</div>')
        assert quoted == "El lun, 5 ene 2025, Soporte <s@x.test> escribió:\nReinicie."

    def test_apple_mail_blockquote_with_the_attribution_above(self):
        text, quoted, _ = self.render(
            "<p>Listo.</p><p>On Tuesday, April 3, 2012 at 4:55 PM, Ana wrote:</p>"
            '<blockquote type="cite"><div>Hola</div></blockquote>'
        )
        assert (text, quoted) == (
            "Listo.",
            "On Tuesday, April 3, 2012 at 4:55 PM, Ana wrote:\n\nHola",
        )

    def test_outlook_web(self):
        text, quoted, html = self.render(
            "<div>Adjunto captura.</div>"
            '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">'
            '<div id="divRplyFwdMsg"><b>De:</b> Soporte<br><b>Enviado:</b> lunes</div>'
            "<div>Reinicie.</div>"
        )
        assert (text, html) == ("Adjunto captura.", "<div>Adjunto captura.</div>")
        assert "Reinicie." in quoted

    def test_outlook_desktop_without_markers(self):
        text, quoted, _ = self.render(
            "<div class=WordSection1><p class=MsoNormal>Hecho.</p>"
            "<p class=MsoNormal><b><span>From:</span></b><span> Soporte<br>"
            "<b>Sent:</b> Monday<br><b>Subject:</b> x</span></p><p>Reinicie.</p></div>"
        )
        assert text == "Hecho."
        assert quoted.startswith("From: Soporte") and quoted.endswith("Reinicie.")

    def test_original_message_text(self):
        text, quoted, _ = self.render(
            "Hola<br><br><div>-----Original Message-----<br>From: x<br>Hi</div>"
        )
        assert (text, quoted) == ("Hola", "-----Original Message-----\nFrom: x\nHi")

    def test_yahoo(self):
        text, quoted, _ = self.render(
            '<div>Sí</div><div class="yahoo_quoted"><div>On Monday, Ana wrote:</div>'
            "<div>¿Funciona?</div></div>"
        )
        assert (text, quoted) == ("Sí", "On Monday, Ana wrote:\n¿Funciona?")

    def test_thunderbird_bottom_posted(self):
        text, quoted, html = self.render(
            '<div class="moz-cite-prefix">On 04/02/2012, Soporte wrote:<br></div>'
            '<blockquote type="cite">Reinicie.</blockquote>Hecho, <b>gracias</b>.'
        )
        assert (text, quoted) == ("Hecho, gracias.", "On 04/02/2012, Soporte wrote:\nReinicie.")
        assert html == "Hecho, <b>gracias</b>."

    def test_answers_between_quotes_are_not_folded(self):
        text, quoted, _ = self.render(
            "<p>Hola</p><blockquote>¿Reinicio?</blockquote><p>Sí.</p><blockquote>¿Y?</blockquote>"
        )
        assert quoted == ""
        assert text == "Hola\n\n¿Reinicio?\n\nSí.\n\n¿Y?"

    def test_a_forward_is_not_folded(self):
        _, quoted, _ = self.render(
            "<div>Mira esto</div><div>---------- Forwarded message ---------</div>"
            '<div class="gmail_quote">Su dominio caduca.</div>'
        )
        assert quoted == ""

    def test_only_a_quote_is_not_folded(self):
        text, quoted, _ = self.render('<blockquote type="cite">Solo la cita</blockquote>')
        assert (text, quoted) == ("Solo la cita", "")


@pytest.mark.skipif(not STANDARD_REPLIES.is_dir(), reason="shared/corpus/email is not here")
class TestTalonReplies:
    """mailgun/talon's replies from many clients: the new text is "Hello" in each."""

    @pytest.mark.parametrize("name", ["iphone", "sparrow"])
    def test_the_expected_new_text(self, name: str):
        parsed = parse((STANDARD_REPLIES / f"{name}.eml").read_bytes())
        expected = (STANDARD_REPLIES / f"{name}_reply_text").read_text().strip("\n").rstrip()
        assert parsed.text == expected
        assert parsed.quoted

    @pytest.mark.parametrize(
        "path", sorted(STANDARD_REPLIES.glob("*.eml")) if STANDARD_REPLIES.is_dir() else []
    )
    def test_every_client(self, path):  # type: ignore[no-untyped-def]
        parsed = parse(path.read_bytes())
        assert parsed.text.startswith("Hello"), parsed.text
        assert parsed.quoted, path.name
        assert "Hi" not in parsed.text.replace("Hello", "")
        # Old Hotmail quoted with "&gt;" characters inside its HTML, with no element to tell
        # the quote by: its HTML keeps the history (its text part is folded, as checked above).
        if parsed.html and path.name != "hotmail.eml":
            assert "Hi" not in parsed.html.replace("Hello", "")
