"""Small builders for test data: a user with a token, a tiny network, customers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
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
from fiberdesk.domain.customers import ServiceStatus, account_number
from fiberdesk.domain.network import NapPortStatus, PonTechnology
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import auth


def make_token(fd: Fiberdesk, role: Role = Role.ADMIN, username: str | None = None) -> str:
    username = username or f"{role.value}user"
    with fd.uow() as uow:
        auth.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username=username,
            full_name=f"Test {role.label}",
            role=role,
            password="correct horse battery",
        )
    with fd.uow() as uow:
        return auth.create_token(uow, actor=SYSTEM_ACTOR, username=username, name="test").secret


@dataclass
class TinyNetwork:
    nap_ids: list[int]
    plan_ids: dict[str, int]
    premises_ids: list[int]


def make_network(fd: Fiberdesk, *, naps: int = 2, ports: int = 8) -> TinyNetwork:
    """One CO, one OLT, one GPON port, one 1:32 splitter, NAPs with ports, premises."""
    with fd.uow() as uow:
        s = uow.session
        co = CentralOffice(code="CO1", name="Towson CO", lat=39.40, lon=-76.60)
        olt = Olt(
            central_office=co,
            name="OLT-1",
            vendor="SimOLT",
            model="S1",
            tx_power_dbm=Decimal("3.00"),
        )
        pon = PonPort(olt=olt, slot=1, port=1, technology=PonTechnology.GPON, max_split=64)
        spl = Splitter(pon_port=pon, code="LCP-1", ratio=32, lat=39.41, lon=-76.61, feeder_m=3000)
        s.add_all([co, olt, pon, spl])
        # the catalog is seeded by the migrations
        plans = {p.code: p for p in s.scalars(sa.select(Plan))}
        nap_rows = []
        for n in range(naps):
            nap = Nap(
                splitter=spl,
                code=f"NAP-{n + 1}",
                lat=39.42 + n / 1000,
                lon=-76.62,
                port_count=ports,
                distribution_m=400,
            )
            nap.ports = [NapPort(number=i + 1, status=NapPortStatus.FREE) for i in range(ports)]
            nap_rows.append(nap)
        s.add_all(nap_rows)
        s.flush()
        prem = [
            Premises(
                source_id=f"P{i}",
                number=str(100 + i),
                street_name="MAIN",
                street_type="ST",
                street="MAIN ST",
                street_key="MAIN ST",
                city="TOWSON",
                state="MD",
                zip="21204",
                lat=39.42,
                lon=-76.62,
                nap_id=nap_rows[0].id,
                drop_m=60,
            )
            for i in range(10)
        ]
        s.add_all(prem)
        s.flush()
        result = TinyNetwork(
            [n.id for n in nap_rows], {k: p.id for k, p in plans.items()}, [p.id for p in prem]
        )
        uow.commit()
        return result


def make_customer(
    fd: Fiberdesk,
    *,
    seq: int,
    name: str,
    status: ServiceStatus,
    nap_id: int | None = None,
    port: int | None = None,
    plan_id: int | None = None,
) -> int:
    with fd.uow() as uow:
        c = Customer(
            account_number=account_number(seq),
            name=name,
            email=f"c{seq}@example.com",
            phone="+14105550100",
            service_address=f"{seq} MAIN ST, TOWSON, MD 21204",
            nap_id=nap_id,
            port_number=port,
            plan_id=plan_id,
            status=status,
        )
        uow.session.add(c)
        uow.session.flush()
        uow.commit()
        return c.id
