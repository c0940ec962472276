"""After a commit that wrote mail, one delivery is asked for, however many rows it wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction

from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.outbox import outbox_enqueued
from atiende.tickets.models import Ticket
from tests.conftest import Cast


@pytest.fixture
def kicks() -> Iterator[list[object]]:
    seen: list[object] = []

    def record(**signal: Any) -> None:
        seen.append(signal["sender"])

    outbox_enqueued.connect(record, dispatch_uid="test-kicks")
    yield seen
    outbox_enqueued.disconnect(dispatch_uid="test-kicks")


def test_a_transaction_with_several_mails_asks_once(
    cast: Cast,
    open_ticket: Callable[..., Ticket],
    kicks: list[object],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket()  # receipt + one notice per agent of the department
    assert OutboxMessage.objects.filter(ticket=ticket).count() >= 3
    assert len(kicks) == 1


def test_a_rolled_back_savepoint_does_not_swallow_the_next_ask(
    cast: Cast,
    open_ticket: Callable[..., Ticket],
    kicks: list[object],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                open_ticket(subject="Se deshace")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        open_ticket(subject="Se queda")
    assert not OutboxMessage.objects.filter(ticket__subject="Se deshace").exists()
    assert len(kicks) == 1
