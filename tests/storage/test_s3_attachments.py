"""With ATIENDE_S3_BUCKET set, attachments live in a private S3-compatible bucket.

A real S3 server (moto's, on loopback) takes them; the portal, the console, the API and the
outbox read and write them through the storage API as they do on the local folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any
from wsgiref.util import FileWrapper, setup_testing_defaults

from django.core.files import File
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import FileResponse, HttpResponseBase

from atiende.api.models import Upload
from atiende.core.downloads import download_response
from atiende.core.storage import PrivateS3Storage
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import outbox_deliver_due
from atiende.tickets import services
from atiende.tickets.models import Attachment, Message, Ticket
from tests.api.conftest import ApiClient
from tests.conftest import Cast
from tests.portal.conftest import login, upload
from tests.services.fixtures import S3Storage
from tests.services.smtp import SmtpServer

OpenTicket = Callable[..., Ticket]
# Bigger than a download's block and than the memory buffer of a whole read (2 MiB); random
# bytes after a harmless magic number (random ones may look like a program).
BIG = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024 + 17)


def _download_url(attachment: Attachment) -> str:
    return f"/tickets/{attachment.message.ticket.reference}/adjuntos/{attachment.public_id}/"


def _portal_open(cast: Cast, name: str, content: bytes) -> Ticket:
    response = login(cast.ana).post(
        "/soporte/abrir/",
        {
            "department": "soporte-tecnico",
            "subject": "Adjunto el registro",
            "service": "",
            "body": "Les mando el archivo del error.",
            "submission_key": str(uuid.uuid4()),
            "attachments": [upload(name, content, "application/octet-stream")],
        },
    )
    assert response.status_code == 302, response.status_code
    return Ticket.objects.get(customer=cast.ana)


def _body(response: HttpResponseBase) -> bytes:
    assert isinstance(response, FileResponse)
    return b"".join(response)


def test_the_default_storage_is_the_private_s3_one(s3_storage: S3Storage) -> None:
    storage = Attachment._meta.get_field("file").storage
    assert isinstance(storage, PrivateS3Storage)
    assert storage.bucket_name == s3_storage.bucket
    assert storage.location == "adjuntos"
    assert storage.default_acl is None
    assert storage.file_overwrite is False
    assert storage.querystring_auth is False


class TestPortal:
    def test_a_customers_file_lands_in_the_bucket_under_the_prefix_and_private(
        self, cast: Cast, s3_storage: S3Storage
    ) -> None:
        ticket = _portal_open(cast, "registro.log", b"error 500 a las 10:02")
        attachment = Attachment.objects.get(message__ticket=ticket)
        key = f"adjuntos/{attachment.file.name}"
        assert s3_storage.keys() == [key]
        assert s3_storage.read(key) == b"error 500 a las 10:02"
        # Our name, never the sender's.
        assert "registro" not in key
        assert s3_storage.server.anonymous_get(s3_storage.bucket, key) == 403

    def test_a_download_is_the_same_bytes_streamed_from_the_bucket(
        self, cast: Cast, s3_storage: S3Storage
    ) -> None:
        ticket = _portal_open(cast, "respaldo.zip", BIG)
        attachment = Attachment.objects.get(message__ticket=ticket)
        response = login(cast.beto).get(_download_url(attachment))
        assert response.status_code == 200
        assert response["Content-Length"] == str(len(BIG))
        assert response["Content-Disposition"] == 'attachment; filename="respaldo.zip"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert _body(response) == BIG

    def test_a_download_reads_the_object_as_the_client_reads_it(
        self, cast: Cast, s3_storage: S3Storage
    ) -> None:
        """The first block goes out before the rest of the object has been read: a large
        file never sits whole in the web worker's memory (nor in a temporary file). (The
        view's own response, as the WSGI server gets it; the test client wraps it.)"""
        ticket = _portal_open(cast, "respaldo.zip", BIG)
        attachment = Attachment.objects.get(message__ticket=ticket)
        response = download_response(
            attachment.file, filename="respaldo.zip", content_type="application/zip"
        )
        stream: Any = response.file_to_stream
        assert not isinstance(stream, File)  # not django-storages' whole-object S3File
        chunks = iter(response)
        first = next(chunks)
        assert first == BIG[: len(first)]
        assert stream.tell() == len(first) < len(BIG)
        assert first + b"".join(chunks) == BIG
        response.close()

    def test_a_wsgi_servers_file_wrapper_streams_it_too(
        self, cast: Cast, s3_storage: S3Storage
    ) -> None:
        """gunicorn hands FileResponse's file to its `wsgi.file_wrapper`: the S3 stream
        must work there as well (no fileno, read in blocks, closed at the end)."""
        ticket = _portal_open(cast, "respaldo.zip", BIG)
        attachment = Attachment.objects.get(message__ticket=ticket)
        session = login(cast.ana).cookies["sessionid"].value
        environ: dict[str, Any] = {
            "PATH_INFO": _download_url(attachment),
            "HTTP_COOKIE": f"sessionid={session}",
            "wsgi.file_wrapper": FileWrapper,
        }
        setup_testing_defaults(environ)
        started: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            started.append(status)
            return lambda data: None

        # As Django's test client does: the test's database connection must stay open.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            answer = WSGIHandler()(environ, start_response)
            assert isinstance(answer, FileWrapper)
            assert not isinstance(answer.filelike, File)  # the S3 stream itself
            body = b"".join(answer)
            answer.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        assert started == ["200 OK"]
        assert body == BIG

    def test_another_accounts_customer_and_staff_get_the_404(
        self, cast: Cast, s3_storage: S3Storage
    ) -> None:
        ticket = _portal_open(cast, "a.txt", b"x")
        attachment = Attachment.objects.get(message__ticket=ticket)
        for user in (cast.otro, cast.agent):
            assert login(user).get(_download_url(attachment)).status_code == 404

    def test_an_object_gone_from_the_bucket_is_not_found(
        self, cast: Cast, s3_storage: S3Storage
    ) -> None:
        ticket = _portal_open(cast, "a.txt", b"x")
        attachment = Attachment.objects.get(message__ticket=ticket)
        s3_storage.server.client().delete_object(
            Bucket=s3_storage.bucket, Key=f"adjuntos/{attachment.file.name}"
        )
        assert login(cast.ana).get(_download_url(attachment)).status_code == 404


