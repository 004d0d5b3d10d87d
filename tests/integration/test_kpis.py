"""The five KPIs against values computed by hand on a fixed data set (SQLite and PostgreSQL),
per team and per area; alerts once per crossing; CSV and Prometheus output.

The data set (January 2026, two ZIP codes A = 21204 and B = 21286):

- installs: 10 new installations activated in January with lead times (days)
  A 5, 6.5, 7, 8, 9 (mean 7.1) and B 3, 4, 10, 12, 11 (mean 8), all 75.5 / 10 = 7.55;
  decoys: one activated in December, one still open, a disconnection order in January.
- tickets: 20 resolved in January. CSR (12): hours A 1 2 3 4 5 6 10 19, B 30 40 50 70
  (mean 240 / 12 = 20), first contact for the 8 A tickets and the first B ticket (9 / 12 =
  75 %). NOC (8): hours A 12 24 36 48, B 60 72 84 96 (mean 432 / 8 = 54), first contact
  for the 4 A tickets (50 %). All: 672 / 20 = 33.6 h, 13 / 20 = 65 %. Area A: 170 / 12 =
  14.17 h, 12 / 12 = 100 %; area B: 502 / 8 = 62.75 h, 1 / 8 = 12.5 %. Decoys: an open
  ticket, one resolved in December; one ticket opened on Dec 31 counts (resolved Jan 2).
- surveys answered in January: FIELD A 5 4, B 5 3; CSR A 5 5 4, B 5 4 5; NOC A 2 3, B 4 3.
  All 57 / 14 = 4.07; FIELD 4.25, CSR 4.67, NOC 3; area A 28 / 7 = 4, B 29 / 7 = 4.14.
  Decoys: one unanswered, one answered in February.
- churn: 20 customers active on January 1 (A 12 with the December install, B 8), one of
  each disconnected in January:
  all 2 / 20 = 10 %, A 1 / 12 = 8.33 %, B 1 / 8 = 12.5 %. Decoys: one disconnected in
  December, one cancelled before activation in January, the 10 January installs.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import (
    AuditEntry,
    Customer,
    KpiAlert,
    OutboxMessage,
    Premises,
    ServiceOrder,
    Survey,
    Ticket,
)
from fiberdesk.domain.customers import ServiceStatus, account_number
from fiberdesk.domain.errors import Forbidden, InvalidInput
from fiberdesk.domain.kpis import KpiStatus, Metric
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.tickets import Team, TicketCategory, TicketStatus
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Channel, Role
from fiberdesk.services import auth, kpis
from fiberdesk.services.kpis import KpiSettings

A, B = "21204", "21286"
JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
M = Metric

LEAD_DAYS = {A: [5, 6.5, 7, 8, 9], B: [3, 4, 10, 12, 11]}
#: (team, area, hours, first contact)
TICKETS = [
    *[(Team.CSR, A, h, True) for h in (1, 2, 3, 4, 5, 6, 10, 19)],
    (Team.CSR, B, 30, True),
    *[(Team.CSR, B, h, False) for h in (40, 50, 70)],
    *[(Team.NOC, A, h, True) for h in (12, 24, 36, 48)],
    *[(Team.NOC, B, h, False) for h in (60, 72, 84, 96)],
]
#: (team, area, agent, score)
SURVEYS = [
    *[("FIELD", a, "tech1", s) for a, s in ((A, 5), (A, 4), (B, 5), (B, 3))],
    *[("CSR", a, "alice", s) for a, s in ((A, 5), (A, 5), (A, 4), (B, 5), (B, 4), (B, 5))],
    *[("NOC", a, "bob", s) for a, s in ((A, 2), (A, 3), (B, 4), (B, 3))],
]

EXPECTED = {
    None: {
        M.INSTALL_LEAD_TIME: 7.55,
        M.FIRST_CALL_RESOLUTION: 65.0,
        M.CSAT: 4.07,
        M.CHURN: 10.0,
        M.TICKET_RESOLUTION_TIME: 33.6,
    },
    ("area", A): {
        M.INSTALL_LEAD_TIME: 7.1,
        M.FIRST_CALL_RESOLUTION: 100.0,
        M.CSAT: 4.0,
        M.CHURN: 8.33,
        M.TICKET_RESOLUTION_TIME: 14.17,
    },
    ("area", B): {
        M.INSTALL_LEAD_TIME: 8.0,
        M.FIRST_CALL_RESOLUTION: 12.5,
        M.CSAT: 4.14,
        M.CHURN: 12.5,
        M.TICKET_RESOLUTION_TIME: 62.75,
    },
    ("team", "CSR"): {
        M.INSTALL_LEAD_TIME: None,
        M.FIRST_CALL_RESOLUTION: 75.0,
        M.CSAT: 4.67,
        M.CHURN: None,
        M.TICKET_RESOLUTION_TIME: 20.0,
    },
    ("team", "NOC"): {
        M.INSTALL_LEAD_TIME: None,
        M.FIRST_CALL_RESOLUTION: 50.0,
        M.CSAT: 3.0,
        M.CHURN: None,
        M.TICKET_RESOLUTION_TIME: 54.0,
    },
    ("team", "FIELD"): {
        M.INSTALL_LEAD_TIME: None,
        M.FIRST_CALL_RESOLUTION: None,
        M.CSAT: 4.25,
        M.CHURN: None,
        M.TICKET_RESOLUTION_TIME: None,
    },
}
COUNTS = {
    M.INSTALL_LEAD_TIME: 10,
    M.FIRST_CALL_RESOLUTION: 20,
    M.CSAT: 14,
    M.CHURN: 20,
    M.TICKET_RESOLUTION_TIME: 20,
}


class Builder:
    """Rows with chosen timestamps, straight into the tables."""

    def __init__(self, fd: Fiberdesk) -> None:
        self.fd = fd
        with fd.uow(write=False) as uow:
            known = uow.session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0
        self.seq = itertools.count(500_000 + known + 1)
        self.premises: dict[str, int] = {}

    def _premises(self, zip_code: str) -> int:
        if zip_code not in self.premises:
            with self.fd.uow() as uow:
                found = uow.session.scalar(
                    sa.select(Premises.id).where(Premises.source_id == f"K{zip_code}")
                )
                if found is not None:
                    self.premises[zip_code] = found
                    return found
                p = Premises(
                    source_id=f"K{zip_code}",
                    number="1",
                    street_name="MAIN",
                    street="MAIN ST",
                    state="MD",
                    zip=zip_code,
                    lat=39.4,
                    lon=-76.6,
                )
                uow.session.add(p)
                uow.session.flush()
                self.premises[zip_code] = p.id
                uow.commit()
        return self.premises[zip_code]

    def customer(
        self,
        zip_code: str,
        *,
        activated: datetime | None = None,
        disconnected: datetime | None = None,
    ) -> int:
        premises_id = self._premises(zip_code)
        seq = next(self.seq)
        status = ServiceStatus.PENDING
        if activated is not None:
            status = ServiceStatus.ACTIVE
        if disconnected is not None:
            status = ServiceStatus.DISCONNECTED
        with self.fd.uow() as uow:
            c = Customer(
                account_number=account_number(seq),
                name=f"Customer {seq}",
                email=f"c{seq}@example.com",
                service_address=f"{seq} MAIN ST",
                premises_id=premises_id,
                status=status,
                activated_at=activated,
                disconnected_at=disconnected,
            )
            uow.session.add(c)
            uow.session.flush()
            uow.commit()
            return c.id

    def install(
        self,
        customer_id: int,
        *,
        created: datetime,
        completed: datetime | None,
        type: OrderType = OrderType.NEW_INSTALL,
    ) -> int:
        with self.fd.uow() as uow:
            o = ServiceOrder(
                customer_id=customer_id,
                type=type,
                status=OrderStatus.COMPLETED if completed else OrderStatus.SCHEDULED,
                created_at=created,
                completed_date=completed,
                details={},
            )
            uow.session.add(o)
            uow.session.flush()
            uow.commit()
            return o.id

    def ticket(
        self,
        customer_id: int,
        *,
        team: Team,
        created: datetime,
        resolved: datetime | None,
        fcr: bool | None,
    ) -> int:
        with self.fd.uow() as uow:
            t = Ticket(
                customer_id=customer_id,
                category=TicketCategory.NO_INTERNET,
                status=TicketStatus.RESOLVED if resolved else TicketStatus.OPEN,
                description="no lights",
                team=team,
                created_at=created,
                resolved_at=resolved,
                first_contact_resolution=fcr,
                transcript=[],
            )
            uow.session.add(t)
            uow.session.flush()
            uow.commit()
            return t.id

    def survey(
        self,
        customer_id: int,
        *,
        team: str,
        area: str,
        agent: str,
        score: int | None,
        answered: datetime | None,
        sent: datetime | None = None,
    ) -> None:
        with self.fd.uow() as uow:
            uow.session.add(
                Survey(
                    customer_id=customer_id,
                    kind="INSTALLATION" if team == "FIELD" else "TICKET",
                    agent=agent,
                    team=team,
                    area=area,
                    sent_at=sent or (answered or JAN) - timedelta(days=1),
                    expires_at=(sent or answered or JAN) + timedelta(days=13),
                    answered_at=answered,
                    score=score,
                )
            )
            uow.commit()


def build_fixed_data(fd: Fiberdesk) -> None:
    """The data set described at the top of this module."""
    b = Builder(fd)
    active = {A: [], B: []}  # type: dict[str, list[int]]
    for zip_code, n in ((A, 11), (B, 8)):  # and "old" below: 12 in A
        for i in range(n):
            gone = JAN + timedelta(days=9 if zip_code == A else 19) if i == 0 else None
            active[zip_code].append(
                b.customer(zip_code, activated=datetime(2025, 6, 1, tzinfo=UTC), disconnected=gone)
            )
    b.customer(A, activated=datetime(2025, 6, 1, tzinfo=UTC), disconnected=JAN - timedelta(days=17))
    b.customer(A, disconnected=JAN + timedelta(days=3))  # cancelled before activation
    for zip_code, days in LEAD_DAYS.items():
        for i, d in enumerate(days):
            done = JAN + timedelta(days=12 + i, hours=10)
            cid = b.customer(zip_code, activated=done)
            b.install(cid, created=done - timedelta(days=d), completed=done)
    old = b.customer(A, activated=datetime(2025, 12, 20, tzinfo=UTC))
    b.install(
        old, created=datetime(2025, 12, 1, tzinfo=UTC), completed=datetime(2025, 12, 20, tzinfo=UTC)
    )
    b.install(old, created=JAN, completed=None)
    b.install(old, created=JAN, completed=JAN + timedelta(days=2), type=OrderType.DISCONNECT)
    for i, (team, zip_code, hours, fcr) in enumerate(TICKETS):
        resolved = JAN + timedelta(days=2 + i)
        if hours == 48 and team is Team.NOC:  # opened in December, resolved in January
            resolved = JAN + timedelta(days=1)
        cid = active[zip_code][1 + i % 5]
        b.ticket(
            cid, team=team, created=resolved - timedelta(hours=hours), resolved=resolved, fcr=fcr
        )
    cid = active[A][1]
    b.ticket(cid, team=Team.CSR, created=JAN + timedelta(days=3), resolved=None, fcr=None)
    dec = JAN - timedelta(days=3)
    b.ticket(cid, team=Team.CSR, created=dec - timedelta(hours=500), resolved=dec, fcr=False)
    for i, (team, zip_code, agent, score) in enumerate(SURVEYS):
        at = JAN + timedelta(days=1 + i, hours=3)
        b.survey(
            active[zip_code][2], team=team, area=zip_code, agent=agent, score=score, answered=at
        )
    b.survey(cid, team="CSR", area=A, agent="alice", score=None, answered=None)
    b.survey(cid, team="CSR", area=A, agent="alice", score=1, answered=FEB + timedelta(hours=1))


@pytest.fixture
def fixed(fd: Fiberdesk) -> Fiberdesk:
    build_fixed_data(fd)
    return fd


def _values(fd: Fiberdesk, **scope: str) -> dict[Metric, kpis.KpiValue]:
    with fd.uow(write=False) as uow:
        values = kpis.compute(uow, actor=SYSTEM_ACTOR, start=JAN, end=FEB, **scope)
    return {v.metric: v for v in values}


@pytest.mark.parametrize("scope", list(EXPECTED), ids=lambda s: "all" if s is None else ":".join(s))
def test_each_kpi_matches_the_hand_computed_value(
    fixed: Fiberdesk, scope: tuple[str, str] | None
) -> None:
    values = _values(fixed, **({scope[0]: scope[1]} if scope else {}))
    assert list(values) == list(Metric)
    assert {m: v.value for m, v in values.items()} == EXPECTED[scope]
    if scope is None:
        assert {m: v.count for m, v in values.items()} == COUNTS
    if scope is not None and scope[0] == "team":
        assert values[M.CHURN].note == "monthly churn is not kept per team"
        assert values[M.CHURN].status is KpiStatus.NO_DATA


def test_statuses_follow_the_spec_thresholds(fixed: Fiberdesk) -> None:
    status = {m: v.status for m, v in _values(fixed).items()}
    assert status == {
        M.INSTALL_LEAD_TIME: KpiStatus.WARNING,  # 7.55: over 7, not over 10
        M.FIRST_CALL_RESOLUTION: KpiStatus.WARNING,  # 65: under 70, not under 60
        M.CSAT: KpiStatus.WARNING,  # 4.07
        M.CHURN: KpiStatus.ALERT,  # 10 %/month > 3
        M.TICKET_RESOLUTION_TIME: KpiStatus.WARNING,  # 33.6 h
    }
    area_a = _values(fixed, area=A)
    assert area_a[M.FIRST_CALL_RESOLUTION].status is KpiStatus.ON_TARGET
    assert area_a[M.TICKET_RESOLUTION_TIME].status is KpiStatus.ON_TARGET
    assert _values(fixed, area=B)[M.TICKET_RESOLUTION_TIME].status is KpiStatus.ALERT


def test_churn_over_two_months_is_per_month(fixed: Fiberdesk) -> None:
    with fixed.uow(write=False) as uow:
        values = kpis.compute(
            uow, actor=SYSTEM_ACTOR, start=JAN, end=datetime(2026, 3, 1, tzinfo=UTC)
        )
    assert values[3].metric is M.CHURN and values[3].value == 5.0  # 2 / 20 over 2 months


def test_trend_has_one_point_per_month(fixed: Fiberdesk) -> None:
    now = datetime(2026, 2, 10, tzinfo=UTC)
    with fixed.uow(write=False) as uow:
        points = kpis.trend(
            uow, actor=SYSTEM_ACTOR, metric=M.TICKET_RESOLUTION_TIME, months=3, now=now
        )
    assert [p.month.isoformat() for p in points] == ["2025-12-01", "2026-01-01", "2026-02-01"]
    assert [p.value for p in points] == [500.0, 33.6, None]
    assert [p.status for p in points] == [KpiStatus.ALERT, KpiStatus.WARNING, KpiStatus.NO_DATA]
    assert points[-1].end == now


def test_bad_scope_and_permissions_are_refused(fixed: Fiberdesk) -> None:
    csr = Actor(name="csr", role=Role.CSR, channel=Channel.API)
    with fixed.uow(write=False) as uow:
        with pytest.raises(Forbidden):
            kpis.compute(uow, actor=csr, start=JAN, end=FEB)
        with pytest.raises(InvalidInput, match="team"):
            kpis.compute(uow, actor=SYSTEM_ACTOR, start=JAN, end=FEB, team="SALES")
        with pytest.raises(InvalidInput, match="ZIP"):
            kpis.compute(uow, actor=SYSTEM_ACTOR, start=JAN, end=FEB, area="212")
        with pytest.raises(InvalidInput, match="end after"):
            kpis.compute(uow, actor=SYSTEM_ACTOR, start=FEB, end=JAN)
        with pytest.raises(InvalidInput, match="months"):
            kpis.trend(uow, actor=SYSTEM_ACTOR, metric=M.CSAT, months=0)


def test_csv_and_prometheus_carry_the_values(fixed: Fiberdesk) -> None:
    with fixed.uow(write=False) as uow:
        text = kpis.export_csv(uow, actor=SYSTEM_ACTOR, start=JAN, end=FEB, area=B)
    lines = text.splitlines()
    assert lines[0] == ",".join(kpis.to_csv([]).strip().split(","))
    assert lines[1].startswith("install_lead_time,Install lead time,days,8,7,10,warning,5,")
    assert lines[5].startswith("ticket_resolution_time,Ticket resolution time,hours,62.75,24,48")
    assert lines[1].endswith(f",{B}")
    with fixed.uow() as uow:
        uow.session.add_all(
            OutboxMessage(
                kind="welcome",
                channel="email",
                recipient="x@example.com",
                context={},
                idempotency_key=f"k{i}",
                status=status,
            )
            for i, status in enumerate(["pending", "pending", "sent", "failed"])
        )
        uow.commit()
    settings = KpiSettings(secret_key="k", alert_window_days=31)
    with fixed.uow(write=False) as uow:
        metrics = kpis.prometheus_text(uow, actor=SYSTEM_ACTOR, settings=settings, now=FEB)
    assert "# TYPE fiberdesk_install_lead_time_days gauge" in metrics
    assert "\nfiberdesk_install_lead_time_days 7.55\n" in metrics
    assert "\nfiberdesk_first_call_resolution_percent 65\n" in metrics
    assert "\nfiberdesk_customer_satisfaction_score 4.07\n" in metrics
    assert "\nfiberdesk_ticket_resolution_time_hours 33.6\n" in metrics
    assert "\nfiberdesk_monthly_churn_percent " in metrics
    assert 'fiberdesk_kpi_target{metric="csat"} 4.5' in metrics
    assert 'fiberdesk_kpi_alert_threshold{metric="churn"} 3' in metrics
    assert 'fiberdesk_outbox_messages{status="pending"} 2\n' in metrics
    assert 'fiberdesk_outbox_messages{status="sent"} 1\n' in metrics
    assert 'fiberdesk_outbox_messages{status="failed"} 1\n' in metrics


def _supervisors(fd: Fiberdesk) -> None:
    with fd.uow() as uow:
        for name, role, email in (
            ("sup1", Role.SUPERVISOR, "sup1@example.com"),
            ("sup2", Role.SUPERVISOR, "sup2@example.com"),
            ("sup3", Role.SUPERVISOR, None),
            ("csr1", Role.CSR, "csr1@example.com"),
        ):
            auth.create_user(
                uow,
                actor=SYSTEM_ACTOR,
                username=name,
                full_name=name,
                role=role,
                password="correct horse battery",
                email=email,
            )
    with fd.uow() as uow:
        auth.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username="gone",
            full_name="Gone",
            role=Role.SUPERVISOR,
            password="correct horse battery",
            email="gone@example.com",
        )
    with fd.uow() as uow:
        uow.session.execute(sa.text("UPDATE users SET active = false WHERE username = 'gone'"))
        uow.commit()


def _alert_messages(fd: Fiberdesk) -> list[OutboxMessage]:
    with fd.uow(write=False) as uow:
        query = sa.select(OutboxMessage).where(OutboxMessage.kind == "kpi_alert")
        return list(uow.session.scalars(query.order_by(OutboxMessage.id)))


def test_an_alert_fires_once_per_crossing_and_clears(fd: Fiberdesk) -> None:
    _supervisors(fd)
    b = Builder(fd)
    cid = b.customer(A)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    settings = KpiSettings(secret_key="k", base_url="https://desk.example")

    def resolved(hours: float, days_ago: float) -> None:
        done = now - timedelta(days=days_ago)
        b.ticket(cid, team=Team.CSR, created=done - timedelta(hours=hours), resolved=done, fcr=True)

    def check(at: datetime) -> list[kpis.AlertChange]:
        with fd.uow() as uow:
            return kpis.check_alerts(uow, actor=SYSTEM_ACTOR, now=at, settings=settings)

    resolved(60, 5)
    resolved(50, 4)  # mean 55 h > 48 h
    changes = check(now)
    assert [(c.metric, c.change, c.value, c.notified) for c in changes] == [
        (M.TICKET_RESOLUTION_TIME, "opened", 55.0, 2)
    ]
    sent = _alert_messages(fd)
    assert sorted(m.recipient for m in sent) == ["sup1@example.com", "sup2@example.com"]
    assert sent[0].context == {
        "metric": "Ticket resolution time",
        "code": "ticket_resolution_time",
        "value": "55 hours",
        "target": "24 hours",
        "threshold": "48 hours",
        "period": "2026-01-30 00:00 to 2026-03-01 00:00 UTC",
        "dashboard_url": "https://desk.example/console/kpis",
        "company_name": "fiberdesk",
    }
    from fiberdesk.messages import Branding, default_templates

    rendered = default_templates().render("kpi_alert", sent[0].context, Branding("x", "y", "z"))
    assert "Ticket resolution time" in rendered.subject + rendered.text
    assert check(now + timedelta(hours=1)) == []  # still over: the open alert stays, no mail
    assert len(_alert_messages(fd)) == 2

    resolved(1, 1)
    resolved(2, 1)  # mean (60 + 50 + 1 + 2) / 4 = 28.25 h: back under the alert
    changes = check(now + timedelta(hours=2))
    assert [(c.change, c.value) for c in changes] == [("cleared", 28.25)]
    assert check(now + timedelta(hours=3)) == []

    resolved(300, 0.5)  # mean 413 / 5 = 82.6 h: a second crossing
    changes = check(now + timedelta(hours=4))
    assert [(c.change, c.value, c.notified) for c in changes] == [("opened", 82.6, 2)]
    assert len(_alert_messages(fd)) == 4
    with fd.uow(write=False) as uow:
        alerts = uow.session.scalars(sa.select(KpiAlert).order_by(KpiAlert.id)).all()
        actions = uow.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.action.like("kpi.%"))
        ).all()
    assert [(a.metric, a.value, a.threshold, a.cleared_at is None) for a in alerts] == [
        ("ticket_resolution_time", 55.0, 48.0, False),
        ("ticket_resolution_time", 82.6, 48.0, True),
    ]
    assert sorted(actions) == ["kpi.alert", "kpi.alert", "kpi.alert_cleared"]


def test_alert_thresholds_are_configurable(fd: Fiberdesk) -> None:
    _supervisors(fd)
    b = Builder(fd)
    cid = b.customer(A)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    done = now - timedelta(minutes=1)
    b.ticket(cid, team=Team.CSR, created=done - timedelta(hours=30), resolved=done, fcr=True)
    b.ticket(cid, team=Team.CSR, created=done - timedelta(hours=10), resolved=done, fcr=True)
    strict = kpis.kpi_settings_from(
        type("S", (), {"secret_key": "k", "kpi_thresholds": "ticket_resolution_time=12/20"})()
    )
    assert strict.definitions[M.TICKET_RESOLUTION_TIME].alert == 20
    assert strict.definitions[M.INSTALL_LEAD_TIME].alert == 10
    with fd.uow() as uow:  # a mean of exactly 20 h has not crossed "> 20 h"
        assert kpis.check_alerts(uow, actor=SYSTEM_ACTOR, now=now, settings=strict) == []
    b.ticket(cid, team=Team.CSR, created=done - timedelta(hours=40), resolved=done, fcr=True)
    with fd.uow() as uow:
        changes = kpis.check_alerts(uow, actor=SYSTEM_ACTOR, now=now, settings=strict)
    assert [(c.metric, c.value, c.threshold) for c in changes] == [
        (M.TICKET_RESOLUTION_TIME, 26.67, 20.0)
    ]
