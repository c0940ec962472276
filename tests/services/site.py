"""An Atiende of its own for subprocesses: a data dir, a migrated database, `atiende` commands.

The test process's database cannot be shared with another process on SQLite (pytest-django's
test database lives in memory), so a test that runs the real worker gets a `Site`: a temporary
data dir (the worker's SqliteHuey queue lives there) and a database of its own, on the backend
the run uses:

- SQLite: a copy of a file database migrated once per session;
- PostgreSQL (`--backend=postgres`): a database created from a template migrated once per
  session, on the same server as the test database, dropped afterwards.

Everything that touches that database runs in a subprocess with the site's environment:
`atiende` commands (`start_worker()`), and Python modules of the tests (`run_module()`), e.g. a
script that builds state through the services. The test process only watches the servers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.services.common import libfaketime_required

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 120.0

# Variables of the test process that must not leak into a site's processes.
_NOT_INHERITED = {
    "ATIENDE_TASKS_IMMEDIATE",
    "REDIS_URL",
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "EMAIL_BACKEND",
    "DEBUG",
    "ATIENDE_DEMO",
}


def site_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env["DJANGO_SETTINGS_MODULE"] = "atiende.settings"
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
    )
    env["PYTHONUNBUFFERED"] = "1"
    env["LOG_LEVEL"] = "INFO"
    return env


def _run(command: list[str], env: Mapping[str, str], *, timeout: float) -> str:
    result = subprocess.run(
        command,
        env=dict(env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def atiende_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "atiende.cli", *args]


# --- databases ----------------------------------------------------------------------------


class SiteDatabases:
    """Makes databases for sites: one migrated template per session, a copy per site."""

    def __init__(self, *, vendor: str, folder: Path) -> None:
        self.vendor = vendor
        self.folder = folder
        self._template: str | None = None
        self._server_url = os.environ.get("DATABASE_URL", "")

    def _migrate(self, url: str) -> None:
        data_dir = self.folder / "migrate-data"
        data_dir.mkdir(exist_ok=True)
        env = {**site_env(), "DATABASE_URL": url, "ATIENDE_DATA_DIR": str(data_dir)}
        _run(atiende_command("migrate", "--noinput", "-v0"), env, timeout=180)

    def _postgres_url(self, name: str) -> str:
        parts = urlsplit(self._server_url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def _postgres_admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self._server_url, autocommit=True) as connection:
            connection.execute(sql)  # names we made, not input

    def _template_ready(self) -> str:
        if self._template is None:
            if self.vendor == "postgresql":
                name = f"atiende_site_template_{uuid.uuid4().hex[:12]}"
                self._postgres_admin(f'CREATE DATABASE "{name}"')
                self._template = name
                self._migrate(self._postgres_url(name))
            else:
                path = self.folder / "template.sqlite3"
                self._migrate(f"sqlite:///{path}")
                with contextlib.closing(sqlite3.connect(path)) as connection:
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._template = str(path)
        return self._template

    @contextlib.contextmanager
    def database(self, folder: Path) -> Iterator[str]:
        """A fresh migrated database for one site; its URL."""
        template = self._template_ready()
        if self.vendor == "postgresql":
            name = f"atiende_site_{uuid.uuid4().hex[:12]}"
            self._postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            try:
                yield self._postgres_url(name)
            finally:
                # FORCE: a worker killed with SIGKILL may leave its session behind.
                self._postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            path = folder / "atiende.sqlite3"
            shutil.copyfile(template, path)
            yield f"sqlite:///{path}"

    def close(self) -> None:
        if self.vendor == "postgresql" and self._template is not None:
            self._postgres_admin(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
        self._template = None


# --- processes ----------------------------------------------------------------------------


class WorkerProcess:
    """An `atiende worker` subprocess; its output goes to `log_path`."""

    def __init__(self, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when a machine loses power."""
        if self.alive:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGINT: huey's graceful shutdown, which lets the job in hand finish."""
        if self.alive:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Site:
    """One Atiende for subprocesses: its data dir, database URL and environment."""

    data_dir: Path
    database_url: str
    env: dict[str, str]
    processes: list[WorkerProcess | subprocess.Popen[str]] = field(default_factory=list)

    @property
    def redis_url(self) -> str | None:
        return self.env.get("REDIS_URL")

    def set_env(self, **values: str) -> None:
        self.env.update(values)

    def use_smtp(self, host: str, port: int, *, timeout: int = 60) -> None:
        """Mail of this site's processes goes to a real SMTP server."""
        self.set_env(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=host,
            EMAIL_PORT=str(port),
            EMAIL_TIMEOUT=str(timeout),
        )

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """The rows of a read-only query on this site's database, read from the test process
        (cheaper than a subprocess that starts Django)."""
        if self.database_url.startswith("sqlite:///"):
            path = self.database_url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(path)) as connection:
                return list(connection.execute(query).fetchall())
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            return list(connection.execute(query).fetchall())  # a query of the tests

    def run_module(self, module: str, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """`python -m module args...` in this site; its standard output."""
        return _run([sys.executable, "-m", module, *args], self.env, timeout=timeout)

    def popen_module(self, module: str, *args: str) -> subprocess.Popen[str]:
        """`python -m module args...` in this site, in the background (stopped at the end)."""
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    def start_worker(
        self, *, workers: int = 1, clock_ahead: timedelta | None = None, name: str = "worker"
    ) -> WorkerProcess:
        """`atiende worker` in this site. With `clock_ahead` its clock runs that much later
        (libfaketime preloaded: what `faketime` does, but in the worker's own process, so that
        its PID is the worker's and a SIGKILL reaches it)."""
        command = atiende_command("worker", "--workers", str(workers))
        env = dict(self.env)
        if clock_ahead is not None:
            env["LD_PRELOAD"] = libfaketime_required()
            env["FAKETIME"] = f"+{int(clock_ahead.total_seconds())}"
            # Timeouts (sockets, locks) keep counting real seconds.
            env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        log_path = self.data_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(process, log_path)
        self.processes.append(worker)
        return worker

    def queue(self) -> Any:
        """The worker's queue, as the worker sees it: SqliteHuey in the data dir, or RedisHuey
        when the site has REDIS_URL."""
        from huey import RedisHuey, SqliteHuey

        if self.redis_url:
            return RedisHuey("atiende", url=self.redis_url)
        return SqliteHuey("atiende", filename=str(self.data_dir / "queue.sqlite3"))

    def enqueue(self, task_wrapper: Any) -> None:
        """Put a task of ours (e.g. `outbox_deliver_task`) in the worker's queue, with its
        retry settings. It travels by name (module + function): the worker runs its own."""
        queue = self.queue()
        settings = task_wrapper.settings
        queue.task(
            retries=settings.get("default_retries", 0),
            retry_delay=settings.get("default_retry_delay", 0),
        )(task_wrapper.func)()

    def close(self) -> None:
        """Kill what this site still runs (by PID: only our own processes)."""
        for process in self.processes:
            if isinstance(process, WorkerProcess):
                process.kill()
            elif process.poll() is None:
                process.kill()
                process.wait(timeout=10)
