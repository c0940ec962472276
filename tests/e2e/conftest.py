"""Browser tests: Playwright driving Debian's Chromium against pytest-django's `live_server`.

Use `page_factory` (it depends on `live_server`, which gives the test `transactional_db`: the
server thread only sees rows that are really committed). Pages open with the live server as
their base URL, so `page.goto("/admin/login/")` works. `screenshot(page, name)` keeps a PNG in
test-artifacts/screenshots/ to look at.

Static files: the live server serves /static/ from the finders by the file's own name, so pages
must link unhashed names; tests/conftest.py's `_plain_static_files` switches the manifest storage
off for that (with the manifest storage, every stylesheet would 404 and pages render unstyled).

Every test under tests/e2e/ is marked `e2e` even if it forgets the marker, so
`-m "not e2e"` (the PostgreSQL run) never starts a browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio event loop in the test's thread. Django then sees a
# running event loop and refuses ORM calls from that thread (SynchronousOnlyOperation), although
# the test code is ordinary synchronous code and the loop only drives the browser. So browser
# tests may create rows, read them back and log users in while a page is open. Set at import,
# before any test runs; it only relaxes that check, and only in processes that collect e2e tests.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Without these, Chromium tries to reach hosts this machine cannot reach.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of `page` as test-artifacts/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "screenshot"
    path = SCREENSHOTS / f"{safe.removesuffix('.png')}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        reason = (
            f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium). "
            "Never `playwright install`: it downloads a browser."
        )
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}:
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(f"!!! browser tests SKIPPED: {reason}")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright()
    instance = manager.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page_factory(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """`page_factory(locale="es-MX", viewport=(1280, 800))` opens a page in a new context.

    Each call is a new browser context (own cookies, so two users can be logged in at once);
    all are closed at the end of the test.
    """
    contexts: list[Any] = []

    def open_page(
        locale: str = "es-MX",
        viewport: tuple[int, int] | dict[str, int] | None = (1280, 800),
        **context_options: Any,
    ) -> Any:
        if isinstance(viewport, tuple):
            viewport = {"width": viewport[0], "height": viewport[1]}
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport=viewport,
            **context_options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(page_factory: Callable[..., Any]) -> Any:
    """One page, Spanish, desktop size."""
    return page_factory()
