"""Idempotency-Key on create operations: a retried POST gets the first answer again.

The record is written in the same transaction as the operation, before it runs. A second
request with the key waits on the unique index (PostgreSQL) or on the write lock (SQLite)
until the first commits, then finds the record and replays it; if the first failed, its
record rolled back with it and the retry runs as new. Records expire after a day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Schema

from atiende.api.models import IdempotencyRecord
from atiende.core.clock import now
from atiende.core.errors import DomainError
from atiende.core.problem import problem_response

KEY_MAX = 255
KEPT_FOR = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _json(status: int, body: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


def _replay(record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
    if record.fingerprint != fingerprint:
        return problem_response(
            422,
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency-key-reused",
            errors=[{"field": "Idempotency-Key", "message": _("Use a new key for a new request.")}],
        )
    response = _json(record.status_code, record.body)
    response[REPLAYED_HEADER] = "true"
    return response


def render(schema: type[Schema], data: Any) -> str:
    return json.dumps(schema.model_validate(data).model_dump(mode="json"), ensure_ascii=False)


def idempotent_create(
    request: HttpRequest,
    *,
    key: str | None,
    schema: type[Schema],
    create: Callable[[], Any],
    status: int = 201,
) -> HttpResponse:
    """Run `create()` (which returns data for `schema`) once per key of this user."""
    if key is None or key == "":
        return _json(status, render(schema, create()))
    if len(key) > KEY_MAX or not key.isprintable():
        raise DomainError(
            _("The Idempotency-Key must be at most %(max)d printable characters.")
            % {"max": KEY_MAX},
            field="Idempotency-Key",
        )
    user_id = request.user.pk
    assert user_id is not None  # the token's user
    fingerprint = _fingerprint(request)
    fresh_since = now() - KEPT_FOR
    existing = IdempotencyRecord.objects.filter(
        user_id=user_id, key=key, created_at__gte=fresh_since
    ).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            # An expired record of this key gives way to the new request.
            IdempotencyRecord.objects.filter(
                user_id=user_id, key=key, created_at__lt=fresh_since
            ).delete()
            record = IdempotencyRecord.objects.create(
                user_id=user_id, key=key, fingerprint=fingerprint
            )
            body = render(schema, create())
            record.status_code = status
            record.body = body
            record.save(update_fields=["status_code", "body"])
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return _json(status, body)


def idempotency_records_purge() -> int:
    """Forget the answers older than a day (a periodic job)."""
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=now() - KEPT_FOR).delete()
    return deleted
