"""/departments, /uploads, /attachments, /search and /events."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Router
from ninja.files import UploadedFile
from ninja.params.functions import Query as QueryParam

from atiende.api.auth import staff_of
from atiende.api.idempotency import render
from atiende.api.payloads import event_data, ticket_data
from atiende.api.schemas import DepartmentOut, EventPage, SearchHitOut, UploadOut
from atiende.api.selectors import TICKET_RELATED, event_feed_for_agent
from atiende.api.uploads import KEPT_FOR, upload_store
from atiende.core.downloads import download_response
from atiende.search.selectors import QUERY_MAX, ticket_search
from atiende.tickets.models import Ticket
from atiende.tickets.selectors import access_attachment_for_agent, department_list_for_agent

departments = Router(tags=["departments"])
files = Router(tags=["attachments"])
search = Router(tags=["search"])
events = Router(tags=["events"])


@departments.get(
    "/departments",
    response=list[DepartmentOut],
    summary="List departments",
    description="The active departments the token's user works in (all for an administrator).",
)
def department_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": department.slug,
            "name": department.name,
            "description": department.description,
            "email": department.email,
            "max_attachment_mb": department.max_attachment_mb,
            "auto_close_hours": department.auto_close_hours,
        }
        for department in department_list_for_agent(agent=staff_of(request)).filter(is_active=True)
    ]


@files.post(
    "/uploads",
    response={201: UploadOut},
    summary="Upload a file for a later message",
    description="Returns an id to name in `attachments` when opening a ticket, replying or "
    "adding a note, within a day. multipart/form-data with one `file`.",
)
def upload_create(request: HttpRequest, file: File[UploadedFile]) -> HttpResponse:
    upload = upload_store(user=staff_of(request), file=file)
    body = render(
        UploadOut,
        {
            "id": upload.public_id,
            "filename": upload.filename,
            "content_type": upload.content_type,
            "size": upload.size,
            "expires_at": upload.created_at + KEPT_FOR,
        },
    )
    return HttpResponse(body, status=201, content_type="application/json")


@files.get(
    "/attachments/{attachment_id}",
    response={200: None},
    summary="Download an attachment",
    description="The file, as an attachment, if its ticket is one the token's user may see.",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def attachment_get(request: HttpRequest, attachment_id: str) -> FileResponse:
    attachment = access_attachment_for_agent(agent=staff_of(request), public_id=attachment_id)
    return download_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type
    )


@search.get(
    "/search",
    response=list[SearchHitOut],
    summary="Search tickets",
    description="The console's search: a ticket ID in any spelling, words of the subject or of "
    "any message, a customer's e-mail or domain; among the tickets the token's user may see.",
)
def ticket_search_api(
    request: HttpRequest,
    q: str = QueryParam(..., min_length=1, max_length=QUERY_MAX),
    limit: int = QueryParam(20, ge=1, le=50),
) -> list[dict[str, Any]]:
    hits = ticket_search(user=staff_of(request), query=q, limit=limit)
    tickets = Ticket.objects.select_related(*TICKET_RELATED).in_bulk(
        [hit.ticket.pk for hit in hits]
    )
    return [
        {
            "ticket": ticket_data(tickets[hit.ticket.pk]),
            "snippet_html": str(hit.snippet),
            "matched_id": hit.matched_reference,
        }
        for hit in hits
    ]


@events.get(
    "/events",
    response=EventPage,
    summary="Changes after a cursor",
    description="Every change to the tickets the token's user may see, in the order they were "
    "committed: start without `after`, then pass `next_cursor` each time. Nothing is skipped, "
    "however long the integration was away.",
)
def event_list(
    request: HttpRequest,
    after: str | None = None,
    limit: int = QueryParam(100, ge=1, le=500),
) -> dict[str, Any]:
    items, next_cursor = event_feed_for_agent(agent=staff_of(request), after=after, limit=limit)
    return {
        "items": [
            {**event_data(event), "cursor": cursor, "ticket": event.ticket.reference}
            for event, cursor in items
        ],
        "next_cursor": next_cursor,
    }
