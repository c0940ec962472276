"""Folding the quoted history of a plain-text reply away from the new text (HTML:
quotes_html.py, which shares the line rules below).

Our own small rules rather than a reply-parsing library: the maintained one we tried
(mail-parser-reply) strips every line (plain text must stay as written), misses the usual
Spanish attribution ("El lun, 5 ene 2025, Ana <ana@example.com> escribió:") and its
patterns take seconds on one long line (a sender could stall the worker). Everything here
looks at one line, or at most a few short ones, at a time, so it is linear in the text.

What is folded:

- the tail that starts with an attribution ("On … wrote:", "El … escribió:", "Le … a écrit :",
  "Am … schrieb …:" and others, also wrapped over up to three lines), an
  "-----Original Message-----" separator, or an Outlook-style header block
  ("From: … / Sent: … / To: … / Subject: …", in several languages), when what follows is the
  old message (not answers written between quoted lines);
- a bottom-posted reply: an attribution and ">" lines first, then only new text;
- else a trailing block of ">" lines (and the attribution line just above it).

What is never folded: forwarded messages (the forwarded text is what the customer wants us to
read), answers interleaved with quotes, signatures, and anything that would leave no new text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# First words of an attribution line, per language; lower case.
_ATTRIBUTION_STARTS = (
    "on ",  # en
    "el ",  # es
    "em ",  # pt
    "le ",  # fr
    "am ",  # de
    "il ",  # it
    "op ",  # nl
    "den ",  # da, sv, no
    "dne ",  # cs
    "w dniu ",  # pl
    "dnia ",  # pl
    "в ",  # ru
)
# Last words of an attribution line (without the colon); lower case.
_ATTRIBUTION_VERBS = (
    "wrote",
    "escribió",
    "escribio",
    "escreveu",
    "a écrit",
    "schrieb",
    "ha scritto",
    "schreef",
    "skrev",
    "napsal",
    "napsal(a)",
    "napisał",
    "napisał(a)",
    "kirjoitti",
    "написал",
    "написал(а)",  # noqa: RUF001 (Cyrillic a: Russian)
    "yazdı",  # noqa: RUF001 (dotless i: Turkish)
)
_VERB_SECOND = ("schrieb", "schreef", "skrev")
_ORIGINAL_MESSAGE = frozenset(
    {
        "original message",
        "mensaje original",
        "mensagem original",
        "message d'origine",
        "message original",
        "ursprüngliche nachricht",
        "messaggio originale",
        "oorspronkelijk bericht",
        "originalmeddelande",
        "original meddelelse",
    }
)
_FORWARD_MARKERS = frozenset(
    {
        "forwarded message",
        "forwarded message follows",
        "begin forwarded message:",
        "mensaje reenviado",
        "inicio del mensaje reenviado:",
        "comienzo del mensaje reenviado:",
        "mensagem encaminhada",
        "message transféré",
        "début du message réexpédié :",
        "début du message transféré :",
        "weitergeleitete nachricht",
        "messaggio inoltrato",
    }
)
# Field names of the header block Outlook and webmails put above the old message.
FROM_FIELDS = frozenset({"from", "de", "von", "da", "van", "od", "från", "fra", "от"})
OTHER_FIELDS = frozenset(
    {
        "sent",
        "date",
        "to",
        "subject",
        "cc",
        "enviado",
        "enviado el",
        "fecha",
        "para",
        "asunto",
        "data",
        "assunto",
        "envoyé",
        "à",
        "objet",
        "gesendet",
        "an",
        "betreff",
        "datum",
        "inviato",
        "oggetto",
        "a",
        "verzonden",
        "aan",
        "onderwerp",
    }
)
_MAX_ATTRIBUTION = 500  # characters: a longer "line" is text, not an attribution
_QUOTE_PREFIX = re.compile(r" *(>+)")
_TIME = re.compile(r"\d{1,2}:\d{2}")
_FIELD = re.compile(r"^[*\s]*([^\W\d][\w ]{0,14}?)\s*[*]?\s*:", re.UNICODE)


def _quote_level(line: str) -> int:
    match = _QUOTE_PREFIX.match(line)
    return match.end() - match.start(1) if match else 0


def normalize(line: str) -> str:
    return " ".join(line.replace("\xa0", " ").split()).lower()


def is_attribution(text: str) -> bool:
    """Whether `text` (one line, or a few joined) reads like "On <date>, <someone> wrote:"."""
    line = normalize(text).lstrip("-* ")
    if not line or len(line) > _MAX_ATTRIBUTION or not line.endswith(":"):
        return False
    body = line[:-1].rstrip()
    if not line.startswith(_ATTRIBUTION_STARTS):
        return False
    # "Am 5. Jan. schrieb Ana <a@x>:" puts the verb second, the name after it.
    return body.endswith(_ATTRIBUTION_VERBS) or any(f" {verb} " in body for verb in _VERB_SECOND)


def ends_like_attribution(text: str) -> bool:
    """ "Ana <ana@example.com> wrote:" with no date in front: enough just above a ">" block."""
    line = normalize(text)
    return len(line) <= _MAX_ATTRIBUTION and line[:-1].rstrip().endswith(_ATTRIBUTION_VERBS)


def _attribution_at(lines: Sequence[str], index: int) -> int:
    """How many lines (1 to 3) starting at `index` make an attribution, or 0."""
    first = normalize(lines[index]).lstrip("-* ")
    if not first.startswith(_ATTRIBUTION_STARTS) or len(first) > _MAX_ATTRIBUTION:
        return 0
    joined = lines[index]
    for count in range(1, 4):
        if is_attribution(joined):
            return count
        if index + count >= len(lines) or len(joined) > _MAX_ATTRIBUTION:
            return 0
        joined = f"{joined} {lines[index + count]}"
    return 0


def field_name(line: str) -> str | None:
    match = _FIELD.match(line[:40])
    return normalize(match.group(1)) if match else None


def _header_block_at(lines: Sequence[str], index: int) -> bool:
    """An Outlook-style block: a From-like field, and another known field in the next lines."""
    if field_name(lines[index]) not in FROM_FIELDS:
        return False
    following = (field_name(line) for line in lines[index + 1 : index + 6] if line.strip())
    return any(name in OTHER_FIELDS for name in following)


def _is_separator_line(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 10 and set(stripped) <= {"_", "-", "—"}


def _marker_text(line: str) -> str:
    return normalize(line).strip("-—_* ").strip()


def is_forward_marker(line: str) -> bool:
    if len(line) > 120 or not ("-" in line or ":" in line):
        return False
    text = _marker_text(line)
    return bool(text) and len(text) < 60 and text in _FORWARD_MARKERS


def is_original_message(line: str) -> bool:
    if len(line) > 120 or "--" not in line:
        return False
    text = _marker_text(line)
    return bool(text) and len(text) < 60 and text in _ORIGINAL_MESSAGE


def _splitter(lines: Sequence[str]) -> tuple[int, str] | None:
    """(index, kind) of the first line where the quoted history starts, before any forward.

    Lines already quoted with ">" are left to the trailing-quote rule."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if is_forward_marker(stripped):
            return None
        if is_original_message(stripped):
            return index, "header"
        if _could_start_attribution(stripped) and _attribution_at(lines, index):
            return index, "attribution"
        if ":" in stripped[:40] and _header_block_at(lines, index):
            start = index
            previous = index - 1
            while previous >= 0 and not lines[previous].strip():
                previous -= 1
            if previous >= 0 and _is_separator_line(lines[previous]):
                start = previous
            return start, "header"
    return None


