"""PostgreSQL: a tsvector column on tickets and on messages, GIN indexes, triggers.

- `tickets_ticket.search_vector`: the subject and the ID (weight A);
- `tickets_message.search_vector`: the body (weight D) and the names of the message's
  attachments (weight B). Internal notes are indexed too; the search query decides who may
  match them.

Each text is read with two text search configurations made here, `atiende_es` and `atiende_en`:
copies of `spanish` and `english` where words first go through the `unaccent` dictionary, then
the language's stemmer. Both vectors are concatenated and a query term matches either, so
"dominio" finds "dominios", "configuracion" finds "configuración" and back, and English text is
stemmed as English. Punctuation that the parser would glue into one token (a file name, a
host, an e-mail address, an HTML tag) is read as blanks, as on SQLite.

`CREATE EXTENSION unaccent` is run by the migration when the database user may (unaccent is a
trusted extension since PostgreSQL 13: the owner of the database may create it); otherwise a
DBA runs `CREATE EXTENSION unaccent;` in the database once, before `atiende migrate`.

The vectors are kept by triggers (BEFORE on tickets and messages, AFTER on attachments), so
every write path keeps them in step in its own transaction: the services, bulk_create, data
migrations, psql. Columns, not a separate table: the scope of a search (the ticket's account or
department, the message's `is_internal`) sits in the rows the index points at.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from atiende.search.backends.base import (
    ATTACHMENTS,
    MARK_CUT,
    MARK_END,
    MARK_START,
    MESSAGES,
    SOURCE_TABLES,
    TICKETS,
    Marked,
    Scope,
    SearchBackend,
    Source,
    Sql,
)

COLUMN = "search_vector"
INDEXES = {TICKETS: "search_ticket_vector", MESSAGES: "search_message_vector"}
TRIGGERS = {
    TICKETS: "atiende_search_ticket",
    MESSAGES: "atiende_search_message",
    ATTACHMENTS: "atiende_search_attachment",
}
FUNCTIONS = (
    "atiende_search_text(text)",
    "atiende_search_vector(text)",
    "atiende_search_query(text)",
    "atiende_search_headline(text, tsquery)",
    "atiende_ticket_vector(text, text)",
    "atiende_message_vector(bigint, text)",
    "atiende_search_ticket_trigger()",
    "atiende_search_message_trigger()",
    "atiende_search_attachment_trigger()",
)
CONFIGURATIONS = {"atiende_es": "spanish", "atiende_en": "english"}
# ts_rank's normalization 1: divided by 1 + log(length), so a long e-mail that repeats a word
# does not bury a short message about it.
RANK_NORMALIZATION = 1
# A ticket's vector is its subject and its ID, whose random characters parse into more or
# fewer tokens: no length normalization there, or two subjects alike would rank by the luck
# of their IDs instead of falling to recent activity.
TICKET_RANK_NORMALIZATION = 0
# ANALYZE's sample and list of most common words for the vectors, ten times the default. A
# word outside that list is estimated as half as frequent as its least frequent word: with the
# default list, a word found in no subject at all was taken for one in 0.5 % of them, and the
# planner walked a million tickets newest first looking for 300 of them (260 ms) instead of
# asking the GIN index (bench/pages.py). ANALYZE takes a few seconds longer.
STATISTICS = 1000
# PostgreSQL's parser reads "<b>" as an HTML tag and "factura.pdf", "ana@example.com" or a URL
# as one token, so that neither "b" nor "factura" nor "example" would be found. These
# characters are read as blanks instead, as SQLite's tokenizer does: each becomes a private-use
# character (a blank for the parser) and is put back in Python when a marked text is shown;
# "factura.pdf" is then the phrase "factura pdf". The highlight markers are removed.
_BLANKS = "<>.@/&:\\"
_PRIVATE = [chr(0xE002 + index) for index in range(len(_BLANKS))]
_DROPPED = "".join(f"\\u{ord(marker):04x}" for marker in (MARK_START, MARK_END, MARK_CUT))
_TRANSLATE_FROM = "E'" + _BLANKS.replace("\\", "\\\\") + _DROPPED + "'"
_TRANSLATE_TO = "E'" + "".join(f"\\u{ord(char):04x}" for char in _PRIVATE) + "'"
TRANSLATED_BACK = str.maketrans(dict(zip(_PRIVATE, _BLANKS, strict=True)))


def _ddl(schema: str, unaccent_schema: str) -> list[tuple[str | None, str]]:
    """Everything but the columns' GIN indexes, each statement idempotent, with the name of
    the column or trigger it creates (None: a configuration or a function, created or replaced
    without locking a table)."""
    s = f'"{schema}"'
    headline_options = (
        f"'HighlightAll=true, StartSel=' || chr({ord(MARK_START)}) || "
        f"', StopSel=' || chr({ord(MARK_END)})"
    )
    statements: list[str] = []
    for name, parent in CONFIGURATIONS.items():
        statements.append(
            f"DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n "
            f"ON n.oid = c.cfgnamespace WHERE c.cfgname = '{name}' AND n.nspname = '{schema}') "
            f"THEN "
            f"CREATE TEXT SEARCH CONFIGURATION {s}.{name} (COPY = pg_catalog.{parent}); "
            f"ALTER TEXT SEARCH CONFIGURATION {s}.{name} "
            f"ALTER MAPPING FOR word, hword, hword_part "
            f'WITH "{unaccent_schema}".unaccent, pg_catalog.{parent}_stem; '
            f"END IF; END $$"
        )
    statements += [
        # The text as the parser should read it. IMMUTABLE like everything here that only
        # depends on the configurations: they change only through a migration, which then
        # rebuilds the vectors.
        f"CREATE OR REPLACE FUNCTION {s}.atiende_search_text(doc text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $$ SELECT translate(coalesce(doc, ''), {_TRANSLATE_FROM}, {_TRANSLATE_TO}) $$",
        f"CREATE OR REPLACE FUNCTION {s}.atiende_search_vector(doc text) RETURNS tsvector "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        f"SELECT to_tsvector('{s}.atiende_es'::regconfig, {s}.atiende_search_text(doc)) "
        f"|| to_tsvector('{s}.atiende_en'::regconfig, {s}.atiende_search_text(doc)) $$",
        # A query term: its words in order, in either language. IMMUTABLE so that the planner
        # folds it into one constant that the GIN index and ts_rank both use.
        f"CREATE OR REPLACE FUNCTION {s}.atiende_search_query(term text) RETURNS tsquery "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        f"SELECT phraseto_tsquery('{s}.atiende_es'::regconfig, {s}.atiende_search_text(term)) "
        f"|| phraseto_tsquery('{s}.atiende_en'::regconfig, {s}.atiende_search_text(term)) $$",
        # The whole text with every match marked, in Spanish then in English.
        f"CREATE OR REPLACE FUNCTION {s}.atiende_search_headline(doc text, query tsquery) "
        f"RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$ "
        f"SELECT ts_headline('{s}.atiende_en'::regconfig, "
        f"ts_headline('{s}.atiende_es'::regconfig, {s}.atiende_search_text(doc), query, "
        f"{headline_options}), query, {headline_options}) $$",
        f"CREATE OR REPLACE FUNCTION {s}.atiende_ticket_vector(subject text, reference text) "
        f"RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        f"SELECT setweight({s}.atiende_search_vector(subject), 'A') "
        f"|| setweight({s}.atiende_search_vector(reference), 'A') $$",
        f"CREATE OR REPLACE FUNCTION {s}.atiende_message_vector(message_id bigint, body text) "
        f"RETURNS tsvector LANGUAGE sql STABLE AS $$ "
        f"SELECT setweight({s}.atiende_search_vector(body), 'D') "
        f"|| setweight({s}.atiende_search_vector((SELECT string_agg(a.filename, E'\\n' "
        f"ORDER BY a.id) FROM {s}.{ATTACHMENTS} a WHERE a.message_id = $1)), 'B') $$",
        f"CREATE OR REPLACE FUNCTION {s}.atiende_search_ticket_trigger() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN "
        f"NEW.{COLUMN} := {s}.atiende_ticket_vector(NEW.subject, NEW.reference); "
        f"RETURN NEW; END $$",
        f"CREATE OR REPLACE FUNCTION {s}.atiende_search_message_trigger() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN "
        f"NEW.{COLUMN} := {s}.atiende_message_vector(NEW.id, NEW.body); "
        f"RETURN NEW; END $$",
        # An attachment changes its message's document: the message's vector is computed
        # again (an UPDATE of search_vector only, which does not fire the trigger above).
        f"CREATE OR REPLACE FUNCTION {s}.atiende_search_attachment_trigger() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'DELETE' THEN "
        f"UPDATE {s}.{MESSAGES} SET {COLUMN} = {s}.atiende_message_vector(id, body) "
        f"WHERE id = NEW.message_id; END IF; "
        f"IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.message_id <> NEW.message_id) THEN "
        f"UPDATE {s}.{MESSAGES} SET {COLUMN} = {s}.atiende_message_vector(id, body) "
        f"WHERE id = OLD.message_id; END IF; "
        f"RETURN NULL; END $$",
    ]
    tables: list[tuple[str | None, str]] = [
        (
            f"{table}.{COLUMN}",
            f"ALTER TABLE {s}.{table} ADD COLUMN IF NOT EXISTS {COLUMN} tsvector, "
            f"ALTER COLUMN {COLUMN} SET STATISTICS {STATISTICS}",
        )
        for table in INDEXES
    ]
    tables += [
        (
            TRIGGERS[TICKETS],
            f"CREATE OR REPLACE TRIGGER {TRIGGERS[TICKETS]} "
            f"BEFORE INSERT OR UPDATE OF subject, reference ON {s}.{TICKETS} "
            f"FOR EACH ROW EXECUTE FUNCTION {s}.atiende_search_ticket_trigger()",
        ),
        (
            TRIGGERS[MESSAGES],
            f"CREATE OR REPLACE TRIGGER {TRIGGERS[MESSAGES]} "
            f"BEFORE INSERT OR UPDATE OF body ON {s}.{MESSAGES} "
            f"FOR EACH ROW EXECUTE FUNCTION {s}.atiende_search_message_trigger()",
        ),
        (
            TRIGGERS[ATTACHMENTS],
            f"CREATE OR REPLACE TRIGGER {TRIGGERS[ATTACHMENTS]} "
            f"AFTER INSERT OR DELETE OR UPDATE OF filename, message_id ON {s}.{ATTACHMENTS} "
            f"FOR EACH ROW EXECUTE FUNCTION {s}.atiende_search_attachment_trigger()",
        ),
    ]
    return [(None, statement) for statement in statements] + tables


def _reindex_sql(source: Source) -> str:
    if source == "tickets":
        return f"UPDATE {TICKETS} SET {COLUMN} = atiende_ticket_vector(subject, reference)"
    return f"UPDATE {MESSAGES} SET {COLUMN} = atiende_message_vector(id, body)"


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    # --- Searching ---------------------------------------------------------------------------

    def term_sources(self, *, number: int, term: str, scope: Scope, newest: int) -> list[Sql]:
        # Newest first with a limit: for a common word the planner walks the messages
        # backwards and stops early; for a rare one it reads the GIN index and sorts the few.
        # ts_rank reads the whole vector: it is computed outside, for the kept rows only.
        query = "atiende_search_query(%s)"
        within, within_params = scope.sql()
        in_messages = (
            f"SELECT m.ticket_id AS ticket_id, {number} AS term, "
            f"ts_rank(m.{COLUMN}, {query}, {RANK_NORMALIZATION}) AS score, 0 AS is_ref "
            f"FROM (SELECT m.id FROM {MESSAGES} m JOIN {TICKETS} t ON t.id = m.ticket_id "
            f"WHERE m.{COLUMN} @@ {query} AND NOT m.is_internal AND {within} "
            f"ORDER BY m.id DESC LIMIT {newest}) newest JOIN {MESSAGES} m ON m.id = newest.id"
        )
        in_ticket = (
            f"SELECT t.id AS ticket_id, {number} AS term, "
            f"ts_rank(t.{COLUMN}, {query}, {TICKET_RANK_NORMALIZATION}) AS score, 0 AS is_ref "
            f"FROM (SELECT t.id FROM {TICKETS} t WHERE t.{COLUMN} @@ {query} AND {within} "
            f"ORDER BY t.id DESC LIMIT {newest}) newest JOIN {TICKETS} t ON t.id = newest.id"
        )
        return [
            (in_messages, [term, term, *within_params]),
            (in_ticket, [term, term, *within_params]),
        ]

    def term_present(self, term: str) -> Sql:
        query = "atiende_search_query(%s)"
        return (
            f"(t.{COLUMN} @@ {query} OR EXISTS (SELECT 1 FROM {MESSAGES} m "
            f"WHERE m.ticket_id = t.id AND NOT m.is_internal AND m.{COLUMN} @@ {query}))",
            [term, term],
        )

    def ticket_join(self, candidates: str) -> str:
        # One index lookup per candidate, whatever the planner guesses of their number
        # (OFFSET 0 keeps the subquery from being flattened into a hash join over every ticket).
        return (
            f"CROSS JOIN LATERAL (SELECT * FROM {TICKETS} WHERE id = {candidates}.ticket_id "
            f"OFFSET 0) t"
        )

    def term_void(self, term: str) -> Sql | None:
        # Only stop words in both languages ("de", "the"): such a term is left out, as a
        # search engine does, rather than making every search that has it find nothing.
        return "numnode(atiende_search_query(%s)) = 0", [term]

    def like(self, column: str) -> str:
        return f"{column} ILIKE %s ESCAPE '\\'"

    def marked(
        self, cursor: CursorWrapper, *, ticket_ids: list[int], terms: list[str]
    ) -> dict[int, Marked]:
        any_term = " || ".join(["atiende_search_query(%s)"] * len(terms))
        # The best public message of each ticket first (a LATERAL LIMIT 1), then the
        # highlights of that message and of the subject only.
        sql = (
            f"WITH q AS (SELECT {any_term} AS query) "
            f"SELECT t.id, atiende_search_headline(t.subject, q.query), "
            f"CASE WHEN best.id IS NOT NULL THEN atiende_search_headline(m.body, q.query) END, "
            f"CASE WHEN best.id IS NOT NULL THEN atiende_search_headline("
            f"(SELECT string_agg(a.filename, E'\\n' ORDER BY a.id) FROM {ATTACHMENTS} a "
            f"WHERE a.message_id = m.id), q.query) END "
            f"FROM q CROSS JOIN {TICKETS} t "
            f"LEFT JOIN LATERAL ("
            f" SELECT b.id FROM {MESSAGES} b"
            f" WHERE b.ticket_id = t.id AND NOT b.is_internal AND b.{COLUMN} @@ q.query"
            f" ORDER BY ts_rank(b.{COLUMN}, q.query, {RANK_NORMALIZATION}) DESC,"
            f" b.created_at, b.id LIMIT 1"
            f") best ON TRUE "
            f"LEFT JOIN {MESSAGES} m ON m.id = best.id "
            f"WHERE t.id = ANY(%s)"
        )
        cursor.execute(sql, [*terms, ticket_ids])
        found = {}
        for ticket_id, subject, body, filenames in cursor.fetchall():
            found[ticket_id] = Marked(
                subject=_back(subject), body=_back(body), filenames=_back(filenames)
            )
        return found

    # --- The index ---------------------------------------------------------------------------

    def _schemas(self, cursor: CursorWrapper) -> tuple[str, str | None]:
        cursor.execute(
            "SELECT current_schema(), (SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent')"
        )
        schema, unaccent_schema = cursor.fetchone()
        return str(schema), unaccent_schema

    def _create(self, cursor: CursorWrapper, *, missing: set[str] | None = None) -> None:
        """Create the configurations and functions (replaced in their current form), and the
        columns and triggers: all of them, or only those in `missing` (a repair leaves the
        tables unlocked)."""
        schema, unaccent_schema = self._schemas(cursor)
        if unaccent_schema is None:
            try:
                with transaction.atomic(using=cursor.db.alias):
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            except DatabaseError as error:
                raise ImproperlyConfigured(
                    "Search needs PostgreSQL's unaccent extension, and this database user may "
                    "not create it: ask a DBA to run `CREATE EXTENSION unaccent;` in the "
                    f"database, then run `atiende migrate` again. ({error})"
                ) from error
            schema, unaccent_schema = self._schemas(cursor)
        for name, statement in _ddl(schema, str(unaccent_schema)):
            if name is None or missing is None or name in missing:
                cursor.execute(statement)

    def install(self, connection: BaseDatabaseWrapper, *, fill: bool = True) -> None:
        with connection.cursor() as cursor:
            self._create(cursor)
            if fill:
                for source in SOURCE_TABLES:
                    cursor.execute(_reindex_sql(source))
            for table, index in INDEXES.items():
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin ({COLUMN})"
                )

    def uninstall(self, connection: BaseDatabaseWrapper) -> None:
        with connection.cursor() as cursor:
            for table, trigger in TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            for table in INDEXES:
                cursor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {COLUMN}")
            for function in FUNCTIONS:
                cursor.execute(f"DROP FUNCTION IF EXISTS {function}")
            for name in CONFIGURATIONS:
                cursor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")

    def _index_states(self, cursor: CursorWrapper) -> dict[str, bool]:
        """Each of our GIN indexes that exists, and whether it is valid (a CREATE INDEX
        CONCURRENTLY that failed leaves an invalid one behind)."""
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = ANY(%s) AND c.relnamespace = current_schema()::regnamespace",
            [list(INDEXES.values())],
        )
        return {name: bool(valid) for name, valid in cursor.fetchall()}

    def missing(self, connection: BaseDatabaseWrapper) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = %s",
                [COLUMN],
            )
            columns = {name for (name,) in cursor.fetchall()}
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)",
                [list(TRIGGERS.values())],
            )
            triggers = {name for (name,) in cursor.fetchall()}
            cursor.execute(
                "SELECT cfgname FROM pg_ts_config WHERE cfgname = ANY(%s) "
                "AND cfgnamespace = current_schema()::regnamespace",
                [list(CONFIGURATIONS)],
            )
            configurations = {name for (name,) in cursor.fetchall()}
            indexes = self._index_states(cursor)
        return (
            [f"{table}.{COLUMN}" for table in INDEXES if table not in columns]
            + [name for name in CONFIGURATIONS if name not in configurations]
            + [name for name in TRIGGERS.values() if name not in triggers]
            + [name for name in INDEXES.values() if not indexes.get(name, False)]
        )

    def repair(self, connection: BaseDatabaseWrapper) -> list[str]:
        redone = [name for name in self.missing(connection) if name not in INDEXES.values()]
        with connection.cursor() as cursor:
            self._create(cursor, missing=set(redone))
        return redone

    def reindex_range(
        self, cursor: CursorWrapper, *, source: Source, after: int, upto: int | None
    ) -> int:
        if upto is None:
            cursor.execute(f"{_reindex_sql(source)} WHERE id > %s", [after])
        else:
            cursor.execute(f"{_reindex_sql(source)} WHERE id > %s AND id <= %s", [after, upto])
        return int(cursor.rowcount)

    def finish(self, connection: BaseDatabaseWrapper, *, report: Callable[[str], None]) -> None:
        """Create a missing GIN index and rebuild an invalid one: CONCURRENTLY, so that the
        application keeps writing, unless the caller holds a transaction (tests)."""
        concurrently = "" if connection.in_atomic_block else " CONCURRENTLY"
        with connection.cursor() as cursor:
            states = self._index_states(cursor)
            for table, index in INDEXES.items():
                if index not in states:
                    report(index)
                    cursor.execute(
                        f"CREATE INDEX{concurrently} IF NOT EXISTS {index} "
                        f"ON {table} USING gin ({COLUMN})"
                    )
                elif not states[index]:
                    report(index)
                    cursor.execute(f"REINDEX INDEX{concurrently} {index}")


def _back(text: str | None) -> str | None:
    return None if text is None else text.translate(TRANSLATED_BACK)
