"""Writing the planned plant, the premises' coverage, the catalog, customers and NAP ports."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import (
    CentralOffice,
    Customer,
    Nap,
    NapPort,
    Olt,
    Plan,
    PonPort,
    Premises,
    Splitter,
)
from fiberdesk.domain.catalog import DEFAULT_TIERS
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.services.demo.context import DemoContext
from fiberdesk.services.demo.customers import PortState
from fiberdesk.services.demo.database import insert_all, insert_ids, update_by_id

S = ServiceStatus


def insert_plant(session: Session, ctx: DemoContext) -> None:
    net = ctx.net
    co_ids = insert_ids(
        session,
        CentralOffice,
        [{"code": co.code, "name": co.name, "lat": co.lat, "lon": co.lon} for co in net.cos],
    )
    olt_ids = insert_ids(
        session,
        Olt,
        [
            {
                "central_office_id": co_ids[o.co],
                "name": o.name,
                "vendor": o.model.vendor,
                "model": o.model.model,
                "tx_power_dbm": o.tx_dbm,
            }
            for o in net.olts
        ],
    )
    ctx.pon_ids = pon_ids = insert_ids(
        session,
        PonPort,
        [
            {
                "olt_id": olt_ids[p.olt],
                "slot": p.slot,
                "port": p.port,
                "technology": p.technology,
                "max_split": p.max_split,
            }
            for p in net.pons
        ],
    )
    ctx.splitter_ids = splitter_ids = insert_ids(
        session,
        Splitter,
        [
            {
                "pon_port_id": pon_ids[s.pon],
                "code": s.code,
                "ratio": s.ratio,
                "lat": s.lat,
                "lon": s.lon,
                "feeder_m": s.feeder_m,
                "connectors": s.connectors,
                "splices": s.splices,
            }
            for s in net.splitters
        ],
    )
    ctx.nap_ids = insert_ids(
        session,
        Nap,
        [
            {
                "splitter_id": splitter_ids[n.splitter],
                "code": n.code,
                "lat": n.lat,
                "lon": n.lon,
                "port_count": n.port_count,
                "distribution_m": n.distribution_m,
                "connectors": n.connectors,
                "splices": n.splices,
            }
            for n in net.naps
        ],
    )


def update_premises(session: Session, ctx: DemoContext) -> int:
    """Each covered premises gets its NAP and drop length; returns how many."""
    rows = [
        (ctx.premises_id(i), ctx.nap_ids[nap], ctx.cov.drop_m[i])
        for i, nap in enumerate(ctx.cov.nap)
        if nap >= 0
    ]
    update_by_id(session, Premises, ("nap_id", "drop_m"), rows)
    return len(rows)


def catalog_plans(session: Session) -> dict[str, int]:
    """The plans by code as the migrations seeded them; any of the six tiers an operator
    has deleted is put back from ``DEFAULT_TIERS``."""
    plans = dict(session.execute(sa.select(Plan.code, Plan.id)).all())
    missing = [t for t in DEFAULT_TIERS if t.code not in plans]
    ids = insert_ids(
        session,
        Plan,
        [
            {
                "code": t.code,
                "name": t.name,
                "download_mbps": t.download_mbps,
                "upload_mbps": t.upload_mbps,
                "monthly_price": t.monthly_price,
                "currency": "USD",
                "use_case": t.use_case,
                "technologies": ",".join(sorted(t.technologies)),
                "static_ip": t.static_ip,
                "active": True,
                "sort_order": DEFAULT_TIERS.index(t),
            }
            for t in missing
        ],
    )
    plans.update({t.code: i for t, i in zip(missing, ids, strict=True)})
    return plans


def insert_customers(session: Session, ctx: DemoContext) -> None:
    rows: list[dict[str, Any]] = []
    for life in ctx.lives:
        holds = life.status is not S.DISCONNECTED
        rows.append(
            {
                "account_number": life.account,
                "name": life.name,
                "email": life.email,
                "phone": life.phone,
                "service_address": ctx.label(life.seat.site, life.seat.unit),
                "premises_id": ctx.premises_id(life.seat.site),
                "nap_id": ctx.nap_ids[life.seat.nap] if holds else None,
                "port_number": life.port if holds else None,
                "plan_id": ctx.plan_ids[life.plan],
                "status": life.status,
                "created_at": life.created_at,
                "activated_at": life.activated_at,
                "disconnected_at": life.disconnected_at,
                "churn_reason": life.churn_reason,
                "unit": life.seat.unit,
                "access_notes": life.access_notes,
                "billing_start": life.billing_start,
            }
        )
    ctx.customer_ids = insert_ids(session, Customer, rows)


def insert_nap_ports(
    session: Session, ctx: DemoContext, states: dict[int, dict[int, PortState]]
) -> None:
    """Every NAP port; a customer's holds it by the customer's id (as text), and a port
    held for a move by ``RELOC:<account>`` with no customer yet."""
    rows: list[dict[str, Any]] = []
    for nap, ports in states.items():
        for number, state in ports.items():
            customer = None if state.life is None else ctx.customer_ids[state.life]
            held_by = None if customer is None else str(customer)
            if state.relocation and state.life is not None:
                customer, held_by = None, f"RELOC:{ctx.lives[state.life].account}"
            rows.append(
                {
                    "nap_id": ctx.nap_ids[nap],
                    "number": number,
                    "status": state.status,
                    "hold_expires_at": None,
                    "held_by": held_by,
                    "customer_id": customer,
                }
            )
    insert_all(session, NapPort, rows)
