"""`/healthz/`: the load balancer's liveness check and the benchmarks' floor."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def test_it_answers_ok_without_touching_the_database(db: None, client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    assert len(queries) == 0
    assert not response.cookies  # no session, no CSRF cookie: nothing kept per caller


def test_a_head_request_is_answered_too(db: None, client: Client) -> None:
    assert client.head("/healthz/").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_it_refuses_writes(db: None, client: Client, method: str) -> None:
    assert getattr(client, method)("/healthz/").status_code == 405
