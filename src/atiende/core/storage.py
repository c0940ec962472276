"""Where the files users send us live: a local folder, or a private S3-compatible bucket.

Everything reads and writes them through Django's storage API (`FieldFile.save/open`,
`Storage.delete`), never through paths, so the code is the same for both. With
`ATIENDE_S3_BUCKET` set, settings.py makes `PrivateS3Storage` the default storage: any
S3-compatible server (AWS S3, MinIO, Ceph RGW...) shared by every app server and worker.

The bucket is private, and stays so from our side: objects are written without an ACL (the
bucket's own, private, applies), and no URL of the storage is ever given out. Every download
goes through an access-checked view (`core.downloads`), which streams the object from the
bucket to the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# What a storage raises when it cannot do its work: a local disk (full, not writable) or an
# S3 server (unreachable, timing out, refusing our credentials).
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError)
# Errors of the S3 client only (a FileNotFoundError is an OSError, not one of these).
S3_ERRORS: tuple[type[Exception], ...] = (BotoCoreError, ClientError)

ADDRESSING_STYLES = frozenset({"auto", "path", "virtual"})


@dataclass(frozen=True)
class Stream:
    """An open stored file to be read once, front to back, and its size in bytes."""

    body: IO[bytes]
    size: int


class PrivateS3Storage(S3Storage):  # type: ignore[misc]  # django-storages ships no types
    """django-storages' S3Storage, fixed to what attachments need.

    - Private: no ACL is sent (so the bucket's private default applies) and no signed URLs
      are made: `url()` is never used, downloads go through our views.
    - Never overwrites: every name is ours and unique; were one taken, another is drawn.
    - Objects say `application/octet-stream` and `attachment`: should the bucket ever be
      opened by mistake, a stored HTML file would still not render from it.
    - A file read whole (to mail it, or to copy an API upload into a message) is buffered in
      memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, in a temporary file beyond, as Django does
      with uploads; a download is streamed instead (`stream()`).
    - Bounded waits: `connect_timeout` and `read_timeout` in seconds, `max_attempts` tries
      per request (botocore's standard retry mode), so an unreachable server fails a
      request in seconds instead of hanging a web worker.
    """

    default_acl = None
    querystring_auth = False
    file_overwrite = False
    object_parameters: dict[str, str] = {
        "ContentType": "application/octet-stream",
        "ContentDisposition": "attachment",
    }

    def __init__(self, **options: Any) -> None:
        style = options.get("addressing_style", "auto")
        if style not in ADDRESSING_STYLES:
            raise ImproperlyConfigured(
                f"ATIENDE_S3_ADDRESSING_STYLE {style!r}: use one of "
                f"{', '.join(sorted(ADDRESSING_STYLES))}"
            )
        super().__init__(**options)
        if "client_config" not in options:
            self.client_config = Config(
                s3={"addressing_style": self.addressing_style},
                signature_version=self.signature_version,
                proxies=self.proxies,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                retries={"mode": "standard", "max_attempts": self.max_attempts},
            )

    def get_default_settings(self) -> dict[str, Any]:
        defaults: dict[str, Any] = super().get_default_settings()
        defaults.update(
            addressing_style="auto",
            max_memory_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
            connect_timeout=5,
            read_timeout=30,
            max_attempts=3,
        )
        return defaults

    def stream(self, name: str) -> Stream:
        """The object as it comes off the network, read by the caller in chunks: a download
        never holds the whole file in memory or on disk. FileNotFoundError when it is gone.

        (`open()` would not do: django-storages' S3File downloads the whole object into a
        buffer before the first byte can be read.)
        """
        key = self._normalize_name(clean_name(name))
        try:
            answer = self.bucket.Object(key).get()
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from error
            raise
        return Stream(body=answer["Body"], size=int(answer["ContentLength"]))
