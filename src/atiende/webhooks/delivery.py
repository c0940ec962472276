"""POSTing one webhook delivery (an outbox row of kind "webhook") to its endpoint.

The outbox claims the row and records the outcome (`atiende.mail.outbound.outbox`); this
module only talks HTTP and says what happened. The body is the row's `body_text`, exactly
as it was written with the event; the signature is computed at each attempt, over a fresh
timestamp, with the endpoint's current secret:

    Atiende-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

Redirects are not followed (a 3xx is a failure, retried like any other): the signed body
goes to the URL an administrator registered, nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import httpx
from django.conf import settings

from atiende.core.clock import now
from atiende.core.text import strip_control
from atiende.mail.models import OutboxMessage

USER_AGENT = "Atiende-Webhooks/1"
# What is kept of the receiver's answer in `last_response`: enough to read an error page's
# message, never a whole page. Reading stops there, so a huge answer costs nothing.
RESPONSE_KEPT_CHARS = 500
RESPONSE_READ_BYTES = 4 * RESPONSE_KEPT_CHARS


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `Atiende-Signature` header's value for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class WebhookAttempt:
    """What one POST came to.

    `response` is the receiver's answer ("HTTP 200: <start of the body>"), empty when there
    was none. `unreachable`: no answer at all (refused, timed out, DNS), so the endpoint's
    other deliveries wait for the next run instead of each waiting out its own timeout.
    `permanent`: asking again cannot help (the endpoint is gone or switched off).
    """

    ok: bool
    response: str = ""
    error: str = ""
    unreachable: bool = False
    permanent: bool = False


class WebhookSender:
    """One HTTP client for a delivery run (connections to an endpoint are kept alive between
    its deliveries), created on the first delivery: a run of mail only makes none."""

    def __init__(self) -> None:
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(settings.ATIENDE_WEBHOOK_TIMEOUT_SECONDS),
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def post(self, row: OutboxMessage) -> WebhookAttempt:
        """POST the claimed `row` to its endpoint (fetched with it) and say how it went.
        Never raises for anything the network or the receiver does."""
        endpoint = row.endpoint
        if endpoint is None:
            return WebhookAttempt(
                ok=False, error="The webhook endpoint was deleted.", permanent=True
            )
        if not endpoint.is_active:
            return WebhookAttempt(
                ok=False, error="The webhook endpoint is inactive.", permanent=True
            )
        body = row.body_text.encode()
        timestamp = int(now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "Atiende-Event": row.subject,
            "Atiende-Delivery": row.message_id,
            "Atiende-Signature": webhook_signature(
                secret=endpoint.secret, timestamp=timestamp, body=body
            ),
        }
        try:
            with self._http().stream("POST", endpoint.url, content=body, headers=headers) as answer:
                status = answer.status_code
                text = _start_of(answer)
        except httpx.HTTPError as error:  # refused, timed out, reset, TLS, a malformed answer
            return WebhookAttempt(
                ok=False, error=f"{type(error).__name__}: {error}", unreachable=True
            )
        except httpx.InvalidURL as error:  # stored before validation was as strict as now
            return WebhookAttempt(ok=False, error=f"InvalidURL: {error}", permanent=True)
        response = f"HTTP {status}: {text}" if text else f"HTTP {status}"
        if 200 <= status < 300:
            return WebhookAttempt(ok=True, response=response)
        refusal = f"HTTP {status}"
        if 300 <= status < 400:
            refusal += " (redirects are not followed)"
        return WebhookAttempt(ok=False, response=response, error=refusal)


def _start_of(answer: httpx.Response) -> str:
    """The first characters of the answer's body, as readable text. The status is what
    counts: a body cut short (timeout, reset) is kept as far as it came."""
    read = b""
    try:
        for chunk in answer.iter_bytes():
            read += chunk
            if len(read) >= RESPONSE_READ_BYTES:
                break
    except httpx.HTTPError:
        pass
    text = read[:RESPONSE_READ_BYTES].decode("utf-8", errors="replace")
    return strip_control(text, keep_newlines=True).strip()[:RESPONSE_KEPT_CHARS]
