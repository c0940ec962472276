"""Bytes to text: the declaration when it is right, detection when it is not, never an error."""

# Texts in Cyrillic, Greek and Hebrew (and typographic dashes) are what these tests decode.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from atiende.mail.inbound.charsets import bytes_decode, codec_for, header_decode


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf-8"),
        ('"iso-8859-1"', "cp1252"),
        ("us-ascii", "ascii"),
        ("ks_c_5601-1987", "cp949"),
        ("gb2312", "gb18030"),
        ("utf-8*es", "utf-8"),
        ("unknown-8bit", None),
        ("x-marciano", None),
        ("base64", None),
        ("undefined", None),
        ("", None),
        (None, None),
    ],
)
def test_codec_for(label: str | None, codec: str | None):
    assert codec_for(label) == codec


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Información sobre la factura del año pasado, por favor.", "cp1252"),
        ("Привет, как дела у тебя сегодня? Всё хорошо.", "cp1251"),
        ("Привет, как дела у тебя сегодня? Всё хорошо.", "koi8_r"),
        ("Γεια σου κόσμε, τι κάνεις σήμερα;", "cp1253"),
        ("こんにちは世界、お元気ですか", "cp932"),
        ("Grüße aus München, schöne Straße", "latin-1"),
    ],
)
def test_undeclared_charsets_are_detected(text: str, encoding: str):
    assert bytes_decode(text.encode(encoding))[0] == text


def test_utf8_wins_over_a_wrong_single_byte_declaration():
    assert bytes_decode("ñandú".encode(), "windows-1252") == (
        "ñandú",
        "declared cp1252 but the text is UTF-8",
    )


def test_a_latin_text_in_utf8_is_not_taken_for_double_encoding():
    text = "¿Qué tal? ¡Hola! Canción, año, señor, acción."
    assert bytes_decode(text.encode(), "big5")[0] == text


@pytest.mark.parametrize("data", [b"\xff" * 10, b"\x80abc\xfe", bytes(range(256))])
def test_anything_decodes(data: bytes):
    text, note = bytes_decode(data, "utf-8")
    assert isinstance(text, str) and note


def test_header_words_joined_across_a_split_character():
    assert header_decode("=?UTF-8?B?w7E=?= =?UTF-8?B?YW5kw7o=?=") == "ñandú"
    assert header_decode("=?utf-8?q?a?=   =?utf-8?q?b?= c") == "ab c"


def test_header_with_raw_8bit_bytes_uses_the_hint():
    assert header_decode("Se\udcf1or", hint="cp1252") == "Señor"
    assert header_decode(b"Se\xc3\xb1or") == "Señor"


def test_header_language_suffix_and_lower_case_encoding():
    assert header_decode("=?utf-8*es?q?a=C3=B1o?=") == "año"


def test_header_garbage_is_kept_not_raised():
    assert header_decode("=?utf-8?b?@@@@?=") == ""
    assert header_decode("=?utf-8?x?abc?= plain") == "=?utf-8?x?abc?= plain"
