"""Parse: the text, the HTML, the files, and what a bounce reports."""

# Texts in Cyrillic, Greek and Hebrew (and typographic dashes) are what these tests decode.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
import struct

from tests.mail.inbound.parse_support import mail, parse

HEADERS = """
    From: Ana <ana@example.com>
    To: soporte@atiende.test
    Subject: hola
    MIME-Version: 1.0
"""


def multipart(subtype: str, *parts: str, extra: str = "") -> str:
    """A multipart body with boundary "b-<subtype>" (parts are "headers\\n\\nbody")."""
    boundary = f"b-{subtype}"
    inner = "".join(f"--{boundary}\n{part}\n" for part in parts)
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"{extra}\n\n'
        f"{inner}--{boundary}--\n"
    )


def with_headers(structure: str) -> bytes:
    head, _, body = structure.partition("\n\n")
    return mail(HEADERS + head, body)


class TestPlainText:
    def test_kept_as_written(self):
        written = "Hola:\n\n    indented  two  spaces\t tab \nline with trailing space \n-- \nAna"
        parsed = parse(mail(HEADERS + "Content-Type: text/plain; charset=utf-8", written))
        assert parsed.text == written
        assert (parsed.quoted, parsed.html, parsed.attachments) == ("", "", ())

    def test_control_characters_go_format_characters_stay(self):
        written = "a\x00b\x1bc 👨\u200d👩\u200d👧 \u200fשלום"
        parsed = parse(mail(HEADERS + "Content-Type: text/plain; charset=utf-8", written))
        assert parsed.text == "abc 👨\u200d👩\u200d👧 \u200fשלום"

    def test_empty_body(self):
        assert parse(mail(HEADERS, "")).text == ""


class TestCharsets:
    def body(self, content_type: str, data: bytes) -> str:
        raw = mail(HEADERS + f"Content-Type: {content_type}", "") + data
        return parse(raw).text

    def test_declared_latin1_but_utf8(self):
        text = "canción – ñandú"
        assert self.body("text/plain; charset=iso-8859-1", text.encode()) == text

    def test_declared_utf8_but_windows_1252(self):
        text = "canción “citas” año"
        assert self.body("text/plain; charset=utf-8", text.encode("cp1252")) == text

    def test_no_declaration(self):
        text = "Informaci\xf3n sobre la factura del a\xf1o pasado, por favor."
        assert self.body("text/plain", text.encode("cp1252")) == text

    def test_unknown_label(self):
        assert self.body("text/plain; charset=x-marciano", "ñandú".encode()) == "ñandú"

    def test_a_transform_is_not_a_charset(self):
        assert self.body("text/plain; charset=base64", b"aG9sYQ==") == "aG9sYQ=="

    def test_utf16(self):
        assert self.body("text/plain; charset=utf-16", "hola ñ".encode("utf-16")) == "hola ñ"

    def test_html_meta_charset_when_mime_says_nothing(self):
        html = '<html><head><meta charset="windows-1251"></head><body>Привет мир</body></html>'
        assert self.body("text/html", html.encode("cp1251")) == "Привет мир"

    def test_undecodable_bytes_never_raise(self):
        text = self.body("text/plain; charset=utf-8", b"\xff\xfe\xfd hola \x80\x81")
        assert "hola" in text

    def test_declared_big5_encoded_twice(self):
        original = "軟體帝國更新迅速"
        twice = original.encode("big5").decode("latin-1").encode("utf-8")
        assert self.body("text/plain; charset=big5", twice) == original

    def test_quoted_printable_and_base64(self):
        qp = self.body(
            "text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable",
            b"Se=C3=B1or, l=C3=ADnea lar=\r\nga",
        )
        assert qp == "Señor, línea larga"
        b64 = self.body(
            "text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
            base64.encodebytes("ñandú".encode()),
        )
        assert b64 == "ñandú"


