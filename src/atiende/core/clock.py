"""The one clock: domain code asks `now()`, tests move time with time-machine."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current aware datetime (UTC)."""
    return timezone.now()
