"""``fiberdesk dispatch``, ``fiberdesk tech`` and ``fiberdesk inventory``: STEPS 3 to 5."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.cli.orders import JSON, show
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.services import activation, equipment, scheduling
from fiberdesk.services.workorders import technician_day, work_order

dispatch_app = typer.Typer(
    help="Dispatch: windows, bookings, reschedules, calendars.", no_args_is_help=True
)
tech_app = typer.Typer(
    help="Technician steps: work order, ONT, provisioning, activation.", no_args_is_help=True
)
inventory_app = typer.Typer(help="Equipment stock.", no_args_is_help=True)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)", field="day") from None


def _booked(booking: scheduling.Booking, json_out: bool) -> None:
    if json_out:
        print_json(booking)
    else:
        console.print(
            f"booked appointment {booking.appointment_id}: {booking.day} "
            f"{booking.window} ({booking.label}) with {booking.technician_name}"
            + (f" · lead time {booking.lead_time_flag}" if booking.lead_time_flag else "")
        )


@dispatch_app.command("windows")
def windows(
    order_id: int, limit: int = typer.Option(10, min=1, max=100), json_out: bool = JSON
) -> None:
    """The earliest free windows for an order's visit."""
    app = get_app()
    slots = scheduling.find_windows(
        app.uow, actor=cli_actor(), order_id=order_id, settings=app.scheduling, limit=limit
    )
    if json_out:
        print_json(slots)
        return
    table = Table("day", "window", "time", "technicians free")
    for s in slots:
        table.add_row(f"{s.day:%a %Y-%m-%d}", s.window, s.label, str(s.available_technicians))
    console.print(table)


@dispatch_app.command("book")
def book(
    order_id: int,
    day: str = typer.Option(..., "--day"),
    window: str = typer.Option(..., "--window"),
    technician: int | None = typer.Option(None, "--technician"),
    json_out: bool = JSON,
) -> None:
    """Book an order's visit in a window."""
    app = get_app()
    _booked(
        scheduling.book(
            app.uow,
            actor=cli_actor(),
            order_id=order_id,
            day=_day(day),
            window=window,
            technician_id=technician,
            settings=app.scheduling,
        ),
        json_out,
    )


@dispatch_app.command("reschedule")
def reschedule(
    appointment_id: int,
    day: str = typer.Option(..., "--day"),
    window: str = typer.Option(..., "--window"),
    json_out: bool = JSON,
) -> None:
    """Move a visit to another window."""
    app = get_app()
    _booked(
        scheduling.reschedule(
            app.uow,
            actor=cli_actor(),
            appointment_id=appointment_id,
            day=_day(day),
            window=window,
            settings=app.scheduling,
        ),
        json_out,
    )


@dispatch_app.command("cancel")
def cancel(appointment_id: int, reason: str = typer.Option(..., "--reason")) -> None:
    """Cancel a visit; the order goes back to waiting for a window."""
    scheduling.cancel(
        get_app().uow, actor=cli_actor(), appointment_id=appointment_id, reason=reason
    )
    console.print(f"appointment {appointment_id} cancelled")


@dispatch_app.command("day")
def day_of(
    technician: int = typer.Option(..., "--technician"),
    day: str = typer.Option(..., "--date"),
    json_out: bool = JSON,
) -> None:
    """A technician's visits on a day."""
    with get_app().uow(write=False) as uow:
        visits = technician_day(uow, actor=cli_actor(), day=_day(day), technician_id=technician)
    if json_out:
        print_json(visits)
        return
    table = Table("window", "order", "kind", "status", "customer", "address")
    for v in visits:
        table.add_row(
            f"{v.window} {v.window_start:%H:%M}",
            str(v.order_id),
            v.order_type,
            v.status,
            v.customer_name,
            v.service_address,
        )
    console.print(table)


@tech_app.command("work-order")
def show_work_order(order_id: int, json_out: bool = JSON) -> None:
    """Everything needed on site: address, access, NAP and port, profile, ONT."""
    with get_app().uow(write=False) as uow:
        wo = work_order(uow, actor=cli_actor(), order_id=order_id)
    if json_out:
        print_json(wo)
        return
    console.print(
        f"[bold]{wo.order_type}[/] order {wo.order_id} · {wo.day} {wo.window} · {wo.technician}"
    )
    console.print(f"{wo.customer_name} ({wo.account_number}) {wo.customer_phone or ''}")
    console.print(wo.directions)
    for note in wo.access_notes:
        console.print(f"[yellow]access:[/] {note}")
    console.print(
        f"NAP {wo.nap_code} port {wo.nap_port} · plan {wo.plan} · profile "
        f"{wo.profile} · ONT {wo.ont_serial or '(not assigned)'}"
        + (f" · static IP {wo.static_ip}" if wo.static_ip else "")
    )


