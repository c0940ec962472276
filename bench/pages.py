"""Benchmark: the pages people use, under the production server, at 10 000, 100 000 and
1 000 000 tickets, on SQLite and on PostgreSQL.

    .venv/bin/python bench/pages.py [--postgres URL|auto] [--sizes 10000,100000,1000000]
                                    [--requests N] [--clients N]

For each backend and each size, a fresh temporary database is migrated and filled by
`dataset.dataset_generate` (realistic Spanish and English tickets, about 4 messages each, with
their events and search index; a progress bar on the terminal). A session is opened for one
customer (the holder of the same account at every size) and one agent (technical support, the
busiest department), straight in the session store. Then the production server starts,
`gunicorn atiende.wsgi:application --workers 2` with DATABASE_CONN_MAX_AGE=60 (as the README's
deployment says), on a free loopback port, and this process drives it over HTTP with httpx
from `--clients` threads, `--requests` requests for each of:

- floor: GET /healthz/, the cheapest page Django serves through the whole middleware stack;
- the customer's new-ticket form (/soporte/abrir/, its first step): the price of any logged-in
  page (the session, the user, the layout) with next to nothing on it;
- the customer's ticket list (/tickets/), one of his tickets (/tickets/<id>/, in turn over
  his tickets), his search by a word (/buscar/?q=, in turn over a few words);
- the agent's queue (/consola/), a ticket of his departments (in turn over recent and old
  ones), his search by a word (/consola/buscar/?q=);
- opening a ticket (POST /soporte/abrir/, the customer) and an agent reply (POST
  /consola/tickets/<id>/responder/, in turn over his department's active tickets): each
  answered by a redirect once written, as in the browser.

Every answer's status is checked (200, or 302 after a write): a page that fails does not count
as fast. For each: requests per second, p50 and p99, and p50 / the floor's p50. Then the peak
resident memory (VmHWM) of each gunicorn worker, the size of the database, and in a child
process the queries each page runs (Django's test client on the same database and sessions):
their count, and the slowest one's time and plan.

The table is printed and written to test-artifacts/bench/pages.txt, the latency against the
ticket count plotted to test-artifacts/bench/pages.png. This is a benchmark, not a test:
nothing here is run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from outbox_and_sweep import child_env, postgres_database, timed

# The other benchmarks' helpers (bench/ is this script's sys.path[0]).
from api import WORKERS, gunicorn, percentile

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "test-artifacts" / "bench" / "pages.txt"
PLOT = REPO_ROOT / "test-artifacts" / "bench" / "pages.png"
WARMUP = 10  # untimed requests of each page first, from one client
TARGET = 3.0  # every page within this many times the floor
WORDS = ["dominio", "certificado", "correo", "factura", "password"]
CSRF = secrets.token_hex(16)  # 32 characters: a valid CSRF secret, sent as cookie and field
TICKETS_SHOWN = 200  # tickets each ticket page goes round

# (key, label, who, method)
PAGES = [
    ("floor", "hello world (/healthz/)", "", "GET"),
    ("customer_form", "customer: new-ticket form", "customer", "GET"),
    ("customer_list", "customer: ticket list", "customer", "GET"),
    ("customer_ticket", "customer: a ticket", "customer", "GET"),
    ("customer_search", "customer: search a word", "customer", "GET"),
    ("agent_queue", "agent: queue", "agent", "GET"),
    ("agent_ticket", "agent: a ticket", "agent", "GET"),
    ("agent_search", "agent: search a word", "agent", "GET"),
    ("open_ticket", "customer: open a ticket", "customer", "POST"),
    ("agent_reply", "agent: reply", "agent", "POST"),
]
LABELS = {key: label for key, label, _who, _method in PAGES}


# --- in the child processes: the database -------------------------------------------------


def session_for(user: Any) -> str:
    """A logged-in session of `user` in the session store, as a login would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


def database_size() -> int:
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    name = Path(settings.DATABASES["default"]["NAME"])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(path.stat().st_size for path in name.parent.glob(name.name + "*"))


