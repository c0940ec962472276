"""Helpers for the portal's page tests: logged-in clients, comparable 404 pages, uploads."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse, HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext

from atiende.accounts.language import LANGUAGE_SESSION_KEY
from atiende.accounts.models import User


def login(user: User, *, language: str = "en") -> Client:
    """A fresh client logged in as `user`, with pages in `language` (English: the msgids)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[LANGUAGE_SESSION_KEY] = language
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture
def client_for(db: None) -> Callable[[User], Client]:
    return login


def html(response: HttpResponseBase) -> str:
    assert isinstance(response, HttpResponse)
    return response.content.decode()


def store_root() -> Path:
    """Where the default storage keeps attachments (settings.STORAGES["default"])."""
    storages: dict[str, Any] = settings.STORAGES
    return Path(storages["default"]["OPTIONS"]["location"]).resolve()


def comparable(response: HttpResponseBase) -> str:
    """The page without what differs by design between two requests: CSRF tokens, own URL."""
    page = html(response)
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    return re.sub(r'name="next" type="hidden" value="[^"]*"', "", page)


def upload(
    name: str, content: bytes = b"hola", content_type: str = "text/plain"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def queries_for(client: Client, url: str) -> int:
    """How many queries one GET of `url` runs (it must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries)
