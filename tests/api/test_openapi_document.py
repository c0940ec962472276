"""The OpenAPI document describes every operation completely, and the docs page serves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from atiende.core.problem import PROBLEM_CONTENT_TYPE


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _value in pairs]
    duplicated = {key for key in keys if keys.count(key) > 1}
    assert not duplicated, f"duplicated keys {duplicated}: Swagger UI refuses such a document"
    return dict(pairs)


@pytest.fixture
def document() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return dict(json.loads(response.content, object_pairs_hook=_no_duplicate_keys))


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_the_document_is_openapi_3_under_api_v1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Atiende API"
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    # One bearer scheme: Swagger UI's *Authorize* asks for the token once.
    [scheme] = document["components"]["securitySchemes"].values()
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_every_operation_has_a_summary_a_unique_id_and_a_bearer_requirement(
    document: dict[str, Any],
) -> None:
    operations = _operations(document)
    assert len(operations) >= 30
    ids = [operation["operationId"] for _method, _path, operation in operations]
    assert len(ids) == len(set(ids))
    for method, path, operation in operations:
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert operation.get("security"), f"{method} {path} is not behind a token"


def test_every_operation_documents_its_errors_as_problem_details(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, f"{method} {path} documents no success"
        expected = {"400", "401", "403", "404", "422", "429"}
        if method != "get":
            expected |= {"409", "413"}
        assert expected <= set(responses), f"{method} {path}: {expected - set(responses)}"
        for code in expected:
            content = responses[code]["content"]
            assert list(content) == [PROBLEM_CONTENT_TYPE]
            assert content[PROBLEM_CONTENT_TYPE]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
        assert "Retry-After" in responses["429"]["headers"]


def test_the_problem_schema_has_the_rfc_9457_members(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "errors" in problem["properties"]


def test_the_interactive_docs_are_served_without_a_token() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"/api/v1/openapi.json" in response.content
