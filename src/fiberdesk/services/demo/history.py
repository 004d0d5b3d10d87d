"""Service orders and appointments: every customer's NEW_INSTALL order, and the site survey
before it where qualification asks for one (a long drop, an apartment building).

Orders are written as ``services.orders`` writes them: details with the premises, NAP port,
term, decision and the sign-up checklist; steps with who did what, when and through which
channel. Each visit has an appointment in a technician's window, booked once. Later orders
(changes, holds, moves, disconnections, repairs) are in ``changes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import Appointment, NapPort, ServiceOrder
from fiberdesk.domain.catalog import DEFAULT_INSTALL_FEE, DEFAULT_TIERS
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.signup import CreditPolicy, IdentityMethod
from fiberdesk.services.demo.calendar import Slot, local_dt
from fiberdesk.services.demo.context import DemoContext
from fiberdesk.services.demo.database import insert_all, insert_ids
from fiberdesk.services.demo.lives import Life

S = ServiceStatus
OS = OrderStatus
A = AppointmentStatus
TIERS = {t.code: t for t in DEFAULT_TIERS}
PLAN_RANK = {t.code: i for i, t in enumerate(DEFAULT_TIERS)}
ROUTE_FINDINGS = (
    "Aerial drop possible from the pole across the street; no tree trimming needed",
    "Underground drop: conduit to the house exists, needs a pull string",
    "Long aerial span: a mid-span pole attachment is needed, permit requested",
)
BUILDING_FINDINGS = (
    "Building riser has spare duct; ONT to go in the unit's utility closet",
    "Owner agreed to a wall-mounted fiber box in the basement telecom room",
)


@dataclass(slots=True)
class OrderPlan:
    life: int
    type: OrderType
    status: OrderStatus
    created_at: datetime
    scheduled_date: date | None = None
    completed_date: datetime | None = None
    tech: int | None = None
    plan: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, str]] = field(default_factory=list)
    appointments: list[tuple[Slot, AppointmentStatus, datetime]] = field(default_factory=list)
    #: for a SITE_SURVEY: the index of the NEW_INSTALL order it is for
    install_order: int | None = None
    #: for a move in progress: the (NAP index, port number) held at the new address and
    #: the one in use at the old; their ids go into the details once the ports exist
    move_ports: tuple[tuple[int, int], tuple[int, int] | None] | None = None

    def step(self, at: datetime, step: str, detail: str, by: str, outcome: str = "done") -> None:
        """A step as ``services.orders.record_step`` writes it."""
        via = "system" if by == "system" else "console"
        self.steps.append(
            {
                "at": at.isoformat(),
                "step": step,
                "outcome": outcome,
                "by": by,
                "via": via,
                "detail": detail,
            }
        )


@dataclass(slots=True)
class Visit:
    """A repair visit booked from a ticket."""

    life: int
    ticket: int
    slot: Slot
    booked_at: datetime
    #: when the technician finished, or None while the visit is still ahead
    done_at: datetime | None
    symptom: str


class OrderBook:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("orders")
        self.orders: list[OrderPlan] = []

    def new(self, life: int, kind: OrderType, status: OrderStatus, at: datetime) -> OrderPlan:
        order = OrderPlan(life, kind, status, at)
        self.orders.append(order)
        return order

    def tech(self, slot: Slot) -> str:
        return self.ctx.tech_name(slot.tech)

    def plan_installs(self) -> None:
        """Every customer's NEW_INSTALL order, and the site survey before it if needed."""
        for i, life in enumerate(self.ctx.lives):
            install = self._install(i, life)
            self._survey(i, life, install)

    def site_facts(self, life: Life, site: int) -> dict[str, Any]:
        ctx = self.ctx
        nap = ctx.net.naps[ctx.cov.nap[site]]
        return {
            "premises_id": ctx.premises_id(site),
            "address": ctx.label(site, life.seat.unit if site == life.seat.site else None),
            "nap": nap.code,
            "drop_m": ctx.cov.drop_m[site],
            "predicted_rx_dbm": str(ctx.cov.rx_dbm[site]),
        }

    def _survey(self, i: int, life: Life, install: int) -> None:
        if not life.survey or life.cancelled:
            return
        drop = self.ctx.cov.drop_m[life.seat.site]
        reason = (
            f"drop of {drop} m is longer than the standard {self.ctx.standard_drop_m} m"
            if drop > self.ctx.standard_drop_m
            else "multi-dwelling building: riser and entry point"
        )
        slot = life.survey_slot
        at = life.created_at + timedelta(minutes=4)
        if slot is None:
            if life.status in (S.PENDING, S.SCHEDULED):
                order = self.new(i, OrderType.SITE_SURVEY, OS.OPEN, at)
                order.install_order = install
                order.details = {"requirements": [reason], "drop_m": drop}
                order.step(at, "created", "qualification asked for a site survey", "csr")
            return
        done = slot.at(self.rng.randrange(30, 180))
        order = self.new(i, OrderType.SITE_SURVEY, OS.COMPLETED, at)
        order.scheduled_date, order.completed_date, order.tech = slot.day, done, slot.tech
        long_drop = drop > self.ctx.standard_drop_m
        finding = self.rng.choice(ROUTE_FINDINGS if long_drop else BUILDING_FINDINGS)
        order.install_order = install
        order.details = {
            "requirements": [reason],
            "drop_m": drop,
            "findings": finding,
            "passed": True,
        }
        order.appointments.append((slot, A.COMPLETED, at))
        order.step(at, "created", "qualification asked for a site survey", "csr")
        order.step(at + timedelta(minutes=3), "scheduled", f"{slot.day} {slot.code}", "dispatcher")
        order.step(done, "surveyed", finding, self.tech(slot))

    def _install(self, i: int, life: Life) -> int:
        """The NEW_INSTALL order; returns its index."""
        ctx = self.ctx
        site = life.moved_from if life.moved_from is not None else life.seat.site
        facts = self.site_facts(life, site)
        status = {
            S.PENDING: OS.OPEN,
            S.SCHEDULED: OS.SCHEDULED,
            S.INSTALLING: OS.IN_PROGRESS,
        }.get(life.status, OS.COMPLETED)
        if life.cancelled:
            status = OS.CANCELLED
        index = len(self.orders)
        order = self.new(i, OrderType.NEW_INSTALL, status, life.created_at)
        order.plan = life.first_plan
        port = life.port if life.moved_from is None else None
        port = life.last_port if life.status is S.DISCONNECTED else port
        decision = "SITE_SURVEY" if life.survey else "SERVICEABLE"
        checklist: dict[str, str] = {
            "identity": f"{IdentityMethod(life.identity).label} by csr",
            "address": facts["address"],
            "network": decision,
            "tier": life.first_plan,
            "credit": CreditPolicy().decide(life.credit_score)[0].label,
            "contract": f"{life.term}, terms 2026-01",
        }
        order.details = facts | {
            "port": port,
            "term": life.term,
            "decision": decision,
            "survey_required": life.survey,
            "install_fee": str(DEFAULT_INSTALL_FEE),
            "checklist": checklist,
        }
        at = life.created_at
        order.step(
            at,
            "order_entry",
            f"NAP {facts['nap']} port {port}; drop "
            f"{facts['drop_m']} m, predicted Rx {facts['predicted_rx_dbm']} dBm",
            "csr",
        )
        order.step(at + timedelta(minutes=1), "identity", checklist["identity"], "csr")
        order.step(at + timedelta(minutes=2), "credit", checklist["credit"], "csr")
        order.step(at + timedelta(minutes=3), "contract", checklist["contract"], "csr")
        slot = life.install_slot
        if slot is None:
            return index
        booked = at + timedelta(minutes=6)
        if life.survey_slot is not None:
            booked = max(booked, life.survey_slot.at(200))
        if life.missed_slot is not None:
            missed = life.missed_slot
            order.appointments.append((missed, A.MISSED, booked))
            order.step(booked, "scheduled", f"{missed.day} {missed.code}", "dispatcher")
            booked = missed.at(self.rng.randrange(60, 200))
            order.step(booked, "visit_missed", "nobody home; card left", self.tech(missed))
        appointment = {
            OS.SCHEDULED: A.BOOKED,
            OS.IN_PROGRESS: A.ON_SITE,
            OS.CANCELLED: A.CANCELLED,
        }.get(status, A.COMPLETED)
        order.appointments.append((slot, appointment, booked))
        order.scheduled_date, order.tech = slot.day, slot.tech
        scheduled = f"{slot.day:%Y-%m-%d} {slot.code} with {ctx.crew[slot.tech].name}"
        order.step(booked, "scheduled", scheduled, "dispatcher")
        if life.cancelled and life.disconnected_at is not None:
            order.step(life.disconnected_at, "cancelled", life.churn_reason or "", "csr")
            order.details["cancel_reason"] = life.churn_reason
            return index
        checklist["scheduled"] = scheduled
        serial = ctx.ont_serials.get(i)
        if serial is not None:
            assigned = max(booked, local_dt(slot.day - timedelta(days=1), slot.start, 420))
            assigned = min(assigned, ctx.now - timedelta(minutes=30))
            order.step(assigned, "equipment", f"ONT {serial}", "dispatcher")
            order.details["ont_serial"] = serial
            checklist["equipment"] = f"ONT {serial}"
        if status is OS.IN_PROGRESS:
            order.step(slot.at(25), "technician_on_site", "arrived", self.tech(slot))
            return index
        if life.activated_at is None:
            return index
        done = life.activated_at
        tier = TIERS[life.first_plan]
        rx = ctx.rx(life) + Decimal(self.rng.randrange(-80, 60)) / 100
        pct = self.rng.uniform(0.91, 0.985)
        tech = self.tech(slot)
        order.completed_date = done
        order.step(
            done - timedelta(minutes=50),
            "drop_installed",
            f"{facts['drop_m']} m drop from {facts['nap']}",
            tech,
        )
        order.step(
            done - timedelta(minutes=12),
            "ont_registered",
            f"{serial} on {ctx.pon_label(life)}, Rx {rx:.2f} dBm",
            "system",
        )
        order.step(done, "activated", f"{tier.name} service up", tech)
        order.step(
            done + timedelta(minutes=6),
            "speed_test",
            f"{round(tier.download_mbps * pct)}/{round(tier.upload_mbps * pct)} Mbps wired",
            tech,
        )
        order.details["provisioned"] = True
        checklist["activated"] = done.isoformat()
        return index

    def _move_details(
        self, session: Session, new: tuple[int, int], old: tuple[int, int] | None
    ) -> dict[str, Any]:
        """The details fiberdesk's relocation writes about the ports of a move."""
        nap_ids = self.ctx.nap_ids

        def port_id(nap: int, number: int) -> int | None:
            return session.scalar(
                sa.select(NapPort.id).where(
                    NapPort.nap_id == nap_ids[nap], NapPort.number == number
                )
            )

        return {
            "new_nap_id": nap_ids[new[0]],
            "new_port": new[1],
            "new_port_id": port_id(*new),
            "old_port_id": None if old is None else port_id(*old),
        }

    def insert(self, session: Session) -> None:
        """Orders in time order (a survey after the installation order it is for, which
        its details name), then their appointments."""
        ctx = self.ctx
        ids: dict[int, int] = {}
        for surveys in (False, True):
            batch = sorted(
                (k for k, o in enumerate(self.orders) if (o.install_order is not None) == surveys),
                key=lambda k: (self.orders[k].created_at, self.orders[k].life, k),
            )
            rows = []
            for k in batch:
                o = self.orders[k]
                details = o.details
                if o.install_order is not None:
                    details = {"install_order": ids[o.install_order], **details}
                if o.move_ports is not None:
                    details = {**details, **self._move_details(session, *o.move_ports)}
                rows.append(
                    {
                        "customer_id": ctx.customer_ids[o.life],
                        "type": o.type,
                        "status": o.status,
                        "scheduled_date": o.scheduled_date,
                        "completed_date": o.completed_date,
                        "technician_id": None if o.tech is None else ctx.tech_ids[o.tech],
                        "plan_id": None if o.plan is None else ctx.plan_ids[o.plan],
                        "created_at": o.created_at,
                        "details": details,
                        "steps": o.steps,
                    }
                )
            ids.update(zip(batch, insert_ids(session, ServiceOrder, rows), strict=True))
        insert_all(
            session,
            Appointment,
            [
                {
                    "order_id": ids[k],
                    "technician_id": ctx.tech_ids[slot.tech],
                    "day": slot.day,
                    "window_code": slot.code,
                    "window_start": slot.start,
                    "window_end": slot.end,
                    "status": status,
                    "created_at": booked,
                }
                for k, o in enumerate(self.orders)
                for slot, status, booked in o.appointments
            ],
        )

    @property
    def appointment_count(self) -> int:
        return sum(len(o.appointments) for o in self.orders)
