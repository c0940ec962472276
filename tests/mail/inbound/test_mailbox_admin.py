"""Department mailboxes in the admin: the list shows how each poll went, and the password is
never shown back: left empty it keeps the stored one."""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, clear_url_caches, reverse

import atiende.mail.admin_mailbox  # noqa: F401  (registers MailboxAdmin)
from atiende.mail.models import Mailbox
from tests.conftest import Cast

POLLED = datetime.fromisoformat("2025-03-03T15:00:00+00:00")


@pytest.fixture(autouse=True)
def _admin_urls() -> None:
    """The admin's URLs include the mailbox pages even when the URLconf was built before
    this module registered them (until atiende.mail.admin imports admin_mailbox)."""
    try:
        reverse("admin:mail_mailbox_changelist")
    except NoReverseMatch:
        importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
        clear_url_caches()


@pytest.fixture
def admin_client_en(cast: Cast) -> Client:
    cast.admin.language = "en"
    cast.admin.save()
    client = Client()
    client.force_login(cast.admin)
    return client


@pytest.fixture
def stored(cast: Cast) -> Mailbox:
    return Mailbox.objects.create(
        department=cast.soporte,
        host="imap.ejemplo.mx",
        port=993,
        username="soporte@ejemplo.mx",
        password="clave-guardada",
        last_polled_at=POLLED,
        last_error="logging in as soporte@ejemplo.mx: [AUTHENTICATIONFAILED] Authentication "
        "failed. " + "x" * 200,
    )


def form_data(mailbox: Mailbox, **changes: Any) -> dict[str, Any]:
    data = {
        "department": mailbox.department_id,
        "is_active": "on" if mailbox.is_active else "",
        "host": mailbox.host,
        "port": mailbox.port,
        "security": mailbox.security,
        "username": mailbox.username,
        "password": "",
        "folder": mailbox.folder,
        "poll_seconds": mailbox.poll_seconds,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_the_list_shows_where_and_how_each_mailbox_was_polled(
    admin_client_en: Client, stored: Mailbox
) -> None:
    response = admin_client_en.get(reverse("admin:mail_mailbox_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    for text in (stored.department.name, "imap.ejemplo.mx", "soporte@ejemplo.mx"):
        assert text in page
    assert "[AUTHENTICATIONFAILED]" in page
    assert "x" * 200 not in page  # the error is cut short in the list
    assert "clave-guardada" not in page


def test_the_password_is_never_shown_and_empty_keeps_the_stored_one(
    admin_client_en: Client, stored: Mailbox
) -> None:
    url = reverse("admin:mail_mailbox_change", args=[stored.pk])
    page = admin_client_en.get(url).content.decode()
    assert "clave-guardada" not in page
    assert 'type="password"' in page

    # Meanwhile a worker polls and records the outcome: saving the form keeps it.
    Mailbox.objects.filter(pk=stored.pk).update(last_error="", last_polled_at=None)
    response = admin_client_en.post(url, form_data(stored, host="imap2.ejemplo.mx"))

    assert response.status_code == 302, response.content.decode()
    saved = Mailbox.objects.get(pk=stored.pk)
    assert (saved.host, saved.password) == ("imap2.ejemplo.mx", "clave-guardada")
    assert (saved.last_error, saved.last_polled_at) == ("", None)

    response = admin_client_en.post(url, form_data(saved, password="clave-nueva"))
    assert response.status_code == 302
    assert Mailbox.objects.get(pk=stored.pk).password == "clave-nueva"


def test_a_new_mailbox_needs_a_password(admin_client_en: Client, cast: Cast) -> None:
    url = reverse("admin:mail_mailbox_add")
    data = {
        "department": cast.atencion.pk,
        "is_active": "on",
        "host": "imap.ejemplo.mx",
        "port": 993,
        "security": Mailbox.Security.TLS,
        "username": "atencion@ejemplo.mx",
        "folder": "INBOX",
        "poll_seconds": 60,
    }

    response = admin_client_en.post(url, data)
    assert response.status_code == 200
    assert "Enter the mailbox" in response.content.decode()
    assert not Mailbox.objects.exists()

    response = admin_client_en.post(url, {**data, "password": "clave"})
    assert response.status_code == 302
    assert Mailbox.objects.get().password == "clave"
