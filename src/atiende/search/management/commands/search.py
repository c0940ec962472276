"""`atiende search rebuild|check`: the full-text search index from the command line.

- `atiende search rebuild [--batch-size N]` recreates whatever part of the index is missing or
  broken, then indexes every ticket and message again in batches, with a progress bar on
  standard error. Safe while the application runs; idempotent.
- `atiende search check` lists what is missing or broken; exit status 1 when anything is.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from tqdm import tqdm

from atiende.search.backends.base import Source
from atiende.search.index import BATCH_SIZE, index_missing, index_rebuild, index_rows_total


def _plain(text: str) -> str:
    """Progress and notes on standard error are not errors: not drawn in the error colour."""
    return text


class _Stream:
    """tqdm writes carriage returns: hand them to Django's wrapper without its line ending."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, style_func=_plain, ending="")

    def flush(self) -> None:
        self.out.flush()


class Command(BaseCommand):
    help = "The full-text search index: rebuild it, or check that it is complete."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        rebuild = actions.add_parser(
            "rebuild",
            help="recreate what is missing and index every ticket and message again",
            description="Recreate the missing or broken parts of the search index, then index "
            "every ticket and message again in batches. Safe while Atiende runs.",
        )
        rebuild.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            metavar="N",
            help=f"rows per transaction (default: {BATCH_SIZE})",
        )
        actions.add_parser(
            "check",
            help="list what is missing or broken in the index",
            description="List the missing or broken parts of the search index; exit status 1 "
            "when there is any (then run `atiende search rebuild`).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "check":
            self._check()
        else:
            self._rebuild(batch_size=options["batch_size"], verbosity=options["verbosity"])

    def _check(self) -> None:
        missing = index_missing()
        if missing:
            raise CommandError(
                f"The search index is incomplete: {', '.join(missing)}. "
                "Run `atiende search rebuild`."
            )
        self.stdout.write("The search index is complete.")

    def _rebuild(self, *, batch_size: int, verbosity: int) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        total = index_rows_total()
        with tqdm(
            total=total,
            unit=" rows",
            desc="Indexing",
            file=_Stream(self.stderr),
            disable=verbosity == 0,
            mininterval=0.5,
        ) as bar:

            def on_batch(source: Source, rows: int) -> None:
                bar.update(rows)

            def on_repair(name: str) -> None:
                bar.write(f"Recreated {name}.", file=_Stream(self.stderr))

            result = index_rebuild(batch_size=batch_size, on_batch=on_batch, on_repair=on_repair)
        self.stdout.write(
            f"Indexed {result.indexed.get('tickets', 0)} tickets and "
            f"{result.indexed.get('messages', 0)} messages."
        )
