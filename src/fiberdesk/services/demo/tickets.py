"""Six months of service tickets: every category and priority, most resolved.

Tickets are raised by customers who had service at the time (installation questions by those
waiting for it). A ticket resolved on the first contact, without escalation or a visit, is
resolved within minutes; that happens for about 70 % of those that could be. Older tickets
are resolved or closed; the last ten days hold the open queue. Two outages show as bursts of
tickets from customers behind one splitter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from fiberdesk.db.models import Outage, OutageCustomer, Ticket
from fiberdesk.domain.customers import OCCUPYING_STATUSES
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.domain.tickets import (
    Team,
    TicketCategory,
    TicketPriority,
    TicketStatus,
)
from fiberdesk.services.demo import texts
from fiberdesk.services.demo.calendar import local_dt
from fiberdesk.services.demo.context import DemoContext
from fiberdesk.services.demo.database import insert_all, insert_ids
from fiberdesk.services.demo.history import Visit
from fiberdesk.services.demo.lives import HISTORY_DAYS, Life

C, P, T = TicketCategory, TicketPriority, TicketStatus
CATEGORY_WEIGHTS = {
    C.NO_INTERNET: 20,
    C.SLOW_SPEED: 14,
    C.INTERMITTENT: 10,
    C.WIFI: 17,
    C.BILLING: 15,
    C.INSTALLATION: 7,
    C.EQUIPMENT: 8,
    C.RELOCATION: 3,
    C.OTHER: 6,
}
PRIORITIES: dict[TicketCategory, tuple[tuple[TicketPriority, ...], tuple[int, ...]]] = {
    C.NO_INTERNET: ((P.HIGH, P.NORMAL), (6, 4)),
    C.SLOW_SPEED: ((P.NORMAL, P.HIGH, P.LOW), (7, 2, 1)),
    C.INTERMITTENT: ((P.NORMAL, P.HIGH), (7, 3)),
    C.WIFI: ((P.NORMAL, P.LOW), (1, 1)),
    C.BILLING: ((P.NORMAL, P.LOW), (2, 1)),
    C.INSTALLATION: ((P.NORMAL, P.HIGH), (3, 1)),
    C.EQUIPMENT: ((P.NORMAL, P.HIGH), (2, 1)),
    C.RELOCATION: ((P.NORMAL, P.LOW), (1, 1)),
    C.OTHER: ((P.LOW, P.NORMAL), (2, 1)),
}
ESCALATION = {C.NO_INTERNET: 0.3, C.INTERMITTENT: 0.3, C.SLOW_SPEED: 0.2, C.EQUIPMENT: 0.1}
VISITS = {C.NO_INTERNET: 0.25, C.INTERMITTENT: 0.2, C.EQUIPMENT: 0.3, C.INSTALLATION: 0.1}
TECHNICAL = frozenset({C.NO_INTERNET, C.SLOW_SPEED, C.INTERMITTENT, C.EQUIPMENT})
OPEN_STATUSES = (T.OPEN, T.IN_PROGRESS, T.WAITING_ON_CUSTOMER, T.ESCALATED, T.REOPENED)
RECENT_DAYS = 10
TEAM_USER = {Team.CSR: "csr", Team.NOC: "noc", Team.BILLING: "billing", Team.DISPATCH: "dispatcher"}


@dataclass(slots=True)
class TicketPlan:
    life: int
    category: TicketCategory
    priority: TicketPriority
    created_at: datetime
    status: TicketStatus = T.OPEN
    description: str = ""
    resolution: str | None = None
    resolution_code: str | None = None
    team: Team = Team.CSR
    fcr: bool | None = None
    escalated: bool = False
    visit_booked: bool = False
    resolved_at: datetime | None = None
    transcript: list[dict[str, str]] = field(default_factory=list)
    #: the outage it was part of (an index into the desk's outages)
    outage: int | None = None
    contacts: int = 1

    def say(self, at: datetime, by: str, kind: str, text: str) -> None:
        """A transcript entry as ``services.tickets.log`` writes it."""
        via = "system" if by == "system" else "console"
        self.transcript.append(
            {"at": at.isoformat(), "by": by, "via": via, "kind": kind, "text": text}
        )


@dataclass(slots=True)
class OutagePlan:
    """A feeder cut behind one splitter: everyone behind it lost service for hours."""

    splitter: int
    detected_at: datetime
    resolved_at: datetime
    lives: list[int]


class TicketDesk:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("tickets")
        self.tickets: list[TicketPlan] = []
        self.visits: list[Visit] = []
        #: customers whose ONT a visit replaced
        self.replaced: set[int] = set()
        self.outages: list[OutagePlan] = []
        self.start = ctx.now - timedelta(days=HISTORY_DAYS)

    def _service(self, life: Life) -> tuple[datetime, datetime] | None:
        if life.activated_at is None:
            return None
        begin = max(life.activated_at + timedelta(hours=6), self.start)
        end = min(life.disconnected_at or self.ctx.now, self.ctx.now - timedelta(minutes=20))
        return (begin, end) if begin < end else None

    def _window(self, i: int, category: TicketCategory) -> tuple[datetime, datetime] | None:
        life = self.ctx.lives[i]
        if category is C.INSTALLATION:
            begin = max(life.created_at + timedelta(hours=2), self.start)
            done = life.activated_at + timedelta(days=10) if life.activated_at else self.ctx.now
            end = min(done, life.disconnected_at or self.ctx.now, self.ctx.now)
            return (begin, end) if begin < end - timedelta(minutes=30) else None
        if category is C.RELOCATION and life.relocation_at is not None:
            return life.relocation_at - timedelta(days=5), life.relocation_at
        return self._service(life)

    def plan(self) -> None:
        ctx, rng = self.ctx, self.rng
        total = max(60, round(len(ctx.lives) * 0.3))
        categories = list(C) + rng.choices(
            list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()), k=total - len(C)
        )
        people = list(range(len(ctx.lives)))
        for category in categories:
            for _ in range(50):
                i = rng.choice(people)
                window = self._window(i, category)
                if window is not None:
                    break
            else:
                continue
            begin, end = window
            at = begin + timedelta(seconds=rng.randrange(int((end - begin).total_seconds())))
            priority = rng.choices(*PRIORITIES[category])[0]
            self.tickets.append(TicketPlan(i, category, priority, at))
        self._outages()
        self.tickets.sort(key=lambda t: (t.created_at, t.life))
        # the newest tickets that can be open show every open status at least once
        recent = [k for k, t in enumerate(self.tickets) if self._open_possible(t)]
        forced = dict(zip(reversed(recent), OPEN_STATUSES * 2, strict=False))
        for k, ticket in enumerate(self.tickets):
            self._work(k, ticket, forced.get(k))

    def _open_possible(self, ticket: TicketPlan) -> bool:
        life = self.ctx.lives[ticket.life]
        age = self.ctx.now - ticket.created_at
        return age <= timedelta(days=RECENT_DAYS) and life.status in OCCUPYING_STATUSES

    def _outages(self) -> None:
        ctx, rng = self.ctx, self.rng
        for _ in range(2 if len(ctx.lives) >= 1000 else 1):
            at = ctx.now - timedelta(
                days=rng.randint(20, HISTORY_DAYS - 10), hours=rng.randint(0, 8)
            )
            by_splitter: dict[int, list[int]] = {}
            for i, life in enumerate(ctx.lives):
                window = self._service(life)
                if window and window[0] <= at <= window[1]:
                    by_splitter.setdefault(ctx.nap_of(life).splitter, []).append(i)
            if not by_splitter:
                continue
            splitter = max(sorted(by_splitter), key=lambda s: len(by_splitter[s]))
            restored = at + timedelta(hours=rng.randint(3, 6))
            self.outages.append(OutagePlan(splitter, at, restored, by_splitter[splitter]))
            for i in by_splitter[splitter][:8]:
                ticket = TicketPlan(
                    i, C.NO_INTERNET, P.CRITICAL, at + timedelta(minutes=rng.randint(5, 90))
                )
                ticket.description = texts.OUTAGE_DESCRIPTION
                ticket.escalated, ticket.team = True, Team.NOC
                ticket.resolution_code, ticket.resolution = texts.OUTAGE_RESOLUTION
                ticket.resolved_at = restored + timedelta(minutes=rng.randint(5, 40))
                ticket.outage = len(self.outages) - 1
                self.tickets.append(ticket)

    def _work(self, k: int, ticket: TicketPlan, forced: TicketStatus | None) -> None:
        """Decide what happened to a ticket and write its transcript."""
        ctx, rng = self.ctx, self.rng
        life = ctx.lives[ticket.life]
        category, at = ticket.category, ticket.created_at
        outage = ticket.resolution_code == "OUTAGE_RESTORED"
        if not ticket.description:
            ticket.description = rng.choice(texts.DESCRIPTIONS[category]).format(plan=life.plan)
        if life.business and category is C.NO_INTERNET:
            ticket.priority = P.CRITICAL
        ticket.say(at, "csr", "opened", ticket.description)
        serial = ctx.ont_serials.get(ticket.life, "unknown")
        if category in TECHNICAL:
            rx = ctx.rx(life) + Decimal(rng.randrange(-90, 70)) / 100
            state = "in LOS" if category is C.NO_INTERNET else f"online, Rx {rx:.2f} dBm"
            ticket.say(at + timedelta(minutes=3), "csr", "diagnostic", f"ONT {serial} {state}")
        if outage:
            ticket.say(at + timedelta(minutes=5), "noc", "outage", "linked to the outage")
            self._resolve(ticket, ticket.resolved_at or at, "noc")
            ticket.fcr = False
            return
        status = forced
        if status is None and self._open_possible(ticket) and rng.random() < 0.65:
            status = rng.choice(OPEN_STATUSES)
        ticket.escalated = rng.random() < ESCALATION.get(category, 0.03) or status is T.ESCALATED
        if ticket.escalated:
            ticket.team = Team.BILLING if category is C.BILLING else Team.NOC
            ticket.say(at + timedelta(minutes=8), "csr", "escalated", f"to {ticket.team.label}")
        elif category is C.BILLING:
            ticket.team = Team.BILLING
        elif category in (C.INSTALLATION, C.RELOCATION):
            ticket.team = Team.DISPATCH
        options = texts.RESOLUTIONS[category]
        if rng.random() < VISITS.get(category, 0.0) and status is not T.WAITING_ON_CUSTOMER:
            code, text, _ = rng.choice([o for o in options if o[2]])
            if self._visit(k, ticket, code):
                ticket.resolution_code, ticket.resolution = code, text
        if ticket.resolution_code is None:
            code, text, _ = rng.choice([o for o in options if not o[2]])
            ticket.resolution_code, ticket.resolution = code, text
        if status is not None:
            self._leave_open(ticket, status)
            return
        if ticket.visit_booked:
            visit = self.visits[-1]
            if visit.done_at is None:
                self._leave_open(ticket, T.IN_PROGRESS)
                return
            resolved = visit.done_at + timedelta(minutes=rng.randrange(5, 90))
            resolved = min(resolved, ctx.now - timedelta(minutes=5))
            self._resolve(ticket, resolved, ctx.tech_name(visit.slot.tech))
            ticket.fcr = False
            return
        quick = not ticket.escalated and rng.random() < 0.7
        ticket.fcr = quick
        target, alert = ctx.sla_hours[ticket.priority]
        if quick:
            minutes = rng.randint(4, 35)
        else:
            roll = rng.random()
            hours = (
                rng.uniform(0.5, target)
                if roll < 0.8
                else rng.uniform(target, alert)
                if roll < 0.95
                else rng.uniform(alert, alert * 2)
            )
            minutes = round(hours * 60)
        resolved = min(at + timedelta(minutes=minutes), ctx.now - timedelta(minutes=5))
        self._resolve(ticket, resolved, TEAM_USER[ticket.team])

    def _visit(self, k: int, ticket: TicketPlan, symptom: str) -> bool:
        ctx = self.ctx
        life = ctx.lives[ticket.life]
        zip_code = ctx.sites[life.seat.site].zip
        earliest = (ticket.created_at + timedelta(days=1)).date()
        slot = ctx.calendar.book(earliest, zip_code=zip_code, skill="repair")
        end = life.disconnected_at
        if slot is None or (end is not None and slot.at(0) >= end):
            if slot is not None:
                ctx.calendar.release(slot)
            return False
        booked = ticket.created_at + timedelta(minutes=15)
        done = local_dt(slot.day, slot.end) <= ctx.now
        done_at = slot.at(self.rng.randrange(45, 230)) if done else None
        self.visits.append(Visit(ticket.life, k, slot, booked, done_at, symptom))
        ticket.visit_booked = True
        if ticket.team is Team.CSR:
            ticket.team = Team.DISPATCH
        ticket.say(booked, "dispatcher", "visit_booked", f"repair visit {slot.day} {slot.code}")
        if done and symptom == "ONT_REPLACED":
            self.replaced.add(ticket.life)
        return True

    def _leave_open(self, ticket: TicketPlan, status: TicketStatus) -> None:
        at = ticket.created_at
        ticket.status, ticket.fcr, ticket.resolved_at = status, None, None
        resolution = ticket.resolution
        ticket.resolution = ticket.resolution_code = None
        if status is T.WAITING_ON_CUSTOMER:
            ticket.say(at + timedelta(minutes=12), "csr", "waiting", texts.WAITING_TEXT)
        elif status is T.REOPENED:
            ticket.say(
                at + timedelta(minutes=30), TEAM_USER[ticket.team], "resolved", resolution or ""
            )
            ticket.say(at + timedelta(hours=20), "csr", "reopened", texts.REOPEN_TEXT)
            ticket.contacts = 2
        elif status is T.ESCALATED and not ticket.escalated:
            ticket.escalated, ticket.team = True, Team.NOC

    def _resolve(self, ticket: TicketPlan, at: datetime, by: str) -> None:
        ticket.resolved_at = at
        ticket.say(at, by, "resolved", ticket.resolution or "")
        closed = at + timedelta(days=3)
        if closed < self.ctx.now and self.rng.random() < 0.7:
            ticket.status = T.CLOSED
            ticket.say(closed, "system", "closed", "closed three days after resolution")
        else:
            ticket.status = T.RESOLVED

    def insert(self, session: Session) -> list[int]:
        """The outages, who they cut off, then the tickets (in time order); returns the
        tickets' ids."""
        ctx = self.ctx
        outage_ids = insert_ids(
            session,
            Outage,
            [
                {
                    "status": OutageStatus.RESOLVED,
                    "kind": OutageKind.FIBER,
                    "scope": Scope.SPLITTER,
                    "scope_id": ctx.splitter_ids[o.splitter],
                    "scope_label": ctx.net.splitters[o.splitter].code,
                    "area": ", ".join(
                        sorted({ctx.sites[ctx.lives[i].seat.site].zip for i in o.lives})
                    ),
                    "detected_at": o.detected_at,
                    "confirmed_at": o.detected_at + timedelta(minutes=12),
                    "resolved_at": o.resolved_at,
                    "estimated_resolution": o.detected_at + timedelta(hours=4),
                    "cause": texts.OUTAGE_RESOLUTION[1],
                    "affected_onts": len(o.lives),
                    "affected_customers": len(o.lives),
                }
                for o in self.outages
            ],
        )
        insert_all(
            session,
            OutageCustomer,
            [
                {
                    "outage_id": outage_id,
                    "customer_id": ctx.customer_ids[i],
                    "notified_at": o.detected_at + timedelta(minutes=20),
                    "restored_at": o.resolved_at,
                }
                for outage_id, o in zip(outage_ids, self.outages, strict=True)
                for i in o.lives
            ],
        )
        rows: list[dict[str, Any]] = []
        for t in self.tickets:
            target, alert = ctx.sla_hours[t.priority]
            rows.append(
                {
                    "customer_id": ctx.customer_ids[t.life],
                    "category": t.category,
                    "priority": t.priority,
                    "status": t.status,
                    "description": t.description,
                    "resolution": t.resolution,
                    "resolution_code": t.resolution_code,
                    "team": t.team,
                    "assignee_id": ctx.user_ids.get(TEAM_USER[t.team]),
                    "first_contact_resolution": t.fcr,
                    "escalated": t.escalated,
                    "visit_booked": t.visit_booked,
                    "contacts": t.contacts,
                    "outage_id": None if t.outage is None else outage_ids[t.outage],
                    "sla_due_at": t.created_at + timedelta(hours=target),
                    "sla_alert_at": t.created_at + timedelta(hours=alert),
                    "created_by": "csr",
                    "created_at": t.created_at,
                    "resolved_at": t.resolved_at,
                    "transcript": t.transcript,
                }
            )
        return insert_ids(session, Ticket, rows)