def _could_start_attribution(stripped: str) -> bool:
    return stripped.lstrip("-* ")[:12].lower().startswith(_ATTRIBUTION_STARTS)


def _answers_between_quotes(lines: Sequence[str]) -> bool:
    """Whether unquoted text follows quoted lines (an answer written inline or below)."""
    seen_quote = False
    for line in lines:
        if _quote_level(line):
            seen_quote = True
        elif seen_quote and line.strip():
            return True
    return False


def _wrapped_attribution(lines: Sequence[str]) -> bool:
    """An attribution a client wrapped over two or three lines, whatever its first words:
    it ends like one, and its first line carries a time or breaks inside an address."""
    joined = " ".join(lines)
    first = lines[0].rstrip()
    return ends_like_attribution(joined) and (
        bool(_TIME.search(first[:_MAX_ATTRIBUTION])) or first.endswith("<")
    )


def _trailing_quote_start(lines: Sequence[str]) -> int | None:
    """The first line of a final run of ">" lines (blank lines allowed), with the attribution
    line(s) just above it."""
    last_text = len(lines) - 1
    while last_text >= 0 and (not lines[last_text].strip() or _quote_level(lines[last_text])):
        last_text -= 1
    start = last_text + 1
    if not any(_quote_level(line) for line in lines[start:]):
        return None
    for count in (1, 2, 3):
        first = last_text - count + 1
        if first < 0:
            break
        above = lines[first : last_text + 1]
        if is_attribution(" ".join(above)):
            return first
        if count == 1 and ends_like_attribution(above[0]):
            # "Ana <ana@example.com> wrote:" alone, or the end of a wrapped one
            if first > 0 and _wrapped_attribution(lines[first - 1 : last_text + 1]):
                return first - 1
            return first
    return start


def _leading_quote_end(lines: Sequence[str]) -> int | None:
    """Where the new text starts in a bottom-posted reply: an attribution and ">" lines
    first, then only new text (no more quotes: that would be answers between quotes)."""
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    end = first + _attribution_at(lines, first)
    if end == first and not _quote_level(lines[first]):
        return None
    while end < len(lines) and (not lines[end].strip() or _quote_level(lines[end])):
        end += 1
    quoted = any(_quote_level(line) for line in lines[first:end])
    rest = lines[end:]
    if not quoted or not any(line.strip() for line in rest):
        return None
    if any(_quote_level(line) for line in rest):
        return None
    return end


def text_split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history) of a plain-text body; the history is "" when none is found.

    The text is kept as written: only line endings are normalized and surrounding blank lines
    trimmed.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    new: list[str] = lines
    quoted: list[str] = []
    found = _splitter(lines)
    cut: int | None = None
    if found is not None:
        index, kind = found
        if kind == "header" or not _answers_between_quotes(
            lines[index + _attribution_at(lines, index) :]
        ):
            cut = index
    if cut is None or not any(line.strip() for line in lines[:cut]):
        cut = None
        leading_end = _leading_quote_end(lines)
        if leading_end is not None:
            new, quoted = lines[leading_end:], lines[:leading_end]
        else:
            cut = _trailing_quote_start(lines)
    if cut is not None:
        new, quoted = lines[:cut], lines[cut:]
    if not any(line.strip() for line in new):
        new, quoted = lines, []
    return _trimmed(new), _trimmed(quoted)


def _trimmed(lines: Sequence[str]) -> str:
    return "\n".join(lines).strip("\n").rstrip()
