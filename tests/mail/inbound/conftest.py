"""Fixtures of the inbound mail tests: a real Dovecot, and a department mailbox pointing at it.

`dovecot`: one Dovecot IMAP server per test session (per xdist worker), with the user
`soporte@example.com` / `secret`, and `soporte-utf8@example.com` whose password is not ASCII
(see tests/services/dovecot.py).
`imap`: the same server with that user's mail emptied before the test.
`mailbox`: Soporte técnico's `Mailbox` row for that user, over plain IMAP on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atiende.mail.models import Mailbox
from tests.conftest import Cast
from tests.services.dovecot import PASSWORD, USER, DovecotServer

UTF8_USER = "soporte-utf8@example.com"
UTF8_PASSWORD = "contraseña-ñandú"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    server = DovecotServer()
    server.user_add(USER, PASSWORD)
    server.user_add(UTF8_USER, UTF8_PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap(dovecot: DovecotServer) -> DovecotServer:
    """The server, with nothing in the test user's mailbox."""
    dovecot.empty()
    return dovecot


@pytest.fixture
def mailbox(cast: Cast, imap: DovecotServer) -> Mailbox:
    return Mailbox.objects.create(
        department=cast.soporte,
        host=imap.host,
        port=imap.port,
        security=Mailbox.Security.NONE,
        username=USER,
        password=PASSWORD,
    )
