"""POST /uploads (multipart `file`) and GET /attachments/{id}.

An upload is kept for a day for one later message of its uploader. It is refused with 413
when no department takes a file that large, or when the whole request passes the site's cap
(ATIENDE_MAX_REQUEST_BYTES, before anything reads it); a message refuses it with 413 when the
ticket's department takes less, and the upload stays for another try. Attachments download
as files, for the staff of the ticket's department only: another department's attachment is
"not found" like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from time_machine import TimeMachineFixture

from atiende.accounts.models import Department
from atiende.api.models import Upload
from atiende.core.clock import now
from atiende.tickets import services
from atiende.tickets.models import Attachment, Message, Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]
MB = 1024 * 1024


def send(client: ApiClient, name: str = "registro.txt", content: bytes = b"error 500") -> Any:
    return client.upload("/api/v1/uploads", {"file": SimpleUploadedFile(name, content)})


def reply_with(client: ApiClient, ticket: Ticket, upload: str) -> Any:
    return client.post(
        f"/api/v1/tickets/{ticket.reference}/replies",
        {"body": "Le envío el archivo.", "attachments": [upload]},
    )


def download(client: ApiClient, attachment_id: object) -> Any:
    return client.get(f"/api/v1/attachments/{attachment_id}")


class TestUploading:
    def test_the_answer_names_the_upload_and_when_it_expires(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        before = now()

        response = send(api_as(cast.agent, "write"), "informe.pdf", b"%PDF-1.4 informe")

        assert response.status_code == 201
        body = response.json()
        upload = Upload.objects.get(public_id=body["id"])
        assert (upload.user, upload.filename, upload.size) == (cast.agent, "informe.pdf", 16)
        assert (body["filename"], body["content_type"], body["size"]) == (
            "informe.pdf",
            "application/pdf",
            16,
        )
        assert before + timedelta(hours=23) < upload.created_at + timedelta(hours=24)
        assert body["expires_at"].startswith(
            (upload.created_at + timedelta(hours=24)).date().isoformat()
        )

    def test_the_name_is_cleaned_and_never_reaches_the_storage_path(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        response = send(api_as(cast.agent, "write"), "../../etc/cron.d/tarea.txt", b"hola")

        upload = Upload.objects.get(public_id=response.json()["id"])
        assert upload.filename == "tarea.txt"
        assert "tarea" not in upload.file.name and ".." not in upload.file.name

    @pytest.mark.parametrize(
        ("name", "content"),
        [("instalador.exe", b"datos"), ("factura.pdf", b"MZ\x90\x00 un programa")],
    )
    def test_a_program_is_refused_by_name_or_by_content(
        self, cast: Cast, api_as: ApiAs, name: str, content: bytes
    ) -> None:
        response = send(api_as(cast.agent, "write"), name, content)

        assert error_fields(problem(response, 422)) == {"file"}
        assert not Upload.objects.exists()

    def test_no_file_is_422(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent, "write").upload("/api/v1/uploads", {"archivo": "hola"})

        assert error_fields(problem(response, 422, "validation")) == {"file"}

    def test_a_file_larger_than_any_department_takes_is_413(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        Department.objects.update(max_attachment_mb=1)

        response = send(api_as(cast.agent, "write"), "respaldo.zip", b"0" * (MB + 1))

        assert error_fields(problem(response, 413, "too-large")) == {"file"}
        assert not Upload.objects.exists()

    @override_settings(ATIENDE_MAX_REQUEST_BYTES=1 * MB)
    def test_a_request_over_the_sites_cap_is_413_before_anything_reads_it(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        response = send(api_as(cast.agent, "write"), "respaldo.zip", b"0" * (2 * MB))

        problem(response, 413, "too-large")
        assert response["Connection"] == "close"
        assert not Upload.objects.exists()

    @override_settings(ATIENDE_MAX_REQUEST_BYTES=1 * MB)
    def test_the_cap_holds_for_a_json_body_too(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").post(
            f"/api/v1/tickets/{ticket.reference}/notes", {"body": "x" * (2 * MB)}
        )

        problem(response, 413, "too-large")
        assert not Message.objects.filter(is_internal=True).exists()


class TestUsingAnUpload:
    def test_the_departments_limit_applies_when_a_message_takes_it(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        Department.objects.update(max_attachment_mb=1)
        Department.objects.filter(pk=cast.operaciones.pk).update(max_attachment_mb=5)
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")
        upload = send(laura, "respaldo.zip", b"0" * (2 * MB)).json()["id"]

        refused = reply_with(laura, ticket, upload)

        assert error_fields(problem(refused, 413, "too-large")) == {"attachments"}
        assert Message.objects.filter(ticket=ticket).count() == 1
        # Nothing was used up: once the department takes larger files, the same upload goes.
        Department.objects.filter(pk=cast.soporte.pk).update(max_attachment_mb=5)
        assert reply_with(laura, ticket, upload).status_code == 201

    def test_an_upload_is_used_once(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")
        upload = send(laura).json()["id"]
        assert reply_with(laura, ticket, upload).status_code == 201
        assert not Upload.objects.exists()

        again = reply_with(laura, ticket, upload)

        assert error_fields(problem(again, 422)) == {"attachments"}

    def test_an_upload_expires_after_a_day(
        self,
        cast: Cast,
        api_as: ApiAs,
        open_ticket: OpenTicket,
        time_machine: TimeMachineFixture,
    ) -> None:
        ticket = open_ticket()
        time_machine.move_to(now(), tick=False)
        laura = api_as(cast.agent, "write")
        upload = send(laura).json()["id"]

        time_machine.move_to(now() + timedelta(hours=24, minutes=1), tick=False)

        assert error_fields(problem(reply_with(laura, ticket, upload), 422)) == {"attachments"}

    def test_another_users_upload_is_unknown(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        sara_upload = send(api_as(cast.supervisor, "write")).json()["id"]

        response = reply_with(api_as(cast.agent, "write"), ticket, sara_upload)

        assert error_fields(problem(response, 422)) == {"attachments"}
        assert Upload.objects.filter(public_id=sara_upload).exists()


class TestDownloading:
    def test_the_file_comes_as_a_download_with_our_type_and_name(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        open_ticket(files=[SimpleUploadedFile("pagina.html", b"<script>x</script>", "text/html")])
        attachment = Attachment.objects.get()

        response = download(api_as(cast.agent), attachment.public_id)

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"<script>x</script>"
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"] == 'attachment; filename="pagina.html"'
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_staff_download_the_files_of_internal_notes(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_add_note(
            ticket=ticket,
            agent=cast.agent,
            body="Ver adjunto.",
            files=[SimpleUploadedFile("deuda.txt", b"saldo")],
        )

        response = download(api_as(cast.supervisor), Attachment.objects.get().public_id)

        assert response.status_code == 200

    @pytest.mark.parametrize("unknown", ["00000000-0000-4000-8000-000000000000", "no-es-un-id"])
    def test_another_departments_attachment_is_as_unknown_as_one_that_does_not_exist(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, unknown: str
    ) -> None:
        open_ticket(
            customer=cast.otro,
            department=cast.operaciones,
            files=[SimpleUploadedFile("servidor.log", b"kernel panic")],
        )
        attachment = Attachment.objects.get()
        laura = api_as(cast.agent)

        foreign = problem(download(laura, attachment.public_id), 404, "not-found")

        assert foreign == problem(download(laura, unknown), 404, "not-found")
        assert download(api_as(cast.agent_ops), attachment.public_id).status_code == 200

    def test_an_attachment_whose_file_is_gone_is_404(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        open_ticket(files=[SimpleUploadedFile("registro.txt", b"linea")])
        attachment = Attachment.objects.get()
        attachment.file.storage.delete(attachment.file.name)

        problem(download(api_as(cast.agent), attachment.public_id), 404, "not-found")
