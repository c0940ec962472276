"""/webhooks: administrators register the URLs that hear of ticket changes, rotate their
secrets, and see each delivery with the receiver's last answer; a failed one can be sent
again. Every operation needs an administrator's admin token: a read or write token, or the
token of an agent (who cannot even hold an admin one), is refused, and nothing changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from atiende.api.models import ApiToken, Scope
from atiende.api.tokens import token_create, token_digest
from atiende.core.errors import DomainError
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound import outbox
from atiende.tickets.models import Ticket
from atiende.webhooks.models import WebhookEndpoint
from atiende.webhooks.services import webhook_endpoint_create, webhook_endpoint_update
from tests.api.conftest import ApiClient, error_fields, problem
from tests.conftest import Cast
from tests.webhooks.receiver import Receiver

ApiAs = Callable[..., ApiClient]
OpenTicket = Callable[..., Ticket]

WEBHOOKS = "/api/v1/webhooks"
BILLING: dict[str, Any] = {
    "url": "https://billing.example.com/hooks/atiende",
    "event_types": ["ticket.status_changed", "ticket.created"],
    "description": "Facturación",
}


def webhook_url(endpoint: WebhookEndpoint | int | str) -> str:
    pk = endpoint.pk if isinstance(endpoint, WebhookEndpoint) else endpoint
    return f"{WEBHOOKS}/{pk}"


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """The endpoints and their deliveries, to show that a refused call wrote nothing."""
    return {
        "endpoints": list(
            WebhookEndpoint.objects.order_by("id").values_list(
                "id", "url", "description", "secret", "event_types", "is_active"
            )
        ),
        "deliveries": list(
            OutboxMessage.objects.filter(kind="webhook")
            .order_by("id")
            .values_list("id", "endpoint_id", "status", "attempts", "next_attempt_at")
        ),
    }


def names(body: dict[str, Any], field: str) -> bool:
    """Whether a 422 names `field` (or an item of it: "event_types.0")."""
    return any(name.split(".")[0] == field for name in error_fields(body))


def delivery_of(endpoint: WebhookEndpoint) -> OutboxMessage:
    return OutboxMessage.objects.get(endpoint=endpoint)


@pytest.fixture
def admin_api(cast: Cast, api_as: ApiAs) -> ApiClient:
    return api_as(cast.admin, "admin")


@pytest.fixture
def endpoint(cast: Cast) -> WebhookEndpoint:
    return webhook_endpoint_create(created_by=cast.admin, **BILLING)


@pytest.fixture
def receiver(endpoint: WebhookEndpoint) -> Iterator[Receiver]:
    """The real receiving end on loopback (tests/webhooks/receiver.py), where `endpoint` now
    points: it checks every signature, answers 500, and keeps what it was sent."""
    server = Receiver()
    server.start()
    server.answer(500)
    webhook_endpoint_update(endpoint=endpoint, url=server.url())
    server.secrets["/hook"] = endpoint.secret
    try:
        yield server
    finally:
        server.stop()


# Endpoints --------------------------------------------------------------------------------


class TestRegistering:
    def test_an_administrator_registers_an_endpoint_with_a_new_secret(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        response = admin_api.post(WEBHOOKS, BILLING)

        assert response.status_code == 201, response.content
        body = response.json()
        endpoint = WebhookEndpoint.objects.get(pk=body["id"])
        assert body["secret"].startswith("whsec_")
        assert body == {
            "id": endpoint.pk,
            "url": "https://billing.example.com/hooks/atiende",
            "description": "Facturación",
            "event_types": ["ticket.created", "ticket.status_changed"],  # canonical order
            "is_active": True,
            "secret": endpoint.secret,
            "created_at": body["created_at"],
        }
        assert (endpoint.event_types, endpoint.created_by) == (
            ["ticket.created", "ticket.status_changed"],
            cast.admin,
        )

    def test_two_endpoints_get_two_secrets(self, cast: Cast, admin_api: ApiClient) -> None:
        first = admin_api.post(WEBHOOKS, BILLING).json()
        second = admin_api.post(WEBHOOKS, {**BILLING, "url": "http://inventario.local/h"}).json()

        assert first["secret"] != second["secret"]

    def test_a_retry_with_the_same_idempotency_key_registers_one(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        first = admin_api.post(WEBHOOKS, BILLING, **{"Idempotency-Key": "alta-1"})
        again = admin_api.post(WEBHOOKS, BILLING, **{"Idempotency-Key": "alta-1"})

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert WebhookEndpoint.objects.count() == 1

    def test_the_same_key_for_another_endpoint_is_422(
        self, cast: Cast, admin_api: ApiClient
    ) -> None:
        admin_api.post(WEBHOOKS, BILLING, **{"Idempotency-Key": "alta-1"})
        before = snapshot()

        response = admin_api.post(
            WEBHOOKS,
            {**BILLING, "url": "https://otro.example.com/"},
            **{"Idempotency-Key": "alta-1"},
        )

        problem(response, 422, "idempotency-key-reused")
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"event_types": []}, "event_types"),
            ({"event_types": ["ticket.deleted"]}, "event_types"),
            ({"event_types": None}, "event_types"),
            ({"url": "ftp://billing.example.com/hooks"}, "url"),
            ({"url": "javascript:alert(1)"}, "url"),
            ({"url": "billing.example.com/hooks"}, "url"),
            ({"url": "https://usuario:clave@billing.example.com/hooks"}, "url"),
            ({"url": "   "}, "url"),
            ({"url": "https://" + "a" * 2000 + ".com/"}, "url"),
            ({"description": "d" * 201}, "description"),
        ],
    )
    def test_an_invalid_field_is_422_naming_it_and_nothing_is_registered(
        self, cast: Cast, admin_api: ApiClient, change: dict[str, Any], field: str
    ) -> None:
        response = admin_api.post(WEBHOOKS, {**BILLING, **change})

        assert names(problem(response, 422), field)
        assert not WebhookEndpoint.objects.exists()

    @pytest.mark.parametrize(
        "change",
        [{"url": "https://billing.example.com/a\x00b"}, {"description": "Factu\x00ración"}],
    )
    def test_a_nul_character_is_refused_or_dropped_never_stored(
        self, cast: Cast, admin_api: ApiClient, change: dict[str, str]
    ) -> None:
        response = admin_api.post(WEBHOOKS, {**BILLING, **change})

        assert response.status_code in {201, 422}
        stored = WebhookEndpoint.objects.values_list("url", "description")
        assert not any("\x00" in url + description for url, description in stored)


class TestReading:
    def test_the_list_shows_every_endpoint_oldest_first(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint
    ) -> None:
        later = webhook_endpoint_create(
            url="https://inventario.example.com/h",
            event_types=["ticket.moved"],
            description="",
            created_by=cast.admin,
        )

        response = admin_api.get(WEBHOOKS)

        assert response.status_code == 200
        assert [(w["id"], w["url"]) for w in response.json()] == [
            (endpoint.pk, endpoint.url),
            (later.pk, later.url),
        ]

    def test_one_endpoint_is_read_with_its_secret(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint
    ) -> None:
        body = admin_api.get(webhook_url(endpoint)).json()

        assert (body["id"], body["secret"], body["event_types"]) == (
            endpoint.pk,
            endpoint.secret,
            ["ticket.created", "ticket.status_changed"],
        )

    @pytest.mark.parametrize(
        "webhook_id", ["999999", "0", "abc", "1.5", "-1", "%EF%BC%91", "99999999999999999999999999"]
    )
    def test_an_unknown_or_malformed_id_is_404(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, webhook_id: str
    ) -> None:
        before = snapshot()

        problem(admin_api.get(webhook_url(webhook_id)), 404, "not-found")
        problem(admin_api.patch(webhook_url(webhook_id), {"is_active": False}), 404)
        problem(admin_api.post(f"{webhook_url(webhook_id)}/rotate-secret"), 404)
        problem(admin_api.delete(webhook_url(webhook_id)), 404)
        problem(admin_api.get(f"{webhook_url(webhook_id)}/deliveries"), 404)
        problem(admin_api.post(f"{webhook_url(webhook_id)}/deliveries/{uuid.uuid4()}/retry"), 404)

        assert snapshot() == before


class TestChanging:
    def test_only_the_fields_sent_change(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint
    ) -> None:
        response = admin_api.patch(webhook_url(endpoint), {"event_types": ["ticket.replied"]})

        assert response.status_code == 200, response.content
        assert response.json()["event_types"] == ["ticket.replied"]
        stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
        assert (stored.url, stored.description, stored.secret, stored.is_active) == (
            endpoint.url,
            endpoint.description,
            endpoint.secret,
            True,
        )
        assert stored.event_types == ["ticket.replied"]

    def test_url_description_and_active_change_together(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint
    ) -> None:
        response = admin_api.patch(
            webhook_url(endpoint),
            {"url": "https://nuevo.example.com/h", "description": "  Nuevo   ", "is_active": False},
        )

        assert response.status_code == 200, response.content
        stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
        assert (stored.url, stored.description, stored.is_active) == (
            "https://nuevo.example.com/h",
            "Nuevo",
            False,
        )

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"url": "ftp://x.example.com/"}, "url"),
            ({"event_types": []}, "event_types"),
            ({"event_types": ["ticket.deleted"]}, "event_types"),
            ({"is_active": "quizá"}, "is_active"),
        ],
    )
    def test_an_invalid_field_is_422_and_nothing_changes(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, payload: Any, field: str
    ) -> None:
        before = snapshot()

        response = admin_api.patch(webhook_url(endpoint), {"description": "Otra", **payload})

        assert names(problem(response, 422), field)
        assert snapshot() == before

    def test_rotating_gives_a_new_secret_and_keeps_the_rest(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint
    ) -> None:
        response = admin_api.post(f"{webhook_url(endpoint)}/rotate-secret")

        assert response.status_code == 200, response.content
        new_secret = response.json()["secret"]
        assert new_secret != endpoint.secret
        assert new_secret.startswith("whsec_")
        stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
        assert (stored.secret, stored.url, stored.event_types) == (
            new_secret,
            endpoint.url,
            endpoint.event_types,
        )

    def test_deleting_drops_the_endpoint_and_its_queued_deliveries_not_the_sent_ones(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        open_ticket()
        open_ticket(subject="Otro problema")
        sent, queued = OutboxMessage.objects.filter(endpoint=endpoint).order_by("id")
        OutboxMessage.objects.filter(pk=sent.pk).update(status="sent", last_response="HTTP 200")

        response = admin_api.delete(webhook_url(endpoint))

        assert response.status_code == 204
        assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
        assert not OutboxMessage.objects.filter(pk=queued.pk).exists()
        kept = OutboxMessage.objects.get(pk=sent.pk)
        assert (kept.status, kept.endpoint_id) == ("sent", None)
        problem(admin_api.get(webhook_url(endpoint)), 404, "not-found")
        problem(admin_api.delete(webhook_url(endpoint)), 404, "not-found")


# Deliveries -------------------------------------------------------------------------------


class TestDeliveries:
    def test_a_new_ticket_queues_a_delivery_to_the_endpoint_registered_through_the_api(
        self, cast: Cast, admin_api: ApiClient, open_ticket: OpenTicket
    ) -> None:
        created = admin_api.post(WEBHOOKS, {**BILLING, "event_types": ["ticket.created"]}).json()
        ignoring = admin_api.post(
            WEBHOOKS,
            {**BILLING, "url": "https://otro.example.com/", "event_types": ["ticket.moved"]},
        ).json()

        ticket = open_ticket()

        response = admin_api.get(f"{webhook_url(created['id'])}/deliveries")
        assert response.status_code == 200
        [delivery] = response.json()
        row = OutboxMessage.objects.get(endpoint_id=created["id"])
        assert (row.ticket, row.kind) == (ticket, "webhook")
        assert delivery == {
            "id": row.message_id,
            "event_type": "ticket.created",
            "status": "queued",
            "attempts": 0,
            "created_at": delivery["created_at"],
            "next_attempt_at": delivery["next_attempt_at"],
            "sent_at": None,
            "last_response": "",
            "last_error": "",
        }
        assert delivery["next_attempt_at"] is not None
        assert admin_api.get(f"{webhook_url(ignoring['id'])}/deliveries").json() == []

    def test_an_inactive_endpoint_gets_no_delivery(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        admin_api.patch(webhook_url(endpoint), {"is_active": False})

        open_ticket()

        assert admin_api.get(f"{webhook_url(endpoint)}/deliveries").json() == []

    def test_the_list_is_newest_first_and_limited(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        for number in range(3):
            open_ticket(subject=f"Problema {number}")
        newest_first = list(
            OutboxMessage.objects.filter(endpoint=endpoint)
            .order_by("-created_at", "-id")
            .values_list("message_id", flat=True)
        )

        every = admin_api.get(f"{webhook_url(endpoint)}/deliveries").json()
        two = admin_api.get(f"{webhook_url(endpoint)}/deliveries", {"limit": 2}).json()

        assert [d["id"] for d in every] == newest_first
        assert [d["id"] for d in two] == newest_first[:2]
        problem(admin_api.get(f"{webhook_url(endpoint)}/deliveries", {"limit": 0}), 422)

    def test_a_failed_attempt_shows_the_receivers_answer(
        self,
        cast: Cast,
        admin_api: ApiClient,
        endpoint: WebhookEndpoint,
        open_ticket: OpenTicket,
        receiver: Receiver,
    ) -> None:
        open_ticket()

        outbox.outbox_deliver_due()

        [request] = receiver.deliveries
        assert request.verified
        assert request.headers["atiende-event"] == "ticket.created"
        [delivery] = admin_api.get(f"{webhook_url(endpoint)}/deliveries").json()
        assert (delivery["status"], delivery["attempts"]) == ("queued", 1)
        assert delivery["last_response"] == "HTTP 500: refused by the test receiver"
        assert delivery["last_error"] == "HTTP 500"
        assert delivery["id"] == request.delivery_id

    def test_another_endpoints_deliveries_are_not_listed(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        other = webhook_endpoint_create(
            url="https://otro.example.com/",
            event_types=["ticket.created"],
            description="",
            created_by=cast.admin,
        )
        open_ticket()
        theirs = delivery_of(other)

        ours = admin_api.get(f"{webhook_url(endpoint)}/deliveries").json()

        assert theirs.message_id not in [d["id"] for d in ours]
        assert len(ours) == 1


class TestRetrying:
    def test_a_delivery_still_queued_is_409_and_unchanged(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        open_ticket()
        delivery = delivery_of(endpoint)
        before = snapshot()

        response = admin_api.post(f"{webhook_url(endpoint)}/deliveries/{delivery.message_id}/retry")

        problem(response, 409, "conflict")
        assert snapshot() == before

    def test_a_delivery_already_sent_is_409(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        open_ticket()
        delivery = delivery_of(endpoint)
        OutboxMessage.objects.filter(pk=delivery.pk).update(status="sent", attempts=1)

        response = admin_api.post(f"{webhook_url(endpoint)}/deliveries/{delivery.message_id}/retry")

        problem(response, 409, "conflict")
        assert OutboxMessage.objects.get(pk=delivery.pk).status == "sent"

    def test_a_failed_delivery_goes_back_to_the_queue_with_its_attempts_from_zero(
        self,
        cast: Cast,
        admin_api: ApiClient,
        endpoint: WebhookEndpoint,
        open_ticket: OpenTicket,
        receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 1)  # the first 500 is the last try
        open_ticket()
        outbox.outbox_deliver_due()
        delivery = delivery_of(endpoint)
        assert (delivery.status, delivery.attempts) == ("failed", 1)

        response = admin_api.post(f"{webhook_url(endpoint)}/deliveries/{delivery.message_id}/retry")

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["id"], body["status"], body["attempts"], body["last_error"]) == (
            delivery.message_id,
            "queued",
            0,
            "",
        )
        assert body["last_response"] == "HTTP 500: refused by the test receiver"
        assert body["next_attempt_at"] is not None
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("queued", 0, "")
        problem(
            admin_api.post(f"{webhook_url(endpoint)}/deliveries/{delivery.message_id}/retry"),
            409,
        )

    def test_a_delivery_that_failed_for_an_inactive_endpoint_may_be_sent_again(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        open_ticket()
        admin_api.patch(webhook_url(endpoint), {"is_active": False})
        outbox.outbox_deliver_due()  # an inactive endpoint fails its queued delivery for good
        delivery = delivery_of(endpoint)
        assert delivery.status == "failed"

        response = admin_api.post(f"{webhook_url(endpoint)}/deliveries/{delivery.message_id}/retry")

        assert (response.status_code, response.json()["status"]) == (200, "queued")

    @pytest.mark.parametrize(
        "delivery_id", ["5b0c1f1e-8a3d-4c55-9a57-1f0e7c2d9b41", "no-es-un-id", "a%00b"]
    )
    def test_an_unknown_delivery_is_404(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, delivery_id: str
    ) -> None:
        problem(
            admin_api.post(f"{webhook_url(endpoint)}/deliveries/{delivery_id}/retry"),
            404,
            "not-found",
        )

    def test_another_endpoints_delivery_through_this_one_is_404(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        other = webhook_endpoint_create(
            url="https://otro.example.com/",
            event_types=["ticket.created"],
            description="",
            created_by=cast.admin,
        )
        open_ticket()
        theirs = delivery_of(other)
        OutboxMessage.objects.filter(pk=theirs.pk).update(status="failed")

        response = admin_api.post(f"{webhook_url(endpoint)}/deliveries/{theirs.message_id}/retry")

        problem(response, 404, "not-found")
        assert OutboxMessage.objects.get(pk=theirs.pk).status == "failed"

    def test_a_mail_row_is_no_delivery(
        self, cast: Cast, admin_api: ApiClient, endpoint: WebhookEndpoint, open_ticket: OpenTicket
    ) -> None:
        open_ticket()
        mail = OutboxMessage.objects.filter(kind="mail").first()
        assert mail is not None
        OutboxMessage.objects.filter(pk=mail.pk).update(status="failed")

        response = admin_api.post(f"{webhook_url(endpoint)}/deliveries/{mail.message_id}/retry")

        problem(response, 404, "not-found")
        assert OutboxMessage.objects.get(pk=mail.pk).status == "failed"


# Who may ----------------------------------------------------------------------------------


def every_operation(
    client: ApiClient, endpoint: WebhookEndpoint, delivery: OutboxMessage
) -> dict[str, Any]:
    """Each webhook operation, called once by `client`."""
    url = webhook_url(endpoint)
    return {
        "list": client.get(WEBHOOKS),
        "create": client.post(WEBHOOKS, BILLING, **{"Idempotency-Key": "k-1"}),
        "get": client.get(url),
        "update": client.patch(url, {"is_active": False}),
        "rotate": client.post(f"{url}/rotate-secret"),
        "deliveries": client.get(f"{url}/deliveries"),
        "retry": client.post(f"{url}/deliveries/{delivery.message_id}/retry"),
        "delete": client.delete(url),
    }


@pytest.fixture
def failed_delivery(endpoint: WebhookEndpoint, open_ticket: OpenTicket) -> OutboxMessage:
    open_ticket()
    delivery = delivery_of(endpoint)
    OutboxMessage.objects.filter(pk=delivery.pk).update(status="failed", attempts=12)
    return delivery


class TestWhoMay:
    @pytest.mark.parametrize(
        ("who", "scope"),
        [
            ("admin", "read"),
            ("admin", "write"),
            ("agent", "read"),
            ("agent", "write"),
            ("supervisor", "write"),
            ("agent_ops", "write"),
        ],
    )
    def test_anything_but_an_administrators_admin_token_is_403_for_every_operation(
        self,
        cast: Cast,
        api_as: ApiAs,
        endpoint: WebhookEndpoint,
        failed_delivery: OutboxMessage,
        who: str,
        scope: str,
    ) -> None:
        client = api_as(getattr(cast, who), scope)
        before = snapshot()

        answers = every_operation(client, endpoint, failed_delivery)

        for answer in answers.values():
            problem(answer, 403, "forbidden")
        assert snapshot() == before

    def test_an_agent_cannot_be_given_an_admin_token(self, cast: Cast) -> None:
        for staff in (cast.agent, cast.supervisor):
            with pytest.raises(DomainError) as refused:
                token_create(user=staff, name="webhooks", scope="admin", created_by=cast.admin)

            assert refused.value.field == "scope"
        assert not ApiToken.objects.filter(scope=Scope.ADMIN).exists()

    def test_an_agents_admin_token_made_behind_the_services_back_is_403_all_the_same(
        self, cast: Cast, endpoint: WebhookEndpoint, failed_delivery: OutboxMessage
    ) -> None:
        secret = "atn_" + "forjado-a-mano-para-la-prueba-0123456789"
        ApiToken.objects.create(
            user=cast.agent,
            name="forjado",
            prefix=secret[:12],
            digest=token_digest(secret),
            scope=Scope.ADMIN,
        )
        before = snapshot()

        answers = every_operation(ApiClient(secret), endpoint, failed_delivery)

        for answer in answers.values():
            problem(answer, 403, "forbidden")
        assert snapshot() == before

    def test_an_admin_token_of_a_former_administrator_is_403(
        self,
        cast: Cast,
        admin_api: ApiClient,
        endpoint: WebhookEndpoint,
        failed_delivery: OutboxMessage,
    ) -> None:
        cast.admin.is_superuser = False
        cast.admin.save(update_fields=["is_superuser"])
        before = snapshot()

        for answer in every_operation(admin_api, endpoint, failed_delivery).values():
            problem(answer, 403, "forbidden")
        assert snapshot() == before

    def test_no_token_is_401_for_every_operation(
        self, cast: Cast, endpoint: WebhookEndpoint, failed_delivery: OutboxMessage
    ) -> None:
        before = snapshot()

        for answer in every_operation(ApiClient(None), endpoint, failed_delivery).values():
            problem(answer, 401, "unauthorized")
        assert snapshot() == before

    def test_an_administrators_admin_token_may_do_them_all(
        self,
        cast: Cast,
        admin_api: ApiClient,
        endpoint: WebhookEndpoint,
        failed_delivery: OutboxMessage,
    ) -> None:
        answers = every_operation(admin_api, endpoint, failed_delivery)

        assert {name: answer.status_code for name, answer in answers.items()} == {
            "list": 200,
            "create": 201,
            "get": 200,
            "update": 200,
            "rotate": 200,
            "deliveries": 200,
            "retry": 200,
            "delete": 204,
        }
