"""The MIME parts of an inbound message: which are the text, which are files, what a bounce
reports.

MIME parameters (type, charset, file name, boundary) are read with the string-based compat32
rules, which do not raise, whatever policy parsed the message.
"""

from __future__ import annotations

import email.generator
import email.message
import email.parser
import email.policy
import email.utils
import io
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from atiende.mail.inbound.charsets import bytes_decode, header_decode
from atiende.mail.inbound.headers import (
    Defects,
    first_value,
    message_ids,
    one_line,
    raw_8bit_decoded,
    raw_headers,
)
from atiende.mail.inbound.tnef import tnef_unpack
from atiende.mail.inbound.types import ParsedAttachment

_HTML_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I
)
_BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_COMPAT = email.policy.compat32


def children(part: email.message.Message) -> list[email.message.Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [child for child in payload if isinstance(child, email.message.Message)]
    return []


def walk(message: email.message.Message) -> Iterable[email.message.Message]:
    stack = [message]
    while stack:
        part = stack.pop()
        yield part
        stack.extend(reversed(children(part)))


class MimePart:
    """One MIME entity with its MIME parameters read by the compat32 rules (string-based,
    tolerant), whatever policy parsed it."""

    def __init__(self, part: email.message.Message) -> None:
        self.part = part
        # compat32 turns values with raw 8-bit bytes into U+FFFD: give it text instead.
        self.view = email.message.Message(policy=_COMPAT)
        for name, value in part.raw_items():
            self.view[name] = raw_8bit_decoded(value if isinstance(value, str) else str(value))
        self.view.set_default_type(part.get_default_type())

    @property
    def content_type(self) -> str:
        try:
            return self.view.get_content_type()
        except Exception:
            return "application/octet-stream"

    def param(self, name: str, header: str = "content-type") -> str | None:
        try:
            value = self.view.get_param(name, header=header)
        except Exception:
            return None
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded value)
            charset, _, text = value
            raw = str(text).encode("raw-unicode-escape")
            return bytes_decode(raw, str(charset) if charset else None)[0]
        return email.utils.unquote(value) if isinstance(value, str) else None

    @property
    def disposition(self) -> str | None:
        try:
            return self.view.get_content_disposition()
        except Exception:
            return None

    @property
    def filename(self) -> str | None:
        """The file name (Content-Disposition filename, else Content-Type name), decoded from
        RFC 2231, RFC 2047 (not allowed there, but common) or raw 8-bit; None when absent."""
        name = self.param("filename", "content-disposition")
        if name is None:
            name = self.param("name")
        if name is None:
            return None
        return one_line(header_decode(name, hint=self.charset)) or None

    @property
    def charset(self) -> str | None:
        try:
            return self.view.get_content_charset()
        except Exception:
            return None

    @property
    def content_id(self) -> str | None:
        value = self.view.get("content-id")
        if not isinstance(value, str):
            return None
        cleaned = one_line(header_decode(value)).strip().strip("<>").strip()
        return cleaned[:250] or None

    def payload(self, defects: Defects) -> bytes:
        try:
            data = self.part.get_payload(decode=True)
        except Exception as error:
            defects.add(f"payload: {type(error).__name__}")
            data = None
        if isinstance(data, bytes):
            return data
        payload = self.part.get_payload()
        return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


# --- bodies and attachments ----------------------------------------------------------------
@dataclass
class Found:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    reported_ids: list[str] = field(default_factory=list)
    delivery_status: bool = False
    original_attached: bool = False  # a message/rfc822 or text/rfc822-headers part
    tnef_body: str = ""


def _is_body(part: MimePart) -> bool:
    return (
        part.content_type in {"text/plain", "text/html"}
        and part.disposition != "attachment"
        and part.filename is None
    )


def _text_of(part: MimePart, defects: Defects) -> str:
    data = part.payload(defects)
    declared = part.charset
    if declared is None and part.content_type == "text/html":
        meta = _HTML_CHARSET.search(data[:4096])
        declared = meta.group(1).decode("ascii") if meta else None
    text, note = bytes_decode(data, declared)
    if note:
        defects.add(note)
    # Control characters go; format characters stay (emoji sequences, right-to-left marks).
    return _BODY_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _default_name(content_type: str, number: int) -> str:
    extension = (
        {
            "message/rfc822": ".eml",
            "message/global": ".eml",
            "text/rfc822-headers": ".txt",
            "message/rfc822-headers": ".txt",
            "message/delivery-status": ".txt",
            "message/global-delivery-status": ".txt",
            "text/plain": ".txt",
        }.get(content_type)
        or mimetypes.guess_extension(content_type, strict=False)
        or ".bin"
    )
    return f"adjunto-{number}{extension}"


