"""Installation orders ready to book and booked, for the dispatch and field page tests.

The same steps an order takes through the API (tests/e2e/test_lifecycle_api.py), called on
the services directly: quote, accept, order, identity, credit, payment and contract
checked off, then a booking in a given window with a given technician.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import Premises
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import orders, quotes, scheduling, signup
from tests.factories import (
    FieldStaff,
    QualificationWorld,
    make_field_staff,
    make_qualification_world,
)


@dataclass
class World:
    world: QualificationWorld
    staff: FieldStaff


def build(fd: Fiberdesk, *, technicians: int = 2) -> World:
    return World(make_qualification_world(fd), make_field_staff(fd, technicians=technicians))


def _premises_near_xgs(fd: Fiberdesk, world: QualificationWorld, n: int) -> int:
    """A house of its own beside the XGS premises (one customer per address)."""
    with fd.uow() as uow:
        s = uow.session
        xgs = s.get(Premises, world.premises["xgs"])
        assert xgs is not None
        p = Premises(
            source_id=f"FW{n}",
            number=str(500 + 2 * n),
            street_name="DISPATCH",
            street_type="LN",
            street="DISPATCH LN",
            city="TOWSON",
            state="MD",
            zip=xgs.zip,
            lat=xgs.lat + n * 0.00003,
            lon=xgs.lon,
        )
        s.add(p)
        s.flush()
        uow.commit()
        return p.id


def ready_order(fd: Fiberdesk, world: QualificationWorld, n: int, plan: str = "PLUS") -> int:
    """A NEW_INSTALL order near the XGS NAP with every step before scheduling done."""
    premises_id = _premises_near_xgs(fd, world, n)
    with fd.uow() as uow:
        ref = quotes.create_quote(
            uow,
            actor=SYSTEM_ACTOR,
            premises_id=premises_id,
            plan_code=plan,
            settings=fd.quote_settings,
        ).reference
    with fd.uow() as uow:
        quotes.accept_quote(uow, actor=SYSTEM_ACTOR, reference=ref, settings=fd.quote_settings)
    with fd.uow() as uow:
        view = orders.create_order(
            uow,
            actor=SYSTEM_ACTOR,
            quote_reference=ref,
            name=f"Jordan Fiber{n}",
            email=f"jordan{n}@example.com",
            phone=f"410-555-01{n:02d}",
            access_notes=f"Gate code 44{n:02d}; dog is friendly",
        )
    signup.verify_identity(
        fd.uow,
        actor=SYSTEM_ACTOR,
        order_id=view.id,
        method=IdentityMethod.PHOTO_ID,
        secret_key="k",
        document_type="passport",
        document_number=f"P{n:07d}",
    )
    signup.credit_check(
        fd.uow,
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


def work_day(after: int = 1) -> date:
    """A Monday-to-Friday day at least ``after`` days ahead (the test shifts run Mon-Sat)."""
    day = date.today() + timedelta(days=after)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def book(
    fd: Fiberdesk, order_id: int, day: date, window: str, technician_id: int | None = None
) -> int:
    return scheduling.book(
        fd.uow,
        actor=SYSTEM_ACTOR,
        order_id=order_id,
        day=day,
        window=window,
        settings=fd.scheduling,
        technician_id=technician_id,
    ).appointment_id
