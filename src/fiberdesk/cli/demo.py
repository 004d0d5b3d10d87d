"""``fiberdesk demo``: build the demo operator."""

from __future__ import annotations

import typer


def demo(
    force: bool = typer.Option(False, "--force", help="wipe a non-empty database first"),
) -> None:
    """Build the demo operator in the database."""
    raise typer.Exit(1)
