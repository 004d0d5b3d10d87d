"""``fiberdesk order``: order entry and the sign-up checklist (STEP 2)."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from fiberdesk.cli.common import cli_actor, console, get_app, print_json
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.services import lifecycle, orders, signup

order_app = typer.Typer(
    help="Orders: enter one from a quote, then identity, credit, payment and contract.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="print JSON")


def show(view: orders.OrderView, json_out: bool) -> None:
    if json_out:
        print_json(view)
        return
    console.print(
        f"order [bold]{view.id}[/] {view.type.label} · {view.status.label} · "
        f"customer {view.account_number} {view.customer_name} "
        f"({view.customer_status.value})"
    )
    table = Table("checklist", "done", "detail")
    for item in view.checklist:
        table.add_row(item["label"], "✔" if item["done"] else "·", str(item["detail"] or ""))
    console.print(table)
    if view.missing:
        console.print(f"before scheduling: [yellow]{', '.join(view.missing)}[/]")
    last = view.steps[-1] if view.steps else None
    if last:
        colour = "red" if last["outcome"] == "refused" else "green"
        console.print(f"last step: {last['step']} [{colour}]{last['outcome']}[/] {last['detail']}")


@order_app.command("create")
def create(
    quote: str = typer.Argument(..., help="the accepted quote's reference"),
    name: str = typer.Option(..., "--name"),
    email: str = typer.Option(..., "--email"),
    phone: str = typer.Option(..., "--phone"),
    unit: str | None = typer.Option(None, "--unit"),
    access_notes: str | None = typer.Option(None, "--access-notes"),
    json_out: bool = JSON,
) -> None:
    """Enter an order from an accepted quote: the customer is PENDING."""
    with get_app().uow() as uow:
        view = orders.create_order(
            uow,
            actor=cli_actor(),
            quote_reference=quote,
            name=name,
            email=email,
            phone=phone,
            unit=unit,
            access_notes=access_notes,
        )
    show(view, json_out)


@order_app.command("show")
def show_order(order_id: int, json_out: bool = JSON) -> None:
    """Show an order, its checklist and its last step."""
    with get_app().uow(write=False) as uow:
        show(orders.show_order(uow, actor=cli_actor(), order_id=order_id), json_out)


@order_app.command("send-code")
def send_code(
    order_id: int, channel: str = typer.Option("sms", "--channel", help="sms or email")
) -> None:
    """Send the customer a one-time code to verify their identity."""
    app = get_app()
    to = signup.send_identity_code(
        app.uow,
        actor=cli_actor(),
        order_id=order_id,
        channel=channel,
        secret_key=app.settings.secret_key,
        ttl_minutes=app.settings.one_time_code_minutes,
    )
    console.print(f"code sent to {to}")


@order_app.command("identity")
def identity(
    order_id: int,
    method: IdentityMethod = typer.Option(..., "--method"),
    document_type: str | None = typer.Option(
        None, "--document-type", help="drivers_license, state_id, passport, military_id"
    ),
    document_number: str | None = typer.Option(
        None, "--document-number", help="read off the ID; never stored"
    ),
    code: str | None = typer.Option(None, "--code", help="the one-time code"),
    json_out: bool = JSON,
) -> None:
    """Record how the customer's identity was verified."""
    app = get_app()
    show(
        signup.verify_identity(
            app.uow,
            actor=cli_actor(),
            order_id=order_id,
            method=method,
            secret_key=app.settings.secret_key,
            document_type=document_type,
            document_number=document_number,
            code=code,
        ),
        json_out,
    )


@order_app.command("credit")
def credit(
    order_id: int,
    dob: str = typer.Option(..., "--dob", help="date of birth, YYYY-MM-DD"),
    ssn_last4: str | None = typer.Option(None, "--ssn-last4"),
    json_out: bool = JSON,
) -> None:
    """Run the credit check: approve, approve with deposit, or decline."""
    try:
        born = date.fromisoformat(dob)
    except ValueError:
        raise InvalidInput(f"{dob!r} is not a date (YYYY-MM-DD)", field="dob") from None
    app = get_app()
    result = signup.credit_check(
        app.uow,
        actor=cli_actor(),
        order_id=order_id,
        bureau=app.bureau,
        policy=app.credit_policy,
        date_of_birth=born,
        ssn_last4=ssn_last4,
    )
    if json_out:
        print_json(result)
    else:
        console.print(
            f"credit: [bold]{result.outcome.label}[/]"
            + (f", deposit ${result.deposit}" if result.deposit else "")
        )


@order_app.command("payment")
def payment(
    order_id: int,
    token: str = typer.Option(..., "--token", help="the payment processor's card token"),
    no_autopay: bool = typer.Option(False, "--no-autopay"),
    json_out: bool = JSON,
) -> None:
    """Attach a payment method by its token (never a card number)."""
    app = get_app()
    show(
        signup.setup_payment(
            app.uow,
            actor=cli_actor(),
            order_id=order_id,
            gateway=app.gateway,
            token=token,
            autopay=not no_autopay,
            currency=app.settings.currency,
        ),
        json_out,
    )


@order_app.command("contract")
def contract(
    order_id: int,
    accepted_name: str = typer.Option(..., "--name", help="the account holder accepting"),
    channel: str = typer.Option("phone", "--channel", help="console, phone, web or agent"),
    json_out: bool = JSON,
) -> None:
    """Record the customer's acceptance of the contract terms."""
    app = get_app()
    show(
        signup.accept_contract(
            app.uow,
            actor=cli_actor(),
            order_id=order_id,
            accepted_name=accepted_name,
            channel=channel,
        ),
        json_out,
    )


@order_app.command("cancel")
def cancel(
    order_id: int, reason: str = typer.Option(..., "--reason"), json_out: bool = JSON
) -> None:
    """Cancel a new installation before activation; frees its port and equipment."""
    with get_app().uow() as uow:
        show(
            lifecycle.cancel_order(uow, actor=cli_actor(), order_id=order_id, reason=reason),
            json_out,
        )


@order_app.command("card-token")
def card_token(
    number: str = typer.Argument(..., help="a test card number (fake gateway only)"),
    exp: str = typer.Option("12/30", "--exp", help="MM/YY"),
    cvc: str = typer.Option("123", "--cvc"),
) -> None:
    """Tokenise a test card with the fake gateway, as a processor's page would."""
    from fiberdesk.adapters.payments.base import PaymentDeclined
    from fiberdesk.adapters.payments.fake import FakeGateway
    from fiberdesk.domain.errors import Refused

    gateway = get_app().gateway
    if not isinstance(gateway, FakeGateway):
        raise InvalidInput("card tokens come from the real processor's page, not from here")
    month, _, year = exp.partition("/")
    if not (month.isdigit() and year.isdigit()):
        raise InvalidInput("--exp is MM/YY", field="exp")
    try:
        card = gateway.tokenize(number, int(month), 2000 + int(year) % 100, cvc)
    except PaymentDeclined as exc:
        raise Refused(f"the test card was refused: {exc.message}") from None
    print(card.token)
