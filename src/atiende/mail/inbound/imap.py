"""Polling a department's IMAP mailbox: every unseen message goes through the inbound pipeline.

For each unseen message, oldest first: fetch its raw bytes without marking it
(`BODY.PEEK[]`), hand them to `inbound_receive()`, and only after that call returned — its
transaction committed — mark the message \\Seen on the server. A worker that dies between the
two leaves the message unseen: the next poll fetches it again and the dedupe of
`inbound_receive()` (sha256 of the raw bytes) adds nothing. Nothing is ever deleted or moved on
the server; the mailbox stays the customer-visible record of what arrived.

A message whose ingest fails is logged and left unseen, and the poll goes on with the next one.
It is tagged with the keyword `$AtiendeFailed` (where the server keeps keywords), and tagged
messages are tried after the fresh ones, so a few messages that keep failing cannot take every
place of a bounded poll and starve the mail behind them. A database that is down is different:
nothing can be stored, so the poll stops and raises, marking nothing.

A mailbox that cannot be reached, refuses the login, or lacks its folder never raises: the
reason goes to `Mailbox.last_error` (and the log), for an administrator to see. A successful
poll sets `last_polled_at` and clears `last_error`.

`mailboxes_poll_due()` is the periodic job's work. Each due mailbox is claimed with a
conditional UPDATE of `last_polled_at`, so any number of workers may run it at once and no
mailbox is polled by two of them at the same time; a long poll renews its claim as it goes.
"""

from __future__ import annotations

import base64
import imaplib
import logging
import re
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import Error as DjangoDatabaseError
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Func, Q, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from atiende.core.clock import now
from atiende.mail.inbound.ingest import inbound_receive
from atiende.mail.models import InboundMessage, Mailbox

logger = logging.getLogger(__name__)

# Every socket operation (connect, TLS handshake, each read and write) gives up after this.
TIMEOUT_SECONDS = 30.0
# Put on a message whose ingest failed: it is tried again, after the fresh ones.
FAILED_KEYWORD = "$AtiendeFailed"
# A poll that runs long renews its claim on the mailbox at least this often.
CLAIM_RENEW_SECONDS = 10.0
LAST_ERROR_MAX = 2000

IMAP_ERRORS: tuple[type[BaseException], ...] = (imaplib.IMAP4.error, OSError)

_FETCH_UID = re.compile(rb"\bUID (\d+)\b")


class MailboxError(imaplib.IMAP4.error):
    """The server answered something the poll cannot go on with (a refused SELECT or STORE,
    a response it cannot read), or the mailbox's settings cannot be sent as they are."""


class MessageUnreadable(MailboxError):
    """The server would not give one message (FETCH answered NO): that message fails, the
    poll goes on."""


@dataclass(frozen=True)
class PollResult:
    mailbox_id: int
    found: int = 0  # unseen messages in the folder when the poll began
    received: int = 0  # handed to inbound_receive(), which returned
    marked: int = 0  # of those, marked \Seen on the server
    failed: int = 0  # ingest raised: left unseen, tried again next time
    error: str = ""  # why the poll stopped early ("" when it completed)

    @property
    def ok(self) -> bool:
        return not self.error


# --- the protocol ---------------------------------------------------------------------------


def tls_context() -> ssl.SSLContext:
    """The system's trusted CAs, certificate and host name checked (Python's defaults)."""
    return ssl.create_default_context()


def _check_printable(value: str, what: str) -> None:
    # Anything below a space would end the command line early: a CR LF in a stored password
    # must not become a second IMAP command.
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise MailboxError(f"the {what} contains control characters")


def imap_quote(value: str) -> str:
    """An IMAP quoted string (RFC 3501 `quoted`) of printable `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_utf7(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 section 5.1.3): "Soporte técnico"
    is sent as "Soporte t&AOk-cnico"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if mailbox.security == Mailbox.Security.TLS:
        return imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=tls_context(), timeout=TIMEOUT_SECONDS
        )
    client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    if mailbox.security == Mailbox.Security.NONE:
        return client
    try:
        # Never falls back to plain text: a server without STARTTLS is an error.
        client.starttls(ssl_context=tls_context())
    except BaseException:
        _close(client, logout=False)
        raise
    return client


def _login(client: imaplib.IMAP4, mailbox: Mailbox) -> None:
    _check_printable(mailbox.username, "user name")
    _check_printable(mailbox.password, "password")
    if mailbox.username.isascii() and mailbox.password.isascii():
        client.login(imap_quote(mailbox.username), mailbox.password)  # it quotes the password
        return
    # LOGIN takes ASCII only; SASL PLAIN carries UTF-8 (RFC 4616).
    credentials = f"\0{mailbox.username}\0{mailbox.password}".encode()
    client.authenticate("PLAIN", lambda _challenge: credentials)


def _select(client: imaplib.IMAP4, folder: str) -> None:
    _check_printable(folder, "folder name")
    typ, data = client.select(imap_quote(imap_utf7(folder)))
    if typ != "OK":
        raise MailboxError(f"cannot open the folder {folder!r}: {_text(data)}")


def _search(client: imaplib.IMAP4, *criteria: str) -> list[bytes]:
    typ, data = client.uid("SEARCH", *criteria)
    if typ != "OK":
        raise MailboxError(f"the search for unseen messages failed: {_text(data)}")
    return [uid for line in data if isinstance(line, bytes) for uid in line.split()]


def _unseen(client: imaplib.IMAP4, limit: int) -> tuple[int, list[bytes]]:
    """How many messages are unseen, and the UIDs to take now: the fresh ones oldest first,
    then those that failed before, `limit` at most."""
    fresh = _search(client, "UNSEEN", "UNKEYWORD", FAILED_KEYWORD)
    failed_before = _search(client, "UNSEEN", "KEYWORD", FAILED_KEYWORD)
    ordered = sorted(fresh, key=int) + sorted(failed_before, key=int)
    return len(ordered), ordered[:limit]


def fetch_cap() -> int:
    """The most bytes read of one message: one more than the inbound size limit, so a larger
    message arrives cut at that size, is seen as too large and goes to quarantine, instead of
    filling the worker's memory."""
    return int(settings.ATIENDE_MAIL_MAX_MB) * 1024 * 1024 + 1


