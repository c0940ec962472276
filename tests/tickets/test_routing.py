"""Who works a ticket: assignment, collaborators and department moves follow the rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from atiende.core.errors import DomainError, NotFound, StaleState
from atiende.mail.models import OutboxMessage
from atiende.tickets import routing, services
from atiende.tickets.models import Event, Ticket
from tests.conftest import Cast, staff_create


class TestAssign:
    def test_an_agent_takes_a_ticket_of_his_department(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        ticket = open_ticket()
        routing.ticket_assign(
            ticket=ticket, assignee=cast.agent, actor=cast.agent, expected_assignee_id=None
        )
        ticket.refresh_from_db()
        assert ticket.assignee == cast.agent
        event = Event.objects.get(ticket=ticket, kind=Event.Kind.ASSIGNED)
        assert event.actor == cast.agent
        assert event.data["to"] == cast.agent.pk
        # Taking a ticket yourself sends yourself nothing.
        assert not OutboxMessage.objects.filter(template="staff_ticket_assigned").exists()

    def test_an_agent_cannot_give_a_ticket_to_someone_else(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        colleague = staff_create("colega@example.com", "Colega", cast.soporte)
        ticket = open_ticket()
        with pytest.raises(DomainError):
            routing.ticket_assign(ticket=ticket, assignee=colleague, actor=cast.agent)
        ticket.refresh_from_db()
        assert ticket.assignee is None
        assert not Event.objects.filter(ticket=ticket, kind=Event.Kind.ASSIGNED).exists()

    def test_a_supervisor_assigns_an_agent_of_the_department_who_is_told(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.supervisor)
        ticket.refresh_from_db()
        assert ticket.assignee == cast.agent
        mail = OutboxMessage.objects.get(template="staff_ticket_assigned")
        assert mail.to == cast.agent.email
        assert ticket.reference in mail.subject

    def test_nobody_is_assigned_outside_the_department(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        ticket = open_ticket()
        with pytest.raises(DomainError) as refused:
            routing.ticket_assign(ticket=ticket, assignee=cast.agent_ops, actor=cast.supervisor)
        assert refused.value.field == "assignee"
        ticket.refresh_from_db()
        assert ticket.assignee is None

    def test_an_agent_of_another_department_does_not_find_the_ticket(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        ticket = open_ticket()
        with pytest.raises(NotFound):
            routing.ticket_assign(ticket=ticket, assignee=cast.agent_ops, actor=cast.agent_ops)

    def test_two_agents_taking_one_ticket_at_once_one_wins(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        colleague = staff_create("colega@example.com", "Colega", cast.soporte)
        ticket = open_ticket()
        # Both pages showed the ticket unassigned.
        routing.ticket_assign(
            ticket=ticket, assignee=cast.agent, actor=cast.agent, expected_assignee_id=None
        )
        with pytest.raises(StaleState) as late:
            routing.ticket_assign(
                ticket=ticket, assignee=colleague, actor=colleague, expected_assignee_id=None
            )
        assert cast.agent.display_name in str(late.value.message)
        ticket.refresh_from_db()
        assert ticket.assignee == cast.agent
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.ASSIGNED).count() == 1


class TestCollaborators:
    def test_several_agents_work_one_ticket_and_all_hear_the_customer(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        colleague = staff_create("colega@example.com", "Colega", cast.soporte)
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        routing.ticket_collaborator_add(ticket=ticket, collaborator=colleague, actor=colleague)
        routing.ticket_collaborator_add(ticket=ticket, collaborator=colleague, actor=colleague)
        assert list(ticket.collaborators.all()) == [colleague]
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.COLLABORATOR).count() == 1

        services.ticket_reply(ticket=ticket, author=cast.ana, body="¿Alguna novedad?")
        told = set(
            OutboxMessage.objects.filter(template="staff_customer_reply").values_list(
                "to", flat=True
            )
        )
        assert told == {cast.agent.email, colleague.email}

    def test_an_agent_cannot_add_someone_else_but_a_supervisor_can(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        colleague = staff_create("colega@example.com", "Colega", cast.soporte)
        ticket = open_ticket()
        with pytest.raises(DomainError):
            routing.ticket_collaborator_add(ticket=ticket, collaborator=colleague, actor=cast.agent)
        routing.ticket_collaborator_add(
            ticket=ticket, collaborator=colleague, actor=cast.supervisor
        )
        assert list(ticket.collaborators.all()) == [colleague]

    def test_leaving_a_ticket(self, cast: Cast, open_ticket: Callable[..., Ticket]) -> None:
        ticket = open_ticket()
        routing.ticket_collaborator_add(ticket=ticket, collaborator=cast.agent, actor=cast.agent)
        routing.ticket_collaborator_remove(ticket=ticket, collaborator=cast.agent, actor=cast.agent)
        assert not ticket.collaborators.exists()


class TestMove:
    def test_a_move_needs_a_reason(self, cast: Cast, open_ticket: Callable[..., Ticket]) -> None:
        ticket = open_ticket()
        with pytest.raises(DomainError) as refused:
            routing.ticket_move(
                ticket=ticket, department=cast.operaciones, actor=cast.agent, reason="   "
            )
        assert refused.value.field == "reason"
        ticket.refresh_from_db()
        assert ticket.department == cast.soporte

    def test_a_moved_ticket_lands_unassigned_in_the_new_department(
        self, cast: Cast, open_ticket: Callable[..., Ticket]
    ) -> None:
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        routing.ticket_collaborator_add(ticket=ticket, collaborator=cast.agent, actor=cast.agent)
        routing.ticket_move(
            ticket=ticket,
            department=cast.operaciones,
            actor=cast.agent,
            reason="Es una transferencia de dominio",
        )
        ticket.refresh_from_db()
        assert ticket.department == cast.operaciones
        assert ticket.assignee is None
        assert not ticket.collaborators.exists()
        event = Event.objects.get(ticket=ticket, kind=Event.Kind.MOVED)
        assert event.reason == "Es una transferencia de dominio"
        assert event.data["from_name"] == cast.soporte.name
        # The status is untouched by a move.
        assert ticket.status == "open"
        # The agent of the old department no longer sees it.
        with pytest.raises(NotFound):
            routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)


def test_a_move_records_who_let_go_of_the_ticket(
    cast: Cast, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
    routing.ticket_move(
        ticket=ticket, department=cast.operaciones, actor=cast.agent, reason="Dominio"
    )
    event = Event.objects.get(ticket=ticket, kind=Event.Kind.MOVED)
    assert event.data["unassigned"] == cast.agent.display_name
