"""Idempotency-Key on the create operations (POST /tickets, …/replies, …/notes): a retry with
the same key gets the first answer again and creates nothing more, however many times and
however close together it comes; the same key with another request is 422; a first attempt
that failed leaves nothing behind, so its retry runs; keys are per user and last a day."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from time_machine import TimeMachineFixture

from atiende.api.idempotency import REPLAYED_HEADER
from atiende.api.models import IdempotencyRecord
from atiende.core.clock import now
from atiende.mail.models import OutboxMessage
from atiende.tickets.models import Message, Ticket
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]
KEY = "8b0d6c1e-facturacion-42"


def new_ticket(cast: Cast, **changes: Any) -> dict[str, Any]:
    return {
        "customer": str(cast.account.public_id),
        "department": "soporte-tecnico",
        "subject": "El dominio no resuelve",
        "body": "Desde la renovación ejemplo.com.mx no resuelve.",
        **changes,
    }


def receipts() -> int:
    return OutboxMessage.objects.filter(template="ticket_receipt").count()


class TestOpeningATicket:
    def test_a_retry_gets_the_first_answer_and_opens_nothing_more(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        laura = api_as(cast.agent, "write")

        first = laura.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})
        retry = laura.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})

        assert first.status_code == retry.status_code == 201
        assert retry.json() == first.json()
        assert REPLAYED_HEADER not in first
        assert retry[REPLAYED_HEADER] == "true"
        assert Ticket.objects.count() == 1
        assert receipts() == 1

    def test_without_a_key_each_post_opens_a_ticket(self, cast: Cast, api_as: ApiAs) -> None:
        laura = api_as(cast.agent, "write")

        laura.post("/api/v1/tickets", new_ticket(cast))
        laura.post("/api/v1/tickets", new_ticket(cast))

        assert Ticket.objects.count() == 2

    def test_the_same_key_with_another_request_is_422(self, cast: Cast, api_as: ApiAs) -> None:
        laura = api_as(cast.agent, "write")
        laura.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})

        other = laura.post(
            "/api/v1/tickets", new_ticket(cast, subject="Otro asunto"), **{"Idempotency-Key": KEY}
        )

        body = problem(other, 422, "idempotency-key-reused")
        assert error_fields(body) == {"Idempotency-Key"}
        assert Ticket.objects.count() == 1

    def test_a_first_attempt_that_failed_leaves_nothing_and_its_retry_runs(
        self, cast: Cast, api_as: ApiAs
    ) -> None:
        laura = api_as(cast.agent, "write")
        refused = laura.post(
            "/api/v1/tickets", new_ticket(cast, department="ventas"), **{"Idempotency-Key": KEY}
        )
        problem(refused, 422)
        assert not IdempotencyRecord.objects.exists()

        fixed = laura.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})

        assert fixed.status_code == 201
        assert REPLAYED_HEADER not in fixed
        assert Ticket.objects.count() == 1

    def test_keys_are_each_users_own(self, cast: Cast, api_as: ApiAs) -> None:
        laura, sara = api_as(cast.agent, "write"), api_as(cast.supervisor, "write")

        lauras = laura.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})
        saras = sara.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})

        assert lauras.json()["id"] != saras.json()["id"]
        assert Ticket.objects.count() == 2

    def test_another_token_of_the_same_user_shares_them(self, cast: Cast, api_as: ApiAs) -> None:
        first = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY}
        )
        retry = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY}
        )

        assert retry.json()["id"] == first.json()["id"]
        assert Ticket.objects.count() == 1

    def test_a_key_is_kept_for_a_day(
        self, cast: Cast, api_as: ApiAs, time_machine: TimeMachineFixture
    ) -> None:
        time_machine.move_to(now(), tick=False)
        laura = api_as(cast.agent, "write")
        laura.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})

        time_machine.move_to(now() + timedelta(hours=23), tick=False)
        laura.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})
        assert Ticket.objects.count() == 1

        time_machine.move_to(now() + timedelta(hours=2), tick=False)
        late = laura.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})
        assert late.status_code == 201
        assert REPLAYED_HEADER not in late
        assert Ticket.objects.count() == 2
        assert IdempotencyRecord.objects.count() == 1

    def test_a_key_too_long_is_422(self, cast: Cast, api_as: ApiAs) -> None:
        response = api_as(cast.agent, "write").post(
            "/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": "k" * 256}
        )

        assert error_fields(problem(response, 422)) == {"Idempotency-Key"}
        assert not Ticket.objects.exists()


class TestRepliesAndNotes:
    @pytest.mark.parametrize("action", ["replies", "notes"])
    def test_a_retry_adds_one_message(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket, action: str
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")
        path = f"/api/v1/tickets/{ticket.reference}/{action}"
        mailed = OutboxMessage.objects.count()

        first = laura.post(path, {"body": "Ya quedó."}, **{"Idempotency-Key": KEY})
        retry = laura.post(path, {"body": "Ya quedó."}, **{"Idempotency-Key": KEY})

        assert first.status_code == retry.status_code == 201
        assert retry.json()["id"] == first.json()["id"]
        assert Message.objects.filter(ticket=ticket).count() == 2
        assert OutboxMessage.objects.count() == mailed + (1 if action == "replies" else 0)

    def test_the_same_key_on_another_operation_is_422(
        self, cast: Cast, api_as: ApiAs, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        laura = api_as(cast.agent, "write")
        laura.post(
            f"/api/v1/tickets/{ticket.reference}/replies",
            {"body": "Hola"},
            **{"Idempotency-Key": KEY},
        )

        note = laura.post(
            f"/api/v1/tickets/{ticket.reference}/notes",
            {"body": "Hola"},
            **{"Idempotency-Key": KEY},
        )

        problem(note, 422, "idempotency-key-reused")
        assert not Message.objects.filter(is_internal=True).exists()

    def test_a_key_used_on_another_departments_ticket_is_still_404(
        self, cast: Cast, api_as: ApiAs, ops_ticket: Ticket
    ) -> None:
        omar = api_as(cast.agent_ops, "write")
        omar.post(
            f"/api/v1/tickets/{ops_ticket.reference}/notes",
            {"body": "Hola"},
            **{"Idempotency-Key": KEY},
        )

        response = api_as(cast.agent, "write").post(
            f"/api/v1/tickets/{ops_ticket.reference}/notes",
            {"body": "Hola"},
            **{"Idempotency-Key": KEY},
        )

        problem(response, 404, "not-found")


class TestRetriesAtTheSameMoment:
    def test_concurrent_posts_with_one_key_open_one_ticket(
        self, transactional_db: None, cast: Cast, token_for: Callable[..., str]
    ) -> None:
        secret = token_for(cast.agent, "write")
        attempts = 4
        barrier = threading.Barrier(attempts)
        answers: list[Any] = []
        errors: list[BaseException] = []

        def post() -> None:
            try:
                client = ApiClient(secret)
                barrier.wait(timeout=30)
                answers.append(
                    client.post("/api/v1/tickets", new_ticket(cast), **{"Idempotency-Key": KEY})
                )
            except BaseException as error:  # surfaced by the asserts below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=post) for _ in range(attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        assert not errors, errors

        assert [answer.status_code for answer in answers] == [201] * attempts
        assert len({answer.json()["id"] for answer in answers}) == 1
        assert sum(REPLAYED_HEADER not in answer for answer in answers) == 1
        assert Ticket.objects.count() == 1
        assert receipts() == 1
