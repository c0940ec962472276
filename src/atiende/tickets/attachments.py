"""Files users attach: checked before they are stored (size, type, name), then stored.

Nothing the sender says about a file is trusted: its name is cleaned and only kept for display
(the stored name is ours), its declared type is ignored, and executables are refused by both
extension and content.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.files import File
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atiende.accounts.models import Department
from atiende.core.errors import DomainError, StorageUnavailable, TooLarge
from atiende.core.storage import STORAGE_ERRORS
from atiende.core.text import strip_control
from atiende.tickets.models import Attachment, Message

logger = logging.getLogger(__name__)

EXECUTABLE_EXTENSIONS = frozenset(
    {
        "apk",
        "app",
        "bat",
        "bin",
        "cmd",
        "com",
        "cpl",
        "dll",
        "dmg",
        "exe",
        "gadget",
        "hta",
        "inf",
        "ins",
        "isp",
        "jar",
        "js",
        "jse",
        "lnk",
        "msc",
        "msi",
        "msp",
        "mst",
        "pif",
        "ps1",
        "ps2",
        "psc1",
        "reg",
        "scf",
        "scr",
        "sct",
        "sh",
        "shb",
        "sys",
        "vb",
        "vbe",
        "vbs",
        "ws",
        "wsc",
        "wsf",
        "wsh",
        "elf",
        "run",
        "deb",
        "rpm",
    }
)
# Magic numbers of executable formats: Windows PE, ELF, Mach-O (both byte orders, fat).
EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
# Types we are willing to name for a download; anything else is application/octet-stream.
SAFE_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "zip": "application/zip",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "eml": "message/rfc822",
}
MAX_FILES_PER_MESSAGE = 20


@dataclass(frozen=True)
class CleanFile:
    file: File[bytes]
    filename: str
    content_type: str
    size: int


def filename_clean(raw: str) -> str:
    """A display name with no path, no control characters and a sane length."""
    name = strip_control(raw or "").replace("\\", "/").split("/")[-1].strip().strip(".")
    name = re.sub(r"\s+", " ", name)
    if not name:
        name = "adjunto"
    stem, ext = os.path.splitext(name)
    return stem[: 200 - len(ext[:20])] + ext[:20]


def extension_of(filename: str) -> str:
    return os.path.splitext(filename)[1].lower().lstrip(".")


def content_type_for(filename: str) -> str:
    return SAFE_TYPES.get(extension_of(filename), "application/octet-stream")


def _head(upload: File[bytes]) -> bytes:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    return head if isinstance(head, bytes) else b""


def attachment_check(upload: File[bytes], *, limit: int, field: str) -> tuple[str, int]:
    """One file's cleaned name and size, or the error naming it on `field`: TooLarge over
    `limit` bytes, a DomainError for a program (by extension or by content)."""
    filename = filename_clean(upload.name or "")
    size = int(upload.size or 0)
    if size > limit:
        raise TooLarge(
            _("“%(name)s” is %(size)s; the limit for one file is %(limit)s.")
            % {"name": filename, "size": filesizeformat(size), "limit": filesizeformat(limit)},
            field=field,
        )
    if extension_of(filename) in EXECUTABLE_EXTENSIONS or _head(upload).startswith(
        EXECUTABLE_MAGIC
    ):
        raise DomainError(
            _(
                "“%(name)s” looks like a program; for your safety programs cannot be attached. "
                "Compress it into a .zip file if you need to send it."
            )
            % {"name": filename},
            field=field,
        )
    return filename, size


def attachments_validate(
    files: Sequence[File[bytes]], *, department: Department
) -> list[CleanFile]:
    """The files, cleaned, or a DomainError on the `attachments` field naming the bad one."""
    if len(files) > MAX_FILES_PER_MESSAGE:
        raise DomainError(
            ngettext(
                "You can attach at most %(count)d file to one message.",
                "You can attach at most %(count)d files to one message.",
                MAX_FILES_PER_MESSAGE,
            )
            % {"count": MAX_FILES_PER_MESSAGE},
            field="attachments",
        )
    cleaned: list[CleanFile] = []
    total = 0
    for upload in files:
        filename, size = attachment_check(
            upload, limit=department.max_attachment_bytes, field="attachments"
        )
        total += size
        cleaned.append(
            CleanFile(
                file=upload, filename=filename, content_type=content_type_for(filename), size=size
            )
        )
    if total > department.max_ticket_attachments_bytes:
        raise TooLarge(
            _("The attachments add up to %(size)s; the limit for one message is %(limit)s.")
            % {
                "size": filesizeformat(total),
                "limit": filesizeformat(department.max_ticket_attachments_bytes),
            },
            field="attachments",
        )
    return cleaned


@contextmanager
def attachments_undone_on_error() -> Iterator[list[FieldFile]]:
    """Collects the files `attachments_store` writes; if the block raises, deletes them again.

    Wrap it around the service's `transaction.atomic()`. A file is written to the storage
    before its row, inside the transaction, so that no committed row ever lacks its file.
    When the block raises (the storage failed on a later file, a later write failed, the
    commit failed), the rows are rolled back and no row will ever name these files, so they
    go too. A rollback of an *outer* transaction, after the service returned, is not seen
    here: those files stay in the storage as orphans, unreachable (no row names them) and
    harmless but for their bytes.
    """
    stored: list[FieldFile] = []
    try:
        yield stored
    except BaseException:
        for file in stored:
            try:
                file.storage.delete(str(file.name))
            except STORAGE_ERRORS:
                logger.warning("the file %s of a rolled back message stays stored", file.name)
        raise


def attachments_store(
    *,
    message: Message,
    files: Sequence[File[bytes]],
    department: Department,
    stored: list[FieldFile],
) -> None:
    """Each file into the storage, then its row; `stored` (from `attachments_undone_on_error`)
    learns of each file written. StorageUnavailable when the storage fails: the caller's
    transaction rolls back, nothing of the message stays."""
    for clean in attachments_validate(files, department=department):
        attachment = Attachment(
            message=message,
            filename=clean.filename,
            content_type=clean.content_type,
            size=clean.size,
        )
        try:
            clean.file.seek(0)
            attachment.file.save(clean.filename, clean.file, save=False)
        except STORAGE_ERRORS as error:
            logger.exception("the storage refused a file of ticket %s", message.ticket_id)
            raise StorageUnavailable(
                _(
                    "The attached files could not be stored just now, so nothing was saved. "
                    "Try again in a few minutes."
                ),
                field="attachments",
            ) from error
        stored.append(attachment.file)
        attachment.save()
