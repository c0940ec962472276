"""What the stages of the inbound pipeline hand each other.

    raw bytes --store--> InboundMessage row (raw kept, dedupe by sha256)
              --parse--> ParsedMessage (or MessageRejected: quarantine with the reason)
              --guard--> GuardVerdict (auto-reply, bounce, loop, rate, DMARC)
              --thread-> the ticket it answers, if any
              --authorize-> the account and user it may act for, if any
              --ingest--> tickets.services (ticket_open / ticket_reply) or quarantine

Every stage is a small function of its inputs; only `ingest` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Limits:
    """What one message may be before it goes to quarantine unparsed (configurable)."""

    max_bytes: int = 30 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 10
    max_header_bytes: int = 256 * 1024


class MessageRejected(Exception):
    """The message cannot be taken as it is (too large, too deep, unparseable); `reason` says
    why, for the quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str  # decoded, cleaned later by tickets.attachments
    data: bytes
    declared_type: str  # what the sender said: informational only, never trusted
    content_id: str | None = None  # "<...>" stripped; for inline images (cid:)
    inline: bool = False


@dataclass(frozen=True)
class AuthResult:
    """One Authentication-Results verdict written by OUR receiving server."""

    method: str  # "dmarc", "spf", "dkim"
    result: str  # "pass", "fail", "none", ...
    header_from: str = ""  # the domain it was evaluated for (dmarc)


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str  # "<...@...>" as sent, or "" when absent
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_address: str  # the addr-spec of From, lower-cased; "" when none could be read
    from_name: str  # display name: shown, never used for identity
    return_path: str | None  # None: no header; "": the null sender <>
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str  # decoded, one line, no control characters
    date: datetime | None
    # Decoded headers for display and for the guard, in order; our own X-Atiende-* headers
    # and Authentication-Results from anyone but our server are already dropped here.
    headers: tuple[tuple[str, str], ...]
    text: str  # the new text a person wants to read (plain, or derived from the HTML)
    quoted: str  # the quoted history folded away from `text` ("" when none)
    html: str  # sanitized HTML of an HTML message ("" for plain text); cid: links kept
    attachments: tuple[ParsedAttachment, ...]
    auth_results: tuple[AuthResult, ...] = ()
    is_delivery_report: bool = False  # multipart/report; delivery-status
    reported_message_ids: tuple[str, ...] = ()  # Message-IDs named inside a bounce
    defects: tuple[str, ...] = field(default_factory=tuple)

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), or None."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)
