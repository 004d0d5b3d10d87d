"""Alarms, outages and maintenance windows on SQLite and PostgreSQL, driven through the
simulated OLT: a fault goes in, alarms are polled and correlated, customers are told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from fiberdesk.adapters.network.base import ServiceProfile
from fiberdesk.adapters.network.simulated import SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    Alarm,
    Customer,
    Equipment,
    Nap,
    NapPort,
    OutboxMessage,
    Premises,
    Splitter,
    Ticket,
)
from fiberdesk.domain.customers import ServiceStatus, account_number
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import Forbidden, InvalidInput, NotFound, TransitionRefused
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.domain.tickets import TicketCategory
from fiberdesk.domain.users import Actor, Channel, Role
from fiberdesk.services import alarms, audit, messages, outages, tickets
from fiberdesk.services.alarms import IncomingAlarm
from tests.factories import ActiveCustomers, make_active_customers

NOC = Actor(name="noc1", role=Role.NOC, channel=Channel.API)
CSR = Actor(name="csr1", role=Role.CSR, channel=Channel.API)
TEMPLATE_FIELDS = ("customer_name", "area", "status", "detected", "estimated_resolution",
                   "company_name", "support_number")  # fmt: skip


@dataclass
class World:
    active: ActiveCustomers
    sim: SimulatedOlt
    settings: outages.OutageSettings
    splitter_a: int
    pon_a: int
    on_a: list[int]
    on_xgs: list[int]

    def serials_of(self, customer_ids: list[int]) -> list[str]:
        index = dict(zip(self.active.customer_ids, self.active.serials, strict=True))
        return [index[c] for c in customer_ids]


@pytest.fixture
def world(fd: Fiberdesk) -> World:
    active = make_active_customers(fd, per_nap=3)
    assert isinstance(fd.network, SimulatedOlt)
    with fd.uow(write=False) as uow:
        nap = uow.session.get_one(Nap, active.world.naps["NAP-A"])
        splitter = uow.session.get_one(Splitter, nap.splitter_id)
        splitter_id, pon_id = splitter.id, splitter.pon_port_id
    on_a = [c for c in active.customer_ids if active.nap_of[c] == "NAP-A"]
    on_xgs = [c for c in active.customer_ids if active.nap_of[c] == "NAP-XGS"]
    settings = outages.settings_from(fd.settings)
    return World(active, fd.network, settings, splitter_id, pon_id, on_a, on_xgs)


def _poll(fd: Fiberdesk, w: World) -> outages.PollResult:
    return outages.poll(fd.uow, actor=NOC, network=fd.network, settings=w.settings)


def _messages(fd: Fiberdesk, kind: str) -> list[OutboxMessage]:
    with fd.uow(write=False) as uow:
        return list(
            uow.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.customer_id)
            )
        )


def _ticket(fd: Fiberdesk, customer_id: int) -> tickets.TicketView:
    with fd.uow() as uow:
        return tickets.open_ticket(
            uow,
            actor=CSR,
            customer_id=customer_id,
            category=TicketCategory.NO_INTERNET,
            description="no internet since this morning",
        )


def test_a_fiber_cut_is_one_outage_with_linked_tickets_notices_and_restoration(
    fd: Fiberdesk, world: World
) -> None:
    early = _ticket(fd, world.on_a[0])  # opened before anyone knew of the outage
    assert early.outage_id is None
    world.sim.inject_fault("FIBER_CUT", splitter_id=world.splitter_a)
    result = _poll(fd, world)
    assert result.ingest.stored == 3 and result.ingest.unmatched == 0
    assert len(result.correlation.opened) == 1
    assert result.correlation.notified == 3 and result.correlation.tickets_linked == 1

    with fd.uow(write=False) as uow:
        listed = outages.list_outages(uow, actor=NOC)
        detail = outages.outage_detail(uow, actor=NOC, outage_id=listed[0].id)
    assert len(listed) == 1
    outage = detail.outage
    assert (outage.kind, outage.scope, outage.scope_id) == (
        OutageKind.FIBER,
        Scope.SPLITTER,
        world.splitter_a,
    )
    assert outage.status is OutageStatus.DETECTED
    assert outage.scope_label == "LCP-NAP-A"
    assert outage.area == "Towson 21204"
    assert outage.affected_onts == 3 and outage.affected_customers == 3
    assert outage.estimated_resolution == outage.detected_at + timedelta(hours=4)
    assert sorted(c.id for c in detail.customers) == sorted(world.on_a)
    assert all(c.notified_at is not None for c in detail.customers)
    assert detail.alarms == 3

    # the ticket opened earlier is taken over; a new one is linked when opened
    late = _ticket(fd, world.on_a[1])
    assert late.outage_id == outage.id
    with fd.uow(write=False) as uow:
        taken = uow.session.get_one(Ticket, early.id)
        assert taken.outage_id == outage.id
        assert taken.transcript[-1]["kind"] == "outage"
        assert f"outage #{outage.id}" in taken.transcript[-1]["text"]
        detail = outages.outage_detail(uow, actor=NOC, outage_id=outage.id)
    assert detail.tickets == sorted([early.id, late.id])
    # a customer elsewhere is not in it
    assert _ticket(fd, world.on_xgs[0]).outage_id is None

    notices = _messages(fd, "outage_notification")
    assert sorted(m.customer_id for m in notices) == sorted(world.on_a)
    for m in notices:
        assert all(m.context[k] for k in TEMPLATE_FIELDS), m.context
        assert m.context["area"] == "Towson 21204"
        assert m.context["status"] == "Outage Detected"
        assert m.context["company_name"] == fd.settings.company_name
        assert m.context["detected_at"] == outage.detected_at.isoformat()

    # correlating again opens nothing and sends nothing
    with fd.uow() as uow:
        again = outages.correlate(uow, actor=NOC, settings=world.settings)
    assert again.opened == [] and again.notified == 0
    assert len(_poll(fd, world).correlation.opened) == 0
    assert len(_messages(fd, "outage_notification")) == 3

    with fd.uow() as uow:
        done = outages.resolve_outage(
            uow, actor=NOC, outage_id=outage.id, note="splice crew repaired the feeder"
        )
    assert done.status is OutageStatus.RESOLVED and done.resolved_at is not None
    restored = _messages(fd, "restoration_notice")
    assert sorted(m.customer_id for m in restored) == sorted(world.on_a)
    assert all(m.context["status"] == "Service Restored" and m.context["area"] for m in restored)
    with fd.uow(write=False) as uow:
        detail = outages.outage_detail(uow, actor=NOC, outage_id=outage.id)
        assert all(c.restored_at == done.resolved_at for c in detail.customers)
        ticket = uow.session.get_one(Ticket, early.id)
        assert "resolved" in ticket.transcript[-1]["text"]
    with fd.uow() as uow, pytest.raises(TransitionRefused):
        outages.resolve_outage(uow, actor=NOC, outage_id=outage.id, note="again")


def test_repairing_the_fault_resolves_the_outage_with_restoration_notices(
    fd: Fiberdesk, world: World
) -> None:
    fault = world.sim.inject_fault("FIBER_CUT", splitter_id=world.splitter_a)
    opened = _poll(fd, world).correlation.opened
    assert len(opened) == 1
    world.sim.clear_fault(fault)
    result = _poll(fd, world)
    assert result.ingest.cleared == 3 and result.ingest.stored == 0
    assert result.correlation.resolved == opened
    with fd.uow(write=False) as uow:
        (outage,) = outages.list_outages(uow, actor=NOC)
    assert outage.status is OutageStatus.RESOLVED
    assert len(_messages(fd, "restoration_notice")) == 3


def _add_splitter(fd: Fiberdesk, w: World, customers: int = 3) -> list[int]:
    """A second splitter (and NAP) on NAP-A's PON port, with customers and ONTs."""
    registrations, ids = [], []
    with fd.uow() as uow:
        s = uow.session
        splitter = Splitter(pon_port_id=w.pon_a, code="LCP-A2", ratio=32, lat=39.5,
                            lon=-76.6, feeder_m=3000)  # fmt: skip
        nap = Nap(splitter=splitter, code="NAP-A2", lat=39.5, lon=-76.6, port_count=8,
                  distribution_m=300)  # fmt: skip
        nap.ports = [NapPort(number=i + 1, status=NapPortStatus.FREE) for i in range(8)]
        s.add_all([splitter, nap])
        s.flush()
        for i in range(customers):
            seq = 7000 + i
            premises = Premises(source_id=f"A2-{seq}", number=str(seq), street_name="LOOP",
                                street="LOOP RD", city="PARKVILLE", state="MD", zip="21234",
                                lat=39.5, lon=-76.6)  # fmt: skip
            s.add(premises)
            s.flush()
            customer = Customer(account_number=account_number(seq), name=f"Loop {seq}",
                                email=f"l{seq}@example.com", service_address=premises.label,
                                premises_id=premises.id, nap_id=nap.id, port_number=i + 1,
                                status=ServiceStatus.ACTIVE)  # fmt: skip
            s.add(customer)
            s.flush()
            serial = f"ZTEG{seq:08X}"
            s.add(Equipment(customer_id=customer.id, type=EquipmentType.ONT,
                            serial_number=serial, status=EquipmentStatus.INSTALLED))  # fmt: skip
            registrations.append((serial, nap.id))
            ids.append(customer.id)
        uow.commit()
    for serial, nap_id in registrations:
        profile = ServiceProfile("PLUS", 300, 150)
        w.sim.register_ont(serial=serial, pon_port_id=w.pon_a, nap_id=nap_id, profile=profile,
                           expected_rx_dbm=Decimal(-20))  # fmt: skip
    return ids


