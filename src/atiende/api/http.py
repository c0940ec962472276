"""HTTP details of the API that no operation should have to remember."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.parser import Parser

from atiende.core.problem import problem_response

API_PREFIX = "/api/"


class JsonParser(Parser):
    """JSON bodies; an empty body is an empty object, so an action whose fields are all
    optional (resolve, close, reopen) needs no `{}`."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if not request.body.strip():
            return {}
        return cast(dict[str, Any], json.loads(request.body))


class MethodNotAllowedAsProblem:
    """A method an API address does not take is a problem+json 405 like every other error
    (ninja answers it with a bare HTML response), keeping its Allow header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and request.path.startswith(API_PREFIX):
            allow = response.get("Allow", "")
            problem = problem_response(
                405,
                _("This address does not take %(method)s; it takes %(allowed)s.")
                % {"method": request.method, "allowed": allow},
                code="method-not-allowed",
            )
            if allow:
                problem["Allow"] = allow
            return problem
        return response
