"""An e-mail backend that breaks on purpose, to make a job of the real worker fail.

The first `ATIENDE_TEST_MAIL_FAULTS` (default 1) backends made in a process raise
`InjectedFault`; after that it is Django's SMTP backend. A site's worker uses it with
`EMAIL_BACKEND=tests.services.faulty_mail.EmailBackend`.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.core.mail.backends import smtp

_lock = threading.Lock()
_made = 0


class InjectedFault(RuntimeError):
    pass


class EmailBackend(smtp.EmailBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        global _made
        with _lock:
            _made += 1
            made = _made
        if made <= int(os.environ.get("ATIENDE_TEST_MAIL_FAULTS", "1")):
            raise InjectedFault(f"injected fault number {made} (tests.services.faulty_mail)")
        super().__init__(*args, **kwargs)