def test_a_pon_port_cut_over_two_splitters_is_one_outage_at_the_port(
    fd: Fiberdesk, world: World
) -> None:
    second = _add_splitter(fd, world)
    world.sim.inject_fault("FIBER_CUT", pon_port_id=world.pon_a)
    result = _poll(fd, world)
    assert len(result.correlation.opened) == 1
    with fd.uow(write=False) as uow:
        detail = outages.outage_detail(uow, actor=NOC, outage_id=result.correlation.opened[0])
        in_zip = outages.list_outages(uow, actor=NOC, zip_code="21234")
        elsewhere = outages.list_outages(uow, actor=NOC, zip_code="21000")
    assert (detail.outage.scope, detail.outage.scope_id) == (Scope.PON_PORT, world.pon_a)
    assert detail.outage.scope_label == "OLT-9 1/1"
    assert detail.outage.area == "Parkville 21234; Towson 21204"
    assert detail.outage.estimated_resolution == detail.outage.detected_at + timedelta(hours=6)
    assert sorted(c.id for c in detail.customers) == sorted(world.on_a + second)
    assert [o.id for o in in_zip] == [detail.outage.id] and elsewhere == []


def test_power_loss_on_several_onts_is_a_power_outage(fd: Fiberdesk, world: World) -> None:
    for serial in world.serials_of(world.on_xgs):
        world.sim.inject_fault("POWER_LOSS", serial=serial)
    result = _poll(fd, world)
    assert len(result.correlation.opened) == 1
    with fd.uow(write=False) as uow:
        (outage,) = outages.list_outages(uow, actor=NOC)
    assert (outage.kind, outage.scope, outage.scope_label) == (
        OutageKind.POWER,
        Scope.SPLITTER,
        "LCP-NAP-XGS",
    )
    assert outage.estimated_resolution == outage.detected_at + timedelta(hours=2)
    assert {m.customer_id for m in _messages(fd, "outage_notification")} == set(world.on_xgs)


