"""Folding the quoted history out of an HTML body (an lxml tree), the way quotes.py does for
plain text.

A container holds the old message (Gmail's gmail_quote, Yahoo's yahoo_quoted, any
blockquote); a header starts it and the old message follows it to the end of the document
(Outlook's divRplyFwdMsg and appendonsend, Outlook desktop's bordered div or bare
"From: … Sent: …" paragraph, Thunderbird's moz-cite-prefix, Zimbra's hr#zwchr,
"-----Original Message-----"). Like the plain rules: forwards, answers between quotes and
anything that would leave no new text are not folded; a bottom-posted reply loses only the
quote above it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

from atiende.mail.inbound.quotes import (
    FROM_FIELDS,
    OTHER_FIELDS,
    ends_like_attribution,
    field_name,
    is_attribution,
    is_forward_marker,
    is_original_message,
    normalize,
)

_FIELD_INSIDE = re.compile(r"(?<!\w)([^\W\d_][^\W\d_]{0,13})\s?:")
_WORD = re.compile(r"[^\W\d_]+")

QUOTE_CONTAINER = "container"
QUOTE_HEADER = "header"
_CONTAINER_MARKERS = ("gmail_quote", "yahoo_quoted", "protonmail_quote", "applemailquote")
_HEADER_MARKERS = (
    "divrplyfwdmsg",
    "appendonsend",
    "outlookmessageheader",
    "moz-cite-prefix",
    "moz-forward-container",
    "zmail_extra",
    "zwchr",
)

# What was cut: elements (with their tails) and loose text, in document order.
Fragment = etree._Element | str


_HEADER_MARKER = re.compile("|".join(_HEADER_MARKERS), re.IGNORECASE)
_CONTAINER_MARKER = re.compile("|".join(_CONTAINER_MARKERS), re.IGNORECASE)


def quote_marker(value: str) -> str | None:
    """The quote kind a class or id attribute of a mail client stands for, or None."""
    if not value:
        return None
    if _HEADER_MARKER.search(value):
        return QUOTE_HEADER
    if _CONTAINER_MARKER.search(value):
        return QUOTE_CONTAINER
    return None


def outlook_header_style(value: str) -> bool:
    """Outlook desktop draws the line above the old message with this inline style."""
    style = value.lower().replace(" ", "")
    return "border-top:solid#e1e1e1" in style or "border-top:solid#b5c4df" in style


def quote_kind(element: etree._Element) -> str | None:
    """QUOTE_CONTAINER, QUOTE_HEADER or None."""
    if element.tag == "blockquote":
        return QUOTE_CONTAINER
    for attribute in ("class", "id"):
        kind = quote_marker(element.get(attribute) or "")
        if kind:
            return kind
    if element.tag == "div" and outlook_header_style(element.get("style") or ""):
        return QUOTE_HEADER
    return None


def _readable(text: str | None) -> bool:
    return bool(text and text.replace("\xa0", " ").strip())


def text_content(element: etree._Element) -> str:
    """All the text inside an element (not its tail)."""
    return "".join(element.itertext())


def _content(element: etree._Element) -> str:
    return text_content(element)


def _is_blank(element: etree._Element) -> bool:
    if element.tag in {"br", "hr"}:
        return True
    return (
        element.tag != "img" and not element.findall(".//img") and not _readable(_content(element))
    )


@dataclass(frozen=True)
class _Start:
    """Where the history starts: an element, or the text right after an element (its tail)."""

    element: etree._Element
    tail: bool = False


def _leading_text(element: etree._Element, size: int = 400) -> str:
    """The first `size` characters of an element's text (without reading all of it)."""
    pieces: list[str] = []
    length = 0
    for piece in element.itertext():
        pieces.append(piece)
        length += len(piece)
        if length >= size:
            break
    # Pieces are apart in the tree (a <br> between them): keep them apart as words too.
    return " ".join(" ".join(pieces)[:size].split())


def _first_word(element: etree._Element) -> str:
    """The first word of an element, looked for down its first children only (Outlook's
    `<p><b><span>From:</span></b>`): bounded work per element however deep the tree."""
    node = element
    for _ in range(6):
        text = (node.text or "").lstrip(" \t\r\n\xa0*")
        if text:
            match = _WORD.match(text)
            return match.group(0).lower() if match else ""
        if len(node) == 0 or not isinstance(node[0].tag, str):
            return ""
        node = node[0]
    return ""


def starts_with_header_block(text: str) -> bool:
    """ "From: … Sent: … To: …" at the start of a paragraph: Outlook's header above the old
    message, when it has no marker of its own."""
    if field_name(text) not in FROM_FIELDS:
        return False
    return any(normalize(match.group(1)) in OTHER_FIELDS for match in _FIELD_INSIDE.finditer(text))


def _history_start(body: etree._Element) -> _Start | None:
    for event, element in etree.iterwalk(body, events=("start", "end")):
        if not isinstance(element.tag, str):
            continue
        if event == "start":
            if element is not body and quote_kind(element):
                return _Start(element)
            if (
                element.tag in {"p", "div"}
                and element is not body
                and _first_word(element) in FROM_FIELDS
                and starts_with_header_block(_leading_text(element))
            ):
                return _Start(element)
            if element is not body and element.text and is_original_message(element.text):
                return _Start(element)
        elif element is not body and element.tail and is_original_message(element.tail):
            return _Start(element, tail=True)
    return None


