"""SQLite: two FTS5 tables kept in step by triggers.

- `search_ticket_fts` (subject, reference, scope), rowid = the ticket's id;
- `search_message_fts` (body, filenames, note, note_files, scope), rowid = the message's id. A
  public message fills `body` and `filenames` (its attachments' names); an internal note fills
  `note` and `note_files` instead, so that a search restricted to the public columns can never
  match a note.

`scope` holds the tokens `a<account id> d<department id> t<ticket id>` of the ticket. A search
puts its scope into the MATCH expression itself (`... AND scope : a6`): FTS5 then intersects
the word's list with the account's, a few hundred entries, instead of reading every message
that holds the word; and the exact check "does ticket 123 hold this word" is `... AND scope :
t123`. (FTS5 is fast along its lists and slow at looking up one rowid in a long list, so the
search is written to follow lists.) The triggers rewrite a ticket's rows when it moves to
another department.

The tokenizer is `porter unicode61 remove_diacritics 2`: case and accents fold away on both
sides ("configuracion" finds "configuración"), and the Porter stemmer, though written for
English, strips the Spanish plural endings ("dominio" finds "dominios" and back). It does not
know Spanish verbs: PostgreSQL's Spanish stemmer finds more.

The tables store their own copy of the text (not `content=`): a row can then be deleted or
replaced by its rowid alone, whatever the index held, which keeps the triggers simple and lets
a rebuild replace one range of rows per short transaction while the application writes.

Triggers live on the tickets app's tables. A Django migration that remakes one of those tables
on SQLite (an AlterField, for instance) drops its triggers: the search app's post_migrate hook
puts them back (see `apps.py`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from atiende.search.backends.base import (
    ATTACHMENTS,
    MARK_CUT,
    MARK_END,
    MARK_START,
    MESSAGES,
    TICKETS,
    Marked,
    Scope,
    SearchBackend,
    Source,
    Sql,
)

TICKET_FTS = "search_ticket_fts"
MESSAGE_FTS = "search_message_fts"
TOKENIZE = "porter unicode61 remove_diacritics 2"
PUBLIC_MESSAGE = "{body filenames}"
TICKET_TEXT = "{subject reference}"


def _matches(table: str, column: int, name: str) -> str:
    """How many times the query matched in one column of the current row: highlight() puts
    one mark before each match. A function of the row alone, unlike bm25(), whose inverse
    document frequency counts every row of the index holding each phrase of the query (the
    word and the scope's token) on every search: 50 to 90 ms for a common word at four million
    messages, the same whether 3 or 300 rows are ranked."""
    return (
        f"coalesce(length(highlight({table}, {column}, char(1), '')) - length({table}.{name}), 0)"
    )


def _words(column: str) -> str:
    return f"(coalesce(length({column}) - length(replace({column}, ' ', '')), 0) + 1)"


# The relevance of a match, as PostgreSQL's ts_rank reckons it here (term frequency, no
# inverse document frequency): a word of an attachment's name says more than one among many
# of a body, and a long body that repeats a word does not bury a short one about it (divided
# by 1 + ln(words), ts_rank's normalization 1); in a ticket the subject says more than the ID
# (no length normalization: see the PostgreSQL backend). Higher is better.
MESSAGE_SCORE = (
    f"((1.0 * {_matches(MESSAGE_FTS, 0, 'body')} + 2.0 * {_matches(MESSAGE_FTS, 1, 'filenames')})"
    f" / (1.0 + ln({_words(MESSAGE_FTS + '.body')})))"
)
TICKET_SCORE = (
    f"(2.0 * {_matches(TICKET_FTS, 0, 'subject')} + 1.0 * {_matches(TICKET_FTS, 1, 'reference')})"
)

TABLES: dict[str, str] = {
    TICKET_FTS: f"CREATE VIRTUAL TABLE {TICKET_FTS} USING fts5("
    f"subject, reference, scope, tokenize = '{TOKENIZE}')",
    MESSAGE_FTS: f"CREATE VIRTUAL TABLE {MESSAGE_FTS} USING fts5("
    f"body, filenames, note, note_files, scope, tokenize = '{TOKENIZE}')",
}


def _clean(expression: str) -> str:
    """`expression` without the highlight markers, so that no text can forge a match."""
    for marker in (MARK_START, MARK_END, MARK_CUT):
        expression = f"replace({expression}, char({ord(marker)}), '')"
    return expression


def _scope_tokens(ticket: str) -> str:
    return f"'a' || {ticket}.account_id || ' d' || {ticket}.department_id || ' t' || {ticket}.id"


def _files(message_id: str) -> str:
    return (
        f"(SELECT {_clean('group_concat(a.filename, char(10))')} "
        f"FROM {ATTACHMENTS} a WHERE a.message_id = {message_id})"
    )


def _index_tickets(where: str) -> str:
    """Index the tickets `t` that satisfy `where`."""
    return (
        f"INSERT INTO {TICKET_FTS}(rowid, subject, reference, scope) "
        f"SELECT t.id, {_clean('t.subject')}, t.reference, {_scope_tokens('t')} "
        f"FROM {TICKETS} t WHERE {where}"
    )


def _index_messages(where: str) -> str:
    """Index the messages `m` that satisfy `where` (their ticket is `t`)."""
    return (
        f"INSERT INTO {MESSAGE_FTS}(rowid, body, filenames, note, note_files, scope) "
        f"SELECT m.id, "
        f"CASE WHEN m.is_internal THEN NULL ELSE {_clean('m.body')} END, "
        f"CASE WHEN m.is_internal THEN NULL ELSE {_files('m.id')} END, "
        f"CASE WHEN m.is_internal THEN {_clean('m.body')} END, "
        f"CASE WHEN m.is_internal THEN {_files('m.id')} END, "
        f"{_scope_tokens('t')} "
        f"FROM {MESSAGES} m JOIN {TICKETS} t ON t.id = m.ticket_id WHERE {where}"
    )


def _reindex_message(message_id: str) -> str:
    return (
        f"DELETE FROM {MESSAGE_FTS} WHERE rowid = {message_id}; "
        f"{_index_messages(f'm.id = {message_id}')};"
    )


# Updates delete and insert rather than UPDATE the index row, so that a row missing from the
# index comes back with the next change of its ticket or message.
TRIGGERS: dict[str, str] = {
    "search_ticket_insert": (
        f"AFTER INSERT ON {TICKETS} BEGIN {_index_tickets('t.id = NEW.id')}; END"
    ),
    "search_ticket_update": (
        f"AFTER UPDATE OF subject, reference, account_id, department_id ON {TICKETS} BEGIN "
        f"DELETE FROM {TICKET_FTS} WHERE rowid = OLD.id; {_index_tickets('t.id = NEW.id')}; END"
    ),
    "search_ticket_scope": (
        f"AFTER UPDATE OF account_id, department_id ON {TICKETS} "
        f"WHEN OLD.account_id IS NOT NEW.account_id "
        f"OR OLD.department_id IS NOT NEW.department_id BEGIN "
        f"DELETE FROM {MESSAGE_FTS} WHERE rowid IN "
        f"(SELECT id FROM {MESSAGES} WHERE ticket_id = NEW.id); "
        f"{_index_messages('m.ticket_id = NEW.id')}; END"
    ),
    "search_ticket_delete": (
        f"AFTER DELETE ON {TICKETS} BEGIN DELETE FROM {TICKET_FTS} WHERE rowid = OLD.id; END"
    ),
    "search_message_insert": (
        f"AFTER INSERT ON {MESSAGES} BEGIN {_index_messages('m.id = NEW.id')}; END"
    ),
    "search_message_update": (
        f"AFTER UPDATE OF body, is_internal, ticket_id ON {MESSAGES} BEGIN "
        f"DELETE FROM {MESSAGE_FTS} WHERE rowid = OLD.id; {_reindex_message('NEW.id')} END"
    ),
    "search_message_delete": (
        f"AFTER DELETE ON {MESSAGES} BEGIN DELETE FROM {MESSAGE_FTS} WHERE rowid = OLD.id; END"
    ),
    "search_attachment_insert": (
        f"AFTER INSERT ON {ATTACHMENTS} BEGIN {_reindex_message('NEW.message_id')} END"
    ),
    "search_attachment_update": (
        f"AFTER UPDATE OF filename, message_id ON {ATTACHMENTS} BEGIN "
        f"{_reindex_message('OLD.message_id')} {_reindex_message('NEW.message_id')} END"
    ),
    "search_attachment_delete": (
        f"AFTER DELETE ON {ATTACHMENTS} BEGIN {_reindex_message('OLD.message_id')} END"
    ),
}


def triggers_create(cursor: CursorWrapper) -> None:
    """(Re)create every trigger in its current form."""
    for name, body in TRIGGERS.items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"CREATE TRIGGER {name} {body}")


def fts_phrase(term: str) -> str:
    """`term` as one FTS5 phrase: its words in order ("ejemplo.mx" is "ejemplo" then "mx").
    Quoted, so that FTS5's operators (AND, NOT, *, ^, column:) are plain text."""
    return '"' + term.replace('"', '""') + '"'


def _scope_match(scope: Scope) -> str:
    """The scope as an FTS5 expression on the `scope` column ("" for every ticket)."""
    if scope.account_id is not None:
        return f" AND scope : a{int(scope.account_id)}"
    if scope.department_ids is not None:
        departments = " OR ".join(f"d{int(department)}" for department in scope.department_ids)
        return f" AND scope : ({departments})"
    return ""


_FTS_OF: dict[Source, str] = {"tickets": TICKET_FTS, "messages": MESSAGE_FTS}


class SqliteBackend(SearchBackend):
    vendor = "sqlite"
    # Before 3.35 SQLite knew no MATERIALIZED (and computed such a CTE once anyway, mostly).
    materialized = "MATERIALIZED" if sqlite3.sqlite_version_info >= (3, 35) else ""

    # --- Searching ---------------------------------------------------------------------------

    def term_sources(self, *, number: int, term: str, scope: Scope, newest: int) -> list[Sql]:
        phrase = fts_phrase(term)
        within = _scope_match(scope)
        # ORDER BY rowid DESC follows the index's lists backwards and stops after `newest`.
        in_messages = (
            f"SELECT * FROM (SELECT m.ticket_id AS ticket_id, {number} AS term, "
            f"{MESSAGE_SCORE} AS score, 0 AS is_ref "
            f"FROM {MESSAGE_FTS} JOIN {MESSAGES} m ON m.id = {MESSAGE_FTS}.rowid "
            f"WHERE {MESSAGE_FTS} MATCH %s ORDER BY {MESSAGE_FTS}.rowid DESC LIMIT {newest})"
        )
        in_ticket = (
            f"SELECT * FROM (SELECT rowid AS ticket_id, {number} AS term, "
            f"{TICKET_SCORE} AS score, 0 AS is_ref "
            f"FROM {TICKET_FTS} WHERE {TICKET_FTS} MATCH %s ORDER BY rowid DESC LIMIT {newest})"
        )
        return [
            (in_messages, [f"{PUBLIC_MESSAGE} : {phrase}{within}"]),
            (in_ticket, [f"{TICKET_TEXT} : {phrase}{within}"]),
        ]

    def term_present(self, term: str) -> Sql:
        phrase = fts_phrase(term)
        return (
            f"(EXISTS (SELECT 1 FROM {MESSAGE_FTS} WHERE {MESSAGE_FTS} MATCH (%s || t.id)) "
            f"OR EXISTS (SELECT 1 FROM {TICKET_FTS} WHERE {TICKET_FTS} MATCH (%s || t.id)))",
            [
                f"{PUBLIC_MESSAGE} : {phrase} AND scope : t",
                f"{TICKET_TEXT} : {phrase} AND scope : t",
            ],
        )

    def like(self, column: str) -> str:
        # SQLite's LIKE ignores the case of ASCII letters; e-mail addresses and domains are.
        return f"{column} LIKE %s ESCAPE '\\'"

    def marked(
        self, cursor: CursorWrapper, *, ticket_ids: list[int], terms: list[str]
    ) -> dict[int, Marked]:
        any_term = " OR ".join(fts_phrase(term) for term in terms)
        tickets = " OR ".join(f"t{int(ticket_id)}" for ticket_id in ticket_ids)
        within = f" AND scope : ({tickets})"
        marks = f"'{MARK_START}', '{MARK_END}'"
        # The matching public messages of these tickets, each with a passage of at most 64
        # words around its matches (FTS5 cannot rank inside a window function, so the best of
        # each ticket is chosen below), and the matching subjects, whole.
        sql = (
            f"SELECT m.ticket_id, -{MESSAGE_SCORE}, m.created_at, m.id,"
            f" snippet({MESSAGE_FTS}, 0, {marks}, '{MARK_CUT}', 64),"
            f" snippet({MESSAGE_FTS}, 1, {marks}, '{MARK_CUT}', 64)"
            f" FROM {MESSAGE_FTS} JOIN {MESSAGES} m ON m.id = {MESSAGE_FTS}.rowid"
            f" WHERE {MESSAGE_FTS} MATCH %s "
            f"UNION ALL "
            f"SELECT rowid, NULL, NULL, NULL, highlight({TICKET_FTS}, 0, {marks}), NULL"
            f" FROM {TICKET_FTS} WHERE {TICKET_FTS} MATCH %s"
        )
        cursor.execute(
            sql,
            [
                f"{PUBLIC_MESSAGE} : ({any_term}){within}",
                f"{TICKET_TEXT} : ({any_term}){within}",
            ],
        )
        subjects: dict[int, str] = {}
        best: dict[int, tuple[tuple[float, str, int], str, str]] = {}
        for ticket_id, score, created_at, message_id, body, files in cursor.fetchall():
            if message_id is None:
                subjects[ticket_id] = body
                continue
            rank = (float(score), str(created_at), int(message_id))
            if ticket_id not in best or rank < best[ticket_id][0]:
                best[ticket_id] = (rank, body, files)
        return {
            ticket_id: Marked(
                subject=subjects.get(ticket_id),
                body=best[ticket_id][1] if ticket_id in best else None,
                filenames=best[ticket_id][2] if ticket_id in best else None,
            )
            for ticket_id in set(subjects) | set(best)
        }

    # --- The index ---------------------------------------------------------------------------

    def _existing(self, cursor: CursorWrapper, kind: str) -> set[str]:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
        return {name for (name,) in cursor.fetchall()}

    def _healthy(self, cursor: CursorWrapper, table: str) -> bool:
        try:
            cursor.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
        except DatabaseError:
            return False
        return True

    def install(self, connection: BaseDatabaseWrapper, *, fill: bool = True) -> None:
        with connection.cursor() as cursor:
            existing = self._existing(cursor, "table")
            for table, create in TABLES.items():
                if table not in existing:
                    cursor.execute(create)
            triggers_create(cursor)
            if fill:
                cursor.execute(f"DELETE FROM {TICKET_FTS}")
                cursor.execute(_index_tickets("1 = 1"))
                cursor.execute(f"DELETE FROM {MESSAGE_FTS}")
                cursor.execute(_index_messages("1 = 1"))

    def uninstall(self, connection: BaseDatabaseWrapper) -> None:
        with connection.cursor() as cursor:
            for name in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def missing(self, connection: BaseDatabaseWrapper) -> list[str]:
        with connection.cursor() as cursor:
            tables = self._existing(cursor, "table")
            triggers = self._existing(cursor, "trigger")
            broken = [
                table for table in TABLES if table not in tables or not self._healthy(cursor, table)
            ]
        return broken + [name for name in TRIGGERS if name not in triggers]

    def repair(self, connection: BaseDatabaseWrapper) -> list[str]:
        redone = []
        with connection.cursor() as cursor:
            tables = self._existing(cursor, "table")
            for table, create in TABLES.items():
                if table in tables and self._healthy(cursor, table):
                    continue
                if table in tables:
                    cursor.execute(f"DROP TABLE {table}")
                cursor.execute(create)
                redone.append(table)
            triggers = self._existing(cursor, "trigger")
            redone += [name for name in TRIGGERS if name not in triggers]
            triggers_create(cursor)
        return redone

    def reindex_range(
        self, cursor: CursorWrapper, *, source: Source, after: int, upto: int | None
    ) -> int:
        alias = "t" if source == "tickets" else "m"
        bounds: list[Any] = [after] if upto is None else [after, upto]
        rows = "rowid > %s" if upto is None else "rowid > %s AND rowid <= %s"
        ids = f"{alias}.id > %s" if upto is None else f"{alias}.id > %s AND {alias}.id <= %s"
        # Whatever the index held for these ids goes, rows of deleted tickets and messages
        # included; then the rows as they are now.
        cursor.execute(f"DELETE FROM {_FTS_OF[source]} WHERE {rows}", bounds)
        index = _index_tickets if source == "tickets" else _index_messages
        cursor.execute(index(ids), bounds)
        return int(cursor.rowcount)
