"""Staff handle the quarantine: each agent sees his departments' messages (supervisors and
administrators also those without a department), and discards a message or accepts it for an
account, as a new ticket or as a reply on one of the account's tickets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from atiende.core.errors import DomainError, NotFound
from atiende.mail.inbound.quarantine import (
    access_inbound_for_agent,
    inbound_accept,
    inbound_discard,
    inbound_quarantine_list_for_agent,
)
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.tickets import services
from atiende.tickets.lifecycle import Status
from atiende.tickets.models import ActorKind, Channel, Ticket
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import AUTHSERV_ID, eml, receive

OpenTicket = Callable[..., Ticket]
Outcome = InboundMessage.Outcome


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


@pytest.fixture
def quarantined(cast: Cast) -> dict[str, InboundMessage]:
    """A stranger's message on each department's address, and one on no department."""
    rows = {
        "soporte": receive(eml(sender="nuevo@example.org", subject="Soporte"), cast.soporte),
        "operaciones": receive(
            eml(sender="nuevo@example.org", subject="Operaciones"), cast.operaciones
        ),
        "none": receive(eml(sender="nuevo@example.org", subject="Sin departamento")),
    }
    assert {row.outcome for row in rows.values()} == {Outcome.QUARANTINED}
    return rows


class TestTheList:
    def test_an_agent_sees_his_departments_messages(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        assert list(inbound_quarantine_list_for_agent(agent=cast.agent)) == [quarantined["soporte"]]
        assert list(inbound_quarantine_list_for_agent(agent=cast.agent_ops)) == [
            quarantined["operaciones"]
        ]

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_supervisors_and_admins_see_all_and_those_without_department(
        self, cast: Cast, quarantined: dict[str, InboundMessage], who: str
    ) -> None:
        staff = getattr(cast, who)
        assert set(inbound_quarantine_list_for_agent(agent=staff)) == set(quarantined.values())

    def test_customers_see_nothing(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        assert not inbound_quarantine_list_for_agent(agent=cast.ana).exists()

    def test_only_what_is_in_quarantine(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        receive(eml(subject="Ana abre un ticket"), cast.soporte)
        inbound_discard(inbound=quarantined["soporte"], agent=cast.agent)
        assert not inbound_quarantine_list_for_agent(agent=cast.agent).exists()

    def test_another_department_s_message_is_not_found(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        with pytest.raises(NotFound):
            access_inbound_for_agent(agent=cast.agent, inbound_id=quarantined["operaciones"].pk)
        with pytest.raises(NotFound):
            inbound_discard(inbound=quarantined["none"], agent=cast.agent)
        with pytest.raises(NotFound):
            inbound_accept(
                inbound=quarantined["operaciones"], agent=cast.agent, account=cast.account
            )
        assert InboundMessage.objects.filter(outcome=Outcome.QUARANTINED).count() == 3


class TestDiscard:
    def test_records_who_and_when_and_keeps_the_message(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        row = inbound_discard(inbound=quarantined["soporte"], agent=cast.agent)
        assert row.outcome == Outcome.DISCARDED
        assert row.handled_by == cast.agent
        assert row.handled_at is not None
        assert row.raw

    def test_twice_says_it_left_the_quarantine(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        inbound_discard(inbound=quarantined["soporte"], agent=cast.agent)
        with pytest.raises(DomainError):
            inbound_discard(inbound=quarantined["soporte"], agent=cast.agent)


class TestAccept:
    def test_as_a_new_ticket_for_the_account_s_holder(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        ticket = inbound_accept(
            inbound=quarantined["soporte"], agent=cast.agent, account=cast.account
        )

        assert ticket.account == cast.account
        assert ticket.customer == cast.ana
        assert ticket.department == cast.soporte
        assert ticket.subject == "Soporte"
        assert ticket.channel == Channel.EMAIL
        message = ticket.messages.get()
        assert message.sender_email == "nuevo@example.org"
        assert message.author_kind == ActorKind.EMAIL
        row = InboundMessage.objects.get(pk=quarantined["soporte"].pk)
        assert row.outcome == Outcome.ACCEPTED
        assert (row.ticket, row.ticket_message, row.handled_by) == (ticket, message, cast.agent)
        assert row.handled_at is not None
        assert OutboxMessage.objects.filter(ticket=ticket, template="ticket_receipt").exists()

    def test_without_a_department_in_the_first_active_one(
        self, cast: Cast, quarantined: dict[str, InboundMessage]
    ) -> None:
        ticket = inbound_accept(inbound=quarantined["none"], agent=cast.admin, account=cast.account)
        assert ticket.department == cast.atencion

    def test_as_a_customer_reply_on_the_account_s_ticket(
        self, cast: Cast, open_ticket: OpenTicket, quarantined: dict[str, InboundMessage]
    ) -> None:
        ticket = open_ticket()
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
        accepted = inbound_accept(
            inbound=quarantined["soporte"],
            agent=cast.agent,
            account=cast.account,
            ticket_reference=ticket.reference.lower().replace("-", " "),
        )
        assert accepted == ticket
        ticket.refresh_from_db()
        assert ticket.messages.count() == 2
        assert ticket.status == Status.OPEN

    def test_never_into_another_account_s_ticket(
        self, cast: Cast, open_ticket: OpenTicket, quarantined: dict[str, InboundMessage]
    ) -> None:
        others = open_ticket(customer=cast.otro)
        with pytest.raises(NotFound):
            inbound_accept(
                inbound=quarantined["soporte"],
                agent=cast.agent,
                account=cast.account,
                ticket_reference=others.reference,
            )
        assert others.messages.count() == 1
        assert InboundMessage.objects.get(pk=quarantined["soporte"].pk).outcome == (
            Outcome.QUARANTINED
        )

    def test_an_unreadable_message_goes_in_whole_as_an_eml_file(
        self, cast: Cast, settings: Any
    ) -> None:
        settings.ATIENDE_MAIL_MAX_PARTS = 2
        raw = eml(attachments=[(f"f{n}.txt", b"x", "text/plain") for n in range(4)])
        row = receive(raw, cast.soporte)
        assert row.outcome == Outcome.QUARANTINED

        ticket = inbound_accept(inbound=row, agent=cast.agent, account=cast.account)

        message = ticket.messages.get()
        [original] = message.attachments.all()
        assert original.filename == "message.eml"
        assert original.file.read() == raw
        assert "message.eml" in message.body
