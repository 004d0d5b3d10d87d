"""``fiberdesk kpi``: the five KPIs over a period, with their targets, alerts and status."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import typer
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.kpis import Direction, KpiStatus, to_csv
from fiberdesk.services import kpis
from fiberdesk.services.kpis import KpiSettings, kpi_settings_from

#: Rich styles for each status
STYLE = {
    KpiStatus.ON_TARGET: "bold green",
    KpiStatus.WARNING: "bold yellow",
    KpiStatus.ALERT: "bold red",
    KpiStatus.NO_DATA: "dim",
}


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--{name} {text!r} is not a date (YYYY-MM-DD)", field=name) from None


def kpi(
    start: str | None = typer.Option(None, "--start", help="first day, YYYY-MM-DD (UTC)"),
    end: str | None = typer.Option(
        None, "--end", help="last day, inclusive (default today; the period defaults to 30 days)"
    ),
    team: str | None = typer.Option(
        None, "--team", help="CSR, NOC, DISPATCH, BILLING or FIELD (installations)"
    ),
    area: str | None = typer.Option(None, "--area", help="a 5-digit ZIP code"),
    csv: Path | None = typer.Option(
        None, "--csv", help="also write the KPIs to this CSV file", dir_okay=False
    ),
    json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """The spec's five KPIs: install lead time, first-call resolution, CSAT, monthly churn
    and ticket resolution time, each with its target, alert threshold and status."""
    app = get_app()
    built: KpiSettings | None = getattr(app, "kpi_settings", None)
    settings = built if built is not None else kpi_settings_from(app.settings)
    begin, finish = kpis.day_period(_day(start, "start"), _day(end, "end"), today=utcnow().date())
    with app.uow(write=False) as uow:
        values = kpis.compute(
            uow,
            actor=cli_actor(),
            start=begin,
            end=finish,
            team=team,
            area=area,
            definitions=settings.definitions,
        )
    if csv is not None:
        csv.write_text(to_csv(values), encoding="utf-8")
    if json:
        print_json([v.as_dict() for v in values])
        return
    last = finish.date() - timedelta(days=1)
    scope = "".join(
        [f", team {values[0].team}" if team else "", f", area {values[0].area}" if area else ""]
    )
    table = Table(title=f"KPIs {begin:%Y-%m-%d} to {last:%Y-%m-%d}{scope}", title_justify="left")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_column("alert", justify="right")
    table.add_column("status")
    table.add_column("over", justify="right")
    for v in values:
        d = v.definition
        better, worse = ("<", ">") if d.direction is Direction.LOWER else (">", "<")
        style = STYLE[v.status]
        table.add_row(
            d.label,
            "—" if v.value is None else d.describe(v.value),
            f"{better} {d.describe(d.target)}",
            f"{worse} {d.describe(d.alert)}",
            f"[{style}]{v.status.label}[/]",
            v.note or f"{v.count:,} {v.basis}",
        )
    console.print(table)
    if csv is not None:
        console.print(f"written to {csv}")
