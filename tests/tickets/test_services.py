"""The ticket services: one write path per action, each change recorded, mail in the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from atiende.core.errors import DomainError, StaleState, TransitionNotAllowed
from atiende.mail.models import OutboxMessage
from atiende.tickets import services
from atiende.tickets.lifecycle import Action, Status
from atiende.tickets.models import ActorKind, Attachment, Event, Message, Ticket
from tests.conftest import Cast

OpenTicket = Callable[..., Ticket]


def _status_events(ticket: Ticket) -> list[tuple[str, str, str]]:
    return list(
        Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS)
        .order_by("id")
        .values_list("action", "old_status", "new_status")
    )


class TestTicketOpen:
    def test_opens_an_open_ticket_of_the_customers_account_with_its_first_message(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(service=cast.hosting)
        assert ticket.status == Status.OPEN
        assert ticket.account == cast.account
        assert ticket.service == cast.hosting
        assert ticket.reference.startswith(f"{settings.ATIENDE_TICKET_PREFIX}-")
        message = ticket.messages.get()
        assert message.author == cast.ana
        assert message.author_kind == ActorKind.CUSTOMER
        assert not message.is_internal
        assert ticket.events.filter(kind=Event.Kind.CREATED).count() == 1

    def test_mails_a_receipt_with_the_id_subject_department_message_and_link(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(body="Primera línea\nSegunda línea")
        receipt = OutboxMessage.objects.get(ticket=ticket, template="ticket_receipt")
        assert receipt.to == cast.ana.email
        assert receipt.subject.startswith(f"[#{ticket.reference}] ")
        assert ticket.subject in receipt.subject
        link = f"{settings.SITE_URL}/tickets/{ticket.reference}/"
        for body in (receipt.body_text, receipt.body_html):
            assert ticket.reference in body
            assert cast.soporte.name in body
            assert link in body
        assert "Primera línea\nSegunda línea" in receipt.body_text
        assert "Primera línea<br>Segunda línea" in receipt.body_html

    def test_the_receipt_keeps_markup_as_text_in_plain_text_and_escapes_it_in_html(
        self, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="<script>x</script>", body="<b>hola</b>")
        receipt = OutboxMessage.objects.get(ticket=ticket, template="ticket_receipt")
        assert "<script>x</script>" in receipt.subject
        assert "<b>hola</b>" in receipt.body_text
        assert "<b>hola</b>" not in receipt.body_html
        assert "&lt;b&gt;hola&lt;/b&gt;" in receipt.body_html
        assert "<script>" not in receipt.body_html

    def test_the_same_submission_key_opens_one_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        key = uuid.uuid4()
        first = open_ticket(submission_key=key)
        second = open_ticket(submission_key=key, subject="Otra vez")
        assert first.pk == second.pk
        assert Ticket.objects.count() == 1
        # One receipt, and one notice to each agent of the department: none twice.
        sent = list(OutboxMessage.objects.values_list("template", "to"))
        assert len(sent) == len(set(sent))
        assert OutboxMessage.objects.filter(template="ticket_receipt").count() == 1

    def test_an_inactive_department_is_refused(self, cast: Cast, open_ticket: OpenTicket) -> None:
        cast.operaciones.is_active = False
        cast.operaciones.save()
        with pytest.raises(DomainError) as refused:
            open_ticket(department=cast.operaciones)
        assert refused.value.field == "department"
        assert not Ticket.objects.exists()

    @pytest.mark.parametrize("service_name", ["other_domain", "cancelled_ssl"])
    def test_a_service_of_another_account_or_not_active_is_refused(
        self, cast: Cast, open_ticket: OpenTicket, service_name: str
    ) -> None:
        with pytest.raises(DomainError) as refused:
            open_ticket(service=getattr(cast, service_name))
        assert refused.value.field == "service"
        assert not Ticket.objects.exists()

    @pytest.mark.parametrize(
        ("subject", "body", "field"),
        [
            ("   ", "algo", "subject"),
            ("x" * 201, "algo", "subject"),
            ("Asunto", " \n\t ", "body"),
            ("Asunto", "x" * 50_001, "body"),
        ],
    )
    def test_empty_or_too_long_text_is_refused_on_its_field(
        self, open_ticket: OpenTicket, subject: str, body: str, field: str
    ) -> None:
        with pytest.raises(DomainError) as refused:
            open_ticket(subject=subject, body=body)
        assert refused.value.field == field
        assert not Ticket.objects.exists()

    def test_control_characters_are_dropped_from_the_subject(self, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Hola\u202e\x00 mundo\r\nBcc: x")
        assert ticket.subject == "Hola mundo Bcc: x"

    def test_staff_cannot_open_tickets_as_customers(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        with pytest.raises(DomainError):
            open_ticket(customer=cast.agent)


class TestAttachments:
    def test_files_are_stored_under_our_name_inside_the_store(
        self, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(
            files=[
                SimpleUploadedFile("../../etc/passwd", b"root:x:0:0"),
                SimpleUploadedFile("fac\x00tu\x1bra\u202e.pdf", b"%PDF-1.4"),
            ]
        )
        storages: dict[str, Any] = settings.STORAGES
        store = Path(storages["default"]["OPTIONS"]["location"]).resolve()
        names = []
        for attachment in Attachment.objects.filter(message__ticket=ticket):
            path = Path(attachment.file.path).resolve()
            assert store in path.parents
            assert path.read_bytes()
            assert "/" not in attachment.filename and "\\" not in attachment.filename
            names.append(attachment.filename)
        assert names == ["passwd", "factura.pdf"]

    def test_the_declared_type_is_ignored_and_markup_is_served_as_octet_stream(
        self, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(
            files=[
                SimpleUploadedFile("a.svg", b"<svg/>", content_type="image/svg+xml"),
                SimpleUploadedFile("b.html", b"<html>", content_type="text/html"),
                SimpleUploadedFile("c.xml", b"<x/>", content_type="text/xml"),
                SimpleUploadedFile("d.png", b"\x89PNG", content_type="text/html"),
            ]
        )
        types = list(
            Attachment.objects.filter(message__ticket=ticket)
            .order_by("id")
            .values_list("content_type", flat=True)
        )
        assert types == ["application/octet-stream"] * 3 + ["image/png"]

    @pytest.mark.parametrize(
        ("name", "content"),
        [("setup.exe", b"hello"), ("foto.jpg", b"MZ\x90\x00\x03\x00"), ("x.bin", b"\x7fELF..")],
    )
    def test_programs_are_refused_by_name_or_by_content(
        self, open_ticket: OpenTicket, name: str, content: bytes
    ) -> None:
        with pytest.raises(DomainError) as refused:
            open_ticket(files=[SimpleUploadedFile(name, content)])
        assert refused.value.field == "attachments"
        assert not Ticket.objects.exists()

    def test_a_file_over_the_department_limit_is_refused(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        cast.soporte.max_attachment_mb = 1
        cast.soporte.save()
        big = SimpleUploadedFile("log.txt", b"x" * (1024 * 1024 + 1))
        with pytest.raises(DomainError) as refused:
            open_ticket(files=[big])
        assert refused.value.field == "attachments"
        assert "log.txt" in str(refused.value.message)

    def test_files_over_the_per_message_total_are_refused(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        cast.soporte.max_attachment_mb = 1
        cast.soporte.max_ticket_attachments_mb = 1
        cast.soporte.save()
        files = [SimpleUploadedFile(f"{n}.txt", b"x" * 600_000) for n in range(2)]
        with pytest.raises(DomainError) as refused:
            open_ticket(files=files)
        assert refused.value.field == "attachments"
        assert not Attachment.objects.exists()


class TestTicketReply:
    def test_an_agent_reply_waits_on_the_customer_and_mails_him_the_full_reply(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        body = "Hola Ana,\n\nReiniciamos el servidor.\n" + "Detalle. " * 300
        services.ticket_reply(ticket=ticket, author=cast.agent, body=body)
        assert ticket.status == Status.PENDING
        assert ticket.last_author_kind == ActorKind.AGENT
        assert ticket.last_author_name == cast.agent.display_name
        assert _status_events(ticket) == [(Action.AGENT_REPLY, Status.OPEN, Status.PENDING)]
        mail = OutboxMessage.objects.get(ticket=ticket, template="ticket_staff_reply")
        assert mail.to == cast.ana.email
        assert mail.subject.startswith(f"[#{ticket.reference}] ")
        assert body.strip() in mail.body_text
        assert cast.agent.display_name in mail.body_text
        assert cast.agent.display_name in mail.body_html
        assert f"{settings.SITE_URL}/tickets/{ticket.reference}/" in mail.body_text
        assert f"{settings.SITE_URL}/tickets/{ticket.reference}/" in mail.body_html

    @pytest.mark.parametrize("start", ["pending", "resolved", "closed"])
    def test_a_customer_reply_brings_the_ticket_back_to_open(
        self, cast: Cast, open_ticket: OpenTicket, start: str
    ) -> None:
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Algo más?")
        if start == "resolved":
            services.ticket_resolve(ticket=ticket, agent=cast.agent)
        if start == "closed":
            services.ticket_close(ticket=ticket, actor=cast.agent)
        assert ticket.status == start
        services.ticket_reply(ticket=ticket, author=cast.beto, body="Sigue fallando")
        assert ticket.status == Status.OPEN
        assert ticket.last_author_name == cast.beto.display_name
        assert _status_events(ticket)[-1] == (Action.CUSTOMER_REPLY, start, Status.OPEN)

    def test_a_customer_reply_sends_no_mail_to_the_customer(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.ana, body="Más datos")
        assert (
            not OutboxMessage.objects.filter(to=cast.ana.email)
            .exclude(template="ticket_receipt")
            .exists()
        )

    def test_the_same_submission_key_adds_one_message(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        key = uuid.uuid4()
        first = services.ticket_reply(
            ticket=ticket, author=cast.ana, body="Uno", submission_key=key
        )
        again = services.ticket_reply(
            ticket=ticket, author=cast.ana, body="Uno", submission_key=key
        )
        assert first.pk == again.pk
        assert ticket.messages.count() == 2

    def test_an_agent_reply_to_a_closed_ticket_needs_confirmation(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana)
        with pytest.raises(StaleState):
            services.ticket_reply(ticket=ticket, author=cast.agent, body="Hola")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Hola", confirm_reopen=True)
        assert ticket.status == Status.PENDING

    def test_an_empty_reply_changes_nothing(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        with pytest.raises(DomainError) as refused:
            services.ticket_reply(ticket=ticket, author=cast.ana, body="   ")
        assert refused.value.field == "body"
        assert ticket.messages.count() == 1


class TestCloseAndReopen:
    def test_the_customer_closes_and_reopens_with_an_event_each(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana, expected_status=Status.OPEN)
        assert ticket.status == Status.CLOSED
        services.ticket_reopen(ticket=ticket, actor=cast.beto, expected_status=Status.CLOSED)
        assert ticket.status == Status.OPEN
        assert _status_events(ticket) == [
            (Action.CUSTOMER_CLOSE, Status.OPEN, Status.CLOSED),
            (Action.CUSTOMER_REOPEN, Status.CLOSED, Status.OPEN),
        ]

    def test_a_stale_expected_status_applies_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana, expected_status=Status.OPEN)
        with pytest.raises(StaleState) as stale:
            services.ticket_close(ticket=ticket, actor=cast.beto, expected_status=Status.OPEN)
        assert str(Status.CLOSED.label) in str(stale.value.message)
        assert len(_status_events(ticket)) == 1

    def test_closing_a_closed_ticket_is_not_allowed(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana)
        with pytest.raises(TransitionNotAllowed):
            services.ticket_close(ticket=ticket, actor=cast.ana)
        assert len(_status_events(ticket)) == 1

    def test_a_customer_cannot_reopen_an_active_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        with pytest.raises(TransitionNotAllowed):
            services.ticket_reopen(ticket=ticket, actor=cast.ana)

    def test_closing_does_not_count_as_public_activity(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        updated = ticket.updated_at
        services.ticket_close(ticket=ticket, actor=cast.ana)
        assert ticket.updated_at == updated


class TestInternalNotes:
    def test_a_note_changes_no_status_and_sends_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        note = services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Cliente VIP")
        ticket.refresh_from_db()
        assert note.is_internal
        assert ticket.status == Status.OPEN
        assert OutboxMessage.objects.filter(template="ticket_staff_reply").count() == 0
        assert Message.objects.filter(ticket=ticket, is_internal=True).count() == 1

    def test_a_customer_cannot_write_notes(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        with pytest.raises(DomainError):
            services.ticket_add_note(ticket=ticket, agent=cast.ana, body="x")
