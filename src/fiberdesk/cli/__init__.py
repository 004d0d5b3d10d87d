"""The ``fiberdesk`` command: Typer sub-apps per area, errors as one line and an exit code."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from fiberdesk.cli import (
    agent,
    billing,
    changes,
    db,
    demo,
    field,
    kpi,
    messages,
    noc,
    orders,
    premises,
    qualification,
    serve,
    templates,
    troubleshooting,
    users,
)
from fiberdesk.cli import worker as worker_cli
from fiberdesk.cli.common import err_console
from fiberdesk.domain.errors import FiberdeskError

app = typer.Typer(
    name="fiberdesk",
    help="Customer operations for fiber-to-the-home operators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(users.user_app, name="user")
app.add_typer(users.token_app, name="token")
app.add_typer(premises.app, name="premises")
app.add_typer(qualification.quote_app, name="quote")
app.add_typer(qualification.waitlist_app, name="waitlist")
app.add_typer(qualification.holds_app, name="holds")
app.add_typer(orders.order_app, name="order")
app.add_typer(field.dispatch_app, name="dispatch")
app.add_typer(field.tech_app, name="tech")
app.add_typer(field.inventory_app, name="inventory")
app.add_typer(billing.billing_app, name="billing")
app.add_typer(troubleshooting.flow_app, name="flow")
app.add_typer(templates.template_app, name="template")
app.add_typer(noc.noc_app, name="noc")
app.add_typer(messages.messages_app, name="messages")
app.add_typer(messages.webhook_app, name="webhook")
app.add_typer(changes.change_app, name="change")
app.add_typer(changes.relocate_app, name="relocate")
app.command("suspend")(changes.suspend)
app.command("resume")(changes.resume)
app.command("disconnect")(changes.disconnect_cmd)
app.command("qualify")(qualification.qualify)
app.command("kpi")(kpi.kpi)
app.command("worker")(worker_cli.worker)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("mcp")(agent.mcp)

#: exit codes: 1 a refusal or bad input, 2 usage (Typer's own), 3 the database
EXIT_REFUSED = 1
EXIT_DATABASE = 3


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main() -> None:
    try:
        app(standalone_mode=False)
    except FiberdeskError as exc:
        err_console.print(f"[bold red]error:[/] {exc.reason}", highlight=False)
        sys.exit(EXIT_REFUSED)
    except OperationalError as exc:
        if "no such table" in str(exc):
            err_console.print(
                f"[bold red]error: database schema problem:[/] {_first_line(exc)} "
                "(run `fiberdesk db upgrade`)",
                highlight=False,
            )
            sys.exit(EXIT_DATABASE)
        err_console.print(
            f"[bold red]error: database unreachable:[/] {_first_line(exc)}", highlight=False
        )
        sys.exit(EXIT_DATABASE)
    except ProgrammingError as exc:
        err_console.print(
            f"[bold red]error: database schema problem:[/] {_first_line(exc)} "
            "(has `fiberdesk db upgrade` been run?)",
            highlight=False,
        )
        sys.exit(EXIT_DATABASE)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(EXIT_REFUSED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors and the like
        # usage errors (bad option values, unknown commands): Typer vendors its own click,
        # so recognise them by what they can do rather than by class
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise
