"""What customers are told about an outage: the outage notification when they join one,
the restoration notice when it is over, each queued once per outage and customer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import Customer, Outage
from fiberdesk.services import messages
from fiberdesk.services.alarms import chunks
from fiberdesk.services.outages.settings import OutageSettings


def human_time(at: datetime) -> str:
    return f"{at:%A, %B %d, %Y at %H:%M} UTC"


def customers_by_id(session: Session, ids: Iterable[int]) -> dict[int, Customer]:
    found: dict[int, Customer] = {}
    for chunk in chunks(sorted(set(ids))):
        found.update(
            (c.id, c) for c in session.scalars(sa.select(Customer).where(Customer.id.in_(chunk)))
        )
    return found


def notify(
    s: Session,
    outage: Outage,
    customers: Iterable[Customer],
    kind: str,
    st: OutageSettings,
    now: datetime,
) -> set[int]:
    """Queue an outage notification or restoration notice to each customer, once per outage
    and customer; returns the customers with somewhere to send it."""
    context = (
        notification_context(outage)
        if kind == "outage_notification"
        else restoration_context(outage, now)
    )
    common = _common_context(outage, st) | context
    return queue_all(
        s,
        kind,
        [(c, f"{outage.id}:{c.id}", {"customer_name": c.name, **common}) for c in customers],
    )


def _common_context(outage: Outage, st: OutageSettings) -> dict[str, Any]:
    return {
        "outage_id": outage.id,
        "kind": outage.kind.label,
        "area": outage.area,
        "detected": human_time(outage.detected_at),
        "detected_at": outage.detected_at.isoformat(),
        "company_name": st.company_name,
        "support_number": st.support_phone,
    }


def notification_context(outage: Outage) -> dict[str, Any]:
    """The outage notification's own fields: its status and the repair estimate."""
    eta = outage.estimated_resolution
    return {
        "status": f"Outage {outage.status.label}",
        "estimated_resolution": human_time(eta) if eta else "being assessed",
        "estimated_resolution_at": eta.isoformat() if eta else None,
    }


def restoration_context(outage: Outage, now: datetime) -> dict[str, Any]:
    """The restoration notice's own fields: when service came back, and how long it took."""
    restored = outage.resolved_at or now
    minutes = max(0, int((restored - outage.detected_at).total_seconds() // 60))
    return {
        "status": "Service Restored",
        "restored": human_time(restored),
        "restored_at": restored.isoformat(),
        "duration": f"{minutes // 60} h {minutes % 60:02d} min",
    }


def queue_all(
    s: Session, kind: str, items: Sequence[tuple[Customer, str, dict[str, Any]]]
) -> set[int]:
    """``messages.queue`` (e-mail) for many customers at once, with the same idempotency keys
    and the same rows, but one lookup of the keys already queued and one insert
    (``messages.queue_many``): an outage of thousands of customers costs two statements, not
    thousands of round trips. Returns the customers with an address to write to. (A test
    holds it to ``messages.queue``.)"""
    keys = messages.queue_many(
        s, [messages.NewMessage(kind, key, c, context) for c, key, context in items]
    )
    return {c.id for (c, _, _), key in zip(items, keys, strict=True) if key is not None}
