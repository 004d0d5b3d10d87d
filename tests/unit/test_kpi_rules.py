"""The KPI definitions: the spec's targets and alerts, status at the boundaries, the churn
formula, thresholds from settings, CSV and Prometheus formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.kpis import (
    DEFAULT_DEFINITIONS,
    Direction,
    KpiStatus,
    KpiValue,
    Metric,
    exposition,
    month_starts,
    monthly_churn,
    months_between,
    parse_area,
    parse_team,
    parse_thresholds,
    percent,
    plain,
    to_csv,
)

M, S = Metric, KpiStatus
DOCS = Path(__file__).resolve().parents[2] / "docs" / "kpis.md"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_the_defaults_are_the_spec_table() -> None:
    table = {m: (d.unit, d.direction, d.target, d.alert) for m, d in DEFAULT_DEFINITIONS.items()}
    assert table == {
        M.INSTALL_LEAD_TIME: ("days", Direction.LOWER, 7, 10),
        M.FIRST_CALL_RESOLUTION: ("%", Direction.HIGHER, 70, 60),
        M.CSAT: ("/5", Direction.HIGHER, 4.5, 4.0),
        M.CHURN: ("%/month", Direction.LOWER, 2, 3),
        M.TICKET_RESOLUTION_TIME: ("hours", Direction.LOWER, 24, 48),
    }


ON, W, AL = S.ON_TARGET, S.WARNING, S.ALERT


@pytest.mark.parametrize(
    ("metric", "cases"),
    [
        (M.INSTALL_LEAD_TIME, [(6.99, ON), (7, W), (10, W), (10.01, AL)]),
        (M.FIRST_CALL_RESOLUTION, [(70.01, ON), (70, W), (60, W), (59.99, AL)]),
        (M.CSAT, [(4.51, ON), (4.5, W), (4.0, W), (3.99, AL)]),
        (M.CHURN, [(0, ON), (2, W), (3, W), (3.01, AL)]),
        (M.TICKET_RESOLUTION_TIME, [(23.99, ON), (24, W), (48, W), (48.01, AL)]),
    ],
)
def test_status_reads_the_spec_inequalities_literally(
    metric: Metric, cases: list[tuple[float, KpiStatus]]
) -> None:
    d = DEFAULT_DEFINITIONS[metric]
    assert [d.status(value) for value, _ in cases] == [status for _, status in cases]
    assert d.status(None) is S.NO_DATA


SEVERITY = {S.ON_TARGET: 0, S.WARNING: 1, S.ALERT: 2}


@given(st.sampled_from(list(Metric)), st.floats(0, 1000), st.floats(0, 1000))
def test_a_worse_value_never_has_a_better_status(metric: Metric, a: float, b: float) -> None:
    d = DEFAULT_DEFINITIONS[metric]
    better, worse = sorted((a, b), reverse=d.direction is Direction.HIGHER)
    assert SEVERITY[d.status(better)] <= SEVERITY[d.status(worse)]


def test_thresholds_from_settings() -> None:
    changed = parse_thresholds(" CSAT=4.6/4.2 , churn=1.5/2.5 ")
    assert (changed[M.CSAT].target, changed[M.CSAT].alert) == (4.6, 4.2)
    assert (changed[M.CHURN].target, changed[M.CHURN].alert) == (1.5, 2.5)
    assert changed[M.INSTALL_LEAD_TIME] == DEFAULT_DEFINITIONS[M.INSTALL_LEAD_TIME]
    assert parse_thresholds("") == dict(DEFAULT_DEFINITIONS)
    for bad in ("speed=1/2", "csat=high/low", "csat=4.5", "churn=2"):
        with pytest.raises(InvalidInput, match="METRIC=TARGET/ALERT"):
            parse_thresholds(bad)
    with pytest.raises(InvalidInput, match="at or below the target"):
        parse_thresholds("csat=4.0/4.5")
    with pytest.raises(InvalidInput, match="at or above the target"):
        parse_thresholds("ticket_resolution_time=48/24")


def test_months_between_counts_calendar_months() -> None:
    assert months_between(utc(2026, 1, 1), utc(2026, 2, 1)) == 1
    assert months_between(utc(2026, 2, 1), utc(2026, 3, 1)) == 1  # 28 days are a month too
    assert months_between(utc(2026, 1, 1), utc(2026, 7, 1)) == 6
    assert months_between(utc(2026, 2, 1), utc(2026, 2, 15)) == 0.5
    assert months_between(utc(2026, 1, 15), utc(2026, 2, 15)) == 1
    assert months_between(utc(2026, 3, 1), utc(2026, 3, 1)) == 0


def test_monthly_churn_formula() -> None:
    # customers disconnected in the month / customers active at its start * 100
    assert monthly_churn(2, 20, utc(2026, 1, 1), utc(2026, 2, 1)) == 10.0
    assert monthly_churn(3, 150, utc(2026, 2, 1), utc(2026, 3, 1)) == 2.0
    assert monthly_churn(2, 20, utc(2026, 1, 1), utc(2026, 3, 1)) == 5.0  # per month
    assert monthly_churn(1, 3, utc(2026, 1, 1), utc(2026, 2, 1)) == 33.33
    assert monthly_churn(0, 0, utc(2026, 1, 1), utc(2026, 2, 1)) is None
    assert monthly_churn(1, 10, utc(2026, 1, 1), utc(2026, 1, 1)) is None


def test_percent_and_month_starts() -> None:
    assert percent(13, 20) == 65.0 and percent(2, 3) == 66.67 and percent(0, 0) is None
    starts = month_starts(utc(2026, 2, 17, 13, 5), 4)
    assert [s.date().isoformat() for s in starts] == [
        "2025-11-01",
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
    ]
    assert all(s.tzinfo is UTC and s.hour == 0 for s in starts)


def test_teams_and_areas() -> None:
    assert parse_team(" csr ") == "CSR" and parse_team("field") == "FIELD"
    assert parse_area(" 21204 ") == "21204"
    with pytest.raises(InvalidInput, match="unknown team"):
        parse_team("sales")
    for bad in ("2120", "212045", "ABCDE"):
        with pytest.raises(InvalidInput, match="5-digit"):
            parse_area(bad)


def _value(metric: Metric, value: float | None, count: int) -> KpiValue:
    d = DEFAULT_DEFINITIONS[metric]
    return KpiValue(
        d, value, d.status(value), count, utc(2026, 1, 1), utc(2026, 2, 1), None, "21204"
    )


def test_csv_and_prometheus_formats() -> None:
    values = [_value(M.INSTALL_LEAD_TIME, 7.55, 10), _value(M.CSAT, None, 0)]
    assert to_csv(values).splitlines() == [
        "metric,label,unit,value,target,alert,status,count,basis,start,end,team,area",
        "install_lead_time,Install lead time,days,7.55,7,10,warning,10,installations,"
        "2026-01-01T00:00:00+00:00,2026-02-01T00:00:00+00:00,,21204",
        "csat,Customer satisfaction,/5,,4.5,4,no_data,0,answers,"
        "2026-01-01T00:00:00+00:00,2026-02-01T00:00:00+00:00,,21204",
    ]
    text = exposition(values, {"pending": 3, "sent": 1_250_000, "failed": 0}, 30)
    assert text.endswith("\n")
    lines = text.splitlines()
    assert "# TYPE fiberdesk_install_lead_time_days gauge" in lines
    assert "fiberdesk_install_lead_time_days 7.55" in lines
    assert "fiberdesk_customer_satisfaction_score NaN" in lines
    assert 'fiberdesk_kpi_status{metric="install_lead_time"} 1' in lines
    assert 'fiberdesk_kpi_status{metric="csat"} -1' in lines
    assert 'fiberdesk_kpi_samples{metric="install_lead_time"} 10' in lines
    assert 'fiberdesk_outbox_messages{status="sent"} 1250000' in lines
    helps = [line for line in lines if line.startswith("# HELP")]
    assert len(helps) == len({h.split()[2] for h in helps})  # one HELP per metric name
    assert plain(8.0) == "8" and plain(62.75) == "62.75" and plain(1_250_000) == "1250000"
    assert DEFAULT_DEFINITIONS[M.CSAT].describe(4.07) == "4.07/5"
    assert DEFAULT_DEFINITIONS[M.CHURN].describe(3.5) == "3.5%/month"


@pytest.mark.parametrize("enum", [Metric, KpiStatus, Direction])
def test_every_code_is_documented(enum: type[Metric] | type[KpiStatus] | type[Direction]) -> None:
    text = DOCS.read_text()
    assert [m.value for m in enum if f"`{m.value}`" not in text] == []
