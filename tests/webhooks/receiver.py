"""A real webhook receiver on loopback (http.server in a thread) that records what it got.

It checks every signature with the verification snippet of the README, run as written there
(`readme_verify`), so the documented code is the code under test. Faults on demand: answer
another status to a path (`answer()`), go down (`stop()`: connection refused) and come back
on the same port (`start()`), and hold requests until several are in flight at once
(`hold()`), to make concurrent deliveries really overlap.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
HOLD_TIMEOUT = 30.0

Verify = Callable[[str, bytes, str], bool]


def readme_verify() -> Verify:
    """The `atiende_signature_verify` function of the README's Python snippet."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    [snippet] = [block for block in blocks if "def atiende_signature_verify" in block]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, str(README), "exec"), namespace)  # noqa: S102  (our own README)
    verify: Verify = namespace["atiende_signature_verify"]
    return verify


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got, and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int

    @property
    def delivery_id(self) -> str:
        return self.headers.get("atiende-delivery", "")

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.receiver._handle(self, body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)


class Receiver:
    """Listens on 127.0.0.1:`port` (a free port, kept across stop/start)."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.verify = readme_verify()
        self.secrets: dict[str, str] = {}  # path -> the secret its endpoint signs with
        self._answers: dict[str, int] = {}
        self._lock = threading.Condition()
        self._deliveries: list[Delivery] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._barrier: threading.Barrier | None = None
        self.held_together = False  # `hold()`'s requests were all in flight at once

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._server is None:
            server = _Server((self.host, self.port), self)
            self.port = int(server.server_address[1])
            self._server = server
            self._thread = threading.Thread(target=server.serve_forever, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Down: the port refuses connections until `start()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            if self._thread is not None:
                self._thread.join(timeout=10)

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    # --- behaviour -------------------------------------------------------------------------

    def answer(self, status: int, *, path: str = "/hook") -> None:
        """Answer `status` to every request to `path` from now on."""
        with self._lock:
            self._answers[path] = status

    def hold(self, count: int) -> None:
        """The next `count` requests each wait until all `count` have arrived."""
        self._barrier = threading.Barrier(count)

    def _handle(self, handler: _Handler, body: bytes) -> None:
        barrier = self._barrier
        if barrier is not None:
            # Broken: too few requests came; the test sees it in `held_together`.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=HOLD_TIMEOUT)
                self.held_together = True
            self._barrier = None
        path = handler.path
        headers = {name.lower(): value for name, value in handler.headers.items()}
        secret = self.secrets.get(path, "")
        verified = bool(secret) and self.verify(secret, body, headers.get("atiende-signature", ""))
        with self._lock:
            # A request that fails the check is refused, as a real receiver would.
            status = self._answers.get(path, 200) if verified else 401
            self._deliveries.append(Delivery(path, headers, body, verified, status))
            self._lock.notify_all()
        answer = b"received" if 200 <= status < 300 else b"refused by the test receiver"
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    # --- what it got -----------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def accepted(self) -> list[Delivery]:
        return [delivery for delivery in self.deliveries if delivery.accepted]

    def accepted_counts(self) -> Counter[str]:
        """How many times each Atiende-Delivery was answered 2xx."""
        return Counter(delivery.delivery_id for delivery in self.accepted)