def test_one_ont_in_los_is_an_individual_fault(fd: Fiberdesk, world: World) -> None:
    (serial,) = world.serials_of(world.on_a[:1])
    world.sim.inject_fault("POWER_LOSS", serial=serial)
    result = _poll(fd, world)
    assert result.ingest.stored == 1 and result.correlation.opened == []
    with fd.uow(write=False) as uow:
        assert outages.list_outages(uow, actor=NOC) == []


def _incoming(serial: str | None, kind: str = "LOS", **kw: Any) -> IncomingAlarm:
    return IncomingAlarm(kind=kind, serial=serial, raised_at=kw.pop("at", utcnow()), **kw)


def test_unknown_serials_and_kinds_are_kept_unmatched_with_the_reason(
    fd: Fiberdesk, world: World
) -> None:
    (known,) = world.serials_of(world.on_a[:1])
    batch = [
        _incoming("ZZZZ00000001"),
        _incoming(known, kind="SMOKE"),
        _incoming("not a serial"),
        _incoming(None, kind="LOF"),
        _incoming(known.lower(), kind="low_rx"),
    ]
    with fd.uow() as uow:
        result = alarms.ingest(uow, actor=NOC, alarms=batch, source="olt-east")
    assert (result.stored, result.unmatched, result.duplicates) == (5, 4, 0)
    assert [i for i, _ in result.reasons] == [0, 1, 2, 3]
    with fd.uow(write=False) as uow:
        kept = alarms.list_alarms(uow, actor=NOC, unmatched=True)
        matched = alarms.list_alarms(uow, actor=NOC, unmatched=False)
    reasons = sorted(a.unmatched_reason or "" for a in kept)
    assert reasons == sorted(
        [
            "no ONT with serial 'ZZZZ00000001'",
            "unknown alarm type 'SMOKE'",
            "no ONT with serial 'not a serial'",
            "no ONT serial in the alarm",
        ]
    )
    assert [(a.kind, a.ont_serial, a.customer_id) for a in matched] == [
        ("LOW_RX", known, world.on_a[0])
    ]


