"""GET /tickets/{id} with its thread, POST …/replies and POST …/notes.

A reply is public: mailed to the customer (with its files), it moves the ticket as the
lifecycle says, and on a closed ticket it needs `reopen`. A note is internal: staff see it
in the API, the customer never (neither in the portal nor by mail). Another department's
ticket is "not found" exactly like one that does not exist. Reading a thread costs the same
queries whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from atiende.core.clock import now
from atiende.mail.models import OutboxMessage
from atiende.tickets import routing, services
from atiende.tickets.models import Attachment, Message, Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]


def url(ticket: Ticket, action: str = "") -> str:
    return f"/api/v1/tickets/{ticket.reference}" + (f"/{action}" if action else "")


def detail(client: ApiClient, ticket: Ticket) -> dict[str, Any]:
    response = client.get(url(ticket))
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def customer_page(user: Any, ticket: Ticket) -> str:
    browser = Client()
    browser.force_login(user)
    response = browser.get(f"/tickets/{ticket.reference}/")
    assert response.status_code == 200
    return response.content.decode()


def upload_id(client: ApiClient, name: str = "registro.txt", content: bytes = b"error 500") -> str:
    response = client.upload("/api/v1/uploads", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


class TestReading:
    def test_the_thread_has_every_message_in_order_notes_marked_and_the_events(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(
            files=[SimpleUploadedFile("captura.png", b"\x89PNG....", content_type="image/png")]
        )
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Revisar el DNS.")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Cambió algo ayer?")
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)

        body = detail(api_as(cast.agent), ticket)

        assert [(m["author"]["kind"], m["internal"], m["body"]) for m in body["messages"]] == [
            ("customer", False, "Desde ayer el sitio ejemplo.mx muestra un error 500."),
            ("agent", True, "Revisar el DNS."),
            ("agent", False, "¿Cambió algo ayer?"),
        ]
        [attachment] = body["messages"][0]["attachments"]
        assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
            "captura.png",
            "image/png",
            8,
        )
        kinds = [event["kind"] for event in body["events"]]
        assert kinds[0] == "created"
        assert {"status", "assigned"} <= set(kinds)
        assert (body["status"], body["assignee"]) == ("pending", cast.agent.email)
        assert body["allowed_actions"] == ["resolve", "close"]

    def test_the_id_may_be_written_loosely(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        loose = ticket.reference.lower().replace("-", " ", 1)

        response = api_as(cast.agent).get(f"/api/v1/tickets/{loose}")

        assert response.json()["id"] == ticket.reference

    @pytest.mark.parametrize("reference", ["ATN-ZZZZ-ZZZZ", "nada", "ATN-7K2M"])
    def test_another_departments_ticket_is_as_unknown_as_one_that_does_not_exist(
        self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket, reference: str
    ) -> None:
        laura = api_as(cast.agent)

        foreign = laura.get(url(ops_ticket))
        unknown = laura.get(f"/api/v1/tickets/{reference}")

        assert problem(foreign, 404, "not-found") == problem(unknown, 404, "not-found")

    def test_the_other_departments_agent_sees_it(
        self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket
    ) -> None:
        assert detail(api_as(cast.agent_ops), ops_ticket)["id"] == ops_ticket.reference


class TestReplying:
    def test_a_reply_waits_on_the_customer_and_is_mailed_to_him(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()

        response = api_as(cast.agent, "write").post(
            url(ticket, "replies"), {"body": "Ya reiniciamos el servidor."}
        )

        assert response.status_code == 201
        body = response.json()
        assert (body["internal"], body["channel"], body["author"]["email"]) == (
            False,
            "api",
            cast.agent.email,
        )
        ticket.refresh_from_db()
        assert ticket.status == "pending"
        assert ticket.auto_close_at is not None
        [mail] = OutboxMessage.objects.filter(template="ticket_staff_reply")
        assert mail.to == cast.ana.email
        assert ticket.reference in mail.subject
        assert "Ya reiniciamos el servidor." in mail.body_text
        assert "Ya reiniciamos el servidor." in customer_page(cast.ana, ticket)

    def test_a_reply_may_resolve(self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()

        api_as(cast.agent, "write").post(
            url(ticket, "replies"), {"body": "Listo, ya carga.", "resolve": True}
        )

        ticket.refresh_from_db()
        assert ticket.status == "resolved"

    def test_the_replys_files_go_with_the_mail(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")
        upload = upload_id(laura)

        response = laura.post(
            url(ticket, "replies"), {"body": "Le envío el registro.", "attachments": [upload]}
        )

        [attachment] = response.json()["attachments"]
        stored = Attachment.objects.get(public_id=attachment["id"])
        assert OutboxMessage.objects.get(template="ticket_staff_reply").attachment_ids == [
            stored.pk
        ]

    def test_a_reply_to_a_closed_ticket_needs_reopen(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_close(ticket=ticket, actor=cast.ana)
        laura = api_as(cast.agent, "write")

        refused = laura.post(url(ticket, "replies"), {"body": "¿Sigue el problema?"})

        problem(refused, 409, "conflict")
        assert Message.objects.filter(ticket=ticket).count() == 1
        assert not OutboxMessage.objects.filter(template="ticket_staff_reply").exists()

        accepted = laura.post(
            url(ticket, "replies"), {"body": "¿Sigue el problema?", "reopen": True}
        )

        assert accepted.status_code == 201
        ticket.refresh_from_db()
        assert ticket.status == "pending"

    def test_an_empty_reply_is_422(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")

        assert error_fields(problem(laura.post(url(ticket, "replies"), {"body": "  "}), 422)) == {
            "body"
        }
        assert error_fields(problem(laura.post(url(ticket, "replies"), {}), 422)) == {"body"}
        assert Message.objects.filter(ticket=ticket).count() == 1

    def test_a_reply_to_another_departments_ticket_is_404_and_nothing_is_sent(
        self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket
    ) -> None:
        before = OutboxMessage.objects.count()

        response = api_as(cast.agent, "write").post(url(ops_ticket, "replies"), {"body": "Hola"})

        problem(response, 404, "not-found")
        assert Message.objects.filter(ticket=ops_ticket).count() == 1
        assert OutboxMessage.objects.count() == before


class TestInternalNotes:
    def test_a_note_is_for_staff_only_and_changes_no_status(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        mailed = set(OutboxMessage.objects.values_list("pk", flat=True))

        response = api_as(cast.agent, "write").post(
            url(ticket, "notes"), {"body": "El cliente debe tres meses; no prometer nada."}
        )

        assert response.status_code == 201
        assert response.json()["internal"] is True
        ticket.refresh_from_db()
        assert ticket.status == "open"
        new_mail = OutboxMessage.objects.exclude(pk__in=mailed)
        assert not new_mail.filter(to__in=[cast.ana.email, cast.beto.email]).exists()
        assert not any("no prometer" in mail.body_text for mail in OutboxMessage.objects.all())

    def test_the_customer_never_sees_the_note_in_the_portal(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")
        upload = upload_id(laura, "deuda.txt", b"saldo pendiente")
        laura.post(
            url(ticket, "notes"),
            {"body": "El cliente debe tres meses; no prometer nada.", "attachments": [upload]},
        )
        laura.post(url(ticket, "replies"), {"body": "Lo estamos revisando."})

        for customer in (cast.ana, cast.beto):
            page = customer_page(customer, ticket)
            assert "Lo estamos revisando." in page
            assert "no prometer" not in page
            assert "deuda.txt" not in page

    def test_a_note_keeps_its_files_for_staff(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")
        upload = upload_id(laura, "deuda.txt", b"saldo pendiente")

        note = laura.post(url(ticket, "notes"), {"body": "Ver adjunto.", "attachments": [upload]})

        [attachment] = note.json()["attachments"]
        assert detail(laura, ticket)["messages"][-1]["attachments"] == [attachment]

    def test_a_note_on_another_departments_ticket_is_404(
        self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket
    ) -> None:
        response = api_as(cast.agent, "write").post(url(ops_ticket, "notes"), {"body": "Hola"})

        problem(response, 404, "not-found")
        assert not Message.objects.filter(ticket=ops_ticket, is_internal=True).exists()


class TestCost:
    def test_a_thread_of_20_costs_the_queries_of_a_thread_of_2(
        self,
        cast: Cast,
        api_as: ApiAs,
        open_ticket: OpenTicket,
        time_machine: TimeMachineFixture,
    ) -> None:
        # One instant: the token's use and its rate count are written the same way each time.
        time_machine.move_to(now(), tick=False)

        def thread(messages: int) -> Ticket:
            ticket = open_ticket()
            routing.ticket_collaborator_add(
                ticket=ticket, collaborator=cast.agent, actor=cast.agent
            )
            for n in range(messages - 1):
                file = SimpleUploadedFile(f"registro-{n}.txt", b"linea")
                if n % 3 == 0:
                    services.ticket_add_note(
                        ticket=ticket, agent=cast.agent, body=f"Nota {n}", files=[file]
                    )
                elif n % 3 == 1:
                    services.ticket_reply(
                        ticket=ticket, author=cast.agent, body=f"Respuesta {n}", files=[file]
                    )
                else:
                    services.ticket_reply(
                        ticket=ticket, author=cast.ana, body=f"Mensaje {n}", files=[file]
                    )
            return ticket

        short, long = thread(2), thread(20)
        laura = api_as(cast.agent)
        detail(laura, short)  # the token's first use is recorded once

        def cost(ticket: Ticket, messages: int) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert len(detail(laura, ticket)["messages"]) == messages
            return len(queries.captured_queries)

        assert cost(long, 20) == cost(short, 2)
