"""The outbox in the admin: administrators see what is queued, sent and failed, read a failed
row's error and send it again (from the list or from the row's page). Nothing else changes
there."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse

from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import outbox_deliver_due
from atiende.tickets.models import Ticket
from tests.conftest import Cast, staff_create

OpenTicket = Callable[..., Ticket]
Status = OutboxMessage.Status

CHANGELIST = reverse("admin:mail_outboxmessage_changelist")


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every recipient for good."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPRecipientsRefused(
            {message.to[0]: (550, b"5.1.1 <mailbox> User unknown") for message in email_messages}
        )


@dataclass
class Outbox:
    sent: Ticket  # its mail left
    failed: Ticket  # its mail was refused for good
    queued: Ticket  # its mail still waits

    def rows(self, ticket: Ticket) -> list[OutboxMessage]:
        return list(OutboxMessage.objects.filter(ticket=ticket).order_by("id"))


@pytest.fixture
def outbox(cast: Cast, open_ticket: OpenTicket, settings: Any) -> Outbox:
    """Three tickets, each with its receipt and the notices to its department's agents."""
    sent = open_ticket(subject="Todo salió")
    outbox_deliver_due()
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    failed = open_ticket(customer=cast.beto, subject="Rebotó")
    outbox_deliver_due()
    queued = open_ticket(customer=cast.otro, subject="En espera")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    result = Outbox(sent=sent, failed=failed, queued=queued)
    assert {row.status for row in result.rows(sent)} == {Status.SENT}
    assert {row.status for row in result.rows(failed)} == {Status.FAILED}
    assert {row.status for row in result.rows(queued)} == {Status.QUEUED}
    return result


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(cast: Cast) -> Client:
    """The administrator, reading the admin in English (the texts these tests compare)."""
    cast.admin.language = "en"
    cast.admin.save()
    return _client(cast.admin)


def _change_url(row: OutboxMessage) -> str:
    return reverse("admin:mail_outboxmessage_change", args=[row.pk])


def _resend_url(row: OutboxMessage) -> str:
    return reverse("admin:mail_outboxmessage_resend", args=[row.pk])


def _listed(client: Client, **query: str) -> list[OutboxMessage]:
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def _receipt(outbox: Outbox, ticket: Ticket) -> OutboxMessage:
    return next(row for row in outbox.rows(ticket) if row.template == "ticket_receipt")


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


class TestTheList:
    def test_shows_status_template_to_subject_attempts_error_and_dates(
        self, admin: Client, outbox: Outbox
    ) -> None:
        response = admin.get(CHANGELIST)
        assert response.status_code == 200
        assert response.context["cl"].list_display == [
            "action_checkbox",
            "created_at",
            "status",
            "kind",
            "template",
            "to",
            "subject",
            "attempts",
            "error_short",
            "sent_at",
        ]
        page = response.content.decode()
        receipt = _receipt(outbox, outbox.failed)
        assert f"[#{outbox.failed.reference}] Rebotó" in page
        assert "beto@example.com" in page
        assert "SMTPRecipientsRefused" in page
        # The error is cut short in the list; the row's page shows all of it.
        assert len(receipt.last_error) > 80
        assert receipt.last_error not in page

    def test_filters_by_status(self, admin: Client, outbox: Outbox) -> None:
        for status, ticket in (
            (Status.FAILED, outbox.failed),
            (Status.SENT, outbox.sent),
            (Status.QUEUED, outbox.queued),
        ):
            listed = _listed(admin, status__exact=status)
            assert {row.pk for row in listed} == {row.pk for row in outbox.rows(ticket)}

    def test_filters_by_template(self, admin: Client, outbox: Outbox) -> None:
        listed = _listed(admin, template__exact="ticket_receipt")
        assert sorted(row.to for row in listed) == sorted(
            ["ana@example.com", "beto@example.com", "otro@example.net"]
        )

    def test_finds_by_address_and_by_ticket_id(self, admin: Client, outbox: Outbox) -> None:
        assert [row.to for row in _listed(admin, q="otro@example.net")] == ["otro@example.net"]
        by_reference = _listed(admin, q=outbox.failed.reference)
        assert {row.pk for row in by_reference} == {row.pk for row in outbox.rows(outbox.failed)}