class TestHtml:
    HTML = """<html><head><title>T</title><style>p{color:red}</style>
        <script>alert(1)</script></head><body onload="x()">
        <p style="color:red" onclick="steal()">Hola <b>equipo</b></p>
        <img src="https://tracker.example/p.gif" width="1" height="1">
        <img src="http://cdn.example/logo.png" alt="Logo ACME">
        <a href="javascript:alert(1)">malo</a> <a href="https://example.com/x">aquí</a>
        <iframe src="https://evil.example"></iframe><form><input name="q"></form>
        <ul><li>uno</li><li>dos</li></ul></body></html>"""

    def test_html_only_mail_is_sanitized_with_a_text_version(self):
        parsed = parse(with_headers(f"Content-Type: text/html; charset=utf-8\n\n{self.HTML}"))
        html = parsed.html
        for forbidden in (
            "<script",
            "alert",
            "onclick",
            "onload",
            "style",
            "<iframe",
            "<form",
            "<input",
            "tracker.example",
            "cdn.example",
            "javascript:",
            "<title",
        ):
            assert forbidden not in html, forbidden
        assert "<b>equipo</b>" in html
        assert 'href="https://example.com/x"' in html
        assert 'rel="noopener noreferrer nofollow"' in html
        assert "Logo ACME" in html
        assert parsed.text == (
            "Hola equipo\n\nLogo ACME malo aquí (https://example.com/x)\n- uno\n- dos"
        )

    def test_alternative_gives_the_plain_text_and_the_sanitized_html(self):
        parsed = parse(
            with_headers(
                multipart(
                    "alternative",
                    "Content-Type: text/plain; charset=utf-8\n\nHola *equipo*",
                    "Content-Type: text/html; charset=utf-8\n\n<p>Hola <b>equipo</b></p>",
                )
            )
        )
        assert parsed.text == "Hola *equipo*"
        assert parsed.html == "<p>Hola <b>equipo</b></p>"

    def test_inline_images_stay_in_place(self):
        png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
        parsed = parse(
            with_headers(
                multipart(
                    "related",
                    "Content-Type: text/html; charset=utf-8\n\n"
                    '<p>Mira: <img src="cid:logo@acme" alt="logo"></p>',
                    "Content-Type: image/png\nContent-Transfer-Encoding: base64\n"
                    f"Content-ID: <logo@acme>\nContent-Disposition: inline\n\n{png}",
                    "Content-Type: image/png; name=otra.png\nContent-Transfer-Encoding: base64\n"
                    f"Content-ID: <otra@acme>\n\n{png}",
                )
            )
        )
        assert '<img src="cid:logo@acme" alt="logo">' in parsed.html
        logo, other = parsed.attachments
        assert (logo.content_id, logo.inline, logo.declared_type) == (
            "logo@acme",
            True,
            "image/png",
        )
        assert logo.data == b"\x89PNG\r\n\x1a\nfake"
        assert logo.filename == "adjunto-1.png"
        assert (other.filename, other.content_id, other.inline) == ("otra.png", "otra@acme", False)


class TestAttachments:
    def attachment(self, headers: str, body: str = "aGVsbG8=") -> str:
        return f"{headers}\nContent-Transfer-Encoding: base64\n\n{body}"

    def files(self, *parts: str) -> list[tuple[str, str, bytes]]:
        parsed = parse(
            with_headers(multipart("mixed", "Content-Type: text/plain\n\nVer adjuntos.", *parts))
        )
        assert parsed.text == "Ver adjuntos."
        return [(file.filename, file.declared_type, file.data) for file in parsed.attachments]

    def test_names_in_every_encoding_mail_uses(self):
        files = self.files(
            self.attachment(
                "Content-Type: application/pdf\n"
                "Content-Disposition: attachment; filename*=utf-8''factura%20ni%C3%B1o.pdf"
            ),
            self.attachment(
                "Content-Type: application/pdf\nContent-Disposition: attachment;\n"
                " filename*0*=utf-8''Informe%20; filename*1*=anual%C3%A9.pdf"
            ),
            self.attachment('Content-Type: image/png; name="=?utf-8?b?Zm90b8OxLnBuZw==?="'),
            self.attachment(
                "Content-Type: text/csv\nContent-Disposition: attachment; filename=año.csv"
            ),
        )
        assert [name for name, _, _ in files] == [
            "factura niño.pdf",
            "Informe anualé.pdf",
            "fotoñ.png",
            "año.csv",
        ]
        assert files[0][1:] == ("application/pdf", b"hello")

    def test_names_cannot_carry_line_breaks_or_control_characters(self):
        (file,) = self.files(
            self.attachment(
                "Content-Type: application/pdf\n"
                "Content-Disposition: attachment;"
                " filename*=utf-8''a%0D%0ABcc%3A%20x%07%E2%80%AE.pdf"
            )
        )
        assert file[0] == "a Bcc: x.pdf"

    def test_unnamed_files_get_a_name(self):
        (file,) = self.files(self.attachment("Content-Type: image/jpeg"))
        assert file[:2] == ("adjunto-1.jpg", "image/jpeg")

    def test_an_attached_message_is_an_eml_named_after_its_subject(self):
        (file,) = self.files(
            "Content-Type: message/rfc822\n\nSubject: Factura de mayo\nMessage-ID: <f@x>\n\nHola"
        )
        name, declared, data = file
        assert (name, declared) == ("Factura de mayo.eml", "message/rfc822")
        assert b"Subject: Factura de mayo" in data
        assert b"Hola" in data

    def test_text_files_are_attachments_not_text(self):
        (file,) = self.files("Content-Type: text/plain; name=log.txt\n\nERROR 42")
        assert file == ("log.txt", "text/plain", b"ERROR 42")


def tnef_object(level: int, attribute: int, kind: int, payload: bytes) -> bytes:
    header = struct.pack("<BHHI", level, attribute, kind, len(payload))
    return header + payload + struct.pack("<H", sum(payload) & 0xFFFF)


