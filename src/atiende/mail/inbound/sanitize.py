"""HTML from e-mail made safe to show, its quoted history folded, and a text version of it.

- lxml (libxml2) reads the HTML: fast on large input, and it stops at a nesting depth of 2048
  (html5ever, below, takes time quadratic in the nesting depth: a sender could stall the
  worker with a few megabytes of `<div>`s). On that tree we drop scripts, styles and the
  like, put the alt text of remote images in their place, fold the quoted history away
  (quotes.py) and derive the text versions.
- nh3 (the Python binding of the Rust ammonia crate, maintained) sanitizes what is left with
  an allow-list: no scripts, styles, event handlers, forms, frames, classes, ids or style
  attributes; links only to http, https and mailto, with rel="noopener noreferrer nofollow";
  images only from `cid:` (parts of the message) and `data:image/...`, never loaded from
  elsewhere (a remote image tells the sender when and where the mail was read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

import nh3
from lxml import etree

from atiende.mail.inbound.quotes_html import Fragment, html_split_quoted, text_content

TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "u",
        "ul",
    }
)
# Removed with everything inside them (the other unknown tags lose the tag, keep the text).
DROPPED_WITH_CONTENT = frozenset(
    {
        "applet",
        "button",
        "embed",
        "frame",
        "frameset",
        "head",
        "iframe",
        "math",
        "noembed",
        "noframes",
        "noscript",
        "object",
        "option",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
        "title",
        "xml",
    }
)
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"dir"},
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
MAX_ELEMENTS_FOR_LAYOUT = 100_000
LINK_REL = "noopener noreferrer nofollow"
_LINK_SCHEMES = ("http:", "https:", "mailto:")
_IMAGE_SOURCE = re.compile(r"^(cid:\S+|data:image/(png|jpeg|jpg|gif|webp);base64,)", re.IGNORECASE)
_DIMENSION = re.compile(r"^\d{1,4}%?$")


def _final_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return value if value.strip().lower().startswith(_LINK_SCHEMES) else None
    if attribute == "src":
        return value if _IMAGE_SOURCE.match(value.strip()) else None
    if attribute in {"width", "height"}:
        return value if _DIMENSION.match(value.strip()) else None
    return value


def html_sanitize(html: str) -> str:
    """`html` with only the allow-list left: safe to put in a page as it is."""
    return nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=_final_filter,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes={"http", "https", "mailto", "cid", "data"},
        url_relative="deny",
    )


@dataclass(frozen=True)
class RenderedHtml:
    html: str  # sanitized HTML of the new part ("" when there is no visible content)
    text: str  # the new part as plain text
    quoted: str  # the folded history as plain text ("" when none)
    content_ids: frozenset[str]  # cid: references anywhere in the message (history included)


_NOT_XML_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _body_of(source: str) -> etree._Element | None:
    data = _NOT_XML_CHARACTERS.sub("", source).encode("utf-8")
    if not data.strip():
        return None
    try:
        # A parser per call: lxml parsers must not be shared between threads.
        parser = etree.HTMLParser(
            encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True, no_network=True
        )
        root = etree.fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError):
        return None
    if root is None:
        return None
    etree.strip_elements(root, *DROPPED_WITH_CONTENT, with_tail=False)
    body = root.find("body")
    return body if body is not None else root


def _images_resolve(body: etree._Element) -> frozenset[str]:
    """Keep cid: and data: images; put the alt text of any other image in its place."""
    content_ids: set[str] = set()
    for image in list(body.iter("img")):
        source = (image.get("src") or "").strip()
        if source.lower().startswith("cid:"):
            content_ids.add(unquote(source[4:].strip()).strip("<>"))
        elif not _IMAGE_SOURCE.match(source) and image is not body:
            alt = " ".join((image.get("alt") or "").split())
            _drop_keeping_tail(image, f"{alt}{image.tail or ''}")
    return frozenset(content_ids)


def _drop_keeping_tail(element: etree._Element, tail: str) -> None:
    """Remove `element` with what is inside it; `tail` takes its place in the text."""
    parent = element.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    if tail:
        if previous is None:
            parent.text = (parent.text or "") + tail
        else:
            previous.tail = (previous.tail or "") + tail
    parent.remove(element)


def _trim_end(body: etree._Element) -> None:
    """Drop the line breaks, rules and empty elements left at the end where history was cut."""
    while True:
        last: etree._Element = body
        while len(last):
            last = last[-1]
        if last is body or _readable_tail(last) or last.tag == "img":
            return
        if last.text and last.text.replace("\xa0", " ").strip():
            return
        parent = last.getparent()
        assert parent is not None
        parent.remove(last)


def _readable_tail(element: etree._Element) -> bool:
    return bool(element.tail and element.tail.replace("\xa0", " ").strip())


def _flat_text(body: etree._Element) -> str:
    text = _SPACES_IN_LINE.sub(" ", "".join(body.itertext()))
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def html_render(source: str) -> RenderedHtml:
    """Sanitize an HTML body, fold its quoted history and derive the text versions."""
    body = _body_of(source)
    if body is None:
        return RenderedHtml(html="", text="", quoted="", content_ids=frozenset())
    content_ids = _images_resolve(body)
    if body.xpath("count(descendant-or-self::*)") > MAX_ELEMENTS_FOR_LAYOUT:
        # Folding and layout cost Python work per element: past this size (no real reply
        # comes close) the text is read flat and nothing is folded.
        quoted: list[Fragment] = []
        text = _flat_text(body)
    else:
        quoted = html_split_quoted(body)
        if quoted:
            _trim_end(body)
        text = fragments_to_text([body], include_tails=False)
    has_image = body.find(".//img") is not None
    html = ""
    if text or has_image:
        html = html_sanitize(etree.tostring(body, encoding="unicode", method="html")).strip()
    return RenderedHtml(
        html=html,
        text=text,
        quoted=fragments_to_text(quoted, include_tails=True),
        content_ids=content_ids,
    )


# --- HTML to text --------------------------------------------------------------------------
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "footer",
        "header",
        "hr",
        "li",
        "ol",
        "section",
        "table",
        "tr",
        "ul",
    }
)
_SPACES_IN_LINE = re.compile(r"[ \t\f\v\xa0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_PARAGRAPHS = frozenset({"p", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})
_SPACES = re.compile(r"[ \t\r\n\f\v\xa0]+")


class _TextWriter:
    """Collects text with the line breaks blocks imply: never more than one blank line."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.at_line_start = True
        self.newlines = 2  # line breaks just written (2 at the start: no leading ones)
        self.preformatted = 0

    def write(self, text: str | None) -> None:
        if not text:
            return
        if not self.preformatted:
            text = _SPACES.sub(" ", text)
            if self.at_line_start:
                text = text.lstrip(" ")
        if not text:
            return
        self.parts.append(text)
        self.at_line_start = text.endswith("\n")
        self.newlines = len(text) - len(text.rstrip("\n")) if self.at_line_start else 0

    def line_break(self) -> None:
        self.parts.append("\n")
        self.newlines += 1
        self.at_line_start = True

    def breaks(self, count: int) -> None:
        while self.newlines < count:
            self.line_break()

    def text(self) -> str:
        lines = "".join(self.parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")


def _start(writer: _TextWriter, element: etree._Element) -> None:
    tag = element.tag
    if tag in _PARAGRAPHS:
        writer.breaks(2)
    elif tag in _BLOCKS:
        writer.breaks(1)
    if tag == "br":
        writer.line_break()
    elif tag == "img":
        writer.write(" ".join((element.get("alt") or "").split()))
    elif tag == "hr":
        writer.write("----")
    elif tag == "li":
        writer.write("- ")
    elif tag == "pre":
        writer.preformatted += 1
    writer.write(element.text)


def _end(writer: _TextWriter, element: etree._Element) -> None:
    tag = element.tag
    if tag == "pre":
        writer.preformatted -= 1
    if tag in _PARAGRAPHS:
        writer.breaks(2)
    elif tag in _BLOCKS:
        writer.breaks(1)
    elif tag == "a":
        href = element.get("href") or ""
        if href.lower().startswith(("http:", "https:")) and href not in _content(element):
            writer.write(f" ({href})")
    elif tag in {"td", "th"}:
        writer.write("  ")


def _content(element: etree._Element) -> str:
    return text_content(element)


def fragments_to_text(fragments: Iterable[Fragment], *, include_tails: bool) -> str:
    """Plain text of elements and loose text: blocks on their own lines, list items with "- ",
    links followed by their address when it is not their text, images by their alt text."""
    writer = _TextWriter()
    for fragment in fragments:
        if isinstance(fragment, str):
            writer.write(fragment)
            continue
        for event, element in etree.iterwalk(fragment, events=("start", "end")):
            if not isinstance(element.tag, str):
                continue
            if event == "start":
                _start(writer, element)
            else:
                _end(writer, element)
                if element is not fragment or include_tails:
                    writer.write(element.tail)
    return writer.text()
