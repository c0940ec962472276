"""Benchmark: mail ingest of the e-mail corpus through the pipe command and IMAP, and the
memory one 20 MB message takes.

    .venv/bin/python bench/ingest.py [--postgres URL|auto] [--pipe-messages N]
                                     [--imap-rounds N] [--corpus DIR]

For each backend (SQLite always; PostgreSQL with `--postgres`) it makes a temporary data dir
and a fresh migrated database, and an account whose confirmed authorized addresses are every
From address of the corpus (read with the project's own parser), so the messages become
tickets and replies instead of quarantines. Then:

- pipe: the real command, `python -m atiende.cli mail ingest --department soporte-tecnico
  < message.eml`, one process per message, as a mail server runs it (`--pipe-messages` of
  the corpus, spread over it, 20 by default: about a second each; 0: all): messages per
  second with the process start-up, and the start-up alone (an empty message, exit 64).
  Then the whole corpus through `inbound_receive()` in this process: the cost without the
  start-up.
- IMAP: a real Dovecot (tests/services/dovecot.py) on loopback; the corpus APPENDed
  `--imap-rounds` times, and `mailbox_poll()` timed until the mailbox is drained.
- memory: a 20 MB message (a text and a base64 attachment of 15 MB) through
  `inbound_receive()` in a fresh process: its max RSS (getrusage) on one run, and
  tracemalloc's peak on a second. The department's limit for one file is raised from its
  default 10 MB to 20 MB, so the attachment is stored (the worst case), not refused.

The corpus is read where it lies (never copied). Each copy of a message that the benchmark
sends again gets a Message-ID of its own, so neither dedupe (same bytes; same Message-ID and
From) takes it for a duplicate. The pipe sends the files as they are, first, so a file with
the same bytes as one taken before (the corpus has 4 such pairs) adds nothing: the outcomes
are in the table.
The sender's hourly limit is lifted (ATIENDE_MAIL_SENDER_HOURLY_LIMIT), or the senders that
write many messages of the corpus would be quarantined for it; the count it needs still runs.

Each backend runs in child processes, because Django's settings are read once per process.
The table is printed and written to test-artifacts/bench/ingest.txt. This is a benchmark, not
a test: nothing here is run by the test suite.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

# The other benchmark's throw-away PostgreSQL and timer (bench/ is this script's sys.path[0]).
from outbox_and_sweep import child_env, postgres_database, timed

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "test-artifacts" / "bench" / "ingest.txt"
# The shared corpus sits beside the checkout (../shared), read in place.
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "email"
DEPARTMENT = "soporte-tecnico"
HOLDER = "cliente@example.com"
PIPE_COMMAND = [sys.executable, "-m", "atiende.cli", "mail", "ingest", "--department", DEPARTMENT]
POLL_LIMIT = 100  # what the worker's periodic job takes per poll (mailboxes_poll_due)
BIG_ATTACHMENT = 15 * 1024 * 1024  # 20 MB once in base64
KB = 1024
MB = 1024 * 1024

_MESSAGE_ID = re.compile(rb"^Message-ID:[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE)


# --- the messages ---------------------------------------------------------------------------


def corpus_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.eml"))


def variant(raw: bytes, tag: str) -> bytes:
    """The message with a Message-ID of its own: other bytes (sha256) and another Message-ID,
    so that inbound_receive() takes it as a new message, not as a copy of one it has."""
    ends = [found for found in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if found >= 0]
    header_end = min(ends) + 2 if ends else len(raw)
    found = _MESSAGE_ID.search(raw, 0, header_end)
    if found is not None:
        eol = b"\r\n" if found.group().endswith(b"\r\n") else b"\n"
        start, end = found.span()
    else:  # none: one is added, after an mbox "From " line if there is one
        first = raw.find(b"\n") + 1
        eol = b"\r\n" if raw[:first].endswith(b"\r\n") else b"\n"
        start = end = first if raw.startswith(b"From ") else 0
    line = f"Message-ID: <{tag}.{uuid.uuid4().hex}@bench.atiende.invalid>".encode() + eol
    return raw[:start] + line + raw[end:]


def big_message(path: Path, tag: str) -> None:
    """A 20 MB message from the account's holder: a short text and a 15 MB .zip (random
    bytes: as incompressible as a real archive) in base64, CRLF line ends as on the wire."""
    data = b"PK\x03\x04" + random.Random(tag).randbytes(BIG_ATTACHMENT - 4)
    head = (
        f"From: Cliente de prueba <{HOLDER}>\r\n"
        "To: soporte@atiende.localhost\r\n"
        "Subject: Respaldo del sitio para revisar\r\n"
        f"Message-ID: <{tag}.{uuid.uuid4().hex}@bench.atiende.invalid>\r\n"
        "Date: Mon, 02 Nov 2026 10:00:00 -0600\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="bench-boundary"\r\n'
        "\r\n"
        "--bench-boundary\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Hola:\r\n\r\nAdjunto el respaldo del sitio; después de restaurarlo la página de inicio "
        "muestra un error 500.\r\n\r\nGracias.\r\n"
        "--bench-boundary\r\n"
        'Content-Type: application/zip; name="respaldo-sitio.zip"\r\n'
        'Content-Disposition: attachment; filename="respaldo-sitio.zip"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
    ).encode()
    body = base64.encodebytes(data).replace(b"\n", b"\r\n")
    path.write_bytes(head + body + b"--bench-boundary--\r\n")


def small_message(tag: str) -> bytes:
    """A message from the holder, to warm up a process before it is measured."""
    return (
        f"From: {HOLDER}\r\nTo: soporte@atiende.localhost\r\nSubject: Prueba {tag}\r\n"
        f"Message-ID: <{tag}.{uuid.uuid4().hex}@bench.atiende.invalid>\r\n"
        "Date: Mon, 02 Nov 2026 10:00:00 -0600\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHola, una prueba.\r\n"
    ).encode()


# --- one backend, in a child process ------------------------------------------------------


def outcomes_since(last_pk: int) -> dict[str, int]:
    from django.db.models import Count

    from atiende.mail.models import InboundMessage

    rows = (
        InboundMessage.objects.filter(pk__gt=last_pk)
        .values("outcome")
        .annotate(count=Count("pk"))
        .order_by("-count", "outcome")
    )
    return {row["outcome"]: row["count"] for row in rows}


def last_pk() -> int:
    from atiende.mail.models import InboundMessage

    return InboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def setup_account(files: list[Path]) -> int:
    """One account with a holder and every From address of the corpus as a confirmed
    authorized address; how many addresses."""
    from django.conf import settings

    from atiende.accounts.models import Account, AuthorizedAddress, User
    from atiende.core.clock import now
    from atiende.mail.inbound.ingest import inbound_limits
    from atiende.mail.inbound.parse import message_parse
    from atiende.mail.inbound.types import MessageRejected

    addresses: set[str] = set()
    for path in files:
        try:
            parsed = message_parse(
                path.read_bytes(),
                limits=inbound_limits(),
                authserv_id=settings.ATIENDE_MAIL_AUTHSERV_ID,
            )
        except MessageRejected:
            continue
        if "@" in parsed.from_address and parsed.from_address != HOLDER:
            addresses.add(parsed.from_address[:254])
    account = Account.objects.create(name="Cuenta de prueba")
    User.objects.create_user(HOLDER, None, account=account, full_name="Cliente de prueba")
    moment = now()
    AuthorizedAddress.objects.bulk_create(
        [
            AuthorizedAddress(account=account, email=address, confirmed_at=moment)
            for address in sorted(addresses)
        ]
    )
    return len(addresses)


def pipe_run(files: list[Path], sample: int) -> dict[str, Any]:
    """The real command, one process per message, one after the other."""
    chosen = files
    if 0 < sample < len(files):
        chosen = [files[i * len(files) // sample] for i in range(sample)]
    startup = []
    for _run in range(3):
        seconds, done = timed(
            lambda: subprocess.run(PIPE_COMMAND, stdin=subprocess.DEVNULL, capture_output=True)
        )
        assert done.returncode == 64, done.stderr  # EX_USAGE: no message on standard input
        startup.append(seconds)
    codes: dict[str, int] = {}
    before = last_pk()
    start = time.perf_counter()
    for path in chosen:
        with path.open("rb") as message:
            done = subprocess.run(PIPE_COMMAND, stdin=message, capture_output=True)
        codes[str(done.returncode)] = codes.get(str(done.returncode), 0) + 1
    seconds = time.perf_counter() - start
    return {
        "messages": len(chosen),
        "seconds": seconds,
        "startup_s": statistics.median(startup),
        "exit_codes": codes,
        "outcomes": outcomes_since(before),
    }


def direct_run(files: list[Path]) -> dict[str, Any]:
    """The corpus through inbound_receive() in this process (after one message to warm up)."""
    from atiende.accounts.models import Department
    from atiende.mail.inbound.ingest import inbound_receive
    from atiende.mail.models import InboundMessage

    department = Department.objects.get(slug=DEPARTMENT)
    channel = InboundMessage.Channel.PIPE
    inbound_receive(raw=small_message("warm-up"), channel=channel, department=department)
    messages = [variant(path.read_bytes(), "direct") for path in files]
    before = last_pk()
    start = time.perf_counter()
    for raw in messages:
        inbound_receive(raw=raw, channel=channel, department=department)
    return {
        "messages": len(messages),
        "seconds": time.perf_counter() - start,
        "outcomes": outcomes_since(before),
    }


def imap_run(files: list[Path], rounds: int) -> dict[str, Any]:
    """The corpus APPENDed `rounds` times into a real Dovecot, then polled until drained."""
    sys.path.insert(0, str(REPO_ROOT))
    from tests.services.dovecot import PASSWORD, USER, DovecotServer

    from atiende.accounts.models import Department
    from atiende.mail.inbound.imap import mailbox_poll
    from atiende.mail.models import Mailbox

    server = DovecotServer()
    server.user_add(USER, PASSWORD)
    server.start()
    try:
        corpus = [path.read_bytes() for path in files]
        messages = [variant(raw, f"imap-{n}") for n in range(1, rounds + 1) for raw in corpus]

        def append() -> None:
            with server.client() as client:
                for raw in messages:
                    typ, data = client.append("INBOX", None, None, raw)
                    assert typ == "OK", data

        append_s, _ = timed(append)
        mailbox = Mailbox.objects.create(
            department=Department.objects.get(slug=DEPARTMENT),
            host=server.host,
            port=server.port,
            security=Mailbox.Security.NONE,
            username=USER,
            password=PASSWORD,
        )
        before = last_pk()
        received = failed = polls = 0
        start = time.perf_counter()
        while True:
            result = mailbox_poll(mailbox=mailbox, limit=POLL_LIMIT)
            polls += 1
            if not result.ok:
                raise RuntimeError(f"the poll failed: {result.error}")
            received += result.received
            failed += result.failed
            if result.found <= result.received + result.failed:
                break  # nothing left unseen
        seconds = time.perf_counter() - start
        flags = server.flags()
        return {
            "appended": len(messages),
            "append_s": append_s,
            "received": received,
            "failed": failed,
            "polls": polls,
            "seconds": seconds,
            "unseen": sum(1 for each in flags.values() if "\\Seen" not in each),
            "outcomes": outcomes_since(before),
        }
    finally:
        server.stop()


def run_backend(args: argparse.Namespace) -> None:
    """Child: the settings come from the environment the parent prepared."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    result: dict[str, Any] = {"vendor": connection.vendor}
    files = corpus_files(args.corpus)
    result["migrate_s"], _ = timed(lambda: call_command("migrate", verbosity=0))
    call_command("createcachetable", verbosity=0)
    result["addresses"] = setup_account(files)
    sys.stderr.write(f"  {connection.vendor}: pipe command...\n")
    result["pipe"] = pipe_run(files, args.pipe_messages)
    sys.stderr.write(f"  {connection.vendor}: inbound_receive() in-process...\n")
    result["direct"] = direct_run(files)
    if args.imap_rounds:
        sys.stderr.write(f"  {connection.vendor}: IMAP, {args.imap_rounds} x the corpus...\n")
        result["imap"] = imap_run(files, args.imap_rounds)
    sys.stdout.write(json.dumps(result) + "\n")


