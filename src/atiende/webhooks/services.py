"""Every write about webhooks: endpoints (administrators), and the deliveries an event causes.

`webhook_enqueue()` is called by `atiende.tickets.events.event_record()` for every event, in
the transaction that records it: the deliveries commit with the change or not at all, like
the mail it causes. They are rows of the mail outbox (`kind="webhook"`), delivered by the
same worker (`atiende.mail.outbound.outbox`, `atiende.webhooks.delivery`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from atiende.accounts.models import User
from atiende.api.payloads import event_data, message_data, ticket_data
from atiende.core.errors import DomainError
from atiende.core.text import strip_control
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import outbox_kick_after_commit
from atiende.tickets.models import Attachment, Event, Message
from atiende.webhooks.models import WebhookEndpoint, WebhookEvent, webhook_secret_generate

URL_MAX = 2000
DESCRIPTION_MAX = 200
# The `template` of every delivery row (its `subject` is the event type).
DELIVERY_TEMPLATE = "webhook"

_TYPE_OF_KIND = {
    Event.Kind.CREATED: WebhookEvent.TICKET_CREATED,
    Event.Kind.STATUS: WebhookEvent.TICKET_STATUS_CHANGED,
    Event.Kind.ASSIGNED: WebhookEvent.TICKET_ASSIGNED,
    Event.Kind.MOVED: WebhookEvent.TICKET_MOVED,
}
_url_validator = URLValidator(schemes=["http", "https"])


# --- endpoints --------------------------------------------------------------------------


def webhook_url_clean(url: str) -> str:
    """The URL as stored, or DomainError(field="url"): http or https, no credentials."""
    cleaned = (url or "").strip()
    if not cleaned:
        raise DomainError(_("Enter the URL that receives the events."), field="url")
    if len(cleaned) > URL_MAX:
        raise DomainError(
            _("The URL can have at most %(max)d characters.") % {"max": URL_MAX}, field="url"
        )
    if strip_control(cleaned) != cleaned or any(char.isspace() for char in cleaned):
        # NUL, line breaks, bidi marks: never part of a URL we would POST to (and PostgreSQL
        # refuses a NUL outright).
        raise DomainError(_("Enter a valid URL."), field="url")
    parts = urlsplit(cleaned)
    if parts.scheme.lower() not in {"http", "https"}:
        raise DomainError(_("The URL must start with http:// or https://."), field="url")
    if "@" in parts.netloc:
        # It would sit in plain text in the admin and in logs; the signature proves the
        # sender instead.
        raise DomainError(
            _(
                "Do not put a user name or password in the URL: the receiver checks the "
                "signature of each delivery instead."
            ),
            field="url",
        )
    try:
        _url_validator(cleaned)
    except ValidationError:
        raise DomainError(_("Enter a valid URL."), field="url") from None
    return cleaned


def webhook_event_types_clean(event_types: Iterable[str]) -> list[str]:
    """The event types in their canonical order, or DomainError(field="event_types")."""
    chosen = {str(value) for value in event_types or ()}
    unknown = sorted(chosen - set(WebhookEvent.values))
    if unknown:
        raise DomainError(
            _("Unknown event type: %(types)s.") % {"types": ", ".join(unknown)},
            field="event_types",
        )
    if not chosen:
        raise DomainError(_("Choose at least one event."), field="event_types")
    return [value for value in WebhookEvent.values if value in chosen]


def _description_clean(description: str) -> str:
    # Split on whitespace first: a line break must separate words, not vanish with the controls.
    cleaned = " ".join(strip_control(" ".join((description or "").split())).split())
    if len(cleaned) > DESCRIPTION_MAX:
        raise DomainError(
            _("The description can have at most %(max)d characters.") % {"max": DESCRIPTION_MAX},
            field="description",
        )
    return cleaned


def webhook_endpoint_create(
    *, url: str, event_types: Iterable[str], description: str, created_by: User | None
) -> WebhookEndpoint:
    """Register an endpoint, active, with a new secret. It receives the events recorded
    after its creation commits, never earlier ones."""
    return WebhookEndpoint.objects.create(
        url=webhook_url_clean(url),
        event_types=webhook_event_types_clean(event_types),
        description=_description_clean(description),
        created_by=created_by,
    )


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given (None leaves a field as it is); writes only those columns.

    Deliveries already queued keep their event and body but go to the URL the endpoint has
    when they are sent. An inactive endpoint receives no new deliveries; the ones it had
    queued fail at their turn (visibly, and may be sent again once it is active).
    """
    changed: list[str] = []
    if url is not None:
        endpoint.url = webhook_url_clean(url)
        changed.append("url")
    if event_types is not None:
        endpoint.event_types = webhook_event_types_clean(event_types)
        changed.append("event_types")
    if description is not None:
        endpoint.description = _description_clean(description)
        changed.append("description")
    if is_active is not None:
        endpoint.is_active = is_active
        changed.append("is_active")
    if changed:
        endpoint.save(update_fields=changed)
    return endpoint


