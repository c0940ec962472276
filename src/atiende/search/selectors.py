"""The one search function over tickets.

`ticket_search()` is the contract every surface calls. This first implementation folds case
and the Spanish accents on both sides and matches with LIKE, the same way on SQLite and
PostgreSQL; the full-text backends (SQLite FTS5, PostgreSQL tsvector) will come later behind
this same function and return the same `SearchHit`s.

What a customer finds is scoped to his account in the query itself, and only public messages
are searched: an internal note never matches and never appears in a snippet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import (
    Case,
    Exists,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Lower, Replace
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from atiende.accounts.models import User
from atiende.core.references import reference_normalize
from atiende.core.text import strip_control
from atiende.tickets.models import Message, Ticket
from atiende.tickets.selectors import ticket_list_for_agent

QUERY_MAX = 200
TERMS_MAX = 8
SNIPPET_BEFORE = 60
SNIPPET_AFTER = 140

# Folded on both sides, in SQL and in Python, with the same table: the database's LOWER() only
# folds ASCII on SQLite (and under the C locale on PostgreSQL), so the accented capitals are
# mapped explicitly.
_FOLD_PAIRS: tuple[tuple[str, str], ...] = (
    ("á", "a"), ("é", "e"), ("í", "i"), ("ó", "o"), ("ú", "u"), ("ü", "u"), ("ñ", "n"),
    ("Á", "a"), ("É", "e"), ("Í", "i"), ("Ó", "o"), ("Ú", "u"), ("Ü", "u"), ("Ñ", "n"),
)  # fmt: skip
_FOLD_TABLE = str.maketrans(dict(_FOLD_PAIRS))
_EDGE_PUNCTUATION = "\"'¿?¡!.,;:()[]{}<>«»“”\u2018\u2019*"


@dataclass(frozen=True)
class SearchHit:
    """One ticket found, with what to show about why it was found.

    `snippet` is the matching text (a passage of the first public message that matches, else
    the subject), escaped, with the matches wrapped in <mark>. `subject_html` is the subject
    escaped and highlighted the same way.
    """

    ticket: Ticket
    snippet: SafeString
    subject_html: SafeString
    matched_reference: bool


def fold(text: str) -> str:
    """Lower case without the Spanish accents: what both sides of a comparison are reduced to."""
    return text.lower().translate(_FOLD_TABLE)


def _folded_sql(field: str) -> Func:
    expression: Func = Lower(field, output_field=TextField())
    for accented, plain in _FOLD_PAIRS:
        expression = Replace(expression, Value(accented), Value(plain), output_field=TextField())
    return expression


def search_terms(query: str) -> list[str]:
    """The folded words of a query, without surrounding punctuation, at most TERMS_MAX."""
    terms: list[str] = []
    for word in fold(strip_control(query or "")[:QUERY_MAX]).split():
        term = word.strip(_EDGE_PUNCTUATION)
        if term and term not in terms:
            terms.append(term)
    return terms[:TERMS_MAX]


def _visible_tickets(user: User) -> QuerySet[Ticket] | None:
    """The tickets `user` may search, or None when he may search none."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff:
        return ticket_list_for_agent(agent=user)
    if user.account_id is None:
        return None
    return Ticket.objects.filter(account_id=user.account_id)


def ticket_search(*, user: User, query: str, limit: int = 50) -> list[SearchHit]:
    """The tickets `user` may see that match `query`, most recent activity first.

    A ticket matches when the query is its ID (in any forgiving form) or when every word of the
    query appears in its ID, its subject or one of its public messages. A ticket whose ID is
    the query comes first. Two queries whatever the number of tickets or messages.
    """
    tickets = _visible_tickets(user)
    terms = search_terms(query)
    if tickets is None or not terms or limit <= 0:
        return []
    canonical = reference_normalize(query)

    public_messages = Message.objects.filter(ticket=OuterRef("pk"), is_internal=False).annotate(
        folded_body=_folded_sql("body")
    )
    every_term = Q()
    any_term_in_body = Q()
    for term in terms:
        in_ticket = (
            Q(folded_subject__contains=term)
            | Q(reference__icontains=term)
            | Q(Exists(public_messages.filter(folded_body__contains=term)))
        )
        if user.is_staff:
            # Staff also find a ticket by its customer's e-mail or its service (a domain).
            in_ticket |= Q(customer__email__icontains=term) | Q(service__name__icontains=term)
        every_term &= in_ticket
        any_term_in_body |= Q(folded_body__contains=term)
    condition = every_term | Q(reference=canonical) if canonical else every_term

    found = list(
        tickets.annotate(folded_subject=_folded_sql("subject"))
        .filter(condition)
        .annotate(
            is_reference=(
                Case(
                    When(reference=canonical, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
                if canonical
                else Value(0)
            ),
            first_match_id=Subquery(
                public_messages.filter(any_term_in_body)
                .order_by("created_at", "id")
                .values("pk")[:1]
            ),
        )
        .select_related("department", "service")
        .order_by("-is_reference", "-updated_at", "-id")[:limit]
    )
    bodies = dict(
        Message.objects.filter(
            pk__in=[ticket.first_match_id for ticket in found if ticket.first_match_id]
        ).values_list("pk", "body")
    )
    hits = []
    for ticket in found:
        body = bodies.get(ticket.first_match_id) if ticket.first_match_id else None
        subject_html = highlight(ticket.subject, terms)
        hits.append(
            SearchHit(
                ticket=ticket,
                snippet=snippet(body, terms) if body else subject_html,
                subject_html=subject_html,
                matched_reference=bool(canonical) and ticket.reference == canonical,
            )
        )
    return hits


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


def _match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of `text` where a term appears, in order."""
    folded, positions = _folded_with_positions(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        for found in re.finditer(re.escape(term), folded):
            start = positions[found.start()]
            end = positions[found.end() - 1] + 1
            spans.append((start, end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms: list[str]) -> SafeString:
    """`text` escaped, with every occurrence of a term wrapped in <mark>."""
    out: list[str] = []
    cursor = 0
    for start, end in _match_spans(text, terms):
        out.append(escape(text[cursor:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        cursor = end
    out.append(escape(text[cursor:]))
    # Safe: every piece was escaped above; only our own <mark> tags are added.
    return mark_safe("".join(out))


def snippet(text: str, terms: list[str]) -> SafeString:
    """A short passage of `text` around its first match, escaped and highlighted."""
    flat = " ".join(text.split())
    spans = _match_spans(flat, terms)
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
    passage = highlight(flat[start:end], terms)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flat) else ""
    return mark_safe(f"{prefix}{passage}{suffix}")  # passage is escaped and highlighted
