"""Benchmark: the auto-close sweep over 100 000 tickets, and the outbox into a local SMTP server.

    .venv/bin/python bench/outbox_and_sweep.py [--postgres URL|auto] [--tickets N] [--due N]
                                               [--mails N]

For each backend (SQLite always; PostgreSQL with `--postgres`) it makes a temporary data dir
and a fresh migrated database, writes the tickets with bulk_create (of which `--due` wait on
the customer with an auto-close deadline, and as many more have a deadline days away), then:

- times `auto_close_sweep()` with nothing due (median of 5 runs);
- moves the deadlines of the due tickets into the past and times one sweep that closes them
  all (events, notices written to the outbox, and a delivery asked of the worker's queue per
  commit, as in production);
- writes `--mails` outbox rows (two per ticket, so the per-ticket order is exercised) and
  times `outbox_deliver_due()` until the outbox is empty, into an aiosmtpd server in a
  process of its own on loopback that counts what it accepted.

`--postgres URL` names a server (any database on it): a database `atiende_bench_*` is created
there and dropped afterwards. `--postgres auto` starts a throw-away PostgreSQL the way the
test suite does. Each backend runs in a child process, because Django's settings are read
once per process. The table is printed and written to test-artifacts/bench/outbox_and_sweep.txt.
This is a benchmark, not a test: nothing here is run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "test-artifacts" / "bench" / "outbox_and_sweep.txt"
BATCH = 5000


# --- the SMTP server, in a process of its own ---------------------------------------------


def serve_smtp(port: int) -> None:
    """Accept every message on 127.0.0.1:`port`; print how many on a line when stdin closes."""
    import threading

    from aiosmtpd.controller import Controller

    class Counter:
        def __init__(self) -> None:
            self.count = 0
            self.lock = threading.Lock()

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with self.lock:
                self.count += 1
            return "250 2.0.0 OK"

    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()  # until the parent closes it
    controller.stop()
    sys.stdout.write(f"{handler.count}\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[int]]]:
    """A counting SMTP server; after the block, the list holds how many it accepted."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-smtp", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError("the benchmark's SMTP server did not start")
    accepted: list[int] = []
    try:
        yield port, accepted
    finally:
        process.stdin.close()
        accepted.append(int(process.stdout.readline().strip() or 0))
        process.wait(timeout=30)


# --- one backend, in a child process ------------------------------------------------------


