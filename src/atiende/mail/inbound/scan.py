"""The cheap look at a message before it is parsed: size, header block, MIME tree.

`structure_check` refuses a message that is over the limits in time and memory bounded by the
limits themselves, not by what the sender wrote: it checks the size first, then the header
block, then walks the MIME structure (boundaries and `message/*` parts, as the stdlib parser
will see them) counting parts and depth, without decoding a body and without copying more than
one header block at a time. The stdlib parser, which keeps the whole message several times in
memory and recurses once per level, only runs on what passed.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass

from atiende.mail.inbound.types import Limits, MessageRejected

# What the stdlib's feed parser takes for a header line (email.feedparser.headerRE).
_HEADER_START = frozenset(range(0x21, 0x7F)) - {ord(":")}
_NAME_WINDOW = 1000


@dataclass(frozen=True)
class _Entity:
    start: int  # first byte of the entity's headers
    end: int  # one past its last byte
    depth: int
    in_digest: bool  # a child of multipart/digest: message/rfc822 unless it says otherwise


def _line_end(raw: bytes, position: int, end: int) -> tuple[int, int]:
    """(end of the line's content, start of the next line) for the line at `position`."""
    newline = raw.find(b"\n", position, end)
    if newline == -1:
        return end, end
    content_end = newline - 1 if newline > position and raw[newline - 1] == 0x0D else newline
    return content_end, newline + 1


def _is_header_line(line: bytes) -> bool:
    if not line:
        return False
    if line[0] in (0x20, 0x09) or line.startswith(b"From "):
        return True
    colon = line.find(b":")
    return colon >= 0 and all(byte in _HEADER_START for byte in line[:colon])


def header_block_end(raw: bytes, start: int, end: int, limit: int) -> tuple[int, int]:
    """(end of the header block, start of the body) of the entity at `start`.

    Reads line by line as the stdlib parser does: the block ends at an empty line or at the
    first line that is not a header. Raises MessageRejected when the block is over `limit`.
    """
    position = start
    while position < end:
        content_end, next_line = _line_end(raw, position, end)
        if content_end == position:  # the empty line between headers and body
            return position, next_line
        # A field name is short: the first bytes tell whether this is a header line.
        if not _is_header_line(raw[position : min(content_end, position + _NAME_WINDOW)]):
            return position, position
        if next_line - start > limit:
            raise MessageRejected(f"header block over {limit} bytes")
        position = next_line
    return end, end


def _content_type(header_block: bytes, *, in_digest: bool) -> tuple[str, bytes | None]:
    """(content type, boundary) as the stdlib parser (compat32 rules) reads them."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
            header_block
        )
        if in_digest and "content-type" not in headers:
            return "message/rfc822", None  # RFC 2046 5.1.5, as the stdlib parser does
        content_type = headers.get_content_type()
        boundary = headers.get_boundary() if content_type.startswith("multipart/") else None
    except Exception:  # whatever the stdlib cannot read, it parses as plain text
        return "text/plain", None
    if boundary is None:
        return content_type, None
    return content_type, boundary.rstrip().encode("utf-8", "surrogateescape")


def _multipart_children(
    raw: bytes, start: int, end: int, boundary: bytes, ceiling: int
) -> list[tuple[int, int]]:
    """The byte ranges between the delimiter lines `--boundary` of one multipart body (no more
    than `ceiling` + 1 of them: enough to know there are too many)."""
    delimiter = b"--" + boundary
    ranges: list[tuple[int, int]] = []
    part_start: int | None = None
    position = start
    while position < end:
        found = raw.find(delimiter, position, end)
        if found == -1:
            break
        position = found + 1
        if found != start and raw[found - 1] not in (0x0A, 0x0D):
            continue
        after = found + len(delimiter)
        closing = raw.startswith(b"--", after)
        if closing:
            after += 2
        while after < end and raw[after] in (0x20, 0x09):
            after += 1
        if after < end and raw[after] not in (0x0A, 0x0D):
            continue
        if part_start is not None:
            ranges.append((part_start, _before_line_break(raw, part_start, found)))
            if len(ranges) > ceiling:
                return ranges
        _, part_start = _line_end(raw, after, end)
        if closing:
            return ranges
    if part_start is not None and part_start < end:
        ranges.append((part_start, end))
    return ranges


def _before_line_break(raw: bytes, start: int, position: int) -> int:
    if position > start and raw[position - 1] == 0x0A:
        position -= 1
    if position > start and raw[position - 1] == 0x0D:
        position -= 1
    return position


def _status_blocks(raw: bytes, start: int, end: int, ceiling: int) -> int:
    """How many header blocks a message/delivery-status body holds (each is one stdlib part),
    counting no further than `ceiling`."""
    count = 0
    position = start
    in_block = False
    while position < end and count <= ceiling:
        content_end, next_line = _line_end(raw, position, end)
        if content_end == position:
            in_block = False
        elif not in_block:
            count += 1
            in_block = True
        position = next_line
    return count


def structure_check(raw: bytes, limits: Limits) -> int:
    """Raise MessageRejected when `raw` is over `limits`; return the number of MIME entities."""
    if len(raw) > limits.max_bytes:
        raise MessageRejected(f"message is {len(raw)} bytes; the limit is {limits.max_bytes}")
    if not raw.strip():
        raise MessageRejected("empty message")
    stack = [_Entity(0, len(raw), 0, in_digest=False)]
    count = 1
    while stack:
        entity = stack.pop()
        if entity.depth > limits.max_depth:
            raise MessageRejected(f"MIME parts nested deeper than {limits.max_depth} levels")
        headers_end, body_start = header_block_end(
            raw, entity.start, entity.end, limits.max_header_bytes
        )
        content_type, boundary = _content_type(
            raw[entity.start : headers_end], in_digest=entity.in_digest
        )
        children: list[_Entity] = []
        if content_type.startswith("multipart/") and boundary is not None:
            digest = content_type == "multipart/digest"
            children = [
                _Entity(child_start, child_end, entity.depth + 1, in_digest=digest)
                for child_start, child_end in _multipart_children(
                    raw, body_start, entity.end, boundary, limits.max_parts - count
                )
            ]
        elif content_type == "message/delivery-status":
            count += _status_blocks(raw, body_start, entity.end, limits.max_parts)
        elif content_type.startswith("message/"):
            children = [_Entity(body_start, entity.end, entity.depth + 1, in_digest=False)]
        count += len(children)
        if count > limits.max_parts:
            raise MessageRejected(f"more than {limits.max_parts} MIME parts")
        stack.extend(children)
    return count
