"""Every error of the API as RFC 9457 problem details, mapped here once.

Domain errors keep their user-facing (translated) message as `detail`; their class decides
the status: NotFound 404 (also for another account's or department's objects), lifecycle and
stale-state conflicts 409, TooLarge 413, StorageUnavailable 503 (with Retry-After), any other
DomainError 422 naming its field.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from atiende.core.errors import (
    DomainError,
    NotFound,
    StaleState,
    StorageUnavailable,
    TooLarge,
    TransitionNotAllowed,
)
from atiende.core.problem import problem_response

logger = logging.getLogger(__name__)


def _location(loc: Any) -> str:
    """pydantic's error location without ninja's first part ("body", "query", "path")."""
    parts = [str(part) for part in (loc or [])]
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header", "form", "file"}:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "payload":  # the operations' name for the JSON body
        parts = parts[1:]
    return ".".join(parts)


def _validation(request: HttpRequest, exc: Any) -> HttpResponse:
    errors = [
        {"field": _location(error.get("loc")), "message": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    return problem_response(
        422, _("Some fields are missing or not valid."), code="validation", errors=errors
    )


def _domain(request: HttpRequest, exc: Any) -> HttpResponse:
    detail = str(exc.message)
    if isinstance(exc, NotFound):
        return problem_response(404, detail, code="not-found")
    if isinstance(exc, TransitionNotAllowed):
        return problem_response(409, detail, code="transition-not-allowed")
    if isinstance(exc, StaleState):
        return problem_response(409, detail, code="conflict")
    if isinstance(exc, StorageUnavailable):
        return problem_response(
            503, detail, code="storage-unavailable", headers={"Retry-After": "60"}
        )
    errors = [{"field": exc.field, "message": detail}] if exc.field else None
    if isinstance(exc, TooLarge):  # which file: the upload's `file`, or a message's attachments
        return problem_response(413, detail, code="too-large", errors=errors)
    return problem_response(422, detail, code="invalid", errors=errors)


def _http(request: HttpRequest, exc: Any) -> HttpResponse:
    if isinstance(exc, Throttled):
        wait = math.ceil(exc.wait) if exc.wait else 60
        return problem_response(
            429,
            ngettext(
                "This token sent too many requests. Try again in %(seconds)d second.",
                "This token sent too many requests. Try again in %(seconds)d seconds.",
                wait,
            )
            % {"seconds": wait},
            code="rate-limited",
            headers={"Retry-After": str(wait)},
        )
    if isinstance(exc, AuthenticationError):
        return problem_response(
            401,
            _("Send a valid API token: Authorization: Bearer <token>."),
            code="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="atiende"'},
        )
    if isinstance(exc, AuthorizationError):
        return problem_response(403, exc.message, code="forbidden")
    if exc.status_code == 400:
        return problem_response(400, _("The request body is not valid JSON."), code="bad-request")
    return problem_response(exc.status_code, exc.message)


def _not_found(request: HttpRequest, exc: Any) -> HttpResponse:
    return problem_response(404, _("Not found."), code="not-found")


def _unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    # As Django does for a view that raises: error reporting and the test client hear of it.
    got_request_exception.send(sender=None, request=request)
    return problem_response(500, _("Something went wrong on our side. Nothing was changed."))


def errors_install(api: NinjaAPI) -> None:
    api.add_exception_handler(NinjaValidationError, _validation)
    api.add_exception_handler(DomainError, _domain)
    api.add_exception_handler(HttpError, _http)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(Exception, _unexpected)


@csrf_exempt
def api_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """For URLs under /api/ that name no operation."""
    return problem_response(404, _("There is no such API address."), code="not-found")
