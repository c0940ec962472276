"""Mail for the page tests, written as the bytes a mail server hands over, taken in by the
real ingest (`receive`): the pages are tested on what the pipeline really stores.

`plain_mail` and `html_mail` write one message each (CRLF line ends, an Authentication-Results
header of our own server, AUTHSERV_ID, saying the From domain passed DMARC: tests set
ATIENDE_MAIL_AUTHSERV_ID to it); `png` is a real image a browser can draw. Ana's address is
authorized on the cast's account: her mail opens a ticket; a stranger's goes to quarantine.
"""

from __future__ import annotations

import base64
import struct
import uuid
import zlib

from atiende.accounts.models import Department
from atiende.core.clock import now
from atiende.mail.inbound.ingest import inbound_receive
from atiende.mail.models import InboundMessage
from atiende.tickets.models import Message, Ticket

AUTHSERV_ID = "mx.atiende.test"
ANA = "Ana Torres <ana@example.com>"
STRANGER = "Nadie Conocido <nadie@desconocido.example>"


def png(width: int = 3, height: int = 2) -> bytes:
    """A real red PNG of that size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _head(sender: str, subject: str, extra: str = "") -> str:
    domain = sender.rpartition("@")[2].rstrip(">").lower()
    return (
        f"Authentication-Results: {AUTHSERV_ID}; spf=pass smtp.mailfrom={domain}; "
        f"dmarc=pass header.from={domain}\r\n"
        f"From: {sender}\r\n"
        "To: soporte@atiende.test\r\n"
        f"Subject: {subject}\r\n"
        f"Date: {now().strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"Message-ID: <{uuid.uuid4()}@mail.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        f"{extra}"
    )


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def plain_mail(
    *, sender: str = ANA, subject: str = "Mi sitio no carga", body: str = "Sigue fallando."
) -> bytes:
    """A text/plain message in UTF-8."""
    return (
        _head(sender, subject)
        + "Content-Type: text/plain; charset=utf-8\r\n"
        + "Content-Transfer-Encoding: 8bit\r\n"
        + "\r\n"
        + _crlf(body)
        + "\r\n"
    ).encode()


def html_mail(
    *,
    html: str,
    sender: str = ANA,
    subject: str = "Así se ve el error",
    text: str = "Así se ve el error.",
    image: bytes | None = None,
    content_id: str = "captura@ana",
) -> bytes:
    """multipart/alternative of `text` and `html`; with `image`, the HTML goes in a
    multipart/related with that PNG as the part `content_id` (for <img src="cid:...">)."""
    html_part = (
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n" + _crlf(html) + "\r\n"
    )
    if image is not None:
        encoded = base64.encodebytes(image).decode().replace("\n", "\r\n")
        html_part = (
            'Content-Type: multipart/related; boundary="rel-boundary"\r\n'
            "\r\n"
            "--rel-boundary\r\n" + html_part + "--rel-boundary\r\n"
            "Content-Type: image/png\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            f"Content-ID: <{content_id}>\r\n"
            'Content-Disposition: inline; filename="captura.png"\r\n'
            "\r\n" + encoded + "--rel-boundary--\r\n"
        )
    return (
        _head(sender, subject, 'Content-Type: multipart/alternative; boundary="alt-boundary"\r\n')
        + "\r\n"
        + "--alt-boundary\r\n"
        + "Content-Type: text/plain; charset=utf-8\r\n"
        + "Content-Transfer-Encoding: 8bit\r\n"
        + "\r\n"
        + _crlf(text)
        + "\r\n"
        + "--alt-boundary\r\n"
        + html_part
        + "--alt-boundary--\r\n"
    ).encode()


def receive(raw: bytes, department: Department | None = None) -> InboundMessage:
    """The pipeline, as the pipe command runs it."""
    return inbound_receive(raw=raw, channel=InboundMessage.Channel.PIPE, department=department)


def received_ticket(raw: bytes, department: Department) -> tuple[Ticket, Message]:
    """The ticket and message a message of an authorized sender became."""
    row = receive(raw, department)
    assert row.outcome in {InboundMessage.Outcome.TICKET, InboundMessage.Outcome.REPLY}, (
        row.outcome,
        row.reason,
    )
    assert row.ticket is not None and row.ticket_message is not None
    return row.ticket, row.ticket_message
