"""Service changes: tier, relocation, suspension and resumption, disconnection.

Every one changes the customer's account, so the customer's identity must have been
verified in the session. The costly or destructive ones (tier change, relocation,
suspension, disconnection) work in two calls: without ``confirm`` they return a preview
and its token and change nothing; with ``confirm`` set to that token (same session, same
arguments, before it expires) they carry the change out. Tier changes and disconnections
also check their own service-level token (an HMAC of what was shown).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field

from fiberdesk.agent.registry import Args, Call, ToolSpec, tool
from fiberdesk.agent.session import fingerprint
from fiberdesk.agent.tools.common import (
    Confirm,
    CustomerId,
    Offer,
    plain,
    preview_or_confirm,
)
from fiberdesk.db.base import utcnow
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.errors import InvalidInput, Refused
from fiberdesk.domain.users import Permission
from fiberdesk.services import accounts, changes, customers, disconnect, holds, relocation
from fiberdesk.services.qualification import qualification_payload, qualify_premises

P = Permission
Plan = Annotated[str, Field(min_length=2, max_length=24, description="a tier code, e.g. GIGABIT")]
ChurnReason = Literal[
    "moving_out_of_area", "price", "service_quality", "competitor", "non_payment", "deceased",
    "business_closed", "other",
]  # fmt: skip


def _owner(call: Call, args: Any) -> int:
    """The customer the change is for (``NotFound`` for an unknown one)."""
    with call.app.uow(write=False) as uow:
        return customers.get_customer(uow, actor=call.actor, customer_id=args.customer_id).id


def _without_token(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "token"}


class TierArgs(Args):
    customer_id: CustomerId
    plan: Plan
    confirm: Confirm


def change_tier(call: Call, args: TierArgs) -> dict[str, Any]:
    app = call.app

    def preview() -> Offer:
        p = changes.preview_change(
            app.uow,
            actor=call.actor,
            customer_id=args.customer_id,
            plan_code=args.plan,
            rules=app.rules,
            secret_key=app.settings.secret_key,
        )
        return Offer(_without_token(plain(p)), p.token, p.expires_at)

    def carry_out(token: str) -> dict[str, Any]:
        done = changes.change_tier(
            app.uow,
            actor=call.actor,
            network=app.network,
            customer_id=args.customer_id,
            plan_code=args.plan,
            confirm=token,
            rules=app.rules,
            secret_key=app.settings.secret_key,
        )
        return {"done": True, "change": _without_token(plain(done))}

    return preview_or_confirm(
        call,
        customer_id=args.customer_id,
        facts=fingerprint(plan=args.plan.upper()),
        confirm=args.confirm,
        preview=preview,
        carry_out=carry_out,
    )


class DisconnectArgs(Args):
    customer_id: CustomerId
    churn_reason: ChurnReason = Field(description="why the customer is leaving")
    on: date | None = Field(None, description="the disconnection day (default today)")
    confirm: Confirm


def disconnect_service(call: Call, args: DisconnectArgs) -> dict[str, Any]:
    app = call.app
    day = args.on or utcnow().date()

    def preview() -> Offer:
        bill = disconnect.preview_disconnect(
            app.uow,
            actor=call.actor,
            customer_id=args.customer_id,
            on=day,
            settings=app.return_settings,
            secret_key=app.settings.secret_key,
        )
        shown = {"churn_reason": args.churn_reason, "final_bill": _without_token(plain(bill))}
        return Offer(shown, bill.token)

    def carry_out(token: str) -> dict[str, Any]:
        bill = disconnect.disconnect(
            app.uow,
            actor=call.actor,
            network=app.network,
            gateway=app.gateway,
            customer_id=args.customer_id,
            on=day,
            churn_reason=args.churn_reason,
            confirm=token,
            settings=app.return_settings,
            secret_key=app.settings.secret_key,
        )
        return {"done": True, "final_bill": _without_token(plain(bill))}

    return preview_or_confirm(
        call,
        customer_id=args.customer_id,
        facts=fingerprint(on=day, churn_reason=args.churn_reason),
        confirm=args.confirm,
        preview=preview,
        carry_out=carry_out,
    )


class SuspendArgs(Args):
    customer_id: CustomerId
    until: date = Field(description="the hold's last day, YYYY-MM-DD")
    confirm: Confirm


def _suspension(call: Call, args: SuspendArgs) -> dict[str, Any]:
    """What a vacation hold until ``args.until`` would be (the service's own rules)."""
    app, today = call.app, utcnow().date()
    with app.uow(write=False) as uow:
        c = customers.get_customer(uow, actor=call.actor, customer_id=args.customer_id)
        plan = accounts.account_summary(uow, actor=call.actor, customer_id=c.id, orders=1).plan
    if c.status is not ServiceStatus.ACTIVE:
        raise Refused(f"only active service can be put on hold (it is {c.status.value})")
    days = (args.until - today).days
    st = app.hold_settings
    if not st.min_vacation_days <= days <= st.max_vacation_days:
        raise InvalidInput(
            f"a vacation hold lasts {st.min_vacation_days} to {st.max_vacation_days} days "
            f"({days} asked)",
            field="until",
        )
    return {
        "customer_id": c.id,
        "account_number": c.account_number,
        "kind": "vacation hold",
        "starts_on": today,
        "ends_on": args.until,
        "days": days,
        "monthly_fee_while_held": st.vacation_fee,
        "plan_price": plan.monthly_price if plan else None,
        "summary": f"Service is suspended from today to {args.until:%Y-%m-%d} ({days} days): "
        f"the internet stops at the ONT, the monthly charge is the hold fee {st.vacation_fee} "
        "instead of the plan's price, and service resumes on its own on the last day (or "
        "earlier with resume_service). The customer gets a suspension notice.",
    }


def suspend_service(call: Call, args: SuspendArgs) -> dict[str, Any]:
    app = call.app
    shown = _suspension(call, args)

    def carry_out(token: str) -> dict[str, Any]:
        hold_id = holds.vacation_hold(
            app.uow,
            actor=call.actor,
            network=app.network,
            customer_id=args.customer_id,
            ends_on=args.until,
            settings=app.hold_settings,
        )
        return {"done": True, "hold_id": hold_id, "suspension": shown}

    return preview_or_confirm(
        call,
        customer_id=args.customer_id,
        facts=fingerprint(until=args.until),
        confirm=args.confirm,
        preview=lambda: Offer(shown),
        carry_out=carry_out,
    )


class ResumeArgs(Args):
    customer_id: CustomerId
    reason: str = Field("on request", min_length=1, max_length=200)


def resume_service(call: Call, args: ResumeArgs) -> dict[str, Any]:
    app = call.app
    holds.resume(
        app.uow,
        actor=call.actor,
        network=app.network,
        customer_id=args.customer_id,
        settings=app.hold_settings,
        reason=args.reason,
    )
    return {"done": True, "customer_id": args.customer_id, "status": "ACTIVE"}


class RelocateArgs(Args):
    customer_id: CustomerId
    new_premises_id: int = Field(ge=1, description="the new address's premises id")
    plan: Plan | None = Field(None, description="another tier at the new address, if wanted")
    confirm: Confirm


def _relocation(call: Call, args: RelocateArgs) -> dict[str, Any]:
    app = call.app
    with app.uow(write=False) as uow:
        c = customers.get_customer(uow, actor=call.actor, customer_id=args.customer_id)
        q = qualify_premises(
            uow, actor=call.actor, premises_id=args.new_premises_id, rules=app.rules
        )
    if c.status is not ServiceStatus.ACTIVE:
        raise Refused(f"only active service can relocate (it is {c.status.value})")
    if args.new_premises_id == c.premises_id:
        raise InvalidInput("that is the current address", field="new_premises_id")
    payload = qualification_payload(q)
    if not q.can_quote:
        raise Refused("the new address cannot be served: " + " ".join(q.messages))
    plan = (args.plan or c.plan_code or "").upper()
    tier = next((t for t in q.tiers if t.code == plan), None)
    if tier is None or not tier.offered:
        offered = ", ".join(sorted(t.code for t in q.tiers if t.offered))
        raise Refused(f"{plan} is not on offer at the new address (on offer: {offered})")
    return {
        "customer_id": c.id,
        "from_address": c.service_address,
        "to": payload["premises"],
        "decision": payload["decision"],
        "nap": payload["nap"],
        "port": payload["port"],
        "tier": plain(tier),
        "survey_requirements": payload["survey_requirements"],
        "summary": "A relocation order is opened and a port is held at the new address; the "
        "customer is RELOCATING and keeps service at the old address until the move is "
        "completed. Book the visit with book_installation on the returned order.",
    }


def relocate(call: Call, args: RelocateArgs) -> dict[str, Any]:
    app = call.app
    shown = _relocation(call, args)

    def carry_out(token: str) -> dict[str, Any]:
        order = relocation.start_relocation(
            app.uow,
            actor=call.actor,
            customer_id=args.customer_id,
            new_premises_id=args.new_premises_id,
            rules=app.rules,
            plan_code=args.plan,
        )
        return {"done": True, "order": plain(order)}

    return preview_or_confirm(
        call,
        customer_id=args.customer_id,
        facts=fingerprint(to=args.new_premises_id, plan=(args.plan or "").upper()),
        confirm=args.confirm,
        preview=lambda: Offer(shown),
        carry_out=carry_out,
    )


TOOLS: list[ToolSpec[Any]] = [
    tool(
        "change_tier",
        title="Change tier",
        description="""Upgrade (at once, prorated) or downgrade (from the next cycle) the
        customer's tier. Call without confirm first: the answer is a preview with the exact
        proration and a token, and nothing changes. Once the customer agrees, call again
        with the same arguments and confirm=<token>. Needs the customer's verified
        identity.""",
        args=TierArgs,
        permission=P.CUSTOMERS_WRITE,
        handler=change_tier,
        account=_owner,
        destructive=True,
    ),
    tool(
        "relocate",
        title="Relocate service",
        description="""Move the customer's service to a new address: without confirm, a
        preview (is the new address serviceable, NAP and port, the tier there); with
        confirm=<token>, a relocation order is opened and the port held. Needs the
        customer's verified identity.""",
        args=RelocateArgs,
        permission=P.ORDERS_WRITE,
        handler=relocate,
        account=_owner,
        destructive=True,
    ),
    tool(
        "suspend_service",
        title="Suspend service (vacation hold)",
        description="""Suspend active service until a date at the reduced hold fee: without
        confirm, a preview (dates, fee, what happens); with confirm=<token>, the hold
        starts and the ONT is suspended. Needs the customer's verified identity.""",
        args=SuspendArgs,
        permission=P.CUSTOMERS_WRITE,
        handler=suspend_service,
        account=_owner,
        destructive=True,
    ),
    tool(
        "resume_service",
        title="Resume service",
        description="""End the customer's holds and restore service now (a non-payment
        suspension only once nothing is overdue). Needs the customer's verified
        identity.""",
        args=ResumeArgs,
        permission=P.CUSTOMERS_WRITE,
        handler=resume_service,
        account=_owner,
    ),
    tool(
        "disconnect_service",
        title="Disconnect service",
        description="""Close the customer's account. Without confirm: the final bill as it
        would be (prorated service, early termination fee, deposit returned, tax), the
        equipment to return and by when, and a token; nothing changes. With
        confirm=<token> (same arguments): the final invoice is posted, the port and IP are
        released, the ONT removed from the OLT and the customer DISCONNECTED. Needs the
        customer's verified identity.""",
        args=DisconnectArgs,
        permission=P.CUSTOMERS_WRITE,
        handler=disconnect_service,
        account=_owner,
        destructive=True,
    ),
]
