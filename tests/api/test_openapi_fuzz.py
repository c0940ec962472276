"""schemathesis against the app's own OpenAPI document: for every operation, a bounded number
of generated requests (valid and invalid) with a fixed seed. No answer may be a 5xx, and
every answer must match what the document says: its status, content type, headers, body."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from atiende.wsgi import application
from tests.conftest import Cast

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _connections_kept() -> Any:
    """The app is called through WSGI, not Django's test client: keep Django from closing the
    test's database connection (and its transaction) at the end of each request, as the
    test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(
    _connections_kept: None, cast: Cast, open_ticket: Any, token_for: Any
) -> dict[str, str]:
    """An administrator's admin token, over data of two accounts and three departments."""
    open_ticket()
    open_ticket(customer=cast.otro, department=cast.operaciones)
    return {"Authorization": f"Bearer {token_for(cast.admin, 'admin')}"}


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: Any, admin_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=admin_headers, checks=CHECKS)