def test_an_alarm_received_twice_is_stored_once(fd: Fiberdesk, world: World) -> None:
    (serial,) = world.serials_of(world.on_a[:1])
    at = utcnow() - timedelta(minutes=3)
    alarm = _incoming(serial, kind="LOF", at=at, id="evt-1")
    with fd.uow() as uow:
        first = alarms.ingest(uow, actor=NOC, alarms=[alarm, alarm], source="olt-east")
    with fd.uow() as uow:
        cleared = _incoming(serial, kind="LOF", at=at, id="evt-1", cleared_at=utcnow())
        second = alarms.ingest(uow, actor=NOC, alarms=[cleared], source="olt-east")
    with fd.uow() as uow:  # the same id from another source is another alarm
        other = alarms.ingest(uow, actor=NOC, alarms=[alarm], source="olt-west")
    assert (first.stored, first.duplicates) == (1, 1)
    assert (second.stored, second.duplicates, second.cleared) == (0, 1, 1)
    assert other.stored == 1
    with fd.uow(write=False) as uow:
        rows = uow.session.scalars(sa.select(Alarm).order_by(Alarm.id)).all()
        assert [(a.source, a.cleared_at is not None) for a in rows] == [
            ("olt-east", True),
            ("olt-west", False),
        ]
    with fd.uow() as uow, pytest.raises(InvalidInput, match="cleared before"):
        bad = _incoming(serial, at=at, cleared_at=at - timedelta(seconds=1))
        alarms.ingest(uow, actor=NOC, alarms=[bad], source="olt-east")


def test_alarms_that_cleared_before_correlation_record_a_quiet_outage(
    fd: Fiberdesk, world: World
) -> None:
    at = utcnow() - timedelta(minutes=30)
    batch = [
        _incoming(s, at=at, cleared_at=at + timedelta(minutes=2))
        for s in world.serials_of(world.on_a)
    ]
    result = outages.receive(fd.uow, actor=NOC, alarms=batch, source="api", settings=world.settings)
    assert len(result.correlation.opened) == 1 and result.correlation.notified == 0
    with fd.uow(write=False) as uow:
        (outage,) = outages.list_outages(uow, actor=NOC)
    assert outage.status is OutageStatus.RESOLVED
    assert outage.resolved_at == at + timedelta(minutes=2)
    assert _messages(fd, "outage_notification") == []


