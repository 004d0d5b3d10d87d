"""``fiberdesk flow``: troubleshooting flows and guided sessions on tickets."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.services import flows, troubleshooting

flow_app = typer.Typer(
    help="Troubleshooting: the flows, and guided sessions on tickets.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="print JSON")


def show_session(view: troubleshooting.SessionView, json_out: bool) -> None:
    if json_out:
        print_json(view)
        return
    console.print(
        f"session [bold]{view.id}[/] · {view.ticket_number} · {view.flow_name} "
        f"v{view.flow_version} · {view.status}"
    )
    for skip in view.skipped:
        console.print(f"[dim]skipped {skip['node']}: {skip['reason']} → {skip['option']}[/]")
    for advice in view.guidance:
        console.print(f"[bold]{advice['title']}[/]")
        for i, step in enumerate(advice["steps"], 1):
            console.print(f"  {i}. {step}")
    if view.prompt:
        console.print(f"[bold cyan]{view.prompt['node']}[/]: {view.prompt['text']}")
        if view.prompt["help"]:
            console.print(f"[dim]{view.prompt['help']}[/]")
        for option in view.prompt["options"]:
            console.print(f"  [bold]{option['id']}[/]  {option['label']}")
    if view.outcome:
        o = view.outcome
        console.print(f"outcome: [bold]{o['label']}[/] ({o['code']}) {o['text']}")
        if o.get("order_id"):
            console.print(
                f"REPAIR order #{o['order_id']}" + (f": {o['note']}" if o.get("note") else "")
            )
        if o.get("first_contact_resolution") is not None:
            console.print(f"first-contact resolution: {o['first_contact_resolution']}")


@flow_app.command("list")
def list_flows(json_out: bool = JSON) -> None:
    """The flows and their active versions."""
    with get_app().uow(write=False) as uow:
        views = flows.list_flows(uow, actor=cli_actor())
    if json_out:
        print_json([{k: v for k, v in asdict(f).items() if k != "definition"} for f in views])
        return
    table = Table("code", "version", "name", "category", "nodes", "stored")
    for f in views:
        table.add_row(
            f.code,
            str(f.version),
            f.name,
            f.category or "",
            str(f.nodes),
            "yes" if f.stored else "bundled",
        )
    console.print(table)


@flow_app.command("show")
def show_flow(
    code: str,
    version: int | None = typer.Option(None, "--version", help="a past version"),
    json_out: bool = JSON,
) -> None:
    """A flow's nodes (``--json``: the whole definition)."""
    with get_app().uow(write=False) as uow:
        view = flows.get_flow(uow, actor=cli_actor(), code=code, version=version)
    if json_out:
        print_json(view)
        return
    console.print(f"[bold]{view.name}[/] ({view.code} v{view.version}) {view.description}")
    table = Table("node", "kind", "what", "leads to")
    for node in view.definition["nodes"]:
        kind = node["kind"]
        if kind == "question":
            what = node["text"]
            to = ", ".join(f"{o['id']}→{o['next']}" for o in node["options"])
        elif kind == "check":
            what = node["check"]
            to = ", ".join(f"{k}→{v}" for k, v in node["branches"].items())
            to += f", else→{node['default']}" if node.get("default") else ""
        elif kind == "advice":
            what, to = node["title"], node["next"]
        else:
            what, to = f"{node['outcome']} {node['code']}", ""
        table.add_row(node["id"], kind, what, to)
    console.print(table)


@flow_app.command("start")
def start(ticket_id: int, flow: str, json_out: bool = JSON) -> None:
    """Start a flow on a ticket: the checks run, then the first open question."""
    app = get_app()
    view = troubleshooting.start_session(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        ticket_id=ticket_id,
        flow_code=flow,
        scheduling=app.scheduling,
    )
    show_session(view, json_out)


@flow_app.command("answer")
def answer(session: int, node: str, option: str, json_out: bool = JSON) -> None:
    """Answer the session's open question (NODE) with one of its options."""
    app = get_app()
    view = troubleshooting.answer(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        session_id=session,
        node_id=node,
        option=option,
        scheduling=app.scheduling,
    )
    show_session(view, json_out)


@flow_app.command("pause")
def pause(session: int, json_out: bool = JSON) -> None:
    """Pause a session until the customer calls back."""
    show_session(
        troubleshooting.pause(get_app().uow, actor=cli_actor(), session_id=session), json_out
    )


@flow_app.command("resume")
def resume(session: int, json_out: bool = JSON) -> None:
    """Resume a paused session (its checks are re-read)."""
    app = get_app()
    view = troubleshooting.resume(
        app.uow,
        actor=cli_actor(),
        network=app.network,
        session_id=session,
        scheduling=app.scheduling,
    )
    show_session(view, json_out)


@flow_app.command("session")
def session(session_id: int, json_out: bool = JSON) -> None:
    """Show a session: where it stands, its checks and outcome."""
    with get_app().uow(write=False) as uow:
        view = troubleshooting.get_session(uow, actor=cli_actor(), session_id=session_id)
    show_session(view, json_out)


@flow_app.command("save")
def save(
    code: str,
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="the definition (JSON)"),
    json_out: bool = JSON,
) -> None:
    """Validate a definition file and store it as the flow's next version."""
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not JSON: {exc}", field="path") from None
    with get_app().uow() as uow:
        view = flows.save_flow(uow, actor=cli_actor(), code=code, definition=definition)
    if json_out:
        print_json({k: v for k, v in asdict(view).items() if k != "definition"})
    else:
        console.print(f"stored {view.code} version {view.version} ({view.nodes} nodes)")