def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new secret. Every attempt from now on is signed with it, those
    of deliveries queued before included (the signature is made at each attempt)."""
    endpoint.secret = webhook_secret_generate()
    endpoint.save(update_fields=["secret"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> int:
    """Delete the endpoint and drop its queued deliveries; returns how many were dropped.

    The endpoint row goes for good, and with it its secret and URL (a URL may carry a token
    of the receiver's): nothing is left that could sign or send. Deliveries already sent or
    failed stay in the outbox with `endpoint` NULL, as the record of what was sent and
    answered, like mail; they cannot be sent again. A soft delete would have kept the
    secret, and asked every query of endpoints to remember a second "inactive" state.

    Locks the endpoint row first: a transaction that is writing a delivery to it finishes
    before (its row is then dropped or kept here), and none can start after.
    """
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        dropped, _by_model = OutboxMessage.objects.filter(
            endpoint=locked, status=OutboxMessage.Status.QUEUED
        ).delete()
        locked.delete()
    return dropped


# --- deliveries -------------------------------------------------------------------------


def webhook_event_type(event: Event) -> str | None:
    """The webhook event type of a ticket event, or None for one no endpoint can receive."""
    if event.kind == Event.Kind.MESSAGE:
        internal = isinstance(event.data, dict) and bool(event.data.get("internal"))
        return WebhookEvent.TICKET_NOTE_ADDED if internal else WebhookEvent.TICKET_REPLIED
    kind = _TYPE_OF_KIND.get(Event.Kind(event.kind))
    return str(kind) if kind is not None else None


def _payload_message(event: Event) -> Message | None:
    """The message an event is about: the one it added, or a new ticket's first message."""
    messages = Message.objects.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if event.kind == Event.Kind.MESSAGE:
        return messages.filter(public_id=event.data.get("message")).first()
    if event.kind == Event.Kind.CREATED:
        return messages.filter(ticket_id=event.ticket_id).order_by("created_at", "id").first()
    return None


def webhook_payload_data(event: Event) -> dict[str, Any]:
    """The `data` of a delivery: the ticket as it is after the event, the event, and the
    message it is about (absent for events without one)."""
    data: dict[str, Any] = {"ticket": ticket_data(event.ticket), "event": event_data(event)}
    message = _payload_message(event)
    if message is not None:
        data["message"] = message_data(message)
    return data


def webhook_body(*, delivery_id: uuid.UUID, event_type: str, event: Event, data: Any) -> str:
    """The JSON body of one delivery, exactly as it is signed and sent."""
    return json.dumps(
        {
            "id": str(delivery_id),
            "type": event_type,
            "created_at": event.created_at,
            "data": data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def webhook_enqueue(*, event: Event) -> int:
    """Write one delivery to the outbox for each active endpoint subscribed to the event's
    type; returns how many. Runs in the caller's transaction (the one recording `event`).

    Costs one query when no endpoint is subscribed. The body is built here, once and for
    all: it says what the ticket was right after the event, whenever it is delivered, and
    `Atiende-Delivery` (the row's `message_id`) stays the same across retries so that the
    receiver can drop a repeat.
    """
    event_type = webhook_event_type(event)
    if event_type is None:
        return 0
    endpoint_ids = [
        pk
        for pk, subscribed in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "pk", "event_types"
        )
        if isinstance(subscribed, list) and event_type in subscribed
    ]
    if not endpoint_ids:
        return 0
    data = webhook_payload_data(event)
    rows = []
    for endpoint_id in endpoint_ids:
        delivery_id = uuid.uuid4()
        rows.append(
            OutboxMessage(
                kind=OutboxMessage.Kind.WEBHOOK,
                endpoint_id=endpoint_id,
                ticket_id=event.ticket_id,
                template=DELIVERY_TEMPLATE,
                to="",
                subject=event_type,
                message_id=str(delivery_id),
                body_text=webhook_body(
                    delivery_id=delivery_id, event_type=event_type, event=event, data=data
                ),
            )
        )
    # Primary keys grow with each event of the ticket (its row is locked meanwhile): the
    # deliveries of one ticket to one endpoint leave in the order of its events.
    OutboxMessage.objects.bulk_create(rows)
    outbox_kick_after_commit()
    return len(rows)
