"""`atiende mail ingest [--department NAME-or-slug] < message.eml`: one message from a mail
server's pipe (Postfix `pipe`/aliases, Exim `pipe` transport) into the inbound pipeline.

Exit codes are the ones a mail server acts on (sysexits.h):

- 0: taken. Also for a message put in quarantine, ignored (an auto-reply, a bounce) or
  received twice: it is stored and nothing is gained by sending it again.
- 75 (EX_TEMPFAIL): not taken, deliver it again later. The database cannot be reached, or
  the message could not even be stored.
- 64 (EX_USAGE): the command is wrong (an unknown department, a missing action, nothing on
  standard input); the mail server's configuration needs fixing.

Standard output stays empty; standard error gets one line per message (never a traceback),
which the mail server keeps in its log or in the bounce.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q

from atiende.accounts.models import Department
from atiende.mail.inbound.ingest import DATABASE_DOWN, inbound_receive
from atiende.mail.models import InboundMessage

logger = logging.getLogger("atiende.mail.pipe")

EX_OK = 0
EX_USAGE = 64
EX_TEMPFAIL = 75
ARGPARSE_USAGE = 2  # what argparse exits with on a bad command line


def _flat(text: object) -> str:
    return " ".join(str(text).split())


class OneLineRecords(logging.Filter):
    """Every log record on one line: an exception is named, its traceback left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message = f"{message} ({type(error).__name__}: {error})"
        record.msg = _flat(message)
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def _one_line_logging() -> None:
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    for each in loggers:
        for handler in getattr(each, "handlers", []):
            if not any(isinstance(found, OneLineRecords) for found in handler.filters):
                handler.addFilter(OneLineRecords())


def _exit(code: int, message: str = "") -> NoReturn:
    if message:
        (logger.error if code else logger.info)("mail ingest: %s", message)
    raise SystemExit(code)


class Command(BaseCommand):
    help = "Mail in: `mail ingest` reads one message on standard input (from a mail server)."
    # No system checks: they cost time on every message and a mail server cannot act on them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        ingest = actions.add_parser(
            "ingest",
            help="take one message (RFC 5322 bytes) from standard input",
            description="Take one message from standard input into the inbound pipeline.",
        )
        ingest.add_argument(
            "--department",
            metavar="NAME-or-slug",
            help="the department whose address received it (default: none; new tickets go "
            "to the first active department)",
        )

    def run_from_argv(self, argv: list[str]) -> None:
        _one_line_logging()
        try:
            super().run_from_argv(argv)
        except SystemExit as exit_:
            if exit_.code == ARGPARSE_USAGE:
                raise SystemExit(EX_USAGE) from None
            raise

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("action") == "ingest":
            self._ingest(options.get("department"))
        _exit(EX_USAGE, "unknown action; use: atiende mail ingest [--department NAME-or-slug]")

    def _ingest(self, department_name: str | None) -> NoReturn:
        raw = sys.stdin.buffer.read()
        department: Department | None = None
        try:
            if department_name:
                department = (
                    Department.objects.filter(
                        Q(slug=department_name) | Q(name__iexact=department_name)
                    )
                    .order_by("pk")
                    .first()
                )
                if department is None:
                    _exit(EX_USAGE, f"unknown department {department_name!r}")
            if not raw.strip():
                _exit(EX_USAGE, "no message on standard input")
            row = inbound_receive(
                raw=raw, channel=InboundMessage.Channel.PIPE, department=department
            )
        except DATABASE_DOWN as error:
            _exit(
                EX_TEMPFAIL,
                f"the database cannot be reached, try again later "
                f"({type(error).__name__}: {_flat(error)})",
            )
        except Exception as error:  # not even stored: the mail server must keep it
            _exit(
                EX_TEMPFAIL,
                f"the message could not be stored, try again later "
                f"({type(error).__name__}: {_flat(error)})",
            )
        # inbound_receive logged the outcome: the one line of this message.
        _exit(EX_OK if row.pk else EX_TEMPFAIL)