def timed(function: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def generate(tickets: int, due: int) -> dict[str, Any]:
    """Tickets with bulk_create: `due` pending with a deadline soon, `due` more with one days
    away, the rest open, resolved long ago without deadline, or closed."""
    from atiende.accounts.models import Account, Department, User
    from atiende.tickets.lifecycle import Status
    from atiende.tickets.models import Ticket

    moment = datetime.now(UTC)
    departments = list(Department.objects.all())
    accounts = Account.objects.bulk_create([Account(name=f"Cuenta {i}") for i in range(100)])
    customers = [
        User.objects.create_user(
            f"cliente{i}@example.com", None, account=account, full_name=f"Cliente {i}"
        )
        for i, account in enumerate(accounts)
    ]
    others = [Status.OPEN, Status.RESOLVED, Status.CLOSED, Status.CLOSED]
    rows: list[Ticket] = []
    for i in range(tickets):
        account, customer = accounts[i % len(accounts)], customers[i % len(customers)]
        if i % (tickets // due) == 0:
            status, deadline = Status.PENDING, moment + timedelta(hours=1)
        elif i % (tickets // due) == 1:
            status, deadline = Status.PENDING, moment + timedelta(days=3)
        else:
            status, deadline = others[i % len(others)], None
        created = moment - timedelta(days=400) + timedelta(minutes=i)
        rows.append(
            Ticket(
                reference=f"BEN-{i // 10000:04d}-{i % 10000:04d}",
                account=account,
                customer=customer,
                department=departments[i % len(departments)],
                subject=f"Consulta de prueba {i}",
                status=status,
                created_at=created,
                updated_at=created,
                changed_at=created,
                status_changed_at=created,
                last_author_name=customer.full_name,
                auto_close_at=deadline,
            )
        )
        if len(rows) == BATCH:
            Ticket.objects.bulk_create(rows)
            rows = []
    Ticket.objects.bulk_create(rows)
    due_ids = list(
        Ticket.objects.filter(auto_close_at__lte=moment + timedelta(hours=2)).values_list(
            "pk", flat=True
        )
    )
    return {"due_ids": due_ids}


def outbox_fill(mails: int) -> None:
    """`mails` rows as enqueue() writes them, two per ticket (one notice composed, copied)."""
    from atiende.mail.models import OutboxMessage
    from atiende.mail.outbound.compose import compose, message_id_new
    from atiende.tickets.models import Ticket

    OutboxMessage.objects.all().delete()
    tickets = list(Ticket.objects.select_related("customer").order_by("pk")[: mails // 2])
    first = tickets[0]
    composed = compose(
        template="ticket_auto_closed",
        language="es",
        context={"ticket": first, "customer": first.customer, "hours": 72, "was_pending": True},
        reference=first.reference,
    )
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                template="ticket_auto_closed",
                to=ticket.customer.email,
                subject=composed.subject.replace(first.reference, ticket.reference),
                body_text=composed.body_text,
                body_html=composed.body_html,
                message_id=message_id_new(),
                headers={**composed.headers, "X-Atiende-Ticket": ticket.reference},
                ticket=ticket,
            )
            for _round in range(2)
            for ticket in tickets
        ],
        batch_size=BATCH,
    )


def run_backend(args: argparse.Namespace) -> None:
    """Child: the settings come from the environment the parent prepared."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from atiende.mail.models import OutboxMessage
    from atiende.mail.outbound.outbox import outbox_deliver_due
    from atiende.tickets.automation import auto_close_sweep
    from atiende.tickets.models import Ticket

    result: dict[str, Any] = {"vendor": connection.vendor}
    result["migrate_s"], _ = timed(lambda: call_command("migrate", verbosity=0))
    result["generate_s"], generated = timed(lambda: generate(args.tickets, args.due))
    due_ids = generated["due_ids"]
    result["tickets"] = Ticket.objects.count()
    result["due"] = len(due_ids)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    idle = []
    for _run in range(5):
        seconds, sweep = timed(auto_close_sweep)
        assert sweep.closed == 0 and sweep.reminded == 0, sweep
        idle.append(seconds)
    result["sweep_idle_s"] = statistics.median(idle)

    Ticket.objects.filter(pk__in=due_ids).update(
        auto_close_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    result["sweep_due_s"], sweep = timed(auto_close_sweep)
    result["closed"] = sweep.closed
    assert sweep.closed == len(due_ids), sweep

    outbox_fill(args.mails)
    with smtp_server() as (port, accepted):
        from django.conf import settings

        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_TIMEOUT = 30

        def drain() -> int:
            sent = 0
            while batch := outbox_deliver_due(limit=1000):
                sent += batch
            return sent

        result["outbox_s"], result["sent"] = timed(drain)
    result["accepted"] = accepted[0]
    result["left"] = OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).count()
    sys.stdout.write(json.dumps(result) + "\n")


# --- the parent -----------------------------------------------------------------------------


def child_env(database_url: str, **extra: str) -> tuple[Path, dict[str, str]]:
    """A fresh data dir and the environment of a benchmark's child process on it: this
    process's environment without what would change the run (an immediate task queue, Redis,
    debug, demo mode, a mail backend), Django's settings, quiet logs, a throw-away secret key;
    on SQLite the database is a file in the data dir."""
    data_dir = Path(tempfile.mkdtemp(prefix="atiende-bench-"))
    env = {
        **os.environ,
        "ATIENDE_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "atiende.settings",
        "LOG_LEVEL": "ERROR",
        "SECRET_KEY": "atiende-bench-" + uuid.uuid4().hex,
        **extra,
    }
    for name in ("ATIENDE_TASKS_IMMEDIATE", "REDIS_URL", "DEBUG", "ATIENDE_DEMO", "EMAIL_BACKEND"):
        env.pop(name, None)
    if database_url.startswith("sqlite"):
        env["DATABASE_URL"] = f"sqlite:///{data_dir / 'atiende.sqlite3'}"
    return data_dir, env


def child(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    data_dir, env = child_env(database_url)
    try:
        output = subprocess.run(
            [
                sys.executable, __file__, "--run-backend",
                "--tickets", str(args.tickets), "--due", str(args.due), "--mails", str(args.mails),
            ],
            env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if output.returncode != 0:
            raise RuntimeError(f"the benchmark failed:\n{output.stdout}\n{output.stderr}")
        return dict(json.loads(output.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A fresh database on the server of `url` ("auto": a throw-away server of our own)."""
    server = None
    if url == "auto":
        sys.path.insert(0, str(REPO_ROOT))
        from tests.backends import _find_pg_bin, _PostgresServer

        server = _PostgresServer(_find_pg_bin("initdb") or "initdb", _find_pg_bin("pg_ctl") or "")
        url = server.start()
    import psycopg

    name = f"atiende_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
        finally:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        if server is not None:
            server.stop()


def table(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "Atiende benchmark: auto-close sweep and outbox delivery",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.machine()} x {os.cpu_count()} CPUs",
        f"{args.tickets} tickets, {args.due} due for auto-close; outbox: {args.mails} mails into "
        "a local aiosmtpd server (another process), one worker, one SMTP session",
        "",
    ]
    header = (
        f"{'backend':<11}{'tickets':>9}{'due':>6}{'generate':>10}"
        f"{'sweep, none due':>17}{'sweep, all due':>16}{'closed/s':>10}"
        f"{'mails':>7}{'outbox':>9}{'mails/s':>9}"
    )
    lines += [header, "-" * len(header)]
    for item in results:
        lines.append(
            f"{item['vendor']:<11}{item['tickets']:>9}{item['due']:>6}"
            f"{item['generate_s']:>9.1f}s"
            f"{item['sweep_idle_s'] * 1000:>15.1f}ms"
            f"{item['sweep_due_s']:>15.2f}s"
            f"{item['closed'] / item['sweep_due_s']:>10.0f}"
            f"{item['sent']:>7}{item['outbox_s']:>8.2f}s"
            f"{item['sent'] / item['outbox_s']:>9.0f}"
        )
    lines += [
        "",
        "sweep, none due: median of 5 runs with no deadline passed (the cost on every minute)",
        "sweep, all due: one run that closes every due ticket (events, notice in the outbox, a",
        "  delivery asked of the worker's SQLite queue per ticket), one transaction per ticket",
        "checks: "
        + "; ".join(
            f"{item['vendor']}: closed {item['closed']}/{item['due']}, server accepted "
            f"{item['accepted']}/{item['sent']}, left in outbox {item['left']}"
            for item in results
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="also on PostgreSQL ('auto': start one)")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--mails", type=int, default=2_000)
    parser.add_argument("--run-backend", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-smtp", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_smtp:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        serve_smtp(args.serve_smtp)
        return
    if args.run_backend:
        run_backend(args)
        return

    results = []
    sys.stderr.write(f"sqlite: {args.tickets} tickets...\n")
    results.append(child("sqlite", args))
    if args.postgres:
        sys.stderr.write(f"postgres: {args.tickets} tickets...\n")
        with postgres_database(args.postgres) as url:
            results.append(child(url, args))
    report = table(results, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    sys.stdout.write(report)
    sys.stdout.write(f"(written to {RESULTS.relative_to(REPO_ROOT)})\n")


if __name__ == "__main__":
    main()
