"""The demo operator: consistent, deterministic, refusing a non-empty database.

Most tests build a small operator (the premises nearest downtown Towson) on SQLite and
PostgreSQL; one builds the full default operator on SQLite and prints how long it took.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.config import Settings
from fiberdesk.db.models import (
    Appointment,
    AuditEntry,
    CentralOffice,
    Customer,
    CustomerNote,
    Equipment,
    IpAddress,
    Nap,
    NapPort,
    Olt,
    Outage,
    OutageCustomer,
    Plan,
    PonPort,
    Premises,
    ServiceOrder,
    Splitter,
    Survey,
    Ticket,
    User,
)
from fiberdesk.domain.customers import OCCUPYING_STATUSES, NoteType, ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType, normalise_ont_serial
from fiberdesk.domain.errors import Conflict, InvalidInput
from fiberdesk.domain.network import NapPortStatus, PonTechnology
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus, OrderType
from fiberdesk.domain.tickets import TicketCategory, TicketPriority, TicketStatus
from fiberdesk.domain.users import SYSTEM_ACTOR, Channel, Role
from fiberdesk.services import auth
from fiberdesk.services.demo import DemoSummary, build_demo
from fiberdesk.services.demo.database import row_counts, seeded_tables

TODAY = date(2026, 3, 16)  # a Monday
NOW = datetime.combine(TODAY, time(17, 0), tzinfo=UTC)  # noon in the operator's time
SMALL = {"premises_limit": 6000, "customers": 300}
S = ServiceStatus
INSTALLED = {S.ACTIVE, S.SUSPENDED, S.RELOCATING}


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each build hashes 18 passwords; the small builds use argon2 at its cheapest (still
    argon2id) so that the tests spend their time on the demo. The full-size build, whose
    time is printed, keeps the real cost."""
    if "full_size" not in request.node.name:
        monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


def _small(fd: Fiberdesk, **kwargs: object) -> DemoSummary:
    return build_demo(fd, today=TODAY, **{**SMALL, **kwargs})  # type: ignore[arg-type]


def _counts(fd: Fiberdesk) -> dict[str, int]:
    with fd.uow(write=False) as uow:
        return row_counts(uow.session)


def _month(at: datetime) -> tuple[int, int]:
    return at.year, at.month


def _last_six_months() -> set[tuple[int, int]]:
    months, day = set(), TODAY.replace(day=1)
    for _ in range(6):
        day = (day - timedelta(days=1)).replace(day=1)
        months.add((day.year, day.month))
    return months


