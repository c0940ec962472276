"""Public ticket references: short, readable aloud, not sequential, not guessable.

A reference is PREFIX-XXXX-XXXX where X is drawn from Crockford's base32 alphabet (no I, L, O,
U), so 32**8 ~ 1.1e12 references: at a million tickets a guessed reference hits one in a million
times, and a hit still leads to "not found" outside the owner's account. Input is forgiving:
case, spaces, dashes, a missing prefix and the look-alikes O->0, I/L->1 are accepted.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 8
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def prefix() -> str:
    return str(settings.ATIENDE_TICKET_PREFIX)


def reference_generate() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return f"{prefix()}-{body[:4]}-{body[4:]}"


def reference_normalize(text: str) -> str | None:
    """The canonical reference a person meant, or None when the text cannot be one."""
    compact = re.sub(r"[\s\-_.#\[\]]+", "", text or "").upper()
    pre = prefix()
    if compact.startswith(pre):
        compact = compact[len(pre) :]
    compact = compact.translate(_LOOKALIKES)
    if len(compact) != BODY_LENGTH or any(char not in ALPHABET for char in compact):
        return None
    return f"{pre}-{compact[:4]}-{compact[4:]}"


def reference_pattern() -> re.Pattern[str]:
    """Finds a reference inside free text such as an e-mail subject ("Re: [#ATN-7K4Q-M9X2]")."""
    pre = re.escape(prefix())
    return re.compile(
        rf"{pre}[\s\-_]*([0-9A-Z]{{4}})[\s\-_]*([0-9A-Z]{{4}})(?![0-9A-Z])", re.IGNORECASE
    )