def _fetch(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    """The raw message (PEEK: fetching does not mark it), or None when it is gone."""
    typ, data = client.uid("FETCH", uid.decode("ascii"), f"(BODY.PEEK[]<0.{fetch_cap()}>)")
    if typ != "OK":
        raise MessageUnreadable(f"the server refused to give it: {_text(data)}")
    for item in data:
        # ( b'7 (UID 31 BODY[]<0> {1234}', b'<the message>' ); other lines may be unsolicited
        # FETCH responses about flags that another session changed.
        if isinstance(item, tuple) and len(item) == 2:
            header, body = item
            found = _FETCH_UID.search(header)
            if found and found.group(1) == uid and b"BODY[]" in header:
                return bytes(body)
    return None


def _store(client: imaplib.IMAP4, uid: bytes, change: str, flags: str) -> bool:
    typ, _data = client.uid("STORE", uid.decode("ascii"), change, f"({flags})")
    return typ == "OK"


def _mark_failed(client: imaplib.IMAP4, uid: bytes) -> None:
    """Best effort: a server that keeps no keywords tries it again in UID order instead."""
    try:
        _store(client, uid, "+FLAGS.SILENT", FAILED_KEYWORD)
    except imaplib.IMAP4.abort:
        raise  # the connection is gone
    except imaplib.IMAP4.error as error:
        logger.debug("could not tag message %s as failed: %s", uid.decode("ascii"), error)


def _mark_seen(client: imaplib.IMAP4, uid: bytes) -> None:
    if not _store(client, uid, "+FLAGS.SILENT", "\\Seen"):
        # Unmarked, it would be fetched again by every poll and hold a place in each.
        raise MailboxError(f"the server refused to mark message {uid.decode('ascii')} as seen")


def _close(client: imaplib.IMAP4, *, logout: bool) -> None:
    """LOGOUT after a poll that went well; after an error only close the socket (a server
    that stopped answering would make a LOGOUT wait for the whole timeout again)."""
    try:
        if logout:
            client.logout()
        else:
            client.shutdown()
    except IMAP_ERRORS as error:
        logger.debug("closing the IMAP session failed: %s", error)


def _text(data: object) -> str:
    if isinstance(data, list | tuple):
        data = data[-1] if data else ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


def _describe(error: BaseException) -> str:
    if isinstance(error, imaplib.IMAP4.error) and error.args:
        return _text(error.args[0])
    return str(error) or type(error).__name__


# --- the database -----------------------------------------------------------------------------


def _database_available() -> bool:
    """Whether the database answers now (after an error on one message: was it the message,
    or is the database gone?). Outside a transaction a broken connection is dropped first, so
    a database that is back answers on a new one."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DjangoDatabaseError:
        return False
    return True


def _mailbox_update(mailbox: Mailbox, **values: object) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(**values)
    for name, value in values.items():
        setattr(mailbox, name, value)


def _record_error(mailbox: Mailbox, text: str) -> None:
    _mailbox_update(mailbox, last_error=text[:LAST_ERROR_MAX])


# --- polling -----------------------------------------------------------------------------------


def mailbox_poll(*, mailbox: Mailbox, limit: int = 100) -> PollResult:
    """Bring in up to `limit` unseen messages of the mailbox; see the module's docstring.

    Raises only when the database is unavailable. Must run outside a transaction: a message is
    marked seen once `inbound_receive()` returned, which must mean that it committed.
    """
    found = received = marked = failed = 0
    stage = f"connecting to {mailbox.host}:{mailbox.port} ({mailbox.security})"
    client: imaplib.IMAP4 | None = None
    completed = False
    renewed = time.monotonic()
    renew_every = min(CLAIM_RENEW_SECONDS, mailbox.poll_seconds / 2)
    try:
        client = _connect(mailbox)
        stage = f"logging in as {mailbox.username}"
        _login(client, mailbox)
        stage = f"opening the folder {mailbox.folder}"
        _select(client, mailbox.folder)
        stage = "searching for unseen messages"
        found, uids = _unseen(client, limit)
        for uid in uids:
            stage = f"reading message {uid.decode('ascii')}"
            try:
                raw = _fetch(client, uid)
            except MessageUnreadable as error:
                logger.warning(
                    "mailbox %s (%s): message %s: %s; left unseen",
                    mailbox.pk,
                    mailbox,
                    uid.decode("ascii"),
                    _describe(error),
                )
                taken = False
            else:
                if raw is None:
                    continue  # expunged since the search
                taken = _receive(mailbox, uid, raw)
            if taken:
                received += 1
                stage = f"marking message {uid.decode('ascii')} as seen"
                _mark_seen(client, uid)
                marked += 1
            else:
                failed += 1
                _mark_failed(client, uid)
            if time.monotonic() - renewed >= renew_every:
                _mailbox_update(mailbox, last_polled_at=now())  # still ours
                renewed = time.monotonic()
        completed = True
    except IMAP_ERRORS as error:
        text = f"{stage}: {_describe(error)}"
        logger.warning("mailbox %s (%s): %s", mailbox.pk, mailbox, text)
        _record_error(mailbox, text)
        return PollResult(mailbox.pk, found, received, marked, failed, error=text)
    finally:
        if client is not None:
            _close(client, logout=completed)
    _mailbox_update(mailbox, last_polled_at=now(), last_error="")
    if received or failed:
        logger.info(
            "mailbox %s (%s): %s received, %s failed, %s more unseen",
            mailbox.pk,
            mailbox,
            received,
            failed,
            max(found - received - failed, 0),
        )
    return PollResult(mailbox.pk, found, received, marked, failed)


def _receive(mailbox: Mailbox, uid: bytes, raw: bytes) -> bool:
    """Hand one message to the pipeline; False (logged) when it failed for this message."""
    try:
        inbound_receive(raw=raw, channel=InboundMessage.Channel.IMAP, department=mailbox.department)
    except DjangoDatabaseError:
        if not _database_available():
            raise  # a database outage: stop here, mark nothing
        logger.exception(
            "mailbox %s (%s): message %s failed with a database error; left unseen",
            mailbox.pk,
            mailbox,
            uid.decode("ascii"),
        )
        return False
    except Exception:
        logger.exception(
            "mailbox %s (%s): message %s failed; left unseen",
            mailbox.pk,
            mailbox,
            uid.decode("ascii"),
        )
        return False
    return True


class Seconds(Func):
    """An integer expression as a duration of that many seconds (SQLite and PostgreSQL)."""

    output_field = DurationField()
    # SQLite keeps durations as microseconds, which is what Django's date arithmetic reads.
    template = "(%(expressions)s * 1000000)"

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Sequence[Any]]:
        return self.as_sql(
            compiler, connection, template="make_interval(secs => %(expressions)s)", **extra
        )


def mailboxes_due(moment: datetime) -> QuerySet[Mailbox]:
    """Active mailboxes not polled in their last `poll_seconds`."""
    due_at = ExpressionWrapper(
        F("last_polled_at") + Seconds("poll_seconds"), output_field=DateTimeField()
    )
    return (
        Mailbox.objects.filter(is_active=True)
        .alias(due_at=due_at)
        .filter(Q(last_polled_at__isnull=True) | Q(due_at__lte=moment))
    )


def mailbox_claim(mailbox_id: int) -> bool:
    """Take a due mailbox for this worker (False: not due, or another worker took it)."""
    moment = now()
    return bool(mailboxes_due(moment).filter(pk=mailbox_id).update(last_polled_at=moment))


def mailboxes_poll_due(*, limit: int = 100) -> list[PollResult]:
    """Poll every due mailbox that no other worker took first, longest waiting first.

    A mailbox whose poll fails is recorded and the others are still polled; only a database
    outage raises."""
    results: list[PollResult] = []
    due = mailboxes_due(now()).order_by(F("last_polled_at").asc(nulls_first=True), "pk")
    for mailbox_id in list(due.values_list("pk", flat=True)):
        if not mailbox_claim(mailbox_id):
            continue
        mailbox = Mailbox.objects.select_related("department").filter(pk=mailbox_id).first()
        if mailbox is None:
            continue  # deleted meanwhile
        try:
            results.append(mailbox_poll(mailbox=mailbox, limit=limit))
        except DjangoDatabaseError:
            raise  # the database is down: mailbox_poll() raises for nothing else
        except Exception as error:  # a bug must not keep the other mailboxes waiting
            logger.exception("mailbox %s (%s): the poll failed", mailbox.pk, mailbox)
            text = f"unexpected error: {type(error).__name__}: {error}"
            _record_error(mailbox, text)
            results.append(PollResult(mailbox.pk, error=text))
    return results
