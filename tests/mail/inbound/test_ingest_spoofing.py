"""Unknown and forged senders never get into someone else's ticket: they wait in quarantine.
An unknown sender whose domain proved the From (DMARC pass) is told, once a day, how to write
to us; nobody else is answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from time_machine import TimeMachineFixture

from atiende.accounts import services as account_services
from atiende.core.clock import now
from atiende.mail.inbound.ingest import UNKNOWN_SENDER_TEMPLATE
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.tickets.lifecycle import Status
from atiende.tickets.models import Message, Ticket
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import AUTHSERV_ID, eml, receive

OpenTicket = Callable[..., Ticket]
Outcome = InboundMessage.Outcome


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


def answers(to: str | None = None) -> list[OutboxMessage]:
    rows = OutboxMessage.objects.filter(template=UNKNOWN_SENDER_TEMPLATE)
    if to is not None:
        rows = rows.filter(to=to)
    return list(rows.order_by("id"))


class TestAnotherAccountsTicket:
    def test_a_customer_writing_with_the_id_of_another_account_s_ticket_waits_in_quarantine(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        bs = open_ticket(customer=cast.otro)
        messages = list(bs.messages.values_list("pk", flat=True))
        outbox = OutboxMessage.objects.count()

        row = receive(eml(subject=f"Re: [#{bs.reference}] hola", body="Cierren esto."))

        assert row.outcome == Outcome.QUARANTINED
        assert row.ticket is None
        assert bs.reference in row.reason
        bs.refresh_from_db()
        assert list(bs.messages.values_list("pk", flat=True)) == messages
        assert bs.status == Status.OPEN
        assert OutboxMessage.objects.count() == outbox  # nobody told, nothing answered
        assert not Message.objects.filter(body="Cierren esto.").exists()

    def test_an_address_authorized_on_a_with_the_reply_headers_of_b_s_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        bs = open_ticket(customer=cast.otro)
        address = account_services.authorized_address_add(
            account=cast.account, email="facturas@ejemplo.mx", added_by=cast.ana
        )
        account_services.authorized_address_confirm(token=address.token)
        receipt = OutboxMessage.objects.get(ticket=bs, template="ticket_receipt")

        row = receive(
            eml(sender="facturas@ejemplo.mx", subject="Re:", in_reply_to=receipt.message_id)
        )

        assert row.outcome == Outcome.QUARANTINED
        assert bs.messages.count() == 1


class TestUnknownSenders:
    def test_wait_in_quarantine_and_are_told_once_a_day_when_dmarc_passed(
        self, cast: Cast, time_machine: TimeMachineFixture
    ) -> None:
        time_machine.move_to(now(), tick=False)
        first = receive(
            eml(
                sender="Desconocido <nuevo@example.org>",
                headers=[("Reply-To", "otra@example.net")],
                subject="Quiero contratar",
            ),
            department=cast.atencion,
        )
        assert first.outcome == Outcome.QUARANTINED
        assert "nuevo@example.org" in first.reason
        assert not Ticket.objects.exists()
        [answer] = answers()
        assert answer.to == "nuevo@example.org"  # the From, never the Reply-To
        assert answer.headers["Auto-Submitted"] == "auto-replied"
        assert answer.headers["In-Reply-To"] == first.message_id
        assert answer.ticket is None
        assert "/cuenta/correos/" in answer.body_text

        second = receive(eml(sender="nuevo@example.org", subject="¿Me leen?"))
        assert second.outcome == Outcome.QUARANTINED
        assert len(answers()) == 1

        time_machine.move_to(now() + timedelta(days=1, minutes=1), tick=False)
        receive(eml(sender="NUEVO@example.org", subject="Otra vez"))
        assert len(answers("nuevo@example.org")) == 2

    @pytest.mark.parametrize("dmarc", [None, "none", "fail"])
    def test_are_never_answered_without_dmarc_pass(self, cast: Cast, dmarc: str | None) -> None:
        row = receive(eml(sender="nuevo@example.org", dmarc=dmarc))
        assert row.outcome == Outcome.QUARANTINED
        assert answers() == []

    def test_a_pass_written_by_another_server_is_not_believed(self, cast: Cast) -> None:
        raw = eml(
            sender="nuevo@example.org",
            dmarc=None,
            headers=[
                ("Authentication-Results", "mx.forjado.example; dmarc=pass header.from=example.org")
            ],
        )
        receive(raw)
        assert answers() == []

    def test_a_stranger_naming_a_ticket_is_told_too_and_the_ticket_is_untouched(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        row = receive(eml(sender="colega@example.org", subject=f"Re: [#{ticket.reference}]"))
        assert row.outcome == Outcome.QUARANTINED
        assert ticket.messages.count() == 1
        assert [answer.to for answer in answers()] == ["colega@example.org"]

    def test_staff_writing_in_are_not_answered(self, cast: Cast) -> None:
        row = receive(eml(sender=cast.agent.email, subject="Re: algo"))
        assert row.outcome == Outcome.QUARANTINED
        assert answers() == []


class TestAuthorizedAddressesThatAreNotQuiteSo:
    def test_a_dmarc_failed_authorized_address_waits_in_quarantine(self, cast: Cast) -> None:
        row = receive(eml(sender="ana@example.com", dmarc="fail"), department=cast.soporte)
        assert row.outcome == Outcome.QUARANTINED
        assert "DMARC" in row.reason
        assert not Ticket.objects.exists()
        assert answers() == []

    def test_a_reply_from_an_address_removed_from_the_account(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        address = account_services.authorized_address_add(
            account=cast.account, email="facturas@ejemplo.mx", added_by=cast.ana
        )
        account_services.authorized_address_confirm(token=address.token)
        assert (
            receive(
                eml(sender="facturas@ejemplo.mx", subject=f"Re: [#{ticket.reference}] antes")
            ).outcome
            == Outcome.REPLY
        )

        account_services.authorized_address_remove(account=cast.account, address_id=address.pk)
        row = receive(eml(sender="facturas@ejemplo.mx", subject=f"Re: [#{ticket.reference}] ya no"))

        assert row.outcome == Outcome.QUARANTINED
        assert ticket.messages.count() == 2

    def test_a_reply_from_an_unconfirmed_address(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        account_services.authorized_address_add(
            account=cast.account, email="facturas@ejemplo.mx", added_by=cast.ana
        )
        row = receive(eml(sender="facturas@ejemplo.mx", subject=f"Re: [#{ticket.reference}]"))
        assert row.outcome == Outcome.QUARANTINED
        assert ticket.messages.count() == 1


class TestIdentityComesFromFromOnly:
    @pytest.mark.parametrize(
        "headers",
        [
            [("Reply-To", "ana@example.com")],
            [("Sender", "ana@example.com")],
            [("Return-Path", "<ana@example.com>")],
        ],
    )
    def test_reply_to_sender_and_return_path_grant_nothing(
        self, cast: Cast, open_ticket: OpenTicket, headers: list[tuple[str, str]]
    ) -> None:
        ticket = open_ticket()
        row = receive(
            eml(sender="intruso@example.org", subject=f"Re: [#{ticket.reference}]", headers=headers)
        )
        assert row.outcome == Outcome.QUARANTINED
        assert ticket.messages.count() == 1

    def test_a_display_name_grants_nothing(self, cast: Cast) -> None:
        row = receive(eml(sender='"ana@example.com" <intruso@example.org>'))
        assert row.outcome == Outcome.QUARANTINED
        assert row.from_address == "intruso@example.org"
        assert not Ticket.objects.exists()
