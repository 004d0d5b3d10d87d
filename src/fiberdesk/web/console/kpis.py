"""The KPI dashboard (/console/kpis): a card per KPI with its value, target, alert
threshold and status colour, and its six-month trend drawn as SVG by the server (no
JavaScript); the same figures as CSV."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.kpis import TEAMS, KpiDefinition, Metric, TrendPoint, to_csv
from fiberdesk.domain.users import Actor
from fiberdesk.services import kpis
from fiberdesk.web.api.kpis import kpi_settings
from fiberdesk.web.charts import line_chart
from fiberdesk.web.console.auth import KpisUser
from fiberdesk.web.console.pages import page
from fiberdesk.web.deps import get_app

router = APIRouter(tags=["console"], include_in_schema=False)
TREND_MONTHS = 6
#: the top of the chart's scale where the unit has one
CEILINGS = {"/5": 5.0, "%": 100.0}


def _bound(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} is not a date (YYYY-MM-DD)", field=name) from None


@dataclass(frozen=True, slots=True)
class KpiFilters:
    """The period and scope asked for, as typed ('' when not given)."""

    start: str
    end: str
    team: str
    area: str

    def period(self, today: date) -> tuple[datetime, datetime]:
        """[start, end) of the period (``kpis.day_period``: the last 30 days by default)."""
        return kpis.day_period(_bound(self.start, "start"), _bound(self.end, "end"), today=today)

    def scope(self, app: Fiberdesk) -> dict[str, Any]:
        """The team, area and definitions every KPI query takes."""
        return {
            "team": self.team or None,
            "area": self.area or None,
            "definitions": kpi_settings(app).definitions,
        }


def kpi_filters(
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    team: Annotated[str | None, Query(max_length=12)] = None,
    area: Annotated[str | None, Query(max_length=5)] = None,
) -> KpiFilters:
    return KpiFilters(start or "", end or "", team or "", area or "")


Filters = Annotated[KpiFilters, Depends(kpi_filters)]


def _chart(metric: Metric, points: list[TrendPoint], d: KpiDefinition) -> Markup:
    labels = [(f"{p.month:%b}" if p.month.month != 1 else f"{p.month:%b %y}") for p in points]
    return line_chart(
        [(label, p.value) for label, p in zip(labels, points, strict=True)],
        title=f"{d.label}, last {len(points)} months",
        unit=d.unit,
        target=d.target,
        alert=d.alert,
        chart_id=f"trend-{metric.value}",
        ceiling=CEILINGS.get(d.unit),
    )


@router.get("/console/kpis", response_class=HTMLResponse)
def dashboard(
    request: Request,
    app: Annotated[Fiberdesk, Depends(get_app)],
    user: KpisUser,
    filters: Filters,
) -> HTMLResponse:
    actor: Actor = user.actor
    today = utcnow().date()
    form = asdict(filters)
    cards: list[dict[str, Any]] = []
    error = None
    try:
        begin, finish = filters.period(today)
        now = min(finish, utcnow())
        scope = filters.scope(app)
        with app.uow(write=False) as uow:
            values = kpis.compute(uow, actor=actor, start=begin, end=finish, **scope)
            by_metric = kpis.trends(uow, actor=actor, months=TREND_MONTHS, now=now, **scope)
        cards = [
            {
                "kpi": v,
                "d": v.definition,
                "chart": _chart(v.metric, by_metric[v.metric], v.definition),
            }
            for v in values
        ]
    except InvalidInput as exc:
        error, begin, finish = exc.reason, None, None
    return page(
        request,
        user,
        "console/kpis.html",
        area="kpis",
        status_code=422 if error else 200,
        cards=cards,
        error=error,
        form=form,
        teams=TEAMS,
        begin=begin,
        last_day=(finish - timedelta(days=1)) if finish else None,
        months=TREND_MONTHS,
        filters=urlencode({k: v for k, v in form.items() if v}),
    )


@router.get("/console/kpis/export.csv")
def dashboard_csv(
    app: Annotated[Fiberdesk, Depends(get_app)],
    user: KpisUser,
    filters: Filters,
) -> Response:
    """The dashboard's KPIs as CSV (the same columns as /api/v1/kpis/export.csv)."""
    actor: Actor = user.actor
    begin, finish = filters.period(utcnow().date())
    with app.uow(write=False) as uow:
        values = kpis.compute(uow, actor=actor, start=begin, end=finish, **filters.scope(app))
    name = f"kpis-{begin:%Y-%m-%d}-to-{finish - timedelta(days=1):%Y-%m-%d}.csv"
    return Response(
        to_csv(values),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
