"""Header values of an inbound message: decoded, one line, and believed only when they may be.

Every value is read from its raw form by our own tolerant decoding (charsets.py): header
objects of the stdlib's modern policy can raise on malformed input. The one exception is the
address parser, whose strictness is wanted for identity: the sender is the From addr-spec only,
never Reply-To, Sender or a display name, and nobody when From is ambiguous.
"""

from __future__ import annotations

import email.message
import email.policy
import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from atiende.core.text import normalize_email, strip_control
from atiende.mail.inbound.charsets import bytes_decode, header_decode
from atiende.mail.inbound.types import AuthResult

OUR_HEADER_PREFIX = "x-atiende-"
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,990}>")
_MAX_IDS = 200  # Message-IDs kept from In-Reply-To and References
_MAX_ADDRESSES = 200
_MAX_DEFECTS = 50
# The stdlib's address parsers take time quadratic in some inputs (a run of '"' costs the
# modern one 0.3 s at 4 KB, 3 s at 16 KB): longer headers, and address headers past the
# first few, are not given to them.
_MAX_PARSED_ADDRESS_HEADER = 2 * 1024
_MAX_PARSED_ADDRESS_HEADERS = 8
_ADDRESS_ANYWHERE = re.compile(r"[^\s<>()\[\],;:\"\\@]{1,64}@[^\s<>()\[\],;:\"\\@]{1,253}")
_ADDR_SPEC = re.compile(r"^[^\s@<>()\[\],;:\"\\]{1,64}@[^\s@<>()\[\],;:\"\\]{1,253}$")
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster", "mailer_daemon"})
_DEFAULT_POLICY = email.policy.default


@dataclass
class Defects:
    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if text not in self.items and len(self.items) < _MAX_DEFECTS:
            self.items.append(text)


def collect_defects(defects: Defects, parts: Iterable[email.message.Message]) -> None:
    for part in parts:
        for defect in getattr(part, "defects", ()):
            defects.add(type(defect).__name__)


def one_line(text: str) -> str:
    """No CR/LF, no control or format characters, single spaces: safe in any header."""
    return " ".join(strip_control(text.replace("\r", " ").replace("\n", " ")).split())


def raw_headers(message: email.message.Message) -> list[tuple[str, str]]:
    return [
        (name, value if isinstance(value, str) else str(value))
        for name, value in message.raw_items()
    ]


def first_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers if key.lower() == lowered), None)


def all_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    lowered = name.lower()
    return [value for key, value in headers if key.lower() == lowered]


def _unfolded(value: str) -> str:
    return "".join(value.splitlines())


