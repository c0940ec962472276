"""Every message of the shared corpus (shared/corpus/email, real-world and malformed mail):
parsed or refused with a reason, never an exception; no mojibake; every file accounted for."""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections import Counter
from email.message import Message
from pathlib import Path

import pytest

from atiende.mail.inbound.types import MessageRejected, ParsedMessage
from tests.mail.inbound.parse_support import CORPUS, parse

if not CORPUS.is_dir():
    pytest.skip(
        f"THE E-MAIL CORPUS IS MISSING: {CORPUS.resolve()} not found; "
        "the corpus tests of the parse stage did not run",
        allow_module_level=True,
    )

_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]", re.MULTILINE)


def _looks_like_mail(path: Path) -> bool:
    if path.suffix == ".eml":
        return True
    if path.suffix or path.name.isupper():  # README.md, SOURCE.md, LICENSE...
        return False
    head = path.read_bytes()[:4096]
    return len(_HEADER_LINE.findall(head.split(b"\n\n")[0])) >= 2


MESSAGES = sorted(path for path in CORPUS.rglob("*") if path.is_file() and _looks_like_mail(path))
# Typical mojibake: UTF-8 read as Latin-1 or windows-1252, twice-encoded text.
MOJIBAKE = re.compile("Ã[\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]|Ã±|Ã©")
REPLACEMENT = "\ufffd"


def _id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def _parsed(path: Path) -> ParsedMessage | None:
    try:
        return parse(path.read_bytes())
    except MessageRejected:
        return None


@pytest.mark.parametrize("path", MESSAGES, ids=_id)
def test_parsed_or_refused_never_an_exception(path: Path):
    try:
        parsed = parse(path.read_bytes())
    except MessageRejected as rejection:
        assert rejection.reason
        return
    assert isinstance(parsed, ParsedMessage)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject


@pytest.mark.parametrize("path", MESSAGES, ids=_id)
def test_no_mojibake(path: Path):
    parsed = _parsed(path)
    if parsed is None:
        return
    raw = path.read_bytes()
    for field in ("subject", "from_name", "text", "quoted"):
        value = getattr(parsed, field)
        assert not MOJIBAKE.search(value), (field, MOJIBAKE.search(value))
        # U+FFFD only where the sender wrote it, or sent bytes no charset reads
        if REPLACEMENT in value:
            assert "\ufffd".encode() in raw or path.name == "utf-nondecodable.eml", field
    for attachment in parsed.attachments:
        assert not MOJIBAKE.search(attachment.filename)
        assert REPLACEMENT not in attachment.filename


def _files_expected(raw: bytes) -> int | None:
    """The files a reader would see, counted by the stdlib (compat32) on its own: named parts
    and parts marked as attachments, attached messages, and parts that are not text; text
    parts only choose one of each kind inside multipart/alternative. None for winmail.dat,
    which becomes as many files as it holds."""
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    count = 0
    stack: list[tuple[Message, bool]] = [(message, False)]
    while stack:
        part, in_alternative = stack.pop()
        content_type = part.get_content_type()
        if content_type in {"application/ms-tnef", "application/vnd.ms-tnef"}:
            return None
        if part.is_multipart() and content_type.startswith("multipart/"):
            alternative = content_type == "multipart/alternative"
            stack.extend((child, alternative) for child in part.get_payload())
        elif part.is_multipart():
            count += 1  # message/rfc822, message/delivery-status: one file
        elif part.get_filename() is not None or part.get_content_disposition() == "attachment":
            count += 1
        elif part.get_content_maintype() == "multipart":
            continue  # no boundary: read as text
        elif content_type not in {"text/plain", "text/html"} and not in_alternative:
            count += 1
    return count


@pytest.mark.parametrize("path", MESSAGES, ids=_id)
def test_every_file_is_accounted_for(path: Path):
    parsed = _parsed(path)
    if parsed is None:
        return
    expected = _files_expected(path.read_bytes())
    if expected is not None:
        assert len(parsed.attachments) == expected
    for attachment in parsed.attachments:
        assert attachment.filename
        assert not any(char in attachment.filename for char in "\r\n\x00")


def test_summary(capsys: pytest.CaptureFixture[str]):
    """The counts, printed: what the corpus exercises, and nothing refused."""
    outcomes: Counter[str] = Counter()
    rejected: dict[str, str] = {}
    for path in MESSAGES:
        try:
            parsed = parse(path.read_bytes())
        except MessageRejected as rejection:
            rejected[_id(path)] = rejection.reason
            continue
        outcomes["parsed"] += 1
        outcomes["attachments"] += sum(not file.inline for file in parsed.attachments)
        outcomes["inline images"] += sum(file.inline for file in parsed.attachments)
        outcomes["with HTML"] += bool(parsed.html)
        outcomes["with folded history"] += bool(parsed.quoted)
        outcomes["delivery reports"] += parsed.is_delivery_report
        outcomes["without a sender identity"] += not parsed.from_address
        outcomes["with defects"] += bool(parsed.defects)
    with capsys.disabled():
        print(f"\ncorpus {CORPUS.resolve()}: {len(MESSAGES)} messages")
        for name, count in outcomes.items():
            print(f"  {name}: {count}")
        print(f"  rejected: {len(rejected)}")
        for name, reason in rejected.items():
            print(f"    {name}: {reason}")
    assert len(MESSAGES) >= 100
    # Every corpus message is far below the default limits: a refusal here is a parser bug.
    assert rejected == {}
