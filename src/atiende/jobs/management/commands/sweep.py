"""`atiende sweep`: run the auto-close sweep once, now (by the system clock)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from atiende.tickets.automation import auto_close_sweep


class Command(BaseCommand):
    help = "Send due reminders and close due tickets once (what the worker does every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = auto_close_sweep()
        self.stdout.write(f"reminded: {result.reminded}, closed: {result.closed}")