def rss_now() -> int:
    """The resident set now, in bytes (Linux), or 0."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def max_rss() -> int:
    """The process's max RSS so far, in bytes (Linux gives KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * KB


def run_memory(args: argparse.Namespace) -> None:
    """Child, in a process of its own (max RSS only grows): the message of `--message`
    through inbound_receive(), once for the RSS and once under tracemalloc (which costs
    memory of its own, and time)."""
    import gc

    import django

    django.setup()
    from atiende.accounts.models import Department
    from atiende.mail.inbound.ingest import inbound_receive
    from atiende.mail.models import InboundMessage

    Department.objects.filter(slug=DEPARTMENT).update(max_attachment_mb=20)
    department = Department.objects.get(slug=DEPARTMENT)
    channel = InboundMessage.Channel.PIPE
    inbound_receive(raw=small_message("warm-up"), channel=channel, department=department)

    raw = args.message.read_bytes()  # as the pipe command reads it: one buffer
    gc.collect()
    result: dict[str, Any] = {"size": len(raw)}
    result["rss_before"], result["max_rss_before"] = rss_now(), max_rss()
    result["seconds"], row = timed(
        lambda: inbound_receive(raw=raw, channel=channel, department=department)
    )
    result["max_rss_after"] = max_rss()
    result["outcome"] = row.outcome
    result["attachments"] = row.ticket_message.attachments.count() if row.ticket_message else 0

    raw = variant(raw, "tracemalloc")
    gc.collect()
    tracemalloc.start()
    result["traced_seconds"], row = timed(
        lambda: inbound_receive(raw=raw, channel=channel, department=department)
    )
    result["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    result["traced_outcome"] = row.outcome
    sys.stdout.write(json.dumps(result) + "\n")


# --- the parent -----------------------------------------------------------------------------


def dovecot_missing() -> str:
    """Why the IMAP part cannot run here ("" when it can)."""
    sys.path.insert(0, str(REPO_ROOT))
    from tests.services.dovecot import IMAP_BINARY

    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])
    if not shutil.which("dovecot", path=path):
        return "`dovecot` is not installed here (Debian packages dovecot-core, dovecot-imapd)"
    if not IMAP_BINARY.exists():
        return f"{IMAP_BINARY} is not installed here (Debian package dovecot-imapd)"
    if not shutil.which("openssl"):
        return "`openssl` is not installed here (Debian package openssl)"
    return ""


