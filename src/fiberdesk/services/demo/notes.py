"""Customer notes of every kind, written by the staff and technicians who would write them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from fiberdesk.db.models import CustomerNote
from fiberdesk.domain.customers import NoteType, ServiceStatus
from fiberdesk.services.demo.context import DemoContext
from fiberdesk.services.demo.database import insert_all
from fiberdesk.services.demo.lives import Life

N = NoteType
S = ServiceStatus
ONT_PLACES = (
    "basement utility room",
    "garage wall",
    "living room media shelf",
    "telecom closet",
    "home office",
)
CALLS = (
    "Called to confirm the installation window",
    "Asked how the first invoice is prorated",
    "Asked about upgrading to a faster plan",
    "Called to update the contact phone number",
)
EMAILS = (
    "Sent the installation confirmation and preparation checklist",
    "Customer e-mailed a photo of the ONT lights",
    "Sent the welcome letter with the WiFi setup guide",
)
GENERAL = (
    "Prefers text messages to calls",
    "Works from home; avoid early mornings",
    "Referred by a neighbour",
)
COMPLAINTS = (
    "Unhappy with the installation lead time",
    "Complained about the evening slowdowns",
    "Upset about a late-fee on the invoice",
)


def plan_notes(ctx: DemoContext) -> list[dict[str, Any]]:
    rng = ctx.rng("notes")
    notes: list[dict[str, Any]] = []

    def add(i: int, kind: NoteType, at: datetime, by: str, text: str) -> None:
        at = min(at, ctx.now - timedelta(minutes=1))
        notes.append({"life": i, "type": kind, "content": text, "created_by": by, "created_at": at})

    def during(life: Life) -> datetime:
        end = min(life.disconnected_at or ctx.now, ctx.now)
        span = max(60, int((end - life.created_at).total_seconds()))
        return life.created_at + timedelta(seconds=rng.randrange(span))

    for i, life in enumerate(ctx.lives):
        nap = ctx.nap_of(life)
        slot = life.install_slot
        if life.access_notes:
            add(i, N.ACCESS, life.created_at + timedelta(minutes=4), "csr", life.access_notes)
        if life.activated_at is not None and slot is not None:
            add(
                i,
                N.INSTALLATION,
                life.activated_at - timedelta(minutes=5),
                ctx.tech_name(slot.tech),
                f"ONT mounted in the {rng.choice(ONT_PLACES)}; {ctx.cov.drop_m[life.seat.site]}"
                f" m drop from {nap.code} port {life.port or life.last_port}",
            )
            add(
                i,
                N.SYSTEM,
                life.activated_at,
                "system",
                f"Service activated on {ctx.pon_label(life)}; ONT {ctx.ont_serials.get(i, 'n/a')}",
            )
        if rng.random() < 0.3:
            add(i, N.CALL, during(life), "csr", rng.choice(CALLS))
        if rng.random() < 0.15:
            add(i, N.EMAIL, during(life), "csr", rng.choice(EMAILS))
        if rng.random() < 0.1:
            add(i, N.GENERAL, during(life), "csr", rng.choice(GENERAL))
        if rng.random() < 0.04:
            add(i, N.COMPLAINT, during(life), "supervisor", rng.choice(COMPLAINTS))
        if life.activated_at is not None and rng.random() < 0.08:
            rx = ctx.rx(life) + Decimal(rng.randrange(-60, 60)) / 100
            add(
                i,
                N.TECHNICAL,
                during(life),
                "noc",
                f"Rx {rx:.2f} dBm at the ONT, within range; no alarms in 30 days",
            )
        if life.status is S.SUSPENDED and life.suspended_at is not None:
            add(
                i,
                N.SYSTEM,
                life.suspended_at,
                "system",
                f"Service suspended: {life.suspension_reason}",
            )
            add(
                i,
                N.BILLING,
                life.suspended_at + timedelta(days=2),
                "billing",
                "Promised to pay the overdue balance by the end of the week",
            )
        elif life.activated_at is not None and rng.random() < 0.08:
            add(i, N.BILLING, during(life), "billing", "Autopay set up with a card on file")
        if life.disconnected_at is not None:
            add(
                i,
                N.SYSTEM,
                life.disconnected_at,
                "system",
                f"Service disconnected: {life.churn_reason}",
            )
    present = {n["type"] for n in notes}
    for kind in NoteType:
        if kind not in present and ctx.lives:
            add(0, kind, ctx.lives[0].created_at + timedelta(hours=1), "csr", f"{kind.label} note")
    notes.sort(key=lambda n: (n["created_at"], n["life"]))
    return notes


def insert_notes(session: Session, ctx: DemoContext, notes: list[dict[str, Any]]) -> None:
    insert_all(
        session,
        CustomerNote,
        [
            {k: v for k, v in n.items() if k != "life"}
            | {"customer_id": ctx.customer_ids[n["life"]]}
            for n in notes
        ],
    )
