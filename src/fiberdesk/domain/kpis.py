"""The spec's five key metrics: definitions, targets, alert thresholds and their status.

| metric | unit | better | target | alert |
|---|---|---|---|---|
| install lead time | days | lower | < 7 | > 10 |
| first-call resolution | % | higher | > 70 | < 60 |
| customer satisfaction | /5 | higher | > 4.5 | < 4.0 |
| monthly churn | %/month | lower | < 2 | > 3 |
| ticket resolution time | hours | lower | < 24 | > 48 |

The spec's inequalities are strict and read literally: a value exactly at the target has
not met it ("< 7 days": 7.0 is a warning), and a value exactly at the alert threshold has
not crossed it ("> 10 days": 10.0 is a warning, 10.01 an alert).

Monthly churn, for a calendar month: customers disconnected in the month ÷ customers active
at the start of the month * 100. For any other period the same ratio is divided by the
period's length in calendar months (``months_between``), so a quarter's churn is reported
per month and one calendar month gives exactly the formula above.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.status import LabelledStatus
from fiberdesk.domain.tickets import Team

#: values are reported with this many decimals (and compared with thresholds as reported)
PRECISION = 2


class Metric(LabelledStatus):
    INSTALL_LEAD_TIME = ("install_lead_time", "Install lead time")
    FIRST_CALL_RESOLUTION = ("first_call_resolution", "First-call resolution")
    CSAT = ("csat", "Customer satisfaction")
    CHURN = ("churn", "Monthly churn")
    TICKET_RESOLUTION_TIME = ("ticket_resolution_time", "Ticket resolution time")


class Direction(LabelledStatus):
    LOWER = ("lower", "Lower is better")
    HIGHER = ("higher", "Higher is better")


class KpiStatus(LabelledStatus):
    ON_TARGET = ("on_target", "On target", "green", "Meets the target")
    WARNING = ("warning", "Warning", "amber", "Misses the target, has not crossed the alert")
    ALERT = ("alert", "Alert", "red", "Crossed the alert threshold")
    NO_DATA = ("no_data", "No data", "grey", "Nothing to measure in the period or scope")


@dataclass(frozen=True, slots=True)
class KpiDefinition:
    metric: Metric
    unit: str
    direction: Direction
    target: float
    alert: float
    #: how the value is computed, in words (shown in docs, the API and the dashboard)
    formula: str
    #: whether the metric can be computed for one team (tickets and surveys carry a team)
    per_team: bool

    def __post_init__(self) -> None:
        wrong_side = (
            self.alert < self.target
            if self.direction is Direction.LOWER
            else self.alert > self.target
        )
        if wrong_side:
            worse = "above" if self.direction is Direction.LOWER else "below"
            raise InvalidInput(
                f"{self.metric.value}: the alert threshold ({self.alert:g}) must be at or "
                f"{worse} the target ({self.target:g})",
                field=self.metric.value,
            )

    @property
    def label(self) -> str:
        return self.metric.label

    def meets_target(self, value: float) -> bool:
        if self.direction is Direction.LOWER:
            return value < self.target
        return value > self.target

    def breaches(self, value: float) -> bool:
        """Has the value crossed the alert threshold?"""
        if self.direction is Direction.LOWER:
            return value > self.alert
        return value < self.alert

    def status(self, value: float | None) -> KpiStatus:
        if value is None:
            return KpiStatus.NO_DATA
        if self.breaches(value):
            return KpiStatus.ALERT
        if self.meets_target(value):
            return KpiStatus.ON_TARGET
        return KpiStatus.WARNING

    def describe(self, value: float) -> str:
        """``7.5 days``, ``72.25%`` or ``4.6/5``."""
        sep = "" if self.unit[:1] in "/%" else " "
        return f"{plain(value)}{sep}{self.unit}"


def _definitions(*items: KpiDefinition) -> dict[Metric, KpiDefinition]:
    return {d.metric: d for d in items}


L, H = Direction.LOWER, Direction.HIGHER
DEFAULT_DEFINITIONS: Mapping[Metric, KpiDefinition] = _definitions(
    KpiDefinition(
        Metric.INSTALL_LEAD_TIME,
        "days",
        L,
        7,
        10,
        "mean of (activation - order entry) over new-installation orders activated in the "
        "period, in days",
        per_team=False,
    ),
    KpiDefinition(
        Metric.FIRST_CALL_RESOLUTION,
        "%",
        H,
        70,
        60,
        "tickets resolved in the period on the first contact ÷ tickets resolved in the "
        "period * 100",
        per_team=True,
    ),
    KpiDefinition(
        Metric.CSAT,
        "/5",
        H,
        4.5,
        4.0,
        "mean score (1 to 5) of the satisfaction surveys answered in the period",
        per_team=True,
    ),
    KpiDefinition(
        Metric.CHURN,
        "%/month",
        L,
        2,
        3,
        "customers disconnected in the period ÷ customers active at its start * 100, "
        "divided by the period's length in calendar months",
        per_team=False,
    ),
    KpiDefinition(
        Metric.TICKET_RESOLUTION_TIME,
        "hours",
        L,
        24,
        48,
        "mean of (resolution - opening) over tickets resolved in the period, in hours",
        per_team=True,
    ),
)


def with_thresholds(
    definitions: Mapping[Metric, KpiDefinition], metric: Metric, target: float, alert: float
) -> dict[Metric, KpiDefinition]:
    """A copy of ``definitions`` with one metric's target and alert changed (validated)."""
    changed = dict(definitions)
    changed[metric] = replace(definitions[metric], target=float(target), alert=float(alert))
    return changed


