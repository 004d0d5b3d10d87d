"""The network view's data and the outage board's hand actions, on SQLite and PostgreSQL:
a fiber cut injected in the simulated OLT turns everything below it down."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fiberdesk.adapters.network.base import NetworkError
from fiberdesk.adapters.network.simulated import SimulatedOlt
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Nap, OutboxMessage, Splitter, Ticket
from fiberdesk.domain.errors import Conflict, Forbidden, InvalidInput, TransitionRefused
from fiberdesk.domain.network_health import ElementHealth, OntHealth, element_health, ont_health
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.domain.tickets import TicketCategory
from fiberdesk.domain.users import Actor, Channel, Role
from fiberdesk.services import network_map, outage_board, outages, tickets
from tests.factories import ActiveCustomers, make_active_customers

NOC = Actor(name="noc1", role=Role.NOC, channel=Channel.API)
CSR = Actor(name="csr1", role=Role.CSR, channel=Channel.API)


def _ids(fd: Fiberdesk, active: ActiveCustomers, code: str) -> tuple[int, int, int]:
    """(NAP, splitter, PON port) ids of a NAP of the world."""
    with fd.uow(write=False) as uow:
        nap = uow.session.get_one(Nap, active.world.naps[code])
        splitter = uow.session.get_one(Splitter, nap.splitter_id)
        return nap.id, splitter.id, splitter.pon_port_id


def _state(fd: Fiberdesk) -> network_map.LiveState:
    return network_map.live_state(fd.uow, actor=NOC, network=fd.network)


def test_ont_and_element_health_rules() -> None:
    assert ont_health(["LOS"], installed=True, in_service=True) is OntHealth.LOS
    assert ont_health(["LOW_RX", "DYING_GASP"], installed=True, in_service=True) is (
        OntHealth.DYING_GASP
    )
    assert ont_health(["LOW_RX"], installed=True, in_service=True) is OntHealth.DEGRADED
    assert ont_health([], installed=True, in_service=False) is OntHealth.OFFLINE
    assert ont_health(["LOS"], installed=True, in_service=False) is OntHealth.LOS
    assert ont_health([], installed=False, in_service=True) is OntHealth.NOT_INSTALLED
    assert ont_health([], installed=True, in_service=True) is OntHealth.ONLINE
    assert element_health(Counter({OntHealth.LOS: 3})) is ElementHealth.DOWN
    assert element_health(Counter({OntHealth.LOS: 1, OntHealth.ONLINE: 2})) is (
        ElementHealth.WARNING
    )
    assert element_health(Counter({OntHealth.ONLINE: 2}), "FIBER") is ElementHealth.DOWN
    assert element_health(Counter({OntHealth.NOT_INSTALLED: 2})) is ElementHealth.IDLE


def test_a_fiber_cut_turns_the_pon_tree_red_below_the_cut(fd: Fiberdesk) -> None:
    active = make_active_customers(fd, per_nap=3)
    nap_a, splitter_a, pon_a = _ids(fd, active, "NAP-A")
    assert isinstance(fd.network, SimulatedOlt)

    with fd.uow(write=False) as uow:
        before = network_map.pon_tree(uow, actor=NOC, state=_state(fd), pon_id=pon_a)
    assert before.children[0].health is ElementHealth.OK

    fd.network.inject_fault("FIBER_CUT", splitter_id=splitter_a)
    state = _state(fd)
    assert state.source == "live"
    on_a = {
        s
        for c, s in zip(active.customer_ids, active.serials, strict=True)
        if active.nap_of[c] == "NAP-A"
    }
    assert {s for s, kinds in state.alarms.items() if "LOS" in kinds} == on_a
    with fd.uow(write=False) as uow:
        root = network_map.pon_tree(uow, actor=NOC, state=state, pon_id=pon_a)
        olts = network_map.overview(uow, actor=NOC, state=state)
    nodes = {(n.kind, n.id): n for _, n in network_map.walk(root)}
    assert nodes[("splitter", splitter_a)].health is ElementHealth.DOWN
    assert nodes[("nap", nap_a)].health is ElementHealth.DOWN
    customers = [n for n in nodes.values() if n.kind == "customer"]
    cut = [n for n in customers if n.customer and n.customer.serial in on_a]
    assert len(cut) == 3 and all(n.health is OntHealth.LOS for n in cut)
    others = [n.health for n in customers if n not in cut]
    assert OntHealth.LOS not in others
    # the overview counts the same ONTs, the cut port first among its OLT's ports
    pons = {p.id: p for o in olts for p in o.pons}
    assert pons[pon_a].counts[OntHealth.LOS] == 3
    assert pons[pon_a].health in (ElementHealth.DOWN, ElementHealth.WARNING)
    owner = next(o for o in olts if any(p.id == pon_a for p in o.pons))
    assert owner.pons[0].id == pon_a

    # once the alarms are polled, the outage marks the whole splitter down
    outages.poll(fd.uow, actor=NOC, network=fd.network, settings=outages.settings_from(fd.settings))
    with fd.uow(write=False) as uow:
        root = network_map.pon_tree(uow, actor=NOC, state=state, pon_id=pon_a)
    splitter = next(n for _, n in network_map.walk(root) if n.kind == "splitter")
    assert splitter.outages and splitter.outages[0].kind == "FIBER"


def test_the_network_view_falls_back_on_stored_alarms(fd: Fiberdesk) -> None:
    class Silent:
        def alarms(self, **_: object) -> list[object]:
            raise NetworkError("timed out")

    state = network_map.live_state(fd.uow, actor=NOC, network=Silent())  # type: ignore[arg-type]
    assert state.source == "stored" and state.note and "timed out" in state.note
    with pytest.raises(Forbidden):
        network_map.live_state(
            fd.uow, actor=Actor("b", Role.BILLING, Channel.API), network=fd.network
        )


def test_the_noc_declares_updates_and_restores_an_outage_by_hand(fd: Fiberdesk) -> None:
    active = make_active_customers(fd, per_nap=3)
    nap_a, _, _ = _ids(fd, active, "NAP-A")
    on_a = [c for c in active.customer_ids if active.nap_of[c] == "NAP-A"]
    with fd.uow() as uow:
        ticket = tickets.open_ticket(
            uow,
            actor=CSR,
            customer_id=on_a[0],
            category=TicketCategory.NO_INTERNET,
            description="no service",
        )
    with fd.uow() as uow, pytest.raises(Forbidden):
        outage_board.declare_outage(
            uow,
            actor=CSR,
            scope=Scope.NAP,
            element="NAP-A",
            kind=OutageKind.FIBER,
            cause="crew cut the drop",
        )
    with fd.uow() as uow, pytest.raises(InvalidInput) as bad:
        outage_board.declare_outage(
            uow,
            actor=NOC,
            scope=Scope.NAP,
            element="NAP-NOPE",
            kind=OutageKind.FIBER,
            cause="crew cut",
        )
    assert bad.value.field == "element"
    with fd.uow() as uow:
        view = outage_board.declare_outage(
            uow,
            actor=NOC,
            scope=Scope.NAP,
            element="nap-a",
            kind=OutageKind.FIBER,
            cause="crew cut the cable",
            settings=outages.settings_from(fd.settings),
        )
    assert view.status is OutageStatus.CONFIRMED and view.scope_id == nap_a
    # the world has one more active customer on NAP-A, still without an ONT
    assert view.affected_customers == 4 and view.affected_onts == 3
    with fd.uow() as uow, pytest.raises(Conflict):
        outage_board.declare_outage(
            uow, actor=NOC, scope=Scope.NAP, element="NAP-A", kind=OutageKind.FIBER, cause="again"
        )
    with fd.uow(write=False) as uow:
        page = outage_board.outage_page(uow, actor=CSR, outage_id=view.id)
        assert uow.session.get_one(Ticket, ticket.id).outage_id == view.id
        told = uow.session.scalars(
            sa.select(OutboxMessage.customer_id).where(OutboxMessage.kind == "outage_notification")
        ).all()
    # everyone with an address on file is told (the other customer has none)
    assert set(told) == set(on_a) and len(page.detail.customers) == 4
    assert [t.id for t in page.tickets] == [ticket.id]
    assert page.notice_counts == {("outage_notification", "pending"): len(told)}
    assert page.alarm_kinds == {}

    eta = utcnow() + timedelta(hours=3)
    with fd.uow() as uow, pytest.raises(InvalidInput) as past:
        outage_board.update_outage(
            uow, actor=NOC, outage_id=view.id, eta=utcnow() - timedelta(hours=1)
        )
    assert past.value.field == "eta"
    with fd.uow() as uow, pytest.raises(InvalidInput):
        outage_board.update_outage(uow, actor=NOC, outage_id=view.id, note="  ")
    with fd.uow() as uow:
        updated = outage_board.update_outage(
            uow, actor=NOC, outage_id=view.id, eta=eta, note="splicing crew on site"
        )
    assert updated.estimated_resolution == eta
    assert updated.cause == "crew cut the cable\nsplicing crew on site"
    with fd.uow() as uow:
        outages.resolve_outage(uow, actor=NOC, outage_id=view.id, note="spliced")
    with fd.uow() as uow, pytest.raises(TransitionRefused):
        outage_board.update_outage(uow, actor=NOC, outage_id=view.id, note="late")
    with fd.uow(write=False) as uow:
        board = outage_board.board(uow, actor=CSR)
    assert board.open == [] and [b.outage.id for b in board.restored] == [view.id]
    assert board.restored[0].tickets == 1