def test_small_demo_is_a_consistent_operator(fd: Fiberdesk) -> None:
    summary = _small(fd)
    assert summary.customers == 300
    with fd.uow(write=False) as uow:
        s = uow.session
        # every status, and the counts the summary reports
        statuses = Counter(s.scalars(sa.select(Customer.status)).all())
        assert set(statuses) == set(ServiceStatus)
        assert {k.value: v for k, v in statuses.items()} == summary.customers_by_status
        # the plant: COs with OLTs, a PON port per splitter, at least 64
        assert s.scalar(sa.select(sa.func.count()).select_from(CentralOffice)) >= 2
        olts_per_co = s.execute(
            sa.select(CentralOffice.code, sa.func.count(Olt.id))
            .outerjoin(Olt, Olt.central_office_id == CentralOffice.id)
            .group_by(CentralOffice.code)
        ).all()
        assert all(n >= 1 for _, n in olts_per_co)
        pon_ports = s.scalar(sa.select(sa.func.count()).select_from(PonPort)) or 0
        splitters = s.scalar(sa.select(sa.func.count()).select_from(Splitter)) or 0
        assert pon_ports == summary.pon_ports >= max(64, splitters)
        assert s.scalar(
            sa.select(sa.func.count()).where(PonPort.technology == PonTechnology.XGS_PON)
        )
        for olt_tx in s.scalars(sa.select(Olt.tx_power_dbm)):
            assert 1.5 <= olt_tx <= 5
        # no splitter and no PON port carries more NAP ports than its split allows
        per_splitter = s.execute(
            sa.select(Splitter.ratio, sa.func.sum(Nap.port_count))
            .join(Nap, Nap.splitter_id == Splitter.id)
            .group_by(Splitter.id, Splitter.ratio)
        ).all()
        assert all(ports <= ratio for ratio, ports in per_splitter)
        per_pon = s.execute(
            sa.select(PonPort.max_split, sa.func.count(NapPort.id))
            .join(Splitter, Splitter.pon_port_id == PonPort.id)
            .join(Nap, Nap.splitter_id == Splitter.id)
            .join(NapPort, NapPort.nap_id == Nap.id)
            .where(NapPort.status.in_([NapPortStatus.IN_USE, NapPortStatus.RESERVED]))
            .group_by(PonPort.id, PonPort.max_split)
        ).all()
        assert per_pon and all(used <= max_split for max_split, used in per_pon)
        assert set(s.scalars(sa.select(Nap.port_count))) <= {8, 16}

        # every occupying customer holds exactly one port, and no port is held twice
        customers = s.execute(
            sa.select(Customer.id, Customer.status, Customer.nap_id, Customer.port_number)
        ).all()
        ports = s.execute(
            sa.select(NapPort.nap_id, NapPort.number, NapPort.status, NapPort.customer_id)
        ).all()
        held = Counter(p.customer_id for p in ports if p.customer_id is not None)
        assert max(held.values()) == 1
        by_position = {(p.nap_id, p.number): p for p in ports}
        for c in customers:
            if c.status in OCCUPYING_STATUSES:
                port = by_position[c.nap_id, c.port_number]
                assert port.customer_id == c.id and held[c.id] == 1
                wanted = NapPortStatus.IN_USE if c.status in INSTALLED else NapPortStatus.RESERVED
                assert port.status is wanted
            else:
                assert c.nap_id is None and c.port_number is None and c.id not in held
        # some NAPs are full, every port taken
        full = s.execute(
            sa.select(NapPort.nap_id)
            .group_by(NapPort.nap_id)
            .having(sa.func.sum(sa.case((NapPort.status == NapPortStatus.FREE, 1), else_=0)) == 0)
        ).all()
        assert len(full) >= 2

        # coverage: drops within the maximum, some premises left dark
        drops = s.execute(sa.select(Premises.nap_id, Premises.drop_m)).all()
        covered = [d for n, d in drops if n is not None]
        assert all(d is not None and 0 < d <= 250 for d in covered)
        assert all(d is None for n, d in drops if n is None)
        assert 0 < len(covered) < len(drops)
        assert any(d > 150 for d in covered)

        # the Business tier only where XGS-PON carries it
        technologies = s.execute(
            sa.select(PonPort.technology)
            .select_from(Customer)
            .join(Plan, Customer.plan_id == Plan.id)
            .join(Nap, Customer.nap_id == Nap.id)
            .join(Splitter, Nap.splitter_id == Splitter.id)
            .join(PonPort, Splitter.pon_port_id == PonPort.id)
            .where(Plan.code == "BUSINESS")
        ).all()
        assert technologies and {t for (t,) in technologies} == {PonTechnology.XGS_PON}

        # six months of orders and tickets, all in the past
        orders = s.execute(sa.select(ServiceOrder.type, ServiceOrder.created_at)).all()
        tickets = s.execute(
            sa.select(Ticket.category, Ticket.priority, Ticket.status, Ticket.created_at)
        ).all()
        assert {t for t, _ in orders} == set(OrderType)
        assert all(at <= NOW for _, at in orders)
        assert _last_six_months() <= {_month(at) for _, at in orders}
        assert {t.category for t in tickets} == set(TicketCategory)
        assert {t.priority for t in tickets} == set(TicketPriority)
        assert {t.status for t in tickets} == set(TicketStatus)
        assert all(NOW - timedelta(days=185) <= t.created_at <= NOW for t in tickets)
        assert _last_six_months() <= {_month(t.created_at) for t in tickets}
        new_installs = s.scalar(
            sa.select(sa.func.count()).where(ServiceOrder.type == OrderType.NEW_INSTALL)
        )
        assert new_installs == 300
        # resolved tickets: after they were raised
        resolved = s.execute(
            sa.select(Ticket.created_at, Ticket.resolved_at).where(Ticket.resolved_at.is_not(None))
        ).all()
        assert resolved and all(a < b <= NOW for a, b in resolved)
        assert set(s.scalars(sa.select(CustomerNote.type))) == set(NoteType)
        slas = s.execute(sa.select(Ticket.created_at, Ticket.sla_due_at, Ticket.sla_alert_at)).all()
        assert all(a < due <= alert for a, due, alert in slas)
        # an outage behind one splitter: its customers, and tickets that point to it
        outage = s.scalars(sa.select(Outage)).first()
        assert outage is not None and outage.resolved_at is not None
        hit = s.scalar(sa.select(sa.func.count()).where(OutageCustomer.outage_id == outage.id))
        linked = s.scalar(sa.select(sa.func.count()).where(Ticket.outage_id == outage.id))
        assert hit == outage.affected_customers and 0 < linked <= hit

        # appointments: one job per technician and window; booked ones in the next 14 days
        slots = Counter(
            s.execute(
                sa.select(
                    Appointment.technician_id, Appointment.day, Appointment.window_code
                ).where(Appointment.status != AppointmentStatus.CANCELLED)
            ).all()
        )
        assert max(slots.values()) == 1
        booked = s.scalars(
            sa.select(Appointment.day).where(Appointment.status == AppointmentStatus.BOOKED)
        ).all()
        assert booked and all(TODAY <= d <= TODAY + timedelta(days=14) for d in booked)
        assert set(s.scalars(sa.select(Appointment.window_code))) == {"AM", "PM"}
        scheduled = s.scalar(
            sa.select(sa.func.count()).where(ServiceOrder.status == OrderStatus.SCHEDULED)
        )
        assert scheduled

        # stock: an installed ONT per installed customer, valid serials, spares on the shelf
        onts = s.execute(
            sa.select(Equipment.customer_id, Equipment.status, Equipment.serial_number).where(
                Equipment.type == EquipmentType.ONT
            )
        ).all()
        for _, _, serial in onts:
            assert normalise_ont_serial(serial) == serial
        installed = Counter(c for c, st, _ in onts if st is EquipmentStatus.INSTALLED)
        assert sum(statuses[st] for st in INSTALLED) == len(installed)
        assert max(installed.values()) == 1
        assert sum(1 for c, st, _ in onts if c is None and st is EquipmentStatus.IN_STOCK) >= 100
        assert s.scalar(sa.select(sa.func.count(IpAddress.customer_id))) >= 1

        # one audit row for the build, and users for every role
        audit = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "demo.build")).all()
        assert len(audit) == 1 and audit[0].after and audit[0].after["customers"] == 300
        roles = set(s.scalars(sa.select(User.role)))
        assert roles >= {r for r in Role if r is not Role.SELF_SERVICE}
    # the admin token the summary shows works
    with fd.uow(write=False) as uow:
        actor = auth.actor_for_token(uow, secret=summary.admin_token, channel=Channel.API)
    assert actor.role is Role.ADMIN


