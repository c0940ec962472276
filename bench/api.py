"""Benchmark: the REST API under gunicorn: tickets created per second through it, and the
latency of the first and of the 1000th page of the ticket list at 100 000 tickets.

    .venv/bin/python bench/api.py [--postgres URL|auto] [--tickets N] [--creates N]
                                  [--clients N] [--repeats N] [--page N]

For each backend (SQLite always; PostgreSQL with `--postgres`) it makes a temporary data dir
and a fresh migrated database,
writes `--tickets` tickets with bulk_create, one message each, over the departments, the four
statuses and 100 accounts with a holder each (three of every four tickets assigned to an
agent, half naming a service, three tickets to one `changed_at` so the cursor's tie-break on
the id is walked), and a staff administrator with an admin token. That token's
`rate_per_minute` is raised from its default 600 to 1 000 000 so the limiter never throttles
the benchmark; it still counts every request in the database, as in production. Then it starts
the production server, `gunicorn atiende.wsgi:application --workers 2` (sync workers, no
keep-alive), on a free loopback port in that environment, and drives it from this process
over HTTP with httpx:

- list: GET /api/v1/tickets?limit=100 from page 1, following `next_cursor`, to page `--page`
  (1000; the last page if there are fewer), checking that every ticket comes once, in the
  database's order; then `--repeats` requests each of page 1, of the page half way (500) and
  of page `--page`, in turn, one at a time: p50 and p99 of each. Keyset pagination should
  make them close. At 100 000 tickets page 1000 is the last page, where PostgreSQL's planner
  may pick another plan than for the pages before it: hence the page half way.
- the query: in a child process, for each of those pages, the SQL `ticket_page_for_agent`
  runs, with its parameters bound as Django binds them, is timed (fetched, median of 20), the
  selector itself too (models built), and explained (EXPLAIN QUERY PLAN on SQLite, EXPLAIN
  ANALYZE on PostgreSQL): the plans, as far as they read tickets_ticket, are written below the
  tables.
- create: `--creates` POST /api/v1/tickets (a customer's public ID, a department, a subject
  and a body) from `--clients` threads, each with its own httpx.Client, spread over the
  accounts and departments, after a few untimed ones to warm the workers up: tickets per
  second and p50/p99 of one POST. Each new ticket writes four mails to the outbox (the receipt,
  and one to each of the three agents of its department); no worker runs to send them.
  Afterwards a child process counts in the database: exactly as many new API tickets as were
  answered 201, each with the ID its answer gave.

`--postgres URL` names a server (a database `atiende_bench_*` is created there and dropped
afterwards); `--postgres auto` starts a throw-away PostgreSQL the way the test suite does. The
database work runs in child processes, because Django's settings are read once per process.
The table is printed and written to test-artifacts/bench/api.txt. This is a benchmark, not a
test: nothing here is run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

# The other benchmark's throw-away PostgreSQL and helpers (bench/ is this script's sys.path[0]).
from outbox_and_sweep import child_env, free_port, postgres_database, timed

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "test-artifacts" / "bench" / "api.txt"
BATCH = 5000
ACCOUNTS = 100
AGENTS = 3
LIMIT = 100  # the API's largest page
RATE = 1_000_000  # the bench token's requests per minute (the default is 600)
WORKERS = 2
WARMUP = 10  # untimed POSTs before the timed ones
TIE = 3  # tickets that share one updated_at
SELECTOR_RUNS = 20
ADMIN = "bench-admin@example.com"


# --- in the child processes: the database -------------------------------------------------


def generate(tickets: int) -> dict[str, Any]:
    """The accounts, agents, administrator, token and tickets; what the parent needs."""
    from django.db import transaction

    from atiende.accounts.models import Account, Department, Membership, Service, User
    from atiende.api.models import ApiToken
    from atiende.api.tokens import token_create
    from atiende.tickets.lifecycle import Status
    from atiende.tickets.models import ActorKind, Message, Ticket

    moment = datetime.now(UTC)
    departments = list(Department.objects.filter(is_active=True).order_by("pk"))
    statuses = [Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED]
    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            [Account(name=f"Cuenta {i}", external_id=f"BEN-{i:03d}") for i in range(ACCOUNTS)]
        )
        holders = [
            User.objects.create_user(
                f"cliente{i}@example.com", None, account=account, full_name=f"Cliente {i}"
            )
            for i, account in enumerate(accounts)
        ]
        services = Service.objects.bulk_create(
            [
                Service(
                    account=account,
                    kind=Service.Kind.HOSTING,
                    name=f"sitio{i}.example.com",
                    plan="Básico",
                    external_id=f"SRV-{i:03d}",
                )
                for i, account in enumerate(accounts)
            ]
        )
        agents = [
            User.objects.create_user(
                f"agente{i}@example.com", None, is_staff=True, full_name=f"Agente {i}"
            )
            for i in range(AGENTS)
        ]
        Membership.objects.bulk_create(
            [Membership(user=agent, department=each) for agent in agents for each in departments]
        )
        admin = User.objects.create_superuser(ADMIN, None, full_name="Administrador de prueba")
        token, secret = token_create(
            user=admin, name="bench/api.py", scope="admin", created_by=admin
        )
        ApiToken.objects.filter(pk=token.pk).update(rate_per_minute=RATE)

        start = moment - timedelta(days=400)
        rows: list[Ticket] = []

        def flush() -> None:
            Ticket.objects.bulk_create(rows)
            Message.objects.bulk_create(
                [
                    Message(
                        ticket=ticket,
                        author=ticket.customer,
                        author_kind=ActorKind.CUSTOMER,
                        body=f"Hola, {ticket.subject.lower()}: el sitio no carga desde ayer.",
                        created_at=ticket.created_at,
                    )
                    for ticket in rows
                ]
            )
            rows.clear()

        for i in range(tickets):
            n = i % ACCOUNTS
            updated = start + timedelta(minutes=i // TIE)
            rows.append(
                Ticket(
                    reference=f"BEN-{i // 10000:04d}-{i % 10000:04d}",
                    account=accounts[n],
                    customer=holders[n],
                    department=departments[i % len(departments)],
                    service=services[n] if i % 2 else None,
                    subject=f"Consulta de prueba {i}",
                    status=statuses[(i // 7) % len(statuses)],
                    assignee=agents[i % (AGENTS + 1)] if i % (AGENTS + 1) < AGENTS else None,
                    created_at=updated - timedelta(hours=i % 48),
                    updated_at=updated,
                    changed_at=updated,
                    status_changed_at=updated,
                    last_author_name=holders[n].full_name,
                )
            )
            if len(rows) == BATCH:
                flush()
        flush()
    return {
        "secret": secret,
        "customers": [str(account.public_id) for account in accounts],
        "departments": [each.slug for each in departments],
    }


def run_prepare(args: argparse.Namespace) -> None:
    """Child: a migrated database with the tickets; the settings come from the environment."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from atiende.tickets.models import Message, Ticket

    result: dict[str, Any] = {"vendor": connection.vendor}
    result["migrate_s"], _ = timed(lambda: call_command("migrate", verbosity=0))
    call_command("createcachetable", verbosity=0)
    result["generate_s"], generated = timed(lambda: generate(args.tickets))
    result.update(generated)
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load; the SQLite database is left as the app
        # leaves it (no ANALYZE: nothing in Atiende runs one).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    result["tickets"] = Ticket.objects.count()
    result["messages"] = Message.objects.count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            result["version"] = cursor.fetchone()[0]
    else:
        import sqlite3

        result["version"] = sqlite3.sqlite_version
    sys.stdout.write(json.dumps(result) + "\n")


