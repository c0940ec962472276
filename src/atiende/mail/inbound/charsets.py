"""Bytes from e-mail to text: declared charsets when they are right, detection when they are
wrong or missing, never an exception and never mojibake.

Mail in the wild declares `us-ascii` and sends UTF-8, declares `iso-8859-1` and sends
windows-1252 quotes, declares charsets no codec knows, or puts raw 8-bit bytes in headers
(RFC 6532 does this on purpose). The rules, in order:

1. a non-ASCII payload that is valid UTF-8 is UTF-8, whatever is declared (a text in a
   single-byte charset is almost never valid UTF-8 by accident; the reverse is mojibake);
2. otherwise the declared charset, if Python knows it and it decodes strictly;
3. otherwise charset-normalizer's best guess;
4. otherwise UTF-8 with U+FFFD for what cannot be read.
"""

from __future__ import annotations

import binascii
import codecs
import quopri
import re

from charset_normalizer import from_bytes

# Labels mail uses that Python spells differently or not at all, and supersets that read the
# same bytes with fewer failures (as browsers do: WHATWG treats latin1 as windows-1252).
_CODEC_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "iso-8859-8-i": "iso-8859-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "windows-874": "cp874",
    "utf8": "utf-8",
    "x-unicode-2-0-utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
# Labels that say "I do not know": treated as no declaration.
_UNKNOWN = {"unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default", "charset", ""}
# Codecs that are not text encodings (`rot13`, `base64`, `zlib`...) must never be picked from a
# header: they would "decode" anything.
_TEXT_ENCODINGS_ONLY = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,39}$")
_NOT_CHARSETS = {
    "undefined",
    "unicode-escape",
    "unicode_escape",
    "raw-unicode-escape",
    "raw_unicode_escape",
    "idna",
    "punycode",
    "mbcs",
    "oem",
}
# Charset detection looks at this much: enough to decide, bounded in time.
_DETECT_BYTES = 256 * 1024


