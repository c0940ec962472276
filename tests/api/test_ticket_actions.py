"""The lifecycle and the people of a ticket through the API: resolve, close, reopen (409 when
the lifecycle table does not allow it now, or when `expected_status` is no longer true),
assign, move, collaborators. Each answers the ticket as it is now; each records its event;
on another department's ticket each is 404 and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from atiende.mail.models import OutboxMessage
from atiende.tickets import routing, services
from atiende.tickets.models import Event, Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast, staff_create

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]


def url(ticket: Ticket, action: str) -> str:
    return f"/api/v1/tickets/{ticket.reference}/{action}"


def status_events(ticket: Ticket) -> list[tuple[str, str, str]]:
    return list(
        Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS)
        .order_by("id")
        .values_list("action", "old_status", "new_status")
    )


class TestLifecycle:
    def test_resolve_then_reopen_then_close(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")

        resolved = laura.post(url(ticket, "resolve"), {"reason": "Se reinició Apache."})
        assert resolved.status_code == 200
        assert (resolved.json()["status"], resolved.json()["allowed_actions"]) == (
            "resolved",
            ["close", "reopen"],
        )
        assert resolved.json()["auto_close_at"] is not None

        reopened = laura.post(url(ticket, "reopen"), {})
        assert (reopened.json()["status"], reopened.json()["auto_close_at"]) == ("open", None)

        closed = laura.post(url(ticket, "close"), {"reason": "Duplicado de otro ticket."})
        assert (closed.json()["status"], closed.json()["allowed_actions"]) == ("closed", ["reopen"])

        assert status_events(ticket) == [
            ("agent_resolve", "open", "resolved"),
            ("agent_reopen", "resolved", "open"),
            ("agent_close", "open", "closed"),
        ]
        assert Event.objects.get(action="agent_close").reason == "Duplicado de otro ticket."
        assert Event.objects.get(action="agent_close").actor == cast.agent

    def test_closing_and_reopening_are_mailed_to_the_customer(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")

        laura.post(url(ticket, "close"), {})
        laura.post(url(ticket, "reopen"), {})

        assert list(
            OutboxMessage.objects.filter(to=cast.ana.email)
            .exclude(template="ticket_receipt")
            .order_by("id")
            .values_list("template", flat=True)
        ) == ["ticket_closed_by_staff", "ticket_reopened_by_staff"]

    @pytest.mark.parametrize(
        ("setup", "action"),
        [
            ("open", "reopen"),
            ("closed", "close"),
            ("closed", "resolve"),
            ("resolved", "resolve"),
        ],
    )
    def test_an_action_the_lifecycle_does_not_allow_now_is_409(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, setup: str, action: str
    ) -> None:
        ticket = open_ticket()
        if setup == "closed":
            services.ticket_close(ticket=ticket, actor=cast.ana)
        elif setup == "resolved":
            services.ticket_resolve(ticket=ticket, agent=cast.agent)
        before = status_events(ticket)

        response = api_as(cast.agent, "write").post(url(ticket, action), {})

        problem(response, 409, "transition-not-allowed")
        ticket.refresh_from_db()
        assert ticket.status == setup
        assert status_events(ticket) == before

    def test_expected_status_refuses_a_ticket_that_changed_meanwhile(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Puede revisar?")
        laura = api_as(cast.agent, "write")

        stale = laura.post(url(ticket, "resolve"), {"expected_status": "open"})

        problem(stale, 409, "conflict")
        ticket.refresh_from_db()
        assert ticket.status == "pending"
        current = laura.post(url(ticket, "resolve"), {"expected_status": "pending"})
        assert current.json()["status"] == "resolved"

    def test_an_unknown_expected_status_is_422(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").post(
            url(ticket, "close"), {"expected_status": "abierto"}
        )

        assert error_fields(problem(response, 422, "validation")) == {"expected_status"}


class TestAssigning:
    def test_an_agent_takes_a_ticket_and_lets_it_go(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")

        taken = laura.post(url(ticket, "assign"), {"assignee": "Agente@Example.com"})
        assert taken.json()["assignee"] == cast.agent.email

        released = laura.post(url(ticket, "assign"), {"assignee": None})
        assert released.json()["assignee"] is None
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.ASSIGNED).count() == 2

    def test_a_supervisor_gives_it_to_an_agent_who_is_told(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.supervisor, "write").post(
            url(ticket, "assign"), {"assignee": cast.agent.email}
        )

        assert response.json()["assignee"] == cast.agent.email
        assert OutboxMessage.objects.get(template="staff_ticket_assigned").to == cast.agent.email

    def test_an_agent_may_not_give_it_to_someone_else(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        carla = staff_create("colega@example.com", "Carla Colega", cast.soporte)
        ticket = open_ticket()

        response = api_as(cast.agent, "write").post(
            url(ticket, "assign"), {"assignee": carla.email}
        )

        # A rule of the service about the field, answered like any refused value.
        assert error_fields(problem(response, 422)) == {"assignee"}
        ticket.refresh_from_db()
        assert ticket.assignee is None

    @pytest.mark.parametrize(
        "assignee", ["nadie@example.com", "ops@example.com", "ana@example.com"]
    )
    def test_only_staff_of_the_tickets_department_can_have_it(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, assignee: str
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.supervisor, "write").post(
            url(ticket, "assign"), {"assignee": assignee}
        )

        assert error_fields(problem(response, 422)) == {"assignee"}
        ticket.refresh_from_db()
        assert ticket.assignee is None

    def test_the_assignee_field_is_required(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").post(url(ticket, "assign"), {})

        assert error_fields(problem(response, 422, "validation")) == {"assignee"}


class TestMoving:
    def test_a_ticket_moves_with_a_reason_and_leaves_the_agents_sight(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        laura = api_as(cast.agent, "write")

        response = laura.post(
            url(ticket, "move"), {"department": "operaciones", "reason": "Es del servidor."}
        )

        assert response.status_code == 200
        assert (response.json()["department"], response.json()["assignee"]) == ("operaciones", None)
        moved = Event.objects.get(ticket=ticket, kind=Event.Kind.MOVED)
        assert (moved.reason, moved.data["to_name"]) == ("Es del servidor.", "Operaciones")
        problem(laura.get(f"/api/v1/tickets/{ticket.reference}"), 404, "not-found")
        assert api_as(cast.agent_ops).get(f"/api/v1/tickets/{ticket.reference}").status_code == 200

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"department": "ventas", "reason": "Otro equipo."}, "department"),
            ({"department": "soporte-tecnico", "reason": "Ya está ahí."}, "department"),
            ({"department": "operaciones", "reason": "   "}, "reason"),
            ({"department": "operaciones"}, "reason"),
        ],
    )
    def test_a_move_that_cannot_be_is_422(
        self,
        cast: Cast,
        api_as: ApiAs,
        open_ticket: OpenTicket,
        payload: dict[str, Any],
        field: str,
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").post(url(ticket, "move"), payload)

        assert error_fields(problem(response, 422)) == {field}
        ticket.refresh_from_db()
        assert ticket.department == cast.soporte


class TestCollaborators:
    def test_an_agent_joins_and_leaves(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")

        joined = laura.post(url(ticket, "collaborators"), {"email": cast.agent.email})
        assert joined.json()["collaborators"] == [cast.agent.email]

        left = laura.delete(url(ticket, f"collaborators/{cast.agent.email}"))
        assert left.status_code == 200
        assert left.json()["collaborators"] == []
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.COLLABORATOR).count() == 2

    def test_a_supervisor_adds_others_and_adding_twice_is_once(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        sara = api_as(cast.supervisor, "write")

        sara.post(url(ticket, "collaborators"), {"email": cast.agent.email})
        again = sara.post(url(ticket, "collaborators"), {"email": cast.agent.email})

        assert again.json()["collaborators"] == [cast.agent.email]
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.COLLABORATOR).count() == 1

    def test_an_agent_may_not_add_someone_else_nor_staff_of_another_department(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        by_agent = api_as(cast.agent, "write").post(
            url(ticket, "collaborators"), {"email": cast.supervisor.email}
        )
        outsider = api_as(cast.supervisor, "write").post(
            url(ticket, "collaborators"), {"email": cast.agent_ops.email}
        )

        problem(by_agent, 422)
        problem(outsider, 422)
        assert not ticket.collaborators.exists()

    def test_removing_someone_unknown_is_404(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").delete(
            url(ticket, "collaborators/nadie@example.com")
        )

        problem(response, 404, "not-found")


class TestAnotherDepartmentsTicket:
    @pytest.mark.parametrize(
        ("action", "payload"),
        [
            ("resolve", {}),
            ("close", {}),
            ("reopen", {}),
            ("assign", {"assignee": "agente@example.com"}),
            ("move", {"department": "soporte-tecnico", "reason": "Lo tomo yo."}),
            ("collaborators", {"email": "agente@example.com"}),
        ],
    )
    def test_every_action_is_404_and_changes_nothing(
        self,
        cast: Cast,
        api_as: ApiAs,
        ops_ticket: Ticket,
        action: str,
        payload: dict[str, Any],
    ) -> None:
        events = Event.objects.filter(ticket=ops_ticket).count()

        response = api_as(cast.agent, "write").post(url(ops_ticket, action), payload)

        problem(response, 404, "not-found")
        ops_ticket.refresh_from_db()
        assert (ops_ticket.status, ops_ticket.department, ops_ticket.assignee) == (
            "open",
            cast.operaciones,
            None,
        )
        assert Event.objects.filter(ticket=ops_ticket).count() == events

    def test_leaving_it_is_404_too(self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket) -> None:
        response = api_as(cast.agent, "write").delete(
            url(ops_ticket, f"collaborators/{cast.agent.email}")
        )

        problem(response, 404, "not-found")
