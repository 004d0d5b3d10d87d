"""``fiberdesk demo``: build the demo operator."""

from __future__ import annotations

from datetime import date

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.services.demo import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    MAX_CUSTOMERS,
    MIN_CUSTOMERS,
    DemoSummary,
    build_demo,
)
from fiberdesk.services.demo import Progress as DemoProgress

PHASES = {
    "planning": "planning the network and customers",
    "users": "staff and technician users",
    "premises": "importing premises",
    "operator": "writing the operator",
}


def demo(
    force: bool = typer.Option(False, "--force", help="wipe a non-empty database first"),
    seed: int = typer.Option(
        DEFAULT_SEED, "--seed", help="random seed: the same seed builds the same operator"
    ),
    customers: int = typer.Option(
        DEFAULT_CUSTOMERS,
        "--customers",
        help=f"how many customers, {MIN_CUSTOMERS} to {MAX_CUSTOMERS}",
    ),
    premises_limit: int | None = typer.Option(
        None,
        "--premises-limit",
        hidden=True,
        help="only the N premises nearest to downtown Towson (a small demo, for tests)",
    ),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Build the demo operator in the database (every demo user's password: fiberdesk-demo)."""
    app = get_app()

    def run(progress: DemoProgress | None = None) -> DemoSummary:
        return build_demo(
            app,
            today=date.today(),
            seed=seed,
            customers=customers,
            premises_limit=premises_limit,
            force=force,
            actor=cli_actor(),
            progress=progress,
        )

    if json_out:
        print_json(run())
        return
    columns = (
        TextColumn("{task.description:<36}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        summary = run(progress)
    _show(summary)


def _show(s: DemoSummary) -> None:
    table = Table("", "count", title=f"demo operator (seed {s.seed}, today {s.today})")
    rows = [
        ("premises", f"{s.premises:,}"),
        ("  covered by a NAP", f"{s.covered_premises:,} ({s.coverage_pct} %)"),
        ("  beyond the COs' reach", f"{s.uncovered_beyond_reach:,}"),
        ("  in areas not built yet", f"{s.uncovered_unbuilt_phase:,}"),
        ("  drops over the standard length", f"{s.long_drop_premises:,}"),
        ("  optical budget exceeded", f"{s.budget_exceeded_premises:,}"),
        ("central offices / OLTs", f"{s.central_offices} / {s.olts}"),
        ("PON ports (XGS-PON)", f"{s.pon_ports:,} ({s.xgs_pon_ports:,})"),
        ("splitters (LCPs)", f"{s.splitters:,}"),
        ("NAPs (full)", f"{s.naps:,} ({s.full_naps})"),
        ("NAP ports", f"{s.nap_ports:,}"),
        ("plans", str(s.plans)),
        ("customers", f"{s.customers:,}"),
        *((f"  {status}", f"{n:,}") for status, n in s.customers_by_status.items()),
        ("service orders", f"{s.service_orders:,}"),
        *((f"  {kind}", f"{n:,}") for kind, n in s.orders_by_type.items()),
        ("appointments", f"{s.appointments:,}"),
        ("tickets (open)", f"{s.tickets:,} ({s.open_tickets})"),
        ("outages (resolved)", str(s.outages)),
        ("notes", f"{s.notes:,}"),
        ("technicians", str(s.technicians)),
        ("equipment units", f"{s.equipment:,}"),
        ("static IPs assigned / pool", f"{s.ip_addresses_assigned} / {s.ip_addresses}"),
        ("contracts", f"{s.contracts:,}"),
        ("ONTs on the simulated OLT", f"{s.registered_onts:,}"),
        ("elapsed", f"{s.elapsed_s:.1f} s"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
    users = Table("username", "name", "role", title="demo users")
    for user in s.users:
        users.add_row(user.username, user.full_name, user.role)
    console.print(users)
    console.print(
        f"every demo user's password is [bold]{s.demo_password}[/] (for the demo only)",
        highlight=False,
    )
    console.print(
        "sign in to the console at [bold]/login[/] of `fiberdesk serve` "
        "(http://127.0.0.1:8000/login by default) as any of these users",
        highlight=False,
    )
    console.print("admin API token (shown once):")
    print(s.admin_token)
