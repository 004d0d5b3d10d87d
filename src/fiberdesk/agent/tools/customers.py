"""Finding a customer and seeing their whole situation: record, diagnostics, notes, billing."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from fiberdesk.agent.registry import Args, Call, ToolSpec, tool
from fiberdesk.agent.tools.common import CustomerId, plain, without_billing
from fiberdesk.domain.customers import NoteType, ServiceStatus
from fiberdesk.domain.errors import NotFound, Refused
from fiberdesk.domain.users import Permission
from fiberdesk.services import accounts, billing, customers, diagnostics, search, tickets

P = Permission


class FindArgs(Args):
    query: Annotated[
        str,
        Field(
            min_length=2,
            max_length=100,
            description="what the caller gave: a name (typos are fine), account number, "
            "phone, email, service address, ONT serial or ticket number",
        ),
    ]
    status: ServiceStatus | None = Field(None, description="only customers in this status")
    limit: int = Field(10, ge=1, le=50, description="at most this many matches")


def search_customers(
    call: Call, query: str, status: ServiceStatus | None, limit: int
) -> list[tuple[customers.CustomerView, str]]:
    """The global search of the console and the API (``services.search``): each matching
    customer once, best first, with what matched."""
    with call.app.uow(write=False) as uow:
        hits = search.search(uow, actor=call.actor, query=query, limit=search.MAX_LIMIT)
        found: list[tuple[customers.CustomerView, str]] = []
        seen: set[int] = set()
        for hit in hits:
            if hit.customer_id in seen:
                continue
            seen.add(hit.customer_id)
            view = customers.get_customer(uow, actor=call.actor, customer_id=hit.customer_id)
            if status is None or view.status is status:
                found.append((view, hit.matched_label))
            if len(found) == limit:
                break
    return found


def _brief(c: customers.CustomerView, matched: str | None = None) -> dict[str, Any]:
    return {
        **({"matched": matched} if matched else {}),
        "customer_id": c.id,
        "account_number": c.account_number,
        "name": c.name,
        "service_address": c.service_address,
        "status": c.status.value,
        "plan": c.plan_code,
    }


def find_customer(call: Call, args: FindArgs) -> dict[str, Any]:
    found = search_customers(call, args.query.strip(), args.status, args.limit)
    matches = [_brief(c, matched) for c, matched in found]
    return {"query": args.query, "matches": matches, "count": len(found)}


class CustomerArgs(Args):
    customer_id: CustomerId


def _status(status: ServiceStatus) -> dict[str, str]:
    return {"code": status.value, "category": status.label, "meaning": status.description}


def customer_context(call: Call, args: CustomerArgs) -> dict[str, Any]:
    actor, app = call.actor, call.app
    with app.uow(write=False) as uow:
        c = customers.get_customer(uow, actor=actor, customer_id=args.customer_id)
        summary = accounts.account_summary(uow, actor=actor, customer_id=c.id)
        open_tickets = tickets.list_tickets(uow, actor=actor, customer_id=c.id, open_only=True)
        notes = tickets.list_notes(uow, actor=actor, customer_id=c.id)[:10]
    try:
        live: dict[str, Any] | str = without_billing(
            call,
            diagnostics.run_diagnostics(
                app.uow, actor=actor, customer_id=c.id, network=app.network, ping=False
            ).as_dict(),
        )
    except Refused as exc:
        live = exc.reason
    balance: dict[str, Any] | str = "not shown: this role may not read billing"
    if actor.can(P.BILLING_READ):
        try:
            with app.uow(write=False) as uow:
                account = billing.account_view(uow, actor=actor, customer_id=c.id, entries=5)
            balance = {
                "balance": account.balance,
                "currency": account.currency,
                "standing": account.standing,
                "open_invoices": account.open_invoices,
                "autopay": account.autopay,
            }
        except NotFound:
            balance = "no billing account yet (billing starts at activation)"
    return {
        "customer_id": c.id,
        "account_number": c.account_number,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "status": _status(c.status),
        "tier": plain(summary.plan),
        "service_address": c.service_address,
        "premises_id": c.premises_id,
        "nap": {"nap_id": c.nap_id, "nap_code": c.nap_code, "port": c.port_number},
        "equipment": [plain(e) for e in summary.equipment],
        "live_diagnostics": live,
        "open_tickets": [
            {
                "ticket_id": t.id,
                "number": t.number,
                "category": t.category.value,
                "status": t.status.value,
                "priority": t.priority.value,
                "description": t.description,
                "outage_id": t.outage_id,
                "sla_state": t.sla_state,
            }
            for t in open_tickets
        ],
        "recent_orders": [plain(o) for o in summary.orders],
        "balance": balance,
        "notes": [
            {"type": n.type.value, "content": n.content, "by": n.created_by, "at": n.created_at}
            for n in notes
        ],
        "identity_verified_in_session": call.session.is_verified(c.id),
        "activated_at": c.activated_at,
        "disconnected_at": c.disconnected_at,
    }


class DiagnosticsArgs(Args):
    customer_id: CustomerId
    ping: bool = Field(True, description="also ping the ONT from the OLT")


def run_diagnostics(call: Call, args: DiagnosticsArgs) -> dict[str, Any]:
    result = diagnostics.run_diagnostics(
        call.app.uow,
        actor=call.actor,
        customer_id=args.customer_id,
        network=call.app.network,
        ping=args.ping,
    )
    return without_billing(call, result.as_dict())


class NoteArgs(Args):
    customer_id: CustomerId
    content: Annotated[str, Field(min_length=1, max_length=10_000, description="the note")]
    type: NoteType = Field(NoteType.CALL, description="what kind of note")


def add_note(call: Call, args: NoteArgs) -> dict[str, Any]:
    with call.app.uow() as uow:
        note = tickets.add_note(
            uow,
            actor=call.actor,
            customer_id=args.customer_id,
            type=args.type,
            content=args.content,
        )
    return {"note": plain(note)}


class BillingArgs(Args):
    customer_id: CustomerId
    entries: int = Field(20, ge=1, le=200, description="how many ledger entries, newest first")


def billing_account(call: Call, args: BillingArgs) -> dict[str, Any]:
    with call.app.uow(write=False) as uow:
        view = billing.account_view(
            uow, actor=call.actor, customer_id=args.customer_id, entries=args.entries
        )
    return {"account": plain(view)}


TOOLS: list[ToolSpec[Any]] = [
    tool(
        "find_customer",
        title="Find a customer",
        description="""Find customers the way the console's search box does: by name
        (typo-tolerant), account number, phone in any format, email, service address, ONT
        serial or ticket number; best match first. Returns each match's customer_id, what
        matched, account number, address, service status and plan. Use the customer_id with
        the other tools.""",
        args=FindArgs,
        permission=P.CUSTOMERS_READ,
        handler=find_customer,
        read_only=True,
        only_for=search.may_search,
    ),
    tool(
        "customer_context",
        title="Customer context",
        description="""Everything about one customer before acting: service status (code,
        category, meaning), tier with speeds and price, service address, NAP and port,
        equipment, live ONT diagnostics (registration, Rx power, alarms, outages and
        maintenance on the path), open tickets, recent orders with their visits, balance
        (roles that may read billing), recent notes, and whether the customer's identity
        was verified in this session.""",
        args=CustomerArgs,
        permission=P.CUSTOMERS_READ,
        handler=customer_context,
        read_only=True,
    ),
    tool(
        "run_diagnostics",
        title="Remote diagnostics",
        description="""Live checks of the customer's ONT from the OLT: registered, online,
        Rx/Tx power and signal class, active alarms and those of the last 24 hours, a ping,
        suspension, planned maintenance and outages on the customer's network path, and
        the PON port's utilisation.""",
        args=DiagnosticsArgs,
        permission=P.CUSTOMERS_READ,
        handler=run_diagnostics,
        read_only=True,
    ),
    tool(
        "add_note",
        title="Add a customer note",
        description="""Write a note on the customer's record (kept with the author and the
        time): what the customer said, what was agreed, site access details.""",
        args=NoteArgs,
        permission=P.CUSTOMERS_READ,
        handler=add_note,
    ),
    tool(
        "billing_account",
        title="Billing account",
        description="""The customer's billing account: balance, standing, billing cycle,
        open invoices, autopay, and the latest ledger entries. Billing roles only.""",
        args=BillingArgs,
        permission=P.BILLING_READ,
        handler=billing_account,
        read_only=True,
    ),
]
