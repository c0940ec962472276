"""Fixtures of the webhook tests: a real receiver on loopback, endpoints that point at it,
a clock that stands still, and the SMTP server of tests/services for the mail beside them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from time_machine import TimeMachineFixture

from atiende.webhooks.models import WebhookEndpoint, WebhookEvent
from atiende.webhooks.services import webhook_endpoint_create, webhook_endpoint_update
from tests.conftest import Cast
from tests.services.fixtures import smtp_mail, smtp_server
from tests.webhooks.receiver import Receiver

__all__ = ["smtp_mail", "smtp_server"]

START = datetime.fromisoformat("2025-03-03T15:00:00+00:00")
ALL_EVENTS = tuple(WebhookEvent.values)

MakeEndpoint = Callable[..., WebhookEndpoint]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    """Time stands still at START until a test moves it."""
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def endpoint(cast: Cast, receiver: Receiver) -> MakeEndpoint:
    """Registers an endpoint at the receiver's `path` through the service, and tells the
    receiver its secret."""

    def make(*events: str, path: str = "/hook", active: bool = True) -> WebhookEndpoint:
        created = webhook_endpoint_create(
            url=receiver.url(path),
            event_types=events or ALL_EVENTS,
            description=f"receiver {path}",
            created_by=cast.admin,
        )
        if not active:
            webhook_endpoint_update(endpoint=created, is_active=False)
        receiver.secrets[path] = created.secret
        return created

    return make
