"""One composer for every message we send: three template files per message.

`mail/<name>.subject.txt`, `mail/<name>.txt` and `mail/<name>.html`, rendered in the
recipient's language. The ticket ID goes in the subject as `[#ID]`, and every message gets a
Message-ID of our own domain so that replies can be threaded back to their ticket.
"""

from __future__ import annotations

import uuid
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


def message_id_new() -> str:
    return f"<{uuid.uuid4().hex}@{settings.ATIENDE_MAIL_DOMAIN}>"


def compose(
    *, template: str, language: str, context: dict[str, Any], reference: str | None = None
) -> Composed:
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        raw_subject = render_to_string(f"mail/{template}.subject.txt", context)
        body_text = render_to_string(f"mail/{template}.txt", context)
        body_html = render_to_string(f"mail/{template}.html", context)
    # A subject is one header line: no CR/LF may reach it, whatever the user typed.
    subject = " ".join(strip_control(raw_subject).split())
    if reference:
        subject = f"[#{reference}] {subject}"
    headers = {"Auto-Submitted": "auto-generated"}
    if reference:
        # Every mail of a ticket points at one root, so mail clients keep them in one thread
        # and a reply names the ticket in In-Reply-To/References as well as in the subject.
        root = ticket_thread_root(reference)
        headers.update({"In-Reply-To": root, "References": root, "X-Atiende-Ticket": reference})
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
