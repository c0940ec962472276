"""Helpers of the inbound parse tests: messages written as text, parsed with our server's id."""

from __future__ import annotations

import textwrap
from pathlib import Path

from atiende.mail.inbound.parse import message_parse
from atiende.mail.inbound.types import Limits, ParsedMessage

AUTHSERV_ID = "mx.atiende.test"
# tests/mail/inbound/support.py -> the repository root is parents[3]; shared/ sits beside it.
CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "email"


def mail(headers: str, body: str = "Hola.\n", *, encoding: str = "utf-8") -> bytes:
    """A message written in a test: its headers dedented, CRLF line endings, encoded."""
    head = textwrap.dedent(headers).strip("\n")
    return f"{head}\n\n{body}".replace("\n", "\r\n").encode(encoding)


def parse(
    raw: bytes, *, limits: Limits | None = None, authserv_id: str = AUTHSERV_ID
) -> ParsedMessage:
    return message_parse(raw, limits=limits or Limits(), authserv_id=authserv_id)
