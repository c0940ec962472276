"""Request-level guards that no view should have to remember."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from atiende.core.problem import problem_response

API_PREFIX = "/api/"


class RequestSizeLimitMiddleware:
    """Refuse a request body over ATIENDE_MAX_REQUEST_BYTES before anything reads it.

    Per-file and per-message limits are the department's and are checked with a friendly form
    error; this cap only stops bodies so large that streaming them to disk is itself the harm.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.ATIENDE_MAX_REQUEST_BYTES:
            limit_mb = settings.ATIENDE_MAX_REQUEST_BYTES // (1024 * 1024)
            if request.path.startswith(API_PREFIX):
                response = problem_response(
                    413,
                    _("The request is larger than %(limit)d MB.") % {"limit": limit_mb},
                    code="too-large",
                )
                response["Connection"] = "close"
                return response
            body = render_to_string(
                "413.html",
                {"limit_mb": limit_mb},
                request=request,
            )
            response = HttpResponse(body, status=413)
            response["Connection"] = "close"
            return response
        return self.get_response(request)
