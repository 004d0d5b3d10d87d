"""Tickets and guided troubleshooting: open, work and resolve a customer's problem."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from fiberdesk.agent.registry import Args, Call, ToolSpec, tool
from fiberdesk.agent.tools.common import CustomerId, plain
from fiberdesk.domain.tickets import Team, TicketCategory, TicketPriority, TicketStatus
from fiberdesk.domain.users import Permission
from fiberdesk.services import tickets, troubleshooting

P = Permission
TicketId = Annotated[int, Field(ge=1, description="the ticket's id")]
SessionId = Annotated[int, Field(ge=1, description="the troubleshooting session's id")]


class TicketArgs(Args):
    customer_id: CustomerId
    category: TicketCategory
    description: str = Field(min_length=1, max_length=10_000, description="the problem")
    priority: TicketPriority = TicketPriority.NORMAL
    team: Team = Team.CSR


def create_ticket(call: Call, args: TicketArgs) -> dict[str, Any]:
    with call.app.uow() as uow:
        view = tickets.open_ticket(
            uow,
            actor=call.actor,
            customer_id=args.customer_id,
            category=args.category,
            description=args.description,
            priority=args.priority,
            team=args.team,
            settings=call.app.ticket_settings,
        )
    return {"ticket": plain(view)}


class UpdateArgs(Args):
    ticket_id: TicketId
    status: TicketStatus | None = Field(None, description="move it (resolve with resolve_ticket)")
    team: Team | None = None
    assignee: str | None = Field(None, max_length=64, description="a username")
    note: str | None = Field(None, max_length=10_000, description="logged on the ticket")
    customer_contact: bool = Field(False, description="this is another contact from them")


def update_ticket(call: Call, args: UpdateArgs) -> dict[str, Any]:
    with call.app.uow() as uow:
        view = tickets.update_ticket(
            uow,
            actor=call.actor,
            ticket_id=args.ticket_id,
            status=args.status,
            team=args.team,
            assignee=args.assignee,
            note=args.note,
            customer_contact=args.customer_contact,
            settings=call.app.ticket_settings,
        )
    return {"ticket": plain(view)}


class ResolveArgs(Args):
    ticket_id: TicketId
    code: str = Field(min_length=1, max_length=40, description="e.g. ROUTER_RESTART")
    text: str = Field(min_length=1, max_length=10_000, description="what fixed it")


def resolve_ticket(call: Call, args: ResolveArgs) -> dict[str, Any]:
    with call.app.uow() as uow:
        view = tickets.resolve_ticket(
            uow,
            actor=call.actor,
            ticket_id=args.ticket_id,
            code=args.code,
            text=args.text,
            settings=call.app.ticket_settings,
        )
    return {"ticket": plain(view)}


class StartArgs(Args):
    ticket_id: TicketId
    flow: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,31}$",
        description="the flow's code: no_internet, slow_internet, intermittent (see the "
        "fiberdesk://flows resource)",
    )


def _session(view: troubleshooting.SessionView) -> dict[str, Any]:
    data = plain(view)
    return {"session": data, "next": _next(view)}


def _next(view: troubleshooting.SessionView) -> str:
    if view.status == "COMPLETED":
        return "The flow reached its outcome; tell the customer what it says."
    if view.status == "PAUSED":
        return "Paused; resume_troubleshooting picks it up with fresh checks."
    if view.prompt is not None:
        return (
            "Read any guidance to the customer, ask the prompt's question, and answer with "
            "answer_troubleshooting (node and the chosen option's id)."
        )
    return "Nothing to ask."


def start_troubleshooting(call: Call, args: StartArgs) -> dict[str, Any]:
    app = call.app
    view = troubleshooting.start_session(
        app.uow,
        actor=call.actor,
        network=app.network,
        ticket_id=args.ticket_id,
        flow_code=args.flow,
        scheduling=app.scheduling,
    )
    return _session(view)


class AnswerArgs(Args):
    session_id: SessionId
    node: str = Field(min_length=1, max_length=60, description="the prompt's node")
    option: str = Field(min_length=1, max_length=60, description="the chosen option's id")


def answer_troubleshooting(call: Call, args: AnswerArgs) -> dict[str, Any]:
    app = call.app
    view = troubleshooting.answer(
        app.uow,
        actor=call.actor,
        network=app.network,
        session_id=args.session_id,
        node_id=args.node,
        option=args.option,
        scheduling=app.scheduling,
    )
    return _session(view)


class SessionArgs(Args):
    session_id: SessionId


def pause_troubleshooting(call: Call, args: SessionArgs) -> dict[str, Any]:
    return _session(
        troubleshooting.pause(call.app.uow, actor=call.actor, session_id=args.session_id)
    )


def resume_troubleshooting(call: Call, args: SessionArgs) -> dict[str, Any]:
    app = call.app
    view = troubleshooting.resume(
        app.uow,
        actor=call.actor,
        network=app.network,
        session_id=args.session_id,
        scheduling=app.scheduling,
    )
    return _session(view)


TOOLS: list[ToolSpec[Any]] = [
    tool(
        "create_ticket",
        title="Open a ticket",
        description="""Open a support ticket for a customer, with its SLA from the priority.
        A ticket opened inside an outage on the customer's network path is linked to it.""",
        args=TicketArgs,
        permission=P.TICKETS_WRITE,
        handler=create_ticket,
    ),
    tool(
        "update_ticket",
        title="Update a ticket",
        description="""Move a ticket to another status, hand it to a team or a person, log a
        note, or record another contact from the customer.""",
        args=UpdateArgs,
        permission=P.TICKETS_WRITE,
        handler=update_ticket,
    ),
    tool(
        "resolve_ticket",
        title="Resolve a ticket",
        description="""Resolve a ticket with a resolution code and what was done; the
        customer is told.""",
        args=ResolveArgs,
        permission=P.TICKETS_WRITE,
        handler=resolve_ticket,
    ),
    tool(
        "start_troubleshooting",
        title="Start a troubleshooting flow",
        description="""Start a guided flow on a ticket. Its automatic checks (account, planned
        maintenance, ONT status and alarms, outages in the area, diagnostics) run first,
        then it stops at the first question for the customer, or at an outcome: resolved,
        escalated to the NOC (linked to an outage), or a repair visit.""",
        args=StartArgs,
        permission=P.TICKETS_WRITE,
        handler=start_troubleshooting,
    ),
    tool(
        "answer_troubleshooting",
        title="Answer a troubleshooting question",
        description="""Answer the session's open question with one of its options; the checks
        are re-read and the flow goes on to the next question or its outcome.""",
        args=AnswerArgs,
        permission=P.TICKETS_WRITE,
        handler=answer_troubleshooting,
    ),
    tool(
        "pause_troubleshooting",
        title="Pause a troubleshooting flow",
        description="""Pause a session (the customer will call back, or must try something
        that takes time).""",
        args=SessionArgs,
        permission=P.TICKETS_WRITE,
        handler=pause_troubleshooting,
    ),
    tool(
        "resume_troubleshooting",
        title="Resume a troubleshooting flow",
        description="""Resume a paused session: every check is read again, then the flow
        continues from the last answer.""",
        args=SessionArgs,
        permission=P.TICKETS_WRITE,
        handler=resume_troubleshooting,
    ),
]
