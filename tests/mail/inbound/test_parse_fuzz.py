"""Whatever arrives, the parse stage answers with a ParsedMessage or MessageRejected.

Property-based (hypothesis), derandomized so CI is deterministic: random bytes, and real
messages of the shared corpus mutated (truncated, bytes flipped, headers repeated, nested in
multiparts, bytes inserted).
"""

from __future__ import annotations

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atiende.mail.inbound.sanitize import TAGS, html_sanitize
from atiende.mail.inbound.types import MessageRejected, ParsedMessage
from tests.mail.inbound.parse_support import CORPUS, mail, parse

FUZZ = settings(
    derandomize=True,
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SAFE_SCHEMES = ("http:", "https:", "mailto:", "cid:", "data:image/")
BUILT_IN = [
    mail("From: Ana <ana@example.com>\nSubject: =?utf-8?q?hola?=", "Hola\n\n> cita\n"),
    mail(
        'From: a@example.com\nContent-Type: multipart/alternative; boundary="x"',
        "--x\nContent-Type: text/plain\n\nhola\n--x\nContent-Type: text/html\n\n"
        "<p>hola<blockquote>vieja</blockquote></p>\n--x--\n",
    ),
]
SEEDS = BUILT_IN + sorted(
    (path.read_bytes() for path in CORPUS.rglob("*.eml") if path.stat().st_size < 64 * 1024),
    key=len,
)


def check(raw: bytes) -> None:
    try:
        parsed = parse(raw)
    except MessageRejected as rejection:
        assert rejection.reason
        return
    assert isinstance(parsed, ParsedMessage)
    assert not any(char in parsed.subject for char in "\r\n\x00")
    assert parsed.from_address == "" or "@" in parsed.from_address
    assert "<script" not in parsed.html.lower()
    for attachment in parsed.attachments:
        assert not any(char in attachment.filename for char in "\r\n\x00")


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(raw: bytes):
    check(raw)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_after_plausible_headers(body: bytes):
    check(b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" + body)


def _nest(raw: bytes, depth: int, same_boundary: bool) -> bytes:
    for level in range(depth):
        boundary = b"b" if same_boundary else b"b%d" % level
        raw = (
            b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\r\n\r\n--'
            + boundary
            + b"\r\n"
            + raw
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return b"From: a@example.com\r\n" + raw


def _duplicate_header(raw: bytes, index: int, times: int) -> bytes:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = raw.partition(b"\n\n")
    lines = head.splitlines(keepends=True)
    if not lines:
        return raw
    line = lines[index % len(lines)]
    lines[index % len(lines)] = line * times
    return b"".join(lines) + separator + body


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = draw(st.sampled_from(SEEDS))
    operation = draw(st.sampled_from(["truncate", "flip", "duplicate", "nest", "insert"]))
    if operation == "truncate":
        return raw[: draw(st.integers(0, len(raw)))]
    if operation == "flip":
        data = bytearray(raw)
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if operation == "duplicate":
        return _duplicate_header(raw, draw(st.integers(0, 200)), draw(st.integers(2, 60)))
    if operation == "nest":
        return _nest(raw, draw(st.integers(1, 40)), draw(st.booleans()))
    position = draw(st.integers(0, len(raw)))
    return raw[:position] + draw(st.binary(min_size=1, max_size=200)) + raw[position:]


@FUZZ
@given(mutated())
def test_mutations_of_real_messages(raw: bytes):
    check(raw)


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                "<script>",
                "</script>",
                "<img src=x onerror=alert(1)>",
                "<a href='",
                "javascript:",
                "'>",
                "<svg>",
                "<style>",
                "<!--",
                "-->",
                "<iframe",
                "<p>",
                "</p>",
                '"',
                "'",
                "<",
                ">",
                "=",
                " on",
                "load=",
                "alert(1)",
                "&#x6a;",
                "<blockquote>",
                "<div class='gmail_quote'>",
                "text",
                "\x00",
                "<math>",
            ]
        ),
        max_size=40,
    )
)
def test_sanitized_html_never_runs_anything(pieces: list[str]):
    html = html_sanitize("".join(pieces))
    if not html.strip():
        return
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in tree.iter():
        assert element.tag in TAGS | {"div"}, element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            if name in {"href", "src"}:
                assert value.lower().startswith(
                    ("http:", "https:", "mailto:", "cid:", "data:image/")
                )