def test_refuses_a_non_empty_database_and_changes_nothing(fd: Fiberdesk) -> None:
    _small(fd, customers=100)
    before = _counts(fd)
    with pytest.raises(Conflict, match=r"not empty.*--force"):
        _small(fd, customers=100)
    assert _counts(fd) == before


def test_refuses_a_database_with_users_only(fd: Fiberdesk) -> None:
    with fd.uow() as uow:
        auth.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username="alice",
            full_name="Alice Smith",
            role=Role.CSR,
            password="correct horse battery",
        )
    before = _counts(fd)
    with pytest.raises(Conflict, match="1 users"):
        _small(fd, customers=100)
    assert _counts(fd) == before


def test_force_wipes_and_rebuilds_keeping_the_catalog(fd: Fiberdesk) -> None:
    first = _small(fd, customers=100)
    catalog = seeded_tables()
    assert {"plans", "contract_terms", "promotions"} <= catalog
    before = _counts(fd)
    second = _small(fd, customers=120, seed=7, force=True)
    assert second.wiped and second.customers == 120
    assert second.admin_token != first.admin_token
    after = _counts(fd)
    assert after["customers"] == 120
    assert after["premises"] == SMALL["premises_limit"]
    # the catalog the migrations seeded is kept as it was
    assert {t: after[t] for t in catalog} == {t: before[t] for t in catalog}
    with fd.uow(write=False) as uow:
        s = uow.session
        # the first build's rows went with the wipe: one build, one audit row for it
        assert s.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "demo.build")) == 1
        assert s.scalar(sa.select(sa.func.count()).select_from(User)) == len(second.users)


