"""An agent creates an API token in the console, copies its secret (shown once), comes back to
the page and finds only its prefix, and revokes it after confirming. Driven in Chromium.

The page's words are found by their place (ids and classes), not by their text: the interface
is Spanish by default and these strings may not be translated yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, expect

from atiende.api.models import ApiToken
from atiende.api.tokens import token_authenticate
from tests.conftest import Cast
from tests.e2e.conftest import screenshot
from tests.e2e.test_console_journey import agent_log_in
from tests.e2e.test_portal_journey import fits_width

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PAGE = "/consola/api/tokens/"


def test_an_agent_creates_a_token_sees_it_once_and_revokes_it(
    page_factory: Callable[..., Page], cast: Cast
) -> None:
    page = page_factory(viewport=(1280, 800), permissions=["clipboard-read", "clipboard-write"])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    agent_log_in(page, cast.agent.email)

    # The console's navigation leads to the page; he has no token yet.
    page.locator(f'.console-nav a[href="{PAGE}"]').click()
    expect(page).to_have_url(re.compile(rf"{PAGE}$"))
    expect(page.locator("tr.token")).to_have_count(0)
    # An agent is offered read and write, not admin.
    expect(page.locator('input[name="scope"]')).to_have_count(2)

    page.locator("#id_name").fill("Integración CRM")
    page.locator('input[name="scope"][value="write"]').check()
    page.locator("form.token-create button[type=submit]").click()

    # The secret, once, with a warning and a copy button.
    box = page.locator("#token-secret")
    expect(box).to_be_visible()
    secret = box.input_value()
    assert secret.startswith("atn_")
    expect(page.locator(".token-created .alert-warning")).to_be_visible()
    copy = page.locator(".token-created button[data-copy]")
    expect(copy).to_be_visible()
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    token = ApiToken.objects.get(user=cast.agent)
    assert (token.name, token.scope) == ("Integración CRM", "write")
    row = page.locator(f'#own-tokens tr.token[data-prefix="{token.prefix}"]')
    expect(row.locator("code.prefix")).to_have_text(f"{token.prefix}…")
    screenshot(page, "console-token-created")
    authenticated = token_authenticate(secret)
    assert authenticated is not None and authenticated.pk == token.pk

    # Reloading the answer (which sends the form again) shows no secret, and creates nothing.
    page.reload()
    expect(page.locator(".token-already")).to_be_visible()
    expect(page.locator("#token-secret")).to_have_count(0)
    assert secret not in page.content()
    assert ApiToken.objects.filter(user=cast.agent).count() == 1
    # Coming back to the page: the prefix, never the secret.
    page.goto(PAGE)
    expect(page.locator("#token-secret")).to_have_count(0)
    assert secret not in page.content()
    expect(row.locator("code.prefix")).to_have_text(f"{token.prefix}…")
    expect(row.locator(".state .badge-open")).to_be_visible()

    # Revoking asks first; dismissing it changes nothing.
    dialogs: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        dialogs.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    row.locator("form.token-revoke button").click()
    expect(row.locator(".state .badge-open")).to_be_visible()
    assert token_authenticate(secret) is not None

    page.once("dialog", lambda dialog: answer(dialog, True))
    # A dismissed confirmation leaves the button enabled: the second try goes through.
    expect(row.locator("form.token-revoke button")).not_to_have_attribute("aria-disabled", "true")
    row.locator("form.token-revoke button").click()
    expect(page.locator("ul.messages")).to_contain_text(token.prefix)
    expect(row.locator(".state .badge-closed")).to_be_visible()
    expect(row.locator("form.token-revoke")).to_have_count(0)
    assert len(dialogs) == 2 and all(token.prefix in message for message in dialogs)
    assert token_authenticate(secret) is None

    # At phone width the list still fits.
    page.set_viewport_size({"width": 375, "height": 740})
    fits_width(page)
    screenshot(page, "console-token-revoked-phone")
    assert not errors, errors
