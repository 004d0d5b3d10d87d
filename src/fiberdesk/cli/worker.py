"""``fiberdesk worker``: deliver the outbox (and queue the day-before reminders)."""

from __future__ import annotations

import typer

from fiberdesk.cli.common import console, get_app, print_json


def worker(
    batch: int | None = typer.Option(
        None, min=1, max=1000, help="messages claimed at a time (default from settings)"
    ),
    poll: float | None = typer.Option(
        None, min=0.05, max=3600, help="seconds to wait when nothing is due (default 1)"
    ),
    once: bool = typer.Option(False, "--once", help="deliver what is due now, then exit"),
    name: str | None = typer.Option(
        None, help="this worker's name in the delivery log (default host:pid)"
    ),
    json_out: bool = typer.Option(False, "--json", help="print the totals as JSON"),
) -> None:
    """Run the outbox worker until SIGTERM or Ctrl-C (with --once: until nothing is due)."""
    from fiberdesk.worker import run_from_command_line

    app = get_app()
    if not json_out and not once:
        console.print("fiberdesk worker delivering the outbox (Ctrl-C to stop)")
    stats = run_from_command_line(app, batch=batch, poll=poll, once=once, name=name)
    if json_out:
        print_json(stats.as_dict())
    else:
        totals = ", ".join(f"{k} {v}" for k, v in stats.as_dict().items())
        console.print(f"worker stopped: {totals}")
