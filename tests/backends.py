"""Pytest plugin: which database the suite runs on, and a clean environment for every run.

Loaded with `-p tests.backends` (pyproject's addopts), so it is imported before pytest-django
reads the Django settings. It adds `--backend=sqlite|postgres` (default sqlite).

With `--backend=postgres` the suite uses `TEST_DATABASE_URL` when it is set; otherwise this
plugin starts a throw-away PostgreSQL of its own (temporary folder, free loopback port,
fsync=off), once per run, and stops it when the run ends. Under pytest-xdist only the controller
starts it; the workers inherit its URL through the environment. pytest-django then creates one
test database per worker (`test_postgres_gw0`, `test_postgres_gw1`, ...).

When PostgreSQL cannot be had (no `initdb`), every test is skipped with the reason, and the
reason is printed in the header and the summary. Under CI (`CI` set) it is an error instead:
CI installs PostgreSQL, so a missing one there is a broken machine, not a reason to go green.

Every run also gets a fresh temporary `ATIENDE_DATA_DIR` (unless one is set already), so tests
never touch ./var, and a fixed `SECRET_KEY`.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

TEST_SECRET_KEY = "atiende-tests-fixed-secret-key-not-for-production-0123456789"

# Passed from the controller to xdist workers through the environment.
_ENV_SKIP = "_ATIENDE_TEST_BACKEND_UNAVAILABLE"
_ENV_OWNED_DATA_DIR = "_ATIENDE_TEST_OWNED_DATA_DIR"
# A URL that refuses every connection: used when PostgreSQL is unavailable, so that nothing can
# quietly run on another database under the postgres label.
_UNREACHABLE_URL = "postgresql://unavailable@127.0.0.1:1/unavailable"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("atiende", "Atiende test backends")
    group.addoption(
        "--backend",
        action="store",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="Database the suite runs on (default: sqlite). postgres uses TEST_DATABASE_URL "
        "or starts a temporary PostgreSQL server.",
    )


def _is_xdist_worker() -> bool:
    return bool(os.environ.get("PYTEST_XDIST_WORKER"))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class _State:
    backend: str = "sqlite"
    skip_reason: str = ""
    server: _PostgresServer | None = None
    data_dir_to_remove: str | None = None


_state = _State()


# --- PostgreSQL -----------------------------------------------------------------------------


def _find_pg_bin(name: str) -> str | None:
    """`name` on PATH, else in Debian's versioned folders (its initdb is not on PATH)."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> float:
        try:
            return float(Path(path).parts[-3])
        except (ValueError, IndexError):
            return 0.0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _PostgresServer:
    """One PostgreSQL cluster in a temporary folder, run as `postgres` when we are root."""

    user = "atiende"

    def __init__(self, initdb: str, pg_ctl: str, settings: str = "") -> None:
        """`settings`: more `-c name=value` options for the server (the benchmarks')."""
        self.initdb = initdb
        self.settings = settings
        self.pg_ctl = pg_ctl
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="atiende-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = 0
        self.running = False

    def _cmd(self, *args: str) -> list[str]:
        # initdb and postgres refuse to run as root.
        return ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            self._cmd(*args), capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n"
                f"{result.stderr}\n{log}"
            )

    def start(self) -> str:
        if self.as_root:
            shutil.chown(self.dir, user="postgres")
        locale = "C.UTF-8" if _has_c_utf8() else "C"
        self._run(
            self.initdb, "-D", str(self.data), "-A", "trust", "-U", self.user,
            "-E", "UTF8", f"--locale={locale}",
        )  # fmt: skip
        last_error: Exception | None = None
        for _attempt in range(3):  # the free port may be taken between probe and start
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                f"-c max_connections=200 {self.settings}"
            ).strip()
            try:
                self._run(
                    self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                    "-o", options, "start",
                )  # fmt: skip
            except RuntimeError as error:
                last_error = error
                continue
            self.running = True
            return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"
        raise RuntimeError(f"PostgreSQL did not start: {last_error}")

    def stop(self) -> None:
        if self.running:
            self.running = False
            try:
                self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                sys.stderr.write(f"atiende tests: stopping PostgreSQL failed: {error}\n")
        shutil.rmtree(self.dir, ignore_errors=True)


