"""pytest fixtures for the real servers; a conftest imports the ones its tests use.

`smtp_server`: an aiosmtpd server on a free loopback port, running (see `smtp.py`).
`smtp_mail`: the same, with Django's real SMTP backend of the test process pointed at it.
`redis_server`: a redis-server on a free loopback port (skipped loudly when missing, failed
under CI).
`site`: an Atiende of its own for subprocesses — the worker, scripts (see `site.py`).
`s3_server`: moto's S3 server on a free loopback port, one per test session (see `s3.py`).
`s3_storage`: attachments go to a fresh private bucket of `s3_server` for this test, through
the settings the application reads from ATIENDE_S3_* (skipped loudly without moto, failed
under CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from atiende import settings as atiende_settings
from tests.services.redis import RedisServer
from tests.services.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.services.site import Site, SiteDatabases, site_env
from tests.services.smtp import SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.ungate()
        server.stop()


@pytest.fixture
def smtp_mail(settings: Any, smtp_server: SmtpServer) -> SmtpServer:
    """Django's SMTP backend, in this process, talks to `smtp_server`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return smtp_server


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def site_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteDatabases]:
    databases = SiteDatabases(
        vendor=connection.vendor, folder=tmp_path_factory.mktemp("site-databases")
    )
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def site(site_databases: SiteDatabases, tmp_path: Path) -> Iterator[Site]:
    data_dir = tmp_path / "site"
    data_dir.mkdir()
    with site_databases.database(data_dir) as url:
        env = {**site_env(), "ATIENDE_DATA_DIR": str(data_dir), "DATABASE_URL": url}
        built = Site(data_dir=data_dir, database_url=url, env=env)
        try:
            yield built
        finally:
            built.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class S3Storage:
    """The bucket this test's attachments go to, and what is in it."""

    server: S3Server
    bucket: str
    prefix: str

    def keys(self) -> list[str]:
        return self.server.keys(self.bucket)

    def read(self, key: str) -> bytes:
        return self.server.read(self.bucket, key)


def s3_storage_use(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    server: S3Server,
    *,
    options: dict[str, Any] | None = None,
    **env: str,
) -> S3Storage:
    """Point the default storage at a new bucket of `server`, configured as production is:
    ATIENDE_S3_* variables (`env` adds or overrides some) read by the settings module's own
    function; `options` overrides what that gives the storage. Django's storage cache is
    reset by the setting_changed signal that `settings` sends (and again when the test
    ends)."""
    bucket = server.bucket_create()
    values = {
        "ATIENDE_S3_BUCKET": bucket,
        "ATIENDE_S3_ENDPOINT_URL": server.endpoint_url,
        "ATIENDE_S3_REGION": REGION,
        "ATIENDE_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "ATIENDE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "ATIENDE_S3_PREFIX": "adjuntos",
        **env,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    default: dict[str, Any] = atiende_settings.attachment_storage_settings()
    default["OPTIONS"] = {**default["OPTIONS"], **(options or {})}
    settings.STORAGES = {**settings.STORAGES, "default": default}
    return S3Storage(server=server, bucket=bucket, prefix=values["ATIENDE_S3_PREFIX"])


@pytest.fixture
def s3_storage(settings: Any, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> S3Storage:
    return s3_storage_use(settings, monkeypatch, s3_server)
