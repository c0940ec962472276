"""Threading finds the ticket a message answers: by the ID in its subject, in any form a mail
client or a person leaves it, or by In-Reply-To/References naming a message of the ticket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings

from atiende.mail.inbound.thread import ticket_for_reply
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.compose import ticket_thread_root
from atiende.tickets import services
from atiende.tickets.models import Ticket
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import (
    AUTHSERV_ID,
    eml,
    message_id_new,
    parsed_message,
    receive,
)

OpenTicket = Callable[..., Ticket]


@pytest.fixture(autouse=True)
def _our_mail_server(settings: Any) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID


@pytest.fixture
def ticket(open_ticket: OpenTicket) -> Ticket:
    return open_ticket()


def _receipt_id(ticket: Ticket) -> str:
    return OutboxMessage.objects.get(ticket=ticket, template="ticket_receipt").message_id


class TestBySubject:
    @pytest.mark.parametrize(
        "subject",
        [
            "Re: [#{ref}] Mi sitio no carga",
            "Re: RE: Fwd: [#{ref}] Mi sitio no carga",
            "RE: [#{lower}] Mi sitio no carga",
            "Sobre el ticket {spaced}",
            "AW: {compact}",
            "Re: [{ref}]",
        ],
    )
    def test_the_id_in_any_form_a_client_leaves_it(self, ticket: Ticket, subject: str) -> None:
        ref = ticket.reference
        text = subject.format(
            ref=ref,
            lower=ref.lower(),
            spaced=ref.replace("-", " ").lower(),
            compact=ref.replace("-", ""),
        )
        assert ticket_for_reply(parsed_message(subject=text)) == ticket

    def test_an_id_that_is_no_ticket_is_a_new_matter(self, ticket: Ticket) -> None:
        prefix = settings.ATIENDE_TICKET_PREFIX
        assert ticket_for_reply(parsed_message(subject=f"Re: [#{prefix}-0000-0000]")) is None

    def test_no_id_is_a_new_matter(self, ticket: Ticket) -> None:
        assert ticket_for_reply(parsed_message(subject="Otra consulta")) is None


class TestByMessageIds:
    def test_in_reply_to_our_notification(self, ticket: Ticket) -> None:
        parsed = parsed_message(subject="Re: sin ID", in_reply_to=(_receipt_id(ticket),))
        assert ticket_for_reply(parsed) == ticket

    def test_references_naming_our_notification(self, ticket: Ticket) -> None:
        parsed = parsed_message(
            subject="sin ID", references=(_receipt_id(ticket), message_id_new())
        )
        assert ticket_for_reply(parsed) == ticket

    def test_the_ticket_s_thread_root(self, ticket: Ticket) -> None:
        root = ticket_thread_root(ticket.reference)
        assert ticket_for_reply(parsed_message(subject="x", references=(root,))) == ticket
        assert ticket_for_reply(parsed_message(subject="x", in_reply_to=(root.upper(),))) == ticket

    def test_a_root_of_another_domain_names_nothing(self, ticket: Ticket) -> None:
        forged = f"<ticket.{ticket.reference.lower()}@elsewhere.example>"
        assert ticket_for_reply(parsed_message(subject="x", in_reply_to=(forged,))) is None

    def test_a_message_we_received_on_the_ticket(self, cast: Cast, ticket: Ticket) -> None:
        first = message_id_new()
        received = receive(eml(subject=f"Re: [#{ticket.reference}]", message_id=first))
        assert received.ticket == ticket
        # Beto answers Ana's e-mail, not ours: his client names only her message.
        parsed = parsed_message(
            from_address="beto@example.com", subject="Re: Re:", in_reply_to=(first,)
        )
        assert ticket_for_reply(parsed) == ticket

    def test_in_reply_to_wins_over_the_subject(
        self, open_ticket: OpenTicket, ticket: Ticket
    ) -> None:
        other = open_ticket(subject="Otra cosa")
        parsed = parsed_message(
            subject=f"Re: [#{other.reference}]", in_reply_to=(_receipt_id(ticket),)
        )
        assert ticket_for_reply(parsed) == ticket

    def test_the_subject_wins_over_older_references(
        self, open_ticket: OpenTicket, ticket: Ticket
    ) -> None:
        other = open_ticket(subject="Otra cosa")
        parsed = parsed_message(
            subject=f"Re: [#{other.reference}]", references=(_receipt_id(ticket),)
        )
        assert ticket_for_reply(parsed) == other

    def test_a_staff_reply_s_message_id(self, cast: Cast, ticket: Ticket) -> None:
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Revise el DNS.")
        reply = OutboxMessage.objects.get(ticket=ticket, template="ticket_staff_reply")
        assert (
            ticket_for_reply(parsed_message(subject="x", in_reply_to=(reply.message_id,))) == ticket
        )
