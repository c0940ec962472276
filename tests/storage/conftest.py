"""Attachments on S3: moto's S3 server (tests/services/s3.py), SMTP, and API clients."""

from tests.api.conftest import api_as, token_for
from tests.services.fixtures import s3_server, s3_storage, smtp_mail, smtp_server

__all__ = ["api_as", "s3_server", "s3_storage", "smtp_mail", "smtp_server", "token_for"]
