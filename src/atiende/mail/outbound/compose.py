"""One composer for every message we send: three template files per message.

`mail/<name>.subject.txt`, `mail/<name>.txt` and `mail/<name>.html`, rendered in the
recipient's language. The ticket ID goes in the subject as `[#ID]`, and every message gets a
Message-ID of our own domain so that replies can be threaded back to their ticket.

Threading: every mail of a ticket names the ticket's thread root first in References, then
the Message-IDs of the conversation so far (`thread`, oldest first); In-Reply-To is the latest
of them. A mail client's *Reply* therefore names the ticket even when the subject was changed.
Every value that reaches a header is one line: the subject is stripped of control characters,
anything else (Reply-To, Message-IDs) is refused or skipped when it carries one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from atiende.core.text import strip_control


@dataclass
class Composed:
    subject: str
    body_text: str
    body_html: str
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)


# How many Message-IDs of the conversation References carries after the root: enough for any
# client to thread, short enough for any server's line limits.
REFERENCES_KEPT = 20
# A Message-ID as it may appear in our headers: one <...> token, no spaces, no controls.
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")
# Auto-Submitted values (RFC 3834) we send: notifications, and answers to a received message.
AUTO_SUBMITTED = frozenset({"auto-generated", "auto-replied"})


def message_id_new() -> str:
    return f"<{uuid.uuid4().hex}@{settings.ATIENDE_MAIL_DOMAIN}>"


def header_address_check(address: str) -> str:
    """`address` when it is one bare addr-spec fit for a header, else ValueError.

    A CR or LF would start a header of the sender's choosing (a "Bcc:" line); a comma, an
    angle bracket or a space would turn one address into several.
    """
    if (
        not address
        or address.count("@") != 1
        or any(char in address for char in ',;<>"')
        or any(char.isspace() or not char.isprintable() for char in address)
    ):
        raise ValueError(f"not a single e-mail address fit for a header: {address!r}")
    return address


def message_ids_clean(message_ids: Sequence[str]) -> list[str]:
    """The well-formed Message-IDs of `message_ids`, in order, each once; others are dropped
    (they come from received mail and must never carry a line break into our headers)."""
    seen: set[str] = set()
    kept: list[str] = []
    for message_id in message_ids:
        candidate = (message_id or "").strip()
        if _MESSAGE_ID.fullmatch(candidate) and candidate not in seen:
            seen.add(candidate)
            kept.append(candidate)
    return kept


def compose(
    *,
    template: str,
    language: str,
    context: dict[str, Any],
    reference: str | None = None,
    thread: Sequence[str] = (),
    reply_to: str | None = None,
    auto_submitted: str = "auto-generated",
) -> Composed:
    """Render the three files of `template` and the headers of the message.

    `thread`: Message-IDs of the conversation this mail continues, oldest first (ours and
    received). `reply_to`: where a reply should go (a department's address). `auto_submitted`:
    "auto-generated" for notifications, "auto-replied" for an answer to a received message.
    Raises ValueError for a `reply_to` or `auto_submitted` that cannot be a header value.
    """
    if auto_submitted not in AUTO_SUBMITTED:
        raise ValueError(f"Auto-Submitted must be one of {sorted(AUTO_SUBMITTED)}")
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        raw_subject = render_to_string(f"mail/{template}.subject.txt", context)
        body_text = render_to_string(f"mail/{template}.txt", context)
        body_html = render_to_string(f"mail/{template}.html", context)
    # A subject is one header line: no CR/LF may reach it, whatever the user typed.
    subject = " ".join(strip_control(raw_subject).split())
    if reference:
        subject = f"[#{reference}] {subject}"
    headers = {"Auto-Submitted": auto_submitted}
    earlier = message_ids_clean(thread)[-REFERENCES_KEPT:]
    if reference:
        # Every mail of a ticket points at one root, so mail clients keep them in one thread
        # and a reply names the ticket in In-Reply-To/References as well as in the subject.
        root = ticket_thread_root(reference)
        chain = [root, *(message_id for message_id in earlier if message_id != root)]
        headers.update(
            {
                "In-Reply-To": chain[-1],
                "References": " ".join(chain),
                "X-Atiende-Ticket": reference,
            }
        )
    elif earlier:
        headers.update({"In-Reply-To": earlier[-1], "References": " ".join(earlier)})
    if reply_to:
        headers["Reply-To"] = header_address_check(reply_to)
    return Composed(
        subject=subject[:300],
        body_text=body_text.strip() + "\n",
        body_html=body_html,
        message_id=message_id_new(),
        headers=headers,
    )


def ticket_thread_root(reference: str) -> str:
    """The Message-ID every mail of a ticket refers to (the ticket itself, as a thread)."""
    return f"<ticket.{reference.lower()}@{settings.ATIENDE_MAIL_DOMAIN}>"
