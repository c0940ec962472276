"""Attachments are served only after the access check, always as downloads, with safe headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import FileResponse, HttpResponseBase

from atiende.tickets import services
from atiende.tickets.models import Attachment, Ticket
from tests.conftest import Cast
from tests.portal.conftest import login, upload

OpenTicket = Callable[..., Ticket]


def _url(attachment: Attachment, reference: str | None = None) -> str:
    reference = reference or attachment.message.ticket.reference
    return f"/tickets/{reference}/adjuntos/{attachment.public_id}/"


def _attached(open_ticket: OpenTicket, name: str, content: bytes) -> Attachment:
    ticket = open_ticket(files=[upload(name, content, "text/html")])
    return Attachment.objects.get(message__ticket=ticket)


def _body(response: HttpResponseBase) -> bytes:
    assert isinstance(response, FileResponse)
    return b"".join(response)


def test_a_file_is_a_download_with_safe_headers(cast: Cast, open_ticket: OpenTicket) -> None:
    attachment = _attached(open_ticket, "informe.pdf", b"%PDF-1.4 contenido")
    response = login(cast.beto).get(_url(attachment))
    assert response.status_code == 200
    assert _body(response) == b"%PDF-1.4 contenido"
    assert response["Content-Disposition"] == 'attachment; filename="informe.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "private"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("dibujo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("pagina.html", b"<html><script>alert(1)</script></html>"),
        ("datos.xml", b"<?xml version='1.0'?><x/>"),
        ("pagina.htm", b"<script>alert(1)</script>"),
    ],
)
def test_markup_is_never_rendered_by_the_browser(
    cast: Cast, open_ticket: OpenTicket, name: str, content: bytes
) -> None:
    attachment = _attached(open_ticket, name, content)
    response = login(cast.ana).get(_url(attachment))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


def test_a_name_outside_ascii_is_encoded_as_rfc_5987_says(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    attachment = _attached(open_ticket, "cotización año.pdf", b"%PDF")
    disposition = login(cast.ana).get(_url(attachment))["Content-Disposition"]
    assert disposition == "attachment; filename*=utf-8''cotizaci%C3%B3n%20a%C3%B1o.pdf"


def test_a_hostile_name_is_served_as_its_clean_name(cast: Cast, open_ticket: OpenTicket) -> None:
    attachment = _attached(open_ticket, '../../etc/pass"wd\r\nX-Evil: 1', b"x")
    response = login(cast.ana).get(_url(attachment))
    assert "X-Evil" not in response.headers
    assert "/" not in response["Content-Disposition"]
    assert "\n" not in response["Content-Disposition"]


def test_the_file_must_be_reached_through_its_own_ticket(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    attachment = _attached(open_ticket, "a.txt", b"x")
    other = open_ticket(subject="Otro ticket de la misma cuenta")
    assert login(cast.ana).get(_url(attachment, other.reference)).status_code == 404


def test_a_file_of_an_internal_note_is_not_found(cast: Cast, open_ticket: OpenTicket) -> None:
    ticket = open_ticket()
    note = services.ticket_add_note(
        ticket=ticket, agent=cast.agent, body="x", files=[upload("interno.txt")]
    )
    assert login(cast.ana).get(_url(note.attachments.get())).status_code == 404


def test_a_file_missing_from_the_store_is_not_found(cast: Cast, open_ticket: OpenTicket) -> None:
    attachment = _attached(open_ticket, "a.txt", b"x")
    assert attachment.file.name
    attachment.file.storage.delete(attachment.file.name)
    assert login(cast.ana).get(_url(attachment)).status_code == 404


def test_staff_and_other_accounts_get_the_404(cast: Cast, open_ticket: OpenTicket) -> None:
    attachment = _attached(open_ticket, "a.txt", b"x")
    for user in (cast.otro, cast.agent):
        assert login(user).get(_url(attachment)).status_code == 404
