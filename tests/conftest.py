"""The cast every test can use.

Two customers of one account (Ana, the holder, and Beto), a customer of another account (Otro),
agents of two departments, a supervisor and an administrator. State is built through the
services, as users would build it, not by poking rows.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command

from atiende.accounts.models import Account, Department, Membership, Service, User
from atiende.core.clock import now
from atiende.tickets import services as ticket_services
from atiende.tickets.models import Ticket

PASSWORD = "una-clave-larga-de-prueba"


@dataclass
class Cast:
    account: Account
    ana: User
    beto: User
    other_account: Account
    otro: User
    soporte: Department
    atencion: Department
    operaciones: Department
    agent: User
    agent_ops: User
    supervisor: User
    admin: User
    hosting: Service
    domain: Service
    cancelled_ssl: Service
    other_domain: Service


def customer_create(email: str, account: Account, name: str, language: str = "es") -> User:
    return User.objects.create_user(
        email,
        PASSWORD,
        account=account,
        full_name=name,
        email_confirmed_at=now(),
        language=language,
    )


def staff_create(
    email: str,
    name: str,
    department: Department | None,
    role: str = "agent",
    *,
    superuser: bool = False,
) -> User:
    user = User.objects.create_user(
        email,
        PASSWORD,
        is_staff=True,
        is_superuser=superuser,
        full_name=name,
        email_confirmed_at=now(),
    )
    if department is not None:
        Membership.objects.create(user=user, department=department, role=role)
    return user


@pytest.fixture(autouse=True)
def _clean_cache(request: pytest.FixtureRequest) -> None:
    """Throttles live in the shared cache (a database table); each database test starts with
    it empty. Tests without a database are left alone (there is no table to clear)."""
    names = set(request.fixturenames)
    if names & {"transactional_db", "live_server"}:
        request.getfixturevalue("transactional_db")
    elif "db" in names:
        request.getfixturevalue("db")
    else:
        return
    cache.clear()


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    """Pages render without a collected static manifest (the production storage needs one)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Hashing costs nothing in tests (production keeps Django's slow hashers)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """On SQLite the test database is a file in the run's data dir (one per xdist worker),
    not Django's shared in-memory database: that one answers a second writer with "database
    table is locked" at once, where a file with WAL and IMMEDIATE transactions makes it wait
    its turn as in production. Tests that run two writers at once, or the `atiende` command
    in another process, need the production behaviour."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(
            Path(django_settings.DATA_DIR) / "test_atiende.sqlite3"
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


def departments_ensure() -> None:
    """The three departments of the data migration, even after a live-server test (which
    empties every table) ran before this one."""
    migration = importlib.import_module("atiende.accounts.migrations.0002_default_departments")
    migration.create_departments(django_apps, None)


@pytest.fixture
def cast(db: None) -> Cast:
    departments_ensure()
    account = Account.objects.create(name="Hosting Ejemplo S.A.")
    other_account = Account.objects.create(name="Otra Empresa")
    soporte = Department.objects.get(slug="soporte-tecnico")
    atencion = Department.objects.get(slug="atencion-a-clientes")
    operaciones = Department.objects.get(slug="operaciones")
    ana = customer_create("ana@example.com", account, "Ana Torres")
    beto = customer_create("beto@example.com", account, "Beto Ruiz")
    otro = customer_create("otro@example.net", other_account, "Otro Cliente")
    return Cast(
        account=account,
        ana=ana,
        beto=beto,
        other_account=other_account,
        otro=otro,
        soporte=soporte,
        atencion=atencion,
        operaciones=operaciones,
        agent=staff_create("agente@example.com", "Laura Agente", soporte),
        agent_ops=staff_create("ops@example.com", "Omar Operaciones", operaciones),
        supervisor=staff_create("super@example.com", "Sara Supervisora", soporte, "supervisor"),
        admin=staff_create("admin@example.com", "Admin", None, superuser=True),
        hosting=Service.objects.create(
            account=account, kind="hosting", name="ejemplo.mx", plan="Plan Pyme"
        ),
        domain=Service.objects.create(account=account, kind="domain", name="ejemplo.com.mx"),
        cancelled_ssl=Service.objects.create(
            account=account, kind="ssl", name="www.ejemplo.mx", status="cancelled"
        ),
        other_domain=Service.objects.create(account=other_account, kind="domain", name="otra.net"),
    )


@pytest.fixture
def open_ticket(cast: Cast) -> Callable[..., Ticket]:
    """Opens a ticket through the service, as the portal would."""

    def _open(customer: User | None = None, **kwargs: Any) -> Ticket:
        values: dict[str, Any] = {
            "customer": customer or cast.ana,
            "department": cast.soporte,
            "subject": "Mi sitio no carga",
            "body": "Desde ayer el sitio ejemplo.mx muestra un error 500.",
        }
        values.update(kwargs)
        return ticket_services.ticket_open(**values)

    return _open
