"""``fiberdesk noc``: faults in the simulated OLT, alarm polling, outages, maintenance."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import typer
from rich.table import Table

from fiberdesk.adapters.network.base import NetworkError
from fiberdesk.adapters.network.simulated import FaultKind, SimulatedOlt
from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.outages import OutageStatus, Scope
from fiberdesk.services import alarms, outages

noc_app = typer.Typer(
    help="The NOC: simulated faults, alarm polling, outages and maintenance windows.",
    no_args_is_help=True,
)
fault_app = typer.Typer(
    help="Faults in the simulated OLT, for drills and demos.", no_args_is_help=True
)
outage_app = typer.Typer(help="One outage: show, confirm, resolve.", no_args_is_help=True)
maintenance_app = typer.Typer(help="Planned maintenance windows.", no_args_is_help=True)
noc_app.add_typer(fault_app, name="fault")
noc_app.add_typer(outage_app, name="outage")
noc_app.add_typer(maintenance_app, name="maintenance")
JSON = typer.Option(False, "--json", help="print JSON")


def _simulator() -> SimulatedOlt:
    network = get_app().network
    if not isinstance(network, SimulatedOlt):
        raise Refused(
            "faults can only be injected into the simulated OLT "
            "(FIBERDESK_NETWORK_ADAPTER=simulated); this installation talks to a real network"
        )
    return network


def _when(text: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a time (YYYY-MM-DDTHH:MM[+HH:MM])", field=name
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@fault_app.command("inject")
def inject(
    kind: FaultKind = typer.Option(..., "--kind", help="FIBER_CUT, POWER_LOSS or DEGRADED_DROP"),
    splitter: int | None = typer.Option(None, "--splitter", help="splitter id (FIBER_CUT)"),
    pon_port: int | None = typer.Option(None, "--pon-port", help="PON port id (FIBER_CUT)"),
    serial: str | None = typer.Option(None, "--serial", help="ONT serial (the other kinds)"),
    loss_db: float | None = typer.Option(None, "--loss-db", help="extra dB of a DEGRADED_DROP"),
    json_out: bool = JSON,
) -> None:
    """Start a fault in the simulated OLT now; `noc poll` then picks up its alarms."""
    try:
        fault_id = _simulator().inject_fault(
            kind,
            splitter_id=splitter,
            pon_port_id=pon_port,
            serial=serial,
            extra_loss_db=Decimal(str(loss_db)) if loss_db is not None else None,
        )
    except NetworkError as exc:
        raise Refused(exc.reason) from None
    except ValueError as exc:
        raise InvalidInput(str(exc), field="kind") from None
    if json_out:
        print_json({"id": fault_id, "kind": kind.value})
    else:
        console.print(f"fault [bold]{fault_id}[/] started: {kind.value}")


@fault_app.command("clear")
def clear(fault_id: int) -> None:
    """End a fault in the simulated OLT (the repair)."""
    try:
        _simulator().clear_fault(fault_id)
    except NetworkError as exc:
        raise Refused(exc.reason) from None
    console.print(f"fault {fault_id} cleared")


@fault_app.command("list")
def list_faults(json_out: bool = JSON) -> None:
    """The simulated OLT's active faults."""
    faults = _simulator().active_faults()
    if json_out:
        print_json(faults)
        return
    table = Table("id", "kind", "target", "extra loss", "started")
    for f in faults:
        loss = f"{f.extra_loss_db} dB" if f.extra_loss_db is not None else ""
        table.add_row(str(f.id), f.kind.value, f"{f.target_type} {f.target}", loss,
                      f"{f.started_at:%Y-%m-%d %H:%M:%S}")  # fmt: skip
    console.print(table)


@noc_app.command("poll")
def poll(json_out: bool = JSON) -> None:
    """Pull the network's alarms, store the new ones and correlate them into outages."""
    app = get_app()
    result = outages.poll(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        settings=outages.settings_from(app.settings),
    )
    if json_out:
        print_json(result)
        return
    i, c = result.ingest, result.correlation
    console.print(
        f"alarms: {i.received} received, {i.stored} new, {i.duplicates} known, "
        f"{i.unmatched} unmatched, {i.suppressed} suppressed, {i.cleared} cleared"
    )
    opened = f" (#{', #'.join(map(str, c.opened))})" if c.opened else ""
    resolved = f" (#{', #'.join(map(str, c.resolved))})" if c.resolved else ""
    console.print(
        f"outages: {len(c.opened)} opened{opened}, {len(c.resolved)} resolved{resolved}; "
        f"{c.attached} alarms joined open outages; {c.notified} customers notified, "
        f"{c.tickets_linked} tickets linked"
    )


@noc_app.command("alarms")
def list_alarms(
    unmatched: bool = typer.Option(False, "--unmatched", help="only alarms that matched nothing"),
    limit: int = typer.Option(50, min=1, max=1000),
    json_out: bool = JSON,
) -> None:
    """The latest alarms."""
    with get_app().uow(write=False) as uow:
        views = alarms.list_alarms(
            uow, actor=cli_actor(), unmatched=True if unmatched else None, limit=limit
        )
    if json_out:
        print_json(views)
        return
    table = Table("id", "raised", "kind", "serial", "customer", "outage", "note")
    for a in views:
        note = a.unmatched_reason or (f"suppressed by {a.suppressed_by}" if a.suppressed_by else "")
        table.add_row(str(a.id), f"{a.raised_at:%m-%d %H:%M:%S}", a.kind, a.ont_serial or "",
                      str(a.customer_id or ""), str(a.outage_id or ""), note)  # fmt: skip
    console.print(table)