def test_a_maintenance_window_suppresses_alarms_and_tells_customers(
    fd: Fiberdesk, world: World
) -> None:
    now = utcnow()
    with fd.uow() as uow:
        window = outages.create_maintenance(
            uow,
            actor=NOC,
            title="Splitter replacement",
            scope=Scope.SPLITTER,
            scope_id=world.splitter_a,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=2),
            description="We are replacing the splitter cabinet.",
            settings=world.settings,
        )
    # NAP-A also serves "Existing Customer", who has no e-mail address to write to
    assert window.customers == 4 and window.scope_label == "LCP-NAP-A"
    notices = _messages(fd, "planned_maintenance")
    assert sorted(m.customer_id for m in notices) == sorted(world.on_a)
    assert all(m.context["title"] == "Splitter replacement" for m in notices)
    assert all(m.context["starts"] and m.context["ends"] for m in notices)

    world.sim.inject_fault("FIBER_CUT", splitter_id=world.splitter_a)
    result = _poll(fd, world)
    assert result.ingest.suppressed == 3 and result.correlation.opened == []
    with fd.uow(write=False) as uow:
        assert {a.suppressed_by for a in alarms.list_alarms(uow, actor=NOC)} == {window.id}
        assert [w.id for w in outages.list_maintenance(uow, actor=NOC)] == [window.id]
        assert outages.list_outages(uow, actor=NOC) == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"ends_at": -2}, InvalidInput),
        ({"scope_id": 999_999}, NotFound),
        ({"title": "  "}, InvalidInput),
    ],
)
def test_bad_maintenance_windows_are_refused(
    fd: Fiberdesk, world: World, change: dict[str, Any], error: type[Exception]
) -> None:
    now = utcnow()
    args: dict[str, Any] = {
        "title": "Work",
        "scope": Scope.NAP,
        "scope_id": world.active.world.naps["NAP-A"],
        "starts_at": now,
        "ends_at": now + timedelta(hours=1),
    }
    for key, value in change.items():
        args[key] = now + timedelta(hours=value) if key == "ends_at" else value
    with fd.uow() as uow, pytest.raises(error):
        outages.create_maintenance(uow, actor=NOC, **args)
    assert _messages(fd, "planned_maintenance") == []


def test_confirming_and_permissions(fd: Fiberdesk, world: World) -> None:
    with fd.uow() as uow, pytest.raises(Forbidden):
        outages.correlate(uow, actor=CSR)
    world.sim.inject_fault("FIBER_CUT", splitter_id=world.splitter_a)
    (outage_id,) = _poll(fd, world).correlation.opened
    eta = utcnow() + timedelta(hours=3)
    with fd.uow() as uow:
        view = outages.confirm(
            uow, actor=NOC, outage_id=outage_id, cause="feeder cut by road works", eta=eta
        )
    assert view.status is OutageStatus.CONFIRMED and view.confirmed_at is not None
    assert view.estimated_resolution == eta and view.cause == "feeder cut by road works"
    with fd.uow() as uow, pytest.raises(TransitionRefused):
        outages.confirm(uow, actor=NOC, outage_id=outage_id, cause="again")
    with fd.uow() as uow, pytest.raises(NotFound):
        outages.resolve_outage(uow, actor=NOC, outage_id=999, note="x")
    with fd.uow(write=False) as uow:
        (listed,) = outages.list_outages(uow, actor=CSR, status=OutageStatus.CONFIRMED)
        assert listed.id == outage_id
        assert outages.list_outages(uow, actor=CSR, status=OutageStatus.RESOLVED) == []


def test_queue_all_writes_what_messages_queue_writes(fd: Fiberdesk, world: World) -> None:
    """The batch path of the outage notices stays the same as the outbox's own ``queue``."""
    context = {"customer_name": "x", "area": "Towson 21204"}
    with fd.uow() as uow:
        customer = uow.session.get_one(Customer, world.on_a[0])
        assert outages.queue_all(
            uow.session, "outage_notification", [(customer, "parity-a", context)] * 2
        ) == {customer.id}
        messages.queue(
            uow.session, kind="outage_notification", key="parity-b", customer=customer,
            context=context,
        )  # fmt: skip
        uow.commit()
    ours, theirs = _messages(fd, "outage_notification")
    assert ours.idempotency_key == "outage_notification:parity-a:email"
    assert theirs.idempotency_key == "outage_notification:parity-b:email"
    skip = frozenset({"id", "idempotency_key", "created_at", "next_attempt_at"})
    assert audit.snapshot(ours, exclude=skip) == audit.snapshot(theirs, exclude=skip)
    assert ours.created_at is not None and ours.next_attempt_at is not None
