"""What we send is threaded so that the customer's *Reply* comes back to the right ticket:
Reply-To the department's address, References the thread root and the conversation so far,
In-Reply-To its latest message. Nothing anybody typed can add a header."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.compose import compose, ticket_thread_root
from atiende.mail.outbound.outbox import enqueue, outbox_deliver_due
from atiende.tickets import services
from atiende.tickets.models import Ticket
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import AUTHSERV_ID, eml, message_id_new, receive

OpenTicket = Callable[..., Ticket]
INJECTION = "\r\nBcc: evil@example.com"


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


def _to_ana(ticket: Ticket, template: str) -> OutboxMessage:
    return OutboxMessage.objects.filter(
        ticket=ticket, template=template, to="ana@example.com"
    ).latest("id")


def _delivered() -> list[email.message.EmailMessage]:
    outbox_deliver_due()
    return [
        email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
        for sent in mail.outbox
    ]


class TestReplyTo:
    def test_is_the_department_s_address_when_it_has_one(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        cast.soporte.email = "soporte@atiende.test"
        cast.soporte.save()
        ticket = open_ticket()
        receipt_row = _to_ana(ticket, "ticket_receipt")
        assert receipt_row.headers["Reply-To"] == "soporte@atiende.test"
        [receipt] = [m for m in _delivered() if m["To"] == "ana@example.com"]
        assert receipt["Reply-To"] == "soporte@atiende.test"

    def test_staff_mail_has_none_so_an_agents_reply_is_not_taken_for_the_customers(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        cast.soporte.email = "soporte@atiende.test"
        cast.soporte.save()
        ticket = open_ticket()
        staff_rows = OutboxMessage.objects.filter(ticket=ticket, template="staff_new_ticket")
        assert staff_rows.exists()
        for row in staff_rows:
            assert "Reply-To" not in row.headers

    def test_is_absent_when_it_has_none(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        assert "Reply-To" not in _to_ana(ticket, "ticket_receipt").headers


class TestReferences:
    def test_the_root_then_the_conversation_and_in_reply_to_its_latest(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        root = ticket_thread_root(ticket.reference)
        receipt = _to_ana(ticket, "ticket_receipt")
        assert receipt.headers["References"] == root
        assert receipt.headers["In-Reply-To"] == root
        assert receipt.headers["Auto-Submitted"] == "auto-generated"

        services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Revisó el DNS?")
        first = _to_ana(ticket, "ticket_staff_reply")
        assert first.headers["References"] == f"{root} {receipt.message_id}"
        assert first.headers["In-Reply-To"] == receipt.message_id

        answered = message_id_new()
        row = receive(eml(message_id=answered, subject="Re:", in_reply_to=first.message_id))
        assert row.ticket == ticket

        services.ticket_reply(ticket=ticket, author=cast.agent, body="Ya quedó.")
        second = _to_ana(ticket, "ticket_staff_reply")
        assert second.headers["References"].split() == [
            root,
            receipt.message_id,
            first.message_id,
            answered,
        ]
        assert second.headers["In-Reply-To"] == answered

        sent = [m for m in _delivered() if m["Message-ID"] == second.message_id]
        assert [m["In-Reply-To"] for m in sent] == [answered]
        assert sent[0]["References"].split() == second.headers["References"].split()
        assert sent[0]["Auto-Submitted"] == "auto-generated"

    def test_each_recipient_s_chain_holds_the_mail_he_received(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        receipt = _to_ana(ticket, "ticket_receipt")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Hola")
        chain = _to_ana(ticket, "ticket_staff_reply").headers["References"].split()
        staff_rows = OutboxMessage.objects.filter(ticket=ticket, template="staff_new_ticket")
        assert receipt.message_id in chain
        assert not {row.message_id for row in staff_rows} & set(chain)

    def test_ill_formed_message_ids_never_reach_a_header(self) -> None:
        composed = compose(
            template="inbound_unknown_sender",
            language="en",
            context={"address": "x@example.org"},
            thread=["<ok@example.org>", "<bad\r\nBcc: evil@example.com>", "no-brackets"],
        )
        assert composed.headers["References"] == "<ok@example.org>"
        assert composed.headers["In-Reply-To"] == "<ok@example.org>"


class TestNoHeaderInjection:
    def test_through_an_e_mailed_subject(self, cast: Cast) -> None:
        encoded = "=?utf-8?q?Hola=0D=0ABcc=3A_evil=40example=2Ecom?="
        row = receive(eml(subject=encoded), department=cast.soporte)
        assert row.ticket is not None
        assert "\r" not in row.ticket.subject and "\n" not in row.ticket.subject
        for sent in _delivered():
            assert sent["Bcc"] is None
            assert "evil@example.com" not in str(sent["To"])
        assert all("evil@example.com" not in message.bcc for message in mail.outbox)
        assert all(message.recipients() == [message.to[0]] for message in mail.outbox)

    def test_through_a_subject_typed_in_the_portal(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject=f"Hola{INJECTION}")
        receipt = _to_ana(ticket, "ticket_receipt")
        assert "\n" not in receipt.subject and "\r" not in receipt.subject
        [sent] = [m for m in _delivered() if m["To"] == "ana@example.com"]
        assert sent["Bcc"] is None

    def test_through_a_customer_s_name(self, cast: Cast, open_ticket: OpenTicket) -> None:
        type(cast.ana).objects.filter(pk=cast.ana.pk).update(full_name=f"Ana{INJECTION}")
        cast.ana.refresh_from_db()
        open_ticket()
        services.ticket_reply(ticket=Ticket.objects.get(), author=cast.agent, body="Hola")
        for sent in _delivered():
            assert sent["Bcc"] is None
        assert all("evil@example.com" not in message.recipients() for message in mail.outbox)

    @pytest.mark.parametrize(
        "address",
        [
            f"ana@example.com{INJECTION}",
            "ana@example.com\nBcc: evil@example.com",
            "ana@example.com, evil@example.com",
            "Ana <ana@example.com>",
            "ana@exa\x00mple.com",
            "",
        ],
    )
    def test_a_recipient_that_is_not_one_bare_address_is_refused(self, address: str) -> None:
        with pytest.raises(ValueError):
            enqueue(template="inbound_unknown_sender", to=address, language="en", context={})

    def test_a_reply_to_with_a_line_break_is_refused(self) -> None:
        with pytest.raises(ValueError):
            compose(
                template="inbound_unknown_sender",
                language="en",
                context={},
                reply_to=f"soporte@atiende.test{INJECTION}",
            )