@tech_app.command("assign-ont")
def assign_ont(
    order_id: int,
    serial: str | None = typer.Option(None, "--serial"),
    mac: str | None = typer.Option(None, "--mac"),
    json_out: bool = JSON,
) -> None:
    """Assign an ONT from stock (a given serial, or the next one)."""
    with get_app().uow() as uow:
        show(
            equipment.assign_ont(uow, actor=cli_actor(), order_id=order_id, serial=serial, mac=mac),
            json_out,
        )


@tech_app.command("provision")
def provision(order_id: int, json_out: bool = JSON) -> None:
    """Register the order's ONT on the OLT with the plan's profile."""
    app = get_app()
    show(
        equipment.provision(app.uow, actor=cli_actor(), order_id=order_id, network=app.network),
        json_out,
    )


@tech_app.command("en-route")
def en_route(order_id: int, eta: int = typer.Option(..., "--eta", help="minutes")) -> None:
    """Tell the customer the technician is on the way."""
    app = get_app()
    activation.en_route(
        app.uow,
        actor=cli_actor(),
        order_id=order_id,
        eta_minutes=eta,
        company_name=app.settings.company_name,
        support_phone=app.settings.support_phone,
    )
    console.print("customer told: technician on the way")


@tech_app.command("arrive")
def arrive(order_id: int, json_out: bool = JSON) -> None:
    """On site: the customer is INSTALLING."""
    show(activation.arrive(get_app().uow, actor=cli_actor(), order_id=order_id), json_out)


@tech_app.command("activate")
def activate(
    order_id: int,
    down: str = typer.Option(..., "--down", help="wired speed test download, Mbps"),
    up: str = typer.Option(..., "--up", help="wired speed test upload, Mbps"),
    confirm_installed: bool = typer.Option(
        False, "--confirm-installed", help="drop, ONT and router are in place"
    ),
    wifi: bool = typer.Option(False, "--wifi", help="the test was over WiFi (refused)"),
    json_out: bool = JSON,
) -> None:
    """Check the ONT and the speed test, then make the customer ACTIVE."""
    try:
        test = activation.SpeedTest(Decimal(down), Decimal(up), not wifi)
    except InvalidOperation:
        raise InvalidInput("speeds are numbers of Mbps") from None
    app = get_app()
    show(
        activation.activate(
            app.uow,
            actor=cli_actor(),
            order_id=order_id,
            network=app.network,
            speed_test=test,
            physical_confirmed=confirm_installed,
            min_share=Decimal(str(app.settings.speed_test_min_share)),
            company_name=app.settings.company_name,
            support_phone=app.settings.support_phone,
            surveys=app.kpi_settings,
        ),
        json_out,
    )


@tech_app.command("survey")
def survey(
    order_id: int,
    passed: bool = typer.Option(..., "--pass/--fail"),
    notes: str = typer.Option(..., "--notes"),
) -> None:
    """Close a site survey (a fail cancels the installation)."""
    scheduling.complete_survey(
        get_app().uow, actor=cli_actor(), order_id=order_id, passed=passed, notes=notes
    )
    console.print(f"survey {order_id}: {'passed' if passed else 'failed'}")


@inventory_app.command("receive")
def receive(
    file: Path = typer.Argument(..., help="CSV with serial,mac[,vendor,model]"),
    json_out: bool = JSON,
) -> None:
    """Receive a delivery of ONTs; one bad line refuses the whole delivery."""
    if not file.exists():
        raise InvalidInput(f"no such file: {file}")
    with file.open(newline="", encoding="utf-8") as f:
        items = [
            equipment.StockItem(r["serial"], r.get("mac") or None, r.get("vendor"), r.get("model"))
            for r in csv.DictReader(f)
        ]
    with get_app().uow() as uow:
        count = equipment.receive_stock(uow, actor=cli_actor(), items=items)
    if json_out:
        print_json({"received": count})
    else:
        console.print(f"received {count} units")
