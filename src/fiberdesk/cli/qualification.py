"""``fiberdesk qualify``, ``fiberdesk quote``, ``fiberdesk waitlist``, ``fiberdesk holds``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json, to_json
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.services import quotes, waitlist
from fiberdesk.services.qualification import qualification_payload, qualify_address

quote_app = typer.Typer(
    help="Quotes: price a plan at a premises; accept to hold the port.", no_args_is_help=True
)
waitlist_app = typer.Typer(help="Demand where fiber cannot be had yet.", no_args_is_help=True)
holds_app = typer.Typer(help="NAP port holds.", no_args_is_help=True)

MAX_FILE_LINES = 1_000_000


def _one(address: str) -> dict[str, object]:
    app = get_app()
    try:
        with app.uow(write=False) as uow:
            q = qualify_address(uow, actor=cli_actor(), address=address, rules=app.rules)
        return qualification_payload(q, query=address)
    except InvalidInput as exc:
        return {"query": address, "decision": None, "error": exc.reason}


def _show(payload: dict[str, object]) -> None:
    decision = payload.get("decision")
    if payload.get("error"):
        console.print(f"[red]{payload['error']}[/]")
        return
    colour = {
        "SERVICEABLE": "green",
        "SITE_SURVEY": "yellow",
        "NOT_SERVICEABLE": "red",
        "ALREADY_SERVED": "blue",
    }.get(str(decision), "white")
    premises = payload.get("premises") or {}
    assert isinstance(premises, dict)
    lines = [f"[bold {colour}]{payload.get('decision_label') or payload['match_status']}[/]"]
    if premises:
        lines.append(
            f"{premises['label']}  (source id {premises['source_id']}, "
            f"confidence {premises['confidence']})"
        )
    lines += [f"• {m}" for m in payload["messages"]]  # type: ignore[attr-defined]
    if payload.get("nap"):
        nap = payload["nap"]
        assert isinstance(nap, dict)
        lines.append(
            f"NAP {nap['code']} port {payload['port']}, drop {nap['drop_m']} m, "
            f"predicted Rx {payload['predicted_rx_dbm']} dBm "
            f"({payload['signal_class']})"
        )
    console.print(Panel("\n".join(lines), title=str(payload.get("query") or "")))
    candidates = payload.get("candidates") or []
    if not payload.get("decision") and candidates:
        table = Table("premises", "source id", "address", "confidence", title="Candidates")
        for c in candidates:  # type: ignore[attr-defined]
            table.add_row(str(c["premises_id"]), c["source_id"], c["label"], str(c["confidence"]))
        console.print(table)
    tiers = payload.get("tiers") or []
    if tiers:
        table = Table("tier", "down/up Mbps", "monthly", "install", "on offer")
        for t in tiers:  # type: ignore[attr-defined]
            table.add_row(
                t["name"],
                f"{t['download_mbps']}/{t['upload_mbps']}",
                f"${t['monthly_price']}",
                f"${t['install_fee']}",
                "yes" if t["offered"] else f"no: {t['reason']}",
            )
        console.print(table)
    if payload.get("waitlist_offered"):
        console.print("Offer the waitlist: [bold]fiberdesk waitlist join[/]")


def qualify(
    address: str | None = typer.Argument(None, help="the address as the customer said it"),
    file: Path | None = typer.Option(None, "--file", help="qualify every line of FILE"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object (a line each)"),
) -> None:
    """Is fiber available at ADDRESS? Prints the decision, reasons, NAP, port and tiers."""
    if (address is None) == (file is None):
        raise InvalidInput("give an ADDRESS or --file, not both")
    if address is not None:
        app = get_app()
        with app.uow(write=False) as uow:
            q = qualify_address(uow, actor=cli_actor(), address=address, rules=app.rules)
        payload = qualification_payload(q, query=address)
        if json_out:
            print(to_json(payload))
        else:
            _show(payload)
        return
    assert file is not None
    if not file.exists():
        raise InvalidInput(f"no such file: {file}")
    lines = file.read_text(encoding="utf-8", errors="replace").splitlines()[:MAX_FILE_LINES]
    with Progress(console=console, transient=True, disable=json_out) as bar:
        task = bar.add_task("qualifying", total=len(lines))
        for line in lines:
            payload = (
                _one(line)
                if line.strip()
                else {"query": line, "decision": None, "error": "empty line"}
            )
            if json_out:
                sys.stdout.write(to_json(payload) + "\n")
            else:
                console.print(
                    f"{payload.get('decision') or payload.get('match_status') or 'ERROR'}\t{line}"
                )
            bar.advance(task)


@quote_app.command("create")
def create_quote(
    premises_id: int = typer.Argument(..., help="premises id (from qualify)"),
    plan: str = typer.Option(..., "--plan", help="plan code, e.g. GIGABIT"),
    term: str = typer.Option("M2M", "--term", help="contract term code"),
    promotion: str | None = typer.Option(None, "--promotion"),
    name: str | None = typer.Option(None, "--name"),
    email: str | None = typer.Option(None, "--email"),
    phone: str | None = typer.Option(None, "--phone"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Price PLAN at a premises."""
    app = get_app()
    with app.uow() as uow:
        view = quotes.create_quote(
            uow,
            actor=cli_actor(),
            premises_id=premises_id,
            plan_code=plan,
            term_code=term,
            promotion_code=promotion,
            contact_name=name,
            contact_email=email,
            contact_phone=phone,
            settings=app.quote_settings,
        )
    _print_quote(view, json_out)


