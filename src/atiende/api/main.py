"""The REST API at /api/v1/: one NinjaAPI, its routers, and its OpenAPI document.

Every operation is documented with the errors it can answer, as `application/problem+json`
(RFC 9457): the schema is completed here once rather than repeated on each operation.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from atiende.api.auth import TokenAuth
from atiende.api.errors import errors_install
from atiende.api.http import JsonParser
from atiende.api.routers import customers, misc, tickets, webhooks
from atiende.api.schemas import Problem
from atiende.core.problem import PROBLEM_CONTENT_TYPE

DESCRIPTION = """
The helpdesk's API for the company's other systems: a billing panel, a service inventory.

**Authentication**: create a token in the console (*API tokens*) or with
`atiende token create --user EMAIL --scope read|write|admin`, and send it as
`Authorization: Bearer <token>`. The token acts with its user's permissions: an agent's token
sees the tickets of his departments only. `read` may only read; `write` may also act on
tickets; `admin` (administrators only) also manages customers, services and webhooks.

**Errors** are `application/problem+json` (RFC 9457): `detail` says what is wrong in the user's
language (`Accept-Language`, else the token user's), `errors` names the fields.

**Retries**: send `Idempotency-Key` with a create operation; a retry with the same key gets
the first answer and creates nothing more.
"""

# Every operation may answer these; the others are added where they apply.
_COMMON = {
    "400": "The request could not be read (malformed JSON).",
    "401": "No token, or a token that is unknown, revoked, or of an inactive user.",
    "403": "The token's scope or its user's role does not allow this.",
    "404": "Not found, or not visible to the token's user.",
    "422": "A field is missing or not valid; `errors` names it.",
    "429": "Too many requests for this token; wait `Retry-After` seconds.",
}
_WRITE = {
    "409": "Not possible in the ticket's current state (the lifecycle table), or it changed.",
    "413": "The request or a file is larger than allowed.",
}


class AtiendeAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        return str(operation.view_func.__name__)

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        reference = {"$ref": "#/components/schemas/Problem"}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                errors = dict(_COMMON)
                if method in {"post", "put", "patch", "delete"}:
                    errors.update(_WRITE)
                # ninja keys its own responses by int and openapi_extra's by str: one key
                # each (a JSON object with "200" twice is refused by Swagger UI), extra wins.
                merged = {
                    str(code): answer
                    for code, answer in operation.get("responses", {}).items()
                    if not isinstance(code, str)
                }
                merged.update(
                    {
                        code: answer
                        for code, answer in operation.get("responses", {}).items()
                        if isinstance(code, str)
                    }
                )
                responses = operation["responses"] = merged
                for status, description in errors.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {PROBLEM_CONTENT_TYPE: {"schema": reference}},
                        },
                    )
                if status_has_retry := responses.get("429"):
                    status_has_retry.setdefault(
                        "headers",
                        {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
                    )
        return schema


api = AtiendeAPI(
    title="Atiende API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=TokenAuth(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    parser=JsonParser(),
)
errors_install(api)
api.add_router("", customers.router)
api.add_router("", tickets.router)
api.add_router("", misc.departments)
api.add_router("", misc.files)
api.add_router("", misc.search)
api.add_router("", misc.events)
api.add_router("", webhooks.router)
