"""The interactive API documentation works in a browser, from our own static files (no CDN):
an integrator reads an operation, authorizes with a token and tries it out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

from atiende.api.tokens import token_create
from tests.conftest import Cast
from tests.e2e.conftest import screenshot


def test_the_docs_list_every_operation_and_try_one_out_with_a_token(
    page_factory: Callable[..., Any], cast: Cast, open_ticket: Any
) -> None:
    ticket = open_ticket()
    _token, secret = token_create(user=cast.agent, name="docs", scope="read", created_by=cast.agent)
    page = page_factory(locale="en-US")
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if urlsplit(request.url).hostname in {"localhost", "127.0.0.1"}
            or request.url.startswith("data:")
            else outside.append(request.url)
        ),
    )
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Atiende API")
    for summary in (
        "Open a ticket on a customer's behalf",
        "Changes after a cursor",
        "Create a customer",
    ):
        expect(page.get_by_text(summary, exact=True).first).to_be_visible()
    screenshot(page, "api-docs")

    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".modal-ux input[type=text], .modal-ux input[type=password]").first.fill(secret)
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()

    operation = page.locator("#operations-tickets-ticket_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(
        operation.locator(".responses-wrapper .response .response-col_status").first
    ).to_contain_text("200")
    expect(operation.locator(".responses-wrapper")).to_contain_text(ticket.reference)
    assert outside == [], f"the docs page fetched from outside: {outside}"
