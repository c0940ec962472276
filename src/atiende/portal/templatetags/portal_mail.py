"""A message of the thread as the portal shows it when it came by e-mail as HTML."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from atiende.core.mailhtml import mail_html
from atiende.tickets.models import Message, Ticket

register = template.Library()


@register.simple_tag
def portal_message_html(message: Message, ticket: Ticket) -> SafeString:
    """The message's sanitized HTML, its inline images linked to the portal's downloads of
    the message's own files (loaded with the thread: no query here)."""
    urls = {
        str(attachment.public_id): reverse(
            "portal:attachment_download",
            kwargs={"reference": ticket.reference, "public_id": attachment.public_id},
        )
        for attachment in message.attachments.all()
    }
    return mail_html(message.body_html, urls)
