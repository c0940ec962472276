"""Reads and access checks: scoped to the customer's account in the query itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from atiende.core.errors import NotFound
from atiende.tickets import selectors, services
from atiende.tickets.lifecycle import Status
from atiende.tickets.models import Attachment, Ticket
from tests.conftest import Cast

OpenTicket = Callable[..., Ticket]


class TestTicketList:
    def test_both_customers_of_an_account_see_all_its_tickets_and_no_other(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        by_ana = open_ticket(customer=cast.ana)
        by_beto = open_ticket(customer=cast.beto)
        open_ticket(customer=cast.otro)
        for user in (cast.ana, cast.beto):
            listed = set(selectors.ticket_list_for_customer(user=user))
            assert listed == {by_ana, by_beto}

    def test_newest_activity_comes_first(self, cast: Cast, open_ticket: OpenTicket) -> None:
        older = open_ticket(subject="Viejo")
        newer = open_ticket(subject="Nuevo")
        assert list(selectors.ticket_list_for_customer(user=cast.ana)) == [newer, older]
        services.ticket_reply(ticket=older, author=cast.agent, body="Respuesta")
        assert list(selectors.ticket_list_for_customer(user=cast.ana)) == [older, newer]

    def test_filters_by_status_and_counts_every_status(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        open_ticket()
        closed = open_ticket()
        services.ticket_close(ticket=closed, actor=cast.ana)
        open_ticket(customer=cast.otro)
        assert list(selectors.ticket_list_for_customer(user=cast.ana, status="closed")) == [closed]
        assert selectors.ticket_status_counts_for_customer(user=cast.ana) == {
            Status.OPEN: 1,
            Status.PENDING: 0,
            Status.RESOLVED: 0,
            Status.CLOSED: 1,
        }

    def test_an_unknown_status_filter_lists_everything(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        open_ticket()
        assert selectors.ticket_list_for_customer(user=cast.ana, status="nope").count() == 1

    def test_staff_are_not_customers(self, cast: Cast) -> None:
        with pytest.raises(NotFound):
            selectors.ticket_list_for_customer(user=cast.agent)


class TestAccessTicket:
    def test_finds_the_ticket_by_any_forgiving_form_of_its_id(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        typed = ticket.reference.lower().replace("-", " ")
        assert selectors.access_ticket_for_customer(user=cast.beto, reference=typed) == ticket

    @pytest.mark.parametrize("reference", ["", "nonsense", "ATN-0000-0000"])
    def test_a_bad_or_unknown_id_is_not_found(self, cast: Cast, reference: str) -> None:
        with pytest.raises(NotFound):
            selectors.access_ticket_for_customer(user=cast.ana, reference=reference)

    def test_another_accounts_ticket_is_not_found(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(customer=cast.otro)
        with pytest.raises(NotFound):
            selectors.access_ticket_for_customer(user=cast.ana, reference=ticket.reference)


class TestThread:
    def test_the_customer_thread_has_public_messages_only_in_order(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(body="Primero")
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota interna secreta")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta pública")
        bodies = [m.body for m in selectors.ticket_thread_for_customer(ticket=ticket)]
        assert bodies == ["Primero", "Respuesta pública"]


class TestAccessAttachment:
    def _with_files(self, cast: Cast, open_ticket: OpenTicket) -> tuple[Ticket, Attachment]:
        ticket = open_ticket(files=[SimpleUploadedFile("a.txt", b"hola")])
        return ticket, Attachment.objects.get(message__ticket=ticket)

    def test_a_customer_of_the_account_gets_the_attachment(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        _ticket, attachment = self._with_files(cast, open_ticket)
        found = selectors.access_attachment_for_customer(
            user=cast.beto, public_id=str(attachment.public_id)
        )
        assert found == attachment

    def test_another_account_or_a_bad_id_is_not_found(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        _ticket, attachment = self._with_files(cast, open_ticket)
        for user, public_id in ((cast.otro, str(attachment.public_id)), (cast.ana, "../x")):
            with pytest.raises(NotFound):
                selectors.access_attachment_for_customer(user=user, public_id=public_id)

    def test_a_file_of_an_internal_note_is_never_the_customers(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        note = services.ticket_add_note(
            ticket=ticket,
            agent=cast.agent,
            body="Captura interna",
            files=[SimpleUploadedFile("interno.txt", b"x")],
        )
        attachment = note.attachments.get()
        with pytest.raises(NotFound):
            selectors.access_attachment_for_customer(
                user=cast.ana, public_id=str(attachment.public_id)
            )


class TestServices:
    def test_active_only_lists_the_accounts_active_services(self, cast: Cast) -> None:
        services_listed = set(selectors.service_list_for_customer(user=cast.beto, active_only=True))
        assert services_listed == {cast.hosting, cast.domain}
