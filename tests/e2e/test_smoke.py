"""Proves the browser machinery: Chromium opens a page served by the live server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import screenshot


@pytest.mark.e2e
def test_admin_login_page_loads(page_factory: Callable[..., Any]) -> None:
    page = page_factory(locale="es-MX", viewport=(1024, 768))
    response = page.goto("/admin/login/")
    assert response is not None
    assert response.status == 200
    title = page.title()
    assert "Django" in title or "Atiende" in title, title
    path = screenshot(page, "smoke-admin-login")
    assert path.stat().st_size > 0
