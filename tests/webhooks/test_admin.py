"""Webhook endpoints in the admin, for superusers only: register one with its events as
checkboxes, read and rotate its secret, see its latest deliveries and send a failed one again
from the outbox, where mail and deliveries are told apart by kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from time_machine import TimeMachineFixture

from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import MAX_ATTEMPTS, backoff, outbox_deliver_due
from atiende.tickets.models import Ticket
from atiende.webhooks.models import WebhookEndpoint, WebhookEvent
from tests.conftest import Cast, staff_create
from tests.webhooks.conftest import MakeEndpoint
from tests.webhooks.receiver import Receiver

OpenTicket = Callable[..., Ticket]
Status = OutboxMessage.Status
LIST = reverse("admin:webhooks_webhookendpoint_changelist")
ADD = reverse("admin:webhooks_webhookendpoint_add")
OUTBOX = reverse("admin:mail_outboxmessage_changelist")


def change_url(endpoint: WebhookEndpoint) -> str:
    return reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])


def rotate_url(endpoint: WebhookEndpoint) -> str:
    return reverse("admin:webhooks_webhookendpoint_rotate", args=[endpoint.pk])


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def admin(cast: Cast) -> Client:
    """The superuser, reading the admin in English (the texts these tests compare)."""
    cast.admin.language = "en"
    cast.admin.save()
    client = Client()
    client.force_login(cast.admin)
    return client


def form_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "url": "https://hooks.example.com/atiende",
        "description": "Facturación",
        "event_types": [WebhookEvent.TICKET_CREATED, WebhookEvent.TICKET_REPLIED],
        "is_active": "on",
    }
    data.update(changes)
    return data


class TestOnlySuperusers:
    def test_staff_with_every_permission_of_the_model_still_cannot_see_endpoints(
        self, cast: Cast, endpoint: MakeEndpoint
    ) -> None:
        hook = endpoint()
        clerk = staff_create("clerk@example.com", "Clerk", None)
        clerk.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="webhooks"),
            *Permission.objects.filter(codename="view_outboxmessage"),
        )
        client = Client()
        client.force_login(clerk)
        for url in (LIST, ADD, change_url(hook)):
            assert client.get(url).status_code == 403
        assert client.post(rotate_url(hook)).status_code == 403
        hook.refresh_from_db()
        assert hook.secret == WebhookEndpoint.objects.get(pk=hook.pk).secret
        assert "/admin/webhooks/" not in client.get(reverse("admin:index")).content.decode()


class TestRegister:
    def test_the_form_offers_every_event_as_a_checkbox(self, admin: Client) -> None:
        page = admin.get(ADD).content.decode()
        for value in WebhookEvent.values:
            assert f'type="checkbox" name="event_types" value="{value}"' in page
        assert "whsec_" not in page  # the secret comes with the save

    def test_saving_registers_it_through_the_service(self, admin: Client, cast: Cast) -> None:
        response = admin.post(ADD, form_data(url="  https://hooks.example.com/atiende  "))
        endpoint = WebhookEndpoint.objects.get()
        assert response.status_code == 302
        assert response["Location"] == change_url(endpoint)
        assert endpoint.url == "https://hooks.example.com/atiende"
        assert endpoint.event_types == ["ticket.created", "ticket.replied"]
        assert endpoint.created_by == cast.admin
        assert endpoint.is_active
        assert endpoint.secret.startswith("whsec_")

    def test_it_may_be_registered_inactive(self, admin: Client) -> None:
        admin.post(ADD, form_data(is_active=""))
        assert not WebhookEndpoint.objects.get().is_active

    @pytest.mark.parametrize(
        ("changes", "says"),
        [
            ({"url": "ftp://hooks.example.com/"}, "The URL must start with http:// or https://."),
            ({"url": "https://a:b@hooks.example.com/"}, "Do not put a user name or password"),
            ({"event_types": []}, "Choose at least one event."),
            ({"event_types": ["ticket.deleted"]}, "Select a valid choice."),
        ],
    )
    def test_what_the_service_refuses_the_form_shows(
        self, admin: Client, changes: dict[str, Any], says: str
    ) -> None:
        response = admin.post(ADD, form_data(**changes))
        assert response.status_code == 200
        assert says in response.content.decode()
        assert not WebhookEndpoint.objects.exists()

    def test_changing_writes_what_the_form_edits(
        self, admin: Client, endpoint: MakeEndpoint
    ) -> None:
        hook = endpoint()
        secret = hook.secret
        admin.post(
            change_url(hook),
            form_data(url="https://new.example.com/x", event_types=["ticket.moved"], is_active=""),
        )
        hook.refresh_from_db()
        assert (hook.url, hook.event_types, hook.is_active) == (
            "https://new.example.com/x",
            ["ticket.moved"],
            False,
        )
        assert hook.secret == secret


class TestTheSecret:
    def test_is_shown_read_only_with_a_rotate_button(
        self, admin: Client, endpoint: MakeEndpoint
    ) -> None:
        hook = endpoint()
        page = admin.get(change_url(hook)).content.decode()
        assert hook.secret in page
        assert 'name="secret"' not in page  # not a field of the form
        assert f'action="{rotate_url(hook)}"' in page

    def test_the_button_rotates_it(self, admin: Client, endpoint: MakeEndpoint) -> None:
        hook = endpoint()
        old = hook.secret
        assert admin.get(rotate_url(hook)).status_code == 405
        response = admin.post(rotate_url(hook), follow=True)
        assert response.redirect_chain == [(change_url(hook), 302)]
        assert messages_of(response)[0].startswith("The endpoint has a new secret")
        hook.refresh_from_db()
        assert hook.secret != old
        assert hook.secret in response.content.decode()

    def test_the_list_action_rotates_the_chosen_ones(
        self, admin: Client, endpoint: MakeEndpoint
    ) -> None:
        first, second = endpoint(path="/a"), endpoint(path="/b")
        old = {first.pk: first.secret, second.pk: second.secret}
        admin.post(LIST, {"action": "rotate_secret", "_selected_action": [first.pk]})
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.secret != old[first.pk]
        assert second.secret == old[second.pk]


class TestDeliveries:
    def test_the_list_shows_events_state_and_the_last_delivery(
        self,
        admin: Client,
        endpoint: MakeEndpoint,
        open_ticket: OpenTicket,
        receiver: Receiver,
    ) -> None:
        hook = endpoint(WebhookEvent.TICKET_CREATED, WebhookEvent.TICKET_MOVED)
        quiet = endpoint(WebhookEvent.TICKET_ASSIGNED, path="/quiet")
        open_ticket()
        outbox_deliver_due()
        response = admin.get(LIST)
        assert response.context["cl"].list_display == [
            "action_checkbox",
            "url",
            "description",
            "events",
            "is_active",
            "last_delivery",
        ]
        rows = {row.pk: row for row in response.context["cl"].result_list}
        page = response.content.decode()
        assert "ticket created, moved to another department" in page
        assert rows[hook.pk].last_status == Status.SENT
        assert rows[quiet.pk].last_status is None

    def test_a_failed_delivery_is_listed_with_its_answer_and_sent_again_from_the_outbox(
        self,
        admin: Client,
        endpoint: MakeEndpoint,
        open_ticket: OpenTicket,
        receiver: Receiver,
        clock: TimeMachineFixture,
    ) -> None:
        hook = endpoint(WebhookEvent.TICKET_CREATED)
        receiver.answer(500)
        ticket = open_ticket()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            outbox_deliver_due()
            clock.shift(backoff(attempt))
        row = OutboxMessage.objects.get(endpoint=hook)
        assert row.status == Status.FAILED

        page = admin.get(change_url(hook)).content.decode()
        row_url = reverse("admin:mail_outboxmessage_change", args=[row.pk])
        assert f"href='{row_url}'" in page
        assert "HTTP 500: refused by the test receiver" in page
        assert ticket.reference in page
        assert f"?endpoint__id__exact={hook.pk}" in page

        listed = admin.get(OUTBOX, {"endpoint__id__exact": hook.pk})
        assert [item.pk for item in listed.context["cl"].result_list] == [row.pk]
        row_page = admin.get(row_url).content.decode()
        assert "webhook" in row_page
        assert "HTTP 500: refused by the test receiver" in row_page
        resend = reverse("admin:mail_outboxmessage_resend", args=[row.pk])
        assert f'action="{resend}"' in row_page

        receiver.answer(200)
        response = admin.post(resend, follow=True)
        assert messages_of(response) == [
            f"The webhook delivery {row.message_id} is queued to be sent again."
        ]
        assert outbox_deliver_due() == 1
        row.refresh_from_db()
        assert row.status == Status.SENT
        assert receiver.accepted_counts()[row.message_id] == 1

    def test_the_outbox_filters_by_kind(
        self,
        admin: Client,
        endpoint: MakeEndpoint,
        open_ticket: OpenTicket,
    ) -> None:
        endpoint(WebhookEvent.TICKET_CREATED)
        open_ticket()
        webhooks = admin.get(OUTBOX, {"kind__exact": "webhook"}).context["cl"].result_list
        mails = admin.get(OUTBOX, {"kind__exact": "mail"}).context["cl"].result_list
        assert [row.kind for row in webhooks] == ["webhook"]
        assert mails and {row.kind for row in mails} == {"mail"}

    def test_deleting_drops_the_queued_deliveries(
        self, admin: Client, endpoint: MakeEndpoint, open_ticket: OpenTicket
    ) -> None:
        hook = endpoint(WebhookEvent.TICKET_CREATED)
        open_ticket()
        delete = reverse("admin:webhooks_webhookendpoint_delete", args=[hook.pk])
        response = admin.post(delete, {"post": "yes"})
        assert response.status_code == 302
        assert not WebhookEndpoint.objects.exists()
        assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEBHOOK).exists()
