"""Small builders for test data: a user with a token, a tiny network, customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as date_type
from decimal import Decimal

import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow as utcnow_
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


M_PER_DEG = 111_195.0


@dataclass
class QualificationWorld:
    """Premises ids by what qualification should say of them, and the NAPs."""

    premises: dict[str, int]
    naps: dict[str, int]
    plan_ids: dict[str, int]


def _north(lat: float, metres: float) -> float:
    return lat + metres / M_PER_DEG


def make_qualification_world(fd: Fiberdesk) -> QualificationWorld:
    """A small network laid out so that each decision branch has one premises.

    Each NAP sits at its own latitude band, far (> 1 km) from the others, so a premises
    only ever has the NAP it was placed for within reach.
    """
    with fd.uow() as uow:
        s = uow.session
        co = CentralOffice(code="CO9", name="Test CO", lat=39.40, lon=-76.60)
        olt = Olt(
            central_office=co,
            name="OLT-9",
            vendor="SimOLT",
            model="S1",
            tx_power_dbm=Decimal("3.00"),
        )
        s.add_all([co, olt])

        def tree(
            slot: int,
            tech: PonTechnology,
            max_split: int,
            ratio: int,
            feeder_m: int,
            nap_code: str,
            lat: float,
            ports: int = 8,
        ) -> Nap:
            pon = PonPort(olt=olt, slot=slot, port=1, technology=tech, max_split=max_split)
            spl = Splitter(
                pon_port=pon,
                code=f"LCP-{nap_code}",
                ratio=ratio,
                lat=lat,
                lon=-76.60,
                feeder_m=feeder_m,
                connectors=2,
                splices=4,
            )
            nap = Nap(
                splitter=spl,
                code=nap_code,
                lat=lat,
                lon=-76.60,
                port_count=ports,
                distribution_m=300,
                connectors=2,
                splices=2,
            )
            nap.ports = [NapPort(number=i + 1, status=NapPortStatus.FREE) for i in range(ports)]
            s.add_all([pon, spl, nap])
            return nap

        nap_a = tree(1, PonTechnology.GPON, 64, 32, 3000, "NAP-A", 39.50)
        nap_b = tree(2, PonTechnology.GPON, 64, 32, 3000, "NAP-FULL", 39.52)
        nap_c = tree(3, PonTechnology.GPON, 2, 32, 3000, "NAP-PONFULL", 39.54)
        nap_d = tree(4, PonTechnology.GPON, 64, 64, 20000, "NAP-FAR", 39.56)
        nap_e = tree(5, PonTechnology.GPON, 64, 64, 15000, "NAP-THIN", 39.58)
        nap_x = tree(6, PonTechnology.XGS_PON, 128, 64, 2000, "NAP-XGS", 39.60, ports=16)
        s.flush()
        for port in nap_b.ports:
            port.status = NapPortStatus.IN_USE
        nap_c.ports[0].status = NapPortStatus.IN_USE
        nap_c.ports[1].status = NapPortStatus.IN_USE

        spots = {
            "serviceable": (nap_a, 40, False),
            "long_drop": (nap_a, 130, False),
            "no_coverage": (nap_a, 600, False),
            "multi_dwelling": (nap_a, 30, True),
            "already_served": (nap_a, 20, False),
            "nap_full": (nap_b, 40, False),
            "pon_full": (nap_c, 40, False),
            "budget": (nap_d, 40, False),
            "low_margin": (nap_e, 40, False),
            "xgs": (nap_x, 40, False),
        }
        premises = {}
        for i, (key, (nap, metres, mdu)) in enumerate(spots.items()):
            p = Premises(
                source_id=f"Q{i}",
                number=str(100 + 2 * i),
                street_name="TEST",
                street_type="RD",
                street="TEST RD",
                city="TOWSON",
                state="MD",
                zip="21204",
                lat=_north(nap.lat, metres),
                lon=-76.60,
                multi_dwelling=mdu,
                address_use="RESIDENTIAL HIGH DENSITY" if mdu else None,
            )
            s.add(p)
            premises[key] = p
        s.flush()
        plans = {p.code: p.id for p in s.scalars(sa.select(Plan))}
        s.add(
            Customer(
                account_number=account_number(900),
                name="Existing Customer",
                service_address="x",
                premises_id=premises["already_served"].id,
                nap_id=nap_a.id,
                port_number=8,
                plan_id=plans["GIGABIT"],
                status=ServiceStatus.ACTIVE,
            )
        )
        nap_a.ports[7].status = NapPortStatus.IN_USE
        world = QualificationWorld(
            {k: p.id for k, p in premises.items()},
            {n.code: n.id for n in (nap_a, nap_b, nap_c, nap_d, nap_e, nap_x)},
            plans,
        )
        uow.commit()
        return world


@dataclass
class FieldStaff:
    technician_ids: list[int]
    technician_user: str
    serials: list[str]


def make_field_staff(
    fd: Fiberdesk,
    *,
    technicians: int = 2,
    capacity: int = 1,
    onts: int = 6,
    ips: int = 4,
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5),
) -> FieldStaff:
    """Technicians (the first linked to a user 'tech1'), shifts, ONT stock and an IP pool."""
    from datetime import time

    from fiberdesk.db.models import (
        Equipment,
        IpAddress,
        IpPool,
        Technician,
        TechnicianShift,
        User,
    )
    from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType

    make_token(fd, Role.TECHNICIAN, username="tech1")
    with fd.uow() as uow:
        s = uow.session
        user_id = s.scalar(sa.select(User.id).where(User.username == "tech1"))
        techs = []
        for i in range(technicians):
            tech = Technician(
                name=f"Tech {i + 1}",
                phone="+14105550150",
                skills=["install", "repair", "survey"],
                zones=[],
                capacity_per_window=capacity,
                user_id=user_id if i == 0 else None,
            )
            tech.shifts = [
                TechnicianShift(weekday=d, start=time(8), end=time(17)) for d in weekdays
            ]
            techs.append(tech)
        s.add_all(techs)
        serials = [f"HWTC{i:08X}" for i in range(0xA0, 0xA0 + onts)]
        s.add_all(
            Equipment(
                type=EquipmentType.ONT,
                serial_number=serial,
                mac_address=f"00:1A:2B:00:00:{i:02X}",
                vendor="Huawei",
                model="HG8010H",
                status=EquipmentStatus.IN_STOCK,
            )
            for i, serial in enumerate(serials)
        )
        pool = IpPool(name="static-test", cidr="203.0.113.0/29", gateway="203.0.113.1")
        s.add(pool)
        s.flush()
        s.add_all(IpAddress(pool_id=pool.id, address=f"203.0.113.{i + 2}") for i in range(ips))
        s.flush()
        staff = FieldStaff([t.id for t in techs], "tech1", serials)
        uow.commit()
        return staff


@dataclass
class ActiveCustomers:
    world: QualificationWorld
    customer_ids: list[int]
    serials: list[str]
    #: customer id -> NAP code
    nap_of: dict[int, str]


def make_active_customers(
    fd: Fiberdesk, *, per_nap: int = 3, naps: tuple[str, ...] = ("NAP-A", "NAP-XGS")
) -> ActiveCustomers:
    """The qualification world plus ACTIVE customers on the given NAPs, each with an
    INSTALLED ONT registered on the simulated OLT (Rx from the optical budget)."""
    from fiberdesk.adapters.network.base import ServiceProfile
    from fiberdesk.db.models import Equipment
    from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
    from fiberdesk.services.qualification import expected_rx_dbm

    world = make_qualification_world(fd)
    registrations = []
    ids: list[int] = []
    serials: list[str] = []
    nap_of: dict[int, str] = {}
    with fd.uow() as uow:
        s = uow.session
        seq = 5000
        for code in naps:
            nap = s.get(Nap, world.naps[code])
            assert nap is not None
            pon_id = s.scalar(sa.select(Splitter.pon_port_id).where(Splitter.id == nap.splitter_id))
            assert pon_id is not None
            free = s.scalars(
                sa.select(NapPort)
                .where(NapPort.nap_id == nap.id, NapPort.status == NapPortStatus.FREE)
                .order_by(NapPort.number)
                .limit(per_nap)
            ).all()
            for port in free:
                seq += 1
                premises = Premises(
                    source_id=f"AC{seq}",
                    number=str(seq),
                    street_name="FIBER",
                    street_type="WAY",
                    street="FIBER WAY",
                    city="TOWSON",
                    state="MD",
                    zip="21204",
                    lat=_north(nap.lat, 30),
                    lon=-76.60,
                )
                s.add(premises)
                s.flush()
                customer = Customer(
                    account_number=account_number(seq),
                    name=f"Active Customer {seq}",
                    email=f"a{seq}@example.com",
                    phone="+14105550123",
                    service_address=premises.label,
                    premises_id=premises.id,
                    nap_id=nap.id,
                    port_number=port.number,
                    plan_id=world.plan_ids["PLUS"],
                    status=ServiceStatus.ACTIVE,
                )
                s.add(customer)
                s.flush()
                port.status = NapPortStatus.IN_USE
                port.customer_id = customer.id
                serial = f"ALCL{seq:08X}"
                s.add(
                    Equipment(
                        customer_id=customer.id,
                        type=EquipmentType.ONT,
                        serial_number=serial,
                        mac_address=f"00:1B:00:00:{seq // 256 % 256:02X}:{seq % 256:02X}",
                        status=EquipmentStatus.INSTALLED,
                    )
                )
                registrations.append(
                    (serial, pon_id, nap.id, expected_rx_dbm(s, nap_id=nap.id, premises=premises))
                )
                ids.append(customer.id)
                serials.append(serial)
                nap_of[customer.id] = code
        uow.commit()
    for serial, pon_id, nap_id, rx in registrations:
        fd.network.register_ont(
            serial=serial,
            pon_port_id=pon_id,
            nap_id=nap_id,
            profile=ServiceProfile("PLUS-300x150", 300, 150),
            expected_rx_dbm=rx,
        )
    return ActiveCustomers(world, ids, serials, nap_of)


def open_billing(
    fd: Fiberdesk,
    customer_id: int,
    *,
    on: date_type,
    card: str | None = None,
    term_discount: str = "0.00",
    contract_months: int = 0,
    deposit: str = "0.00",
) -> int:
    """A billing account opened on ``on`` (and a card on file for autopay if given)."""
    from fiberdesk.adapters.payments.fake import FakeGateway
    from fiberdesk.db.models import Contract, PaymentMethod
    from fiberdesk.domain.dates import add_months
    from fiberdesk.domain.users import SYSTEM_ACTOR
    from fiberdesk.services import billing

    token = None
    if card is not None:
        assert isinstance(fd.gateway, FakeGateway)
        token = fd.gateway.tokenize(card, 12, on.year + 3, "123")
    with fd.uow() as uow:
        s = uow.session
        customer = s.get(Customer, customer_id)
        assert customer is not None
        customer.billing_start = on
        account = billing.open_account(
            s,
            customer=customer,
            actor=SYSTEM_ACTOR,
            on=on,
            term_discount=Decimal(term_discount),
            promotion_code=None,
            promotion_discount=Decimal("0.00"),
            promotion_months=0,
            currency="USD",
        )
        account.deposit_held = Decimal(deposit)
        if token is not None:
            s.add(
                PaymentMethod(
                    customer_id=customer_id,
                    gateway="fakegateway",
                    token=token.token,
                    brand=token.brand,
                    last4=token.last4,
                    exp_month=token.exp_month,
                    exp_year=token.exp_year,
                )
            )
        if contract_months:
            s.add(
                Contract(
                    customer_id=customer_id,
                    term_code=f"{contract_months}M",
                    months=contract_months,
                    terms_version="2026-01",
                    monthly_price=Decimal("60.00"),
                    early_termination_fee=Decimal("150.00"),
                    accepted_name="x",
                    accepted_at=utcnow_(),
                    channel="phone",
                    starts_on=on,
                    ends_on=add_months(on, contract_months),
                )
            )
        account_id = account.id
        uow.commit()
        return account_id


@dataclass
class SearchWorld:
    """Customers with distinct names, phones, emails and addresses, an ONT and a ticket."""

    #: customer id by name
    ids: dict[str, int]
    accounts: dict[str, str]
    ont_serial: str
    ont_owner: int
    ticket_id: int


SEARCH_PEOPLE = (
    ("John Smith", "+14105550101", "john.smith@example.com", "12 MAIN ST, TOWSON, MD 21204"),
    ("Joan Smithers", "+14105550102", "joan@example.org", "48 YORK RD, TOWSON, MD 21204"),
    ("Margaret Okafor", "+14105550103", "m.okafor@example.net", "7 BELLONA AVE, TOWSON, MD 21204"),
    ("Priya Raman", "+14105550104", "priya@example.com", "300 DULANEY VALLEY RD, TOWSON, MD 21286"),
    ("Carlos Mendez", "+14105550105", None, "9 SPARROWS POINT BLVD, DUNDALK, MD 21222"),
    (
        "Jonathan Smyth",
        "+14105550106",
        "jsmyth@example.com",
        "2803 10TH ST, SPARROWS POINT, MD 21219",
    ),
)


def make_search_world(fd: Fiberdesk) -> SearchWorld:
    """Six customers (``SEARCH_PEOPLE``, account numbers 7001..7006), an installed ONT
    serial ``SRCH0000ABCD`` on Margaret Okafor, and an open ticket for Priya Raman."""
    from fiberdesk.db.models import Equipment, Ticket
    from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
    from fiberdesk.domain.tickets import TicketCategory

    ids: dict[str, int] = {}
    accounts: dict[str, str] = {}
    with fd.uow() as uow:
        s = uow.session
        for i, (name, phone, email, address) in enumerate(SEARCH_PEOPLE, start=7001):
            c = Customer(
                account_number=account_number(i),
                name=name,
                email=email,
                phone=phone,
                service_address=address,
                status=ServiceStatus.ACTIVE if i != 7006 else ServiceStatus.DISCONNECTED,
            )
            s.add(c)
            s.flush()
            ids[name], accounts[name] = c.id, c.account_number
        s.add(
            Equipment(
                customer_id=ids["Margaret Okafor"],
                type=EquipmentType.ONT,
                serial_number="SRCH0000ABCD",
                status=EquipmentStatus.INSTALLED,
                vendor="SimOLT",
                model="ONT-1",
            )
        )
        ticket = Ticket(
            customer_id=ids["Priya Raman"],
            category=TicketCategory.NO_INTERNET,
            description="No lights on the ONT since this morning",
        )
        s.add(ticket)
        s.flush()
        ticket_id = ticket.id
        uow.commit()
    return SearchWorld(ids, accounts, "SRCH0000ABCD", ids["Margaret Okafor"], ticket_id)
