"""The contracts with the outside systems that carry messages: mail, SMS and webhooks.

Each sender does one delivery and reports how it went by what it raises:

- returning normally means the other side accepted the message (the return value is a
  short note for the delivery log, e.g. the server's reply);
- ``DeliveryError``: a temporary failure (connection refused, timeout, a 4xx SMTP reply, an
  HTTP 5xx); the outbox tries again later with backoff;
- ``RejectedError``: a permanent refusal (a 5xx SMTP reply, an HTTP 4xx); the message goes
  to the dead-letter list at once.

Every delivery carries an id derived from the message's idempotency key
(``delivery_id``): the Message-ID of a mail, the key of an SMS, the ``X-Fiberdesk-Delivery``
header of a webhook. A message delivered twice (see docs/delivery.md, "the duplicate
window") therefore carries the same id both times, and the receiver can recognise it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Protocol


class DeliveryError(Exception):
    """A temporary failure: try again later."""


class RejectedError(Exception):
    """A permanent refusal: trying again will not help (the message is dead-lettered)."""


def delivery_id(idempotency_key: str) -> str:
    """The stable id of every delivery of one outbox message (hex, 32 characters)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class EmailSender(Protocol):
    def send(
        self,
        to: str,
        subject: str,
        text: str,
        html: str,
        message_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Send one mail (a text and an HTML part); ``message_id`` is ``delivery_id(...)``,
        rendered by the sender as the Message-ID header."""
        ...


class SmsSender(Protocol):
    def send(self, to: str, body: str, key: str) -> str:
        """Send one text message; a second send with the same ``key`` sends nothing."""
        ...


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> str:
        """POST ``body`` (JSON, already signed by the caller) to ``url``."""
        ...