def message_ids(values: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        for match in _MESSAGE_ID.finditer(_unfolded(value)):
            identifier = strip_control(match.group(0))
            if identifier not in found:
                found.append(identifier)
    # Threading needs the first (the thread's root) and the last (the parent) most.
    if len(found) > _MAX_IDS:
        found = found[:1] + found[-(_MAX_IDS - 1) :]
    return tuple(found)


def message_id(value: str | None) -> str:
    if value is None:
        return ""
    ids = message_ids([value])
    if ids:
        return ids[0]
    bare = one_line(header_decode(value))
    return f"<{bare}>" if bare and " " not in bare and len(bare) < 990 else ""


def date_read(value: str | None, defects: Defects) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(one_line(header_decode(value)))
    except (TypeError, ValueError, OverflowError, IndexError):
        defects.add("unreadable Date")
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _address_is_valid(address: str) -> bool:
    return bool(_ADDR_SPEC.match(address)) and strip_control(address) == address


def raw_8bit_decoded(value: str) -> str:
    """Raw 8-bit bytes of a header (kept as surrogate escapes) as text: UTF-8 per RFC 6532,
    else a guess. Encoded words are left alone: decoding them before the address parser runs
    would let a display name smuggle in an address."""
    if value.isascii():
        return value
    return bytes_decode(value.encode("utf-8", "surrogateescape"))[0]


def _parsed_addresses(name: str, value: str) -> list[tuple[str, str]] | None:
    """(display name, addr-spec) pairs by the modern stdlib parser, or None if it failed."""
    if len(value) > _MAX_PARSED_ADDRESS_HEADER:
        return None
    try:
        header = _DEFAULT_POLICY.header_factory(name, _unfolded(raw_8bit_decoded(value)))
        addresses = header.addresses
        return [(str(item.display_name), str(item.addr_spec)) for item in addresses]
    except Exception:
        return None


def _lenient_addresses(text: str) -> list[tuple[str, str]]:
    """The old stdlib address parser, which reads more broken headers than the modern one:
    for display and routing only, never for identity. It recurses on nested comments."""
    if len(text) > _MAX_PARSED_ADDRESS_HEADER:
        return []
    try:
        return email.utils.getaddresses([text])
    except Exception:  # RecursionError included
        return []


def sender_read(values: Sequence[str], defects: Defects) -> tuple[str, str]:
    """(from_address, from_name). The address is the From addr-spec, lower-cased, or "" when
    there is not exactly one From header with exactly one valid address."""
    if not values:
        return "", ""
    decoded = one_line(header_decode(values[0]))
    lenient = _lenient_addresses(decoded)
    lenient_name = one_line(lenient[0][0]) if lenient else ""
    if len(values) > 1:
        defects.add("several From headers: no sender identity")
        return "", lenient_name
    addresses = _parsed_addresses("from", values[0])
    if addresses is None:
        defects.add("unreadable From: no sender identity")
        return "", lenient_name
    if len(addresses) != 1:
        defects.add(f"From has {len(addresses)} addresses: no sender identity")
        return "", lenient_name
    display_name, addr_spec = addresses[0]
    name = one_line(display_name)
    if not name or "\ufffd" in name or "=?" in name:
        name = one_line(lenient_name)
    address = normalize_email(addr_spec)
    if not _address_is_valid(address):
        defects.add("From address is not valid: no sender identity")
        return "", name
    return address, name


def address_list(name: str, values: Iterable[str]) -> tuple[str, ...]:
    """The addr-specs of To or Cc headers, lower-cased, in order, without repeats: for routing
    (which of our mailboxes it was sent to), never for identity."""
    found: list[str] = []
    for number, value in enumerate(values):
        pairs = _parsed_addresses(name, value) if number < _MAX_PARSED_ADDRESS_HEADERS else None
        if pairs is None:
            pairs = _lenient_addresses(one_line(header_decode(value)))
        if not pairs:  # too long or too broken for either parser: what looks like an address
            text = one_line(header_decode(value))
            pairs = [("", match) for match in _ADDRESS_ANYWHERE.findall(text)]
        for _, addr_spec in pairs:
            address = normalize_email(strip_control(addr_spec))
            if "@" in address and address not in found and len(found) < _MAX_ADDRESSES:
                found.append(address)
    return tuple(found)


def return_path_read(value: str | None) -> str | None:
    if value is None:
        return None
    text = one_line(header_decode(value))
    match = re.search(r"<([^<>]*)>", text)
    address = match.group(1) if match else (text.split() or [""])[0]
    address = normalize_email(address)
    return address if _address_is_valid(address) else ""


# --- Authentication-Results (RFC 8601) ----------------------------------------------------
def _ar_tokens(value: str) -> list[list[str]]:
    """The header split at ";" into lists of words; comments dropped, quotes kept whole."""
    statements: list[list[str]] = [[]]
    word: list[str] = []
    depth = 0
    quoted = False

    def end_word() -> None:
        if word:
            statements[-1].append("".join(word))
            word.clear()

    for char in value[:8192]:
        if quoted:
            word.append(char)
            quoted = char != '"'
        elif depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
        elif char == "(":
            depth = 1
        elif char == '"':
            word.append(char)
            quoted = True
        elif char == ";":
            end_word()
            statements.append([])
        elif char.isspace():
            end_word()
        else:
            word.append(char)
    end_word()
    return statements


def _auth_results(value: str, authserv_id: str) -> tuple[AuthResult, ...] | None:
    """The verdicts of one Authentication-Results header if our server wrote it, else None."""
    statements = _ar_tokens(value)
    if not authserv_id or not statements[0]:
        return None
    if statements[0][0].lower() != authserv_id.lower():
        return None
    results: list[AuthResult] = []
    for statement in statements[1:]:
        if not statement or "=" not in statement[0]:
            continue
        method, _, result = statement[0].partition("=")
        properties = dict(word.partition("=")[::2] for word in statement[1:] if "=" in word)
        results.append(
            AuthResult(
                method=method.split("/")[0].lower(),
                result=result.lower().strip('"'),
                header_from=properties.get("header.from", "").strip('"').lower(),
            )
        )
    return tuple(results)


def headers_shown(
    headers: Sequence[tuple[str, str]], *, authserv_id: str, hint: str | None, defects: Defects
) -> tuple[tuple[tuple[str, str], ...], tuple[AuthResult, ...]]:
    shown: list[tuple[str, str]] = []
    verdicts: list[AuthResult] = []
    ours = 0
    for raw_name, raw_value in headers:
        name = one_line(raw_name)
        lowered = name.lower()
        if lowered.startswith(OUR_HEADER_PREFIX):
            continue
        value = one_line(header_decode(raw_value, hint=hint))
        if lowered == "authentication-results":
            results = _auth_results(value, authserv_id)
            if results is None:
                continue
            ours += 1
            verdicts.extend(results)
        shown.append((name, value))
    if ours > 1:
        defects.add("several Authentication-Results carry our authserv-id")
    return tuple(shown), tuple(verdicts)


def is_bounce_sender(from_values: Sequence[str]) -> bool:
    for value in from_values:
        for _, address in _lenient_addresses(one_line(header_decode(value))):
            if address.split("@")[0].lower() in _BOUNCE_SENDERS:
                return True
    return False
