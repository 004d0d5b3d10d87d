"""Signed webhooks over HTTP (httpx).

Each delivery is a POST of a JSON body with these headers:

- ``X-Fiberdesk-Event``: the event, e.g. ``order.created``;
- ``X-Fiberdesk-Delivery``: the delivery id, the same on every retry of one event to one
  endpoint, so a receiver can drop duplicates;
- ``X-Fiberdesk-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC keyed with
  the endpoint's secret over ``f"{t}.{body}"`` (the timestamp, a dot, the raw body bytes).
  A receiver recomputes it with ``verify`` (or the few lines in docs/delivery.md) and
  refuses a signature older than a few minutes, which defeats replays.

Outcomes: a 2xx answer is a delivery; 408, 429 and 5xx answers, timeouts and connection
failures are temporary (``DeliveryError``); any other answer, a redirect included (they are
not followed: configure the final URL), is a refusal (``RejectedError``).

The sender posts only to the URL it is given; the outbox takes that URL from the endpoint an
administrator configured (``services.webhooks``), never from a message.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

import httpx

from fiberdesk.adapters.notifications.base import DeliveryError, RejectedError

SIGNATURE_HEADER = "X-Fiberdesk-Signature"
EVENT_HEADER = "X-Fiberdesk-Event"
DELIVERY_HEADER = "X-Fiberdesk-Delivery"
#: how old a signature a receiver should accept, seconds
DEFAULT_TOLERANCE = 300


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Fiberdesk-Signature`` value for ``body`` signed at ``timestamp``."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``header`` is a valid, recent signature of ``body`` (what a receiver does)."""
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            macs.append(value)
    if timestamp is None or not macs:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _mac(secret, body, timestamp)
    return any(hmac.compare_digest(expected, mac) for mac in macs)


def signed_headers(
    *, secret: str, event: str, delivery_id: str, body: bytes, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        SIGNATURE_HEADER: signature(secret, body, timestamp),
    }


class HttpWebhookSender:
    def __init__(
        self,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        trust_env: bool = True,
    ) -> None:
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            trust_env=trust_env,
            headers={"User-Agent": "fiberdesk-webhooks/1"},
        )

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> str:
        if not url.lower().startswith(("http://", "https://")):
            raise RejectedError(f"not an http(s) URL: {url!r}")
        try:
            response = self._client.post(url, content=body, headers=dict(headers))
        except httpx.TimeoutException:
            raise DeliveryError(f"timed out posting to {url}") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"could not post to {url}: {exc or type(exc).__name__}") from None
        status = response.status_code
        note = f"HTTP {status} from {url}"
        if 200 <= status < 300:
            return note
        if status in (408, 429) or status >= 500:
            raise DeliveryError(note)
        raise RejectedError(note)

    def close(self) -> None:
        self._client.close()
