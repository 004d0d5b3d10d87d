"""The five KPIs from real timestamps, their monthly trend, alerts, CSV and Prometheus text.

The definitions, targets and alert thresholds are in ``fiberdesk.domain.kpis``; the
aggregate queries (one pass per metric, the work done in the database) in
``fiberdesk.services.kpi_queries``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import KpiAlert, OutboxMessage, User
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.kpis import (
    DEFAULT_DEFINITIONS,
    KpiValue,
    Metric,
    TrendPoint,
    exposition,
    month_starts,
    next_month,
    parse_thresholds,
    with_thresholds,
)
from fiberdesk.domain.kpis import to_csv as to_csv  # re-exported: the CSV of compute()
from fiberdesk.domain.users import Actor, Permission, Role
from fiberdesk.services import audit, messages
from fiberdesk.services.kpi_queries import Definitions, scope_of
from fiberdesk.services.kpi_queries import Scope as Scope  # re-exported for callers
from fiberdesk.services.kpi_queries import measure as measure  # re-exported for the benchmark

OUTBOX_STATUSES = ("pending", "sent", "failed")
#: locks check_alerts on PostgreSQL so two workers never open the same alert twice
ALERT_LOCK_ID = 0x6B7069  # "kpi"
MAX_MONTHS = 36
MAX_PERIOD_DAYS = 20 * 366


@dataclass(frozen=True, slots=True)
class KpiSettings:
    """Targets and alerts per metric, survey links and the alert window."""

    #: signs survey links (HMAC-SHA256)
    secret_key: str
    definitions: Definitions = field(default_factory=lambda: dict(DEFAULT_DEFINITIONS))
    #: a survey link works for this many days after it is sent
    survey_link_days: int = 14
    #: where the public pages are reached, for links in messages (no trailing slash)
    base_url: str = "http://127.0.0.1:8000"
    #: alerts and /metrics look at this many days up to now
    alert_window_days: int = 30
    company_name: str = "fiberdesk"
    support_phone: str = ""


def kpi_settings_from(settings: object) -> KpiSettings:
    """Build ``KpiSettings`` from the application's ``Settings`` (bootstrap calls this).
    Settings not defined yet fall back to the spec's defaults."""

    def get(name: str, default: Any) -> Any:
        return getattr(settings, name, default)

    definitions = with_thresholds(
        DEFAULT_DEFINITIONS,
        Metric.INSTALL_LEAD_TIME,
        get("lead_time_target_days", 7),
        get("lead_time_alert_days", 10),
    )
    default_url = f"http://{get('host', '127.0.0.1')}:{get('port', 8000)}"
    return KpiSettings(
        secret_key=str(get("secret_key", "")),
        definitions=parse_thresholds(str(get("kpi_thresholds", "")), definitions),
        survey_link_days=int(get("survey_link_days", 14)),
        base_url=str(get("public_base_url", "") or default_url).rstrip("/"),
        alert_window_days=int(get("kpi_alert_window_days", 30)),
        company_name=str(get("company_name", "fiberdesk")),
        support_phone=str(get("support_phone", "")),
    )


@dataclass(frozen=True, slots=True)
class AlertChange:
    metric: Metric
    #: opened (the KPI crossed its alert threshold) or cleared (it is back)
    change: str
    value: float
    threshold: float
    alert_id: int
    notified: int


def day_period(start: date | None, end: date | None, *, today: date) -> tuple[datetime, datetime]:
    """Whole UTC days from ``start`` through ``end`` (inclusive) as [start, end + 1 day);
    by default the 30 days up to and including today."""
    last = end or today
    first = start or (last - timedelta(days=29))
    if first > last:
        raise InvalidInput("the period starts after it ends", field="start")
    if (last - first).days >= MAX_PERIOD_DAYS or last >= date.max - timedelta(days=1):
        raise InvalidInput(f"a period is at most {MAX_PERIOD_DAYS:,} days", field="start")
    return (
        datetime.combine(first, time(), tzinfo=UTC),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC),
    )


