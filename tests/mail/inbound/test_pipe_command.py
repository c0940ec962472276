"""`atiende mail ingest` as a mail server runs it: a real subprocess, the message on standard
input, and an exit code the server acts on (0 taken, 75 try again later, 64 fix the command).
Never a traceback on standard error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from atiende.mail.models import InboundMessage
from atiende.tickets.models import Ticket
from tests.conftest import Cast
from tests.mail.inbound.ingest_support import AUTHSERV_ID, eml
from tests.services.site import REPO_ROOT, site_env

UNREACHABLE = "postgresql://x@127.0.0.1:1/x"

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    """The test database, for another process: it sees what this one committed."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    password = f":{quote(database['PASSWORD'])}" if database.get("PASSWORD") else ""
    return (
        f"postgresql://{quote(database['USER'])}{password}@{database['HOST']}:"
        f"{database['PORT']}/{database['NAME']}"
    )


def run(
    raw: bytes, *args: str, tmp_path: Path, database_url: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **site_env(),
        "DATABASE_URL": database_url or _database_url(),
        "ATIENDE_DATA_DIR": str(tmp_path),
        "ATIENDE_MAIL_AUTHSERV_ID": AUTHSERV_ID,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    return subprocess.run(
        [sys.executable, "-m", "atiende.cli", "mail", *args],
        input=raw,
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )


def _quiet(result: subprocess.CompletedProcess[bytes]) -> str:
    """Standard error, after checking it says a line or so and no traceback."""
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    assert result.stdout == b""
    assert len(stderr.strip().splitlines()) <= 2, stderr
    return stderr


def test_a_message_is_taken_into_the_named_department(cast: Cast, tmp_path: Path) -> None:
    raw = eml(subject="Por el pipe")
    result = run(raw, "ingest", "--department", "soporte-tecnico", tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    _quiet(result)
    row = InboundMessage.objects.get()
    assert row.raw == raw
    assert row.channel == InboundMessage.Channel.PIPE
    assert row.department == cast.soporte
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.department, ticket.customer) == (
        "Por el pipe",
        cast.soporte,
        cast.ana,
    )

    again = run(raw, "ingest", "--department", cast.soporte.name, tmp_path=tmp_path)
    assert again.returncode == 0
    _quiet(again)
    assert InboundMessage.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_a_quarantined_message_is_taken_too(cast: Cast, tmp_path: Path) -> None:
    result = run(eml(sender="nuevo@example.org"), "ingest", tmp_path=tmp_path)
    assert result.returncode == 0
    _quiet(result)
    assert InboundMessage.objects.get().outcome == InboundMessage.Outcome.QUARANTINED


@pytest.mark.parametrize("args", [("ingest", "--department", "no-existe"), ("ingest", "--nope")])
def test_a_wrong_command_is_a_usage_error(
    cast: Cast, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run(eml(), *args, tmp_path=tmp_path)
    assert result.returncode == 64
    assert "Traceback" not in result.stderr.decode()
    assert not InboundMessage.objects.exists()


def test_a_database_that_cannot_be_reached_asks_the_server_to_retry(tmp_path: Path) -> None:
    result = run(eml(), "ingest", tmp_path=tmp_path, database_url=UNREACHABLE)
    assert result.returncode == 75
    assert "database" in _quiet(result)
