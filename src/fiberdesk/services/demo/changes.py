"""Orders after the installation: plan changes, suspensions and resumptions, relocations,
disconnections with their churn reason, and the repair visits that tickets booked."""

from __future__ import annotations

from datetime import timedelta

from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.services.demo.history import PLAN_RANK, OrderBook, Visit
from fiberdesk.services.demo.lives import Life

S = ServiceStatus
OS = OrderStatus
A = AppointmentStatus


def plan_changes(book: OrderBook) -> None:
    for i, life in enumerate(book.ctx.lives):
        _plan_change(book, i, life)
        _holds(book, i, life)
        _relocation(book, i, life)
        _disconnect(book, i, life)


def _plan_change(book: OrderBook, i: int, life: Life) -> None:
    if life.plan_change_at is None or life.first_plan == life.plan:
        return
    up = PLAN_RANK[life.plan] > PLAN_RANK[life.first_plan]
    kind = OrderType.UPGRADE if up else OrderType.DOWNGRADE
    at = life.plan_change_at
    done = at + timedelta(minutes=book.rng.randrange(2, 45))
    order = book.new(i, kind, OS.COMPLETED, at)
    order.plan, order.completed_date = life.plan, done
    order.details = {
        "from_plan": life.first_plan,
        "to_plan": life.plan,
        "proration": "prorated on the next invoice",
    }
    order.step(at, "requested", f"{life.first_plan} to {life.plan}", "csr")
    order.step(done, "profile_changed", f"OLT service profile {life.plan}", "system")


def _holds(book: OrderBook, i: int, life: Life) -> None:
    if life.status is S.SUSPENDED and life.suspended_at is not None:
        at = life.suspended_at
        order = book.new(i, OrderType.SUSPENSION, OS.COMPLETED, at)
        order.completed_date = at + timedelta(minutes=1)
        order.details = {"reason": life.suspension_reason}
        order.step(at, "suspended", life.suspension_reason or "", "billing")
    if life.past_suspension is not None:
        begin, end = life.past_suspension
        reason = "Non-payment: invoice overdue 30 days"
        order = book.new(i, OrderType.SUSPENSION, OS.COMPLETED, begin)
        order.completed_date = begin + timedelta(minutes=1)
        order.details = {"reason": reason}
        order.step(begin, "suspended", reason, "billing")
        order = book.new(i, OrderType.RESUME, OS.COMPLETED, end)
        order.completed_date = end + timedelta(minutes=2)
        order.details = {"reason": "Payment received in full"}
        order.step(end, "resumed", "payment received; service restored", "billing")


def _relocation(book: OrderBook, i: int, life: Life) -> None:
    ctx = book.ctx
    if life.status is S.RELOCATING and life.relocation_to is not None:
        at = life.relocation_at or ctx.now
        slot = life.relocation_slot
        order = book.new(i, OrderType.RELOCATION, OS.SCHEDULED if slot else OS.OPEN, at)
        order.plan = life.plan
        target = book.site_facts(life, life.relocation_to)
        order.details = {
            "old_premises_id": ctx.premises_id(life.seat.site),
            "old_address": ctx.label(life.seat.site, life.seat.unit),
            "new_premises_id": target["premises_id"],
            "new_address": target["address"],
            "new_nap": target["nap"],
            "new_drop_m": target["drop_m"],
            "from_plan": life.plan,
            "to_plan": life.plan,
        }
        if life.relocation_nap is not None and life.relocation_port is not None:
            old = None if life.port is None else (life.seat.nap, life.port)
            order.move_ports = ((life.relocation_nap, life.relocation_port), old)
        order.step(at, "requested", f"moving to {target['address']}", "csr")
        if slot is not None:
            booked = at + timedelta(minutes=8)
            order.scheduled_date, order.tech = slot.day, slot.tech
            order.appointments.append((slot, A.BOOKED, booked))
            order.step(booked, "scheduled", f"{slot.day} {slot.code}", "dispatcher")
    if life.moved_slot is not None and life.moved_from is not None:
        slot = life.moved_slot
        done = slot.at(book.rng.randrange(60, 220))
        at = max(done - timedelta(days=book.rng.randint(5, 12)), life.created_at)
        order = book.new(i, OrderType.RELOCATION, OS.COMPLETED, at)
        order.plan, order.tech = life.plan, slot.tech
        order.scheduled_date, order.completed_date = slot.day, done
        order.details = {
            "old_premises_id": ctx.premises_id(life.moved_from),
            "old_address": ctx.label(life.moved_from),
            "new_premises_id": ctx.premises_id(life.seat.site),
            "new_address": ctx.label(life.seat.site, life.seat.unit),
        }
        order.appointments.append((slot, A.COMPLETED, at + timedelta(minutes=5)))
        order.step(at, "requested", f"moving to {order.details['new_address']}", "csr")
        order.step(done, "completed", "service moved; old drop released", book.tech(slot))


def _disconnect(book: OrderBook, i: int, life: Life) -> None:
    if life.status is not S.DISCONNECTED or life.cancelled or life.disconnected_at is None:
        return
    at = life.notice_at or life.disconnected_at
    order = book.new(i, OrderType.DISCONNECT, OS.COMPLETED, at)
    order.completed_date = life.disconnected_at
    nap = book.ctx.nap_of(life)
    order.details = {
        "churn_reason": life.churn_reason,
        "nap": nap.code,
        "port": life.last_port,
        "ont_returned": True,
    }
    order.step(at, "requested", life.churn_reason or "", "csr")
    order.step(life.disconnected_at, "port_released", f"{nap.code} port {life.last_port}", "system")
    order.step(life.disconnected_at + timedelta(minutes=5), "final_invoice", "issued", "billing")


def add_repairs(book: OrderBook, visits: list[Visit], ticket_ids: list[int]) -> None:
    """REPAIR orders for the visits that tickets booked (their details name the ticket)."""
    for visit in visits:
        done = visit.done_at is not None
        status = OS.COMPLETED if done else OS.SCHEDULED
        order = book.new(visit.life, OrderType.REPAIR, status, visit.booked_at)
        order.scheduled_date, order.tech = visit.slot.day, visit.slot.tech
        order.plan = book.ctx.lives[visit.life].plan
        order.details = {"ticket_id": ticket_ids[visit.ticket], "symptom": visit.symptom}
        appointment = A.COMPLETED if done else A.BOOKED
        order.appointments.append((visit.slot, appointment, visit.booked_at))
        order.step(
            visit.booked_at, "scheduled", f"{visit.slot.day} {visit.slot.code}", "dispatcher"
        )
        if visit.done_at is not None:
            order.completed_date = visit.done_at
            order.step(visit.done_at, "repaired", visit.symptom, book.tech(visit.slot))
