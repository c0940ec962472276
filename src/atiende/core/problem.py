"""RFC 9457 problem details: the one shape of every error the API answers."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:atiende:problem:"


def problem_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """An `application/problem+json` answer. `code` names the problem type
    (`urn:atiende:problem:<code>`); without it the type is `about:blank`, which RFC 9457 says
    means "just the HTTP status". `errors` lists the fields at fault."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code if code else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = errors
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