def _check_period(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("the period's bounds must be timezone-aware", field="start")
    if end <= start:
        raise InvalidInput("the period must end after it starts", field="end")


def compute(
    uow: UnitOfWork,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    team: str | None = None,
    area: str | None = None,
    definitions: Definitions = DEFAULT_DEFINITIONS,
) -> list[KpiValue]:
    """The five KPIs over [start, end), for everyone or one team (a ``Team`` or FIELD) or
    one area (a ZIP code)."""
    actor.require(Permission.REPORTS_READ)
    _check_period(start, end)
    scope = scope_of(team, area)
    found = measure(uow.session, list(Metric), scope, [(start, end)], definitions)
    result = []
    for metric, [(value, count)] in found.items():
        d = definitions[metric]
        note = None
        if scope.team is not None and not d.per_team:
            note = f"{d.label.lower()} is not kept per team"
        status = d.status(value)
        result.append(KpiValue(d, value, status, count, start, end, scope.team, scope.area, note))
    return result


def trends(
    uow: UnitOfWork,
    *,
    actor: Actor,
    metrics: list[Metric] | None = None,
    months: int = 6,
    now: datetime | None = None,
    team: str | None = None,
    area: str | None = None,
    definitions: Definitions = DEFAULT_DEFINITIONS,
) -> dict[Metric, list[TrendPoint]]:
    """One point per calendar month and metric (default: all five), oldest first, up to
    ``now`` (default: the current month to date); one pass per metric for all the months."""
    actor.require(Permission.REPORTS_READ)
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(f"months must be 1 to {MAX_MONTHS}", field="months")
    now = now or utcnow()
    # the last month holds the instant before ``now``: a period ending on Feb 1 00:00
    # ends with January, not with an empty February
    starts = month_starts(now - timedelta(microseconds=1), months)
    buckets = [(first, min(next_month(first), now)) for first in starts]
    found = measure(
        uow.session, metrics or list(Metric), scope_of(team, area), buckets, definitions
    )
    return {
        metric: [
            TrendPoint(first.date(), first, last, v, n, definitions[metric].status(v))
            for (first, last), (v, n) in zip(buckets, values, strict=True)
        ]
        for metric, values in found.items()
    }


def trend(
    uow: UnitOfWork,
    *,
    actor: Actor,
    metric: Metric,
    months: int = 6,
    now: datetime | None = None,
    team: str | None = None,
    area: str | None = None,
    definitions: Definitions = DEFAULT_DEFINITIONS,
) -> list[TrendPoint]:
    """One metric month by month (see ``trends``)."""
    return trends(
        uow,
        actor=actor,
        metrics=[metric],
        months=months,
        now=now,
        team=team,
        area=area,
        definitions=definitions,
    )[metric]


def _supervisors(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(
        sa.select(User.id, User.email)
        .where(User.role == Role.SUPERVISOR, User.active.is_(True), User.email.is_not(None))
        .order_by(User.id)
    )
    return [(uid, email) for uid, email in rows if email]


def check_alerts(
    uow: UnitOfWork, *, actor: Actor, now: datetime, settings: KpiSettings
) -> list[AlertChange]:
    """Compare each KPI over the last ``alert_window_days`` with its alert threshold: on a
    crossing open a ``KpiAlert`` and queue one ``kpi_alert`` message per active supervisor;
    while an alert is open nothing more is sent; when the KPI is back it is cleared."""
    actor.require(Permission.REPORTS_READ)
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(ALERT_LOCK_ID)))
    start = now - timedelta(days=settings.alert_window_days)
    period = f"{start:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC"
    changes: list[AlertChange] = []
    for kpi in compute(uow, actor=actor, start=start, end=now, definitions=settings.definitions):
        d = settings.definitions[kpi.metric]
        open_alert = session.scalar(
            sa.select(KpiAlert)
            .where(
                KpiAlert.metric == kpi.metric.value,
                KpiAlert.scope == "all",
                KpiAlert.cleared_at.is_(None),
            )
            .order_by(KpiAlert.id)
            .limit(1)
        )
        if kpi.value is None:
            continue
        if d.breaches(kpi.value) and open_alert is None:
            alert = KpiAlert(
                metric=kpi.metric.value,
                scope="all",
                crossed_at=now,
                value=kpi.value,
                threshold=d.alert,
            )
            session.add(alert)
            session.flush()
            context = {
                "metric": d.label,
                "code": kpi.metric.value,
                "value": d.describe(kpi.value),
                "target": d.describe(d.target),
                "threshold": d.describe(d.alert),
                "period": period,
                "dashboard_url": f"{settings.base_url}/console/kpis",
                "company_name": settings.company_name,
            }
            sent = 0
            for user_id, email in _supervisors(session):
                queued = messages.queue(
                    session,
                    kind="kpi_alert",
                    key=f"{alert.id}:user{user_id}",
                    customer=None,
                    recipient=email,
                    context=context,
                )
                sent += queued is not None
            audit.record(
                session,
                actor=actor,
                action="kpi.alert",
                entity_type="kpi_alert",
                entity_id=alert.id,
                after={"metric": alert.metric, "value": alert.value, "threshold": d.alert},
            )
            changes.append(AlertChange(kpi.metric, "opened", kpi.value, d.alert, alert.id, sent))
        elif open_alert is not None and not d.breaches(kpi.value):
            open_alert.cleared_at = now
            audit.record(
                session,
                actor=actor,
                action="kpi.alert_cleared",
                entity_type="kpi_alert",
                entity_id=open_alert.id,
                after={"metric": open_alert.metric, "value": kpi.value},
            )
            changes.append(AlertChange(kpi.metric, "cleared", kpi.value, d.alert, open_alert.id, 0))
    uow.commit()
    return changes


def export_csv(
    uow: UnitOfWork,
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    team: str | None = None,
    area: str | None = None,
    definitions: Definitions = DEFAULT_DEFINITIONS,
) -> str:
    """The five KPIs over [start, end) as CSV (see ``CSV_COLUMNS``)."""
    values = compute(
        uow, actor=actor, start=start, end=end, team=team, area=area, definitions=definitions
    )
    return to_csv(values)


def outbox_counts(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(OUTBOX_STATUSES, 0)
    query = sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    for status, count in session.execute(query):
        counts[str(status)] = int(count)
    return counts


def prometheus_text(
    uow: UnitOfWork, *, actor: Actor, settings: KpiSettings, now: datetime | None = None
) -> str:
    """The KPIs over the alert window and the outbox depth, in the Prometheus text format."""
    now = now or utcnow()
    start = now - timedelta(days=settings.alert_window_days)
    values = compute(uow, actor=actor, start=start, end=now, definitions=settings.definitions)
    return exposition(values, outbox_counts(uow.session), settings.alert_window_days)
