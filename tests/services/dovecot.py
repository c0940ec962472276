"""A real Dovecot IMAP server on loopback, in a temporary folder, for the mailbox poller's tests.

Debian's `dovecot` (packages `dovecot-core` and `dovecot-imapd`), started in the foreground as
a subprocess with a configuration of its own (nothing of /etc/dovecot is read) and stopped by
the PID in `<base_dir>/master.pid`. Users live in a passwd-file that Dovecot reads again when
it changes, so `user_add()` works while it runs. Mail is kept in Maildirs owned by the
`dovecot` user: Dovecot refuses to log in as root, and its login processes run as `dovenull`.
Run by a user other than root, everything runs as that user instead (a rootless Dovecot).

Two listeners: plain IMAP with STARTTLS on `port`, IMAPS on `tls_port`, with a certificate for
127.0.0.1 signed by a CA made for the run (`ca_file`, which a test trusts through
SSL_CERT_FILE). Without `dovecot` the test is skipped loudly, except under CI (env CI set),
where it fails: CI installs it.

Tests put messages in with IMAP APPEND and read flags back, through `imaplib`, as any mail
client would.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.services.common import free_port, program_required, under_ci

USER = "soporte@example.com"
PASSWORD = "secret"
IMAP_BINARY = Path("/usr/lib/dovecot/imap")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
CLIENT_TIMEOUT = 10.0

_APPENDUID = re.compile(rb"APPENDUID \d+ (\d+)")
# (\HasNoChildren) "." "Soporte t&AOk-cnico"  ->  the name, as sent (quoted or not)
_LIST_NAME = re.compile(rb'^\([^)]*\) (?:"(?:[^"\\]|\\.)*"|NIL) (.+)$')
_FETCH_FLAGS = re.compile(rb"UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)")


def _imap_binary_required() -> None:
    if IMAP_BINARY.exists():
        return
    reason = f"{IMAP_BINARY} is not installed here (Debian package `dovecot-imapd`)"
    if under_ci():
        pytest.fail(f"{reason}; CI must install it", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


class DovecotServer:
    """Dovecot on 127.0.0.1:`port` (plain, STARTTLS offered) and :`tls_port` (IMAPS)."""

    def __init__(self) -> None:
        # Debian puts it in /usr/sbin, which a user's PATH often lacks.
        self.binary = shutil.which(
            "dovecot", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])
        ) or program_required("dovecot", package="dovecot-imapd")
        _imap_binary_required()
        self.openssl = program_required("openssl", package="openssl")
        self.host = "127.0.0.1"
        self.port = 0
        self.tls_port = 0
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.passwords: dict[str, str] = {}
        if os.geteuid() == 0:
            # Dovecot will not give a session uid 0, nor run its login processes as root.
            self.mail_user, self.mail_group = "dovecot", "dovecot"
            self.internal_user, self.login_user = "dovecot", "dovenull"
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            self.mail_user, self.mail_group = me, grp.getgrgid(os.getegid()).gr_name
            self.internal_user = self.login_user = me
        self.internal_group = self.mail_group

    # --- paths -------------------------------------------------------------------------------

    def _path(self, *parts: str) -> Path:
        assert self.folder is not None, "the server is not started"
        return self.folder.joinpath(*parts)

    @property
    def ca_file(self) -> Path:
        """The CA that signed the server's certificate: trust it to talk TLS to the server."""
        return self._path("tls", "ca.pem")

    @property
    def log_file(self) -> Path:
        return self._path("dovecot.log")

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    # --- running -----------------------------------------------------------------------------

    def start(self) -> None:
        # Not pytest's tmp_path: its folders are private to root, and the `dovecot` and
        # `dovenull` users must reach the mail and the sockets.
        self.folder = Path(tempfile.mkdtemp(prefix="atiende-dovecot-"))
        self.folder.chmod(0o755)
        for name in ("run", "state", "mail", "tls"):
            self._path(name).mkdir()
        self._certificates()
        self._path("users").write_text("")
        for username, password in self.passwords.items():
            self._users_append(username, password)
        self.port, self.tls_port = free_port(), free_port()
        self._path("dovecot.conf").write_text(self._config())
        if os.geteuid() == 0:
            shutil.chown(self._path("mail"), self.mail_user, self.mail_group)
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self._path("dovecot.conf"))],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._path("stderr.log").open("wb"),
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._greets():
            if self.process.poll() is not None or time.monotonic() > deadline:
                stderr = self._path("stderr.log").read_text(errors="replace")
                self.stop(remove=False)
                raise RuntimeError(
                    f"dovecot did not start on port {self.port}:\n{stderr}\n{self.log()}"
                )
            time.sleep(0.02)  # waiting for a process to listen, not for time to pass

    def _certificates(self) -> None:
        tls = self._path("tls")

        def openssl(*args: str) -> None:
            subprocess.run(
                [self.openssl, *args], cwd=tls, check=True, capture_output=True, timeout=30
            )

        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
        openssl(
            "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Atiende test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        openssl(
            "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
        )  # fmt: skip
        (tls / "server.ext").write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n"
        )
        openssl(
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        )  # fmt: skip

    def _config(self) -> str:
        folder = self._path()
        rootless = os.geteuid() != 0
        # Rootless, nothing can chroot: the login and anvil processes stay where they are.
        no_chroot = "  chroot =\n" if rootless else ""
        return f"""\
base_dir = {folder}/run
state_dir = {folder}/state
protocols = imap
listen = 127.0.0.1
service imap-login {{
{no_chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
{no_chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
ssl = yes
ssl_cert = <{folder}/tls/server.pem
ssl_key = <{folder}/tls/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = {folder}/users
}}
userdb {{
  driver = static
  args = uid={self.mail_user} gid={self.mail_group} home={folder}/mail/%u
}}
mail_location = maildir:~/Maildir
log_path = {folder}/dovecot.log
default_internal_user = {self.internal_user}
default_internal_group = {self.internal_group}
default_login_user = {self.login_user}
first_valid_uid = {min(100, pwd.getpwnam(self.mail_user).pw_uid)}
"""

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def _pid(self) -> int | None:
        try:
            return int(self._path("run", "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self, *, remove: bool = True) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            pid = self._pid() or process.pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        if remove and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    # --- users -------------------------------------------------------------------------------

    def user_add(self, username: str, password: str) -> None:
        """A mail user. Best added before `start()`: a running Dovecot reads its passwd-file
        again at most once a second, so here this waits until the new user can log in."""
        if username in self.passwords:
            raise ValueError(f"{username} exists already")
        self.passwords[username] = password
        if self.folder is None:
            return
        self._users_append(username, password)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with self.client(username):
                    return
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # waiting for Dovecot to see the file, not for time to pass

    def _users_append(self, username: str, password: str) -> None:
        with self._path("users").open("a", encoding="utf-8") as users:
            users.write(f"{username}:{{PLAIN}}{password}\n")

    # --- what a mail client does -------------------------------------------------------------

    @contextlib.contextmanager
    def client(self, username: str = USER) -> Iterator[imaplib.IMAP4]:
        """A logged-in plain IMAP session of `username`."""
        client = imaplib.IMAP4(self.host, self.port, timeout=CLIENT_TIMEOUT)
        try:
            password = self.passwords[username]
            if password.isascii():
                client.login(username, password)
            else:
                credentials = f"\0{username}\0{password}".encode()
                client.authenticate("PLAIN", lambda _challenge: credentials)
            yield client
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def folder_create(self, folder: str, *, username: str = USER) -> None:
        """`folder` given as sent on the wire (modified UTF-7, quoted if it has spaces)."""
        with self.client(username) as client:
            typ, data = client.create(folder)
            assert typ == "OK", data

    def append(
        self,
        raw: bytes,
        *,
        username: str = USER,
        folder: str = "INBOX",
        flags: Iterable[str] = (),
    ) -> int:
        """Put a message in `folder` (as a mail server's delivery would); returns its UID."""
        with self.client(username) as client:
            wanted = f"({' '.join(flags)})" if flags else None
            typ, data = client.append(folder, wanted, None, raw)
            assert typ == "OK", data
            found = _APPENDUID.search(data[-1] if isinstance(data[-1], bytes) else b"")
            assert found, data
            return int(found.group(1))

    def flags(self, *, username: str = USER, folder: str = "INBOX") -> dict[int, set[str]]:
        """Every message of `folder`, by UID, with its flags (read without changing any)."""
        with self.client(username) as client:
            typ, data = client.select(folder, readonly=True)
            assert typ == "OK", data
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS)")
            assert typ == "OK", data
        result: dict[int, set[str]] = {}
        for line in data:
            if not isinstance(line, bytes):
                continue
            found = _FETCH_FLAGS.search(line)
            if found:
                uid = found.group(1) or found.group(4)
                flags = found.group(2) if found.group(2) is not None else found.group(3)
                result[int(uid)] = set(flags.decode().split())
        return result

    def empty(self, *, username: str = USER) -> None:
        """Every message of the user's INBOX deleted, every other folder removed."""
        with self.client(username) as client:
            typ, listed = client.list()
            assert typ == "OK", listed
            for line in listed:
                found = _LIST_NAME.match(line) if isinstance(line, bytes) else None
                if found and found.group(1).strip(b'"').upper() != b"INBOX":
                    client.delete(found.group(1).decode())
            typ, selected = client.select("INBOX")
            assert typ == "OK", selected
            if int(selected[0] or 0):
                client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
                client.expunge()
