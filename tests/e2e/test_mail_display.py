"""An HTML e-mail with an inline image, in Chromium: the customer's ticket page draws the image.

Attachments are served as downloads (Content-Disposition: attachment, nosniff, CSP sandbox);
an <img> still shows one, as a browser ignores Content-Disposition for a subresource.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, Cast
from tests.e2e.conftest import screenshot
from tests.portal.mail_support import AUTHSERV_ID, html_mail, png, received_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


def test_the_portal_shows_the_inline_image_of_an_html_mail(
    cast: Cast, page_factory: Callable[..., Any], settings: Any
) -> None:
    settings.ATIENDE_MAIL_AUTHSERV_ID = AUTHSERV_ID
    ticket, _message = received_ticket(
        html_mail(
            html='<p>Así se ve el error:</p><img src="cid:captura@ana" alt="captura">',
            image=png(40, 20),
        ),
        cast.soporte,
    )
    page = page_factory()
    page.goto("/cuenta/entrar/")
    page.locator("#id_username").fill(cast.ana.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/tickets/$"))

    page.goto(f"/tickets/{ticket.reference}/")
    image = page.locator(".mail-html img[alt=captura]")
    expect(image).to_have_attribute("src", re.compile(rf"^/tickets/{ticket.reference}/adjuntos/"))
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [40, 20]
    screenshot(page, "portal-mail-inline-image")
