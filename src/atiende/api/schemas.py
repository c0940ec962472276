"""What the API reads and writes. Output shapes match api/payloads.py, which builds them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator

from atiende.accounts.models import Service
from atiende.tickets.lifecycle import Status
from atiende.webhooks.models import WebhookEvent

StatusName = Literal["open", "pending", "resolved", "closed"]
ServiceKind = Literal["hosting", "domain", "ssl", "email", "other"]
ServiceStatus = Literal["active", "suspended", "cancelled"]
Language = Literal["es", "en"]

assert set(StatusName.__args__) == set(Status.values)  # type: ignore[attr-defined]
assert set(ServiceKind.__args__) == set(Service.Kind.values)  # type: ignore[attr-defined]
assert set(ServiceStatus.__args__) == set(Service.Status.values)  # type: ignore[attr-defined]


def _without_nul(value: str) -> str:
    # PostgreSQL can neither store nor compare text with a NUL in it (a 500, not a 404 or a
    # 422); no client means one.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(_without_nul)]
"""A string the API takes in: any text but NUL."""


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:atiende:problem:transition-not-allowed"])
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class FieldError(Schema):
    field: str
    message: str


Problem.model_rebuild()


# --- customers -------------------------------------------------------------------------------


class CustomerOut(Schema):
    id: UUID
    name: str
    external_id: str | None
    email: str | None = Field(description="The e-mail address of the account's holder.")
    full_name: str
    language: str
    is_active: bool
    created_at: datetime


class CustomerCreate(Schema):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    full_name: str = Field("", max_length=150)
    language: Language = "es"
    timezone: str | None = Field(None, max_length=64, examples=["America/Mexico_City"])
    external_id: str = Field("", max_length=100)
    invite: bool = Field(False, description="Mail the holder a link to choose a password.")


class CustomerUpdate(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, min_length=3, max_length=254)
    full_name: str | None = Field(None, max_length=150)
    language: Language | None = None
    external_id: str | None = Field(None, max_length=100)
    is_active: bool | None = None


class AddressOut(Schema):
    email: str
    confirmed: bool
    main: bool = Field(description="The holder's address; it cannot be removed.")
    created_at: datetime


class AddressCreate(Schema):
    email: str = Field(min_length=3, max_length=254)
    confirmed: bool = Field(
        False,
        description="True: the company vouches for the address (no confirmation mail). "
        "False: a confirmation link is mailed to it.",
    )


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class ServiceOut(Schema):
    external_id: str | None
    kind: ServiceKind
    name: str
    plan: str
    status: ServiceStatus
    created_at: datetime


class ServiceUpsert(Schema):
    kind: ServiceKind
    name: str = Field(min_length=1, max_length=200)
    plan: str = Field("", max_length=100)
    status: ServiceStatus = "active"


# --- departments -----------------------------------------------------------------------------


class DepartmentOut(Schema):
    id: str = Field(description="The department's slug.")
    name: str
    description: str
    email: str
    max_attachment_mb: int
    auto_close_hours: int


# --- tickets ---------------------------------------------------------------------------------


class CustomerRef(Schema):
    id: UUID
    name: str
    email: str


class ServiceRef(Schema):
    external_id: str | None
    kind: ServiceKind
    name: str


class TicketOut(Schema):
    id: str = Field(examples=["ATN-7K2M-9QXD"])
    subject: str
    status: StatusName
    department: str
    customer: CustomerRef
    service: ServiceRef | None
    assignee: str | None
    channel: str
    created_at: datetime
    updated_at: datetime = Field(
        description="When anything last changed: a message, the status, the assignee, the "
        "department. What `updated_since` and the list order read."
    )
    last_message_at: datetime = Field(description="When the last public message was added.")
    status_changed_at: datetime
    auto_close_at: datetime | None


class AttachmentOut(Schema):
    id: UUID
    filename: str
    content_type: str
    size: int


class AuthorOut(Schema):
    kind: str
    name: str
    email: str | None


class MessageOut(Schema):
    id: UUID
    internal: bool
    author: AuthorOut
    body: str
    channel: str
    created_at: datetime
    attachments: list[AttachmentOut]


class ActorOut(Schema):
    kind: str
    email: str | None


class EventOut(Schema):
    kind: str
    action: str | None
    actor: ActorOut
    old_status: StatusName | None
    new_status: StatusName | None
    reason: str
    data: dict[str, object]
    created_at: datetime


class TicketDetail(TicketOut):
    collaborators: list[str]
    allowed_actions: list[str] = Field(
        description="The lifecycle actions possible now: resolve, close, reopen."
    )
    messages: list[MessageOut]
    events: list[EventOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class TicketCreate(Schema):
    customer: UUID = Field(description="The customer's id.")
    requester: Text | None = Field(
        None, description="E-mail of the customer's user who asks; the account holder if absent."
    )
    department: Text = Field(description="The department's id (slug).", max_length=100)
    subject: Text = Field(max_length=1000)
    body: Text = Field(max_length=100_000)
    service: Text | None = Field(
        None, description="The external ID of one of the customer's services."
    )
    attachments: list[UUID] = Field(
        default_factory=list, max_length=20, description="Ids returned by POST /uploads."
    )


class ReplyCreate(Schema):
    body: Text = Field(max_length=100_000)
    attachments: list[UUID] = Field(default_factory=list, max_length=20)
    resolve: bool = Field(False, description="Mark the ticket resolved with this reply.")
    reopen: bool = Field(
        False, description="Needed to reply on a closed ticket: the reply reopens it."
    )


class NoteCreate(Schema):
    body: Text = Field(max_length=100_000)
    attachments: list[UUID] = Field(default_factory=list, max_length=20)


class StatusChange(Schema):
    reason: Text = Field("", max_length=2000)
    expected_status: StatusName | None = Field(
        None, description="Refuse (409) if the ticket is no longer in this status."
    )


class AssignIn(Schema):
    assignee: Text | None = Field(description="A staff e-mail, or null to unassign.")


class MoveIn(Schema):
    department: Text = Field(max_length=100)
    reason: Text = Field(max_length=2000)


class CollaboratorIn(Schema):
    email: Text = Field(max_length=254)


# --- uploads, search, events -----------------------------------------------------------------


class UploadOut(Schema):
    id: UUID
    filename: str
    content_type: str
    size: int
    expires_at: datetime


class SearchHitOut(Schema):
    ticket: TicketOut
    snippet_html: str = Field(description="Escaped text with the matches in <mark>.")
    matched_id: bool


class FeedEventOut(EventOut):
    cursor: str
    ticket: str = Field(description="The ticket's ID.")


class EventPage(Schema):
    items: list[FeedEventOut]
    next_cursor: str = Field(description="Pass as `after` next time; the same when nothing is new.")


# --- webhooks --------------------------------------------------------------------------------

WebhookEventName = Literal[
    "ticket.created",
    "ticket.replied",
    "ticket.note_added",
    "ticket.status_changed",
    "ticket.assigned",
    "ticket.moved",
]


assert set(WebhookEventName.__args__) == set(WebhookEvent.values)  # type: ignore[attr-defined]


class WebhookOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[WebhookEventName]
    is_active: bool
    secret: str = Field(description="Verify each delivery's Atiende-Signature with it.")
    created_at: datetime


class WebhookCreate(Schema):
    url: str = Field(max_length=2000, examples=["https://billing.example.com/hooks/atiende"])
    event_types: list[WebhookEventName] = Field(min_length=1)
    description: str = Field("", max_length=200)


class WebhookUpdate(Schema):
    url: str | None = Field(None, max_length=2000)
    event_types: list[WebhookEventName] | None = Field(None, min_length=1)
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class DeliveryOut(Schema):
    id: str = Field(description="The Atiende-Delivery header the receiver got.")
    event_type: WebhookEventName
    status: Literal["queued", "sending", "sent", "failed", "bounced"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_response: str
    last_error: str
