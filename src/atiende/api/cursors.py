"""Opaque cursors: a position in an ordering, base64url of a small JSON list."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.utils.translation import gettext as _

from atiende.core.errors import DomainError

CURSOR_MAX = 200


def cursor_encode(position: list[Any]) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, *, shape: tuple[type, ...], field: str = "cursor") -> list[Any]:
    """The position, checked against `shape` (the type of each element), or a DomainError
    on `field`: a cursor is only ever one we gave out."""
    invalid = DomainError(_("This cursor is not valid; use one the API returned."), field=field)
    if len(cursor) > CURSOR_MAX:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if (
        not isinstance(position, list)
        or len(position) != len(shape)
        or not all(
            isinstance(value, kind) and not isinstance(value, bool)
            for value, kind in zip(position, shape, strict=True)
        )
    ):
        raise invalid
    return position
