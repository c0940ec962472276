from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def atiende(request: HttpRequest) -> dict[str, Any]:
    return {"DEMO": settings.DEMO, "TICKET_PREFIX": settings.ATIENDE_TICKET_PREFIX}
