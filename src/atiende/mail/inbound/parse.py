"""The parse stage: raw bytes of one message to a `ParsedMessage`, or `MessageRejected`.

Pure functions, no database. `message_parse` is the only entry point; it raises nothing but
`MessageRejected` (any unexpected error becomes one, logged, so the message goes to quarantine
instead of stalling the pipeline).

Hostile input is the normal case here:

- the limits are checked before parsing, in bounded time and memory (scan.py);
- the stdlib parser (`policy.default`; compat32 rules when it fails or misses a boundary)
  reads the structure; header values are decoded from their raw form (headers.py,
  charsets.py), MIME parameters with the string-based compat32 rules (parts.py);
- identity comes from the From addr-spec only, parsed strictly: never from Reply-To, Sender or
  a display name; several From headers or several addresses give no identity at all;
- our own X-Atiende-* headers and Authentication-Results written by anyone but our server are
  dropped from what is shown and never believed.

What the fields hold:

- `text`: the new text. The text/plain part as written when there is one (line endings made
  LF, control characters dropped), else derived from the HTML; `quoted`: the history folded
  away from it (quotes.py), as text;
- `html`: the sanitized HTML of the new part only (the history is in `quoted`, and the raw
  message keeps the original); "" when the message has no HTML part;
- `attachments`: every part that is not the body, in order; an attached message is one .eml
  file; winmail.dat is replaced by the files inside it; a part whose Content-ID the HTML
  refers to (`cid:`) has `inline=True`; names are decoded (RFC 2231, RFC 2047, raw 8-bit),
  one line, without control characters, not otherwise cleaned; unnamed parts get
  "adjunto-N.<ext>";
- `is_delivery_report`: multipart/report with report-type=delivery-status, any
  message/delivery-status part, or mail from MAILER-DAEMON or postmaster carrying the original
  message (or its headers); then `reported_message_ids` are the Message-IDs found there.
"""

from __future__ import annotations

import email.errors
import email.message
import email.parser
import email.policy
import logging
from dataclasses import dataclass

from atiende.mail.inbound.charsets import codec_for, header_decode
from atiende.mail.inbound.headers import (
    Defects,
    address_list,
    all_values,
    collect_defects,
    date_read,
    first_value,
    headers_shown,
    is_bounce_sender,
    message_id,
    message_ids,
    one_line,
    raw_headers,
    return_path_read,
    sender_read,
)
from atiende.mail.inbound.parts import Found, MimePart, children, parts_collect, walk
from atiende.mail.inbound.quotes import text_split_quoted
from atiende.mail.inbound.sanitize import RenderedHtml, html_render
from atiende.mail.inbound.scan import structure_check
from atiende.mail.inbound.types import (
    Limits,
    MessageRejected,
    ParsedAttachment,
    ParsedMessage,
)

logger = logging.getLogger(__name__)

_MAX_SUBJECT = 998  # one header line (RFC 5322)
_DEFAULT_POLICY = email.policy.default
_COMPAT = email.policy.compat32


def message_parse(raw: bytes, *, limits: Limits, authserv_id: str) -> ParsedMessage:
    """Parse one message as received (the caller keeps `raw`: the full original).

    `authserv_id` is our receiving server's authserv-id: only Authentication-Results headers
    carrying it are believed (none when it is ""). Raises MessageRejected, with a reason for
    the quarantine, when the message is over `limits` or cannot be read at all.
    """
    structure_check(raw, limits)
    try:
        return _parse(raw, limits=limits, authserv_id=authserv_id)
    except MessageRejected:
        raise
    except RecursionError:
        raise MessageRejected("MIME structure too deeply nested") from None
    except Exception as error:
        logger.exception("inbound message could not be parsed")
        raise MessageRejected(f"message could not be parsed ({type(error).__name__})") from None


_BOUNDARY_DEFECTS = (
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.NoBoundaryInMultipartDefect,
)


