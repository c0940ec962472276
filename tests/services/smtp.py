"""A real SMTP server on loopback (aiosmtpd in a thread) that records what it accepted.

Faults on demand: answer 451/550 to every message (at the end of DATA) or to one recipient
(at RCPT), go down (`stop()`: connection refused) and come back on the same port (`start()`).
With `gate()` every message waits at the end of DATA for the test's verdict (`next_arrival()`
then `accept()` / `refuse()`), which lets a test hold a client in mid-delivery without
sleeping: to kill it at the instant the server has taken a message but not yet said "250".

What the server accepted is `received`, in the order it accepted it.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import queue
import threading
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.services.common import free_port

# How long a gated message waits for the test before the server gives up on it.
GATE_TIMEOUT = 60.0


def reply_for(code: int) -> str:
    enhanced = "4.3.0" if code < 500 else "5.1.1"
    return f"{code} {enhanced} Refused by the test server ({code})"


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    peer: tuple[str, int]  # the client's address: one per SMTP session
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def ticket(self) -> str | None:
        """The ticket reference our mail carries in X-Atiende-Ticket, if any."""
        value = self.message["X-Atiende-Ticket"]
        return None if value is None else str(value)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])


class Arrival:
    """A message held at the end of DATA (gate mode) until the test decides."""

    def __init__(self, server: SmtpServer, received: Received) -> None:
        self.received = received
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._decided = asyncio.Event()
        self._replied = asyncio.Event()
        self.decided = False
        self.code: int | None = None  # None: accepted

    @property
    def message_id(self) -> str:
        return self.received.message_id

    def _set(self, event: asyncio.Event) -> None:
        with contextlib.suppress(RuntimeError):  # the server has stopped: nobody waits
            self._loop.call_soon_threadsafe(event.set)

    def accept(self, *, hold_reply: bool = False) -> None:
        """The server takes the message now (it is in `received` when this returns). With
        `hold_reply` the "250" is not said until `reply()`: the client waits for it."""
        self.decided = True
        self._server._record(self.received)
        if not hold_reply:
            self._set(self._replied)
        self._set(self._decided)

    def reply(self) -> None:
        """Say the held "250"."""
        self._set(self._replied)

    def refuse(self, code: int = 451) -> None:
        self.decided = True
        self.code = code
        self._set(self._replied)
        self._set(self._decided)

    async def wait(self) -> str:
        try:
            await asyncio.wait_for(self._decided.wait(), GATE_TIMEOUT)
            await asyncio.wait_for(self._replied.wait(), GATE_TIMEOUT)
        except TimeoutError:
            return reply_for(421)
        return "250 2.0.0 Message accepted" if self.code is None else reply_for(self.code)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        code = self.server._fault_for(address)
        if code is not None:
            return reply_for(code)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        code = self.server._fault_for(None)
        if code is not None:
            return reply_for(code)
        received = Received(
            peer=tuple(session.peer[:2]),
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=bytes(envelope.original_content or envelope.content),
        )
        if not self.server.gated:
            self.server._record(received)
            return "250 2.0.0 Message accepted"
        arrival = Arrival(self.server, received)
        self.server._hold(arrival)
        return await arrival.wait()


class SmtpServer:
    """An SMTP server on 127.0.0.1:`port`; `start()` it, `stop()` it, start it again."""

    def __init__(self, *, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._controller: Controller | None = None
        self._handler = _Handler(self)
        self._changed = threading.Condition()
        self._received: list[Received] = []
        self._fault_all: int | None = None
        self._fault_rcpt: dict[str, int] = {}
        self._gated = False
        self._arrivals: queue.Queue[Arrival] = queue.Queue()
        self._held: list[Arrival] = []

    # --- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(
                self._handler, hostname=self.host, port=self.port, ready_timeout=10
            )
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        """Down: the port refuses connections until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # --- faults ----------------------------------------------------------------------------

    def fail(self, code: int, *, recipient: str | None = None) -> None:
        """Answer `code` to every message (at the end of DATA), or only to `recipient` (at
        RCPT, which is how a server refuses one mailbox)."""
        with self._changed:
            if recipient is None:
                self._fault_all = code
            else:
                self._fault_rcpt[recipient.lower()] = code

    def heal(self) -> None:
        with self._changed:
            self._fault_all = None
            self._fault_rcpt.clear()

    def _fault_for(self, recipient: str | None) -> int | None:
        with self._changed:
            if recipient is None:
                return self._fault_all
            return self._fault_rcpt.get(recipient.lower())

    # --- gate ------------------------------------------------------------------------------

    @property
    def gated(self) -> bool:
        return self._gated

    def gate(self) -> None:
        """From now on every message waits at the end of DATA for `next_arrival()`'s verdict."""
        self._gated = True

    def ungate(self) -> None:
        """Accept what waits undecided, and every message from now on."""
        with self._changed:
            self._gated = False
            held, self._held = self._held, []
        for arrival in held:
            if not arrival.decided:
                arrival.accept()

    def _hold(self, arrival: Arrival) -> None:
        with self._changed:
            self._held.append(arrival)
        self._arrivals.put(arrival)

    def next_arrival(self, timeout: float = 60.0) -> Arrival:
        """The next message held at the gate, waiting for the test's verdict."""
        try:
            return self._arrivals.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message reached the SMTP server in {timeout} s") from None

    # --- what it received ------------------------------------------------------------------

    def _record(self, received: Received) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()

    @property
    def received(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Received]:
        """Block until the server has accepted at least `count` messages in all."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._received) >= count, timeout):
                raise AssertionError(
                    f"the SMTP server accepted {len(self._received)} messages in {timeout} s, "
                    f"expected {count}"
                )
            return list(self._received)

    def message_id_counts(self) -> Counter[str]:
        return Counter(item.message_id for item in self.received)

    def clear(self) -> None:
        with self._changed:
            self._received.clear()
