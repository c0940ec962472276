"""`make scale-test`: two app servers and two workers on loopback sharing one PostgreSQL, one
Redis and one S3 server, driven by concurrent customers and agents for a bounded time.

    PYTHONPATH=src:. .venv/bin/python scale/run.py [--seconds 45] [--keep-logs]

It starts, each in a temporary folder: PostgreSQL (the suite's `_PostgresServer`), Redis
(`tests/services/redis.py`), moto's S3 (`tests/services/s3.py`) and an aiosmtpd sink in this
process that records every message (`tests/services/smtp.py`). It migrates once, loads a small
cast in a child process (two customer accounts, two agents — one a supervisor — with API
tokens), and starts four "machines", each with an `ATIENDE_DATA_DIR` of its own and nothing else
of its own: two `gunicorn atiende.wsgi:application` (app A and app B) and two `atiende worker`.

Then, for `--seconds`, threads spread over both app servers:

- customers (logged in once, on one server; the session lives in the database, so the other
  server knows them) open tickets in the portal with a small attachment, and reply; some
  submissions are sent again, with the same form key, to the OTHER server;
- agents (API tokens) reply to and resolve tickets; some replies are sent with the same
  Idempotency-Key to BOTH servers at the same instant;
- presence: agent 1 heartbeats a ticket on app A, agent 2 on app B must see him;
- half way, the tickets opened so far are frozen (no client touches them again), those that
  wait on the customer are made due for auto-close (their `auto_close_at` moved into the past
  in SQL), and `atiende sweep` runs on both worker machines at once, twice, beside the
  workers' own periodic sweep.

Then it waits for the outbox to drain and checks the database, the S3 bucket and the SMTP sink
against what the clients were told: tickets and messages neither lost nor duplicated, retries
that created nothing, every mail row sent and received exactly once (and nothing else), every
due ticket closed exactly once, attachments in the bucket and downloadable through the other
server, presence seen across servers. It prints a verdict table and exits 1 on any failure.
Every process it started is stopped at the end, on failure and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

SECRET = "atiende-scale-test-shared-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "Una-clave-de-prueba-2025"
REQUEST_TIMEOUT = 60.0
DRAIN_TIMEOUT = 150.0
START_TIMEOUT = 60.0


# --- the cast, in a child process with Django set up ---------------------------------------


def cast_create() -> dict[str, Any]:
    import django

    django.setup()
    from django.db import transaction

    from atiende.accounts.models import Account, Department, Membership, User
    from atiende.api.models import ApiToken
    from atiende.api.tokens import token_create
    from atiende.core.clock import now

    departments = list(Department.objects.filter(is_active=True).order_by("pk"))
    with transaction.atomic():
        customers = []
        for n in (1, 2):
            account = Account.objects.create(name=f"Cliente Escala {n}", external_id=f"ESC-{n}")
            user = User.objects.create_user(
                f"cliente{n}@example.com",
                PASSWORD,
                account=account,
                full_name=f"Cliente {n}",
                email_confirmed_at=now(),
            )
            customers.append({"email": user.email, "account": str(account.public_id)})
        agents = []
        for n, role in ((1, Membership.Role.SUPERVISOR), (2, Membership.Role.AGENT)):
            agent = User.objects.create_user(
                f"agente{n}@example.com", PASSWORD, is_staff=True, full_name=f"Agente Escala {n}"
            )
            Membership.objects.bulk_create(
                [Membership(user=agent, department=each, role=role) for each in departments]
            )
            token, secret = token_create(
                user=agent, name="scale/run.py", scope="write", created_by=agent
            )
            # The limiter still counts every request in the database; it just never refuses.
            ApiToken.objects.filter(pk=token.pk).update(rate_per_minute=1_000_000)
            agents.append({"email": agent.email, "name": agent.full_name, "token": secret})
    return {
        "customers": customers,
        "agents": agents,
        "departments": [each.slug for each in departments],
    }


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    from tests.services.common import free_port as port

    return port()


@dataclass
class Machine:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGINT: huey's graceful shutdown; gunicorn stops on it too.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Cluster:
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    machines: list[Machine] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def machine_env(self, name: str) -> dict[str, str]:
        data_dir = self.root / name
        data_dir.mkdir(exist_ok=True)
        return {**self.env, "ATIENDE_DATA_DIR": str(data_dir)}

    def run(self, name: str, *args: str, timeout: float = 180) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            env=self.machine_env(name),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args} failed on {name}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, name: str, *args: str, port: int = 0) -> Machine:
        log = self.root / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, *args],
                env=self.machine_env(name),
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        machine = Machine(name, process, log, port)
        self.machines.append(machine)
        return machine

    def close(self) -> None:
        for machine in reversed(self.machines):
            with contextlib.suppress(Exception):
                machine.stop()
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()


def wait_http(url: str, machine: Machine) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if not machine.alive():
            raise RuntimeError(f"{machine.name} died:\n{machine.log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{machine.name} does not answer at {url}")
        time.sleep(0.2)  # waiting for a process to listen


# --- the load -------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients were told, to check the database against."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)  # reference -> info
    messages: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    attachments: dict[str, bytes] = field(default_factory=dict)  # reference -> file content
    frozen: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    presence: Counter[str] = field(default_factory=Counter)

    def note(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def live_tickets(self, account: str | None = None) -> list[str]:
        with self.lock:
            return [
                ref
                for ref, info in self.tickets.items()
                if ref not in self.frozen and (account is None or info["account"] == account)
            ]


def csrf(client: Any) -> str:
    return str(client.cookies.get("csrftoken", domain="127.0.0.1") or "")


def login(client: Any, server: str, email: str) -> None:
    client.get(f"{server}/cuenta/entrar/")
    answer = client.post(
        f"{server}/cuenta/entrar/",
        data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": csrf(client)},
        headers={"Referer": f"{server}/cuenta/entrar/"},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login of {email} on {server} failed: {answer.status_code}")


REFERENCE_IN = re.compile(r"/soporte/abierto/([^/]+)/")
MESSAGE_IN = re.compile(r"#m-([0-9a-f-]{36})")


def customer_loop(
    servers: list[str],
    customer: dict[str, str],
    departments: list[str],
    ledger: Ledger,
    until: float,
    seed: int,
) -> None:
    import httpx

    rng = random.Random(seed)
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        login(client, servers[seed % 2], customer["email"])
        while time.monotonic() < until:
            server = rng.choice(servers)
            other = servers[1 - servers.index(server)]
            mine = ledger.live_tickets(customer["account"])
            if not mine or rng.random() < 0.4:
                key = str(uuid.uuid4())
                content = f"registro {key}\n".encode() * 20
                data = {
                    "csrfmiddlewaretoken": csrf(client),
                    "department": rng.choice(departments),
                    "subject": f"Prueba de escala {key[:8]}",
                    "body": "El sitio no carga desde esta mañana.",
                    "service": "",
                    "submission_key": key,
                }
                files = {"attachments": ("registro.txt", content, "text/plain")}
                answer = client.post(
                    f"{server}/soporte/abrir/",
                    data=data,
                    files=files,
                    headers={"Referer": f"{server}/soporte/abrir/"},
                )
                found = REFERENCE_IN.search(answer.headers.get("location", ""))
                if answer.status_code != 302 or not found:
                    ledger.problem(f"open ticket on {server}: {answer.status_code}")
                    continue
                reference = found.group(1)
                with ledger.lock:
                    ledger.tickets[reference] = {
                        "account": customer["account"],
                        "server": server,
                        "messages": 1,
                    }
                    ledger.attachments[reference] = content
                ledger.note("tickets opened (portal, with a file)")
                if rng.random() < 0.3:  # the same form again, on the other server
                    again = client.post(
                        f"{other}/soporte/abrir/",
                        data=data,
                        files=files,
                        headers={"Referer": f"{other}/soporte/abrir/"},
                    )
                    found = REFERENCE_IN.search(again.headers.get("location", ""))
                    ledger.note("open resubmitted on the other server")
                    if not found or found.group(1) != reference:
                        ledger.problem(f"resubmitted open gave {again.status_code} {found}")
            else:
                reference = rng.choice(mine)
                key = str(uuid.uuid4())
                data = {
                    "csrfmiddlewaretoken": csrf(client),
                    "body": f"Sigue igual ({key[:8]}).",
                    "submission_key": key,
                }
                url = f"/tickets/{reference}/responder/"
                answer = client.post(f"{server}{url}", data=data, headers={"Referer": server})
                found = MESSAGE_IN.search(answer.headers.get("location", ""))
                if answer.status_code != 302 or not found:
                    ledger.problem(f"customer reply on {server}: {answer.status_code}")
                    continue
                with ledger.lock:
                    ledger.tickets[reference]["messages"] += 1
                    ledger.messages[reference].add(found.group(1))
                ledger.note("customer replies (portal)")
                if rng.random() < 0.3:
                    again = client.post(f"{other}{url}", data=data, headers={"Referer": other})
                    found_again = MESSAGE_IN.search(again.headers.get("location", ""))
                    ledger.note("reply resubmitted on the other server")
                    if not found_again or found_again.group(1) != found.group(1):
                        ledger.problem(f"resubmitted reply gave {again.status_code}")


def agent_loop(
    servers: list[str], agent: dict[str, str], ledger: Ledger, until: float, seed: int
) -> None:
    import httpx

    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {agent['token']}"}
    with httpx.Client(timeout=REQUEST_TIMEOUT, headers=headers) as client:
        while time.monotonic() < until:
            server = rng.choice(servers)
            listing = client.get(f"{server}/api/v1/tickets", params={"limit": 50})
            if listing.status_code != 200:
                ledger.problem(f"list on {server}: {listing.status_code}")
                continue
            live = set(ledger.live_tickets())
            choices = [
                item["id"]
                for item in listing.json()["items"]
                if item["id"] in live and item["status"] != "closed"
            ]
            if not choices:
                time.sleep(0.2)  # nothing to answer yet
                continue
            reference = rng.choice(choices)
            body = {
                "body": f"Lo revisamos ({uuid.uuid4().hex[:8]}).",
                "resolve": rng.random() < 0.4,
            }
            key = str(uuid.uuid4())
            url = f"/api/v1/tickets/{reference}/replies"
            both = rng.random() < 0.3
            answers: list[Any] = []

            def post(
                to: str,
                answers: list[Any] = answers,
                key: str = key,
                url: str = url,
                body: dict[str, Any] = body,
            ) -> None:
                try:
                    answers.append(
                        client.post(f"{to}{url}", json=body, headers={"Idempotency-Key": key})
                    )
                except httpx.HTTPError as error:
                    answers.append(error)

            if both:  # the same key on both servers at the same instant
                threads = [threading.Thread(target=post, args=(each,)) for each in servers]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                ledger.note("replies sent to both servers at once, one key")
            else:
                post(server)
            created = [a for a in answers if not isinstance(a, Exception) and a.status_code == 201]
            if not created:
                codes = [getattr(a, "status_code", repr(a)) for a in answers]
                if any(code != 409 for code in codes):  # 409: the status changed meanwhile
                    ledger.problem(f"agent reply on {reference}: {codes}")
                continue
            ids = {a.json()["id"] for a in created}
            if len(ids) != 1 or (both and len(created) != 2):
                ledger.problem(f"idempotent reply on {reference} gave {ids}, {len(created)}")
            if both and sum(a.headers.get("Idempotent-Replayed") == "true" for a in created) != 1:
                ledger.problem(f"idempotent reply on {reference}: not exactly one replay")
            with ledger.lock:
                ledger.tickets[reference]["messages"] += 1
                ledger.messages[reference].update(ids)
            ledger.note("agent replies (API)")


def presence_loop(
    servers: list[str], agents: list[dict[str, str]], ledger: Ledger, until: float
) -> None:
    import httpx

    with httpx.Client(timeout=REQUEST_TIMEOUT) as one, httpx.Client(timeout=REQUEST_TIMEOUT) as two:
        login(one, servers[0], agents[0]["email"])
        login(two, servers[1], agents[1]["email"])
        while time.monotonic() < until:
            live = ledger.live_tickets()
            if not live:
                time.sleep(0.5)
                continue
            reference = random.choice(live)
            url = f"/consola/tickets/{reference}/presencia/"
            first = one.post(
                f"{servers[0]}{url}",
                data={"csrfmiddlewaretoken": csrf(one)},
                headers={"Referer": servers[0]},
            )
            second = two.post(
                f"{servers[1]}{url}",
                data={"csrfmiddlewaretoken": csrf(two)},
                headers={"Referer": servers[1]},
            )
            ledger.presence["beats"] += 1
            if (
                first.status_code == 200
                and second.status_code == 200
                and (agents[0]["name"] in second.text and 'data-others="1"' in second.text)
            ):
                ledger.presence["seen"] += 1
            else:
                ledger.problem(
                    f"presence on {reference}: {first.status_code}/{second.status_code} "
                    f"{second.text[:200]!r}"
                )
            time.sleep(1)


# --- checks ---------------------------------------------------------------------------------


def sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return list(connection.execute(query, params).fetchall())  # our own queries


def make_due(cluster: Cluster, url: str, ledger: Ledger) -> list[str]:
    """Freeze the tickets opened so far; make those that wait on the customer due."""
    with ledger.lock:
        ledger.frozen.update(ledger.tickets)
        candidates = sorted(ledger.frozen)
    time.sleep(REQUEST_TIMEOUT / 10)  # let requests already in flight on them land
    rows = sql(
        url,
        "UPDATE tickets_ticket SET auto_close_at = now() - interval '1 minute', reminder_at = NULL"
        " WHERE reference = ANY(%s) AND status IN ('pending', 'resolved') RETURNING reference",
        candidates,
    )
    due = sorted(row[0] for row in rows)
    # `atiende sweep` on both worker machines at once, twice, beside their periodic sweeps.
    for _round in range(2):
        sweeps = [
            subprocess.Popen(
                [sys.executable, "-m", "atiende.cli", "sweep"],
                env=cluster.machine_env(name),
                cwd=REPO_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for name in ("worker-1", "worker-2")
        ]
        for sweep in sweeps:
            _out, err = sweep.communicate(timeout=120)
            if sweep.returncode != 0:
                ledger.problem(f"atiende sweep failed: {err.decode(errors='replace')[-500:]}")
    return due


def wait_drained(url: str, smtp: Any) -> tuple[bool, float]:
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_TIMEOUT:
        (waiting,) = sql(
            url,
            "SELECT count(*) FROM mail_outboxmessage WHERE status IN ('queued', 'sending')",
        )[0]
        (sent,) = sql(url, "SELECT count(*) FROM mail_outboxmessage WHERE status = 'sent'")[0]
        if waiting == 0 and len(smtp.received) >= sent:
            return True, time.monotonic() - started
        time.sleep(1)  # waiting for the workers to deliver
    return False, time.monotonic() - started


def bare(message_id: str) -> str:
    return message_id.strip().strip("<>")


def check(
    url: str,
    ledger: Ledger,
    due: list[str],
    smtp: Any,
    s3: Any,
    bucket: str,
    servers: list[str],
    agents: list[dict[str, str]],
    drained: bool,
) -> list[tuple[str, bool, str]]:
    import httpx

    results: list[tuple[str, bool, str]] = []

    def verdict(name: str, ok: bool, detail: str) -> None:
        results.append((name, ok, detail))

    verdict(
        "clients' requests answered as expected",
        not ledger.problems,
        f"{len(ledger.problems)} problems"
        + (f", first: {ledger.problems[0]}" if ledger.problems else ""),
    )

    kinds = (
        "tickets opened (portal, with a file)",
        "open resubmitted on the other server",
        "customer replies (portal)",
        "reply resubmitted on the other server",
        "agent replies (API)",
        "replies sent to both servers at once, one key",
    )
    idle = [kind for kind in kinds if not ledger.counts[kind]]
    verdict("every kind of action (and of retry) happened", not idle, f"never: {idle}")

    rows = sql(
        url,
        "SELECT t.reference, count(m.id) FILTER (WHERE m.author_kind <> 'system')"
        " FROM tickets_ticket t LEFT JOIN tickets_message m ON m.ticket_id = t.id"
        " GROUP BY t.reference",
    )
    in_db = {reference: count for reference, count in rows}
    told = set(ledger.tickets)
    lost = told - set(in_db)
    unknown = set(in_db) - told
    verdict(
        "every ticket answered is in the database, no other",
        not lost and not unknown and len(in_db) == len(told),
        f"{len(told)} answered, {len(in_db)} in db, {len(lost)} lost, {len(unknown)} extra",
    )

    wrong = {
        ref: (info["messages"], in_db.get(ref))
        for ref, info in ledger.tickets.items()
        if in_db.get(ref) != info["messages"]
    }
    total = sum(info["messages"] for info in ledger.tickets.values())
    verdict(
        "messages per ticket: exactly those answered",
        not wrong,
        f"{total} messages; {len(wrong)} tickets differ {dict(list(wrong.items())[:3])}",
    )

    message_ids = {
        str(row[0])
        for row in sql(url, "SELECT public_id FROM tickets_message WHERE author_kind <> 'system'")
    }
    expected_ids = set().union(*ledger.messages.values()) if ledger.messages else set()
    verdict(
        "every reply's id (and each retried one) exists once",
        expected_ids <= message_ids,
        f"{len(expected_ids)} reply ids, {len(expected_ids - message_ids)} missing",
    )

    outbox = sql(
        url, "SELECT message_id, status, \"to\" FROM mail_outboxmessage WHERE kind = 'mail'"
    )
    statuses = Counter(row[1] for row in outbox)
    verdict(
        "outbox drained: every mail row sent",
        drained and set(statuses) <= {"sent"},
        f"{len(outbox)} rows {dict(statuses)}",
    )
    received = Counter(bare(item.message_id) for item in smtp.received)
    written = {bare(row[0]) for row in outbox}
    twice = {mid: n for mid, n in received.items() if n > 1}
    missing = written - set(received)
    stray = set(received) - written
    verdict(
        "SMTP sink got each outbox mail exactly once, nothing else",
        not twice and not missing and not stray and bool(written),
        f"{sum(received.values())} received, {len(written)} written, {len(twice)} twice, "
        f"{len(missing)} missing, {len(stray)} stray",
    )

    closes = sql(
        url,
        "SELECT t.reference, t.status, count(e.id) FILTER (WHERE e.new_status = 'closed'),"
        " count(e.id) FILTER (WHERE e.new_status = 'closed' AND e.actor_kind = 'system')"
        " FROM tickets_ticket t LEFT JOIN tickets_event e ON e.ticket_id = t.id"
        " WHERE t.reference = ANY(%s) GROUP BY t.reference, t.status",
        due,
    )
    bad = [row for row in closes if row[1] != "closed" or row[2] != 1 or row[3] != 1]
    verdict(
        "every due ticket closed once, by the system",
        bool(due) and not bad and len(closes) == len(due),
        f"{len(due)} due, {len(closes) - len(bad)} closed once, bad: {bad[:3]}",
    )

    names = {
        row[0]
        for row in sql(
            url,
            "SELECT a.file, t.reference FROM tickets_attachment a JOIN tickets_message m"
            " ON m.id = a.message_id JOIN tickets_ticket t ON t.id = m.ticket_id",
        )
    }
    keys = set(s3.keys(bucket))
    verdict(
        "attachments: one S3 object per attachment row, no other",
        names == keys and len(names) == len(ledger.attachments),
        f"{len(names)} rows, {len(keys)} objects, {len(ledger.attachments)} uploaded",
    )

    headers = {"Authorization": f"Bearer {agents[0]['token']}"}
    checked = failed = 0
    with httpx.Client(timeout=REQUEST_TIMEOUT, headers=headers) as client:
        for reference, content in sorted(ledger.attachments.items())[:20]:
            other = servers[1 - servers.index(ledger.tickets[reference]["server"])]
            detail = client.get(f"{other}/api/v1/tickets/{reference}")
            files = [f for m in detail.json()["messages"] for f in m["attachments"]]
            answer = client.get(f"{other}/api/v1/attachments/{files[0]['id']}") if files else None
            checked += 1
            if answer is None or answer.status_code != 200 or answer.content != content:
                failed += 1
    verdict(
        "attachments download, intact, through the other server",
        checked > 0 and not failed,
        f"{checked} checked, {failed} failed",
    )

    verdict(
        "presence seen across the two servers",
        ledger.presence["beats"] > 0 and ledger.presence["seen"] == ledger.presence["beats"],
        f"{ledger.presence['seen']} of {ledger.presence['beats']} heartbeats",
    )
    return results


# --- main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SCALE_SECONDS", 45)))
    parser.add_argument("--customers-per-account", type=int, default=2)
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary folder")
    parser.add_argument("--cast", action="store_true", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.cast:
        print(json.dumps(cast_create()))
        return 0

    began = time.monotonic()
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="atiende-scale-")))
    interrupted = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    ok = False
    try:
        ok = scenario(cluster, args)
    except KeyboardInterrupt:
        print("scale-test: interrupted; stopping everything", file=sys.stderr)
    except Exception:
        for machine in cluster.machines:
            tail = machine.log.read_text(errors="replace")[-3000:] if machine.log.exists() else ""
            print(f"--- {machine.name} log (tail) ---\n{tail}", file=sys.stderr)
        raise
    finally:
        cluster.close()
        if ok and not args.keep_logs:
            shutil.rmtree(cluster.root, ignore_errors=True)
        else:
            print(f"scale-test: logs kept in {cluster.root}", file=sys.stderr)
        print(f"scale-test: wall time {time.monotonic() - began:.0f} s")
    return 0 if ok else 1


@contextlib.contextmanager
def step(text: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"scale-test: {text} ...", flush=True)
    yield
    print(f"scale-test:   done in {time.monotonic() - started:.1f} s", flush=True)


def scenario(cluster: Cluster, args: argparse.Namespace) -> bool:
    from tests.backends import _find_pg_bin, _PostgresServer
    from tests.services.redis import RedisServer
    from tests.services.s3 import ACCESS_KEY, REGION, S3Server
    from tests.services.s3 import SECRET_KEY as S3_SECRET
    from tests.services.smtp import SmtpServer

    with step("starting PostgreSQL, Redis, S3 (moto) and an SMTP sink"):
        postgres = _PostgresServer(_find_pg_bin("initdb") or "", _find_pg_bin("pg_ctl") or "")
        cluster.cleanups.append(postgres.stop)
        database_url = postgres.start()
        redis_dir = cluster.root / "redis"
        redis_dir.mkdir()
        redis = RedisServer(redis_dir)
        cluster.cleanups.append(redis.stop)
        redis.start()
        s3 = S3Server()
        cluster.cleanups.append(s3.stop)
        s3.start()
        bucket = s3.bucket_create()
        smtp = SmtpServer()
        cluster.cleanups.append(smtp.stop)
        smtp.start()

    ports = [free_port(), free_port()]
    servers = [f"http://127.0.0.1:{port}" for port in ports]
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "TMPDIR"}
    cluster.env = {
        **{key: value for key, value in os.environ.items() if key in keep},
        "PYTHONPATH": os.pathsep.join(
            part for part in (os.environ.get("PYTHONPATH", ""), str(REPO_ROOT)) if part
        ),
        "DJANGO_SETTINGS_MODULE": "atiende.settings",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "ATIENDE_S3_BUCKET": bucket,
        "ATIENDE_S3_ENDPOINT_URL": s3.endpoint_url,
        "ATIENDE_S3_REGION": REGION,
        "ATIENDE_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "ATIENDE_S3_SECRET_ACCESS_KEY": S3_SECRET,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp.host,
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_TIMEOUT": "30",
        "LOGIN_FAILURE_LIMIT": "1000",
    }

    with step("migrating once, collectstatic per app server, loading the cast"):
        cluster.run("setup", "-m", "atiende.cli", "migrate", "--noinput", "-v0")
        collect = [
            subprocess.Popen(
                [sys.executable, "-m", "atiende.cli", "collectstatic", "--noinput", "-v0"],
                env=cluster.machine_env(name),
                cwd=REPO_ROOT,
            )
            for name in ("app-a", "app-b")
        ]
        if any(process.wait(timeout=180) for process in collect):
            raise RuntimeError("collectstatic failed")
        cast = json.loads(cluster.run("setup", str(Path(__file__).resolve()), "--cast"))

    with step("starting two app servers (gunicorn) and two workers"):
        apps = [
            cluster.start(
                name,
                "-m",
                "gunicorn",
                "atiende.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
                port=port,
            )
            for name, port in (("app-a", ports[0]), ("app-b", ports[1]))
        ]
        for name in ("worker-1", "worker-2"):
            cluster.start(name, "-m", "atiende.cli", "worker", "--workers", "2")
        for app, server in zip(apps, servers, strict=True):
            wait_http(f"{server}/cuenta/entrar/", app)

    ledger = Ledger()
    until = time.monotonic() + args.seconds
    with step(f"driving both servers for {args.seconds:.0f} s"):

        def client(target: Callable[..., None], *client_args: Any) -> threading.Thread:
            def run() -> None:
                try:
                    target(*client_args)
                except Exception as error:  # a crashed client is a failure, not a hang
                    ledger.problem(f"client crashed: {error!r}")

            return threading.Thread(target=run, name=target.__name__, daemon=True)

        threads = [
            client(customer_loop, servers, customer, cast["departments"], ledger, until, 10 * n + i)
            for n, customer in enumerate(cast["customers"])
            for i in range(args.customers_per_account)
        ]
        threads += [
            client(agent_loop, servers, agent, ledger, until, 100 + n)
            for n, agent in enumerate(cast["agents"])
        ]
        threads.append(client(presence_loop, servers, cast["agents"], ledger, until))
        for thread in threads:
            thread.start()
        time.sleep(args.seconds / 2)  # half way: the auto-close rounds
        due = make_due(cluster, database_url, ledger)
        print(f"scale-test:   {len(due)} tickets made due; both sweeps ran twice", flush=True)
        for thread in threads:
            thread.join()
        for machine in cluster.machines:
            if not machine.alive():
                ledger.problem(f"{machine.name} died")

    with step("waiting for the outbox to drain"):
        drained, _waited = wait_drained(database_url, smtp)

    with step("checking"):
        results = check(
            database_url, ledger, due, smtp, s3, bucket, servers, cast["agents"], drained
        )
    # Nothing on a machine's disk but collectstatic's output: no secret key file, no queue
    # file, no attachments folder, no database.
    left = sorted(
        str(path.relative_to(cluster.root))
        for name in ("app-a", "app-b", "worker-1", "worker-2")
        for path in (cluster.root / name).iterdir()
        if path.name != "static"
    )
    results.append(
        ("the machines' data dirs hold nothing but static files", not left, f"found: {left}")
    )
    print()
    print("scale-test: what the clients did")
    for what, count in sorted(ledger.counts.items()):
        print(f"  {count:6d}  {what}")
    print()
    width = max(len(name) for name, _ok, _detail in results)
    for name, ok, detail in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name:<{width}}  {detail}")
    for problem in ledger.problems[:10]:
        print(f"  problem: {problem}")
    passed = all(ok for _name, ok, _detail in results)
    print(f"\nscale-test: {'PASSED' if passed else 'FAILED'}")
    return passed


if __name__ == "__main__":
    sys.exit(main())