def parse_thresholds(
    spec: str, base: Mapping[Metric, KpiDefinition] = DEFAULT_DEFINITIONS
) -> dict[Metric, KpiDefinition]:
    """``"csat=4.6/4.2,churn=1.5/2.5"``: TARGET/ALERT per metric; unnamed metrics keep
    ``base``'s values."""
    definitions = dict(base)
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, pair = part.partition("=")
        target, _, alert = pair.partition("/")
        try:
            metric = Metric(name.strip().lower())
            t, a = float(target), float(alert)
        except ValueError:
            known = ", ".join(m.value for m in Metric)
            raise InvalidInput(
                f"KPI threshold {part!r} is not METRIC=TARGET/ALERT (metrics: {known})"
            ) from None
        definitions = with_thresholds(definitions, metric, t, a)
    return definitions


def rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), PRECISION)


def percent(part: int, whole: int) -> float | None:
    """``part ÷ whole * 100``, or None when there is nothing to divide by."""
    return None if whole <= 0 else rounded(100.0 * part / whole)


def _shift_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def months_between(start: datetime, end: datetime) -> float:
    """The length of [start, end) in calendar months: whole months stepped from ``start``,
    plus the rest as a share of the month that follows (Jan 1 to Feb 1 is exactly 1)."""
    if end <= start:
        return 0.0
    whole = 0
    while _shift_months(start, whole + 1) <= end:
        whole += 1
    anchor, following = _shift_months(start, whole), _shift_months(start, whole + 1)
    return whole + (end - anchor) / (following - anchor)


def monthly_churn(
    disconnected: int, active_at_start: int, start: datetime, end: datetime
) -> float | None:
    """Customers disconnected in [start, end) ÷ customers active at ``start`` * 100, per
    calendar month of the period; None when nobody was active at the start."""
    months = months_between(start, end)
    if active_at_start <= 0 or months <= 0:
        return None
    return rounded(100.0 * disconnected / active_at_start / months)


def month_starts(last: datetime, count: int) -> list[datetime]:
    """The first instants of the ``count`` calendar months ending with ``last``'s month."""
    first = last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return [_shift_months(first, -n) for n in range(count - 1, -1, -1)]


def next_month(moment: datetime) -> datetime:
    return _shift_months(moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0), 1)


#: installation surveys are credited to the field technicians, a team tickets do not have
FIELD_TEAM = "FIELD"
TEAMS = (*(t.value for t in Team), FIELD_TEAM)


def parse_team(text: str) -> str:
    team = text.strip().upper()
    if team not in TEAMS:
        raise InvalidInput(f"unknown team {text!r} (teams: {', '.join(TEAMS)})", field="team")
    return team


def parse_area(text: str) -> str:
    """An area is a 5-digit ZIP code (the premises' ZIP)."""
    area = text.strip()
    if len(area) != 5 or not area.isdigit():
        raise InvalidInput(f"an area is a 5-digit ZIP code, not {text!r}", field="area")
    return area


# --- values and their export formats (CSV, Prometheus text) ---------------------------

