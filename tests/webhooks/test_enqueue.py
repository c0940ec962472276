"""Each ticket event writes one delivery per active endpoint subscribed to its type, in the
transaction of the change, with a body that says what the ticket became."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from atiende.mail.models import OutboxMessage
from atiende.tickets import routing, services
from atiende.tickets.models import Event, Ticket
from atiende.webhooks.models import WebhookEndpoint, WebhookEvent
from tests.conftest import Cast
from tests.webhooks.conftest import MakeEndpoint

OpenTicket = Callable[..., Ticket]
Kind = OutboxMessage.Kind


def deliveries(endpoint: WebhookEndpoint | None = None) -> list[OutboxMessage]:
    rows = OutboxMessage.objects.filter(kind=Kind.WEBHOOK).order_by("id")
    return list(rows if endpoint is None else rows.filter(endpoint=endpoint))


def types(endpoint: WebhookEndpoint | None = None) -> list[str]:
    return [row.subject for row in deliveries(endpoint)]


def body(row: OutboxMessage) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(row.body_text)
    return parsed


class TestEachEventItsType:
    def test_a_full_life_gives_each_subscribed_type_in_order(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        everything = endpoint()
        ticket = open_ticket()
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota.")
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta.")
        routing.ticket_collaborator_add(ticket=ticket, collaborator=cast.agent, actor=cast.agent)
        routing.ticket_move(
            ticket=ticket, department=cast.atencion, actor=cast.supervisor, reason="Facturación"
        )
        services.ticket_reply(ticket=ticket, author=cast.ana, body="Gracias.")

        assert types(everything) == [
            WebhookEvent.TICKET_CREATED,
            WebhookEvent.TICKET_NOTE_ADDED,
            WebhookEvent.TICKET_ASSIGNED,
            WebhookEvent.TICKET_REPLIED,
            WebhookEvent.TICKET_STATUS_CHANGED,  # open -> pending, by the reply
            # (a collaborator is no webhook event)
            WebhookEvent.TICKET_MOVED,
            WebhookEvent.TICKET_REPLIED,
            WebhookEvent.TICKET_STATUS_CHANGED,  # pending -> open, by the customer
        ]
        # One per event that has a type: nothing for the collaborator.
        assert (
            Event.objects.filter(ticket=ticket).exclude(kind=Event.Kind.COLLABORATOR).count() == 8
        )
        assert {row.ticket_id for row in deliveries()} == {ticket.pk}

    @pytest.mark.parametrize("subscribed", list(WebhookEvent.values))
    def test_an_endpoint_gets_exactly_the_type_it_subscribed_to(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint, subscribed: str
    ) -> None:
        one = endpoint(subscribed)
        ticket = open_ticket()
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota.")
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta.", resolve=True)
        routing.ticket_move(
            ticket=ticket, department=cast.atencion, actor=cast.supervisor, reason="Otra área"
        )
        assert types(one) == [subscribed]

    def test_two_endpoints_each_get_their_own_delivery(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        first = endpoint(WebhookEvent.TICKET_CREATED, path="/a")
        second = endpoint(WebhookEvent.TICKET_CREATED, WebhookEvent.TICKET_REPLIED, path="/b")
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.ana, body="Más datos.")
        assert types(first) == [WebhookEvent.TICKET_CREATED]
        assert types(second) == [WebhookEvent.TICKET_CREATED, WebhookEvent.TICKET_REPLIED]
        ids = [row.message_id for row in deliveries()]
        assert len(set(ids)) == 3  # a delivery ID per endpoint and event

    def test_auto_close_of_a_pending_ticket_tells_both_status_changes(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        statuses = endpoint(WebhookEvent.TICKET_STATUS_CHANGED)
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Sigue?")
        ticket.refresh_from_db()
        assert ticket.auto_close_at is not None
        assert services.ticket_auto_close(ticket_id=ticket.pk, moment=ticket.auto_close_at)
        changes = [body(row)["data"]["event"] for row in deliveries(statuses)]
        assert [(c["old_status"], c["new_status"]) for c in changes] == [
            ("open", "pending"),
            ("pending", "resolved"),
            ("resolved", "closed"),
        ]
        assert changes[-1]["actor"] == {"kind": "system", "email": None}


class TestNobodyListening:
    def test_an_inactive_endpoint_gets_nothing(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        endpoint(active=False)
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Hola.")
        assert deliveries() == []

    def test_an_endpoint_subscribed_to_other_events_gets_nothing(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        endpoint(WebhookEvent.TICKET_MOVED)
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Hola.")
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota.")
        assert deliveries() == []

    def test_without_endpoints_an_event_costs_one_query_more(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        with CaptureQueriesContext(connection) as captured:
            services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Nota.")
        endpoint_reads = [
            query["sql"]
            for query in captured.captured_queries
            if WebhookEndpoint._meta.db_table in query["sql"]
        ]
        assert len(endpoint_reads) == 1
        assert deliveries() == []


class TestOneTransaction:
    def test_a_change_rolled_back_leaves_no_delivery(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        endpoint()
        ticket = open_ticket()
        before = len(deliveries())
        with pytest.raises(RuntimeError), transaction.atomic():
            services.ticket_reply(ticket=ticket, author=cast.agent, body="Se deshace.")
            assert len(deliveries()) == before + 2  # replied, status changed
            raise RuntimeError("rolled back")
        assert len(deliveries()) == before
        assert not Event.objects.filter(ticket=ticket, kind=Event.Kind.MESSAGE).exists()

    def test_a_refused_change_leaves_no_delivery(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        endpoint()
        ticket = open_ticket()
        before = len(deliveries())
        with pytest.raises(Exception):  # noqa: B017  (StaleState: any refusal will do)
            services.ticket_close(ticket=ticket, actor=cast.ana, expected_status="pending")
        assert len(deliveries()) == before


class TestThePayload:
    def test_a_reply_carries_the_ticket_after_it_the_event_and_the_message(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        replies = endpoint(WebhookEvent.TICKET_REPLIED)
        ticket = open_ticket(service=cast.hosting)
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        reply = services.ticket_reply(ticket=ticket, author=cast.ana, body="Sigue sin cargar.")
        [row] = deliveries(replies)
        payload = body(row)

        assert set(payload) == {"id", "type", "created_at", "data"}
        assert payload["id"] == row.message_id
        assert payload["type"] == "ticket.replied" == row.subject
        assert row.to == "" and row.template == "webhook"
        assert row.ticket_id == ticket.pk
        assert set(payload["data"]) == {"ticket", "event", "message"}
        ticket_part = payload["data"]["ticket"]
        assert ticket_part["id"] == ticket.reference
        assert ticket_part["assignee"] == cast.agent.email
        assert ticket_part["service"]["name"] == cast.hosting.name
        assert ticket_part["customer"]["email"] == cast.ana.email
        assert payload["data"]["event"]["kind"] == "message"
        assert payload["data"]["event"]["data"] == {
            "message": str(reply.public_id),
            "internal": False,
        }
        message = payload["data"]["message"]
        assert message["id"] == str(reply.public_id)
        assert message["body"] == "Sigue sin cargar."
        assert message["internal"] is False
        assert message["author"]["email"] == cast.ana.email
        # Datetimes as ISO 8601, in UTC.
        assert payload["created_at"].endswith("Z")
        assert payload["created_at"] == payload["data"]["event"]["created_at"]

    def test_a_note_is_marked_internal(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        notes = endpoint(WebhookEvent.TICKET_NOTE_ADDED)
        ticket = open_ticket()
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Sólo para nosotros.")
        [row] = deliveries(notes)
        message = body(row)["data"]["message"]
        assert message["internal"] is True
        assert message["body"] == "Sólo para nosotros."

    def test_a_new_ticket_carries_its_first_message(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        created = endpoint(WebhookEvent.TICKET_CREATED)
        ticket = open_ticket(body="Desde ayer no carga.")
        [row] = deliveries(created)
        data = body(row)["data"]
        assert data["ticket"]["status"] == "open"
        assert data["event"]["kind"] == "created"
        assert data["message"]["body"] == "Desde ayer no carga."
        assert data["ticket"]["id"] == ticket.reference

    def test_a_status_change_has_no_message_and_shows_the_new_status(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        statuses = endpoint(WebhookEvent.TICKET_STATUS_CHANGED)
        ticket = open_ticket()
        services.ticket_resolve(ticket=ticket, agent=cast.agent, reason="Listo")
        [row] = deliveries(statuses)
        data = body(row)["data"]
        assert "message" not in data
        assert data["ticket"]["status"] == "resolved"
        assert data["event"]["old_status"] == "open"
        assert data["event"]["new_status"] == "resolved"
        assert data["event"]["reason"] == "Listo"
        assert data["event"]["actor"] == {"kind": "agent", "email": cast.agent.email}

    def test_an_assignment_shows_the_new_assignee_and_both_addresses(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        assigned = endpoint(WebhookEvent.TICKET_ASSIGNED)
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.supervisor)
        routing.ticket_assign(ticket=ticket, assignee=cast.supervisor, actor=cast.supervisor)
        first, second = (body(row)["data"] for row in deliveries(assigned))
        assert first["ticket"]["assignee"] == cast.agent.email
        assert second["ticket"]["assignee"] == cast.supervisor.email
        assert second["event"]["data"]["from_email"] == cast.agent.email
        assert second["event"]["data"]["to_email"] == cast.supervisor.email

    def test_a_move_shows_the_new_department(
        self, cast: Cast, open_ticket: OpenTicket, endpoint: MakeEndpoint
    ) -> None:
        moved = endpoint(WebhookEvent.TICKET_MOVED)
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        routing.ticket_move(
            ticket=ticket, department=cast.atencion, actor=cast.supervisor, reason="Facturación"
        )
        [row] = deliveries(moved)
        data = body(row)["data"]
        assert data["ticket"]["department"] == cast.atencion.slug
        assert data["ticket"]["assignee"] is None  # the agent does not work there: let go
        assert data["event"]["data"]["to"] == cast.atencion.pk
        assert data["event"]["reason"] == "Facturación"