def _has_c_utf8() -> bool:
    try:
        result = subprocess.run(
            ["locale", "-a"], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(line.lower() in {"c.utf8", "c.utf-8"} for line in result.stdout.split())


def _postgres_unavailable_reason() -> str | None:
    if not _find_pg_bin("initdb") or not _find_pg_bin("pg_ctl"):
        return (
            "PostgreSQL is not installed here (no `initdb`/`pg_ctl` on PATH nor in "
            "/usr/lib/postgresql/*/bin). Install it (`apt-get install postgresql`) or set "
            "TEST_DATABASE_URL."
        )
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, but there is no `postgres` user to run initdb as."
        if not shutil.which("runuser"):
            return "running as root, but `runuser` is missing to run initdb as `postgres`."
    return None


def _setup_postgres(config: pytest.Config) -> None:
    if os.environ.get(_ENV_SKIP):  # the controller could not get one: workers skip too
        _state.skip_reason = os.environ[_ENV_SKIP]
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if _is_xdist_worker():
            raise pytest.UsageError(
                "atiende tests: xdist worker without TEST_DATABASE_URL; the controller "
                "should have started PostgreSQL and passed its URL down."
            )
        reason = _postgres_unavailable_reason()
        if reason:
            _fail_or_skip(reason)
            return
        server = _PostgresServer(_find_pg_bin("initdb") or "", _find_pg_bin("pg_ctl") or "")
        _state.server = server
        config.add_cleanup(server.stop)
        atexit.register(server.stop)  # also when the run dies before pytest's cleanup
        try:
            url = server.start()
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            server.stop()
            raise pytest.UsageError(f"atiende tests: {error}") from error
        # Workers inherit the environment: they use this server and never start their own.
        os.environ["TEST_DATABASE_URL"] = url
    os.environ["DATABASE_URL"] = url


def _fail_or_skip(reason: str) -> None:
    if _truthy(os.environ.get("CI")):
        raise pytest.UsageError(f"--backend=postgres: {reason} (an error under CI)")
    _state.skip_reason = reason
    os.environ[_ENV_SKIP] = reason
    os.environ["DATABASE_URL"] = _UNREACHABLE_URL
    _banner(f"SKIPPING EVERY TEST: --backend=postgres, but {reason}")


def _banner(message: str) -> None:
    line = "!" * 100
    sys.stderr.write(f"\n{line}\n!! atiende tests: {message}\n{line}\n\n")


# --- Hooks ----------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Runs before pytest-django's hook of the same name, which imports the settings."""
    options = parser.parse_known_args(args)
    _state.backend = getattr(options, "backend", None) or "sqlite"

    os.environ["SECRET_KEY"] = TEST_SECRET_KEY
    os.environ.pop("SECRET_KEY_FILE", None)
    # Tasks run inline in the test process; tests of the real worker start it themselves
    # with this variable unset.
    os.environ.setdefault("ATIENDE_TASKS_IMMEDIATE", "1")
    os.environ.pop("DATABASE_URL_FILE", None)

    if not os.environ.get("ATIENDE_DATA_DIR"):
        data_dir = tempfile.mkdtemp(prefix="atiende-test-data-")
        os.environ["ATIENDE_DATA_DIR"] = data_dir
        os.environ[_ENV_OWNED_DATA_DIR] = data_dir
        _state.data_dir_to_remove = data_dir
        early_config.add_cleanup(_remove_data_dir)
    elif _is_xdist_worker() and os.environ.get(_ENV_OWNED_DATA_DIR) == os.environ.get(
        "ATIENDE_DATA_DIR"
    ):
        # The controller's temporary dir: each worker gets its own folder in it.
        worker_dir = Path(os.environ["ATIENDE_DATA_DIR"]) / os.environ["PYTEST_XDIST_WORKER"]
        worker_dir.mkdir(exist_ok=True)
        os.environ["ATIENDE_DATA_DIR"] = str(worker_dir)

    if _state.backend == "postgres":
        _setup_postgres(early_config)
    else:
        # Never whatever DATABASE_URL the shell had: sqlite means sqlite.
        data_dir = os.environ["ATIENDE_DATA_DIR"]
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(data_dir).resolve() / 'test.sqlite3'}"


def _remove_data_dir() -> None:
    if _state.data_dir_to_remove:
        shutil.rmtree(_state.data_dir_to_remove, ignore_errors=True)
        _state.data_dir_to_remove = None


def pytest_report_header(config: pytest.Config) -> list[str]:
    url = os.environ.get("DATABASE_URL", "")
    lines = [f"atiende: backend={_state.backend} DATABASE_URL={url}"]
    if _state.server is not None:
        lines.append(f"atiende: started PostgreSQL in {_state.server.dir}")
    if _state.skip_reason:
        lines.append(f"atiende: !!! SKIPPING EVERY TEST: {_state.skip_reason}")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _state.skip_reason:
        marker = pytest.mark.skip(reason=f"--backend=postgres unavailable: {_state.skip_reason}")
        for item in items:
            item.add_marker(marker)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _state.skip_reason:
        terminalreporter.section("atiende: PostgreSQL unavailable", sep="!", red=True, bold=True)
        terminalreporter.line(
            f"Every test was SKIPPED, nothing ran on PostgreSQL: {_state.skip_reason}",
            red=True,
            bold=True,
        )
