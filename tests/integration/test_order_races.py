"""Scarce things under concurrency: ports, the last window slot, the last ONT, the last IP.

Each test runs on SQLite and PostgreSQL with many threads; nothing is given out twice
and a loser is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import TypeVar

import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import Appointment, Equipment, IpAddress, NapPort, ServiceOrder
from fiberdesk.domain.errors import Refused
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import equipment, orders, quotes, scheduling, signup
from tests.factories import make_field_staff, make_qualification_world

T = TypeVar("T")


def _race(jobs: list[Callable[[], T]], workers: int = 16) -> list[T | Refused]:
    def run(job: Callable[[], T]) -> T | Refused:
        try:
            return job()
        except Refused as exc:
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def _fill(fd: Fiberdesk, nap_id: int, in_use: int) -> None:
    with fd.uow() as uow:
        uow.session.execute(
            sa.update(NapPort)
            .where(NapPort.nap_id == nap_id, NapPort.number <= in_use)
            .values(status=NapPortStatus.IN_USE)
        )
        uow.commit()


def _quote(fd: Fiberdesk, premises_id: int, plan: str = "BASIC") -> str:
    with fd.uow() as uow:
        return quotes.create_quote(
            uow,
            actor=SYSTEM_ACTOR,
            premises_id=premises_id,
            plan_code=plan,
            settings=fd.quote_settings,
        ).reference


def _order(fd: Fiberdesk, ref: str, n: int) -> orders.OrderView:
    with fd.uow() as uow:
        quotes.accept_quote(uow, actor=SYSTEM_ACTOR, reference=ref, settings=fd.quote_settings)
    with fd.uow() as uow:
        return orders.create_order(
            uow,
            actor=SYSTEM_ACTOR,
            quote_reference=ref,
            name=f"Racer {n}",
            email=f"r{n}@example.com",
            phone="410-555-0100",
        )


def test_fifty_customers_race_for_the_last_eight_ports(fd: Fiberdesk) -> None:
    world = make_qualification_world(fd)
    _fill(fd, world.naps["NAP-XGS"], 8)  # 16 ports, 8 in use
    refs = [_quote(fd, world.premises["xgs"]) for _ in range(50)]
    results = _race([lambda r=r, n=n: _order(fd, r, n) for n, r in enumerate(refs)])
    won = [r for r in results if isinstance(r, orders.OrderView)]
    lost = [r for r in results if isinstance(r, Refused)]
    assert len(won) == 8 and len(lost) == 42
    assert all(e.extra.get("waitlist_offered") for e in lost), lost[0].reason
    assert all("full" in e.reason for e in lost)
    with fd.uow(write=False) as uow:
        ports = uow.session.execute(
            sa.select(NapPort.number, NapPort.customer_id).where(
                NapPort.nap_id == world.naps["NAP-XGS"], NapPort.number > 8
            )
        ).all()
        assert len({c for _, c in ports}) == 8 and None not in {c for _, c in ports}
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) == 8


def _ready_order(fd: Fiberdesk, ref: str, n: int) -> int:
    view = _order(fd, ref, n)
    uows = fd.uow
    signup.verify_identity(
        uows,
        actor=SYSTEM_ACTOR,
        order_id=view.id,
        method=IdentityMethod.PHOTO_ID,
        secret_key="k",
        document_type="passport",
        document_number=f"P{n:07d}",
    )
    signup.credit_check(
        uows,
        actor=SYSTEM_ACTOR,
        order_id=view.id,
        bureau=fd.bureau,
        policy=fd.credit_policy,
        date_of_birth=date(1980, 1, 1),
        ssn_last4="1111",
    )
    with fd.uow() as uow:
        order = orders.get_order(uow.session, view.id)
        orders.check_off(order, "payment", "test card")
        orders.check_off(order, "contract", "test terms")
        uow.commit()
    return view.id


def test_racing_for_the_last_window_slot(fd: Fiberdesk) -> None:
    world = make_qualification_world(fd)
    make_field_staff(fd, technicians=1, capacity=1, weekdays=tuple(range(7)))
    refs = [_quote(fd, world.premises["xgs"]) for _ in range(10)]
    order_ids = [_ready_order(fd, ref, n) for n, ref in enumerate(refs)]
    day = date.today() + timedelta(days=2)
    results = _race(
        [
            lambda o=o: scheduling.book(
                fd.uow, actor=SYSTEM_ACTOR, order_id=o, day=day, window="AM", settings=fd.scheduling
            )
            for o in order_ids
        ]
    )
    winners = [r for r in results if isinstance(r, scheduling.Booking)]
    assert len(winners) == 1
    assert all("fully booked" in r.reason for r in results if isinstance(r, Refused))
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1
        statuses = uow.session.scalars(sa.select(ServiceOrder.status)).all()
        assert sorted(s.value for s in statuses).count("SCHEDULED") == 1


def test_racing_for_the_last_ont_and_the_last_ip(fd: Fiberdesk) -> None:
    world = make_qualification_world(fd)
    staff = make_field_staff(fd, onts=3, ips=1)
    refs = [_quote(fd, world.premises["xgs"], "BUSINESS") for _ in range(10)]
    order_ids = [_order(fd, ref, n).id for n, ref in enumerate(refs)]

    def assign(order_id: int) -> orders.OrderView:
        with fd.uow() as uow:
            return equipment.assign_ont(uow, actor=SYSTEM_ACTOR, order_id=order_id)

    results = _race([lambda o=o: assign(o) for o in order_ids])
    won = [r for r in results if isinstance(r, orders.OrderView)]
    lost = [r for r in results if isinstance(r, Refused)]
    # one static IP: one order gets an ONT and the address; the others get nothing, and
    # the ONTs they touched are back in stock
    assert len(won) == 1 and len(lost) == 9
    assert won[0].details["static_ip"] == "203.0.113.2"
    with fd.uow(write=False) as uow:
        assigned = uow.session.scalars(
            sa.select(Equipment.serial_number).where(Equipment.customer_id.is_not(None))
        ).all()
        assert len(assigned) == 1 and assigned[0] in staff.serials
        assert (
            uow.session.scalar(
                sa.select(sa.func.count())
                .select_from(IpAddress)
                .where(IpAddress.customer_id.is_not(None))
            )
            == 1
        )


def test_racing_for_the_last_ont(fd: Fiberdesk) -> None:
    world = make_qualification_world(fd)
    make_field_staff(fd, onts=1, ips=0)
    refs = [_quote(fd, world.premises["xgs"]) for _ in range(10)]
    order_ids = [_order(fd, ref, n).id for n, ref in enumerate(refs)]

    def assign(order_id: int) -> orders.OrderView:
        with fd.uow() as uow:
            return equipment.assign_ont(uow, actor=SYSTEM_ACTOR, order_id=order_id)

    results = _race([lambda o=o: assign(o) for o in order_ids])
    assert len([r for r in results if isinstance(r, orders.OrderView)]) == 1
    assert all("no ONT is in stock" in r.reason for r in results if isinstance(r, Refused))