def page_query(cursor: str | None) -> dict[str, Any]:
    """One page's SQL as the API runs it (parameters bound), its time, the selector's time,
    and the plan."""
    from django.db import connection

    from atiende.accounts.models import User
    from atiende.api.selectors import ticket_page_for_agent

    agent = User.objects.get(email=ADMIN)

    def page() -> Any:
        return ticket_page_for_agent(agent=agent, cursor=cursor, limit=LIMIT)

    executed: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        page()
    sql, params = next(
        (sql, params) for sql, params in executed if '"tickets_ticket"' in sql and "ORDER BY" in sql
    )
    selector = [timed(page)[0] for _run in range(SELECTOR_RUNS)]
    with connection.cursor() as db:

        def fetch() -> None:
            db.execute(sql, params)
            db.fetchall()

        query = [timed(fetch)[0] for _run in range(SELECTOR_RUNS)]
        # As the page ran: SQLite binds the parameters; Django's psycopg cursor binds them
        # on the client, so PostgreSQL plans with the values in the text either way.
        if connection.vendor == "postgresql":
            db.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in db.fetchall()]
        else:
            db.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[3] for row in db.fetchall()]
    return {
        "sql_ms": statistics.median(query) * 1000,
        "selector_ms": statistics.median(selector) * 1000,
        "plan": plan,
        "sql": sql,
        "params": [str(value) for value in params or ()],
    }


