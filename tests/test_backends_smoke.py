"""The suite really runs on the backend that `--backend` names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection

VENDORS = {"sqlite": "sqlite", "postgres": "postgresql"}


@pytest.mark.django_db
def test_rows_are_written_to_the_chosen_backend(request: pytest.FixtureRequest) -> None:
    assert connection.vendor == VENDORS[request.config.getoption("backend")]
    content_type = ContentType.objects.get_for_model(Group)
    group = Group.objects.create(name="Backend smoke")
    assert Group.objects.filter(pk=group.pk, name="Backend smoke").exists()
    assert ContentType.objects.filter(pk=content_type.pk, app_label="auth").exists()
    if connection.vendor == "postgresql":
        assert connection.settings_dict["NAME"].startswith("test_")
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            assert connection.settings_dict["NAME"].endswith(f"_{worker}")


@pytest.mark.django_db  # tests/conftest.py's autouse cache.clear() needs the database cache
def test_data_dir_is_temporary() -> None:
    data_dir = Path(settings.DATA_DIR)
    assert data_dir.resolve() != (Path.cwd() / "var").resolve()
    assert data_dir == Path(os.environ["ATIENDE_DATA_DIR"]).resolve()
    assert data_dir.is_dir()
    assert settings.SECRET_KEY.startswith("atiende-tests-")


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit() -> None:
    """JIT compiled the staff search for 570 ms of its 640 at a million tickets."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
