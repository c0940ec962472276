"""What the tests of the inbound pipeline share: messages as a mail server hands them over
(`eml`), parsed messages built directly for the pure stages (`parsed_message`), and the
pipeline's entry point as the pipe command calls it (`receive`)."""

from __future__ import annotations

import email.policy
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from atiende.accounts.models import Department
from atiende.core.clock import now
from atiende.mail.inbound.ingest import inbound_receive
from atiende.mail.inbound.types import AuthResult, ParsedAttachment, ParsedMessage
from atiende.mail.models import InboundMessage

# The authserv-id our receiving server writes in Authentication-Results (set by the tests).
AUTHSERV_ID = "mx.atiende.test"
CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "email"
REPORTS = CORPUS / "mikel-mail" / "multipart_report_emails"

_counter = itertools.count(1)


def message_id_new(domain: str = "mail.example.com") -> str:
    return f"<test.{next(_counter)}.{now().timestamp():.6f}@{domain}>"


def eml(
    *,
    sender: str = "Ana Torres <ana@example.com>",
    to: str = "soporte@atiende.test",
    subject: str = "Mi sitio no carga",
    body: str = "Desde ayer el sitio muestra un error 500.",
    html: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    dmarc: str | None = "pass",
    headers: Iterable[tuple[str, str]] = (),
    attachments: Iterable[tuple[str, bytes, str]] = (),
    inline: Iterable[tuple[str, bytes, str]] = (),
) -> bytes:
    """A message as our mail server hands it over, CRLF line ends.

    `dmarc`: the verdict our server wrote for the From domain ("pass", "fail"; None: none).
    `attachments`: (file name, bytes, type). `inline`: (Content-ID, bytes, image type), shown
    by `html` as <img src="cid:...">.
    """
    message = EmailMessage(policy=email.policy.SMTP)
    domain = sender.rpartition("@")[2].rstrip(">").lower()
    if dmarc is not None:
        message["Authentication-Results"] = (
            f"{AUTHSERV_ID}; spf=pass smtp.mailfrom={domain}; dmarc={dmarc} header.from={domain}"
        )
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now())
    message["Message-ID"] = message_id or message_id_new()
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for name, value in headers:
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
        html_part = message.get_payload()[-1]
        for content_id, data, kind in inline:
            maintype, subtype = kind.split("/")
            html_part.add_related(data, maintype, subtype, cid=f"<{content_id}>")
    for filename, data, kind in attachments:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def parsed_message(**overrides: Any) -> ParsedMessage:
    """A parsed message as `message_parse` would hand it over: Ana writes, DMARC passed."""
    base = ParsedMessage(
        message_id=message_id_new(),
        in_reply_to=(),
        references=(),
        from_address="ana@example.com",
        from_name="Ana Torres",
        return_path="ana@example.com",
        to=("soporte@atiende.test",),
        cc=(),
        subject="Mi sitio no carga",
        date=now(),
        headers=(("From", "Ana Torres <ana@example.com>"), ("Subject", "Mi sitio no carga")),
        text="Desde ayer el sitio muestra un error 500.",
        quoted="",
        html="",
        attachments=(),
        auth_results=(AuthResult(method="dmarc", result="pass", header_from="example.com"),),
    )
    return replace(base, **overrides)


def with_headers(parsed: ParsedMessage, *headers: tuple[str, str]) -> ParsedMessage:
    return replace(parsed, headers=(*parsed.headers, *headers))


def attachment(name: str, data: bytes, kind: str = "application/pdf") -> ParsedAttachment:
    return ParsedAttachment(filename=name, data=data, declared_type=kind)


def receive(raw: bytes, department: Department | None = None) -> InboundMessage:
    """The pipeline as the pipe command runs it."""
    return inbound_receive(raw=raw, channel=InboundMessage.Channel.PIPE, department=department)


def report_naming(message_id: str, corpus_file: str = "report_530.eml") -> bytes:
    """A real delivery status notification (from the corpus) reporting `message_id`."""
    raw = (REPORTS / corpus_file).read_bytes()
    return raw.replace(b"<200712232303.lBNN3jDq002941@mail12.rrrr.com.au>", message_id.encode())
