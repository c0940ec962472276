"""The S3 server down, or failing half-way: a clear error, and nothing half-written.

A file goes into the bucket before its row, inside the transaction of the message: a message
that committed always has its files. A failure after a file went in rolls the rows back and
deletes the file again. "Down" is a real stopped moto server, or the settings pointing at a
loopback port nobody listens on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext

from atiende.api.models import Upload
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.mail.outbound.outbox import outbox_deliver_due
from atiende.tickets import services
from atiende.tickets.models import Attachment, Message, Ticket
from tests.api.conftest import ApiClient
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import AUTHSERV_ID, eml, receive
from tests.portal.conftest import html, login, upload
from tests.services.common import free_port
from tests.services.fixtures import S3Storage, s3_storage_use
from tests.services.s3 import S3Server
from tests.services.smtp import SmtpServer

OpenTicket = Callable[..., Ticket]
# One try, one second: an unreachable server fails the request at once in the tests.
IMPATIENT = {"max_attempts": 1, "connect_timeout": 1, "read_timeout": 2}


@pytest.fixture
def own_s3(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[S3Server, S3Storage]]:
    """A moto server of this test alone, which the test may stop."""
    server = S3Server()
    server.start()
    try:
        yield server, s3_storage_use(settings, monkeypatch, server, options=IMPATIENT)
    finally:
        server.stop()


def storage_down(settings: Any) -> None:
    """The same bucket, configured, but its server unreachable (a port nobody listens on)."""
    default = settings.STORAGES["default"]
    options = {
        **default["OPTIONS"],
        **IMPATIENT,
        "endpoint_url": f"http://127.0.0.1:{free_port()}",
    }
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": options}}


def storage_back(settings: Any, up: dict[str, Any]) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": up}


def _reply_data(ticket: Ticket, body: str, **extra: object) -> dict[str, object]:
    last = Message.objects.filter(ticket=ticket).latest("pk")
    return {"body": body, "seen_message_id": last.pk, **extra}


class TestAReplyWhileTheStorageIsDown:
    def test_the_agent_gets_a_clear_error_and_keeps_his_text_and_nothing_is_written(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        own_s3: tuple[S3Server, S3Storage],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        server, _bucket = own_s3
        ticket = open_ticket()
        server.stop()
        before = (Message.objects.count(), OutboxMessage.objects.count())
        with caplog.at_level(logging.ERROR, logger="atiende.tickets.attachments"):
            response = login(cast.agent).post(
                f"/consola/tickets/{ticket.reference}/responder/",
                _reply_data(ticket, "Le adjunto la guía.", attachments=[upload("guia.pdf")]),
            )
        assert response.status_code == 200
        page = html(response)
        assert "could not be stored just now, so nothing was saved" in page
        assert ">\nLe adjunto la guía.</textarea>" in page
        assert (Message.objects.count(), OutboxMessage.objects.count()) == before
        assert not Attachment.objects.exists()
        ticket.refresh_from_db()
        assert ticket.status == "open"
        # The operator learns why, with the storage's own error.
        assert "EndpointConnectionError" in caplog.text or "Could not connect" in caplog.text

    def test_the_customer_gets_a_clear_error_in_the_portal(
        self, cast: Cast, open_ticket: OpenTicket, s3_storage: S3Storage, settings: Any
    ) -> None:
        ticket = open_ticket()
        storage_down(settings)
        response = login(cast.ana).post(
            f"/tickets/{ticket.reference}/responder/",
            {"body": "Aquí el registro.", "attachments": [upload("registro.txt")]},
        )
        assert response.status_code == 200
        assert "could not be stored just now, so nothing was saved" in html(response)
        assert Message.objects.filter(ticket=ticket).count() == 1

    def test_a_reply_without_files_still_goes(
        self, cast: Cast, open_ticket: OpenTicket, s3_storage: S3Storage, settings: Any
    ) -> None:
        ticket = open_ticket()
        storage_down(settings)
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Sin adjuntos")
        assert Message.objects.filter(ticket=ticket, body="Sin adjuntos").exists()


class TestAFailureAfterTheFilesWentIn:
    def test_rolls_the_message_back_and_deletes_its_files_from_the_bucket(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        ticket = open_ticket()

        def failing_notify(*args: Any, **kwargs: Any) -> None:
            assert len(s3_storage.keys()) == 2  # both files are in the bucket by now
            raise RuntimeError("the outbox could not be written")

        monkeypatch.setattr(services, "ticket_notify", failing_notify)
        with pytest.raises(RuntimeError):
            services.ticket_reply(
                ticket=ticket,
                author=cast.agent,
                body="Dos archivos",
                files=[upload("uno.txt", b"1"), upload("dos.txt", b"2")],
            )
        assert not Message.objects.filter(body="Dos archivos").exists()
        assert not Attachment.objects.exists()
        assert s3_storage.keys() == []

    def test_a_new_tickets_files_go_too(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        def failing(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("no agent could be told")

        monkeypatch.setattr(services, "_notify_department_of_new_ticket", failing)
        with pytest.raises(RuntimeError):
            open_ticket(files=[upload("captura.png", b"\x89PNG\r\n\x1a\n")])
        assert not Ticket.objects.exists()
        assert s3_storage.keys() == []


class TestTheOutbox:
    def test_waits_for_the_storage_and_then_mails_the_file(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        settings: Any,
        smtp_mail: SmtpServer,
    ) -> None:
        ticket = open_ticket()
        services.ticket_reply(
            ticket=ticket, author=cast.agent, body="Guía", files=[upload("guia.pdf", b"%PDF")]
        )
        OutboxMessage.objects.exclude(template="ticket_staff_reply").delete()
        up = settings.STORAGES["default"]
        storage_down(settings)
        assert outbox_deliver_due() == 0
        row = OutboxMessage.objects.get()
        # Temporary: the file is not gone, its storage is away; the row waits for a retry.
        assert row.status == OutboxMessage.Status.QUEUED
        assert "EndpointConnectionError" in row.last_error
        assert smtp_mail.received == []

        storage_back(settings, up)
        OutboxMessage.objects.update(next_attempt_at=row.created_at)
        assert outbox_deliver_due() == 1
        [part] = smtp_mail.received[0].message.iter_attachments()
        assert part.get_content() == b"%PDF"

    def test_fails_for_good_when_the_object_is_gone(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        smtp_mail: SmtpServer,
    ) -> None:
        ticket = open_ticket()
        message = services.ticket_reply(
            ticket=ticket, author=cast.agent, body="Guía", files=[upload("guia.pdf", b"%PDF")]
        )
        OutboxMessage.objects.exclude(template="ticket_staff_reply").delete()
        attachment = message.attachments.get()
        attachment.file.storage.delete(str(attachment.file.name))
        assert outbox_deliver_due() == 0
        assert OutboxMessage.objects.get().status == OutboxMessage.Status.FAILED


class TestTheApi:
    def test_an_upload_while_the_storage_is_down_is_a_503_and_keeps_nothing(
        self,
        cast: Cast,
        s3_storage: S3Storage,
        settings: Any,
        api_as: Callable[..., ApiClient],
    ) -> None:
        storage_down(settings)
        answer = api_as(cast.agent, "write").upload(
            "/api/v1/uploads", {"file": upload("informe.pdf")}
        )
        assert answer.status_code == 503
        assert answer["Retry-After"] == "60"
        assert answer.json()["type"] == "urn:atiende:problem:storage-unavailable"
        assert not Upload.objects.exists()

    def test_a_reply_naming_an_upload_while_the_storage_is_down_keeps_the_upload(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        settings: Any,
        api_as: Callable[..., ApiClient],
    ) -> None:
        ticket = open_ticket()
        api = api_as(cast.agent, "write")
        upload_id = api.upload("/api/v1/uploads", {"file": upload("informe.pdf")}).json()["id"]
        storage_down(settings)
        answer = api.post(
            f"/api/v1/tickets/{ticket.reference}/replies",
            {"body": "Con informe", "attachments": [upload_id]},
        )
        assert answer.status_code == 503
        assert not Message.objects.filter(body="Con informe").exists()
        assert Upload.objects.filter(public_id=upload_id).exists()  # for the next try
        assert len(s3_storage.keys()) == 1

    def test_a_download_while_the_storage_is_down_is_a_503(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        s3_storage: S3Storage,
        settings: Any,
        api_as: Callable[..., ApiClient],
    ) -> None:
        ticket = open_ticket(files=[upload("a.txt")])
        attachment = Attachment.objects.get(message__ticket=ticket)
        storage_down(settings)
        answer = api_as(cast.agent).get(f"/api/v1/attachments/{attachment.public_id}")
        assert answer.status_code == 503


def test_mail_with_a_file_while_the_storage_is_down_waits_in_quarantine(
    cast: Cast, s3_storage: S3Storage, settings: Any
) -> None:
    """The raw message is kept (in the database); the reason says what failed, and the
    message can be accepted from the quarantine once the storage is back."""
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID
    storage_down(settings)
    row = receive(eml(attachments=[("factura.pdf", b"%PDF", "application/pdf")]))
    assert row.outcome == InboundMessage.Outcome.QUARANTINED
    with translation.override(settings.LANGUAGE_CODE):  # reasons speak the site's language
        expected = gettext(
            "The attached files could not be stored just now, so nothing was saved. "
            "Try again in a few minutes."
        )
    assert expected in row.reason
    assert not Ticket.objects.exists()
