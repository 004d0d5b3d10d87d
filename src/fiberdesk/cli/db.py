"""``fiberdesk db``: migrations."""

from __future__ import annotations

import typer

from fiberdesk.cli.common import console, get_app, print_json
from fiberdesk.db import migrate

app = typer.Typer(help="Database schema: migrate and inspect.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Migrate the database to the latest schema (or to REVISION)."""
    engine = get_app().engine
    migrate.upgrade(engine, revision)
    console.print(f"database at revision [bold]{migrate.current_revision(engine)}[/]")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="target revision, or 'base'")) -> None:
    """Migrate the database down to REVISION."""
    engine = get_app().engine
    migrate.downgrade(engine, revision)
    console.print(f"database at revision [bold]{migrate.current_revision(engine)}[/]")


@app.command()
def current(json_out: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Show the database's revision and the code's latest."""
    engine = get_app().engine
    cur, head = migrate.current_revision(engine), migrate.head_revision(engine)
    if json_out:
        print_json({"current": cur, "head": head, "up_to_date": cur == head})
        return
    state = "[green]up to date[/]" if cur == head else "[red]needs `fiberdesk db upgrade`[/]"
    console.print(f"current {cur or '(empty)'}, head {head}: {state}")
