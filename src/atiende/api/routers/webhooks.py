"""/webhooks: administrators register the URLs that hear of ticket changes, and see what
each delivery got back. Every operation needs an administrator's admin token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.params.functions import Header as HeaderParam
from ninja.params.functions import Query as QueryParam

from atiende.api.auth import ADMIN, staff_of
from atiende.api.idempotency import idempotent_create
from atiende.api.schemas import DeliveryOut, WebhookCreate, WebhookOut, WebhookUpdate
from atiende.core.errors import NotFound, StaleState
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import outbox_resend
from atiende.webhooks import services
from atiende.webhooks.models import WebhookEndpoint

# Every operation here is for administrators: refused before its body is read.
router = Router(tags=["webhooks"], auth=ADMIN)

IDEMPOTENCY_KEY = HeaderParam(
    None,
    alias="Idempotency-Key",
    description="Send the same key when retrying: the endpoint is registered once.",
)


def _endpoint(request: HttpRequest, webhook_id: str) -> WebhookEndpoint:
    """The endpoint, or NotFound: for an id that is not a number too, as for customer ids
    (the path parameter is a string so that a malformed id is not a 422 about the path)."""
    endpoint = (
        WebhookEndpoint.objects.filter(pk=int(webhook_id)).first()
        if webhook_id.isascii() and webhook_id.isdigit()
        else None
    )
    if endpoint is None:
        raise NotFound(_("Webhook not found."))
    return endpoint


def _data(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "is_active": endpoint.is_active,
        "secret": endpoint.secret,
        "created_at": endpoint.created_at,
    }


def _delivery(row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.message_id,
        "event_type": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "created_at": row.created_at,
        "next_attempt_at": row.next_attempt_at
        if row.status == OutboxMessage.Status.QUEUED
        else None,
        "sent_at": row.sent_at,
        "last_response": row.last_response,
        "last_error": row.last_error,
    }


@router.get("/webhooks", response=list[WebhookOut], summary="List webhook endpoints")
def webhook_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_data(endpoint) for endpoint in WebhookEndpoint.objects.order_by("id")]


@router.post(
    "/webhooks",
    response={201: WebhookOut},
    summary="Register a webhook endpoint",
    description="It receives, signed with its `secret`, the events of `event_types` recorded "
    "from now on. See the README's *Webhooks* section for the payload and the signature.",
)
def webhook_create(
    request: HttpRequest, payload: WebhookCreate, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> HttpResponse:
    admin = staff_of(request)

    def create() -> dict[str, Any]:
        return _data(
            services.webhook_endpoint_create(
                url=payload.url,
                event_types=payload.event_types,
                description=payload.description,
                created_by=admin,
            )
        )

    return idempotent_create(request, key=idempotency_key, schema=WebhookOut, create=create)


@router.get("/webhooks/{webhook_id}", response=WebhookOut, summary="A webhook endpoint")
def webhook_get(request: HttpRequest, webhook_id: str) -> dict[str, Any]:
    return _data(_endpoint(request, webhook_id))


@router.patch(
    "/webhooks/{webhook_id}",
    response=WebhookOut,
    summary="Change a webhook endpoint",
    description="Only the fields sent change; `is_active` false stops new deliveries.",
)
def webhook_update(request: HttpRequest, webhook_id: str, payload: WebhookUpdate) -> dict[str, Any]:
    endpoint = _endpoint(request, webhook_id)
    services.webhook_endpoint_update(endpoint=endpoint, **payload.model_dump(exclude_unset=True))
    return _data(endpoint)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response=WebhookOut,
    summary="Give the endpoint a new secret",
    description="Every attempt from now on is signed with the new secret.",
)
def webhook_rotate(request: HttpRequest, webhook_id: str) -> dict[str, Any]:
    return _data(services.webhook_secret_rotate(endpoint=_endpoint(request, webhook_id)))


@router.delete(
    "/webhooks/{webhook_id}",
    response={204: None},
    summary="Delete a webhook endpoint",
    description="Its queued deliveries are dropped; the record of those sent stays.",
)
def webhook_delete(request: HttpRequest, webhook_id: str) -> Status[None]:
    services.webhook_endpoint_delete(endpoint=_endpoint(request, webhook_id))
    return Status(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response=list[DeliveryOut],
    summary="The latest deliveries of an endpoint",
    description="Newest first, with the receiver's last answer and the error of a failed try.",
)
def delivery_list(
    request: HttpRequest, webhook_id: str, limit: int = QueryParam(50, ge=1, le=200)
) -> list[dict[str, Any]]:
    endpoint = _endpoint(request, webhook_id)
    rows = OutboxMessage.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")[:limit]
    return [_delivery(row) for row in rows]


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    response=DeliveryOut,
    summary="Send a failed delivery again",
    description="Back to the queue with its attempts from zero; 409 unless it failed.",
)
def delivery_retry(request: HttpRequest, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    endpoint = _endpoint(request, webhook_id)
    # No delivery id holds a NUL, and PostgreSQL refuses one in a query (a 500).
    row = (
        OutboxMessage.objects.filter(endpoint=endpoint, message_id=delivery_id).first()
        if "\x00" not in delivery_id
        else None
    )
    if row is None:
        raise NotFound(_("Delivery not found."))
    if not outbox_resend(row_id=row.pk):
        raise StaleState(_("Only a failed delivery can be sent again."))
    row.refresh_from_db()
    return _delivery(row)
