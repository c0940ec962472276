"""Tasks: adapters that take IDs (or nothing) and call a domain function. Nothing else.

Periodic jobs are listed in schedule.py. A task that raises is logged by huey with its
traceback and retried; it never stops the worker.
"""

from __future__ import annotations

import logging
from typing import Any

from huey.contrib.djhuey import HUEY, db_task

from atiende.mail.outbound.outbox import outbox_deliver_due

logger = logging.getLogger(__name__)


@db_task(retries=3, retry_delay=30)
def outbox_deliver_task() -> int:
    """Deliver what the outbox holds now (asked for after each commit that wrote mail)."""
    return outbox_deliver_due()


def outbox_kick(**_signal: Any) -> None:
    """After a commit that wrote mail: ask a worker to deliver it now.

    If the queue cannot be reached the mail is not lost: it waits in the outbox for the
    periodic delivery.
    """
    try:
        outbox_deliver_task()
    except Exception:
        logger.warning(
            "could not enqueue outbox delivery (%s); the periodic job will send it",
            type(HUEY).__name__,
            exc_info=True,
        )
