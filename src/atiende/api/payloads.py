"""Plain-data views of tickets, messages and events, shared by the API and webhooks.

A webhook's `data` and the API's answers are built by these same functions, so an
integration reads one shape whether it is told of a change or asks for it. They read only
what the caller already fetched (select_related / prefetch_related), never query per row on
their own beyond that.
"""

from __future__ import annotations

from typing import Any

from atiende.accounts.models import User
from atiende.tickets.models import Attachment, Event, Message, Ticket


def _email(user: User | None) -> str | None:
    return user.email if user is not None else None


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    """The ticket without its thread. Needs department, customer, account, service and
    assignee fetched with it."""
    return {
        "id": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "department": ticket.department.slug,
        "customer": {
            "id": str(ticket.account.public_id),
            "name": ticket.account.name,
            "email": ticket.customer.email,
        },
        "service": (
            {
                "external_id": ticket.service.external_id or None,
                "kind": ticket.service.kind,
                "name": ticket.service.name,
            }
            if ticket.service is not None
            else None
        ),
        "assignee": _email(ticket.assignee),
        "channel": ticket.channel,
        "created_at": ticket.created_at,
        "updated_at": ticket.changed_at,
        "last_message_at": ticket.updated_at,
        "status_changed_at": ticket.status_changed_at,
        "auto_close_at": ticket.auto_close_at,
    }


def attachment_data(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": str(attachment.public_id),
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
    }


def message_data(message: Message) -> dict[str, Any]:
    """One message of the thread. Needs author fetched and attachments prefetched."""
    return {
        "id": str(message.public_id),
        "internal": message.is_internal,
        "author": {
            "kind": message.author_kind,
            "name": message.author.display_name if message.author else "",
            "email": _email(message.author),
        },
        "body": message.body,
        "channel": message.channel,
        "created_at": message.created_at,
        "attachments": [attachment_data(a) for a in message.attachments.all()],
    }


def event_data(event: Event) -> dict[str, Any]:
    """What happened, without the ticket. Needs actor fetched."""
    return {
        "kind": event.kind,
        "action": event.action or None,
        "actor": {
            "kind": event.actor_kind,
            "email": _email(event.actor),
        },
        "old_status": event.old_status or None,
        "new_status": event.new_status or None,
        "reason": event.reason,
        "data": event.data,
        "created_at": event.created_at,
    }