class TestAFailedRowsPage:
    def test_shows_the_whole_error_and_a_send_again_button(
        self, admin: Client, outbox: Outbox
    ) -> None:
        receipt = _receipt(outbox, outbox.failed)
        response = admin.get(_change_url(receipt))
        assert response.status_code == 200
        page = response.content.decode()
        assert "This message could not be delivered." in page
        assert "5.1.1 &lt;mailbox&gt; User unknown" in page
        assert f'action="{_resend_url(receipt)}"' in page
        assert 'name="_resend"' in page

    def test_the_button_sends_it_again(self, admin: Client, outbox: Outbox) -> None:
        receipt = _receipt(outbox, outbox.failed)
        response = admin.post(_resend_url(receipt), follow=True)
        assert response.redirect_chain == [(_change_url(receipt), 302)]
        assert _messages(response) == [
            "The message to beto@example.com is queued to be sent again."
        ]
        receipt.refresh_from_db()
        assert (receipt.status, receipt.attempts, receipt.last_error) == (Status.QUEUED, 0, "")
        assert "This message could not be delivered." not in response.content.decode()

        outbox_deliver_due()
        receipt.refresh_from_db()
        assert receipt.status == Status.SENT
        assert [m.to for m in mail.outbox if m.subject == receipt.subject] == [[receipt.to]]

    def test_a_row_that_did_not_fail_has_no_button_and_is_left_alone(
        self, admin: Client, outbox: Outbox
    ) -> None:
        receipt = _receipt(outbox, outbox.sent)
        page = admin.get(_change_url(receipt)).content.decode()
        assert 'name="_resend"' not in page
        response = admin.post(_resend_url(receipt), follow=True)
        assert _messages(response) == ["Only a failed message can be sent again; this one is sent."]
        receipt.refresh_from_db()
        assert receipt.status == Status.SENT

    def test_a_get_on_the_button_address_changes_nothing(
        self, admin: Client, outbox: Outbox
    ) -> None:
        receipt = _receipt(outbox, outbox.failed)
        assert admin.get(_resend_url(receipt)).status_code == 405
        receipt.refresh_from_db()
        assert receipt.status == Status.FAILED

    def test_an_unknown_row_is_not_found(self, admin: Client, outbox: Outbox) -> None:
        url = reverse("admin:mail_outboxmessage_resend", args=[999_999])
        assert admin.post(url).status_code == 404


class TestTheSendAgainAction:
    def test_sends_the_failed_rows_again_and_leaves_the_others(
        self, admin: Client, outbox: Outbox
    ) -> None:
        everything = list(OutboxMessage.objects.values_list("pk", flat=True))
        response = admin.post(
            CHANGELIST,
            {"action": "resend", "_selected_action": everything, "index": 0},
            follow=True,
        )
        assert response.status_code == 200
        failed = len(outbox.rows(outbox.failed))
        others = len(everything) - failed
        assert _messages(response) == [
            f"{failed} messages are queued to be sent again.",
            f"{others} messages were left as they are: only a failed message can be sent again.",
        ]
        assert {row.status for row in outbox.rows(outbox.failed)} == {Status.QUEUED}
        assert {row.status for row in outbox.rows(outbox.sent)} == {Status.SENT}
        assert {row.status for row in outbox.rows(outbox.queued)} == {Status.QUEUED}
        assert not OutboxMessage.objects.filter(status=Status.FAILED).exists()


class TestNothingElseChanges:
    def test_no_adding_editing_or_deleting(self, admin: Client, outbox: Outbox) -> None:
        receipt = _receipt(outbox, outbox.failed)
        assert admin.get(reverse("admin:mail_outboxmessage_add")).status_code == 403
        assert admin.post(_change_url(receipt), {"to": "x@example.com"}).status_code == 403
        delete = reverse("admin:mail_outboxmessage_delete", args=[receipt.pk])
        assert admin.post(delete, {"post": "yes"}).status_code == 403
        actions = admin.get(CHANGELIST).context["action_form"].fields["action"].choices
        assert [name for name, _label in actions if name] == ["resend"]
        receipt.refresh_from_db()
        assert (receipt.to, receipt.status) == ("beto@example.com", Status.FAILED)

    def test_staff_without_the_permission_see_nothing(self, cast: Cast, outbox: Outbox) -> None:
        agent = _client(cast.agent)
        receipt = _receipt(outbox, outbox.failed)
        assert agent.get(CHANGELIST).status_code == 403
        assert agent.post(_resend_url(receipt)).status_code == 403
        receipt.refresh_from_db()
        assert receipt.status == Status.FAILED

    def test_who_may_only_view_reads_it_but_cannot_send_again(
        self, cast: Cast, outbox: Outbox
    ) -> None:
        reader = staff_create("lectora@example.com", "Lectora", None)
        reader.language = "en"  # this test reads the admin's English texts
        reader.save(update_fields=["language"])
        reader.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
        client = _client(reader)
        receipt = _receipt(outbox, outbox.failed)
        page = client.get(_change_url(receipt))
        assert page.status_code == 200
        assert "This message could not be delivered." in page.content.decode()
        assert 'name="_resend"' not in page.content.decode()
        assert client.post(_resend_url(receipt)).status_code == 403
        response = client.post(
            CHANGELIST, {"action": "resend", "_selected_action": [receipt.pk], "index": 0}
        )
        assert response.status_code in (200, 302)
        receipt.refresh_from_db()
        assert receipt.status == Status.FAILED

    def test_who_may_change_outbox_rows_may_send_again(self, cast: Cast, outbox: Outbox) -> None:
        operator = staff_create("operador@example.com", "Operador", None)
        operator.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_outboxmessage", "change_outboxmessage"])
        )
        receipt = _receipt(outbox, outbox.failed)
        _client(operator).post(_resend_url(receipt))
        receipt.refresh_from_db()
        assert receipt.status == Status.QUEUED
