"""`atiende token create|list|revoke`: the secret is printed once, alone on standard output,
and authenticates; lists never show a secret; a refusal is one clear line and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from atiende.api.models import ApiToken
from atiende.api.tokens import token_authenticate, token_create
from tests.conftest import Cast


def run(*args: str) -> tuple[str, str]:
    """`atiende token ARGS` in this process: (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class TestCreate:
    def test_prints_the_secret_alone_on_stdout_and_a_note_on_stderr(self, cast: Cast) -> None:
        out, err = run("create", "--user", cast.agent.email)

        assert out.count("\n") == 1
        secret = out.strip()
        token = ApiToken.objects.get(user=cast.agent)
        assert secret.startswith(token.prefix)
        assert (token.name, token.scope, token.created_by) == ("CLI", "read", None)
        assert secret not in err
        assert token.prefix in err and "cannot be shown again" in err
        assert "Authorization: Bearer" in err

    def test_the_printed_secret_authenticates_and_only_its_sha256_is_stored(
        self, cast: Cast
    ) -> None:
        out, _err = run("create", "--user", cast.agent.email, "--scope", "write", "--name", "CI")
        secret = out.strip()

        token = token_authenticate(secret)

        assert token is not None
        assert (token.user, token.name, token.scope) == (cast.agent, "CI", "write")
        assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (token.digest, token.prefix, token.name)

    def test_the_address_is_matched_whatever_its_case(self, cast: Cast) -> None:
        run("create", "--user", "  AGENTE@Example.COM ")

        assert ApiToken.objects.filter(user=cast.agent).count() == 1

    def test_an_administrator_may_hold_an_admin_token(self, cast: Cast) -> None:
        out, _err = run("create", "--user", cast.admin.email, "--scope", "admin")

        token = token_authenticate(out.strip())
        assert token is not None and token.allows("admin")

    @pytest.mark.parametrize(
        ("who", "scope", "says"),
        [
            ("nadie@example.com", "read", "No user with the e-mail address 'nadie@example.com'."),
            ("ana@example.com", "read", "API tokens are for active staff users."),
            ("agente@example.com", "admin", "Only an administrator can hold an admin token."),
        ],
    )
    def test_a_refusal_is_a_command_error_and_creates_nothing(
        self, cast: Cast, who: str, scope: str, says: str
    ) -> None:
        with pytest.raises(CommandError, match=says.replace(".", r"\.").replace("(", r"\(")):
            run("create", "--user", who, "--scope", scope)

        assert not ApiToken.objects.exists()

    def test_an_inactive_staff_member_gets_no_token(self, cast: Cast) -> None:
        cast.agent.is_active = False
        cast.agent.save(update_fields=["is_active"])

        with pytest.raises(CommandError, match="API tokens are for active staff users"):
            run("create", "--user", cast.agent.email)

    def test_an_unknown_scope_is_refused_by_the_command_line(self, cast: Cast) -> None:
        with pytest.raises(CommandError, match="invalid choice: 'root'"):
            run("create", "--user", cast.agent.email, "--scope", "root")

        assert not ApiToken.objects.exists()


class TestList:
    def test_one_line_per_token_never_a_secret(self, cast: Cast) -> None:
        used, used_secret = token_create(
            user=cast.agent, name="Monitor", scope="write", created_by=cast.agent
        )
        token_authenticate(used_secret)
        revoked, revoked_secret = token_create(
            user=cast.agent_ops, name="Viejo", scope="read", created_by=None
        )
        run("revoke", revoked.prefix)

        out, _err = run("list")

        lines = out.splitlines()
        assert lines[0].split() == [
            "PREFIX",
            "USER",
            "SCOPE",
            "CREATED",
            "LAST",
            "USED",
            "STATE",
            "NAME",
        ]
        assert len(lines) == 3
        assert used_secret not in out and revoked_secret not in out
        # Newest first.
        newest, older = lines[1], lines[2]
        assert newest.startswith(revoked.prefix)
        assert "ops@example.com" in newest and " read " in newest
        assert " never " in newest and " revoked 20" in newest and newest.endswith("Viejo")
        assert older.startswith(used.prefix)
        assert "agente@example.com" in older and " write " in older
        assert " never " not in older and " active " in older and older.endswith("Monitor")

    def test_for_one_user(self, cast: Cast) -> None:
        mine, _ = token_create(user=cast.agent, name="Mío", scope="read", created_by=None)
        theirs, _ = token_create(user=cast.admin, name="Suyo", scope="read", created_by=None)

        out, _err = run("list", "--user", cast.agent.email)

        assert mine.prefix in out and theirs.prefix not in out

    def test_none_says_so_on_stderr(self, cast: Cast) -> None:
        out, err = run("list")

        assert out == ""
        assert "No API tokens." in err

    def test_an_unknown_user_is_a_command_error(self, cast: Cast) -> None:
        with pytest.raises(CommandError, match="No user with the e-mail address"):
            run("list", "--user", "nadie@example.com")


class TestRevoke:
    def test_revokes_the_token_with_that_prefix_whoever_holds_it(self, cast: Cast) -> None:
        token, secret = token_create(user=cast.agent, name="Monitor", scope="read", created_by=None)

        out, _err = run("revoke", token.prefix)

        assert f"Token {token.prefix}… (“Monitor”, of agente@example.com) revoked." in out
        assert token_authenticate(secret) is None
        token.refresh_from_db()
        assert token.revoked_at is not None

    def test_takes_the_prefix_as_the_console_shows_it(self, cast: Cast) -> None:
        token, secret = token_create(user=cast.admin, name="Admin", scope="admin", created_by=None)

        run("revoke", f"{token.prefix}…")

        assert token_authenticate(secret) is None

    def test_a_revoked_token_stays_as_it_was(self, cast: Cast) -> None:
        token, _ = token_create(user=cast.agent, name="Monitor", scope="read", created_by=None)
        run("revoke", token.prefix)
        token.refresh_from_db()
        first = token.revoked_at

        out, _err = run("revoke", token.prefix)

        assert "was already revoked" in out
        token.refresh_from_db()
        assert token.revoked_at == first

    def test_an_unknown_prefix_is_a_command_error(self, cast: Cast) -> None:
        with pytest.raises(CommandError, match="No token with the prefix 'atn_nothere'"):
            run("revoke", "atn_nothere")


class TestTheRealCommand:
    """`atiende token` in its own process: what an operator's shell sees."""

    def _run(self, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        database = connection.settings_dict
        if connection.vendor == "sqlite":
            url = f"sqlite:///{database['NAME']}"
        else:
            user = database["USER"] or ""
            password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
            url = (
                f"postgresql://{user}{password}@{database['HOST']}:{database['PORT']}/"
                f"{database['NAME']}"
            )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "atiende.settings",
            "DATABASE_URL": url,
            "SECRET_KEY": "x" * 50,
            "ATIENDE_DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": os.pathsep.join(sys.path),
            "LOG_LEVEL": "WARNING",
        }
        return subprocess.run(
            [sys.executable, "-m", "atiende.cli", "token", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def test_create_prints_a_working_secret_and_a_refusal_exits_1_without_traceback(
        self, transactional_db: None, cast: Cast, tmp_path: Path
    ) -> None:
        created = self._run(tmp_path, "create", "--user", cast.agent.email, "--name", "Shell")
        refused = self._run(tmp_path, "create", "--user", cast.ana.email)

        assert created.returncode == 0, created.stderr
        token = token_authenticate(created.stdout.strip())
        assert token is not None and token.name == "Shell"
        assert refused.returncode == 1
        assert refused.stdout == ""
        assert "API tokens are for active staff users." in refused.stderr
        assert "Traceback" not in refused.stderr
