"""The real worker: `atiende worker` as a subprocess, over a database of its own (a `site`),
delivering to a real SMTP server on loopback; checked by what that server received.

Tasks are not run inline here (the site's processes have no ATIENDE_TASKS_IMMEDIATE): the
services' commits ask the worker's queue for a delivery, or the test puts a delivery task in
that queue itself, as another machine would.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from atiende.jobs.tasks import outbox_deliver_task
from atiende.mail.outbound.outbox import SENDING_LEASE
from tests.mail.delivery_support import (
    assert_each_received_once,
    order_received,
    order_written,
    site_outbox,
)
from tests.services.common import libfaketime_required
from tests.services.redis import RedisServer
from tests.services.site import Site
from tests.services.smtp import SmtpServer

SCRIPT = "tests.mail.outbox_site"
DELIVERY_TASK = "atiende.jobs.tasks.outbox_deliver_task"


def seed(site: Site, **spec: Any) -> list[dict[str, Any]]:
    return list(json.loads(site.run_module(SCRIPT, "seed", json.dumps(spec))))


def keys(rows: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(row["ticket"], row["message_id"]) for row in rows]


def test_killed_in_mid_batch_and_started_again_it_loses_nothing_and_repeats_only_the_row_in_flight(
    smtp_server: SmtpServer, site: Site
) -> None:
    libfaketime_required()
    site.use_smtp(smtp_server.host, smtp_server.port)
    smtp_server.gate()
    # Three tickets, each: receipt, notice to the agent, the agent's reply. Every commit asks
    # the worker's queue (SqliteHuey in the site's data dir) for a delivery.
    written = seed(site, tickets=3, customers=["ana@example.com", "beto@example.com"])
    assert len(written) == 9

    worker = site.start_worker(workers=1, name="worker-1")
    smtp_server.next_arrival().accept()
    smtp_server.next_arrival().accept()
    in_flight = smtp_server.next_arrival()
    in_flight.accept(hold_reply=True)  # the server has taken it; the worker awaits the "250"
    worker.kill()
    in_flight.reply()  # to nobody

    after_kill = {row["message_id"]: row["status"] for row in site_outbox(site)}
    assert after_kill[in_flight.message_id] == "sending"
    assert sorted(after_kill.values()) == ["queued"] * 6 + ["sending"] + ["sent"] * 2

    # Started again; the row left in `sending` is taken again once its lease (10 minutes)
    # has run out: the worker runs with its clock that much later.
    smtp_server.ungate()
    restarted = site.start_worker(
        workers=1, clock_ahead=SENDING_LEASE + timedelta(minutes=1), name="worker-2"
    )
    site.enqueue(outbox_deliver_task)
    received = smtp_server.wait_for(10)
    restarted.stop()

    counts = smtp_server.message_id_counts()
    assert set(counts) == {row["message_id"] for row in written}  # nothing lost
    assert {message_id for message_id, count in counts.items() if count > 1} == {
        in_flight.message_id
    }
    assert counts[in_flight.message_id] == 2
    assert len(smtp_server.received) == 10
    assert order_received(received) == order_written(keys(written))
    assert {row["status"] for row in site_outbox(site)} == {"sent"}


def test_with_redis_url_the_worker_takes_its_jobs_from_redis(
    smtp_server: SmtpServer, redis_server: RedisServer, site: Site
) -> None:
    site.use_smtp(smtp_server.host, smtp_server.port)
    site.set_env(REDIS_URL=redis_server.url)
    written = seed(site, tickets=2, kick=False)

    worker = site.start_worker(workers=1)
    site.enqueue(outbox_deliver_task)  # through RedisHuey("atiende", url=REDIS_URL)
    received = smtp_server.wait_for(len(written))
    worker.stop()

    assert_each_received_once(received, keys(written))
    assert f"Executing {DELIVERY_TASK}" in worker.log()
    assert not (site.data_dir / "queue.sqlite3").exists()  # no SQLite queue beside it


def test_a_job_that_fails_is_logged_with_its_traceback_and_retried_and_the_worker_goes_on(
    smtp_server: SmtpServer, site: Site
) -> None:
    """The first delivery job dies (its mail backend breaks); the next one delivers, and
    within it a row whose attachment is gone and a recipient refused with 550 stop nothing."""
    site.use_smtp(smtp_server.host, smtp_server.port)
    site.set_env(EMAIL_BACKEND="tests.services.faulty_mail.EmailBackend")
    smtp_server.fail(550, recipient="rechazado@example.com")
    written = seed(
        site,
        tickets=3,
        customers=["ana@example.com", "rechazado@example.com", "beto@example.com"],
        missing_attachment_on=0,  # the reply on Ana's ticket carries a file now lost
        kick=False,
    )

    worker = site.start_worker(workers=1)
    site.enqueue(outbox_deliver_task)  # fails: "InjectedFault"
    site.enqueue(outbox_deliver_task)  # delivers
    received = smtp_server.wait_for(6)
    assert worker.alive
    worker.stop()

    log = worker.log()
    assert "Unhandled exception in task" in log
    assert "Traceback (most recent call last)" in log
    assert "InjectedFault: injected fault number 1" in log
    assert "Requeueing" in log  # huey retries the failed job later
    assert "cannot be built" in log
    assert "FileNotFoundError" in log

    rows = {row["message_id"]: row for row in site_outbox(site)}
    lost = [
        row
        for row in rows.values()
        if row["status"] == "failed" and row["to"] != "rechazado@example.com"
    ]
    assert [row["template"] for row in lost] == ["ticket_staff_reply"]
    assert "FileNotFoundError" in lost[0]["last_error"]
    refused = [row for row in rows.values() if row["to"] == "rechazado@example.com"]
    assert [(row["status"], row["attempts"]) for row in refused] == [("failed", 1)] * 2
    assert all("550" in row["last_error"] for row in refused)
    delivered = [row for row in written if rows[row["message_id"]]["status"] == "sent"]
    assert len(delivered) == 6
    assert_each_received_once(received, keys(delivered))