def _message_from_bytes(raw: bytes, defects: Defects) -> email.message.Message:
    """The stdlib's parse with `policy.default`; with compat32 rules when that fails, or when
    it missed a boundary that the older rules read (an unquoted boundary with "=" in it)."""
    try:
        message = email.parser.BytesParser(policy=_DEFAULT_POLICY).parsebytes(raw)
    except RecursionError:
        raise
    except Exception as error:
        defects.add(f"parser: {type(error).__name__}; read with compat32 rules")
        return email.parser.BytesParser(policy=_COMPAT).parsebytes(raw)
    if any(
        isinstance(defect, _BOUNDARY_DEFECTS) for part in walk(message) for defect in part.defects
    ):
        older = email.parser.BytesParser(policy=_COMPAT).parsebytes(raw)
        if sum(1 for _ in walk(older)) > sum(1 for _ in walk(message)):
            defects.add("MIME structure read with compat32 rules")
            return older
    return message


def _limits_recheck(message: email.message.Message, limits: Limits) -> None:
    """The stdlib parser's own count, in case it saw more than the scan did."""
    count = 0
    stack = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        count += 1
        if count > limits.max_parts:
            raise MessageRejected(f"more than {limits.max_parts} MIME parts")
        if depth > limits.max_depth:
            raise MessageRejected(f"MIME parts nested deeper than {limits.max_depth} levels")
        stack.extend((child, depth + 1) for child in children(part))


# --- the whole message ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Body:
    text: str
    quoted: str
    html: str
    content_ids: frozenset[str]


def _body(found: Found) -> _Body:
    plain = "\n".join(found.plain)
    rendered: RenderedHtml | None = html_render("\n".join(found.html)) if found.html else None
    if not plain.strip() and rendered is None and found.tnef_body.strip():
        plain = found.tnef_body
    if plain.strip() or rendered is None:
        text, quoted = text_split_quoted(plain)
    else:
        text, quoted = rendered.text, rendered.quoted
    if rendered is None:
        return _Body(text=text, quoted=quoted, html="", content_ids=frozenset())
    return _Body(text=text, quoted=quoted, html=rendered.html, content_ids=rendered.content_ids)


def _parse(raw: bytes, *, limits: Limits, authserv_id: str) -> ParsedMessage:
    defects = Defects()
    message = _message_from_bytes(raw, defects)
    _limits_recheck(message, limits)
    collect_defects(defects, walk(message))
    headers = raw_headers(message)
    # Raw 8-bit header bytes are most likely in the charset the body declares.
    hint = next(
        (codec for part in walk(message) if (codec := codec_for(MimePart(part).charset))), None
    )
    shown, auth_results = headers_shown(
        headers, authserv_id=authserv_id, hint=hint, defects=defects
    )
    from_values = all_values(headers, "from")
    from_address, from_name = sender_read(from_values, defects)
    subject_value = first_value(headers, "subject")
    subject = one_line(header_decode(subject_value, hint=hint)) if subject_value else ""
    if len(subject) > _MAX_SUBJECT:
        defects.add("Subject cut to one line's length")
        subject = subject[:_MAX_SUBJECT]

    found = parts_collect(message, defects)
    body = _body(found)
    attachments = tuple(
        ParsedAttachment(
            filename=attachment.filename,
            data=attachment.data,
            declared_type=attachment.declared_type,
            content_id=attachment.content_id,
            inline=attachment.content_id is not None and attachment.content_id in body.content_ids,
        )
        for attachment in found.attachments
    )
    is_report = found.delivery_status or (found.original_attached and is_bounce_sender(from_values))
    return ParsedMessage(
        message_id=message_id(first_value(headers, "message-id")),
        in_reply_to=message_ids(all_values(headers, "in-reply-to")),
        references=message_ids(all_values(headers, "references")),
        from_address=from_address,
        from_name=from_name,
        return_path=return_path_read(first_value(headers, "return-path")),
        to=address_list("to", all_values(headers, "to")),
        cc=address_list("cc", all_values(headers, "cc")),
        subject=subject,
        date=date_read(first_value(headers, "date"), defects),
        headers=shown,
        text=body.text,
        quoted=body.quoted,
        html=body.html,
        attachments=attachments,
        auth_results=auth_results,
        is_delivery_report=is_report,
        reported_message_ids=tuple(dict.fromkeys(found.reported_ids)) if is_report else (),
        defects=tuple(defects.items),
    )
