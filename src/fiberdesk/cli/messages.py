"""``fiberdesk messages`` (preferences, delivery log, dead letters) and ``fiberdesk webhook``
(endpoints)."""

from __future__ import annotations

import typer
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.services import outbox, preferences, webhooks

JSON = typer.Option(False, "--json", help="print JSON")
LIMIT = typer.Option(50, "--limit", min=1, max=1000, help="at most this many messages")

messages_app = typer.Typer(
    help="Customer messages: preferences, the delivery log, dead letters.", no_args_is_help=True
)
prefs_app = typer.Typer(
    help="A customer's message preferences: email, sms or none, per kind or for every kind (*).",
    no_args_is_help=True,
)
messages_app.add_typer(prefs_app, name="prefs")
webhook_app = typer.Typer(
    help="Webhook endpoints: the lifecycle events, signed, to your URLs.", no_args_is_help=True
)


def _show_prefs(customer_id: int, prefs: dict[str, str], json_out: bool) -> None:
    if json_out:
        print_json({"customer_id": customer_id, "preferences": prefs})
        return
    if not prefs:
        console.print(f"customer {customer_id}: no preferences (every kind on its default)")
        return
    console.print(f"customer {customer_id}:")
    for kind, channel in sorted(prefs.items()):
        console.print(f"  {kind:28} {channel}", highlight=False)


@prefs_app.command("show")
def prefs_show(customer_id: int, json_out: bool = JSON) -> None:
    """The customer's preferences; kinds not listed use their default channel."""
    with get_app().uow(write=False) as uow:
        prefs = preferences.get_preferences(uow, actor=cli_actor(), customer_id=customer_id)
    _show_prefs(customer_id, prefs, json_out)


@prefs_app.command("set")
def prefs_set(
    customer_id: int,
    kind: str = typer.Argument(..., help="a message kind (see `template list`), or *"),
    channel: str = typer.Argument(..., help="email, sms or none"),
    json_out: bool = JSON,
) -> None:
    """Choose the channel for a kind (essential kinds cannot be set to none)."""
    with get_app().uow() as uow:
        prefs = preferences.set_preference(
            uow, actor=cli_actor(), customer_id=customer_id, kind=kind, channel=channel
        )
    _show_prefs(customer_id, prefs, json_out)


@prefs_app.command("opt-out")
def prefs_opt_out(
    customer_id: int,
    kind: str = typer.Option("*", "--kind", help="one kind; default * (every optional kind)"),
    json_out: bool = JSON,
) -> None:
    """Opt out (channel none); essential messages still go out."""
    with get_app().uow() as uow:
        prefs = preferences.set_preference(
            uow, actor=cli_actor(), customer_id=customer_id, kind=kind, channel="none"
        )
    _show_prefs(customer_id, prefs, json_out)


@prefs_app.command("clear")
def prefs_clear(
    customer_id: int,
    kind: str = typer.Argument(..., help="the kind (or *) to forget"),
    json_out: bool = JSON,
) -> None:
    """Forget one preference: the kind goes back to its default."""
    with get_app().uow() as uow:
        prefs = preferences.clear_preference(
            uow, actor=cli_actor(), customer_id=customer_id, kind=kind
        )
    _show_prefs(customer_id, prefs, json_out)


def _show_messages(views: list[outbox.MessageView], title: str, json_out: bool) -> None:
    if json_out:
        print_json(views)
        return
    table = Table(title=title, title_justify="left")
    for column in ("id", "kind", "channel", "to", "status", "tries", "last"):
        table.add_column(column)
    for v in views:
        last = v.log[-1] if v.log else None
        note = f"{last.outcome}: {last.detail or ''}" if last else (v.last_error or "")
        table.add_row(str(v.id), v.kind, v.channel, v.recipient, v.status, str(v.attempts),
                      note[:60])  # fmt: skip
    console.print(table)


@messages_app.command("log")
def log(customer_id: int, limit: int = LIMIT, json_out: bool = JSON) -> None:
    """A customer's messages, newest first, with every delivery attempt (--json)."""
    with get_app().uow(write=False) as uow:
        views = outbox.delivery_log(uow, actor=cli_actor(), customer_id=customer_id, limit=limit)
    _show_messages(views, f"messages of customer {customer_id}", json_out)


@messages_app.command("dead")
def dead(limit: int = LIMIT, json_out: bool = JSON) -> None:
    """The dead letters: messages refused, or out of attempts."""
    with get_app().uow(write=False) as uow:
        views = outbox.dead_letters(uow, actor=cli_actor(), limit=limit)
    _show_messages(views, "dead letters", json_out)


@messages_app.command("requeue")
def requeue(message_id: int, json_out: bool = JSON) -> None:
    """Put a dead letter back in the queue, due now, attempts reset (audited)."""
    with get_app().uow() as uow:
        view = outbox.retry_dead(uow, actor=cli_actor(), message_id=message_id)
    if json_out:
        print_json(view)
    else:
        console.print(f"message {view.id} ({view.kind} to {view.recipient}) requeued")


def _endpoint_json(view: webhooks.EndpointView) -> dict[str, object]:
    out: dict[str, object] = {"id": view.id, "url": view.url, "events": list(view.kinds),
                              "active": view.active, "created_at": view.created_at}  # fmt: skip
    if view.secret is not None:
        out["secret"] = view.secret
    return out


@webhook_app.command("add")
def add(
    url: str,
    events: str = typer.Option(
        "*", "--events", help="comma-separated events (message kinds), or * for every event"
    ),
    json_out: bool = JSON,
) -> None:
    """Register an endpoint; prints its signing secret, this once."""
    with get_app().uow() as uow:
        view = webhooks.create_endpoint(uow, actor=cli_actor(), url=url, kinds=events)
    if json_out:
        print_json(_endpoint_json(view))
        return
    console.print(f"webhook endpoint [bold]{view.id}[/] → {view.url} ({', '.join(view.kinds)})")
    console.print(f"signing secret (shown once): [bold]{view.secret}[/]", highlight=False)


@webhook_app.command("list")
def list_(json_out: bool = JSON) -> None:
    """Every endpoint, with its events and whether it is on."""
    with get_app().uow(write=False) as uow:
        views = webhooks.list_endpoints(uow, actor=cli_actor())
    if json_out:
        print_json([_endpoint_json(v) for v in views])
        return
    table = Table("id", "url", "events", "active")
    for v in views:
        table.add_row(str(v.id), v.url, ",".join(v.kinds), "yes" if v.active else "no")
    console.print(table)


def _set_active(endpoint_id: int, active: bool, json_out: bool) -> None:
    with get_app().uow() as uow:
        view = webhooks.set_active(uow, actor=cli_actor(), endpoint_id=endpoint_id, active=active)
    if json_out:
        print_json(_endpoint_json(view))
    else:
        console.print(f"webhook endpoint {view.id} {'enabled' if active else 'disabled'}")


@webhook_app.command("enable")
def enable(endpoint_id: int, json_out: bool = JSON) -> None:
    """Turn an endpoint on."""
    _set_active(endpoint_id, True, json_out)


@webhook_app.command("disable")
def disable(endpoint_id: int, json_out: bool = JSON) -> None:
    """Turn an endpoint off (its pending deliveries become dead letters)."""
    _set_active(endpoint_id, False, json_out)
