"""A body over the hard cap is refused before anything reads it, with a page that says why."""

from __future__ import annotations

from django.test import Client, override_settings


@override_settings(ATIENDE_MAX_REQUEST_BYTES=1024)
def test_a_request_over_the_cap_gets_413_and_an_explanation(db: None, client: Client) -> None:
    response = client.post(
        "/soporte/abrir/", data={"subject": "x" * 4000}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 413
    assert b"1024" not in response.content  # the page speaks in MB, not bytes
    assert "<h1>" in response.content.decode()


@override_settings(ATIENDE_MAX_REQUEST_BYTES=10 * 1024 * 1024)
def test_a_request_under_the_cap_goes_through(db: None, client: Client) -> None:
    response = client.get("/cuenta/entrar/")
    assert response.status_code == 200