def codec_for(label: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or None when unknown or unusable."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    # RFC 2231 allows a language after an asterisk: utf-8*es
    name = name.split("*", 1)[0]
    if name in _UNKNOWN or not _TEXT_ENCODINGS_ONLY.match(name):
        return None
    name = _CODEC_ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # Only real text encodings: a codec whose decoder gives bytes is a transform (base64, zlib).
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def _is_ascii_compatible(codec: str) -> bool:
    return not codec.startswith(("utf-16", "utf-32", "utf-7", "iso2022", "hz", "cp037", "cp500"))


def _utf8_or_none(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


_LATIN1_FAMILY = frozenset({"ascii", "utf-8", "cp1252", "latin-1", "iso8859-15", "iso8859-1"})


def _double_encoding_undone(text: str, codec: str) -> str | None:
    """A gateway that took `codec` bytes for Latin-1 and wrote them out as UTF-8 leaves text
    made of Latin-1 symbols and letters of no language: when the declared charset reads those
    bytes back strictly, that is the text. Only for charsets outside the Latin-1 family, and
    only when the Latin-1 characters look like that (a large share of the text, or mostly
    symbols rather than letters: a genuine text in a Latin language has a few accented
    letters)."""
    if codec in _LATIN1_FAMILY or not _is_ascii_compatible(codec):
        return None
    if any(ord(char) > 0xFF for char in text):
        return None
    sample = text[:65536]
    visible = sum(1 for char in sample if not char.isspace())
    high = [char for char in sample if ord(char) >= 0x80]
    symbols = sum(1 for char in high if not char.isalpha())
    looks_garbled = bool(high) and (
        len(high) >= 0.3 * visible or (len(high) >= 20 and symbols >= 0.5 * len(high))
    )
    if not looks_garbled:
        return None
    try:
        return text.encode("latin-1").decode(codec)
    except (ValueError, LookupError):
        return None


# What mail is written in. Left to itself the detector also weighs DOS and Mac code pages,
# and on a short Spanish text picks cp775 (Baltic DOS) over windows-1252.
_MAIL_CHARSETS = (
    "utf_8",
    "cp1252",
    "iso8859_15",
    "cp1250",
    "iso8859_2",
    "cp1251",
    "koi8_r",
    "koi8_u",
    "iso8859_5",
    "cp1253",
    "iso8859_7",
    "cp1254",
    "iso8859_9",
    "cp1255",
    "iso8859_8",
    "cp1256",
    "iso8859_6",
    "cp1257",
    "iso8859_13",
    "cp1258",
    "cp874",
    "gb18030",
    "big5",
    "cp932",
    "euc_jp",
    "iso2022_jp",
    "cp949",
    "utf_16",
    "utf_32",
)


def _detected(data: bytes) -> str | None:
    """charset-normalizer's guess among the charsets of mail. On a tie (short texts often tie
    between windows-1250, -1252 and -1257) windows-1252 wins: it is by far the most common
    legacy charset in mail."""
    try:
        sample = data[:_DETECT_BYTES]
        matches = list(from_bytes(sample, cp_isolation=list(_MAIL_CHARSETS))) or list(
            from_bytes(sample)
        )
    except Exception:  # a detector bug must not lose the message
        return None
    if not matches:
        return None
    best = matches[0]
    for match in matches:
        tied = abs(match.chaos - best.chaos) < 0.01 and abs(match.coherence - best.coherence) < 0.01
        if tied and codec_for(match.encoding) == "cp1252":
            return "cp1252"
    return codec_for(best.encoding)


def bytes_decode(data: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """`data` as text, and a note for the defects when the declaration was not followed.

    Never raises.
    """
    if not data:
        return "", None
    codec = codec_for(declared)
    if declared and not codec and declared.strip().lower() not in _UNKNOWN:
        note: str | None = f"unknown charset {declared[:40]!r}"
    else:
        note = None
    if codec and not _is_ascii_compatible(codec):
        try:
            return data.decode(codec), note
        except (ValueError, LookupError):
            note = f"text is not valid {codec}"
    elif data.isascii():
        return data.decode("ascii"), note
    else:
        as_utf8 = _utf8_or_none(data)
        if as_utf8 is not None:
            if codec and codec != "utf-8":
                repaired = _double_encoding_undone(as_utf8, codec)
                if repaired is not None:
                    return repaired, f"{codec} text encoded twice (as Latin-1, then UTF-8)"
                note = f"declared {codec} but the text is UTF-8"
            return as_utf8, note
        if codec and codec not in {"utf-8", "ascii"}:
            try:
                return data.decode(codec), note
            except (ValueError, LookupError):
                note = f"text is not valid {codec}"
        elif codec:
            note = f"text is not valid {codec}"
    guess = _detected(data)
    if guess is not None:
        try:
            return data.decode(guess, errors="replace"), note or f"charset detected as {guess}"
        except (LookupError, ValueError):
            pass
    return data.decode("utf-8", errors="replace"), note or "undecodable bytes replaced"


# RFC 2047 encoded words. The encoded text has no "?" and no white space, so the pattern cannot
# backtrack; a charset is at most 64 characters (RFC 2231 language included).
_ENCODED_WORD = re.compile(rb"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")
_LINE_FOLD = re.compile(rb"\r?\n(?=[ \t])|\r(?=[ \t])")


def _encoded_word_bytes(encoding: bytes, text: bytes) -> bytes | None:
    if encoding in (b"b", b"B"):
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
        cleaned += b"=" * (-len(cleaned) % 4)
        try:
            return binascii.a2b_base64(cleaned)
        except (binascii.Error, ValueError):
            return None
    return quopri.decodestring(text.replace(b"_", b" "), header=False)


def header_decode(value: str | bytes, *, hint: str | None = None) -> str:
    """A raw header value (str with surrogate escapes, as the parser keeps it, or bytes) as
    text: unfolded, RFC 2047 encoded words decoded (also inside quotes, and split in the middle
    of a character), raw 8-bit bytes decoded (UTF-8 per RFC 6532, else `hint`, else detected).

    Control characters are left for the caller to strip. Never raises.
    """
    # Surrogate escapes go back to the bytes they stood for; real characters become UTF-8.
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    raw = _LINE_FOLD.sub(b"", raw)
    pieces: list[str] = []
    pending: bytes = b""
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            pieces.append(bytes_decode(pending, pending_charset)[0])
        pending, pending_charset = b"", None

    for match in _ENCODED_WORD.finditer(raw):
        between = raw[position : match.start()]
        # White space between two encoded words is not part of the text (RFC 2047 6.2).
        if between and not (pending and not between.strip()):
            flush()
            pieces.append(bytes_decode(between, hint)[0])
        charset = match.group(1).decode("ascii", "replace")
        decoded = _encoded_word_bytes(match.group(2), match.group(3))
        if decoded is None:
            flush()
            pieces.append(match.group(0).decode("ascii", "replace"))
        else:
            if pending and charset.lower() != (pending_charset or "").lower():
                flush()
            pending += decoded
            pending_charset = charset
        position = match.end()
    flush()
    if position < len(raw):
        pieces.append(bytes_decode(raw[position:], hint)[0])
    return "".join(pieces)