@noc_app.command("outages")
def list_outages(
    status: OutageStatus | None = typer.Option(None, "--status"),
    zip_code: str | None = typer.Option(None, "--zip", help="only outages touching this ZIP"),
    json_out: bool = JSON,
) -> None:
    """Outages, newest first."""
    with get_app().uow(write=False) as uow:
        views = outages.list_outages(uow, actor=cli_actor(), status=status, zip_code=zip_code)
    if json_out:
        print_json(views)
        return
    table = Table("id", "status", "kind", "where", "area", "customers", "detected", "estimate")
    for o in views:
        eta = f"{o.estimated_resolution:%m-%d %H:%M}" if o.estimated_resolution else ""
        table.add_row(str(o.id), f"[{o.status.colour}]{o.status.label}[/]", o.kind.label,
                      o.scope_label, o.area, str(o.affected_customers),
                      f"{o.detected_at:%m-%d %H:%M}", eta)  # fmt: skip
    console.print(table)


def _show(view: outages.OutageView) -> None:
    eta = f"{view.estimated_resolution:%Y-%m-%d %H:%M} UTC" if view.estimated_resolution else "-"
    console.print(
        f"outage [bold]{view.id}[/] {view.kind.label} at {view.scope.label} {view.scope_label} · "
        f"[{view.status.colour}]{view.status.label}[/]\n"
        f"area: {view.area}\ndetected: {view.detected_at:%Y-%m-%d %H:%M} UTC · estimate: {eta}"
        f" · {view.affected_customers} customers, {view.affected_onts} ONTs"
        + (f"\ncause: {view.cause}" if view.cause else "")
    )


def _out(view: outages.OutageView, json_out: bool) -> None:
    if json_out:
        print_json(view)
    else:
        _show(view)


@outage_app.command("show")
def show(outage_id: int, json_out: bool = JSON) -> None:
    """An outage with its affected customers and linked tickets."""
    with get_app().uow(write=False) as uow:
        detail = outages.outage_detail(uow, actor=cli_actor(), outage_id=outage_id)
    if json_out:
        print_json(detail)
        return
    _show(detail.outage)
    table = Table("account", "name", "address", "notified", "restored")
    for c in detail.customers:
        table.add_row(c.account_number, c.name, c.service_address,
                      f"{c.notified_at:%m-%d %H:%M}" if c.notified_at else "",
                      f"{c.restored_at:%m-%d %H:%M}" if c.restored_at else "")  # fmt: skip
    console.print(table)
    console.print(f"{detail.alarms} alarms · tickets: {detail.tickets or 'none'}")


@outage_app.command("confirm")
def confirm(
    outage_id: int,
    cause: str = typer.Option(..., "--cause"),
    eta: str | None = typer.Option(None, "--eta", help="estimated resolution, ISO time (UTC)"),
    json_out: bool = JSON,
) -> None:
    """Confirm an outage with its cause and, if known, a new estimate."""
    with get_app().uow() as uow:
        view = outages.confirm(
            uow, actor=cli_actor(), outage_id=outage_id, cause=cause,
            eta=_when(eta, "eta") if eta else None,
        )  # fmt: skip
    _out(view, json_out)


@outage_app.command("resolve")
def resolve(outage_id: int, note: str = typer.Option(..., "--note"), json_out: bool = JSON) -> None:
    """Service restored: the affected customers get a restoration notice."""
    app = get_app()
    with app.uow() as uow:
        view = outages.resolve_outage(
            uow, actor=cli_actor(), outage_id=outage_id, note=note,
            settings=outages.settings_from(app.settings),
        )  # fmt: skip
    _out(view, json_out)


@maintenance_app.command("add")
def add_maintenance(
    title: str = typer.Option(..., "--title"),
    scope: Scope = typer.Option(..., "--scope", help="NAP, SPLITTER, PON_PORT, OLT or ONT"),
    scope_id: int = typer.Option(..., "--id", help="the element's id (for an ONT: equipment id)"),
    starts: str = typer.Option(..., "--starts", help="ISO time; UTC unless it has an offset"),
    ends: str = typer.Option(..., "--ends", help="ISO time; UTC unless it has an offset"),
    description: str = typer.Option("", "--description"),
    json_out: bool = JSON,
) -> None:
    """Plan a window: its alarms are suppressed and the customers under it are told now."""
    app = get_app()
    with app.uow() as uow:
        view = outages.create_maintenance(
            uow, actor=cli_actor(), title=title, scope=scope, scope_id=scope_id,
            starts_at=_when(starts, "starts"), ends_at=_when(ends, "ends"),
            description=description, settings=outages.settings_from(app.settings),
        )  # fmt: skip
    if json_out:
        print_json(view)
    else:
        console.print(
            f"maintenance window [bold]{view.id}[/] on {view.scope_label}: "
            f"{view.starts_at:%Y-%m-%d %H:%M} to {view.ends_at:%Y-%m-%d %H:%M} UTC, "
            f"notices queued for the {view.customers} active customers under it"
        )


@maintenance_app.command("list")
def list_maintenance(
    include_past: bool = typer.Option(False, "--all", help="past windows too"),
    json_out: bool = JSON,
) -> None:
    """Current and coming maintenance windows."""
    with get_app().uow(write=False) as uow:
        views = outages.list_maintenance(uow, actor=cli_actor(), include_past=include_past)
    if json_out:
        print_json(views)
        return
    table = Table("id", "title", "where", "starts", "ends", "customers")
    for w in views:
        table.add_row(str(w.id), w.title, w.scope_label, f"{w.starts_at:%Y-%m-%d %H:%M}",
                      f"{w.ends_at:%Y-%m-%d %H:%M}", str(w.customers))  # fmt: skip
    console.print(table)
