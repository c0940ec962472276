"""Serving a stored file a user sent us: always as a download, never rendered from our origin.

Shared by every surface that serves attachments (portal, console), after its access check.
"""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from atiende.core.errors import NotFound


def download_response(file: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """`Content-Disposition: attachment` with the cleaned name, our content type (never the
    sender's), nosniff and a sandbox CSP; NotFound when the stored file is gone."""
    try:
        handle = file.open("rb")
    except OSError as error:  # the row outlived its file: as missing as any other
        raise NotFound(_("File not found.")) from error
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private"
    return response