def run_query(args: argparse.Namespace) -> None:
    """Child: the walk against the database's order, and the page query of the timed pages.
    Reads the parent's JSON on standard input: {"walked": [...], "pages": [[n, cursor]...]}."""
    import django

    django.setup()
    from atiende.tickets.models import Ticket

    given = json.loads(sys.stdin.read())
    walked = given["walked"]
    expected = list(
        Ticket.objects.order_by("-changed_at", "-id").values_list("reference", flat=True)[
            : len(walked)
        ]
    )
    wrong = (n for n, pair in enumerate(zip(walked, expected, strict=True)) if len(set(pair)) > 1)
    result: dict[str, Any] = {
        "walk_matches": walked == expected,
        "walk_first_wrong": next(wrong, None) if len(walked) == len(expected) else len(expected),
        "pages": {str(number): page_query(cursor) for number, cursor in given["pages"]},
    }
    sys.stdout.write(json.dumps(result) + "\n")


def run_count(args: argparse.Namespace) -> None:
    """Child: what the API created. Reads {"references": [...]} on standard input."""
    import django

    django.setup()
    from atiende.mail.models import OutboxMessage
    from atiende.tickets.models import Channel, Ticket

    references = json.loads(sys.stdin.read())["references"]
    result = {
        "tickets": Ticket.objects.count(),
        "mails": OutboxMessage.objects.filter(ticket__channel=Channel.API).count(),
        "api_tickets": Ticket.objects.filter(channel=Channel.API).count(),
        "found": Ticket.objects.filter(reference__in=references, channel=Channel.API).count(),
        "distinct": len(set(references)),
    }
    sys.stdout.write(json.dumps(result) + "\n")


