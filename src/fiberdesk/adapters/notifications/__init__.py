"""Notification channels: e-mail over SMTP, SMS (a recording fake by default) and signed
webhooks. ``base`` holds the Protocols and the two failure exceptions."""

from fiberdesk.adapters.notifications.base import (
    DeliveryError,
    EmailSender,
    RejectedError,
    SmsSender,
    WebhookSender,
    delivery_id,
)

__all__ = [
    "DeliveryError",
    "EmailSender",
    "RejectedError",
    "SmsSender",
    "WebhookSender",
    "delivery_id",
]
