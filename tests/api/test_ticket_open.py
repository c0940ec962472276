"""POST /tickets: staff open a ticket on a customer's behalf, for the account's holder or a
named user of the account, in a department they work, optionally about one of the account's
services and with files uploaded first. The customer gets the usual receipt. Another
account's user or service, and a department the token's user does not work, are refused
without opening anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from atiende.mail.models import OutboxMessage
from atiende.tickets.models import Attachment, Event, Message, Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]


def new_ticket(cast: Cast, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "customer": str(cast.account.public_id),
        "department": "soporte-tecnico",
        "subject": "Renovación del dominio",
        "body": "El cliente llamó: quiere renovar ejemplo.com.mx por dos años.",
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


def upload_id(client: ApiClient, name: str = "factura.pdf", content: bytes = b"%PDF-1.4") -> str:
    response = client.upload("/api/v1/uploads", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


class TestOpening:
    def test_it_opens_the_ticket_for_the_accounts_holder_through_the_api_channel(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        response = api_as(cast.agent, "write").post("/api/v1/tickets", new_ticket(cast))

        assert response.status_code == 201
        body = response.json()
        ticket = Ticket.objects.get()
        assert body["id"] == ticket.reference
        assert (ticket.customer, ticket.account, ticket.department) == (
            cast.ana,
            cast.account,
            cast.soporte,
        )
        assert (body["status"], body["channel"], body["department"]) == (
            "open",
            "api",
            "soporte-tecnico",
        )
        assert body["customer"] == {
            "id": str(cast.account.public_id),
            "name": cast.account.name,
            "email": cast.ana.email,
        }
        [message] = body["messages"]
        assert message["body"] == new_ticket(cast)["body"]
        assert (message["internal"], message["author"]["email"]) == (False, cast.ana.email)
        assert [event["kind"] for event in body["events"]] == ["created"]
        assert body["allowed_actions"] == ["resolve", "close"]

    def test_the_customer_receives_the_receipt_with_the_ticket_id(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        response = api_as(cast.agent, "write").post("/api/v1/tickets", new_ticket(cast))

        [receipt] = OutboxMessage.objects.filter(template="ticket_receipt")
        assert receipt.to == cast.ana.email
        assert response.json()["id"] in receipt.subject
        # The department hears of it as of any new ticket; the other account's user never.
        assert set(
            OutboxMessage.objects.filter(template="staff_new_ticket").values_list("to", flat=True)
        ) == {cast.agent.email, cast.supervisor.email}
        assert not OutboxMessage.objects.filter(to=cast.otro.email).exists()

    def test_a_named_user_of_the_account_is_the_requester(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast, requester="BETO@example.com")
        )

        assert response.status_code == 201
        assert Ticket.objects.get().customer == cast.beto
        assert OutboxMessage.objects.get(template="ticket_receipt").to == cast.beto.email

    def test_it_may_name_one_of_the_accounts_services_by_its_external_id(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        cast.domain.external_id = "DOM-77"
        cast.domain.save(update_fields=["external_id"])

        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast, service="DOM-77")
        )

        assert response.status_code == 201
        assert Ticket.objects.get().service == cast.domain
        assert response.json()["service"] == {
            "external_id": "DOM-77",
            "kind": "domain",
            "name": "ejemplo.com.mx",
        }

    def test_files_uploaded_first_arrive_with_the_first_message(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        laura = api_as(cast.agent, "write")
        first, second = upload_id(laura), upload_id(laura, "captura.png", b"\x89PNG....")

        response = laura.post("/api/v1/tickets", new_ticket(cast, attachments=[first, second]))

        assert response.status_code == 201
        [message] = response.json()["messages"]
        assert [(a["filename"], a["size"]) for a in message["attachments"]] == [
            ("factura.pdf", 8),
            ("captura.png", 8),
        ]
        stored = Attachment.objects.get(filename="factura.pdf")
        assert stored.message.ticket.reference == response.json()["id"]
        assert stored.file.read() == b"%PDF-1.4"

    def test_an_upload_opens_one_ticket_only(self, cast: Cast, api_as: ApiAs) -> None:
        laura = api_as(cast.agent, "write")
        upload = upload_id(laura)
        assert (
            laura.post("/api/v1/tickets", new_ticket(cast, attachments=[upload])).status_code == 201
        )

        again = laura.post("/api/v1/tickets", new_ticket(cast, attachments=[upload]))

        assert "attachments" in error_fields(problem(again, 422))
        assert Ticket.objects.count() == 1


class TestWhatIsRefused:
    def test_missing_fields_are_named(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets", {"customer": str(cast.account.public_id)}
        )

        body = problem(response, 422, "validation")
        assert error_fields(body) == {"department", "subject", "body"}
        assert not Ticket.objects.exists()

    def test_an_empty_subject_or_body_is_refused_by_the_service(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        laura = api_as(cast.agent, "write")

        assert error_fields(
            problem(laura.post("/api/v1/tickets", new_ticket(cast, subject="  ")), 422)
        ) == {"subject"}
        assert error_fields(
            problem(laura.post("/api/v1/tickets", new_ticket(cast, body="\n")), 422)
        ) == {"body"}
        assert not Ticket.objects.exists()

    def test_an_unknown_or_inactive_customer_is_422(self, cast: Cast, api_as: ApiAs) -> None:
        laura = api_as(cast.agent, "write")
        unknown = laura.post(
            "/api/v1/tickets", new_ticket(cast, customer="00000000-0000-4000-8000-000000000000")
        )
        assert error_fields(problem(unknown, 422)) == {"customer"}

        cast.account.is_active = False
        cast.account.save(update_fields=["is_active"])
        inactive = laura.post("/api/v1/tickets", new_ticket(cast))

        assert error_fields(problem(inactive, 422)) == {"customer"}
        assert not Ticket.objects.exists()

    def test_the_other_accounts_user_is_no_requester_of_this_one(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast, requester=cast.otro.email)
        )

        assert error_fields(problem(response, 422)) == {"requester"}
        assert not Ticket.objects.exists()
        assert not OutboxMessage.objects.exists()

    def test_the_other_accounts_service_is_422(self, cast: Cast, api_as: ApiAs) -> None:
        cast.other_domain.external_id = "DOM-OTRO"
        cast.other_domain.save(update_fields=["external_id"])

        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast, service="DOM-OTRO")
        )

        assert error_fields(problem(response, 422)) == {"service"}
        assert not Ticket.objects.exists()

    def test_a_cancelled_service_of_the_account_is_422(self, cast: Cast, api_as: ApiAs) -> None:
        cast.cancelled_ssl.external_id = "SSL-1"
        cast.cancelled_ssl.save(update_fields=["external_id"])

        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast, service="SSL-1")
        )

        assert error_fields(problem(response, 422)) == {"service"}

    def test_an_unknown_department_and_one_the_agent_does_not_work_answer_alike(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        laura = api_as(cast.agent, "write")

        unknown = problem(laura.post("/api/v1/tickets", new_ticket(cast, department="ventas")), 422)
        foreign = problem(
            laura.post("/api/v1/tickets", new_ticket(cast, department="operaciones")), 422
        )

        assert error_fields(unknown) == error_fields(foreign) == {"department"}
        assert not Ticket.objects.exists()

    def test_a_supervisor_opens_in_any_department(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.supervisor, "write").post(
            "/api/v1/tickets", new_ticket(cast, department="operaciones")
        )

        assert response.status_code == 201
        assert Ticket.objects.get().department == cast.operaciones

    def test_another_users_upload_is_unknown(self, cast: Cast, api_as: ApiAs) -> None:
        sara_upload = upload_id(api_as(cast.supervisor, "write"))

        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast, attachments=[sara_upload])
        )

        assert error_fields(problem(response, 422)) == {"attachments"}
        assert not Ticket.objects.exists()

    def test_a_refused_ticket_leaves_the_upload_for_the_next_try(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        laura = api_as(cast.agent, "write")
        upload = upload_id(laura)
        problem(
            laura.post("/api/v1/tickets", new_ticket(cast, subject="", attachments=[upload])), 422
        )

        response = laura.post("/api/v1/tickets", new_ticket(cast, attachments=[upload]))

        assert response.status_code == 201
        assert len(response.json()["messages"][0]["attachments"]) == 1
        assert Message.objects.count() == Event.objects.filter(kind="created").count() == 1
