"""Customer communications, and the wider picture: KPIs and outages in an area."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field

from fiberdesk.agent.registry import Args, Call, ToolSpec, tool
from fiberdesk.agent.tools.common import CustomerId, plain
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import Permission
from fiberdesk.messages import Branding, default_templates
from fiberdesk.services import customers, kpis, outages, outreach

P = Permission
#: what an agent may send by hand: notices that restate facts of the record. Identity
#: codes, survey links, suspension, welcome and disconnection messages come only from the
#: actions that cause them.
SENDABLE = (
    "quote", "order_confirmation", "installation_confirmation", "appointment_reminder",
    "ticket_opened", "ticket_updated", "ticket_resolved", "outage_notification",
    "restoration_notice", "planned_maintenance", "payment_reminder",
    "equipment_return_reminder",
)  # fmt: skip
Sendable = Literal[
    "quote", "order_confirmation", "installation_confirmation", "appointment_reminder",
    "ticket_opened", "ticket_updated", "ticket_resolved", "outage_notification",
    "restoration_notice", "planned_maintenance", "payment_reminder",
    "equipment_return_reminder",
]  # fmt: skip
FROM_RECORD = ("customer_name", "account_number")


class MessageArgs(Args):
    customer_id: CustomerId
    kind: Sendable = Field(description="the template (see the fiberdesk://templates resource)")
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="the template's fields (fiberdesk://templates/{kind} lists them); "
        "customer_name and account_number come from the customer's record",
    )
    channel: Literal["email", "sms"] = "email"


def send_message(call: Call, args: MessageArgs) -> dict[str, Any]:
    app, templates = call.app, default_templates()
    spec = templates.spec(args.kind)
    unknown = sorted(set(args.fields) - spec.field_names)
    if unknown:
        raise InvalidInput(
            f"the {args.kind} template has no field {', '.join(unknown)} "
            f"(its fields: {', '.join(sorted(spec.field_names))})",
            field="fields",
        )
    with app.uow(write=False) as uow:
        c = customers.get_customer(uow, actor=call.actor, customer_id=args.customer_id)
    record = {"customer_name": c.name, "account_number": c.account_number}
    context = {**args.fields, **{k: v for k, v in record.items() if k in spec.field_names}}
    rendered = templates.render(args.kind, context, Branding.from_settings(app.settings))
    with app.uow() as uow:
        sent = outreach.send_to_customer(
            uow,
            actor=call.actor,
            customer_id=c.id,
            kind=args.kind,
            context=context,
            key=f"agent-{uuid.uuid4().hex}",
            channel=args.channel,
        )
    return {"sent": plain(sent), "subject": rendered.subject, "text": rendered.text}


class KpiArgs(Args):
    start: date | None = Field(None, description="first day, UTC (default: 29 days before end)")
    end: date | None = Field(None, description="last day, inclusive (default: today)")
    team: Literal["CSR", "NOC", "DISPATCH", "BILLING", "FIELD"] | None = None
    area: Annotated[str, Field(pattern=r"^\d{5}$", description="a ZIP code")] | None = None


def key_metrics(call: Call, args: KpiArgs) -> dict[str, Any]:
    app = call.app
    begin, finish = kpis.day_period(args.start, args.end, today=utcnow().date())
    with app.uow(write=False) as uow:
        values = kpis.compute(
            uow,
            actor=call.actor,
            start=begin,
            end=finish,
            team=args.team,
            area=args.area,
            definitions=app.kpi_settings.definitions,
        )
    return {"kpis": [v.as_dict() for v in values]}


class OutageArgs(Args):
    zip_code: Annotated[str, Field(pattern=r"^\d{5}$", description="the area's ZIP code")]
    open_only: bool = Field(True, description="only outages not yet resolved")
    limit: int = Field(20, ge=1, le=100)


def outages_in_area(call: Call, args: OutageArgs) -> dict[str, Any]:
    with call.app.uow(write=False) as uow:
        found = outages.list_outages(
            uow,
            actor=call.actor,
            zip_code=args.zip_code,
            limit=500 if args.open_only else args.limit,
        )
    if args.open_only:
        found = [o for o in found if o.status in outages.OPEN]
    return {"zip_code": args.zip_code, "outages": [plain(o) for o in found[: args.limit]]}


TOOLS: list[ToolSpec[Any]] = [
    tool(
        "send_message",
        title="Send a message from a template",
        description="""Send the customer one of the message templates (installation
        confirmation, outage notification, ticket update, …) by e-mail or SMS to the address
        on their record, through the outbox. The fields are checked against the template
        before anything is queued; the rendered subject and text come back.""",
        args=MessageArgs,
        permission=P.CUSTOMERS_WRITE,
        handler=send_message,
    ),
    tool(
        "key_metrics",
        title="KPIs",
        description="""The five KPIs (install lead time, first-call resolution, customer
        satisfaction, monthly churn, ticket resolution time) over a period, for everyone,
        one team or one ZIP code, each with its target, alert threshold and status.""",
        args=KpiArgs,
        permission=P.REPORTS_READ,
        handler=key_metrics,
        read_only=True,
    ),
    tool(
        "outages_in_area",
        title="Outages in an area",
        description="""Outages with a customer in a ZIP code, newest first: kind, the
        network element (scope), status, when detected, the estimated repair time and how
        many customers are affected.""",
        args=OutageArgs,
        permission=P.NETWORK_READ,
        handler=outages_in_area,
        read_only=True,
    ),
]
