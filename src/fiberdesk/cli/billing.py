"""``fiberdesk billing``: runs, accounts, invoices, payments, dunning and returns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import typer
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.cli.orders import JSON
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.services import billing, disconnect, holds, payments

billing_app = typer.Typer(
    help="Billing: runs, accounts, invoices, payments, dunning.", no_args_is_help=True
)


def _day(text: str | None) -> date:
    if text is None:
        return utcnow().date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not an amount", field="amount") from None


@billing_app.command("run")
def run(
    on: str | None = typer.Option(None, "--on", help="run date (default today)"),
    json_out: bool = JSON,
) -> None:
    """Invoice every account whose next period has started (re-runs issue nothing twice)."""
    app = get_app()
    with app.uow() as uow:
        result = billing.run_billing(
            uow, actor=cli_actor(), on=_day(on), settings=app.billing_settings
        )
    if json_out:
        print_json(
            {
                "on": result.period_on,
                "accounts_seen": result.accounts_seen,
                "invoices_issued": result.invoices_issued,
                "already_invoiced": result.already_invoiced,
                "total_billed": result.total_billed,
            }
        )
    else:
        console.print(
            f"billing run {result.period_on}: {result.invoices_issued} invoices, "
            f"{result.already_invoiced} already invoiced, total "
            f"${result.total_billed}"
        )


@billing_app.command("account")
def account(customer_id: int, json_out: bool = JSON) -> None:
    """Balance, standing and the latest ledger entries of a customer's account."""
    with get_app().uow(write=False) as uow:
        view = billing.account_view(uow, actor=cli_actor(), customer_id=customer_id)
    if json_out:
        print_json(view)
        return
    console.print(
        f"account {view.id}: balance [bold]${view.balance}[/], {view.standing}, "
        f"cycle day {view.cycle_day}, autopay {'on' if view.autopay else 'off'}"
    )
    table = Table("date", "kind", "description", "amount")
    for e in view.entries[:20]:
        table.add_row(e["effective_on"], e["kind"], e["description"], e["amount"])
    console.print(table)


@billing_app.command("invoices")
def invoices(customer_id: int, json_out: bool = JSON) -> None:
    """A customer's invoices, newest first."""
    with get_app().uow(write=False) as uow:
        found = billing.list_invoices(uow, actor=cli_actor(), customer_id=customer_id)
        rows = [
            {
                "id": i.id,
                "number": i.number,
                "period_start": i.period_start,
                "due_on": i.due_on,
                "total": i.total,
                "status": i.status.value,
                "kind": i.kind,
            }
            for i in found
        ]
    if json_out:
        print_json(rows)
        return
    table = Table("number", "period", "due", "total", "status")
    for r in rows:
        table.add_row(
            str(r["number"]),
            str(r["period_start"]),
            str(r["due_on"]),
            f"${r['total']}",
            str(r["status"]),
        )
    console.print(table)


@billing_app.command("pay")
def pay(
    customer_id: int,
    amount: str = typer.Option(..., "--amount"),
    method: str = typer.Option("card", "--method", help="card, cash or check"),
    token: str | None = typer.Option(
        None, "--token", help="a card token; default: the card on file"
    ),
    key: str = typer.Option(..., "--key", help="idempotency key: the same key never pays twice"),
    json_out: bool = JSON,
) -> None:
    """Take a payment; paying off arrears lifts a non-payment suspension."""
    app = get_app()
    result = payments.pay(
        app.uow,
        actor=cli_actor(),
        customer_id=customer_id,
        amount=_amount(amount),
        method=method,
        gateway=app.gateway,
        token=token,
        key=f"cli:{key}",
        currency=app.settings.currency,
        network=app.network,
        hold_settings=app.hold_settings,
    )
    if json_out:
        print_json(result)
    else:
        console.print(f"payment {result.payment_id} {result.status}; balance ${result.balance}")


@billing_app.command("autopay")
def autopay(on: str | None = typer.Option(None, "--on"), json_out: bool = JSON) -> None:
    """Charge autopay accounts due today (and retries of declined ones)."""
    app = get_app()
    result = payments.run_autopay(
        app.uow,
        actor=cli_actor(),
        on=_day(on),
        gateway=app.gateway,
        currency=app.settings.currency,
        network=app.network,
        hold_settings=app.hold_settings,
    )
    if json_out:
        print_json(result)
    else:
        console.print(
            f"autopay: {result.attempted} attempted, {result.succeeded} paid, "
            f"{result.declined} declined"
        )


@billing_app.command("dunning")
def dunning(on: str | None = typer.Option(None, "--on"), json_out: bool = JSON) -> None:
    """Reminders, suspensions and collections for overdue accounts."""
    app = get_app()
    result = holds.run_dunning(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        on=_day(on),
        policy=app.dunning,
        settings=app.hold_settings,
    )
    if json_out:
        print_json(result)
    else:
        console.print(
            f"dunning: {result.reminders} reminders, {result.suspended} suspended, "
            f"{result.collections} to collections, {result.restored} restored"
        )


@billing_app.command("returns")
def returns(on: str | None = typer.Option(None, "--on"), json_out: bool = JSON) -> None:
    """Equipment return reminders and non-return fees."""
    app = get_app()
    result = disconnect.run_returns(
        app.uow, actor=cli_actor(), on=_day(on), settings=app.return_settings
    )
    if json_out:
        print_json(result)
    else:
        console.print(f"returns: {result.reminders} reminders, {result.fees} fees charged")


@billing_app.command("holds-due")
def holds_due(on: str | None = typer.Option(None, "--on"), json_out: bool = JSON) -> None:
    """Resume every vacation hold whose end has come (run it daily)."""
    app = get_app()
    n = holds.end_due_holds(
        app.uow, actor=cli_actor(), network=app.network, on=_day(on), settings=app.hold_settings
    )
    if json_out:
        print_json({"resumed": n})
    else:
        console.print(f"{n} vacation holds ended, service resumed")


@billing_app.command("usage")
def usage(
    on: str | None = typer.Option(None, "--on", help="the day to record (default today)"),
    json_out: bool = JSON,
) -> None:
    """Record each active customer's traffic for a day from the ONT counters (run daily)."""
    from fiberdesk.services.usage import collect_daily_usage

    app = get_app()
    summary = collect_daily_usage(app.uow, network=app.network, day=_day(on))
    if json_out:
        print_json(summary)
    else:
        console.print(f"usage recorded: {summary}")
