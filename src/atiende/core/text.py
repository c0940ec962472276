"""Small text helpers shared by the adapters."""

from __future__ import annotations

import unicodedata

_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def strip_control(text: str, *, keep_newlines: bool = False) -> str:
    """Drop control and format characters (bidi overrides, NUL...), optionally keeping \\n."""
    allowed = {"\n", "\t"} if keep_newlines else set()
    return "".join(
        char for char in text if char in allowed or unicodedata.category(char) not in _CONTROL
    )


def normalize_email(address: str) -> str:
    """E-mail addresses are compared case-insensitively, as every mail provider does."""
    return address.strip().lower()
