"""Helpers for the account pages' tests: logged-in clients and the outbox."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from atiende.accounts.models import User
from atiende.mail.models import OutboxMessage
from tests.conftest import Cast


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ana_client(cast: Cast) -> Client:
    """Ana, the holder of the cast's main account."""
    return client_for(cast.ana)


@pytest.fixture
def otro_client(cast: Cast) -> Client:
    """Otro, a customer of the other account."""
    return client_for(cast.otro)


def outbox(template: str | None = None) -> list[OutboxMessage]:
    rows = OutboxMessage.objects.order_by("id")
    if template is not None:
        rows = rows.filter(template=template)
    return list(rows)


@pytest.fixture(autouse=True)
def _english_pages(settings: Any) -> None:
    """These tests read the pages' English source texts: visitors without a language cookie
    get English here (the product's default stays Spanish, tested in test_profile and e2e)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def cast(cast: Cast) -> Cast:
    """The cast, speaking English (see `_english_pages`)."""
    User.objects.filter(pk__in=[cast.ana.pk, cast.beto.pk, cast.otro.pk]).update(language="en")
    for user in (cast.ana, cast.beto, cast.otro):
        user.refresh_from_db()
    return cast
