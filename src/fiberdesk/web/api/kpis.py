"""/api/v1/kpis: the five KPIs, their monthly trend, CSV export and survey results; and
/metrics, the KPIs and the outbox depth for Prometheus.

Every route needs an API token whose role may read reports (``reports:read``: admin,
supervisor, NOC). Prometheus sends it with ``authorization: {credentials: <token>}`` in its
scrape config. Periods are whole UTC days: ``start`` and ``end`` (inclusive) as YYYY-MM-DD,
by default the 30 days up to today.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.kpis import KpiValue, Metric
from fiberdesk.services import kpis, surveys
from fiberdesk.services.kpis import KpiSettings, kpi_settings_from
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, ReadUow, get_app

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"], responses=PROBLEM_RESPONSES)
metrics_router = APIRouter(tags=["metrics"])
App = Annotated[Fiberdesk, Depends(get_app)]
Start = Annotated[date | None, Query(description="first day (UTC), default end - 29 days")]
End = Annotated[date | None, Query(description="last day (UTC), inclusive; default today")]
TeamQ = Annotated[
    str | None, Query(max_length=12, description="CSR, NOC, DISPATCH, BILLING or FIELD")
]
AreaQ = Annotated[str | None, Query(max_length=5, description="a 5-digit ZIP code")]
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def kpi_settings(app: Fiberdesk) -> KpiSettings:
    """The application's KPI settings (``Fiberdesk.kpi_settings`` once bootstrap has it)."""
    built: KpiSettings | None = getattr(app, "kpi_settings", None)
    return built if built is not None else kpi_settings_from(app.settings)


class KpiOut(BaseModel):
    metric: Metric
    label: str
    unit: str
    direction: str
    value: float | None
    target: float
    alert: float
    status: str
    count: int
    basis: str
    start: datetime
    end: datetime
    team: str | None
    area: str | None
    formula: str
    note: str | None


class TrendPointOut(BaseModel):
    month: date
    start: datetime
    end: datetime
    value: float | None
    count: int
    status: str


class TrendOut(BaseModel):
    metric: Metric
    label: str
    unit: str
    target: float
    alert: float
    points: list[TrendPointOut]


class SurveyResultOut(BaseModel):
    group: str
    sent: int
    answered: int
    average: float | None
    #: answers with score 1, 2, 3, 4 and 5
    scores: list[int]


def _out(value: KpiValue) -> KpiOut:
    return KpiOut.model_validate(value.as_dict())


@router.get("", response_model=list[KpiOut], summary="The five KPIs")
def get_kpis(
    actor: ApiActor,
    app: App,
    uow: ReadUow,
    start: Start = None,
    end: End = None,
    team: TeamQ = None,
    area: AreaQ = None,
) -> list[KpiOut]:
    """Install lead time, first-call resolution, CSAT, monthly churn and ticket resolution
    time over the period, for everyone, one team or one area, each with its target, alert
    threshold and status (on_target, warning, alert, no_data)."""
    begin, finish = kpis.day_period(start, end, today=utcnow().date())
    with uow:
        values = kpis.compute(
            uow,
            actor=actor,
            start=begin,
            end=finish,
            team=team,
            area=area,
            definitions=kpi_settings(app).definitions,
        )
    return [_out(v) for v in values]


@router.get("/trend/{metric}", response_model=TrendOut, summary="A KPI month by month")
def get_trend(
    actor: ApiActor,
    app: App,
    uow: ReadUow,
    metric: Annotated[Metric, Path()],
    months: Annotated[int, Query(ge=1, le=kpis.MAX_MONTHS)] = 6,
    team: TeamQ = None,
    area: AreaQ = None,
) -> TrendOut:
    """One point per calendar month, oldest first; the last is the current month to date."""
    d = kpi_settings(app).definitions[metric]
    with uow:
        points = kpis.trend(
            uow,
            actor=actor,
            metric=metric,
            months=months,
            team=team,
            area=area,
            definitions=kpi_settings(app).definitions,
        )
    return TrendOut(
        metric=metric,
        label=d.label,
        unit=d.unit,
        target=d.target,
        alert=d.alert,
        points=[
            TrendPointOut(
                month=p.month,
                start=p.start,
                end=p.end,
                value=p.value,
                count=p.count,
                status=p.status.value,
            )
            for p in points
        ],
    )


@router.get(
    "/export.csv",
    summary="The KPIs as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per KPI"}},
)
def export_csv(
    actor: ApiActor,
    app: App,
    uow: ReadUow,
    start: Start = None,
    end: End = None,
    team: TeamQ = None,
    area: AreaQ = None,
) -> Response:
    begin, finish = kpis.day_period(start, end, today=utcnow().date())
    with uow:
        text = kpis.export_csv(
            uow,
            actor=actor,
            start=begin,
            end=finish,
            team=team,
            area=area,
            definitions=kpi_settings(app).definitions,
        )
    last = finish.date() - timedelta(days=1)
    name = f"kpis-{begin:%Y-%m-%d}-to-{last:%Y-%m-%d}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/surveys", response_model=list[SurveyResultOut], summary="Survey results")
def get_survey_results(
    actor: ApiActor,
    uow: ReadUow,
    start: Start = None,
    end: End = None,
    group_by: Annotated[str, Query(pattern="^(agent|team|area|month)$")] = "agent",
    kind: Annotated[str | None, Query(pattern="^(INSTALLATION|TICKET)$")] = None,
) -> list[SurveyResultOut]:
    """Surveys sent and answered in the period per agent, team, area (ZIP) or month, with
    the mean score (the group's CSAT) and the count of each score."""
    begin, finish = kpis.day_period(start, end, today=utcnow().date())
    with uow:
        found = surveys.results(
            uow, actor=actor, start=begin, end=finish, group_by=group_by, kind=kind
        )
    return [
        SurveyResultOut(
            group=r.group, sent=r.sent, answered=r.answered, average=r.average, scores=[*r.scores]
        )
        for r in found
    ]


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={**PROBLEM_RESPONSES, 200: {"content": {PROMETHEUS_TYPE: {}}}},
)
def metrics(actor: ApiActor, app: App, uow: ReadUow) -> PlainTextResponse:
    """The five KPIs over the last 30 days (their targets, alert thresholds, statuses and
    sample sizes) and the outbox's messages by status, in the Prometheus text format.
    Needs a token whose role may read reports."""
    with uow:
        text = kpis.prometheus_text(uow, actor=actor, settings=kpi_settings(app))
    return PlainTextResponse(text, media_type=PROMETHEUS_TYPE)