def winmail(*files: tuple[bytes, bytes]) -> bytes:
    """A minimal winmail.dat (TNEF): version, then per file its rendering, title and data."""
    data = struct.pack("<IH", 0x223E9F78, 1)
    data += tnef_object(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))
    for name, content in files:
        data += tnef_object(2, 0x9002, 0x0006, b"\x00" * 14)
        data += tnef_object(2, 0x8010, 0x0001, name + b"\x00")
        data += tnef_object(2, 0x800F, 0x0006, content)
    return data


class TestWinmailDat:
    def parsed_with(self, data: bytes):  # type: ignore[no-untyped-def]
        encoded = base64.b64encode(data).decode()
        return parse(
            with_headers(
                multipart(
                    "mixed",
                    "Content-Type: text/plain\n\nAdjunto.",
                    "Content-Type: application/ms-tnef; name=winmail.dat\n"
                    "Content-Transfer-Encoding: base64\n"
                    f"Content-Disposition: attachment; filename=winmail.dat\n\n{encoded}",
                )
            )
        )

    def test_the_files_inside_are_unpacked(self):
        parsed = self.parsed_with(winmail((b"informe.pdf", b"%PDF-1.4 x"), (b"foto.jpg", b"JPEG")))
        assert [(file.filename, file.data) for file in parsed.attachments] == [
            ("informe.pdf", b"%PDF-1.4 x"),
            ("foto.jpg", b"JPEG"),
        ]

    def test_a_broken_one_stays_packed(self):
        parsed = self.parsed_with(b"\x78\x9f\x3e\x22garbage-garbage-garbage")
        (file,) = parsed.attachments
        assert file.filename == "winmail.dat"
        assert "winmail.dat kept packed" in parsed.defects

    def test_one_made_of_many_tiny_objects_stays_packed(self):
        tiny = tnef_object(1, 0x9999, 0x0001, b"xx")
        parsed = self.parsed_with(struct.pack("<IH", 0x223E9F78, 1) + tiny * 50_000)
        assert [file.filename for file in parsed.attachments] == ["winmail.dat"]


class TestDeliveryReports:
    ORIGINAL = "Message-ID: <t-1.n-5@atiende.test>\nFrom: soporte@atiende.test\nSubject: x\n\nhola"
    STATUS = "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\nAction: failed"

    def report(self, sender: str, structure: str) -> bytes:
        head, _, body = structure.partition("\n\n")
        return mail(f"From: {sender}\nSubject: Undelivered\n{head}", body)

    def test_multipart_report_delivery_status(self):
        parsed = parse(
            self.report(
                "Mail Delivery System <MAILER-DAEMON@mx.example.com>",
                multipart(
                    "report",
                    "Content-Type: text/plain\n\nNo se pudo entregar.",
                    self.STATUS,
                    f"Content-Type: message/rfc822\n\n{self.ORIGINAL}",
                    extra="; report-type=delivery-status",
                ),
            )
        )
        assert parsed.is_delivery_report
        assert parsed.reported_message_ids == ("<t-1.n-5@atiende.test>",)
        assert parsed.text == "No se pudo entregar."

    def test_with_only_the_headers_of_the_original(self):
        parsed = parse(
            self.report(
                "postmaster@example.com",
                multipart(
                    "report",
                    "Content-Type: text/plain\n\nFallo.",
                    self.STATUS,
                    f"Content-Type: text/rfc822-headers\n\n{self.ORIGINAL.split(chr(10) * 2)[0]}",
                    extra="; report-type=delivery-status",
                ),
            )
        )
        assert parsed.is_delivery_report
        assert parsed.reported_message_ids == ("<t-1.n-5@atiende.test>",)

    def test_a_common_non_standard_bounce(self):
        parsed = parse(
            self.report(
                "MAILER-DAEMON@mx.example.com",
                multipart(
                    "mixed",
                    "Content-Type: text/plain\n\nReturned mail.",
                    f"Content-Type: message/rfc822\n\n{self.ORIGINAL}",
                ),
            )
        )
        assert parsed.is_delivery_report
        assert parsed.reported_message_ids == ("<t-1.n-5@atiende.test>",)

    def test_a_person_forwarding_a_message_is_no_bounce(self):
        parsed = parse(
            self.report(
                "ana@example.com",
                multipart(
                    "mixed",
                    "Content-Type: text/plain\n\nOs reenvío esto.",
                    f"Content-Type: message/rfc822\n\n{self.ORIGINAL}",
                ),
            )
        )
        assert not parsed.is_delivery_report
        assert parsed.reported_message_ids == ()

    def test_a_read_receipt_is_no_delivery_report(self):
        parsed = parse(
            self.report(
                "ana@example.com",
                multipart(
                    "report",
                    "Content-Type: text/plain\n\nLeído.",
                    "Content-Type: message/disposition-notification\n\nDisposition: displayed",
                    extra="; report-type=disposition-notification",
                ),
            )
        )
        assert not parsed.is_delivery_report