def test_bad_sizes_are_refused_before_anything_is_written(fd: Fiberdesk) -> None:
    before = _counts(fd)
    with pytest.raises(InvalidInput, match="customers must be"):
        build_demo(fd, today=TODAY, customers=10)
    with pytest.raises(InvalidInput, match="fit the covered premises"):
        build_demo(fd, today=TODAY, customers=2000, premises_limit=600)
    assert _counts(fd) == before


def test_an_unmigrated_database_is_refused(empty_database_url: str) -> None:
    app = build(Settings(database_url=empty_database_url, secret_key="test-secret-key"))
    try:
        with pytest.raises(Conflict, match="fiberdesk db upgrade"):
            build_demo(app, today=TODAY, **SMALL)  # type: ignore[arg-type]
    finally:
        app.close()


def _digest(fd: Fiberdesk) -> str:
    with fd.uow(write=False) as uow:
        s = uow.session
        parts = [
            s.execute(
                sa.select(
                    Customer.account_number,
                    Customer.name,
                    Customer.email,
                    Customer.status,
                    Nap.code,
                    Customer.port_number,
                    Customer.created_at,
                    Customer.activated_at,
                )
                .outerjoin(Nap, Customer.nap_id == Nap.id)
                .order_by(Customer.account_number)
            ).all(),
            s.execute(
                sa.select(Nap.code, Nap.lat, Nap.lon, Nap.port_count).order_by(Nap.code)
            ).all(),
            s.execute(
                sa.select(Ticket.category, Ticket.status, Ticket.created_at).order_by(Ticket.id)
            ).all(),
            s.execute(
                sa.select(ServiceOrder.type, ServiceOrder.status, ServiceOrder.created_at).order_by(
                    ServiceOrder.id
                )
            ).all(),
        ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def test_the_same_seed_builds_the_same_operator(
    sqlite_fd: Fiberdesk, sqlite_template: Path, tmp_path: Path
) -> None:
    other_path = tmp_path / "other.db"
    shutil.copy(sqlite_template, other_path)
    other = build(Settings(database_url=f"sqlite:///{other_path}", secret_key="test-secret-key"))
    third_path = tmp_path / "third.db"
    shutil.copy(sqlite_template, third_path)
    third = build(Settings(database_url=f"sqlite:///{third_path}", secret_key="test-secret-key"))
    try:
        _small(sqlite_fd, seed=11)
        _small(other, seed=11)
        _small(third, seed=12)
        assert _digest(sqlite_fd) == _digest(other)
        assert _digest(sqlite_fd) != _digest(third)
    finally:
        other.close()
        third.close()


def test_full_size_demo_on_sqlite(sqlite_fd: Fiberdesk) -> None:
    summary = build_demo(sqlite_fd, today=TODAY)
    print(
        f"\nfull demo on SQLite: {summary.elapsed_s:.1f} s, {summary.premises} premises, "
        f"{summary.coverage_pct} % covered, {summary.customers} customers, "
        f"{summary.pon_ports} PON ports, {summary.naps} NAPs"
    )
    assert summary.premises > 90_000
    assert summary.customers >= 2000
    assert summary.pon_ports >= 64
    assert 60 <= summary.coverage_pct <= 95
    assert summary.budget_exceeded_premises > 0
    assert summary.full_naps >= 2
    assert set(summary.customers_by_status) == {s.value for s in ServiceStatus}
    with sqlite_fd.uow(write=False) as uow:
        covered = uow.session.scalar(sa.select(sa.func.count()).where(Premises.nap_id.is_not(None)))
    assert covered == summary.covered_premises


def test_cli_json(tmp_path: Path) -> None:
    env = {**os.environ, "FIBERDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fiberdesk", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    assert run("db", "upgrade").returncode == 0
    small = ("--premises-limit", "3000", "--customers", "100")
    proc = run("demo", "--json", *small)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["customers"] == 100
    assert summary["admin_token"].startswith("fdk_")
    assert {u["username"] for u in summary["users"]} >= {"admin", "csr", "dispatcher"}
    again = run("demo", "--json", *small)
    assert again.returncode == 1
    assert "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    forced = run("demo", "--json", "--force", "--seed", "3", *small)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["wiped"] is True


def test_the_demo_has_answered_surveys_credited_like_live_ones(fd: Fiberdesk) -> None:
    summary = _small(fd)
    with fd.uow(write=False) as uow:
        rows = uow.session.scalars(sa.select(Survey)).all()
        assert summary.surveys == len(rows) > 20
        answered = [s for s in rows if s.score is not None]
        assert 0.4 < len(answered) / len(rows) < 0.9
        assert {s.score for s in answered} <= {1, 2, 3, 4, 5}
        for s in rows:
            assert s.sent_at <= NOW and s.expires_at > s.sent_at and s.area and s.team
            if s.answered_at is not None:
                assert s.sent_at < s.answered_at <= NOW
            if s.kind == "INSTALLATION":
                order = uow.session.get_one(ServiceOrder, s.order_id)
                assert order.status is OrderStatus.COMPLETED and s.team == "FIELD"
            else:
                ticket = uow.session.get_one(Ticket, s.ticket_id)
                assert ticket.resolved_at is not None and s.team == ticket.team.value


def test_moves_in_progress_hold_a_port_at_the_new_address_and_can_be_completed(
    fd: Fiberdesk,
) -> None:
    from fiberdesk.services import relocation

    _small(fd)
    with fd.uow(write=False) as uow:
        s = uow.session
        moves = s.scalars(
            sa.select(ServiceOrder).where(
                ServiceOrder.type == OrderType.RELOCATION,
                ServiceOrder.status.in_([OrderStatus.OPEN, OrderStatus.SCHEDULED]),
            )
        ).all()
        assert moves, "the demo has moves in progress"
        for order in moves:
            d = order.details
            customer = s.get(Customer, order.customer_id)
            assert customer is not None and customer.status is ServiceStatus.RELOCATING
            new = s.get(NapPort, d["new_port_id"])
            assert new is not None and new.status is NapPortStatus.RESERVED
            assert (new.nap_id, new.number) == (d["new_nap_id"], d["new_port"])
            assert new.held_by == f"RELOC:{customer.account_number}" and new.customer_id is None
            old = s.get(NapPort, d["old_port_id"])
            assert old is not None and old.status is NapPortStatus.IN_USE
            assert old.customer_id == customer.id
        chosen = moves[0].id
        new_port_id = moves[0].details["new_port_id"]
    result = relocation.complete_relocation(
        fd.uow, actor=SYSTEM_ACTOR, network=fd.network, order_id=chosen, today=TODAY
    )
    assert result.order.status is OrderStatus.COMPLETED
    with fd.uow(write=False) as uow:
        port = uow.session.get(NapPort, new_port_id)
        assert port is not None and port.status is NapPortStatus.IN_USE
