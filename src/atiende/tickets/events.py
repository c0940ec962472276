"""The one place that records what happened to a ticket.

Every service that changes a ticket calls `event_record()` in its transaction; the event row
is what the console's history, the API's events feed and the webhooks read. Recording an
event also writes the webhook deliveries it causes, in that same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from atiende.accounts.models import User
from atiende.tickets.models import Event, Message, Ticket
from atiende.webhooks.services import webhook_enqueue


def event_record(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None,
    actor_kind: str,
    action: str = "",
    old_status: str = "",
    new_status: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> Event:
    """Record one event of `ticket` and queue its webhook deliveries; returns the event.

    Runs in the caller's transaction, the one that made the change and holds the ticket's
    lock (alone, it opens one): the event and its deliveries commit with the change or not
    at all. `ticket` must already show the change, since the deliveries carry the ticket
    as it is now. Not idempotent: each call is one more event.
    """
    fields: dict[str, Any] = {
        "ticket": ticket,
        "kind": kind,
        "action": action,
        "actor": actor,
        "actor_kind": actor_kind,
        "old_status": old_status,
        "new_status": new_status,
        "reason": reason,
        "data": data if data is not None else {},
    }
    if created_at is not None:
        fields["created_at"] = created_at
    # No savepoint: inside the caller's transaction this adds no query, and an error here
    # rolls back the whole change anyway.
    with transaction.atomic(savepoint=False):
        event = Event.objects.create(**fields)
        # The ticket changed now, whatever the change: what `updated_since` of the API reads.
        Ticket.objects.filter(pk=ticket.pk).update(changed_at=event.created_at)
        ticket.changed_at = event.created_at
        webhook_enqueue(event=event)
    return event


def event_record_message(*, ticket: Ticket, message: Message, actor_kind: str) -> Event:
    """Record that `message` (a public reply or an internal note) was added to the locked
    `ticket`: the API's events feed and the webhooks hear of every change, messages
    included. The console's history shows the message itself, not this event."""
    return event_record(
        ticket=ticket,
        kind=Event.Kind.MESSAGE,
        actor=message.author,
        actor_kind=actor_kind,
        data={"message": str(message.public_id), "internal": message.is_internal},
        created_at=message.created_at,
    )
