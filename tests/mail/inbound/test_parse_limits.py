"""A message over the limits is refused before it is parsed, in bounded time and memory."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from atiende.mail.inbound.types import Limits, MessageRejected
from tests.mail.inbound.parse_support import parse

HEAD = b"From: ana@example.com\r\nTo: soporte@atiende.test\r\nSubject: grande\r\n"


def multipart(count: int, boundary: bytes = b"b") -> bytes:
    parts = b"".join(
        b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\nparte\r\n" for _ in range(count)
    )
    return (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="'
        + boundary
        + b'"\r\n\r\n'
        + parts
        + b"--"
        + boundary
        + b"--\r\n"
    )


def nested(depth: int) -> bytes:
    """`depth` levels of multipart/mixed, each with its own boundary, text at the bottom."""
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b' + str(level).encode() + b'"\r\n\r\n'
        b"--b" + str(level).encode() + b"\r\n"
        for level in range(depth)
    )
    closing = b"".join(b"\r\n--b" + str(level).encode() + b"--" for level in reversed(range(depth)))
    return HEAD + opening + b"Content-Type: text/plain\r\n\r\nal fondo" + closing + b"\r\n"


def rejected(raw: bytes, limits: Limits | None = None) -> str:
    with pytest.raises(MessageRejected) as caught:
        parse(raw, limits=limits)
    return caught.value.reason


def test_too_large_is_refused_at_once_without_copying_it():
    raw = HEAD + b"\r\n" + b"x" * (40 * 1024 * 1024)
    tracemalloc.start()
    started = time.monotonic()
    try:
        reason = rejected(raw, Limits(max_bytes=30 * 1024 * 1024))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 1
    assert peak < 2 * len(raw)
    assert peak < 1024 * 1024  # not even one copy: nothing was parsed
    assert reason == f"message is {len(raw)} bytes; the limit is {30 * 1024 * 1024}"


def test_too_many_parts():
    started = time.monotonic()
    assert rejected(multipart(300)) == "more than 200 MIME parts"
    assert time.monotonic() - started < 1


def test_a_flood_of_parts_is_refused_without_listing_them_all():
    started = time.monotonic()
    assert rejected(multipart(200_000)) == "more than 200 MIME parts"
    assert time.monotonic() - started < 2


def test_parts_are_counted_with_the_message_itself():
    assert len(parse(multipart(4), limits=Limits(max_parts=5)).attachments) == 0
    assert rejected(multipart(5), Limits(max_parts=5)) == "more than 5 MIME parts"


def test_too_deep():
    assert rejected(nested(50)) == "MIME parts nested deeper than 10 levels"
    assert parse(nested(10)).text == "al fondo"


def test_attached_messages_count_as_levels():
    raw = HEAD
    for _ in range(12):
        raw += b"Content-Type: message/rfc822\r\n\r\nSubject: dentro\r\n"
    assert rejected(raw + b"\r\nhola") == "MIME parts nested deeper than 10 levels"


def test_digest_parts_are_messages_and_count_as_levels():
    inner = b"Subject: uno\r\n\r\nhola"
    for level in range(8):
        boundary = b"d" + str(level).encode()
        inner = (
            b'Content-Type: multipart/digest; boundary="' + boundary + b'"\r\n\r\n'
            b"--" + boundary + b"\r\n\r\n" + inner + b"\r\n--" + boundary + b"--\r\n"
        )
    assert "nested deeper" in rejected(HEAD + inner)


def test_delivery_status_blocks_count_as_parts():
    blocks = b"\r\n".join(b"Final-Recipient: rfc822; a@example.com\r\n" for _ in range(300))
    raw = HEAD + b"Content-Type: message/delivery-status\r\n\r\n" + blocks
    assert rejected(raw) == "more than 200 MIME parts"


def test_a_header_block_of_a_megabyte():
    raw = HEAD + b"X-Relleno: " + b"a" * (1024 * 1024) + b"\r\n\r\nhola"
    assert rejected(raw) == f"header block over {256 * 1024} bytes"
    many = HEAD + b"X-A: b\r\n" * 150_000 + b"\r\nhola"
    assert rejected(many) == f"header block over {256 * 1024} bytes"


def test_a_part_with_a_header_block_too_large():
    raw = (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        + b"X-Relleno: "
        + b"a" * 300_000
        + b"\r\n\r\nhola\r\n--b--\r\n"
    )
    assert rejected(raw) == f"header block over {256 * 1024} bytes"


def test_a_long_body_line_is_not_a_header_block():
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
    raw += b"x" * 300_000 + b"\r\n--b--\r\n"
    assert parse(raw).text == "x" * 300_000  # a part without headers is plain text


def test_an_empty_message():
    assert rejected(b"") == "empty message"
    assert rejected(b" \r\n\r\n") == "empty message"


def test_at_the_limits_is_accepted():
    raw = HEAD + b"\r\n" + b"x" * 1000
    assert parse(raw, limits=Limits(max_bytes=len(raw))).text == "x" * 1000
    assert rejected(raw, Limits(max_bytes=len(raw) - 1)).startswith("message is")
