"""``fiberdesk change``, ``relocate``, ``suspend``, ``resume`` and ``disconnect``."""

from __future__ import annotations

import typer

from fiberdesk.cli.billing import _day
from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.cli.orders import JSON, show
from fiberdesk.services import changes, disconnect, holds, relocation

change_app = typer.Typer(
    help="Tier changes: preview, then apply with the preview's token.", no_args_is_help=True
)
relocate_app = typer.Typer(help="Relocation to a new address.", no_args_is_help=True)


def _preview_text(p: changes.ChangePreview) -> None:
    console.print(p.summary)
    console.print(f"confirm with: --confirm {p.token}  (valid until {p.expires_at:%H:%M} UTC)")


@change_app.command("preview")
def preview(
    customer_id: int, plan: str = typer.Option(..., "--plan"), json_out: bool = JSON
) -> None:
    """What a tier change would do and cost, and its confirmation token."""
    app = get_app()
    p = changes.preview_change(
        app.uow,
        actor=cli_actor(),
        customer_id=customer_id,
        plan_code=plan,
        rules=app.rules,
        secret_key=app.settings.secret_key,
    )
    if json_out:
        print_json(p)
    else:
        _preview_text(p)


@change_app.command("apply")
def apply(
    customer_id: int,
    plan: str = typer.Option(..., "--plan"),
    confirm: str = typer.Option(..., "--confirm", help="the preview's token"),
    json_out: bool = JSON,
) -> None:
    """Carry out a previewed tier change."""
    app = get_app()
    p = changes.change_tier(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        customer_id=customer_id,
        plan_code=plan,
        confirm=confirm,
        rules=app.rules,
        secret_key=app.settings.secret_key,
    )
    if json_out:
        print_json(p)
    else:
        console.print(f"done: {p.summary}")


@change_app.command("apply-due")
def apply_due(on: str | None = typer.Option(None, "--on")) -> None:
    """Apply downgrades whose date has come."""
    app = get_app()
    n = changes.apply_due_changes(app.uow, actor=cli_actor(), network=app.network, on=_day(on))
    console.print(f"{n} changes applied")


@relocate_app.command("start")
def start(
    customer_id: int,
    premises: int = typer.Option(..., "--premises"),
    plan: str | None = typer.Option(None, "--plan"),
    json_out: bool = JSON,
) -> None:
    """Qualify the new address and hold a port; book the visit with `dispatch book`."""
    app = get_app()
    show(
        relocation.start_relocation(
            app.uow,
            actor=cli_actor(),
            customer_id=customer_id,
            new_premises_id=premises,
            rules=app.rules,
            plan_code=plan,
        ),
        json_out,
    )


@relocate_app.command("complete")
def complete(
    order_id: int,
    new_serial: str | None = typer.Option(None, "--new-serial"),
    json_out: bool = JSON,
) -> None:
    """The new address is connected: move the ONT and switch the account over."""
    app = get_app()
    result = relocation.complete_relocation(
        app.uow, actor=cli_actor(), network=app.network, order_id=order_id, new_serial=new_serial
    )
    show(result.order, json_out)


def suspend(
    customer_id: int, until: str = typer.Option(..., "--until", help="the hold's last day")
) -> None:
    """Put active service on a vacation hold until a date."""
    app = get_app()
    hold_id = holds.vacation_hold(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        customer_id=customer_id,
        ends_on=_day(until),
        settings=app.hold_settings,
    )
    console.print(f"vacation hold {hold_id} until {until}")


def resume(customer_id: int, reason: str = typer.Option("on request", "--reason")) -> None:
    """Resume suspended service."""
    app = get_app()
    holds.resume(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        customer_id=customer_id,
        settings=app.hold_settings,
        reason=reason,
    )
    console.print("service resumed")


def disconnect_cmd(
    customer_id: int,
    reason: str = typer.Option(..., "--reason", help=", ".join(disconnect.CHURN_REASONS)),
    on: str | None = typer.Option(None, "--on", help="disconnect date (default today)"),
    yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
    json_out: bool = JSON,
) -> None:
    """Show the final bill, then (once confirmed) close the account."""
    app = get_app()
    day = _day(on)
    bill = disconnect.preview_disconnect(
        app.uow,
        actor=cli_actor(),
        customer_id=customer_id,
        on=day,
        settings=app.return_settings,
        secret_key=app.settings.secret_key,
    )
    if not json_out:
        console.print(f"final bill for {day}:")
        for line in bill.lines:
            console.print(f"  {line['description']}: ${line['amount']}")
        console.print(
            f"  balance before: ${bill.balance_before}; final: "
            f"[bold]${bill.final_amount}[/]; return {bill.equipment_to_return} by "
            f"{bill.return_by}"
        )
    if not yes and not typer.confirm("Disconnect this customer?"):
        raise typer.Abort()
    done = disconnect.disconnect(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        gateway=app.gateway,
        customer_id=customer_id,
        on=day,
        churn_reason=reason,
        confirm=bill.token,
        settings=app.return_settings,
        secret_key=app.settings.secret_key,
    )
    if json_out:
        print_json(done)
    else:
        console.print("account closed")
