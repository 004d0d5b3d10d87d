"""The aggregate queries behind the KPIs: one pass over the rows of a period per metric.

Each query computes its metric for several periods ("buckets") at once with AVG and COUNT
over CASE expressions, reading only the rows of the buckets' whole span, so a monthly trend
costs one pass, not one per month. Durations are computed by the database:
``EXTRACT(EPOCH FROM ...)`` on PostgreSQL, ``julianday`` on SQLite. First-call resolution
and ticket resolution time share one pass over the tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from fiberdesk.db.models import Customer, Premises, ServiceOrder, Survey, Ticket
from fiberdesk.domain.kpis import (
    DEFAULT_DEFINITIONS,
    KpiDefinition,
    Metric,
    monthly_churn,
    parse_area,
    parse_team,
    percent,
    rounded,
)
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.tickets import Team

Definitions = Mapping[Metric, KpiDefinition]


@dataclass(frozen=True, slots=True)
class Scope:
    team: str | None
    area: str | None


def _seconds(session: Session, begin: Any, finish: Any) -> ColumnElement[Any]:
    """``finish - begin`` in seconds, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", finish - begin)
    return (sa.func.julianday(finish) - sa.func.julianday(begin)) * 86400.0


def _zip(area: str) -> Any:
    return sa.select(Premises.id).where(Premises.zip == area)


def _in_area(query: Any, customer_id: Any, area: str | None) -> Any:
    """Only rows of customers whose premises are in ``area`` (a ZIP code)."""
    if area is None:
        return query
    customers = sa.select(Customer.id).where(Customer.premises_id.in_(_zip(area)))
    return query.where(customer_id.in_(customers))


Bucket = tuple[datetime, datetime]
#: a KPI's value and what it was measured over, in one bucket
Measured = tuple[float | None, int]


def _inside(column: Any, bucket: Bucket) -> Any:
    return sa.and_(column >= bucket[0], column < bucket[1])


def _span(query: Any, column: Any, buckets: list[Bucket]) -> Any:
    """Only the rows of the buckets' whole span (the index range the database reads)."""
    return query.where(column >= min(b[0] for b in buckets), column < max(b[1] for b in buckets))


def _pairs(row: Any) -> list[tuple[Any, Any]]:
    values = list(row)
    return list(zip(values[0::2], values[1::2], strict=True))


def _lead_time(session: Session, scope: Scope, buckets: list[Bucket]) -> list[Measured]:
    o = ServiceOrder
    days = _seconds(session, o.created_at, o.completed_date) / 86400.0
    columns = []
    for b in buckets:
        inside = _inside(o.completed_date, b)
        columns += [sa.func.avg(sa.case((inside, days))), sa.func.count(sa.case((inside, 1)))]
    query = sa.select(*columns).where(
        o.type == OrderType.NEW_INSTALL, o.status == OrderStatus.COMPLETED
    )
    query = _in_area(_span(query, o.completed_date, buckets), o.customer_id, scope.area)
    row = session.execute(query).one()
    return [(rounded(None if v is None else float(v)), int(n)) for v, n in _pairs(row)]


def _tickets(
    session: Session, scope: Scope, buckets: list[Bucket]
) -> list[tuple[Measured, Measured]]:
    """First-call resolution and resolution time share one pass over the tickets."""
    t = Ticket
    hours = _seconds(session, t.created_at, t.resolved_at) / 3600.0
    columns = []
    for b in buckets:
        inside = _inside(t.resolved_at, b)
        first = sa.and_(inside, t.first_contact_resolution.is_(True))
        columns += [
            sa.func.count(sa.case((inside, 1))),
            sa.func.count(sa.case((first, 1))),
            sa.func.avg(sa.case((inside, hours))),
        ]
    query = _span(sa.select(*columns), t.resolved_at, buckets)
    if scope.team is not None:
        teams = {team.value: team for team in Team}
        query = query.where(t.team == teams[scope.team] if scope.team in teams else sa.false())
    values = list(session.execute(_in_area(query, t.customer_id, scope.area)).one())
    result = []
    for i in range(0, len(values), 3):
        count, on_first, mean = int(values[i]), int(values[i + 1]), values[i + 2]
        resolution = rounded(None if mean is None else float(mean))
        result.append(((percent(on_first, count), count), (resolution, count)))
    return result


def _csat(session: Session, scope: Scope, buckets: list[Bucket]) -> list[Measured]:
    columns = []
    for b in buckets:
        score = sa.case((_inside(Survey.answered_at, b), Survey.score))
        columns += [sa.func.avg(score), sa.func.count(score)]
    query = _span(sa.select(*columns), Survey.answered_at, buckets)
    if scope.team is not None:
        query = query.where(Survey.team == scope.team)
    if scope.area is not None:
        query = query.where(Survey.area == scope.area)
    row = session.execute(query).one()
    return [(rounded(None if v is None else float(v)), int(n)) for v, n in _pairs(row)]


def _churn(session: Session, scope: Scope, buckets: list[Bucket]) -> list[Measured]:
    c = Customer
    columns = []
    for start, end in buckets:
        at_start = sa.and_(
            c.activated_at < start,
            sa.or_(c.disconnected_at.is_(None), c.disconnected_at >= start),
        )
        left = _inside(c.disconnected_at, (start, end))
        columns += [sa.func.count(sa.case((at_start, 1))), sa.func.count(sa.case((left, 1)))]
    query = sa.select(*columns).where(c.activated_at < max(b[1] for b in buckets))
    if scope.area is not None:
        query = query.where(c.premises_id.in_(_zip(scope.area)))
    row = session.execute(query).one()
    return [
        (monthly_churn(int(gone), int(active), start, end), int(active))
        for (active, gone), (start, end) in zip(_pairs(row), buckets, strict=True)
    ]


def scope_of(team: str | None, area: str | None) -> Scope:
    return Scope(parse_team(team) if team else None, parse_area(area) if area else None)


def measure(
    session: Session,
    metrics: list[Metric],
    scope: Scope,
    buckets: list[Bucket],
    definitions: Definitions = DEFAULT_DEFINITIONS,
) -> dict[Metric, list[Measured]]:
    """Each metric in each bucket, with at most one aggregate query per metric (first-call
    resolution and ticket resolution time share theirs). A metric not kept per team has
    no value for a team."""
    out: dict[Metric, list[Measured]] = {}
    wanted = set(metrics)
    if scope.team is not None:
        for metric in [m for m in metrics if not definitions[m].per_team]:
            out[metric] = [(None, 0)] * len(buckets)
            wanted.discard(metric)
    if wanted & {Metric.FIRST_CALL_RESOLUTION, Metric.TICKET_RESOLUTION_TIME}:
        both = _tickets(session, scope, buckets)
        out[Metric.FIRST_CALL_RESOLUTION] = [first for first, _ in both]
        out[Metric.TICKET_RESOLUTION_TIME] = [time for _, time in both]
    for metric, query in (
        (Metric.INSTALL_LEAD_TIME, _lead_time),
        (Metric.CSAT, _csat),
        (Metric.CHURN, _churn),
    ):
        if metric in wanted:
            out[metric] = query(session, scope, buckets)
    return {m: out[m] for m in metrics}
