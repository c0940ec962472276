"""E-mail in the console: a message's HTML as the ticket page shows it, and the count of
the quarantine in the console's frame."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from atiende.accounts.models import User
from atiende.core.mailhtml import mail_html
from atiende.mail.inbound.quarantine import inbound_quarantine_list_for_agent
from atiende.tickets.models import Message, Ticket

register = template.Library()


@register.simple_tag
def console_message_html(message: Message, ticket: Ticket) -> SafeString:
    """The message's sanitized HTML, its inline images linked to the console's downloads of
    the message's own files (loaded with the thread: no query here)."""
    urls = {
        str(attachment.public_id): reverse(
            "console:ticket_attachment",
            kwargs={"reference": ticket.reference, "public_id": attachment.public_id},
        )
        for attachment in message.attachments.all()
    }
    return mail_html(message.body_html, urls)


@register.simple_tag
def quarantine_count(user: object) -> int:
    """How many messages wait in the quarantine the agent may handle (two queries at most)."""
    if not isinstance(user, User):
        return 0
    return inbound_quarantine_list_for_agent(agent=user).count()
