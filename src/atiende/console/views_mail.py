"""The quarantine in the console: the received messages that stopped on their way in.

Thin on purpose: every view fetches through the quarantine's selectors, scoped to the
agent's departments in the query (another department's message is the one 404 page, like
one that does not exist), calls one domain function, and answers. What a message says is
hostile input: it is shown as escaped text, never as HTML, and the original is only ever a
download.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from atiende.console.auth import AgentRequest, staff_page
from atiende.console.forms_mail import QuarantineAcceptForm
from atiende.core.errors import DomainError, NotFound
from atiende.core.text import strip_control
from atiende.mail.inbound.ingest import inbound_limits
from atiende.mail.inbound.parse import message_parse
from atiende.mail.inbound.quarantine import (
    access_inbound_for_agent,
    inbound_accept,
    inbound_discard,
    inbound_quarantine_list_for_agent,
)
from atiende.mail.models import InboundMessage
from atiende.portal.forms import domain_error_to_form
from atiende.tickets.selectors import ticket_list_for_agent

logger = logging.getLogger(__name__)

MESSAGES_PER_PAGE = 50
# What the page shows of a message's text and of a header block it could not read; the
# whole of it is in the original, to download.
TEXT_SHOWN = 100_000
RAW_HEADERS_SHOWN = 64 * 1024


def _redirect(url: str) -> HttpResponse:
    response = redirect(url)
    assert isinstance(response, HttpResponse)
    return response


# --- The list -------------------------------------------------------------------------------


@staff_page
@require_GET
def quarantine_list(request: AgentRequest) -> HttpResponse:
    """The quarantined messages the agent may handle, newest first, a page at a time (a fixed
    number of queries whatever the page holds)."""
    rows = inbound_quarantine_list_for_agent(agent=request.user)
    page = Paginator(rows, MESSAGES_PER_PAGE).get_page(request.GET.get("pagina"))
    return render(
        request,
        "console/quarantine.html",
        {"nav": "console", "view_name": "quarantine", "page": page},
    )


# --- One message ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRow:
    """An attachment of the message as the page lists it (its name and size, nothing else)."""

    name: str
    declared_type: str
    size: int
    inline: bool


@dataclass(frozen=True)
class Reading:
    """What the page shows of the raw message: its parse, or why it could not be read and
    its header block as text."""

    headers: tuple[tuple[str, str], ...] = ()
    from_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    text: str = ""
    quoted: str = ""
    text_cut: bool = False
    files: tuple[FileRow, ...] = ()
    error: str = ""
    raw_headers: str = ""


def _header_block(raw: bytes) -> str:
    """The raw header block as text, for a message the parser could not read."""
    head = raw[: RAW_HEADERS_SHOWN * 2]
    for separator in (b"\r\n\r\n", b"\n\n"):
        if separator in head:
            head = head.split(separator, 1)[0]
            break
    text = head.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return strip_control(text, keep_newlines=True)[:RAW_HEADERS_SHOWN]


def _shown(text: str) -> tuple[str, bool]:
    return (text[:TEXT_SHOWN], True) if len(text) > TEXT_SHOWN else (text, False)


def message_read(raw: bytes) -> Reading:
    """Parse the stored original for the page; never raises (the message is hostile input,
    and the page must still show what can be shown)."""
    try:
        parsed = message_parse(
            raw, limits=inbound_limits(), authserv_id=settings.ATIENDE_MAIL_AUTHSERV_ID
        )
    except Exception as error:  # MessageRejected, or anything the parser did not expect
        reason = getattr(error, "reason", "") or f"{type(error).__name__}: {error}"
        return Reading(error=str(reason)[:1000], raw_headers=_header_block(raw))
    text, text_cut = _shown(parsed.text)
    quoted, quoted_cut = _shown(parsed.quoted)
    return Reading(
        headers=parsed.headers,
        from_name=parsed.from_name,
        to=parsed.to,
        cc=parsed.cc,
        text=text,
        quoted=quoted,
        text_cut=text_cut or quoted_cut,
        files=tuple(
            FileRow(
                name=attachment.filename,
                declared_type=attachment.declared_type.split(";")[0].strip(),
                size=len(attachment.data),
                inline=attachment.inline,
            )
            for attachment in parsed.attachments
        ),
    )


def _detail_page(
    request: AgentRequest,
    inbound: InboundMessage,
    *,
    accept_form: QuarantineAcceptForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "console/quarantine_detail.html",
        {
            "nav": "console",
            "view_name": "quarantine",
            "inbound": inbound,
            "in_quarantine": inbound.outcome == InboundMessage.Outcome.QUARANTINED,
            "reading": message_read(inbound.raw),
            "accept_form": accept_form or QuarantineAcceptForm(),
        },
    )


def _inbound(request: AgentRequest, inbound_id: int) -> InboundMessage:
    return access_inbound_for_agent(agent=request.user, inbound_id=inbound_id)


@staff_page
@require_GET
def quarantine_detail(request: AgentRequest, inbound_id: int) -> HttpResponse:
    return _detail_page(request, _inbound(request, inbound_id))


@staff_page
@require_GET
def quarantine_raw(request: AgentRequest, inbound_id: int) -> HttpResponse:
    """The original as received, always a download: never shown by the browser."""
    inbound = _inbound(request, inbound_id)
    response = HttpResponse(inbound.raw, content_type="message/rfc822")
    response["Content-Disposition"] = content_disposition_header(True, f"message-{inbound.pk}.eml")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- What staff do with it ------------------------------------------------------------------


@staff_page
@require_POST
def quarantine_discard(request: AgentRequest, inbound_id: int) -> HttpResponse:
    """Drop the message: it stays stored, marked discarded by this agent. A message that left
    the quarantine meanwhile is not touched: the page says what became of it."""
    inbound = _inbound(request, inbound_id)
    try:
        inbound_discard(inbound=inbound, agent=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        return _detail_page(request, _inbound(request, inbound_id))
    messages.success(
        request,
        _("The message from %(sender)s was discarded; it stays stored.")
        % {"sender": inbound.from_address or _("an unknown sender")},
    )
    return _redirect(reverse("console:quarantine"))


@staff_page
@require_POST
def quarantine_accept(request: AgentRequest, inbound_id: int) -> HttpResponse:
    """Take the message for the account the agent chose: a new ticket, or a customer reply
    on a ticket of that account. A refusal applies nothing and keeps what was typed."""
    inbound = _inbound(request, inbound_id)
    form = QuarantineAcceptForm(request.POST)
    if form.is_valid():
        account = form.cleaned_data["account"]
        reference = form.cleaned_data["ticket"]
        try:
            ticket = inbound_accept(
                inbound=inbound, agent=request.user, account=account, ticket_reference=reference
            )
        except NotFound as error:
            if reference:
                form.add_error(
                    "ticket",
                    _("No ticket %(id)s of the account “%(account)s” in your departments.")
                    % {"id": reference, "account": account.name},
                )
            else:
                form.add_error(None, str(error.message))
        except DomainError as error:
            domain_error_to_form(form, error)
        else:
            if reference:
                done = _("The message was added to ticket %(reference)s.")
            else:
                done = _("Ticket %(reference)s was opened from the message.")
            messages.success(request, done % {"reference": ticket.reference})
            if ticket_list_for_agent(agent=request.user).filter(pk=ticket.pk).exists():
                return _redirect(reverse("console:ticket", kwargs={"reference": ticket.reference}))
            # Opened in a department the agent does not work (the message's own is closed).
            return _redirect(reverse("console:quarantine"))
    return _detail_page(request, _inbound(request, inbound_id), accept_form=form)


urlpatterns: list[URLPattern] = [
    path("cuarentena/", quarantine_list, name="quarantine"),
    path("cuarentena/<int:inbound_id>/", quarantine_detail, name="quarantine_detail"),
    path("cuarentena/<int:inbound_id>/original/", quarantine_raw, name="quarantine_raw"),
    path("cuarentena/<int:inbound_id>/descartar/", quarantine_discard, name="quarantine_discard"),
    path("cuarentena/<int:inbound_id>/aceptar/", quarantine_accept, name="quarantine_accept"),
]
