"""The one search function over tickets.

`ticket_search()` is the contract every surface calls (portal, console, API); it returns
`SearchHit`s. The words are matched by the database's full-text index (`backends/`): SQLite FTS5
on the embedded default, PostgreSQL tsvector + GIN in production, chosen by the connection's
vendor. Both fold case and accents and stem ("dominio" finds "dominios"); see each backend for
what its stemming knows.

What a user may find is part of the search query itself, never a filter applied afterwards: a
customer his account's tickets, an agent his departments' (every department for supervisors
and administrators). Internal notes are indexed but match nobody: a search result (and the API
hands it to other systems) never shows a note's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from atiende.accounts.models import User
from atiende.core.references import reference_normalize
from atiende.core.text import strip_control
from atiende.search.backends import backend_for
from atiende.search.backends.base import (
    MARK_CUT,
    MARK_END,
    MARK_START,
    SERVICES,
    STOP_WORDS,
    TICKETS,
    USERS,
    Marked,
    Scope,
    SearchBackend,
    Sql,
)
from atiende.tickets.models import Ticket
from atiende.tickets.selectors import agent_department_ids

QUERY_MAX = 200
TERMS_MAX = 8
SNIPPET_BEFORE = 60
SNIPPET_AFTER = 140
# How many of a word's newest matches in the user's scope are ranked, per kind of text: a word
# found in a hundred thousand messages costs no more than a rare one. See _ranked_sql.
NEWEST_PER_WORD = 300

# Folded on both sides with the same table: Python's lower() and the Spanish accents. The
# index folds on its own (see the backends); this folding serves the staff-only LIKE matches
# and the highlighting fallback.
_FOLD_PAIRS: tuple[tuple[str, str], ...] = (
    ("á", "a"), ("é", "e"), ("í", "i"), ("ó", "o"), ("ú", "u"), ("ü", "u"), ("ñ", "n"),
    ("Á", "a"), ("É", "e"), ("Í", "i"), ("Ó", "o"), ("Ú", "u"), ("Ü", "u"), ("Ñ", "n"),
)  # fmt: skip
_FOLD_TABLE = str.maketrans(dict(_FOLD_PAIRS))
_EDGE_PUNCTUATION = "\"'¿?¡!.,;:()[]{}<>«»“”\u2018\u2019*"


@dataclass(frozen=True)
class SearchHit:
    """One ticket found, with what to show about why it was found.

    `snippet` is a passage of the best-matching public message (its body, else the names of
    its attachments), else the subject; escaped, with the matches wrapped in <mark>.
    `subject_html` is the subject escaped and highlighted the same way.
    """

    ticket: Ticket
    snippet: SafeString
    subject_html: SafeString
    matched_reference: bool


def fold(text: str) -> str:
    """Lower case without the Spanish accents: what both sides of a comparison are reduced to."""
    return text.lower().translate(_FOLD_TABLE)


def search_terms(query: str) -> list[str]:
    """The folded words of a query, without surrounding punctuation, at most TERMS_MAX."""
    terms: list[str] = []
    for word in fold(strip_control(query or "")[:QUERY_MAX]).split():
        term = word.strip(_EDGE_PUNCTUATION)
        if term and term not in terms:
            terms.append(term)
    return terms[:TERMS_MAX]


def _scope(user: User) -> Scope | None:
    """The tickets `user` may search; None when none.

    The same rule as `ticket_list_for_agent` (departments from `agent_department_ids`) and the
    portal's account scoping, as data that each backend writes into its search query: a
    condition on the tickets (both), and terms of the full-text match itself (SQLite).
    """
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff:
        departments = agent_department_ids(user)
        if departments is None:
            return Scope()
        return Scope(department_ids=tuple(sorted(departments))) if departments else None
    if user.account_id is None:
        return None
    return Scope(account_id=user.account_id)


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _staff_matches(backend: SearchBackend, term: str, scope: Scope, number: int) -> list[Sql]:
    """Staff also find a ticket by its customer's e-mail address or its service (a domain):
    the sources (from the few users or services that match, through their tickets' index),
    then the exact check on a ticket `t`."""
    pattern = _like_pattern(term)
    scope_sql, scope_params = scope.sql(filter_only=True)
    sources: list[Sql] = [
        (
            # CROSS JOIN: SQLite then reads the users (or services) first, and their tickets
            # through the foreign key's index (the scope is only a filter); left to choose, it
            # walked the department's tickets newest first looking for them: half a million
            # rows at a million tickets. PostgreSQL plans a CROSS JOIN with a WHERE as any join.
            f"SELECT * FROM (SELECT t.id AS ticket_id, {number} AS term, "
            f"CAST(0 AS REAL) AS score, 0 AS is_ref "
            f"FROM {table} x CROSS JOIN {TICKETS} t "
            f"WHERE t.{field} = x.id AND {backend.like(f'x.{column}')} AND {scope_sql} "
            f"ORDER BY t.id DESC LIMIT {NEWEST_PER_WORD}) found_by_{field}",
            [pattern, *scope_params],
        )
        for field, table, column in (
            ("customer_id", USERS, "email"),
            ("service_id", SERVICES, "name"),
        )
    ]
    check = (
        f"(t.customer_id IN (SELECT x.id FROM {USERS} x WHERE {backend.like('x.email')}) "
        f"OR t.service_id IN (SELECT x.id FROM {SERVICES} x WHERE {backend.like('x.name')}))",
        [pattern, pattern],
    )
    return [*sources, check]


def _ranked_sql(
    *,
    backend: SearchBackend,
    scope: Scope,
    words: list[str],
    canonical: str | None,
    staff: bool,
    limit: int,
) -> Sql:
    """One query: the ids of the tickets found, best first.

    Candidates come from each word's newest matches in the scope (NEWEST_PER_WORD per source:
    messages, subjects and IDs, staff-only matches), each with a relevance score, and from the
    ID typed. A candidate is kept when it is the ID typed, or when every word is among its
    matches, or else when the words it lacks are only common ones (whose source reached the
    limit, so the candidate may hold them beyond it) and exact checks on the ticket find them.
    So a ticket with a rare word is found however common its other words; when every word is
    common, the newest tickets holding them all are. Score: the sum over the words of the
    word's best score in one of the ticket's texts. Order: the ID typed, score, recent
    activity. The scope is in every part of the query.
    """
    within, within_params = scope.sql()
    sources: list[Sql] = []
    present: list[Sql] = []
    checked: list[Sql] = []
    for number, term in enumerate(words, start=1):
        term_sources = backend.term_sources(
            number=number, term=term, scope=scope, newest=NEWEST_PER_WORD
        )
        checks = [backend.term_present(term)]
        if staff:
            *staff_sources, staff_check = _staff_matches(backend, term, scope, number)
            term_sources += staff_sources
            checks.append(staff_check)
        sources += term_sources
        void = backend.term_void(term)
        if void:
            checks.append(void)
        seen = f"candidate.has_{number} = 1"
        present.append((f"({seen} OR {void[0]})", void[1]) if void else (seen, []))
        checked.append(
            (
                f"({seen} OR " + " OR ".join(sql for sql, _params in checks) + ")",
                [param for _sql, params in checks for param in params],
            )
        )
    if canonical:
        sources.append(
            (
                f"SELECT t.id AS ticket_id, 0 AS term, CAST(0 AS REAL) AS score, 1 AS is_ref "
                f"FROM {TICKETS} t WHERE t.reference = %s AND {within}",
                [canonical, *within_params],
            )
        )
    union = " UNION ALL ".join(
        f"SELECT ticket_id, term, score, is_ref, {number} AS source FROM ({sql}) source_{number}"
        for number, (sql, _params) in enumerate(sources)
    )
    has = "".join(
        f", MAX(CASE WHEN term = {number} THEN 1 ELSE 0 END) AS has_{number}"
        for number in range(1, len(words) + 1)
    )
    lacks_only_common = " AND ".join(
        f"({sql} OR {number} IN (SELECT term FROM truncated))"
        for number, (sql, _params) in enumerate(present, start=1)
    )
    every_word = " AND ".join(sql for sql, _params in present) or "1 = 0"
    exactly = " AND ".join(sql for sql, _params in checked) or "1 = 0"
    sql = (
        f"WITH found AS {backend.materialized} ({union}), "
        "truncated AS ("
        " SELECT DISTINCT term FROM found GROUP BY source, term"
        f" HAVING COUNT(*) >= {NEWEST_PER_WORD}"
        "), "
        "candidate AS ("
        f" SELECT ticket_id, MAX(is_ref) AS is_ref, SUM(score) AS score{has}"
        " FROM ("
        "  SELECT ticket_id, term, MAX(is_ref) AS is_ref, MAX(score) AS score"
        "  FROM found GROUP BY ticket_id, term"
        " ) per_term"
        " GROUP BY ticket_id"
        ") "
        f"SELECT t.id FROM candidate {backend.ticket_join('candidate')} "
        f"WHERE {within} AND (candidate.is_ref = 1 OR ({every_word}) OR ("
        f"{lacks_only_common or '1 = 0'} AND {exactly})) "
        "ORDER BY candidate.is_ref DESC, candidate.score DESC, t.updated_at DESC, t.id DESC "
        "LIMIT %s"
    )
    params = [param for _sql, source_params in sources for param in source_params]
    params += within_params
    params += [param for _sql, present_params in present for param in present_params]
    params += [param for _sql, present_params in present for param in present_params]
    params += [param for _sql, checked_params in checked for param in checked_params]
    return sql, [*params, limit]


def _has_word(term: str) -> bool:
    """Whether `term` holds a letter or a digit: punctuation alone matches no indexed word."""
    return any(char.isalnum() for char in term)


def ticket_search(*, user: User, query: str, limit: int = 50) -> list[SearchHit]:
    """The tickets `user` may see that match `query`, best first.

    A ticket matches when the query is its ID (in any forgiving form) or when every word of the
    query (but the commonest function words, STOP_WORDS) appears in its subject, its ID, one
    of its public messages (body or attachment names), or, for staff, its customer's e-mail
    address or its service; a word found in very many messages counts in its newest matches
    (see _ranked_sql). The ticket whose ID is the query comes first; then relevance, then
    recent activity. Three queries (four for an agent, whose departments are read first)
    whatever the number of tickets or messages.
    """
    scope = _scope(user)
    terms = search_terms(query)
    if scope is None or not terms or limit <= 0:
        return []
    words = [term for term in terms if _has_word(term) and term not in STOP_WORDS]
    canonical = reference_normalize(query)
    if not words and not canonical:
        return []
    backend = backend_for(connection)
    sql, params = _ranked_sql(
        backend=backend,
        scope=scope,
        words=words,
        canonical=canonical,
        staff=user.is_staff,
        limit=limit,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ranked = [int(row[0]) for row in cursor.fetchall()]
        if not ranked:
            return []
        tickets = Ticket.objects.select_related("department", "service").in_bulk(ranked)
        marked = backend.marked(cursor, ticket_ids=ranked, terms=words) if words else {}

    hits = []
    for ticket_id in ranked:
        ticket = tickets.get(ticket_id)
        if ticket is None:  # deleted between the two queries
            continue
        marks = marked.get(ticket_id, Marked())
        subject_html = highlight_marked(marks.subject or ticket.subject, [])
        hits.append(
            SearchHit(
                ticket=ticket,
                snippet=_message_snippet(marks, words) or subject_html,
                subject_html=subject_html,
                matched_reference=canonical is not None and ticket.reference == canonical,
            )
        )
    return hits


def _message_snippet(marks: Marked, terms: list[str]) -> SafeString | None:
    """A passage of the best message: where its body matched, else where its attachments'
    names did; its body's best guess when the database marked nothing."""
    for text in (marks.body, marks.filenames):
        if text and MARK_START in text:
            return snippet_marked(text, terms)
    return snippet_marked(marks.body, terms) if marks.body else None


