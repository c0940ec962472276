"""Which storage the settings choose: the data dir's folder, or S3 when a bucket is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from atiende import settings as atiende_settings
from atiende.core.storage import PrivateS3Storage

S3_VARIABLES = (
    "ATIENDE_S3_BUCKET",
    "ATIENDE_S3_ENDPOINT_URL",
    "ATIENDE_S3_REGION",
    "ATIENDE_S3_ACCESS_KEY_ID",
    "ATIENDE_S3_ACCESS_KEY_ID_FILE",
    "ATIENDE_S3_SECRET_ACCESS_KEY",
    "ATIENDE_S3_SECRET_ACCESS_KEY_FILE",
    "ATIENDE_S3_PREFIX",
    "ATIENDE_S3_ADDRESSING_STYLE",
)


@pytest.fixture(autouse=True)
def _no_s3_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in S3_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_without_a_bucket_attachments_go_to_the_data_dirs_folder() -> None:
    chosen = atiende_settings.attachment_storage_settings()
    assert chosen == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(Path(django_settings.DATA_DIR) / "attachments"),
            "base_url": None,
        },
    }


def test_a_bucket_on_an_s3_compatible_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "s3-secret"
    secret.write_text("el-secreto\n")
    monkeypatch.setenv("ATIENDE_S3_BUCKET", "adjuntos-atiende")
    monkeypatch.setenv("ATIENDE_S3_ENDPOINT_URL", "https://minio.internal:9000")
    monkeypatch.setenv("ATIENDE_S3_ACCESS_KEY_ID", "atiende")
    monkeypatch.setenv("ATIENDE_S3_SECRET_ACCESS_KEY_FILE", str(secret))
    monkeypatch.setenv("ATIENDE_S3_PREFIX", "/produccion/")
    chosen = atiende_settings.attachment_storage_settings()
    assert chosen == {
        "BACKEND": "atiende.core.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": "adjuntos-atiende",
            "endpoint_url": "https://minio.internal:9000",
            "region_name": "us-east-1",
            "access_key": "atiende",
            "secret_key": "el-secreto",  # read from the file, without its newline
            "location": "produccion",
            "addressing_style": "path",  # what MinIO and most other servers want
        },
    }


def test_on_aws_itself_the_credentials_may_come_from_the_machines_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATIENDE_S3_BUCKET", "adjuntos-atiende")
    monkeypatch.setenv("ATIENDE_S3_REGION", "eu-west-1")
    options = atiende_settings.attachment_storage_settings()["OPTIONS"]
    assert isinstance(options, dict)
    assert options["endpoint_url"] is None
    assert options["access_key"] is None
    assert options["secret_key"] is None
    assert options["region_name"] == "eu-west-1"
    assert options["addressing_style"] == "auto"
    assert options["location"] == ""


def test_the_storage_is_private_and_never_overwrites_whatever_else_is_set() -> None:
    storage = PrivateS3Storage(bucket_name="adjuntos-atiende", region_name="us-east-1")
    assert storage.default_acl is None
    assert storage.querystring_auth is False
    assert storage.file_overwrite is False
    assert storage.get_object_parameters("x") == {
        "ContentType": "application/octet-stream",
        "ContentDisposition": "attachment",
    }
    assert storage.client_config.retries == {"mode": "standard", "max_attempts": 3}
    assert storage.client_config.connect_timeout == 5


def test_an_unknown_addressing_style_is_refused_at_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="ATIENDE_S3_ADDRESSING_STYLE"):
        PrivateS3Storage(bucket_name="adjuntos-atiende", addressing_style="sideways")