#: what each KPI's ``count`` counts
BASIS = {
    Metric.INSTALL_LEAD_TIME: "installations",
    Metric.FIRST_CALL_RESOLUTION: "tickets",
    Metric.CSAT: "answers",
    Metric.CHURN: "customers at start",
    Metric.TICKET_RESOLUTION_TIME: "tickets",
}
#: Prometheus metric names (the unit in the name, as Prometheus asks)
PROMETHEUS_NAMES = {
    Metric.INSTALL_LEAD_TIME: "fiberdesk_install_lead_time_days",
    Metric.FIRST_CALL_RESOLUTION: "fiberdesk_first_call_resolution_percent",
    Metric.CSAT: "fiberdesk_customer_satisfaction_score",
    Metric.CHURN: "fiberdesk_monthly_churn_percent",
    Metric.TICKET_RESOLUTION_TIME: "fiberdesk_ticket_resolution_time_hours",
}


@dataclass(frozen=True, slots=True)
class KpiValue:
    definition: KpiDefinition
    #: None when there is nothing to measure (no rows, or not kept per team)
    value: float | None
    status: KpiStatus
    #: what the value was measured over (see ``basis``)
    count: int
    start: datetime
    end: datetime
    team: str | None
    area: str | None
    note: str | None = None

    @property
    def metric(self) -> Metric:
        return self.definition.metric

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def basis(self) -> str:
        return BASIS[self.metric]

    def as_dict(self) -> dict[str, Any]:
        d = self.definition
        return {
            "metric": d.metric.value,
            "label": d.label,
            "unit": d.unit,
            "direction": d.direction.value,
            "value": self.value,
            "target": d.target,
            "alert": d.alert,
            "status": self.status.value,
            "count": self.count,
            "basis": self.basis,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "team": self.team,
            "area": self.area,
            "formula": d.formula,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class TrendPoint:
    month: date
    start: datetime
    end: datetime
    value: float | None
    count: int
    status: KpiStatus


# fmt: off
CSV_COLUMNS = ("metric", "label", "unit", "value", "target", "alert", "status", "count", "basis",
               "start", "end", "team", "area")
# fmt: on


def to_csv(values: list[KpiValue]) -> str:
    """The KPIs as CSV, one row per metric; an empty value means no data."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for v in values:
        row = v.as_dict()
        for name in ("value", "target", "alert"):
            row[name] = "" if row[name] is None else plain(row[name])
        writer.writerow({k: "" if x is None else x for k, x in row.items()})
    return out.getvalue()


def plain(value: float | int) -> str:
    """``8`` for 8.0, ``62.75`` for 62.75: no exponent, no trailing zero."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _number(value: float | None) -> str:
    return "NaN" if value is None else plain(value)


def _help(name: str, text: str) -> list[str]:
    return [f"# HELP {name} {text}", f"# TYPE {name} gauge"]


STATUS_GAUGE = {KpiStatus.NO_DATA: -1, KpiStatus.ON_TARGET: 0, KpiStatus.WARNING: 1}


def exposition(values: list[KpiValue], outbox: Mapping[str, int], window_days: int) -> str:
    """The KPIs and the outbox depth in the Prometheus text format (version 0.0.4)."""
    lines: list[str] = []
    for v in values:
        name = PROMETHEUS_NAMES[v.metric]
        text = f"{v.label} over the last {window_days} days: {v.definition.formula}."
        lines += [*_help(name, text), f"{name} {_number(v.value)}"]
    for name, text, pick in (
        ("fiberdesk_kpi_target", "Each KPI's target, in the KPI's unit.", "target"),
        ("fiberdesk_kpi_alert_threshold", "Each KPI's alert threshold, in its unit.", "alert"),
        (
            "fiberdesk_kpi_samples",
            f"What each KPI was measured over ({window_days} days).",
            "count",
        ),
        ("fiberdesk_kpi_status", "0 on target, 1 warning, 2 alert, -1 no data.", "status"),
    ):
        lines += _help(name, text)
        for v in values:
            number = {
                "target": v.definition.target,
                "alert": v.definition.alert,
                "count": v.count,
                "status": STATUS_GAUGE.get(v.status, 2),
            }[pick]
            lines.append(f'{name}{{metric="{v.metric.value}"}} {_number(number)}')
    lines += _help("fiberdesk_outbox_messages", "Outbox messages by delivery status.")
    for status, count in sorted(outbox.items()):
        lines.append(f'fiberdesk_outbox_messages{{status="{status}"}} {count}')
    return "\n".join(lines) + "\n"
