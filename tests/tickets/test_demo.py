"""`atiende demo` loads a lived-in helpdesk once, and only in demo mode."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from atiende.accounts.models import User
from atiende.tickets.lifecycle import Status
from atiende.tickets.models import Message, Ticket


def test_demo_data_is_refused_outside_demo_mode(db: None) -> None:
    with override_settings(DEMO=False), pytest.raises(CommandError):
        call_command("demo")
    assert not User.objects.exists()


@override_settings(DEMO=True)
def test_demo_data_loads_once_with_tickets_in_every_status(db: None) -> None:
    call_command("demo")
    call_command("demo")  # idempotent
    assert User.objects.filter(email="cliente@example.com").count() == 1
    for email in (
        "cliente@example.com",
        "otro@example.com",
        "agente@example.com",
        "admin@example.com",
    ):
        assert User.objects.get(email=email).check_password("atiende-demo")
    cliente = User.objects.get(email="cliente@example.com")
    statuses = set(Ticket.objects.filter(account=cliente.account).values_list("status", flat=True))
    assert statuses == set(Status.values)
    agent = User.objects.get(email="agente@example.com")
    queue = Ticket.objects.filter(department__slug="soporte-tecnico")
    assert queue.filter(assignee__isnull=True, status=Status.OPEN).exists()
    assert queue.filter(assignee=agent).exists()
    assert queue.filter(collaborators=agent).exists()
    assert Message.objects.filter(is_internal=True).exists()