# --- the parent: the server and its clients ------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def child_json(flag: str, env: dict[str, str], args: list[str], given: Any = None) -> Any:
    output = subprocess.run(
        [sys.executable, __file__, flag, *args],
        env=env,
        cwd=REPO_ROOT,
        input=json.dumps(given) if given is not None else "",
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        raise RuntimeError(f"the benchmark failed:\n{output.stdout}\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


@contextmanager
def gunicorn(
    env: dict[str, str],
    data_dir: Path,
    probe: str = "/healthz/",
    headers: dict[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """The production server on a free loopback port: its base URL and its master's pid, once
    `probe` answers 200 (with `headers`); any other answer is an error."""
    port = free_port()
    log = data_dir / "gunicorn.log"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "atiende.wsgi:application",
            "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
            "--error-logfile", str(log),
        ],
        env=env, cwd=data_dir, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text(errors='replace')}")
            try:
                answer = httpx.get(f"{base}{probe}", headers=headers, timeout=10)
                if answer.status_code == 200:
                    break
                raise RuntimeError(f"gunicorn answered {answer.status_code}: {answer.text}")
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer within 60 s") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def list_run(base: str, secret: str, far_page: int, repeats: int) -> dict[str, Any]:
    """Walk to `far_page`, then time page 1, the page half way and that page, in turn, one
    request at a time."""
    with httpx.Client(base_url=base, headers=bearer(secret), timeout=120) as client:

        def get(cursor: str | None) -> tuple[float, dict[str, Any]]:
            params: dict[str, Any] = {"limit": LIMIT}
            if cursor:
                params["cursor"] = cursor
            start = time.perf_counter()
            answer = client.get("/api/v1/tickets", params=params)
            seconds = time.perf_counter() - start
            if answer.status_code != 200:
                raise RuntimeError(f"GET /api/v1/tickets: {answer.status_code} {answer.text}")
            return seconds, answer.json()

        cursors: list[str | None] = [None]  # the cursor that asks for page n + 1 at index n
        walked: list[str] = []
        in_order = True
        last_updated = ""
        walk_times = []
        start = time.perf_counter()
        while len(cursors) <= far_page:
            seconds, page = get(cursors[-1])
            walk_times.append(seconds)
            for item in page["items"]:
                walked.append(item["id"])
                # ISO 8601 in UTC: the text orders as the time does.
                if last_updated and item["updated_at"] > last_updated:
                    in_order = False
                last_updated = item["updated_at"]
            if not page["next_cursor"]:
                break
            cursors.append(page["next_cursor"])
        walk_s = time.perf_counter() - start
        pages = len(walk_times)
        numbers = sorted({1, max(1, pages // 2), pages})
        times: dict[int, list[float]] = {number: [] for number in numbers}
        for _run in range(repeats):
            for number in numbers:
                times[number].append(get(cursors[number - 1])[0])
    return {
        "pages": pages,
        "asked_page": far_page,
        "cursors": [[number, cursors[number - 1]] for number in numbers],
        "walk_s": walk_s,
        "walk_p50": statistics.median(walk_times),
        "items": len(walked),
        "walked": walked,
        "in_order": in_order,
        "timed": {
            str(number): {"p50": statistics.median(values), "p99": percentile(values, 0.99)}
            for number, values in times.items()
        },
    }


def create_run(
    base: str, secret: str, prepared: dict[str, Any], creates: int, clients: int
) -> dict[str, Any]:
    """`creates` POSTs from `clients` threads, after WARMUP untimed ones."""
    customers, departments = prepared["customers"], prepared["departments"]

    def payload(n: int) -> dict[str, str]:
        return {
            "customer": customers[n % len(customers)],
            "department": departments[n % len(departments)],
            "subject": f"Consulta por la API {n}",
            "body": f"Hola, el sitio no carga desde ayer (solicitud {n} del sistema de cobro).",
        }

    def post(client: httpx.Client, n: int) -> tuple[float, int, str]:
        start = time.perf_counter()
        answer = client.post("/api/v1/tickets", json=payload(n))
        seconds = time.perf_counter() - start
        reference = answer.json().get("id", "") if answer.status_code == 201 else ""
        return seconds, answer.status_code, reference

    references: list[str] = []
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=base, headers=bearer(secret), timeout=120) as client:
        for n in range(WARMUP):
            _seconds, status, reference = post(client, creates + n)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if reference:
                references.append(reference)

    lock = threading.Lock()
    next_job = iter(range(creates))
    times: list[float] = []
    barrier = threading.Barrier(clients + 1)

    def work() -> None:
        with httpx.Client(base_url=base, headers=bearer(secret), timeout=120) as client:
            barrier.wait()
            while True:
                with lock:
                    n = next(next_job, None)
                if n is None:
                    return
                seconds, status, reference = post(client, n)
                with lock:
                    times.append(seconds)
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if reference:
                        references.append(reference)

    threads = [threading.Thread(target=work) for _client in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "timed": len(times),
        "p50": statistics.median(times),
        "p99": percentile(times, 0.99),
        "max": max(times),
        "statuses": statuses,
        "references": references,
    }


def backend_run(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    data_dir, env = child_env(database_url)
    try:
        prepared = child_json("--run-prepare", env, ["--tickets", str(args.tickets)])
        vendor = prepared["vendor"]
        result: dict[str, Any] = {
            key: prepared[key]
            for key in ("vendor", "version", "migrate_s", "generate_s", "tickets", "messages")
        }
        result["load_before"] = os.getloadavg()
        probe, secret = "/api/v1/tickets?limit=1", prepared["secret"]
        with gunicorn(env, data_dir, probe, bearer(secret)) as (base, _master):
            sys.stderr.write(f"  {vendor}: walking to page {args.page}, then timing pages...\n")
            result["list"] = list_run(base, prepared["secret"], args.page, args.repeats)
            # Before the POSTs, so page 1 is what the walk saw; the server is idle meanwhile.
            sys.stderr.write(f"  {vendor}: the walk checked, the page query explained...\n")
            result["query"] = child_json(
                "--run-query",
                env,
                [],
                {"walked": result["list"].pop("walked"), "pages": result["list"]["cursors"]},
            )
            sys.stderr.write(f"  {vendor}: {args.creates} POSTs from {args.clients} clients...\n")
            result["create"] = create_run(
                base, prepared["secret"], prepared, args.creates, args.clients
            )
        result["load_after"] = os.getloadavg()
        result["count"] = child_json(
            "--run-count", env, [], {"references": result["create"]["references"]}
        )
        return result
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the report -----------------------------------------------------------------------------


def check_text(item: dict[str, Any], args: argparse.Namespace) -> tuple[bool, str]:
    create, count = item["create"], item["count"]
    answered = len(create["references"])
    expected = args.creates + WARMUP
    ok = (
        answered == expected
        and count["api_tickets"] == expected
        and count["found"] == expected
        and count["distinct"] == expected
        and count["tickets"] == item["tickets"] + expected
    )
    return ok, (
        f"{answered}/{expected} answered 201 ({args.creates} timed + {WARMUP} warm-up); "
        f"in the database {count['api_tickets']} API tickets, {count['found']} of the "
        f"IDs answered, {count['tickets']} tickets in all ({item['tickets']} + {expected}); "
        f"{count['mails']} mails of theirs in the outbox"
    )


def walk_text(item: dict[str, Any]) -> tuple[bool, str]:
    walk, query = item["list"], item["query"]
    complete = min(item["tickets"], walk["pages"] * LIMIT)
    ok = walk["items"] == complete and walk["in_order"] and query["walk_matches"]
    text = (
        f"{walk['pages']} pages, {walk['items']} tickets, "
        f"{'newest first' if walk['in_order'] else 'OUT OF ORDER'}, "
        + (
            "each once, in the database's order (changed_at, id)"
            if query["walk_matches"]
            else f"NOT the database's order from ticket {query['walk_first_wrong']}"
        )
    )
    if walk["pages"] < walk["asked_page"]:
        text += f"; ONLY {walk['pages']} PAGES: the far page is the last one, not page " + str(
            walk["asked_page"]
        )
    return ok, text


def plan_excerpt(vendor: str, plan: list[str]) -> list[str]:
    """The part of a plan that reads tickets_ticket. PostgreSQL's plan is mostly the
    primary-key lookups of the joined tables, alike on every page: its ticket scan node with
    the lines under it, and the execution time. SQLite's plan names each table in a line: the
    first, tickets_ticket (the others are lookups by primary key)."""
    if vendor != "postgresql":
        return [line for line in plan if "tickets_ticket" in line]
    lines: list[str] = []
    depth = -1
    for line in plan:
        indent = len(line) - len(line.lstrip())
        if depth < 0 and "on tickets_ticket" in line:
            depth = indent
            lines.append(line.strip().removeprefix("->").strip())
        elif depth >= 0 and indent > depth:
            lines.append(line[depth:].rstrip())
        elif depth >= 0:
            depth = -2  # past the node: only the execution time is left to keep
        if line.strip().startswith("Execution Time"):
            lines.append(line.strip())
    return lines


def plan_short(vendor: str, plan: list[str]) -> str:
    """A line on how a page finds its rows in tickets_ticket."""
    found = plan_excerpt(vendor, plan)
    if vendor != "postgresql":
        return "; ".join(found)
    keep = ("Index Scan", "Bitmap Heap Scan", "Seq Scan", "Index Cond", "Rows Removed by Filter")
    lines = [line.strip().removeprefix("->").strip().split("  (")[0] for line in found]
    text = "; ".join(line for line in lines if line.startswith(keep))
    return re.sub(r"'[^']*'::timestamp with time zone", "T", text)


def rows_removed(plan: list[str]) -> int:
    return sum(
        int(line.split(":")[1])
        for line in plan
        if line.strip().startswith("Rows Removed by Filter")
    )


def findings(item: dict[str, Any]) -> list[str]:
    """What the plans of the deep pages say, when they read more than their page."""
    notes = []
    for number, page in item["query"]["pages"].items():
        if number == "1":
            continue
        if item["vendor"] == "sqlite" and any(line.startswith("SCAN") for line in page["plan"]):
            notes.append(
                f"sqlite, page {number}: SCAN, not SEARCH: with the parameters bound, SQLite "
                "finds no range on ticket_changed in the cursor's OR and reads the index from "
                "the newest ticket until it passes the cursor (its cost grows with the page)"
            )
        removed = rows_removed(page["plan"])
        if removed > 10 * LIMIT:
            notes.append(
                f"postgresql, page {number}: {removed} rows read and dropped by the Filter: the "
                "cursor's OR is no index condition on ticket_changed, so the scan starts at the "
                "newest ticket (its cost grows with the page)"
            )
    return notes


def where(sql: str) -> str:
    """The query from its WHERE (or ORDER BY) on: the selected columns say nothing here."""
    for word in (" WHERE ", " ORDER BY "):
        if word in sql:
            return "..." + sql[sql.index(word) :]
    return sql


def table(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "Atiende benchmark: the REST API under gunicorn, over HTTP from another process",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.machine()} x {os.cpu_count()} CPUs; "
        + "; ".join(f"{item['vendor']} {item['version']}" for item in results),
        f"server: gunicorn atiende.wsgi:application --workers {WORKERS} (sync: one connection "
        "per request), DATABASE_CONN_MAX_AGE="
        + os.environ.get("DATABASE_CONN_MAX_AGE", "0")
        + ", the database cache (no REDIS_URL)",
        f"{args.tickets} tickets with bulk_create (one message each), over the departments, 4 "
        f"statuses, {ACCOUNTS} accounts, {AGENTS} agents in every department",
        f"an admin token with its rate raised from 600 to {RATE} requests/minute, so the "
        "limiter never throttles the",
        "  benchmark (it still counts each request: one upsert in api_apiratewindow)",
    ]
    for item in results:
        lines.append(
            f"load average (1 min) before/after, {item['vendor']}: "
            f"{item['load_before'][0]:.2f}/{item['load_after'][0]:.2f}"
        )
    lines += [
        "",
        f"Create: {args.creates} POST /api/v1/tickets from {args.clients} client threads, "
        f"after {WARMUP} untimed ones",
    ]
    header = (
        f"{'backend':<11}{'tickets':>9}{'generate':>10}{'POSTs':>7}{'wall':>8}"
        f"{'tickets/s':>11}{'p50':>9}{'p99':>9}{'max':>9}{'answers':>14}"
    )
    lines += [header, "-" * len(header)]
    for item in results:
        create = item["create"]
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(create["statuses"].items()))
        lines.append(
            f"{item['vendor']:<11}{item['tickets']:>9}{item['generate_s']:>9.1f}s"
            f"{create['timed']:>7}{create['wall_s']:>7.2f}s"
            f"{create['timed'] / create['wall_s']:>11.1f}"
            f"{create['p50'] * 1000:>7.1f}ms{create['p99'] * 1000:>7.1f}ms"
            f"{create['max'] * 1000:>7.0f}ms{answers:>14}"
        )
    lines += [
        "",
        f"List: GET /api/v1/tickets?limit={LIMIT}: the walk from page 1 to page {args.page} "
        f"following next_cursor; then {args.repeats}",
        "  requests of each page timed, in turn, one at a time",
    ]
    numbers = [number for number, _cursor in results[0]["list"]["cursors"]]
    header = f"{'backend':<11}{'pages':>6}{'walk':>8}{'ms/page':>9}" + "".join(
        f"{f'page {number} p50':>15}{'p99':>8}" for number in numbers
    )
    header += f"{f'{numbers[-1]}/1':>8}"
    lines += [header, "-" * len(header)]
    for item in results:
        walk = item["list"]
        timed_pages = walk["timed"]
        row = (
            f"{item['vendor']:<11}{walk['pages']:>6}{walk['walk_s']:>7.1f}s"
            f"{walk['walk_p50'] * 1000:>9.1f}"
        )
        for number, _cursor in walk["cursors"]:
            page = timed_pages[str(number)]
            row += f"{page['p50'] * 1000:>13.1f}ms{page['p99'] * 1000:>6.1f}ms"
        last = timed_pages[str(walk["cursors"][-1][0])]["p50"]
        row += f"{last / timed_pages['1']['p50']:>8.2f}"
        lines.append(row)
    lines += [
        "",
        "The page query in-process (a child process, no HTTP): its SQL with the parameters "
        "bound, fetched, and",
        f"  ticket_page_for_agent() (models built), median of {SELECTOR_RUNS} each; how the "
        "plan reads tickets_ticket",
    ]
    header = f"{'backend':<11}{'page':>6}{'SQL':>9}{'selector':>10}  plan"
    lines += [header, "-" * 100]
    for item in results:
        for number, page in item["query"]["pages"].items():
            lines.append(
                f"{item['vendor']:<11}{number:>6}{page['sql_ms']:>7.1f}ms"
                f"{page['selector_ms']:>8.1f}ms  {plan_short(item['vendor'], page['plan'])}"
            )
    lines += [
        "",
        "tickets/s: timed POSTs / wall time from the first to the last answer; p50/p99/max: "
        "one POST, queueing",
        f"  for one of the {WORKERS} workers included; p99: the nearest rank",
        f"ms/page: the walk's median request; {numbers[-1]}/1: page {numbers[-1]} p50 / page 1 p50",
        "PostgreSQL --postgres auto runs with fsync=off and synchronous_commit=off; SQLite in "
        "WAL with synchronous=NORMAL",
    ]
    failed = False
    for item in results:
        created_ok, created = check_text(item, args)
        walked_ok, walked = walk_text(item)
        failed |= not (created_ok and walked_ok)
        lines += [
            f"checks, {item['vendor']}: create: {'OK' if created_ok else 'FAILED'}: {created}",
            f"  walk: {'OK' if walked_ok else 'FAILED'}: {walked}",
        ]
    if failed:
        lines.append("SOME CHECKS FAILED: the figures above are not to be trusted")
    notes = [note for item in results for note in findings(item)]
    if notes:
        lines += ["", "Found in the plans:"] + [f"- {note}" for note in notes]
    lines += [
        "",
        "The page query as ticket_page_for_agent() runs it: tickets_ticket joined to account, "
        "customer, department,",
        "  service and assignee, each by primary key; the plans as far as they read "
        "tickets_ticket:",
    ]
    for item in results:
        for number, page in item["query"]["pages"].items():
            lines += [
                f"{item['vendor']}, page {number}: " + where(page["sql"]),
                "  parameters: " + (", ".join(page["params"]) or "none"),
            ]
            lines += [f"    {line}" for line in plan_excerpt(item["vendor"], page["plan"])]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="also on PostgreSQL ('auto': start one)")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=400, help="timed POST /api/v1/tickets")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients for the POSTs")
    parser.add_argument("--repeats", type=int, default=200, help="requests of each page timed")
    parser.add_argument("--page", type=int, default=1000, help="the far page of the list")
    parser.add_argument("--run-prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-query", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-count", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_prepare:
        run_prepare(args)
        return
    if args.run_query:
        run_query(args)
        return
    if args.run_count:
        run_count(args)
        return

    started = time.perf_counter()
    results = []
    sys.stderr.write(f"sqlite: {args.tickets} tickets...\n")
    results.append(backend_run("sqlite", args))
    if args.postgres:
        sys.stderr.write(f"postgres: {args.tickets} tickets...\n")
        with postgres_database(args.postgres) as url:
            results.append(backend_run(url, args))
    report = table(results, args)
    report += f"\n(run time {time.perf_counter() - started:.0f} s)\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    sys.stdout.write(report)
    sys.stdout.write(f"(written to {RESULTS.relative_to(REPO_ROOT)})\n")
    if "SOME CHECKS FAILED" in report:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
