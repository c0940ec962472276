"""Ingest: a message from an authorized address opens a ticket or becomes a reply on the one it
answers, through the same services as the portal; the raw message is stored first and a second
delivery adds nothing."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext

from atiende.accounts import services as account_services
from atiende.mail.inbound.ingest import submission_key_for
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.mail.outbound.compose import ticket_thread_root
from atiende.tickets import services
from atiende.tickets.lifecycle import Status
from atiende.tickets.models import ActorKind, Channel, Event, Message, Ticket
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import AUTHSERV_ID, eml, message_id_new, receive

OpenTicket = Callable[..., Ticket]
Outcome = InboundMessage.Outcome
PDF = b"%PDF-1.4 factura"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


class TestANewTicket:
    def test_from_the_holder_with_attachments_in_the_pipe_s_department(self, cast: Cast) -> None:
        raw = eml(
            subject="Error 500 en ejemplo.mx",
            body="Desde ayer el sitio muestra un error 500.\n\nAna",
            attachments=[
                ("factura.pdf", PDF, "application/pdf"),
                ("log.txt", b"500", "text/plain"),
            ],
        )
        row = receive(raw, department=cast.operaciones)

        assert row.outcome == Outcome.TICKET
        ticket = row.ticket
        assert ticket is not None
        assert ticket.account == cast.account
        assert ticket.customer == cast.ana
        assert ticket.department == cast.operaciones
        assert ticket.channel == Channel.EMAIL
        assert ticket.subject == "Error 500 en ejemplo.mx"
        assert ticket.status == Status.OPEN
        message = ticket.messages.get()
        assert row.ticket_message == message
        assert message.body.startswith("Desde ayer el sitio muestra un error 500.")
        assert message.author == cast.ana
        assert message.author_kind == ActorKind.EMAIL
        assert message.channel == Channel.EMAIL
        assert message.sender_email == "ana@example.com"
        assert [(a.filename, a.file.read()) for a in message.attachments.all()] == [
            ("factura.pdf", PDF),
            ("log.txt", b"500"),
        ]
        assert ticket.submission_key == submission_key_for(row.sha256)
        # The raw message, stored first, compressed, exactly as it came.
        assert row.raw == raw
        assert zlib.decompress(bytes(row.raw_compressed)) == raw
        assert row.size == len(raw)
        assert row.from_address == "ana@example.com"
        assert row.channel == InboundMessage.Channel.PIPE
        assert row.department == cast.operaciones

    def test_the_customer_gets_the_receipt_and_the_department_hears_of_it(self, cast: Cast) -> None:
        ticket = receive(eml(), department=cast.soporte).ticket
        assert ticket is not None
        receipt = OutboxMessage.objects.get(ticket=ticket, template="ticket_receipt")
        assert receipt.to == "ana@example.com"
        assert receipt.subject.startswith(f"[#{ticket.reference}] ")
        notified = set(
            OutboxMessage.objects.filter(ticket=ticket, template="staff_new_ticket").values_list(
                "to", flat=True
            )
        )
        assert notified == {cast.agent.email, cast.supervisor.email}

    def test_from_a_confirmed_extra_address_for_the_account_s_holder(self, cast: Cast) -> None:
        address = account_services.authorized_address_add(
            account=cast.account, email="facturas@ejemplo.mx", added_by=cast.ana
        )
        account_services.authorized_address_confirm(token=address.token)
        row = receive(eml(sender="Contabilidad <facturas@ejemplo.mx>"), department=cast.soporte)

        assert row.outcome == Outcome.TICKET
        assert row.ticket is not None
        assert row.ticket.customer == cast.ana
        assert row.ticket.messages.get().sender_email == "facturas@ejemplo.mx"

    def test_without_a_department_it_goes_to_the_first_active_one(self, cast: Cast) -> None:
        row = receive(eml())
        assert row.ticket is not None
        assert row.ticket.department == cast.atencion  # position 0
        assert row.department is None

    @pytest.mark.parametrize("language", ["es", "en"])
    def test_without_subject_or_text_in_the_site_s_language(
        self, cast: Cast, settings: Any, language: str
    ) -> None:
        settings.LANGUAGE_CODE = language
        row = receive(eml(subject="", body="\n"), department=cast.soporte)
        assert row.ticket is not None
        with translation.override(language):
            assert row.ticket.subject == gettext("(no subject)")
            assert row.ticket.messages.get().body == gettext("(empty message)")

    def test_a_long_subject_is_cut_to_what_a_ticket_takes(self, cast: Cast) -> None:
        row = receive(eml(subject="Asunto " * 60), department=cast.soporte)
        assert row.ticket is not None
        assert len(row.ticket.subject) <= 200

    def test_a_text_longer_than_a_message_takes_is_attached_whole(self, cast: Cast) -> None:
        text = "línea de registro\n" * 4000  # 72 000 characters
        row = receive(eml(body=text), department=cast.soporte)
        message = row.ticket_message
        assert message is not None
        assert len(message.body) <= 50_000
        [whole] = message.attachments.all()
        assert whole.filename == "message.txt"
        assert whole.file.read().decode("utf-8") == text.strip()

    def test_a_quoted_history_and_html_are_kept_beside_the_text(self, cast: Cast) -> None:
        row = receive(
            eml(
                body="Sigue igual.\n\nEl lun, Soporte escribió:\n> ¿Ya funciona?\n",
                html="<p>Sigue <b>igual</b>.</p>",
            ),
            department=cast.soporte,
        )
        message = row.ticket_message
        assert message is not None
        assert message.body.startswith("Sigue igual.")
        assert "¿Ya funciona?" not in message.body
        assert "¿Ya funciona?" in message.quoted
        assert "<b>igual</b>" in message.body_html


class TestAttachmentsTheRulesRefuse:
    def test_the_message_is_kept_without_them_and_says_which_and_why(self, cast: Cast) -> None:
        cast.soporte.max_attachment_mb = 1
        cast.soporte.save()
        row = receive(
            eml(
                attachments=[
                    ("instalar.exe", b"MZ\x90\x00programa", "application/octet-stream"),
                    ("foto.jpg", b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024), "image/jpeg"),
                    ("factura.pdf", PDF, "application/pdf"),
                ]
            ),
            department=cast.soporte,
        )
        assert row.outcome == Outcome.TICKET
        message = row.ticket_message
        assert message is not None
        assert [a.filename for a in message.attachments.all()] == ["factura.pdf"]
        assert "instalar.exe" in message.body
        assert "foto.jpg" in message.body
        assert "factura.pdf" not in message.body
        assert row.raw.count(b"instalar.exe") >= 1  # kept in the original for staff

    def test_an_html_message_says_it_too_since_its_html_is_what_is_shown(self, cast: Cast) -> None:
        row = receive(
            eml(
                html="<p>Adjunto el <b>instalador</b>.</p>",
                attachments=[("instalar<x>.exe", b"MZ\x90\x00", "application/octet-stream")],
            ),
            department=cast.soporte,
        )
        message = row.ticket_message
        assert message is not None
        assert "instalar&lt;x&gt;.exe" in message.body_html  # the note, escaped
        assert "<x>" not in message.body_html


class TestInlineImages:
    def test_are_stored_and_their_cid_links_name_the_attachment(self, cast: Cast) -> None:
        row = receive(
            eml(
                html='<p>Así se ve:</p><img src="cid:captura@ana" alt="captura">',
                inline=[("captura@ana", PNG, "image/png")],
            ),
            department=cast.soporte,
        )
        message = row.ticket_message
        assert message is not None
        [image] = message.attachments.all()
        assert image.file.read() == PNG
        assert image.content_type == "image/png"
        assert f'src="cid:{image.public_id}"' in message.body_html
        assert "captura@ana" not in message.body_html


class TestAReply:
    @pytest.fixture
    def ticket(self, cast: Cast, open_ticket: OpenTicket) -> Ticket:
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Puede revisar el DNS?")
        ticket.refresh_from_db()
        assert ticket.status == Status.PENDING
        return ticket

    @pytest.mark.parametrize(
        "subject",
        [
            "Re: [#{ref}] Mi sitio no carga",
            "RE: Re: [#{ref}] Mi sitio no carga",
            "re: [#{lower}] mi sitio no carga",
            "Respuesta al ticket {spaced}",
        ],
    )
    def test_by_the_id_in_the_subject(self, cast: Cast, ticket: Ticket, subject: str) -> None:
        ref = ticket.reference
        text = subject.format(ref=ref, lower=ref.lower(), spaced=ref.replace("-", " "))
        row = receive(eml(subject=text, body="Ya lo revisé, sigue igual."))

        assert row.outcome == Outcome.REPLY
        assert row.ticket == ticket
        message = ticket.messages.order_by("id").last()
        assert message is not None
        assert row.ticket_message == message
        assert message.body == "Ya lo revisé, sigue igual."
        assert message.author == cast.ana
        assert message.channel == Channel.EMAIL
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN

    def test_by_in_reply_to_of_our_notification(self, cast: Cast, ticket: Ticket) -> None:
        ours = OutboxMessage.objects.get(ticket=ticket, template="ticket_staff_reply")
        row = receive(eml(subject="Re: lo que me pidió", in_reply_to=ours.message_id))
        assert row.outcome == Outcome.REPLY
        assert row.ticket == ticket

    def test_by_references(self, cast: Cast, ticket: Ticket) -> None:
        row = receive(
            eml(
                subject="Sin el ID",
                references=[ticket_thread_root(ticket.reference), message_id_new()],
            )
        )
        assert row.outcome == Outcome.REPLY
        assert row.ticket == ticket

    def test_by_another_user_of_the_account_acting_as_himself(
        self, cast: Cast, ticket: Ticket
    ) -> None:
        row = receive(eml(sender="beto@example.com", subject=f"Re: [#{ticket.reference}]"))
        assert row.ticket_message is not None
        assert row.ticket_message.author == cast.beto

    @pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
    def test_reopens_a_resolved_or_closed_ticket_like_a_portal_reply(
        self, cast: Cast, ticket: Ticket, status: Status
    ) -> None:
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
        if status == Status.CLOSED:
            services.ticket_close(ticket=ticket, actor=cast.agent)
        ticket.refresh_from_db()
        assert ticket.status == status

        receive(eml(subject=f"Re: [#{ticket.reference}]", body="Volvió a fallar."))

        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN
        event = Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS).order_by("id").last()
        assert event is not None
        assert (event.old_status, event.new_status) == (status, Status.OPEN)
        assert event.actor == cast.ana
        assert event.actor_kind == ActorKind.EMAIL


class TestTheSameMessageTwice:
    def test_the_same_bytes_add_nothing(self, cast: Cast) -> None:
        raw = eml()
        first = receive(raw, department=cast.soporte)
        outbox = OutboxMessage.objects.count()
        second = receive(raw, department=cast.soporte)

        assert second.pk == first.pk
        assert second.outcome == Outcome.TICKET
        assert InboundMessage.objects.count() == 1
        assert Ticket.objects.count() == 1
        assert Message.objects.count() == 1
        assert OutboxMessage.objects.count() == outbox

    def test_a_resend_with_other_transport_headers_is_a_duplicate(self, cast: Cast) -> None:
        message_id = message_id_new()
        raw = eml(message_id=message_id)
        first = receive(raw, department=cast.soporte)
        again = b"Received: from relay2.example.com by mx.atiende.test; retry\r\n" + raw
        second = receive(again, department=cast.soporte)

        assert second.pk != first.pk
        assert second.outcome == Outcome.IGNORED
        assert f"#{first.pk}" in second.reason
        assert second.raw == again
        assert Ticket.objects.count() == 1
        assert Message.objects.count() == 1

    def test_a_reply_received_twice_is_one_message(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        raw = eml(subject=f"Re: [#{ticket.reference}]", body="Gracias")
        receive(raw)
        receive(raw)
        assert ticket.messages.filter(body="Gracias").count() == 1