@quote_app.command("show")
def show_quote(reference: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """Show a quote."""
    with get_app().uow(write=False) as uow:
        view = quotes.get_quote(uow, actor=cli_actor(), reference=reference)
    _print_quote(view, json_out)


@quote_app.command("accept")
def accept_quote(
    reference: str,
    port: int | None = typer.Option(None, "--port", help="a particular NAP port"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Accept a quote: hold its NAP port."""
    app = get_app()
    with app.uow() as uow:
        view = quotes.accept_quote(
            uow,
            actor=cli_actor(),
            reference=reference,
            port_number=port,
            settings=app.quote_settings,
        )
    _print_quote(view, json_out)


def _print_quote(view: quotes.QuoteView, json_out: bool) -> None:
    if json_out:
        print_json(view)
        return
    table = Table("item", "kind", "amount", title=f"Quote {view.reference} · {view.status.label}")
    for line in view.lines:
        table.add_row(
            line["description"], "monthly" if line["recurring"] else "one-time", f"{line['amount']}"
        )
    table.add_row("tax, monthly", "monthly", view.taxes.get("monthly_tax", ""))
    table.add_row("tax, one-time", "one-time", view.taxes.get("one_time_tax", ""))
    console.print(table)
    console.print(
        f"{view.address} · {view.plan_name} · monthly [bold]${view.monthly_total}[/], "
        f"one-time [bold]${view.one_time_total}[/], valid until "
        f"{view.expires_at:%Y-%m-%d}"
    )
    if view.port is not None:
        console.print(
            f"holding NAP {view.nap_code} port {view.port} until "
            f"{view.hold_expires_at:%Y-%m-%d %H:%M} UTC"
        )


@waitlist_app.command("join")
def join(
    premises_id: int = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    email: str | None = typer.Option(None, "--email"),
    phone: str | None = typer.Option(None, "--phone"),
    plan: str | None = typer.Option(None, "--plan"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Put someone on the waitlist for an unserved premises."""
    app = get_app()
    with app.uow() as uow:
        view = waitlist.join_waitlist(
            uow,
            actor=cli_actor(),
            premises_id=premises_id,
            name=name,
            email=email,
            phone=phone,
            plan_code=plan,
            rules=app.rules,
        )
    if json_out:
        print_json(view)
    else:
        console.print(f"{view.name} is on the waitlist for {view.address} ({view.reason})")


@waitlist_app.command("report")
def report(json_out: bool = typer.Option(False, "--json")) -> None:
    """Demand by ZIP and at full NAPs, for build planning."""
    with get_app().uow(write=False) as uow:
        result = waitlist.waitlist_report(uow, actor=cli_actor())
    if json_out:
        print_json(result)
        return
    console.print(f"{result.total} on the waitlist: {result.by_reason}")
    for title, rows in (("by ZIP", result.by_zip), ("at full NAPs", result.by_full_nap)):
        table = Table("where", "entries", "plans wanted", title=title)
        for row in rows[:25]:
            table.add_row(
                row.key,
                str(row.entries),
                ", ".join(f"{k} {v}" for k, v in sorted(row.by_plan.items())),
            )
        console.print(table)


@holds_app.command("release-expired")
def release_expired(json_out: bool = typer.Option(False, "--json")) -> None:
    """Free the ports of lapsed holds and expire lapsed quotes."""
    with get_app().uow() as uow:
        result = quotes.release_expired(uow, actor=cli_actor())
    if json_out:
        print_json(result)
    else:
        console.print(
            f"released {result.ports_released} ports, expired {result.quotes_expired} quotes"
        )


__all__ = ["holds_app", "qualify", "quote_app", "waitlist_app"]