# --- Highlighting ---------------------------------------------------------------------------


def _folded_with_positions(text: str) -> tuple[str, list[int]]:
    """`text` folded character by character, and for each folded character its source index.

    Folding can change lengths (a capital İ lowers to two characters), so positions found in
    the folded text are mapped back through this list.
    """
    pieces: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        folded = fold(char)
        pieces.append(folded)
        positions.extend([index] * len(folded))
    return "".join(pieces), positions


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(span for span in spans if span[1] > span[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of `text` where a term appears, in order."""
    folded, positions = _folded_with_positions(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        for found in re.finditer(re.escape(term), folded):
            start = positions[found.start()]
            end = positions[found.end() - 1] + 1
            spans.append((start, end))
    return _merged(spans)


def _unmarked(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`text` without the database's markers, and the spans they marked.

    The markers may nest (PostgreSQL marks in Spanish, then in English) or be unbalanced in a
    damaged text: a span is what lies between the first start and the end that closes it.
    """
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for char in text:
        if char == MARK_START:
            if depth == 0:
                start = len(plain)
            depth += 1
        elif char == MARK_END:
            if depth == 1:
                spans.append((start, len(plain)))
            depth = max(0, depth - 1)
        else:
            plain.append(char)
    if depth:
        spans.append((start, len(plain)))
    return "".join(plain), _merged(spans)


def _render(text: str, spans: list[tuple[int, int]]) -> SafeString:
    out: list[str] = []
    cursor = 0
    for start, end in spans:
        out.append(escape(text[cursor:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        cursor = end
    out.append(escape(text[cursor:]))
    # Safe: every piece was escaped above; only our own <mark> tags are added.
    return mark_safe("".join(out))


def highlight(text: str, terms: list[str]) -> SafeString:
    """`text` escaped, with every occurrence of a term wrapped in <mark>."""
    return _render(text, _match_spans(text, terms))


def highlight_marked(text: str, terms: list[str]) -> SafeString:
    """A text marked by the database, escaped, with its marked matches wrapped in <mark>
    (where the database marked nothing, the terms' occurrences)."""
    plain, spans = _unmarked(text)
    return _render(plain, spans or _match_spans(plain, terms))


def _passage(
    flat: str, spans: list[tuple[int, int]], *, cut_before: bool = False, cut_after: bool = False
) -> SafeString:
    """A short passage of `flat` (one line) around its first span, escaped and highlighted;
    `cut_before` / `cut_after` when `flat` itself is a cut from a longer text."""
    if not spans:
        start, end = 0, min(len(flat), SNIPPET_BEFORE + SNIPPET_AFTER)
    else:
        first = spans[0][0]
        start = max(0, first - SNIPPET_BEFORE)
        end = min(len(flat), first + SNIPPET_AFTER)
    # Cut at word boundaries so the passage does not begin or end in half a word.
    if start > 0:
        space = flat.find(" ", start, spans[0][0] if spans else end)
        start = space + 1 if space != -1 else start
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start else end
    inside = [
        (max(span_start, start) - start, min(span_end, end) - start)
        for span_start, span_end in spans
        if span_start < end and span_end > start
    ]
    passage = _render(flat[start:end], inside)
    prefix = "… " if start > 0 or cut_before else ""
    suffix = " …" if end < len(flat) or cut_after else ""
    return mark_safe(f"{prefix}{passage}{suffix}")  # passage is escaped and highlighted


def snippet(text: str, terms: list[str]) -> SafeString:
    """A short passage of `text` around its first match, escaped and highlighted."""
    flat = " ".join(text.split())
    return _passage(flat, _match_spans(flat, terms))


def snippet_marked(text: str, terms: list[str]) -> SafeString:
    """A short passage of a text marked by the database, around its first marked match."""
    flat = " ".join(text.split())
    cut_before, cut_after = flat.startswith(MARK_CUT), flat.endswith(MARK_CUT)
    plain, spans = _unmarked(" ".join(flat.replace(MARK_CUT, " ").split()))
    return _passage(
        plain, spans or _match_spans(plain, terms), cut_before=cut_before, cut_after=cut_after
    )
