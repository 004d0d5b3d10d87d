"""``fiberdesk template``: the message kinds, and any template previewed with sample data."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.padding import Padding

from fiberdesk.cli.common import console, err_console, get_app, print_json
from fiberdesk.messages import (
    Branding,
    MessageKind,
    TemplateError,
    TemplateSet,
    default_templates,
)

template_app = typer.Typer(
    help="Message templates: list the kinds, preview one with sample data.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="print JSON")


def _templates() -> TemplateSet:
    """The checked templates; a broken one on disk is one line naming its file and field."""
    try:
        return default_templates()
    except TemplateError as exc:
        err_console.print(f"[bold red]error: broken template:[/] {exc.reason}", highlight=False)
        raise typer.Exit(1) from None


def _field_list(spec: MessageKind) -> str:
    return ", ".join(f.name if f.required else f"{f.name}?" for f in spec.fields)


def describe(spec: MessageKind) -> dict[str, Any]:
    return {
        "kind": spec.name,
        "label": spec.label,
        "essential": spec.essential,
        "audience": spec.audience,
        "sent_when": spec.sent_when,
        "fields": [
            {"name": f.name, "label": f.label, "required": f.required, "format": f.format}
            for f in spec.fields
        ],
    }


@template_app.command("list")
def list_kinds(json_out: bool = JSON) -> None:
    """Every kind of message: its label, whether it is essential, and its fields."""
    specs = list(_templates().catalog.values())
    if json_out:
        print_json([describe(s) for s in specs])
        return
    console.print("[dim]field? = optional; essential messages ignore opt-outs[/]")
    for s in specs:
        flag = "  [bold red]essential[/]" if s.essential else ""
        console.print(f"[bold]{s.name}[/]  {escape(s.label)}{flag}", highlight=False)
        console.print(Padding(f"fields: {escape(_field_list(s))}", (0, 0, 0, 4)), highlight=False)


@template_app.command("preview")
def preview(
    kind: str = typer.Argument(..., help="the kind, e.g. installation_confirmation"),
    html: bool = typer.Option(False, "--html", help="print the HTML body instead of the text"),
    json_out: bool = JSON,
) -> None:
    """Render one kind with its sample data and this installation's branding."""
    branding = Branding.from_settings(get_app().settings)
    rendered = _templates().sample(kind, branding)
    if json_out:
        print_json(
            {
                "kind": kind,
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
            }
        )
    elif html:
        print(rendered.html, end="")
    else:
        print(f"Subject: {rendered.subject}\n")
        print(rendered.text, end="")
