"""``fiberdesk premises``: load address points."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.db import migrate
from fiberdesk.services import premises

app = typer.Typer(help="Premises: the address points the network can serve.", no_args_is_help=True)


@app.command("import")
def import_csv(
    file: Path = typer.Argument(..., help="CSV file (optionally .gz) with a header row"),
    column_map: str | None = typer.Option(
        None,
        "--map",
        help="field=column pairs over the default map, e.g. 'source_id=ID,zip=POSTCODE' "
        "(see docs/premises-import.md)",
    ),
    include_inactive: bool = typer.Option(
        False, help="also import rows whose status is not ACTIVE"
    ),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Import premises from FILE; rows already known by source id are skipped."""
    mapping = premises.parse_column_map(column_map)
    app_ = get_app()
    migrate.require_migrated(app_.engine)
    with premises.open_csv(file) as stream, app_.uow() as uow:
        rows = premises.read_rows(stream, mapping)
        with Progress(console=console, transient=True, disable=json_out) as bar:
            task = bar.add_task("importing premises", total=None)
            result = premises.import_premises(
                uow,
                actor=cli_actor(),
                rows=rows,
                mapping=mapping,
                include_inactive=include_inactive,
                source=str(file),
                progress=lambda n: bar.advance(task, n),
            )
    if json_out:
        print_json(result)
        return
    console.print(
        f"imported {result.imported}, duplicates {result.duplicates}, "
        f"inactive skipped {result.skipped_inactive}, rejected {len(result.rejected)}"
    )
    for reason in result.rejected[:20]:
        console.print(f"  [yellow]{reason}[/]")
    if len(result.rejected) > 20:
        console.print(f"  ... and {len(result.rejected) - 20} more")
