"""Soporte → Abrir ticket: pick a department, describe the matter, Enviar, get the ID.

Every refusal re-renders the form with everything the user typed and the error next to the
field, and stores nothing.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client
from django.utils.html import escape

from atiende.mail.models import OutboxMessage
from atiende.tickets.models import Attachment, Ticket
from tests.conftest import Cast
from tests.portal.conftest import html, login, store_root, upload

URL = "/soporte/abrir/"
SUBJECT = "No puedo enviar correos <desde> Outlook"
BODY = "Desde esta mañana Outlook marca error.\n\nUso el puerto 587 & TLS."


@pytest.fixture
def ana(cast: Cast) -> Client:
    return login(cast.ana)


def _post(client: Client, **changes: Any) -> HttpResponseBase:
    data: dict[str, Any] = {
        "department": "soporte-tecnico",
        "subject": SUBJECT,
        "service": "",
        "body": BODY,
        "submission_key": str(uuid.uuid4()),
    }
    data.update(changes)
    return client.post(URL, data)


def _assert_kept(response: HttpResponseBase, *, subject: str = SUBJECT, body: str = BODY) -> None:
    """The form came back (not a redirect) with everything the user typed in it."""
    assert response.status_code == 200
    page = html(response)
    assert f'value="{escape(subject)}"' in page
    assert escape(body) in page
    assert 'value="soporte-tecnico" checked' in page
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def _error_next_to(response: HttpResponseBase, field: str) -> str:
    """The text of the error shown in `field`'s block (the block has class has-error)."""
    page = html(response)
    marker = f'for="id_{field}"'
    start = page.rfind('<div class="field', 0, page.index(marker))
    assert page.startswith('<div class="field has-error">', start), f"no error next to {field}"
    block = page[start : page.index("</div>", page.index(marker))]
    assert 'class="error' in block
    return block


class TestStepOne:
    def test_lists_the_active_departments_with_what_each_handles(
        self, cast: Cast, ana: Client
    ) -> None:
        cast.operaciones.is_active = False
        cast.operaciones.save()
        page = html(ana.get(URL))
        assert 'name="departamento" value="soporte-tecnico"' in page
        assert escape(cast.soporte.description) in page
        assert escape(cast.atencion.description) in page
        assert 'value="operaciones"' not in page
        assert 'method="get"' in page

    def test_a_chosen_department_leads_to_the_form_with_it_preselected(
        self, cast: Cast, ana: Client
    ) -> None:
        page = html(ana.get(f"{URL}?departamento=operaciones"))
        assert 'name="department" value="operaciones" checked' in page
        for field in ("subject", "service", "body", "attachments"):
            assert f'for="id_{field}"' in page
        assert 'type="file" name="attachments" multiple' in page
        assert 'enctype="multipart/form-data"' in page
        assert 'name="submission_key" value="' in page

    def test_the_service_list_has_only_his_active_services_and_none(
        self, cast: Cast, ana: Client
    ) -> None:
        page = html(ana.get(f"{URL}?departamento=soporte-tecnico"))
        assert f'value="{cast.hosting.pk}"' in page
        assert f'value="{cast.domain.pk}"' in page
        assert f'value="{cast.cancelled_ssl.pk}"' not in page
        assert f'value="{cast.other_domain.pk}"' not in page
        assert '<option value="" selected>None</option>' in page

    @pytest.mark.parametrize("slug", ["no-existe", "operaciones", ""])
    def test_an_unknown_or_inactive_department_asks_again(
        self, cast: Cast, ana: Client, slug: str
    ) -> None:
        cast.operaciones.is_active = False
        cast.operaciones.save()
        response = ana.get(f"{URL}?departamento={slug}")
        assert response.status_code == 200
        assert 'class="error"' in html(response)
        assert 'name="departamento"' in html(response)


class TestSend:
    def test_enviar_opens_the_ticket_and_shows_its_id(self, cast: Cast, ana: Client) -> None:
        response = _post(ana, service=str(cast.hosting.pk))
        ticket = Ticket.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/soporte/abierto/{ticket.reference}/"
        assert ticket.subject == SUBJECT
        assert ticket.service == cast.hosting
        assert ticket.department == cast.soporte
        assert ticket.messages.get().body == BODY

    def test_the_confirmation_shows_the_id_large_copyable_and_where_the_receipt_went(
        self, cast: Cast, ana: Client
    ) -> None:
        _post(ana)
        ticket = Ticket.objects.get()
        page = html(ana.get(f"/soporte/abierto/{ticket.reference}/"))
        assert f'<p class="bigref" id="ticket-id">{ticket.reference}</p>' in page
        assert f'data-copy="{ticket.reference}"' in page
        assert cast.ana.email in page
        assert f'href="/tickets/{ticket.reference}/"' in page
        assert "Ticket created" in page

    def test_the_receipt_is_in_the_outbox(self, cast: Cast, ana: Client) -> None:
        _post(ana)
        ticket = Ticket.objects.get()
        receipt = OutboxMessage.objects.get(template="ticket_receipt")
        assert receipt.to == cast.ana.email
        assert ticket.reference in receipt.subject

    def test_a_double_click_on_enviar_opens_one_ticket(self, ana: Client) -> None:
        key = str(uuid.uuid4())
        first = _post(ana, submission_key=key)
        second = _post(ana, submission_key=key)
        assert Ticket.objects.count() == 1
        assert first["Location"] == second["Location"]
        # One receipt to the customer and one notice to each agent of the department, once.
        sent = list(OutboxMessage.objects.values_list("template", "to"))
        assert len(sent) == len(set(sent))
        assert OutboxMessage.objects.filter(template="ticket_receipt").count() == 1

    def test_the_attachments_are_stored_with_the_first_message(self, ana: Client) -> None:
        _post(ana, attachments=[upload("captura.png", b"\x89PNG..."), upload("log.txt")])
        ticket = Ticket.objects.get()
        names = sorted(a.filename for a in Attachment.objects.filter(message__ticket=ticket))
        assert names == ["captura.png", "log.txt"]

    def test_markup_in_subject_and_message_is_shown_as_text(self, ana: Client) -> None:
        _post(ana, subject="<script>alert(1)</script>", body="<script>alert(2)</script>")
        ticket = Ticket.objects.get()
        page = html(ana.get(f"/tickets/{ticket.reference}/"))
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