def _message_bytes(part: email.message.Message) -> bytes:
    """A message/* part as bytes (its sub-message, or header blocks, written back out)."""
    out = io.BytesIO()
    generator = email.generator.BytesGenerator(
        out, mangle_from_=False, policy=_COMPAT.clone(linesep="\r\n")
    )
    for index, child in enumerate(children(part)):
        if index:
            out.write(b"\r\n")
        generator.flatten(child)
    return out.getvalue()


def _reported_id(headers: email.message.Message) -> str | None:
    values = [
        value if isinstance(value, str) else str(value)
        for name, value in headers.raw_items()
        if name.lower() == "message-id"
    ]
    ids = message_ids(values)
    return ids[0] if ids else None


def _attach(found: Found, part: MimePart, data: bytes, defects: Defects) -> None:
    content_type = part.content_type
    filename = part.filename
    if content_type in _TNEF_TYPES or (filename or "").lower() == "winmail.dat":
        contents = tnef_unpack(data)
        if contents is not None and contents.files:
            for name, content in contents.files:
                found.attachments.append(
                    ParsedAttachment(
                        filename=one_line(name)
                        or _default_name("application/octet-stream", len(found.attachments) + 1),
                        data=content,
                        declared_type="application/octet-stream",
                    )
                )
            found.tnef_body = found.tnef_body or contents.body
            return
        defects.add("winmail.dat kept packed")
    found.attachments.append(
        ParsedAttachment(
            filename=filename or _default_name(content_type, len(found.attachments) + 1),
            data=data,
            declared_type=content_type,
            content_id=part.content_id,
        )
    )


def parts_collect(message: email.message.Message, defects: Defects) -> Found:
    found = Found()
    stack: list[email.message.Message] = [message]
    while stack:
        part = MimePart(stack.pop())
        content_type = part.content_type
        subparts = children(part.part)
        if content_type == "multipart/report":
            found.delivery_status |= (part.param("report-type") or "").lower() == "delivery-status"
        if content_type == "multipart/alternative" and subparts:
            stack.extend(reversed(_alternatives(subparts)))
        elif content_type.startswith("multipart/") and subparts:
            stack.extend(reversed(subparts))
        elif content_type.startswith("message/") and part.part.is_multipart():
            _message_part(found, part, subparts, defects)
        elif _is_body(part):
            text = _text_of(part, defects)
            (found.html if content_type == "text/html" else found.plain).append(text)
        elif content_type.startswith("multipart/"):
            # No boundary found: the stdlib keeps the body as text, and so do we.
            found.plain.append(_text_of(part, defects))
        else:
            if content_type in {"text/rfc822-headers", "message/rfc822-headers"}:
                found.original_attached = True
                headers = email.parser.BytesHeaderParser(policy=_COMPAT).parsebytes(
                    part.payload(defects)
                )
                reported = _reported_id(headers)
                if reported:
                    found.reported_ids.append(reported)
            _attach(found, part, part.payload(defects), defects)
    return found


def _alternatives(options: list[email.message.Message]) -> list[email.message.Message]:
    """Of the alternatives, the last plain text and the last HTML (or structure holding it),
    and whatever is a named file; the rest says the same thing again."""
    chosen: dict[str, email.message.Message] = {}
    files: list[email.message.Message] = []
    for child in options:
        view = MimePart(child)
        kind = view.content_type
        if kind.startswith("multipart/"):
            chosen["html"] = child
        elif kind in {"text/plain", "text/html"} and _is_body(view):
            chosen["html" if kind == "text/html" else "plain"] = child
        elif view.filename is not None or view.disposition == "attachment":
            files.append(child)
    ordered = [chosen[key] for key in ("plain", "html") if key in chosen]
    return ordered + files


def _message_part(
    found: Found, part: MimePart, inside: list[email.message.Message], defects: Defects
) -> None:
    content_type = part.content_type
    if content_type in {"message/delivery-status", "message/global-delivery-status"}:
        found.delivery_status = True
    elif inside:
        found.original_attached = True
        reported = _reported_id(inside[0])
        if reported:
            found.reported_ids.append(reported)
    try:
        data = _message_bytes(part.part)
    except Exception as error:
        defects.add(f"attached message not written back: {type(error).__name__}")
        data = b""
    filename = part.filename
    if filename is None and content_type in {"message/rfc822", "message/global"} and inside:
        subject = first_value(raw_headers(inside[0]), "subject")
        stem = one_line(header_decode(subject))[:120] if subject else ""
        stem = stem.replace("/", "-").replace("\\", "-")  # a name, not a path
        filename = f"{stem}.eml" if stem else None
    found.attachments.append(
        ParsedAttachment(
            filename=filename or _default_name(content_type, len(found.attachments) + 1),
            data=data,
            declared_type=content_type,
            content_id=part.content_id,
        )
    )