def _strings_before(body: etree._Element, start: _Start) -> Iterator[str]:
    """The text that comes before `start` in document order."""
    for event, element in etree.iterwalk(body, events=("start", "end")):
        if event == "start":
            if element is start.element and not start.tail:
                return
            if element.text:
                yield element.text
        else:
            if element is start.element:
                return
            if element.tail and element is not body:
                yield element.tail


def _following(element: etree._Element, body: etree._Element) -> Iterator[Fragment]:
    """What comes after `element` (outside it) up to the end of `body`, in document order."""
    current = element
    while current is not body and current.getparent() is not None:
        if current.tail:
            yield current.tail
        yield from current.itersiblings()
        parent = current.getparent()
        assert parent is not None
        current = parent


def _text_after(element: etree._Element, body: etree._Element) -> bool:
    for item in _following(element, body):
        text = item if isinstance(item, str) else _content(item) + (item.tail or "")
        if _readable(text):
            return True
    return False


def _quote_after(element: etree._Element, body: etree._Element) -> bool:
    return any(
        quote_kind(found)
        for item in _following(element, body)
        if not isinstance(item, str)
        for found in item.iter()
        if isinstance(found.tag, str)
    )


def _attribution_before(element: etree._Element) -> list[Fragment] | None:
    """The "On … wrote:" text or element right above a quote, with the blank nodes between,
    in document order; None when there is none. Only looks, changes nothing."""
    parent = element.getparent()
    if parent is None:
        return None
    items: list[Fragment] = []
    for sibling in element.itersiblings(preceding=True):
        if _readable(sibling.tail):
            return _attribution_or_none(sibling.tail or "", items)
        items.append(sibling)
        if not _is_blank(sibling):
            return _attribution_or_none(_content(sibling), items, element_text=True)
    return _attribution_or_none(parent.text or "", items) if _readable(parent.text) else None


def _attribution_or_none(
    text: str, items: list[Fragment], *, element_text: bool = False
) -> list[Fragment] | None:
    line = " ".join(text.split())
    if not (is_attribution(line) or ends_like_attribution(line)):
        return None
    ordered = list(reversed(items))
    return ordered if element_text else [text, *ordered]


def _cut(body: etree._Element, start: _Start) -> list[Fragment]:
    """Remove `start` and everything after it in document order; return what was removed."""
    taken: list[Fragment] = []
    current = start.element
    if not start.tail:
        taken.append(current)
    while current is not body and current.getparent() is not None:
        parent = current.getparent()
        assert parent is not None
        if current is not start.element or start.tail:
            if current.tail:
                taken.append(current.tail)
            current.tail = None
        following = list(current.itersiblings())
        taken.extend(following)
        for sibling in following:
            parent.remove(sibling)
        if current is start.element and not start.tail:
            parent.remove(current)
        current = parent
    return taken


def _remove(
    element: etree._Element, before: Sequence[Fragment], unit: Sequence[etree._Element]
) -> None:
    """Remove an attribution (from _attribution_before) and the quote elements after it,
    keeping the text that follows the last of them in the document."""
    parent = element.getparent()
    assert parent is not None
    elements = [item for item in before if not isinstance(item, str)] + list(unit)
    anchor = elements[0].getprevious() if elements else None
    for item in before:
        if isinstance(item, str):
            owner = next(
                (
                    sibling
                    for sibling in element.itersiblings(preceding=True)
                    if sibling.tail == item
                ),
                None,
            )
            if owner is not None:
                owner.tail = None
            elif parent.text == item:
                parent.text = None
    rest = unit[-1].tail if unit else None
    if unit:
        unit[-1].tail = None
    for item in elements:
        parent.remove(item)
    if rest:
        if anchor is None:
            parent.text = (parent.text or "") + rest
        else:
            anchor.tail = (anchor.tail or "") + rest


def html_split_quoted(body: etree._Element) -> list[Fragment]:
    """Cut the quoted history out of `body` (changed in place) and return it, in order; []
    when there is none, when it is a forward, when answers are written between quotes, or
    when cutting it would leave no new text.

    Top-posted (new text above): the history runs from the first quote to the end.
    Bottom-posted (nothing new above, new text below and no further quote): only the quote
    (with the attribution above it) is cut.
    """
    start = _history_start(body)
    if start is None:
        return []
    before = [] if start.tail else (_attribution_before(start.element) or [])
    first_element = next((item for item in before if not isinstance(item, str)), None)
    earlier = list(
        _strings_before(body, _Start(first_element) if first_element is not None else start)
    )
    if before and isinstance(before[0], str) and earlier and earlier[-1] == before[0]:
        earlier.pop()
    if any(is_forward_marker(text) for text in earlier):
        return []
    kind = QUOTE_HEADER if start.tail else quote_kind(start.element) or QUOTE_HEADER
    if any(map(_readable, earlier)):
        if kind == QUOTE_CONTAINER and _text_after(start.element, body):
            return []
        if before:
            _remove(start.element, before, [])
        return [*before, *_cut(body, start)]
    if start.tail:
        return []
    unit = _quote_unit(start.element, kind)
    last = unit[-1]
    if not _text_after(last, body) or _quote_after(last, body):
        return []
    _remove(start.element, before, unit)
    return [*before, *unit]


def _quote_unit(start: etree._Element, kind: str) -> list[etree._Element]:
    """A quote and, for a header (Thunderbird's "On … wrote:" div), the quote after it."""
    unit = [start]
    if kind == QUOTE_HEADER:
        for sibling in start.itersiblings():
            if _readable(unit[-1].tail):
                return [start]
            unit.append(sibling)
            if not _is_blank(sibling):
                return unit if quote_kind(sibling) else [start]
    return unit
