"""What a full-text backend provides to `ticket_search()` and to `atiende search rebuild`.

A backend answers three questions in SQL: which tickets hold a word (`term_sources`), how each
found ticket's text reads with its matches marked (`marked`), and how its index is built,
checked and rebuilt. The search function assembles the rest (scope, ranking, the ticket ID,
staff-only matches) the same way on every database.

Marked text comes back from the database with MARK_START / MARK_END around each match (and
MARK_CUT where it was cut short): the database knows what it matched (stems, accents), and
Python escapes the text and turns the markers into <mark> tags, so message text is never
trusted as HTML. The markers are private-use characters, removed from the indexed text so that
no message can forge them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from atiende.accounts.models import Service, User
from atiende.tickets.models import Attachment, Message, Ticket

MARK_START = "\ue000"
MARK_END = "\ue001"
# Where the database cut a long text short (SQLite's snippet()).
MARK_CUT = "\ue00a"

TICKETS = Ticket._meta.db_table
MESSAGES = Message._meta.db_table
ATTACHMENTS = Attachment._meta.db_table
USERS = User._meta.db_table
SERVICES = Service._meta.db_table

# The commonest Spanish and English function words, folded: a search leaves them out on every
# database ("no puedo entrar a mi correo" looks for "puedo", "entrar" and "correo"). SQLite
# FTS5 has no stop words, and PostgreSQL drops a word only when both of its configurations do
# ("mi" is Spanish, not English): without this list "mi" would be required.
STOP_WORDS = frozenset(
    """
    a al algo algunos ante antes como con contra cual cuando de del desde donde durante e el
    ella ellas ellos en entre es esa esas ese eso esos esta estas este esto estos fue ha hay la
    las le les lo los mas me mi mis muy ni no nos o os otra otras otro otros para pero por
    porque que quien se si sin sobre su sus tambien te tu tus un una unas uno unos y ya yo
    an and are as at be but by for from has have he her his i if in into is it its my not of
    on or our she so than that the their them then there these they this to was we were what
    when where which who will with you your
    """.split()  # noqa: SIM905 - a list of words reads best as text
)

Source = Literal["tickets", "messages"]
SOURCES: tuple[Source, ...] = ("tickets", "messages")
SOURCE_TABLES: dict[Source, str] = {"tickets": TICKETS, "messages": MESSAGES}

# One SELECT of the search query, with its parameters. Every term source yields the columns
# (ticket_id, term, score, is_ref, updated_at) for tickets of the scope.
Sql = tuple[str, list[Any]]


@dataclass(frozen=True)
class Scope:
    """The tickets a user may search: one account's (a customer), some departments' (an
    agent), or every ticket (supervisors and administrators: both None)."""

    account_id: int | None = None
    department_ids: tuple[int, ...] | None = None

    def sql(self, alias: str = "t", *, filter_only: bool = False) -> Sql:
        """The scope as a condition on the tickets table aliased `alias`. `filter_only`: the
        column behind a unary plus (SQLite and PostgreSQL alike), so that the planner only
        checks it on rows found another way and never walks its index: a department holds
        half the tickets, a poor road to the few of one customer."""
        plus = "+" if filter_only else ""
        if self.account_id is not None:
            return f"{plus}{alias}.account_id = %s", [self.account_id]
        if self.department_ids is not None:
            placeholders = ", ".join(["%s"] * len(self.department_ids))
            return f"{plus}{alias}.department_id IN ({placeholders})", list(self.department_ids)
        return "1 = 1", []


@dataclass(frozen=True)
class Marked:
    """A found ticket's text with its matches between MARK_START and MARK_END (None when that
    text did not match): its subject, and the body and attachment names of its best-matching
    public message."""

    subject: str | None = None
    body: str | None = None
    filenames: str | None = None


class SearchBackend(ABC):
    vendor: ClassVar[str]
    # How the search query asks that a CTE read twice be computed once.
    materialized: ClassVar[str] = "MATERIALIZED"

    # --- Searching ---------------------------------------------------------------------------

    @abstractmethod
    def term_sources(self, *, number: int, term: str, scope: Scope, newest: int) -> list[Sql]:
        """SELECTs, their columns named (ticket_id, term, score, is_ref), of the scope's
        tickets whose subject, ID or a public message holds `term`, with a relevance score
        (higher is better) and `number` in the `term` column: each the `newest` matches at
        most, newest first, so that a word found in half the messages costs no more than a
        rare one."""

    @abstractmethod
    def term_present(self, term: str) -> Sql:
        """A condition true when the ticket `t` (of the outer query) holds `term` in its
        subject, its ID or a public message: exact, whatever the limit of `term_sources`."""

    def ticket_join(self, candidates: str) -> str:
        """Join each row of `candidates` (a ticket_id column) to its ticket, aliased `t`."""
        return f"JOIN {TICKETS} t ON t.id = {candidates}.ticket_id"

    def term_void(self, term: str) -> Sql | None:
        """An SQL condition true when `term` can match no text at all (a stop word of the
        database's own), so that the search does not require it; None when every term
        counts."""
        return None

    @abstractmethod
    def like(self, column: str) -> str:
        """`column` contains the parameter (a LIKE pattern escaped with \\), ignoring case."""

    @abstractmethod
    def marked(
        self, cursor: CursorWrapper, *, ticket_ids: list[int], terms: list[str]
    ) -> dict[int, Marked]:
        """The marked subject and best public message of each ticket (one query)."""

    # --- The index ---------------------------------------------------------------------------

    @abstractmethod
    def install(self, connection: BaseDatabaseWrapper, *, fill: bool = True) -> None:
        """Create the index and what keeps it in step (idempotent); `fill` indexes every row."""

    @abstractmethod
    def uninstall(self, connection: BaseDatabaseWrapper) -> None:
        """Drop everything `install` created (the unaccent extension stays)."""

    @abstractmethod
    def missing(self, connection: BaseDatabaseWrapper) -> list[str]:
        """The names of the index's objects that are missing or broken."""

    @abstractmethod
    def repair(self, connection: BaseDatabaseWrapper) -> list[str]:
        """Recreate what is missing or broken, without filling; returns what was redone."""

    @abstractmethod
    def reindex_range(
        self, cursor: CursorWrapper, *, source: Source, after: int, upto: int | None
    ) -> int:
        """Index again the rows of `source` with after < id <= upto (no upper bound when None);
        returns how many rows were indexed."""

    def finish(self, connection: BaseDatabaseWrapper, *, report: Callable[[str], None]) -> None:
        """What a rebuild does after every row is indexed (PostgreSQL: the GIN indexes)."""
        return None