class TestBadInput:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"subject": ""}, "subject"),
            ({"subject": "   "}, "subject"),
            ({"subject": "x" * 201}, "subject"),
            ({"body": ""}, "body"),
            ({"body": "x" * 50_001}, "body"),
        ],
    )
    def test_empty_or_too_long_text_comes_back_with_the_error_next_to_the_field(
        self, ana: Client, changes: dict[str, str], field: str
    ) -> None:
        response = _post(ana, **changes)
        _assert_kept(
            response,
            subject=changes.get("subject", SUBJECT),
            body=changes.get("body", BODY),
        )
        _error_next_to(response, field)

    @pytest.mark.parametrize("service", ["other_domain", "cancelled_ssl"])
    def test_a_service_of_another_account_or_cancelled_is_refused(
        self, cast: Cast, ana: Client, service: str
    ) -> None:
        response = _post(ana, service=str(getattr(cast, service).pk))
        _assert_kept(response)
        _error_next_to(response, "service")

    def test_an_inactive_department_is_refused(self, cast: Cast, ana: Client) -> None:
        page_department = "soporte-tecnico"
        cast.soporte.is_active = False
        cast.soporte.save()
        response = _post(ana, department=page_department)
        assert response.status_code == 200
        page = html(response)
        assert f'value="{escape(SUBJECT)}"' in page
        assert escape(BODY) in page
        assert 'id="department_error"' in page
        assert not Ticket.objects.exists()

    def test_a_file_over_the_department_limit_is_refused_and_must_be_attached_again(
        self, cast: Cast, ana: Client
    ) -> None:
        cast.soporte.max_attachment_mb = 1
        cast.soporte.save()
        big = upload("respaldo.zip", b"PK" + b"0" * int(1.5 * 1024 * 1024))
        response = _post(ana, attachments=[big])
        _assert_kept(response)
        block = _error_next_to(response, "attachments")
        assert "respaldo.zip" in block
        assert "attach the files again" in block

    def test_files_over_the_per_message_total_are_refused(self, cast: Cast, ana: Client) -> None:
        cast.soporte.max_attachment_mb = 1
        cast.soporte.max_ticket_attachments_mb = 1
        cast.soporte.save()
        files = [upload(f"parte{n}.txt", b"x" * 600_000) for n in range(2)]
        response = _post(ana, attachments=files)
        _assert_kept(response)
        _error_next_to(response, "attachments")

    @pytest.mark.parametrize(
        ("name", "content"),
        [("instalar.exe", b"hola"), ("foto.jpg", b"MZ\x90\x00\x03\x00\x00\x00")],
    )
    def test_a_program_is_refused_by_name_or_content(
        self, ana: Client, name: str, content: bytes
    ) -> None:
        response = _post(ana, attachments=[upload(name, content, "image/jpeg")])
        _assert_kept(response)
        assert name in _error_next_to(response, "attachments")

    def test_a_bad_file_is_reported_together_with_the_other_errors(self, ana: Client) -> None:
        response = _post(ana, subject="", attachments=[upload("virus.exe")])
        _assert_kept(response, subject="")
        _error_next_to(response, "subject")
        assert "virus.exe" in _error_next_to(response, "attachments")

    def test_other_errors_also_say_the_files_must_be_attached_again(self, ana: Client) -> None:
        response = _post(ana, subject="", attachments=[upload("log.txt")])
        _assert_kept(response, subject="")
        assert "attach the files again" in html(response)

    @pytest.mark.parametrize("name", ["../../etc/passwd", "fac\x00tu\x07ra\u202e.pdf"])
    def test_a_hostile_file_name_is_stored_under_a_safe_name_inside_the_store(
        self, ana: Client, name: str
    ) -> None:
        response = _post(ana, attachments=[upload(name, b"contenido")])
        assert response.status_code == 302
        attachment = Attachment.objects.get()
        assert store_root() in Path(attachment.file.path).resolve().parents
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert all(char.isprintable() for char in attachment.filename)
        assert attachment.filename in ("passwd", "factura.pdf")
        page = html(ana.get(f"/tickets/{attachment.message.ticket.reference}/"))
        assert f">{attachment.filename}</a>" in page