class TestConsoleAndMail:
    def test_an_agents_reply_mails_the_file_read_from_the_bucket(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        smtp_mail: SmtpServer,
    ) -> None:
        ticket = open_ticket()
        last = Message.objects.filter(ticket=ticket).latest("pk")
        response = login(cast.agent).post(
            f"/consola/tickets/{ticket.reference}/responder/",
            {
                "body": "Le envío la guía.",
                "seen_message_id": last.pk,
                "attachments": [upload("guia.pdf", BIG, "application/pdf")],
            },
        )
        assert response.status_code == 302, response.status_code
        attachment = Attachment.objects.get(message__ticket=ticket)
        assert s3_storage.keys() == [f"adjuntos/{attachment.file.name}"]
        OutboxMessage.objects.exclude(template="ticket_staff_reply").delete()
        assert outbox_deliver_due() == 1
        mail = smtp_mail.received[0].message
        assert mail["To"] == cast.ana.email
        parts = [part for part in mail.iter_attachments() if part.get_filename() == "guia.pdf"]
        assert len(parts) == 1
        assert parts[0].get_content() == BIG
        assert parts[0].get_content_type() == "application/pdf"

    def test_a_console_download_is_the_same_bytes(
        self, cast: Cast, open_ticket: OpenTicket, s3_storage: S3Storage
    ) -> None:
        ticket = open_ticket(files=[upload("captura.png", BIG, "image/png")])
        attachment = Attachment.objects.get(message__ticket=ticket)
        url = f"/consola/tickets/{ticket.reference}/adjuntos/{attachment.public_id}/"
        response = login(cast.agent).get(url)
        assert response.status_code == 200
        assert _body(response) == BIG
        assert login(cast.agent_ops).get(url).status_code == 404


class TestApi:
    def test_an_upload_used_in_a_reply_is_copied_and_its_object_deleted_after_commit(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        api_as: Callable[..., ApiClient],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        ticket = open_ticket()
        api = api_as(cast.agent, "write")
        answer = api.upload("/api/v1/uploads", {"file": upload("informe.pdf", BIG)})
        assert answer.status_code == 201, answer.content
        upload_row = Upload.objects.get()
        upload_key = f"adjuntos/{upload_row.file.name}"
        assert s3_storage.keys() == [upload_key]
        assert s3_storage.server.anonymous_get(s3_storage.bucket, upload_key) == 403

        with django_capture_on_commit_callbacks(execute=True):
            answer = api.post(
                f"/api/v1/tickets/{ticket.reference}/replies",
                {"body": "Adjunto el informe.", "attachments": [answer.json()["id"]]},
            )
        assert answer.status_code == 201, answer.content
        attachment = Attachment.objects.get(message__ticket=ticket)
        attachment_key = f"adjuntos/{attachment.file.name}"
        assert s3_storage.keys() == [attachment_key]
        assert s3_storage.read(attachment_key) == BIG
        assert not Upload.objects.exists()

        download = api.get(f"/api/v1/attachments/{attachment.public_id}")
        assert download.status_code == 200
        assert _body(download) == BIG

    def test_another_agent_cannot_take_an_upload_and_it_stays_for_its_owner(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        api_as: Callable[..., ApiClient],
    ) -> None:
        ticket = open_ticket()
        answer = api_as(cast.agent, "write").upload(
            "/api/v1/uploads", {"file": upload("informe.pdf")}
        )
        other = api_as(cast.supervisor, "write").post(
            f"/api/v1/tickets/{ticket.reference}/replies",
            {"body": "Con el archivo de otro.", "attachments": [answer.json()["id"]]},
        )
        assert other.status_code == 422
        assert not Attachment.objects.exists()
        assert len(s3_storage.keys()) == 1  # the upload, still there for its owner


def test_an_internal_notes_file_is_stored_like_any_other(
    cast: Cast, open_ticket: OpenTicket, s3_storage: S3Storage
) -> None:
    ticket = open_ticket()
    note = services.ticket_add_note(
        ticket=ticket, agent=cast.agent, body="interno", files=[upload("interno.txt")]
    )
    attachment = note.attachments.get()
    assert s3_storage.keys() == [f"adjuntos/{attachment.file.name}"]
    assert login(cast.ana).get(_download_url(attachment)).status_code == 404


def test_two_files_of_one_name_are_two_objects(
    cast: Cast, open_ticket: OpenTicket, s3_storage: S3Storage
) -> None:
    ticket = open_ticket(files=[upload("a.txt", b"uno"), upload("a.txt", b"dos")])
    names = [a.file.name for a in Attachment.objects.filter(message__ticket=ticket)]
    assert len(set(names)) == 2
    assert [s3_storage.read(f"adjuntos/{name}") for name in names] == [b"uno", b"dos"]
