"""Files sent ahead of the message that carries them (POST /uploads).

An upload belongs to the user who sent it, is used by one message at most, and expires after
a day. The department's limits are checked again when a message takes it (a file may fit one
department and not another); here only the largest limit of any department applies.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from uuid import UUID

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from atiende.accounts.models import Department, User
from atiende.api.models import Upload
from atiende.core.clock import now
from atiende.core.errors import DomainError, StorageUnavailable
from atiende.core.storage import STORAGE_ERRORS
from atiende.tickets.attachments import attachment_check, content_type_for

logger = logging.getLogger(__name__)

KEPT_FOR = timedelta(hours=24)


def _largest_allowed() -> int:
    largest = Department.objects.filter(is_active=True).aggregate(mb=Max("max_attachment_mb"))
    return int(largest["mb"] or 0) * 1024 * 1024


def upload_store(*, user: User, file: UploadedFile) -> Upload:  # type: ignore[type-arg]
    """Keep the file for a later message, or refuse it (TooLarge, or a program)."""
    # Here only the largest limit of any department; the message's department checks again.
    filename, size = attachment_check(file, limit=_largest_allowed(), field="file")
    upload = Upload(
        user=user, filename=filename, content_type=content_type_for(filename), size=size
    )
    try:
        upload.file.save(upload.public_id.hex, file, save=False)
    except STORAGE_ERRORS as error:
        logger.exception("the storage refused an upload of user %s", user.pk)
        raise _unavailable(field="file") from error
    try:
        upload.save()
    except BaseException:
        _delete_files([str(upload.file.name)])
        raise
    return upload


def _unavailable(*, field: str) -> StorageUnavailable:
    return StorageUnavailable(
        _("Files cannot be stored or read just now; nothing was changed. Try again in a minute."),
        field=field,
    )


def _delete_files(names: list[str]) -> list[str]:
    """Delete these stored files; the names of those deleted (or already gone). A storage
    that fails leaves the rest for later: this never raises for it."""
    storage = Upload._meta.get_field("file").storage
    deleted: list[str] = []
    for name in names:
        try:
            storage.delete(name)
        except STORAGE_ERRORS:
            logger.warning("upload file %s could not be deleted", name, exc_info=True)
            continue
        deleted.append(name)
    return deleted


@contextmanager
def uploads_use(*, user: User, ids: Sequence[UUID]) -> Iterator[list[File[bytes]]]:
    """The user's unexpired uploads with these ids, as files named as uploaded, for one
    message. Must run inside the transaction that stores the message: the uploads are deleted
    in it (their files after the commit), so each is used once."""
    if not ids:
        yield []
        return
    unique = list(dict.fromkeys(ids))
    uploads = {
        upload.public_id: upload
        for upload in Upload.objects.select_for_update().filter(
            user=user, public_id__in=unique, created_at__gte=now() - KEPT_FOR
        )
    }
    missing = [str(key) for key in unique if key not in uploads]
    if missing:
        raise DomainError(
            _("Unknown or expired upload: %(ids)s. Upload the file again.")
            % {"ids": ", ".join(missing)},
            field="attachments",
        )
    files: list[File[bytes]] = []
    try:
        for key in unique:
            upload = uploads[key]
            try:
                opened = upload.file.open("rb")
            except FileNotFoundError:
                raise DomainError(
                    _("Unknown or expired upload: %(ids)s. Upload the file again.")
                    % {"ids": str(key)},
                    field="attachments",
                ) from None
            except STORAGE_ERRORS as error:
                logger.exception("the storage could not give upload %s", key)
                raise _unavailable(field="attachments") from error
            files.append(File(opened, name=upload.filename))
        yield files
    finally:
        for handle in files:
            handle.close()
    names = [str(upload.file.name) for upload in uploads.values()]
    Upload.objects.filter(pk__in=[upload.pk for upload in uploads.values()]).delete()
    # After the commit: a rollback keeps the uploads, files and all, for another try. A storage
    # that fails then leaves the files behind (logged); the request has succeeded already.
    transaction.on_commit(lambda: _delete_files(names))


def uploads_purge() -> int:
    """Delete uploads no message took within a day (a periodic job). Files go first, then the
    rows of those deleted: a storage that fails keeps its rows for the next run."""
    expired = list(Upload.objects.filter(created_at__lt=now() - KEPT_FOR).values_list("pk", "file"))
    if not expired:
        return 0
    deleted = set(_delete_files([str(name) for _pk, name in expired]))
    Upload.objects.filter(pk__in=[pk for pk, name in expired if str(name) in deleted]).delete()
    return len(deleted)
