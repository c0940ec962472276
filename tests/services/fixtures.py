"""pytest fixtures for the real servers; a conftest imports the ones its tests use.

`smtp_server`: an aiosmtpd server on a free loopback port, running (see `smtp.py`).
`smtp_mail`: the same, with Django's real SMTP backend of the test process pointed at it.
`redis_server`: a redis-server on a free loopback port (skipped loudly when missing, failed
under CI).
`site`: an Atiende of its own for subprocesses — the worker, scripts (see `site.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.services.redis import RedisServer
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
