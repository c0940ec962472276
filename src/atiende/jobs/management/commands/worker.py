"""`atiende worker`: the background worker (huey's consumer with our periodic jobs)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background worker: outbox delivery, the auto-close sweep, periodic jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="worker threads (default 2)")

    def handle(self, *args: Any, **options: Any) -> None:
        # huey's consumer gives the "huey" logger a handler of its own when it has none, and
        # its records also reach the root handler of settings.LOGGING: every line came out
        # twice. With a handler present it leaves the logger alone, and LOGGING prints it.
        logging.getLogger("huey").addHandler(logging.NullHandler())
        call_command("run_huey", workers=options["workers"], worker_type="thread")
