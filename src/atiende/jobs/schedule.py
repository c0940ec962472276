"""Every periodic job of Atiende, in one place.

Each runs in the worker (`atiende worker`, started by `make run`). Every job is safe to run in
several workers at once: the work it does is claimed row by row with conditional UPDATEs or
row locks, never by trusting that it runs alone.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from atiende.api.auth import rate_windows_purge
from atiende.api.idempotency import idempotency_records_purge
from atiende.api.uploads import uploads_purge
from atiende.mail.inbound.imap import mailboxes_poll_due
from atiende.mail.outbound.outbox import outbox_deliver_due
from atiende.tickets.automation import auto_close_sweep

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"), retries=1, retry_delay=10)
def auto_close_sweep_task() -> None:
    """Every minute: reminders and automatic closes that are due (the 72-hour rule)."""
    result = auto_close_sweep()
    if result.reminded or result.closed:
        logger.info("auto-close sweep: %s reminded, %s closed", result.reminded, result.closed)


@db_periodic_task(crontab(minute="*"), retries=1, retry_delay=10)
def outbox_deliver_periodic_task() -> None:
    """Every minute: mail that waited (retries after backoff, anything a kick missed)."""
    sent = outbox_deliver_due(limit=1000)
    if sent:
        logger.info("outbox: %s sent", sent)


@db_periodic_task(crontab(minute="*"), retries=1, retry_delay=10)
def mailboxes_poll_periodic_task() -> None:
    """Every minute: the department mailboxes whose turn has come (each has its own interval;
    a mailbox that cannot be reached is recorded on it, never raised)."""
    results = mailboxes_poll_due()
    received = sum(result.received for result in results)
    failed = sum(1 for result in results if not result.ok)
    if received or failed:
        logger.info("mailboxes: %s messages received, %s mailboxes failed", received, failed)


@db_periodic_task(crontab(minute="17"), retries=1, retry_delay=60)
def api_leftovers_purge_task() -> None:
    """Every hour: the API's leftovers (answers kept for Idempotency-Key and files uploaded
    for a message that never came, after a day; request counts of past minutes)."""
    answers = idempotency_records_purge()
    uploads = uploads_purge()
    rate_windows_purge()
    if answers or uploads:
        logger.info("api: %s idempotency answers and %s uploads expired", answers, uploads)
