"""Serving a stored file a user sent us: always as a download, never rendered from our origin.

Shared by every surface that serves attachments (portal, console, API), after its access check.
"""

from __future__ import annotations

import logging

from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from atiende.core.errors import NotFound, StorageUnavailable
from atiende.core.storage import S3_ERRORS, PrivateS3Storage

logger = logging.getLogger(__name__)

# The size of the pieces a download is read and sent in (Django's default is 4 KiB).
BLOCK_SIZE = 64 * 1024


def download_response(file: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """`Content-Disposition: attachment` with the cleaned name, our content type (never the
    sender's), nosniff and a sandbox CSP. The file is streamed, a block at a time, from the
    storage to the client, never read whole. NotFound when the stored file is gone;
    StorageUnavailable when the storage cannot be reached."""
    storage = file.storage
    try:
        if isinstance(storage, PrivateS3Storage):
            stream = storage.stream(str(file.name))
            response = FileResponse(
                stream.body, as_attachment=True, filename=filename, content_type=content_type
            )
            response["Content-Length"] = str(stream.size)
        else:
            response = FileResponse(
                file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
            )
    except OSError as error:  # the row outlived its file: as missing as any other
        raise NotFound(_("File not found.")) from error
    except S3_ERRORS as error:
        logger.exception("the storage could not give %s", file.name)
        raise StorageUnavailable(
            _("The file cannot be read just now. Try again in a few minutes.")
        ) from error
    response.block_size = BLOCK_SIZE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private"
    return response
