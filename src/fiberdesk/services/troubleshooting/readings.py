"""Taking a flow's automatic checks: remote diagnostics plus the account and the area.

One ``run_diagnostics`` call gives the ONT, its alarms, a ping, maintenance, outages and
the PON port's load; the plan comes from the account; an area outage not yet declared
is seen as several ONTs under the customer's splitter down at once (one alarm query).
The values are decided by ``fiberdesk.domain.troubleshooting.checks``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from fiberdesk.adapters.network.base import AlarmKind, NetworkAdapter, NetworkError
from fiberdesk.db.models import Customer, Equipment, Nap, Plan
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.troubleshooting import CheckResult, Observations, evaluate
from fiberdesk.domain.users import Actor
from fiberdesk.services.diagnostics import Diagnostics, path_of, run_diagnostics
from fiberdesk.services.orders import get_customer

DOWN_ALARMS = (AlarmKind.LOS, AlarmKind.LOF, AlarmKind.DYING_GASP)


def _neighbour_serials(uows: UowFactory, customer_id: int) -> list[str]:
    """Installed ONTs of the customers under the same splitter (the customer's included)."""
    with uows(write=False) as uow:
        session = uow.session
        customer = get_customer(session, customer_id)
        splitter_id = path_of(session, customer.nap_id).splitter_id
        if splitter_id is None:
            return []
        return list(
            session.scalars(
                sa.select(Equipment.serial_number)
                .join(Customer, Customer.id == Equipment.customer_id)
                .join(Nap, Nap.id == Customer.nap_id)
                .where(
                    Nap.splitter_id == splitter_id,
                    Equipment.type == EquipmentType.ONT,
                    Equipment.status == EquipmentStatus.INSTALLED,
                )
            )
        )


def _down_count(network: NetworkAdapter, serials: list[str], now: datetime) -> int:
    if len(serials) < 2:
        return 0
    wanted = set(serials)
    try:
        alarms = network.alarms(since=now - timedelta(hours=24))
    except NetworkError:
        return 0
    return len(
        {
            a.serial
            for a in alarms
            if a.serial in wanted and a.cleared_at is None and a.kind in DOWN_ALARMS
        }
    )


def _plan(uows: UowFactory, customer_id: int) -> tuple[str, int, int] | None:
    with uows(write=False) as uow:
        customer = get_customer(uow.session, customer_id)
        plan = uow.session.get(Plan, customer.plan_id) if customer.plan_id else None
        return (plan.name, plan.download_mbps, plan.upload_mbps) if plan else None


def observations(
    diag: Diagnostics, *, neighbours_down: int, plan: tuple[str, int, int] | None
) -> Observations:
    maintenance = next((m for m in diag.maintenance if m["active"]), None)
    outage = diag.outages[0] if diag.outages else None
    ping = diag.ping
    return Observations(
        service_status=diag.service_status.value,
        admin_state=diag.admin_state,
        registered=diag.registered,
        online=diag.online,
        active_alarms=tuple(diag.active_alarms),
        alarms_24h=tuple(a["kind"] for a in diag.alarms_24h),
        rx_dbm=diag.rx_dbm,
        ping=(ping["sent"], ping["received"], ping["avg_rtt_ms"]) if ping else None,
        maintenance=(maintenance["title"], maintenance["ends_at"][:16].replace("T", " "))
        if maintenance
        else None,
        outage=(outage["scope"], outage["estimated_resolution"]) if outage else None,
        neighbours_down=neighbours_down,
        pon_utilisation=diag.pon_utilisation,
        plan=plan,
    )


def take_readings(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    customer_id: int,
    names: list[str],
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """Run the named checks for a customer: {name: {value, detail, facts, at}}.

    Raises ``Refused`` (from diagnostics) when the customer has no installed ONT."""
    diag = run_diagnostics(
        uows, actor=actor, customer_id=customer_id, network=network, ping="ping" in names, now=now
    )
    down = 0
    if "area_outage" in names:
        down = _down_count(network, _neighbour_serials(uows, customer_id), now)
    plan = _plan(uows, customer_id) if "plan_on_account" in names else None
    results: dict[str, CheckResult] = evaluate(
        names, observations(diag, neighbours_down=down, plan=plan)
    )
    at = now.isoformat()
    return {
        name: {"value": r.value, "detail": r.detail, "facts": r.facts, "at": at}
        for name, r in results.items()
    }