def run_prepare(args: argparse.Namespace) -> None:
    """Child: a migrated database with the data, two sessions, and what the driver needs."""
    import django

    django.setup()
    from dataset import bench_people, dataset_generate
    from django.core.management import call_command
    from django.db import connection

    from atiende.accounts.models import Department
    from atiende.tickets.lifecycle import Status
    from atiende.tickets.models import Ticket

    result: dict[str, Any] = {"vendor": connection.vendor}
    result["migrate_s"], _ = timed(lambda: call_command("migrate", verbosity=0))
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the deployment's step
    result["generate_s"], generated = timed(lambda: dataset_generate(args.tickets))
    result["generated"] = generated.__dict__
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load.
        result["analyze_s"], _ = timed(lambda: connection.cursor().execute("VACUUM ANALYZE"))
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            result["version"] = cursor.fetchone()[0]
    else:
        import sqlite3

        result["version"] = sqlite3.sqlite_version
    customer, agent = bench_people()
    departments = list(agent.memberships.values_list("department_id", flat=True))
    result["customer_tickets"] = list(
        Ticket.objects.filter(account=customer.account)
        .order_by("-changed_at")
        .values_list("reference", flat=True)[:TICKETS_SHOWN]
    )
    # Half the newest (what agents mostly open), half from all the years.
    newest = list(
        Ticket.objects.filter(department__in=departments)
        .order_by("-changed_at")
        .values_list("reference", flat=True)[: TICKETS_SHOWN // 2]
    )
    every = Ticket.objects.filter(department__in=departments).count()
    step = max(1, every // (TICKETS_SHOWN // 2))
    old = list(
        Ticket.objects.filter(department__in=departments)
        .order_by("id")
        .values_list("reference", flat=True)[::step][: TICKETS_SHOWN // 2]
    )
    result["agent_tickets"] = newest + [reference for reference in old if reference not in newest]
    result["reply_tickets"] = list(
        Ticket.objects.filter(department__in=departments, status__in=[Status.OPEN, Status.PENDING])
        .order_by("-changed_at")
        .values_list("reference", flat=True)[:TICKETS_SHOWN]
    )
    result["departments"] = list(
        Department.objects.filter(is_active=True).values_list("slug", flat=True)
    )
    result["sessions"] = {"customer": session_for(customer), "agent": session_for(agent)}
    result["tickets"] = Ticket.objects.count()
    result["db_bytes"] = database_size()
    sys.stdout.write(json.dumps(result) + "\n")


def run_queries(args: argparse.Namespace) -> None:
    """Child: each page once through Django's test client on the sessions given, its queries
    captured: their count, total time, and the slowest one with its plan.
    Reads {"sessions": ..., "urls": {key: url}} on standard input."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    given = json.loads(sys.stdin.read())
    result: dict[str, Any] = {}
    for key, url in given["urls"].items():
        client = Client(HTTP_HOST="127.0.0.1")
        who = next(who for page, _label, who, _method in PAGES if page == key)
        if who:
            client.cookies["sessionid"] = given["sessions"][who]
        client.get(url)  # warm: the first request of a process loads templates, translations
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        queries = [(float(query["time"]), query["sql"]) for query in captured.captured_queries]
        slowest_s, slowest = max(queries, default=(0.0, ""))
        plan: list[str] = []
        if slowest.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest)
                    plan = [row[0] for row in cursor.fetchall()]
                else:
                    cursor.execute("EXPLAIN QUERY PLAN " + slowest)
                    plan = [row[3] for row in cursor.fetchall()]
        result[key] = {
            "status": response.status_code,
            "kilobytes": len(response.content) / 1024,
            "count": len(queries),
            "total_ms": sum(seconds for seconds, _sql in queries) * 1000,
            "slowest_ms": slowest_s * 1000,
            "slowest": slowest,
            "plan": plan,
        }
    sys.stdout.write(json.dumps(result) + "\n")


# --- the parent: the server and its clients ------------------------------------------------


def child_json(
    flag: str, env: dict[str, str], args: list[str], given: Any = None, *, show: bool = False
) -> Any:
    """Run this script as a child with `flag`; its last line of output, as JSON. `show`: its
    standard error (the progress bar) goes to the terminal."""
    output = subprocess.run(
        [sys.executable, __file__, flag, *args],
        env=env,
        cwd=REPO_ROOT,
        input=json.dumps(given) if given is not None else "",
        stdout=subprocess.PIPE,
        stderr=None if show else subprocess.PIPE,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        raise RuntimeError(f"the benchmark failed:\n{output.stdout}\n{output.stderr or ''}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def worker_peaks(master: int) -> list[int]:
    """The peak resident set (VmHWM, bytes) of each worker of the gunicorn `master`."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) * 1024)
    return peaks


Request = Callable[[httpx.Client, int], httpx.Response]


def requests_for(prepared: dict[str, Any]) -> dict[str, Request]:
    """For each page: how to make its n-th request."""
    customer_tickets = prepared["customer_tickets"]
    agent_tickets = prepared["agent_tickets"]
    reply_tickets = prepared["reply_tickets"] or agent_tickets
    departments = prepared["departments"]

    def post(client: httpx.Client, url: str, data: dict[str, str]) -> httpx.Response:
        fields = {"csrfmiddlewaretoken": CSRF, "submission_key": str(uuid.uuid4()), **data}
        return client.post(url, data=fields)

    return {
        "floor": lambda client, n: client.get("/healthz/"),
        "customer_form": lambda client, n: client.get("/soporte/abrir/"),
        "customer_list": lambda client, n: client.get("/tickets/"),
        "customer_ticket": lambda client, n: client.get(
            f"/tickets/{customer_tickets[n % len(customer_tickets)]}/"
        ),
        "customer_search": lambda client, n: client.get(
            "/buscar/", params={"q": WORDS[n % len(WORDS)]}
        ),
        "agent_queue": lambda client, n: client.get("/consola/"),
        "agent_ticket": lambda client, n: client.get(
            f"/consola/tickets/{agent_tickets[n % len(agent_tickets)]}/"
        ),
        "agent_search": lambda client, n: client.get(
            "/consola/buscar/", params={"q": WORDS[n % len(WORDS)]}
        ),
        "open_ticket": lambda client, n: post(
            client,
            "/soporte/abrir/",
            {
                "department": departments[n % len(departments)],
                "subject": f"No carga el sitio desde la mañana ({n})",
                "body": "Hola, desde hoy en la mañana el sitio muestra un error 500 y el "
                "correo no recibe mensajes. ¿Pueden revisarlo?",
                "service": "",
            },
        ),
        "agent_reply": lambda client, n: post(
            client,
            f"/consola/tickets/{reply_tickets[n % len(reply_tickets)]}/responder/",
            {"body": f"Hola, ya revisamos el servidor y el sitio vuelve a cargar ({n})."},
        ),
    }


def drive(
    base: str, cookies: dict[str, str], request: Request, expected: int, count: int, clients: int
) -> dict[str, Any]:
    """WARMUP untimed requests, then `count` from `clients` threads: rate and latencies."""

    def client() -> httpx.Client:
        return httpx.Client(base_url=base, cookies=cookies, timeout=120, follow_redirects=False)

    statuses: dict[str, int] = {}
    with client() as warm:
        for n in range(WARMUP):
            code = request(warm, count + n).status_code
            statuses[str(code)] = statuses.get(str(code), 0) + 1
    lock = threading.Lock()
    jobs = iter(range(count))
    times: list[float] = []
    barrier = threading.Barrier(clients + 1)

    def work() -> None:
        with client() as session:
            barrier.wait()
            while True:
                with lock:
                    n = next(jobs, None)
                if n is None:
                    return
                start = time.perf_counter()
                code = request(session, n).status_code
                seconds = time.perf_counter() - start
                with lock:
                    times.append(seconds)
                    statuses[str(code)] = statuses.get(str(code), 0) + 1

    threads = [threading.Thread(target=work) for _client in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    wrong = sum(n for code, n in statuses.items() if code != str(expected))
    return {
        "rps": len(times) / wall,
        "p50": statistics.median(times),
        "p99": percentile(times, 0.99),
        "statuses": statuses,
        "wrong": wrong,
    }


def size_run(database_url: str, tickets: int, args: argparse.Namespace) -> dict[str, Any]:
    data_dir, env = child_env(database_url, DATABASE_CONN_MAX_AGE="60")
    try:
        vendor = "postgresql" if database_url.startswith("postgres") else "sqlite"
        sys.stderr.write(f"{vendor}, {tickets} tickets: generating...\n")
        prepared = child_json("--run-prepare", env, ["--tickets", str(tickets)], show=True)
        result: dict[str, Any] = {
            key: prepared[key]
            for key in (
                "vendor", "version", "migrate_s", "generate_s", "generated", "tickets",
                "db_bytes",
            )
        }  # fmt: skip
        urls = {
            "customer_form": "/soporte/abrir/",
            "customer_list": "/tickets/",
            "customer_ticket": f"/tickets/{prepared['customer_tickets'][0]}/",
            "customer_search": f"/buscar/?q={WORDS[0]}",
            "agent_queue": "/consola/",
            "agent_ticket": f"/consola/tickets/{prepared['agent_tickets'][0]}/",
            "agent_search": f"/consola/buscar/?q={WORDS[0]}",
        }
        # Before the server runs: the pages as they were timed (the POSTs add open tickets).
        result["queries"] = child_json(
            "--run-queries", env, [], {"sessions": prepared["sessions"], "urls": urls}
        )
        result["load_before"] = os.getloadavg()[0]
        requests = requests_for(prepared)
        sessions = prepared["sessions"]
        result["pages"] = {}
        with gunicorn(env, data_dir) as (base, master):
            for key, _label, who, method in PAGES:
                cookies = {"csrftoken": CSRF}
                if who:
                    cookies["sessionid"] = sessions[who]
                sys.stderr.write(f"  {vendor}, {tickets}: {LABELS[key]}...\n")
                result["pages"][key] = drive(
                    base,
                    cookies,
                    requests[key],
                    302 if method == "POST" else 200,
                    args.requests,
                    args.clients,
                )
            result["memory"] = worker_peaks(master)
        result["load_after"] = os.getloadavg()[0]
        return result
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def postgres_server(url: str, shared_buffers: str) -> Iterator[str]:
    """`url`, or with "auto" a throw-away server of our own, the test suite's way, for all
    the sizes (each gets a database of its own on it), with `shared_buffers` as a server
    for this data would have (the default, 128 MB, is for a laptop)."""
    if url != "auto":
        yield url
        return
    sys.path.insert(0, str(REPO_ROOT))
    from tests.backends import _find_pg_bin, _PostgresServer

    server = _PostgresServer(
        _find_pg_bin("initdb") or "initdb",
        _find_pg_bin("pg_ctl") or "",
        settings=f"-c shared_buffers={shared_buffers}",
    )
    try:
        yield server.start()
    finally:
        server.stop()


# --- the report -----------------------------------------------------------------------------


def megabytes(value: float) -> str:
    return f"{value / 1024 / 1024:.0f} MB"


def table(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    vendors = list(dict.fromkeys(item["vendor"] for item in results))
    lines = [
        "Atiende benchmark: the pages under gunicorn, over HTTP from another process",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.machine()} x {os.cpu_count()} CPUs; "
        + "; ".join(
            dict.fromkeys(f"{item['vendor']} {item['version']}" for item in results).keys()
        ),
        f"server: gunicorn atiende.wsgi:application --workers {WORKERS} (sync), "
        "DATABASE_CONN_MAX_AGE=60, the database cache (no REDIS_URL)",
        (
            f"PostgreSQL (--postgres auto): shared_buffers={args.shared_buffers}, fsync=off, "
            "synchronous_commit=off; SQLite in WAL, synchronous=NORMAL"
            if args.postgres == "auto"
            else "SQLite in WAL, synchronous=NORMAL"
        ),
        f"each page: {WARMUP} untimed requests, then {args.requests} from {args.clients} client "
        "threads (httpx, one process); p50/p99 of one request, the nearest rank",
        f"x floor: the page's p50 / the floor's p50 at that size (target: within {TARGET:g}x "
        "at the largest size)",
        "",
    ]
    failed = False
    for vendor in vendors:
        runs = [item for item in results if item["vendor"] == vendor]
        lines.append(f"{vendor}")
        header = f"{'':<28}" + "".join(f"{item['tickets']:>34,}" for item in runs)
        sub = f"{'page':<28}" + "".join(
            f"{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'x floor':>8}" for _item in runs
        )
        lines += [header, sub, "-" * len(sub)]
        for key, label, _who, _method in PAGES:
            row = f"{label:<28}"
            for item in runs:
                page, floor = item["pages"][key], item["pages"]["floor"]
                ratio = page["p50"] / floor["p50"]
                mark = "!" if page["wrong"] else ("*" if ratio > TARGET else " ")
                failed |= bool(page["wrong"])
                row += (
                    f"{page['rps']:>8.0f}{page['p50'] * 1000:>9.1f}{page['p99'] * 1000:>9.1f}"
                    f"{ratio:>7.1f}{mark}"
                )
            lines.append(row)
        lines.append("-" * len(sub))
        extras = [
            ("generate (s)", lambda item: f"{item['generate_s']:.0f}"),
            ("messages", lambda item: f"{item['generated']['messages']:,}"),
            ("events", lambda item: f"{item['generated']['events']:,}"),
            ("accounts", lambda item: f"{item['generated']['accounts']:,}"),
            ("database size", lambda item: megabytes(item["db_bytes"])),
            ("worker peak memory", lambda item: megabytes(max(item["memory"]))),
            ("load avg before/after", lambda item: f"{item['load_before']:.1f}/"
             f"{item['load_after']:.1f}"),
        ]  # fmt: skip
        for label, value in extras:
            lines.append(f"{label:<28}" + "".join(f"{value(item):>34}" for item in runs))
        lines.append("")
    lines.append("* over the target; ! answers other than expected (see below)")
    for item in results:
        for key, page in item["pages"].items():
            if page["wrong"]:
                lines.append(
                    f"  {item['vendor']}, {item['tickets']}: {LABELS[key]}: {page['statuses']}"
                )
    lines += [
        "",
        "Queries per page (one request, Django's test client on the same database), and the "
        "page's size (KB: a",
        "  larger company has more open tickets, and the queue lists more rows to render):",
    ]
    for vendor in vendors:
        runs = [item for item in results if item["vendor"] == vendor]
        header = f"{vendor:<28}" + "".join(f"{item['tickets']:>31,}" for item in runs)
        lines += [
            header,
            f"{'':<28}" + f"{'queries':>8}{'total ms':>9}{'slowest':>8}{'KB':>6}" * len(runs),
        ]
        for key in runs[0]["queries"]:
            row = f"{LABELS[key]:<28}"
            for item in runs:
                query = item["queries"][key]
                row += (
                    f"{query['count']:>8}{query['total_ms']:>9.1f}{query['slowest_ms']:>8.1f}"
                    f"{query['kilobytes']:>6.0f}"
                )
            lines.append(row)
        lines.append("")
    largest = max(results, key=lambda item: item["tickets"])
    for item in results:
        if item["tickets"] != largest["tickets"]:
            continue
        lines.append(f"The slowest query of each page, {item['vendor']}, {item['tickets']:,}:")
        for key, query in item["queries"].items():
            lines.append(f"- {LABELS[key]} ({query['slowest_ms']:.1f} ms): {query['slowest']}")
            lines += [f"    {line}" for line in query["plan"]]
        lines.append("")
    if failed:
        lines.append("SOME PAGES ANSWERED WRONGLY: their figures are not to be trusted")
    return "\n".join(lines) + "\n"


def plot(results: list[dict[str, Any]]) -> None:
    """Latency (p50, and p99 dashed) against the ticket count, one panel per backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vendors = list(dict.fromkeys(item["vendor"] for item in results))
    figure, axes = plt.subplots(
        1, len(vendors), figsize=(7 * len(vendors), 5.5), squeeze=False, sharey=True
    )
    for axis, vendor in zip(axes[0], vendors, strict=True):
        runs = sorted(
            (item for item in results if item["vendor"] == vendor), key=lambda i: i["tickets"]
        )
        sizes = [item["tickets"] for item in runs]
        for key, label, _who, _method in PAGES:
            p50 = [item["pages"][key]["p50"] * 1000 for item in runs]
            p99 = [item["pages"][key]["p99"] * 1000 for item in runs]
            (line,) = axis.plot(
                sizes, p50, marker="o", label=label, linewidth=3 if key == "floor" else 1.5
            )
            axis.plot(sizes, p99, linestyle=":", color=line.get_color(), linewidth=1)
        floor = [item["pages"]["floor"]["p50"] * 1000 * TARGET for item in runs]
        axis.plot(sizes, floor, color="black", linestyle="--", label=f"{TARGET:g} x floor")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("tickets")
        axis.set_title(f"{vendor}: p50 (solid), p99 (dotted)")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("latency (ms)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, fontsize=8, loc="lower center", ncol=4)
    figure.suptitle(f"Atiende under gunicorn --workers {WORKERS}")
    figure.tight_layout(rect=(0, 0.14, 1, 1))
    figure.savefig(PLOT, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="also on PostgreSQL ('auto': start one)")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="ticket counts")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client threads")
    parser.add_argument(
        "--shared-buffers", default="2GB", help="the throw-away PostgreSQL's (--postgres auto)"
    )
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="which of sqlite,postgresql to run"
    )
    parser.add_argument("--tickets", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run-prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-queries", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_prepare:
        run_prepare(args)
        return
    if args.run_queries:
        run_queries(args)
        return

    started = time.perf_counter()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    backends = args.backends.split(",")
    results = [size_run("sqlite", size, args) for size in sizes] if "sqlite" in backends else []
    if args.postgres and "postgresql" in backends:
        with postgres_server(args.postgres, args.shared_buffers) as server:
            for size in sizes:
                with postgres_database(server) as url:
                    results.append(size_run(url, size, args))
    report = table(results, args)
    report += f"\n(run time {time.perf_counter() - started:.0f} s)\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    plot(results)
    sys.stdout.write(report)
    sys.stdout.write(
        f"(written to {RESULTS.relative_to(REPO_ROOT)} and {PLOT.relative_to(REPO_ROOT)})\n"
    )
    if "ANSWERED WRONGLY" in report:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