def last_json(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    output = subprocess.run(
        command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if output.returncode != 0:
        raise RuntimeError(f"the benchmark failed:\n{output.stdout}\n{output.stderr}")
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def child(database_url: str, args: argparse.Namespace, big: Path) -> dict[str, Any]:
    data_dir, env = child_env(database_url, ATIENDE_MAIL_SENDER_HOURLY_LIMIT="1000000")
    for name in [name for name in env if name.startswith("ATIENDE_MAIL_MAX_")]:
        env.pop(name)
    try:
        result = last_json(
            [
                sys.executable, __file__, "--run-backend", "--corpus", str(args.corpus),
                "--pipe-messages", str(args.pipe_messages),
                "--imap-rounds", str(args.imap_rounds),
            ],
            env,
        )  # fmt: skip
        sys.stderr.write(f"  {result['vendor']}: a 20 MB message...\n")
        result["memory"] = last_json(
            [sys.executable, __file__, "--run-memory", "--message", str(big)], env
        )
        return result
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def outcomes_text(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in outcomes.items())


def same_bytes(count: int) -> str:
    if not count:
        return ""
    return f"; {count} the same bytes as one taken before (nothing done, no row)"


def table(results: list[dict[str, Any]], args: argparse.Namespace, corpus: str, skip: str) -> str:
    lines = [
        "Atiende benchmark: mail ingest (pipe command, IMAP poll, one 20 MB message)",
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, Python "
        f"{platform.python_version()}, {platform.machine()} x {os.cpu_count()} CPUs",
        corpus,
        "",
        "Pipe: `python -m atiende.cli mail ingest --department soporte-tecnico < file`, one "
        "process per",
        "  message, one after the other; then the corpus through inbound_receive() in one process",
    ]
    header = (
        f"{'backend':<11}{'messages':>9}{'wall':>9}{'msg/s':>8}{'start-up':>10}"
        f"{'in-process':>12}{'msg/s':>8}{'ms/msg':>8}"
    )
    lines += [header, "-" * len(header)]
    for item in results:
        pipe, direct = item["pipe"], item["direct"]
        lines.append(
            f"{item['vendor']:<11}{pipe['messages']:>9}{pipe['seconds']:>8.1f}s"
            f"{pipe['messages'] / pipe['seconds']:>8.2f}{pipe['startup_s']:>9.2f}s"
            f"{direct['seconds']:>11.2f}s{direct['messages'] / direct['seconds']:>8.1f}"
            f"{direct['seconds'] * 1000 / direct['messages']:>8.1f}"
        )
    for item in results:
        pipe, direct = item["pipe"], item["direct"]
        lines += [
            f"  {item['vendor']}, command: exit codes "
            + ", ".join(f"{code}: {count}" for code, count in sorted(pipe["exit_codes"].items()))
            + f"; outcomes: {outcomes_text(pipe['outcomes'])}"
            + same_bytes(pipe["messages"] - sum(pipe["outcomes"].values())),
            f"  {item['vendor']}, in-process ({direct['messages']} messages): outcomes: "
            f"{outcomes_text(direct['outcomes'])}",
        ]
    lines += [""]
    if skip:
        lines.append(f"IMAP: SKIPPED: {skip}")
    elif not args.imap_rounds:
        lines.append("IMAP: not run (--imap-rounds 0)")
    else:
        lines.append(
            f"IMAP: the corpus APPENDed {args.imap_rounds} times into a local Dovecot (plain "
            f"IMAP, loopback),\n  then mailbox_poll(limit={POLL_LIMIT}) until nothing is unseen"
        )
        header = (
            f"{'backend':<11}{'appended':>9}{'append':>9}{'polls':>7}{'received':>10}"
            f"{'failed':>8}{'poll time':>11}{'msg/s':>8}{'ms/msg':>8}{'unseen':>8}"
        )
        lines += [header, "-" * len(header)]
        for item in results:
            imap = item["imap"]
            lines.append(
                f"{item['vendor']:<11}{imap['appended']:>9}{imap['append_s']:>8.2f}s"
                f"{imap['polls']:>7}{imap['received']:>10}{imap['failed']:>8}"
                f"{imap['seconds']:>10.2f}s{imap['received'] / imap['seconds']:>8.1f}"
                f"{imap['seconds'] * 1000 / max(imap['received'], 1):>8.1f}{imap['unseen']:>8}"
            )
        for item in results:
            lines.append(f"  {item['vendor']}: outcomes: {outcomes_text(item['imap']['outcomes'])}")
    lines += [
        "",
        "Memory: one 20 MB message (a text and a 15 MB .zip in base64) through "
        "inbound_receive(), in a fresh",
        "  process; the attachment stored (the department's limit for one file raised from 10 "
        "to 20 MB)",
    ]
    header = (
        f"{'backend':<11}{'size':>9}{'time':>8}{'RSS before':>12}{'max RSS':>10}"
        f"{'growth':>10}{'tracemalloc peak':>18}{'time traced':>13}{'outcome':>9}"
    )
    lines += [header, "-" * len(header)]
    for item in results:
        memory = item["memory"]
        before = memory["rss_before"] or memory["max_rss_before"]
        # The max RSS only grows: when the run stayed under an earlier peak, the growth is at
        # most what is shown.
        mark = "<=" if memory["max_rss_after"] <= memory["max_rss_before"] else ""
        lines.append(
            f"{item['vendor']:<11}{memory['size'] / MB:>6.1f} MB{memory['seconds']:>7.2f}s"
            f"{before / MB:>9.0f} MB{memory['max_rss_after'] / MB:>7.0f} MB"
            f"{mark + format((memory['max_rss_after'] - before) / MB, '.0f'):>7} MB"
            f"{memory['tracemalloc_peak'] / MB:>15.1f} MB{memory['traced_seconds']:>12.2f}s"
            f"{memory['outcome']:>9}"
        )
    lines += [
        "  attachments stored: "
        + "; ".join(f"{item['vendor']} {item['memory']['attachments']}" for item in results),
        "",
        "msg/s of the command: the processes' wall time, one after the other, start-up included;",
        "  start-up: median of 3 runs of the command with nothing on standard input (exit 64)",
        "in-process: inbound_receive() called directly, the message already in memory, after "
        "one to warm up",
        "IMAP poll time: every poll (a login each, FETCH, ingest, STORE \\Seen) until drained",
        "RSS before: after django.setup(), one small message, and reading the 20 MB message "
        "(as the pipe",
        "  command holds it); max RSS: getrusage's ru_maxrss after the run; growth: max RSS - "
        "RSS before",
        "tracemalloc peak: Python's allocations at their highest during a second run of "
        "another copy",
        "  (the message itself not counted; the database driver's and SQLite's own memory is "
        "in the RSS only)",
        "sender hourly limit lifted to 1000000 for the run (the per-sender count still runs)",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="also on PostgreSQL ('auto': start one)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="a folder of .eml files")
    parser.add_argument(
        "--pipe-messages",
        type=int,
        default=20,
        help="messages through the command, spread over the corpus (0: all; about 1 s each)",
    )
    parser.add_argument("--imap-rounds", type=int, default=5, help="times the corpus is APPENDed")
    parser.add_argument("--run-backend", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--message", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_backend:
        run_backend(args)
        return
    if args.run_memory:
        run_memory(args)
        return

    files = corpus_files(args.corpus)
    if not files:
        raise SystemExit(f"no .eml files in {args.corpus}")
    corpus = (
        f"corpus: {args.corpus}: {len(files)} messages, "
        f"{sum(path.stat().st_size for path in files) / KB:.0f} KB"
    )
    skip = dovecot_missing() if args.imap_rounds else ""
    if skip:
        sys.stderr.write(f"IMAP SKIPPED: {skip}\n")
        args.imap_rounds = 0
    results = []
    with tempfile.TemporaryDirectory(prefix="atiende-bench-big-") as work:
        big = Path(work) / "big.eml"
        big_message(big, "big")
        sys.stderr.write("sqlite...\n")
        results.append(child("sqlite", args, big))
        if args.postgres:
            sys.stderr.write("postgres...\n")
            with postgres_database(args.postgres) as url:
                results.append(child(url, args, big))
    corpus += f"; {results[0]['addresses']} From addresses authorized on one account"
    report = table(results, args, corpus, skip)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    sys.stdout.write(report)
    sys.stdout.write(f"(written to {RESULTS.relative_to(REPO_ROOT)})\n")


if __name__ == "__main__":
    main()
