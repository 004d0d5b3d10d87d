"""Guided troubleshooting on the simulated OLT, every branch of the spec's flows
(SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
import sqlalchemy as sa

from fiberdesk.adapters.network.base import ServiceProfile
from fiberdesk.adapters.network.simulated import FaultKind, SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Appointment,
    AuditEntry,
    Customer,
    MaintenanceWindow,
    Nap,
    Outage,
    ServiceOrder,
    Splitter,
    Ticket,
    TroubleshootingFlow,
    TroubleshootingSession,
    UsageDaily,
)
from fiberdesk.domain.customers import ServiceStatus, account_number
from fiberdesk.domain.errors import Conflict, Forbidden, InvalidInput, Refused
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.domain.tickets import Team, TicketCategory, TicketStatus
from fiberdesk.domain.users import Actor, Channel, Role
from fiberdesk.services import flows, tickets, troubleshooting, usage
from fiberdesk.services.troubleshooting import SessionView
from tests.factories import ActiveCustomers, make_active_customers, make_field_staff

CSR = Actor(name="csr1", role=Role.CSR, channel=Channel.CONSOLE)


@dataclass
class World:
    fd: Fiberdesk
    active: ActiveCustomers

    @property
    def sim(self) -> SimulatedOlt:
        return cast(SimulatedOlt, self.fd.network)

    def customer(self, nap: str = "NAP-A", index: int = 0) -> tuple[int, str]:
        pairs = [
            (c, s)
            for c, s in zip(self.active.customer_ids, self.active.serials, strict=True)
            if self.active.nap_of[c] == nap
        ]
        return pairs[index]

    def splitter(self, nap: str = "NAP-A") -> int:
        with self.fd.uow(write=False) as uow:
            splitter_id = uow.session.scalar(
                sa.select(Nap.splitter_id).where(Nap.id == self.active.world.naps[nap])
            )
            assert splitter_id is not None
            return splitter_id

    def ticket(
        self, customer_id: int, category: TicketCategory = TicketCategory.NO_INTERNET
    ) -> int:
        with self.fd.uow() as uow:
            return tickets.open_ticket(
                uow, actor=CSR, customer_id=customer_id, category=category, description="help"
            ).id

    def start(self, ticket_id: int, flow: str = "no_internet") -> SessionView:
        return troubleshooting.start_session(
            self.fd.uow,
            actor=CSR,
            network=self.fd.network,
            ticket_id=ticket_id,
            flow_code=flow,
            scheduling=self.fd.scheduling,
        )

    def answer(self, view: SessionView, node: str, option: str) -> SessionView:
        return troubleshooting.answer(
            self.fd.uow,
            actor=CSR,
            network=self.fd.network,
            session_id=view.id,
            node_id=node,
            option=option,
            scheduling=self.fd.scheduling,
        )

    def run(self, customer_id: int, flow: str, *answers: tuple[str, str]) -> SessionView:
        category = {
            "no_internet": TicketCategory.NO_INTERNET,
            "slow_internet": TicketCategory.SLOW_SPEED,
            "intermittent": TicketCategory.INTERMITTENT,
        }[flow]
        view = self.start(self.ticket(customer_id, category), flow)
        for node, option in answers:
            assert view.prompt is not None and view.prompt["node"] == node, view.current_node
            view = self.answer(view, node, option)
        return view

    def ticket_row(self, ticket_id: int) -> Ticket:
        with self.fd.uow(write=False) as uow:
            ticket = tickets.get_ticket(uow.session, ticket_id)
            uow.session.expunge(ticket)
            return ticket

    def repair_orders(self, customer_id: int) -> list[ServiceOrder]:
        with self.fd.uow(write=False) as uow:
            orders = list(
                uow.session.scalars(
                    sa.select(ServiceOrder).where(
                        ServiceOrder.customer_id == customer_id,
                        ServiceOrder.type == OrderType.REPAIR,
                    )
                )
            )
            uow.session.expunge_all()
            return orders

    def count(self, model: Any) -> int:
        with self.fd.uow(write=False) as uow:
            return int(uow.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@pytest.fixture
def world(fd: Fiberdesk) -> World:
    make_field_staff(fd)
    return World(fd, make_active_customers(fd))


def outcome_of(view: SessionView) -> tuple[str, str]:
    assert view.status == "COMPLETED" and view.outcome is not None
    return view.outcome["kind"], view.outcome["code"]


def assert_resolved_fcr(w: World, view: SessionView, code: str) -> None:
    assert outcome_of(view) == ("RESOLVED", code)
    ticket = w.ticket_row(view.ticket_id)
    assert ticket.status is TicketStatus.RESOLVED and ticket.resolution_code == code
    assert ticket.first_contact_resolution is True
    assert view.outcome is not None and view.outcome["first_contact_resolution"] is True


def assert_visit_booked(w: World, view: SessionView, code: str) -> None:
    assert outcome_of(view) == ("TECH_VISIT", code)
    assert view.outcome is not None and view.outcome["booked"] is True
    (order,) = w.repair_orders(view.customer_id)
    assert order.status is OrderStatus.SCHEDULED and order.details["ticket_id"] == view.ticket_id
    assert order.id == view.outcome["order_id"] and order.details["reason"] == code
    with w.fd.uow(write=False) as uow:
        booked = uow.session.scalars(
            sa.select(Appointment).where(Appointment.order_id == order.id)
        ).all()
    assert len(booked) == 1 and booked[0].day > utcnow().date()
    ticket = w.ticket_row(view.ticket_id)
    assert ticket.visit_booked is True and ticket.status is TicketStatus.IN_PROGRESS


def assert_escalated(w: World, view: SessionView, code: str) -> Ticket:
    assert outcome_of(view) == ("ESCALATE_NOC", code)
    ticket = w.ticket_row(view.ticket_id)
    assert ticket.status is TicketStatus.ESCALATED and ticket.team is Team.NOC
    assert ticket.escalated is True and w.repair_orders(view.customer_id) == []
    return ticket


# -- No internet ----------------------------------------------------------------------------


def test_power_loss_skips_the_lights_question_and_books_a_repair_visit(world: World) -> None:
    customer, serial = world.customer()
    world.sim.inject_fault(FaultKind.POWER_LOSS, serial=serial)
    view = world.start(world.ticket(customer))
    assert [(s["node"], s["option"]) for s in view.skipped] == [("q_lights", "power_off")]
    assert "Dying gasp" in view.skipped[0]["reason"]
    assert view.current_node == "q_power_on" and [g["node"] for g in view.guidance] == ["a_power"]
    view = world.answer(view, "q_power_on", "off")
    assert_visit_booked(world, view, "ONT_NO_POWER")


def test_power_back_after_reseating_is_resolved_on_the_call(world: World) -> None:
    customer, serial = world.customer()
    fault = world.sim.inject_fault(FaultKind.POWER_LOSS, serial=serial)
    view = world.start(world.ticket(customer))
    world.sim.clear_fault(fault)  # the customer pushed the plug back in
    view = world.answer(view, "q_power_on", "on")
    view = world.answer(view, "q_power_works", "yes")
    assert_resolved_fcr(world, view, "POWER_RESTORED")
    transcript = world.ticket_row(view.ticket_id).transcript
    assert any(e["kind"] == "check" and "now no, was yes" in e["text"] for e in transcript)


def test_fiber_cut_on_the_splitter_skips_the_lights_and_escalates_the_area_outage(
    world: World,
) -> None:
    customer, _serial = world.customer()
    world.sim.inject_fault(FaultKind.FIBER_CUT, splitter_id=world.splitter())
    view = world.start(world.ticket(customer))
    assert [(s["node"], s["option"]) for s in view.skipped] == [("q_lights", "pon_red")]
    assert {c["check"]: c["value"] for c in view.checks}["area_outage"] == "yes"
    assert view.answers == []  # nothing was asked
    assert_escalated(world, view, "AREA_OUTAGE")
    assert "3 ONTs" in next(c["detail"] for c in view.checks if c["check"] == "area_outage")


@pytest.mark.parametrize(("seen", "code"), [("damaged", "FIBER_DAMAGE"), ("none", "FIBER_SIGNAL")])
def test_loss_of_signal_on_a_lone_ont_asks_about_damage(
    fd: Fiberdesk, seen: str, code: str
) -> None:
    make_field_staff(fd)
    w = World(fd, make_active_customers(fd, per_nap=1))
    customer, _serial = w.customer()
    w.sim.inject_fault(FaultKind.FIBER_CUT, splitter_id=w.splitter())
    view = w.start(w.ticket(customer))
    assert [s["node"] for s in view.skipped] == ["q_lights"]
    assert view.current_node == "q_fiber_damage" and view.guidance[0]["node"] == "a_fiber"
    assert_escalated(w, w.answer(view, "q_fiber_damage", seen), code)


def test_degraded_drop_with_poor_signal_books_a_repair_visit(world: World) -> None:
    customer, serial = world.customer()
    world.sim.inject_fault(FaultKind.DEGRADED_DROP, serial=serial, extra_loss_db=Decimal("12"))
    view = world.run(customer, "no_internet", ("q_lights", "all_green"), ("q_restart_works", "no"))
    assert {c["check"]: c["value"] for c in view.checks}["signal_class"] == "poor"
    assert_visit_booked(world, view, "LOW_SIGNAL")


def test_healthy_ont_all_green_restart_resolves_with_first_call_resolution(world: World) -> None:
    customer, _ = world.customer()
    view = world.run(customer, "no_internet", ("q_lights", "all_green"), ("q_restart_works", "yes"))
    assert_resolved_fcr(world, view, "ROUTER_RESTART")
    assert world.repair_orders(customer) == []


def test_lan_lights_off_fixed_by_the_cable(world: World) -> None:
    customer, _ = world.customer()
    view = world.run(customer, "no_internet", ("q_lights", "lan_off"))
    assert [g["node"] for g in view.guidance] == ["a_lan"]
    assert_resolved_fcr(world, world.answer(view, "q_lan_works", "yes"), "LAN_CABLE")


@pytest.mark.parametrize(
    ("final", "kind", "code"),
    [("yes", "RESOLVED", "ROUTER_FIXED"), ("no", "TECH_VISIT", "NOT_RESOLVED_REMOTELY")],
)
def test_lan_lights_off_not_fixed_goes_through_remote_diagnostics(
    world: World, final: str, kind: str, code: str
) -> None:
    customer, _ = world.customer()
    view = world.run(customer, "no_internet", ("q_lights", "lan_off"), ("q_lan_works", "no"))
    assert view.current_node == "q_final"
    branches = [s["node"] for s in view.steps if s["kind"] == "check"]
    assert branches[-5:] == ["c_outage", "c_registered", "c_signal", "c_ping", "c_alarms"]
    assert "Rx -" in view.guidance[0]["steps"][0]  # the advice quotes the live reading
    view = world.answer(view, "q_final", final)
    assert outcome_of(view) == (kind, code)


def test_suspended_account_is_explained_without_troubleshooting(world: World) -> None:
    customer, serial = world.customer()
    with world.fd.uow() as uow:
        row = uow.session.get(Customer, customer)
        assert row is not None
        row.status = ServiceStatus.SUSPENDED
        uow.commit()
    world.sim.suspend(serial=serial)
    view = world.start(world.ticket(customer))
    assert view.prompt is None and [g["node"] for g in view.guidance] == ["a_suspended"]
    assert_resolved_fcr(world, view, "ACCOUNT_SUSPENDED")


def test_closed_account_is_not_in_good_standing(world: World) -> None:
    customer, _ = world.customer()
    with world.fd.uow() as uow:
        row = uow.session.get(Customer, customer)
        assert row is not None
        row.status = ServiceStatus.DISCONNECTED
        uow.commit()
    assert_resolved_fcr(world, world.start(world.ticket(customer)), "ACCOUNT_NOT_ACTIVE")


def test_maintenance_window_on_the_path(world: World) -> None:
    customer, _ = world.customer()
    now = utcnow()
    with world.fd.uow() as uow:
        uow.session.add(
            MaintenanceWindow(
                title="Splice closure rework",
                scope=Scope.SPLITTER,
                scope_id=world.splitter(),
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=2),
                created_by="noc",
            )
        )
        uow.commit()
    view = world.start(world.ticket(customer))
    assert "Splice closure rework" in view.guidance[0]["steps"][0]
    assert_resolved_fcr(world, view, "PLANNED_MAINTENANCE")


def test_ont_not_registered_on_the_olt_goes_to_the_noc(world: World) -> None:
    customer, serial = world.customer()
    world.sim.deprovision(serial=serial)
    view = world.run(customer, "no_internet", ("q_lights", "all_green"), ("q_restart_works", "no"))
    assert_escalated(world, view, "ONT_NOT_REGISTERED")


def test_many_alarms_in_a_day_book_a_visit(world: World) -> None:
    customer, serial = world.customer()
    for _ in range(3):
        world.sim.clear_fault(world.sim.inject_fault(FaultKind.POWER_LOSS, serial=serial))
    view = world.run(customer, "no_internet", ("q_lights", "all_green"), ("q_restart_works", "no"))
    assert_visit_booked(world, view, "UNSTABLE_LINE")


def test_a_declared_outage_is_linked_to_the_ticket(world: World) -> None:
    customer, _ = world.customer()
    ticket_id = world.ticket(customer)
    with world.fd.uow() as uow:
        outage = Outage(
            kind=OutageKind.FIBER,
            scope=Scope.SPLITTER,
            scope_id=world.splitter(),
            scope_label="LCP-NAP-A",
            area="TOWSON 21204",
            detected_at=utcnow(),
            status=OutageStatus.CONFIRMED,
        )
        uow.session.add(outage)
        uow.session.flush()
        outage_id = outage.id
        uow.commit()
    view = world.start(ticket_id)
    view = world.answer(view, "q_lights", "pon_red")
    ticket = assert_escalated(world, view, "AREA_OUTAGE")
    assert ticket.outage_id == outage_id


def test_no_free_window_leaves_the_repair_order_open(fd: Fiberdesk) -> None:
    make_field_staff(fd, weekdays=())  # nobody works any day
    w = World(fd, make_active_customers(fd))
    customer, serial = w.customer()
    w.sim.inject_fault(FaultKind.POWER_LOSS, serial=serial)
    view = w.run(customer, "no_internet", ("q_power_on", "off"))
    assert outcome_of(view) == ("TECH_VISIT", "ONT_NO_POWER")
    assert view.outcome is not None and view.outcome["booked"] is False
    assert "stays OPEN" in view.outcome["note"]
    (order,) = w.repair_orders(customer)
    assert order.status is OrderStatus.OPEN
    assert w.ticket_row(view.ticket_id).visit_booked is False


# -- Slow internet ----------------------------------------------------------------------------

EXPECT = (("q_plan", "same"), ("q_speed", "below_plan"), ("q_medium", "wifi"))


def test_slow_speeds_matching_the_plan_wired_are_a_wifi_issue(world: World) -> None:
    customer, _ = world.customer()
    view = world.run(customer, "slow_internet")
    assert view.prompt is not None and "Plus: 300 Mb/s down" in view.prompt["text"]
    for node, option in EXPECT:
        view = world.answer(view, node, option)
    assert [g["node"] for g in view.guidance] == ["a_speed_test"]
    assert any("fast.com" in step for step in view.guidance[0]["steps"])
    view = world.answer(view, "q_result", "matches")
    assert view.guidance[0]["node"] == "a_wifi"
    assert_resolved_fcr(world, view, "WIFI_ADVICE")


def test_slow_below_plan_with_poor_signal_books_a_visit(world: World) -> None:
    customer, serial = world.customer()
    world.sim.inject_fault(FaultKind.DEGRADED_DROP, serial=serial, extra_loss_db=Decimal("12"))
    view = world.run(customer, "slow_internet", *EXPECT, ("q_result", "below"))
    assert_visit_booked(world, view, "LOW_SIGNAL")


def test_slow_below_plan_on_a_congested_pon_goes_to_the_noc(world: World) -> None:
    customer, _ = world.customer()
    with world.fd.uow(write=False) as uow:
        pon_id = uow.session.scalar(
            sa.select(Splitter.pon_port_id).where(Splitter.id == world.splitter())
        )
    assert pon_id is not None
    evening = utcnow().replace(hour=2, minute=0, second=0, microsecond=0)  # 21:00 US Eastern
    busy = SimulatedOlt(world.fd.session_factory, clock=lambda: evening)
    for i in range(6):  # heavy users on the same PON port, at the evening peak
        busy.register_ont(
            serial=f"ZTEG{i:08X}",
            pon_port_id=pon_id,
            nap_id=None,
            profile=ServiceProfile("HUGE", 10_000, 1_000),
            expected_rx_dbm=Decimal("-20"),
        )
    assert busy.pon_utilisation(pon_port_id=pon_id) >= 0.8
    world.fd.network = busy
    view = world.run(customer, "slow_internet", *EXPECT, ("q_result", "below"))
    assert {c["check"]: c["value"] for c in view.checks}["pon_congestion"] == "yes"
    assert_escalated(world, view, "PON_CONGESTION")


def test_slow_below_plan_on_a_clean_line_books_a_visit(world: World) -> None:
    customer, _ = world.customer()
    view = world.run(customer, "slow_internet", *EXPECT, ("q_result", "below"))
    assert {c["check"]: c["value"] for c in view.checks}["pon_congestion"] == "no"
    assert_visit_booked(world, view, "SLOW_WIRED")


def test_slow_inconsistent_speeds_order_an_otdr_test(world: World) -> None:
    customer, _ = world.customer()
    view = world.run(customer, "slow_internet", ("q_plan", "faster"))
    assert [g["node"] for g in view.guidance] == ["a_plan"]
    for node, option in EXPECT[1:]:
        view = world.answer(view, node, option)
    view = world.answer(view, "q_result", "inconsistent")
    assert outcome_of(view) == ("OTDR_TEST", "INCONSISTENT_SPEED")
    (order,) = world.repair_orders(customer)
    assert order.details["otdr"] is True and order.details["assigned_team"] == "NOC"
    assert order.status is OrderStatus.OPEN
    ticket = world.ticket_row(view.ticket_id)
    assert ticket.status is TicketStatus.ESCALATED and ticket.team is Team.NOC
    assert ticket.visit_booked is False and world.count(Appointment) == 0


# -- Intermittent ---------------------------------------------------------------------------


def test_intermittent_power_drops_fixed_at_the_socket(world: World) -> None:
    customer, serial = world.customer()
    world.sim.clear_fault(world.sim.inject_fault(FaultKind.POWER_LOSS, serial=serial))
    view = world.run(customer, "intermittent", ("q_power_setup", "yes"))
    assert_resolved_fcr(world, view, "POWER_SUPPLY")


def test_intermittent_loss_of_light_orders_an_otdr_test(world: World) -> None:
    customer, _ = world.customer()
    fault = world.sim.inject_fault(FaultKind.FIBER_CUT, splitter_id=world.splitter())
    world.sim.clear_fault(fault)
    view = world.run(customer, "intermittent")
    assert outcome_of(view) == ("OTDR_TEST", "INTERMITTENT_FIBER")
    assert world.repair_orders(customer)[0].details["otdr"] is True


def test_intermittent_wifi_only_drops(world: World) -> None:
    customer, _ = world.customer()
    view = world.run(customer, "intermittent", ("q_pattern", "wifi_only"))
    assert_resolved_fcr(world, view, "WIFI_ADVICE")


# -- Sessions: pause, resume, bad input, transcript --------------------------------------------


def test_pause_and_resume_rereads_the_checks(world: World) -> None:
    customer, _ = world.customer()
    view = world.start(world.ticket(customer))
    assert view.current_node == "q_lights"
    view = troubleshooting.pause(world.fd.uow, actor=CSR, session_id=view.id)
    assert view.status == "PAUSED"
    assert world.ticket_row(view.ticket_id).status is TicketStatus.WAITING_ON_CUSTOMER
    with pytest.raises(Refused, match="resume it first"):
        world.answer(view, "q_lights", "all_green")
    with pytest.raises(Refused, match="already paused"):
        troubleshooting.pause(world.fd.uow, actor=CSR, session_id=view.id)
    # while paused, the fiber to the customer's splitter is cut
    world.sim.inject_fault(FaultKind.FIBER_CUT, splitter_id=world.splitter())
    view = troubleshooting.resume(
        world.fd.uow,
        actor=CSR,
        network=world.fd.network,
        session_id=view.id,
        scheduling=world.fd.scheduling,
    )
    assert [s["node"] for s in view.skipped] == ["q_lights"]
    assert_escalated(world, view, "AREA_OUTAGE")
    texts = [e["text"] for e in world.ticket_row(view.ticket_id).transcript]
    assert any("paused at q_lights" in t for t in texts)
    assert any("Loss of signal now yes, was no" in t for t in texts)


def test_resume_with_nothing_changed_returns_to_the_same_question(world: World) -> None:
    customer, _ = world.customer()
    view = world.run(customer, "no_internet", ("q_lights", "all_green"))
    troubleshooting.pause(world.fd.uow, actor=CSR, session_id=view.id)
    view = troubleshooting.resume(
        world.fd.uow, actor=CSR, network=world.fd.network, session_id=view.id
    )
    assert view.status == "ACTIVE" and view.current_node == "q_restart_works"
    assert world.ticket_row(view.ticket_id).status is TicketStatus.IN_PROGRESS
    assert_resolved_fcr(world, world.answer(view, "q_restart_works", "yes"), "ROUTER_RESTART")


def _state(w: World, ticket_id: int) -> tuple[int, int, int, int]:
    ticket = w.ticket_row(ticket_id)
    with w.fd.uow(write=False) as uow:
        given = sum(
            len(s.answers.get("given", []))
            for s in uow.session.scalars(sa.select(TroubleshootingSession))
        )
    return len(ticket.transcript), w.count(AuditEntry), w.count(TroubleshootingSession), given


@pytest.mark.parametrize(
    ("node", "option", "field"),
    [("q_lights", "purple", "option"), ("q_restart_works", "yes", "node"), ("zz", "x", "node")],
)
def test_bad_answers_are_refused_and_change_nothing(
    world: World, node: str, option: str, field: str
) -> None:
    customer, _ = world.customer()
    view = world.start(world.ticket(customer))
    before = _state(world, view.ticket_id)
    with pytest.raises(InvalidInput) as exc:
        world.answer(view, node, option)
    assert exc.value.field == field
    assert _state(world, view.ticket_id) == before
    assert world.answer(view, "q_lights", "all_green").current_node == "q_restart_works"


def test_a_customer_without_an_ont_is_refused_and_nothing_changes(world: World) -> None:
    with world.fd.uow() as uow:
        bare = Customer(
            account_number=account_number(9999),
            name="No Ont",
            service_address="1 NOWHERE RD",
            status=ServiceStatus.ACTIVE,
        )
        uow.session.add(bare)
        uow.session.flush()
        bare_id = bare.id
        uow.commit()
    ticket_id = world.ticket(bare_id)
    before = _state(world, ticket_id), world.count(ServiceOrder)
    with pytest.raises(Refused, match="no installed ONT"):
        world.start(ticket_id)
    assert (_state(world, ticket_id), world.count(ServiceOrder)) == before
    assert world.ticket_row(ticket_id).status is TicketStatus.OPEN


def test_one_live_session_per_ticket(world: World) -> None:
    customer, _ = world.customer()
    ticket_id = world.ticket(customer)
    view = world.start(ticket_id)
    with pytest.raises(Conflict, match="already has troubleshooting session"):
        world.start(ticket_id, "slow_internet")
    view = world.answer(view, "q_lights", "all_green")
    view = world.answer(view, "q_restart_works", "yes")
    with pytest.raises(Refused, match="is finished"):
        world.answer(view, "q_restart_works", "yes")
    with pytest.raises(Refused, match="reopen it"):
        world.start(ticket_id)


def test_the_transcript_records_every_step(world: World) -> None:
    customer, _ = world.customer()
    view = world.run(
        customer, "no_internet", ("q_lights", "lan_off"), ("q_lan_works", "no"), ("q_final", "yes")
    )
    transcript = world.ticket_row(view.ticket_id).transcript
    mine = [e for e in transcript if e.get("data", {}).get("session") == view.id]
    readings = [e["data"]["check"] for e in mine if e["kind"] == "check"]
    assert set(readings) == {c["check"] for c in view.checks} and len(readings) >= 10
    logged = [(e["data"]["node"], e["kind"]) for e in mine if "node" in e.get("data", {})]
    kinds = {
        "check": "branch",
        "advice": "advice",
        "answer": "answer",
        "outcome": "outcome",
        "skip": "skipped",
    }
    expected = [(s["node"], kinds[s["kind"]]) for s in view.steps]
    assert [x for x in logged if x[1] != "question"] == expected
    asked = [n for n, k in logged if k == "question"]
    assert asked == ["q_lights", "q_lan_works", "q_final"]
    assert [e["kind"] for e in transcript][-2:] == ["resolved", "flow"]
    with world.fd.uow(write=False) as uow:
        actions = set(uow.session.scalars(sa.select(AuditEntry.action)))
    assert {"troubleshooting.start", "troubleshooting.answer", "ticket.update", "flow.seed"} <= (
        actions
    )


# -- Flows as data: versions ------------------------------------------------------------------

SUPERVISOR = Actor(name="sup1", role=Role.SUPERVISOR, channel=Channel.CONSOLE)


def _flow_rows(w: World) -> int:
    return w.count(TroubleshootingFlow)


def test_flows_are_seeded_once_and_edited_as_new_versions(world: World) -> None:
    fd = world.fd
    with fd.uow(write=False) as uow:
        listed = flows.list_flows(uow, actor=CSR)
    assert [f.code for f in listed] == list(flows.BUNDLED) and not any(f.stored for f in listed)
    with fd.uow() as uow:
        assert flows.ensure_default_flows(uow) == list(flows.BUNDLED)
    with fd.uow() as uow:
        assert flows.ensure_default_flows(uow) == []
    customer, _ = world.customer()
    running = world.start(world.ticket(customer))
    assert running.flow_version == 1

    edited = copy.deepcopy(flows.bundled_definition("no_internet"))
    lights = next(n for n in edited["nodes"] if n["id"] == "q_lights")
    lights["text"] = "Which lights can the customer see on the fiber box?"
    rows = _flow_rows(world)
    with pytest.raises(Forbidden), fd.uow() as uow:
        flows.save_flow(uow, actor=CSR, code="no_internet", definition=edited)
    broken = copy.deepcopy(edited)
    next(n for n in broken["nodes"] if n["id"] == "a_lan")["next"] = "q_nowhere"
    with pytest.raises(InvalidInput, match="node 'a_lan': leads to 'q_nowhere'"), fd.uow() as uow:
        flows.save_flow(uow, actor=SUPERVISOR, code="no_internet", definition=broken)
    with pytest.raises(InvalidInput, match="is not 'slow_internet'"), fd.uow() as uow:
        flows.save_flow(uow, actor=SUPERVISOR, code="slow_internet", definition=edited)
    assert _flow_rows(world) == rows

    with fd.uow() as uow:
        saved = flows.save_flow(uow, actor=SUPERVISOR, code="no_internet", definition=edited)
    assert saved.version == 2 and saved.updated_by == "sup1"
    with fd.uow(write=False) as uow:
        assert flows.get_flow(uow, actor=CSR, code="no_internet").version == 2
        old = flows.get_flow(uow, actor=CSR, code="no_internet", version=1)
    assert "fiber box?" not in json.dumps(old.definition)
    # the running session keeps its version; a new one gets the new text
    assert world.answer(running, "q_lights", "all_green").flow_version == 1
    other, _ = world.customer(index=1)
    fresh = world.start(world.ticket(other))
    assert fresh.flow_version == 2 and fresh.prompt is not None
    assert fresh.prompt["text"] == lights["text"]
    with fd.uow(write=False) as uow:
        actions = list(uow.session.scalars(sa.select(AuditEntry.action)))
    assert actions.count("flow.save") == 1 and actions.count("flow.seed") == 1


# -- Usage monitoring -----------------------------------------------------------------------


def test_daily_usage_from_the_ont_counters(world: World) -> None:
    fd = world.fd
    clock = [utcnow()]
    sim = SimulatedOlt(fd.session_factory, clock=lambda: clock[0])
    day1 = clock[0].date()
    summary = usage.collect_daily_usage(fd.uow, network=sim, day=day1)
    assert (summary.collected, summary.skipped, summary.failed) == (6, 0, [])
    customer, serial = world.customer()
    first = sim.traffic(serial=serial)
    assert usage.collect_daily_usage(fd.uow, network=sim, day=day1).collected == 6  # again
    with fd.uow(write=False) as uow:
        rows = uow.session.scalars(sa.select(UsageDaily)).all()
        assert len(rows) == 6
        mine = uow.session.get(UsageDaily, (customer, day1))
        assert mine is not None
        assert (mine.rx_bytes, mine.tx_bytes) == (first.rx_octets, first.tx_octets)

    clock[0] += timedelta(days=1)
    day2 = clock[0].date()
    world.sim.deprovision(serial=world.customer(index=2)[1])  # the OLT lost one ONT
    summary = usage.collect_daily_usage(fd.uow, network=sim, day=day2)
    assert summary.collected == 5 and len(summary.failed) == 1
    assert "not registered" in summary.failed[0][1]
    second = sim.traffic(serial=serial)
    with fd.uow(write=False) as uow:
        history = usage.usage_history(uow, actor=CSR, customer_id=customer, days=30, today=day2)
    assert [d.day for d in history.days] == [day1, day2]
    assert history.days[1].rx_bytes == second.rx_octets - first.rx_octets > 0
    assert history.total_rx_bytes == second.rx_octets
    assert history.total_tx_bytes == second.tx_octets
    # an earlier day cannot be rewritten once a later one is stored
    assert usage.collect_daily_usage(fd.uow, network=sim, day=day1).skipped == 5
    with pytest.raises(InvalidInput, match="days must be"), fd.uow(write=False) as uow:
        usage.usage_history(uow, actor=CSR, customer_id=customer, days=0)
