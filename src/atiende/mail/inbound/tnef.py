"""winmail.dat (application/ms-tnef): Outlook's wrapper around attachments, unpacked with
tnefparse.

tnefparse copies the rest of the data once per TNEF object it reads, so a hostile file made
of many tiny objects would cost time quadratic in its size. We walk the object headers first
(cheap: nine bytes each) and leave the file packed when that cost is over a bound; the
caller then keeps winmail.dat as an ordinary attachment.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from tnefparse import TNEF

logger = logging.getLogger(__name__)

_SIGNATURE = 0x223E9F78
_MAX_OBJECTS = 2_000
_MAX_COPIED_BYTES = 512 * 1024 * 1024  # what tnefparse's slicing would copy, all objects added


@dataclass(frozen=True)
class TnefContents:
    files: tuple[tuple[str, bytes], ...]  # (name, data); names as the sender wrote them
    body: str  # the plain-text body Outlook put inside, if any


def _affordable(data: bytes) -> bool:
    """Whether tnefparse can read `data` within our bounds (object count, bytes copied)."""
    if len(data) < 6 or struct.unpack_from("<I", data, 0)[0] != _SIGNATURE:
        return False
    offset, objects, copied = 6, 0, 0
    while offset + 12 < len(data):
        length = struct.unpack_from("<I", data, offset + 5)[0] + 11
        copied += len(data) - offset
        objects += 1
        if objects > _MAX_OBJECTS or copied > _MAX_COPIED_BYTES:
            return False
        offset += min(length, len(data) - offset)
    return True


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def tnef_unpack(data: bytes) -> TnefContents | None:
    """The files inside a winmail.dat, or None when it cannot (or should not) be unpacked."""
    if not _affordable(data):
        return None
    try:
        tnef = TNEF(data, do_checksum=False)
        files: list[tuple[str, bytes]] = []
        for attachment in tnef.attachments:
            content = attachment.data
            if not isinstance(content, bytes) or not content:
                continue
            try:
                name = _text(attachment.long_filename())
            except (UnicodeDecodeError, AttributeError, ValueError):
                name = ""
            files.append((name.strip("\x00"), content))
        body = _text(tnef.body).strip("\x00")
    except Exception:  # a broken winmail.dat stays packed; nothing else is lost
        logger.info("winmail.dat could not be unpacked", exc_info=True)
        return None
    return TnefContents(files=tuple(files), body=body)
