"""Endpoints are registered, changed, rotated and deleted through the services, which refuse
what cannot be a safe webhook URL or a known event, naming the field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from atiende.core.errors import DomainError
from atiende.webhooks.models import SECRET_PREFIX, WebhookEndpoint, WebhookEvent
from atiende.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhook_secret_rotate,
)
from tests.conftest import Cast

URL = "https://hooks.example.com/atiende"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The messages compared here are the English source ones."""
    with translation.override("en"):
        yield


def create(cast: Cast, **changes: object) -> WebhookEndpoint:
    values: dict[str, object] = {
        "url": URL,
        "event_types": [WebhookEvent.TICKET_CREATED],
        "description": "Facturación",
        "created_by": cast.admin,
    }
    values.update(changes)
    return webhook_endpoint_create(**values)  # type: ignore[arg-type]


class TestCreate:
    def test_an_endpoint_starts_active_with_its_own_secret(self, cast: Cast) -> None:
        first = create(cast, url=f"  {URL}  ", description="  Facturación \n central ")
        second = create(cast)
        assert first.url == URL
        assert first.description == "Facturación central"
        assert first.is_active
        assert first.created_by == cast.admin
        assert first.secret.startswith(SECRET_PREFIX)
        assert len(first.secret) >= len(SECRET_PREFIX) + 43  # 256 bits in base64url
        assert first.secret != second.secret

    def test_event_types_are_kept_once_in_their_canonical_order(self, cast: Cast) -> None:
        endpoint = create(
            cast,
            event_types=[
                WebhookEvent.TICKET_MOVED,
                WebhookEvent.TICKET_CREATED,
                WebhookEvent.TICKET_MOVED,
            ],
        )
        assert endpoint.event_types == ["ticket.created", "ticket.moved"]

    def test_plain_http_is_allowed_for_a_receiver_on_the_same_network(self, cast: Cast) -> None:
        assert create(cast, url="http://10.0.0.5:8080/hook").url == "http://10.0.0.5:8080/hook"


class TestRefused:
    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("", "Enter the URL"),
            ("ftp://hooks.example.com/x", "http:// or https://"),
            ("javascript:alert(1)", "http:// or https://"),
            ("hooks.example.com/x", "http:// or https://"),
            ("https://user:secret@hooks.example.com/x", "user name or password"),
            ("https://token@hooks.example.com/x", "user name or password"),
            ("https://", "valid URL"),
            ("https://exa mple.com/", "valid URL"),
            ("https://hooks.example.com/" + "x" * 2000, "at most 2000"),
            ("https://hooks.example.com/a\x00b", "valid URL"),
            ("https://hooks.example.com/a\nb", "valid URL"),
            ("https://hooks.example.com/\u202eevil", "valid URL"),
        ],
    )
    def test_a_url_that_cannot_be_a_webhook(self, cast: Cast, url: str, says: str) -> None:
        with pytest.raises(DomainError) as refused:
            create(cast, url=url)
        assert refused.value.field == "url"
        assert says in str(refused.value.message)
        assert not WebhookEndpoint.objects.exists()

    def test_no_event_at_all(self, cast: Cast) -> None:
        with pytest.raises(DomainError) as refused:
            create(cast, event_types=[])
        assert refused.value.field == "event_types"
        assert "at least one" in str(refused.value.message)

    def test_an_unknown_event(self, cast: Cast) -> None:
        with pytest.raises(DomainError) as refused:
            create(cast, event_types=["ticket.created", "ticket.deleted"])
        assert refused.value.field == "event_types"
        assert "ticket.deleted" in str(refused.value.message)

    def test_control_characters_are_dropped_from_the_description(self, cast: Cast) -> None:
        endpoint = create(cast, description="Factu\x00ración\u202e\ncentral")
        endpoint.refresh_from_db()
        assert endpoint.description == "Facturación central"

    def test_a_description_too_long(self, cast: Cast) -> None:
        with pytest.raises(DomainError) as refused:
            create(cast, description="x" * 201)
        assert refused.value.field == "description"

    def test_an_update_is_checked_the_same_way_and_changes_nothing_when_refused(
        self, cast: Cast
    ) -> None:
        endpoint = create(cast)
        with pytest.raises(DomainError):
            webhook_endpoint_update(endpoint=endpoint, url="ftp://x.example.com/")
        with pytest.raises(DomainError):
            webhook_endpoint_update(endpoint=endpoint, event_types=[])
        endpoint.refresh_from_db()
        assert endpoint.url == URL
        assert endpoint.event_types == ["ticket.created"]


class TestChange:
    def test_only_what_is_given_changes(self, cast: Cast) -> None:
        endpoint = create(cast)
        webhook_endpoint_update(endpoint=endpoint, event_types=[WebhookEvent.TICKET_ASSIGNED])
        webhook_endpoint_update(endpoint=endpoint, is_active=False)
        endpoint.refresh_from_db()
        assert (endpoint.url, endpoint.description) == (URL, "Facturación")
        assert endpoint.event_types == ["ticket.assigned"]
        assert not endpoint.is_active

    def test_rotating_gives_a_new_secret(self, cast: Cast) -> None:
        endpoint = create(cast)
        old = endpoint.secret
        webhook_secret_rotate(endpoint=endpoint)
        endpoint.refresh_from_db()
        assert endpoint.secret != old
        assert endpoint.secret.startswith(SECRET_PREFIX)
