"""``fiberdesk user`` and ``fiberdesk token``: staff accounts and API tokens."""

from __future__ import annotations

import typer
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.domain.users import Role
from fiberdesk.services import auth

user_app = typer.Typer(help="Staff users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (for the REST API and agent tools).", no_args_is_help=True)


@user_app.command("create")
def create_user(
    username: str = typer.Argument(..., help="login name, lower case"),
    role: Role = typer.Option(..., "--role", help="what the user may do"),
    full_name: str = typer.Option(..., "--name", help="the person's full name"),
    email: str | None = typer.Option(None, "--email"),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="FIBERDESK_NEW_PASSWORD",
        help="at least 10 characters (prompted if omitted)",
    ),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Create a staff user."""
    with get_app().uow() as uow:
        user = auth.create_user(
            uow,
            actor=cli_actor(),
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            email=email,
        )
    if json_out:
        print_json(user)
    else:
        console.print(f"created user [bold]{user.username}[/] ({user.role.label})")


@user_app.command("list")
def list_users(json_out: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List staff users."""
    with get_app().uow(write=False) as uow:
        users = auth.list_users(uow)
    if json_out:
        print_json(users)
        return
    table = Table("username", "name", "role", "active")
    for u in users:
        table.add_row(u.username, u.full_name, u.role.label, "yes" if u.active else "no")
    console.print(table)


@token_app.command("create")
def create_token(
    username: str = typer.Argument(..., help="the user the token acts as"),
    name: str = typer.Option(..., "--name", help="what the token is for, e.g. 'billing sync'"),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", min=1),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Issue an API token. It is shown once: store it now."""
    with get_app().uow() as uow:
        token = auth.create_token(
            uow,
            actor=cli_actor(),
            username=username,
            name=name,
            expires_in_days=expires_in_days,
        )
    if json_out:
        print_json(token)
        return
    console.print(f"token {token.id} for [bold]{token.username}[/] ({token.role.label}):")
    print(token.secret)
    console.print("[yellow]This is the only time the token is shown.[/]")


@token_app.command("revoke")
def revoke_token(token_id: int = typer.Argument(..., help="the token's id")) -> None:
    """Revoke an API token at once."""
    with get_app().uow() as uow:
        auth.revoke_token(uow, actor=cli_actor(), token_id=token_id)
    console.print(f"token {token_id} revoked")
