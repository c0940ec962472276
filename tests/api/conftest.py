"""API test helpers: tokens for the cast, and a client that sends them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from atiende.accounts.models import User
from atiende.api.tokens import token_create


class ApiClient:
    """Django's test client speaking JSON with a bearer token (or none)."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if secret is not None:
            self.headers["Authorization"] = f"Bearer {secret}"

    def _call(self, method: str, path: str, data: Any = None, **headers: str) -> Any:
        kwargs: dict[str, Any] = {"headers": {**self.headers, **headers}}
        if data is not None:
            kwargs["data"] = json.dumps(data)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(path, **kwargs)

    def get(self, path: str, data: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(path, data or {}, headers={**self.headers, **headers})

    def post(self, path: str, data: Any = None, **headers: str) -> Any:
        return self._call("post", path, data, **headers)

    def put(self, path: str, data: Any = None, **headers: str) -> Any:
        return self._call("put", path, data, **headers)

    def patch(self, path: str, data: Any = None, **headers: str) -> Any:
        return self._call("patch", path, data, **headers)

    def delete(self, path: str, **headers: str) -> Any:
        return self._call("delete", path, None, **headers)

    def upload(self, path: str, files: dict[str, Any], **headers: str) -> Any:
        return self.client.post(path, files, headers={**self.headers, **headers})


@pytest.fixture
def token_for(db: None) -> Callable[..., str]:
    """`token_for(user, "write")` -> the secret of a new token of that user and scope."""

    def _make(user: User, scope: str = "read", name: str = "pruebas") -> str:
        _token, secret = token_create(user=user, name=name, scope=scope, created_by=user)
        return secret

    return _make


@pytest.fixture
def api_as(token_for: Callable[..., str]) -> Callable[..., ApiClient]:
    """`api_as(cast.agent, "write")` -> a client sending a token of that user and scope."""

    def _make(user: User, scope: str = "read") -> ApiClient:
        return ApiClient(token_for(user, scope))

    return _make


# --- The ticket side's tests (tests/api/test_ticket_*.py and their neighbours) ---------------


@pytest.fixture
def ops_ticket(cast: Any, open_ticket: Callable[..., Any]) -> Any:
    """A ticket of the other account (Otro) in operaciones: what a token of soporte must never
    reach, whatever the endpoint."""
    return open_ticket(
        customer=cast.otro,
        department=cast.operaciones,
        subject="Servidor caído",
        body="El servidor de otra.net no responde desde la madrugada.",
    )


def problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The problem details (RFC 9457) of an error answer, after checking its status, media
    type and, given `code`, its type (`urn:atiende:problem:<code>`)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    if code is not None:
        assert body["type"] == f"urn:atiende:problem:{code}"
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    """The fields a 422 names."""
    return {error["field"] for error in body.get("errors") or []}
