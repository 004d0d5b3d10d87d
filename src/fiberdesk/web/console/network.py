"""Console pages: the network view (/console/network), for the NOC.

The PON tree drawn as SVG by the server and coloured by live status, so a fiber cut shows
at a glance: the overview draws every OLT's PON ports (problems first in the table below),
``?olt=`` one OLT, ``?pon=`` one PON port down to its splitters, NAPs and customers. Every
drawing has a table of the same data beside it for screen readers and for reading.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.network_health import ElementHealth, OntHealth, rank
from fiberdesk.domain.users import Permission
from fiberdesk.services import network_map
from fiberdesk.services.network_map import Node, PonSummary
from fiberdesk.web import network_svg
from fiberdesk.web.console.auth import NetworkUser
from fiberdesk.web.console.pages import page
from fiberdesk.web.deps import get_app

router = APIRouter(include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
User = NetworkUser
#: PON ports listed in the overview's table of problems
PROBLEM_ROWS = 30


def _id(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise InvalidInput(f"{name} must be a number", field=name)
    return int(text)


def pon_href(p: PonSummary) -> str:
    return f"/console/network?pon={p.id}"


def node_href(n: Node) -> str | None:
    if n.kind == "olt":
        return f"/console/network?olt={n.id}"
    if n.kind == "pon":
        return f"/console/network?pon={n.id}"
    if n.kind == "customer":
        return f"/console/customers/{n.id}"
    return None


@router.get("/console/network", response_class=HTMLResponse)
def network_view(
    request: Request,
    user: User,
    app: App,
    olt: Annotated[str | None, Query(max_length=12)] = None,
    pon: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    olt_id, pon_id = _id(olt, "olt"), _id(pon, "pon")
    actor = user.actor
    state = network_map.live_state(app.uow, actor=actor, network=app.network)
    may_declare = actor.can(Permission.NETWORK_WRITE)
    common: dict[str, Any] = {
        "state": state,
        "legend": network_svg.legend(),
        "counts_text": network_svg.counts_text,
        "node_title": network_svg.node_title,
        "may_declare": may_declare,
        "OntHealth": OntHealth,
    }
    if pon_id is not None:
        with app.uow(write=False) as uow:
            root = network_map.pon_tree(uow, actor=actor, state=state, pon_id=pon_id)
        port = root.children[0]
        svg = network_svg.pon_tree(
            root, node_href, label=f"PON port {port.label}: the tree down to its customers"
        )
        return page(
            request,
            user,
            "console/network/pon.html",
            area="network",
            root=root,
            port=port,
            rows=network_map.walk(root),
            svg=svg,
            **common,
        )
    with app.uow(write=False) as uow:
        olts = network_map.overview(uow, actor=actor, state=state, olt_id=olt_id)
    drawings = {o.id: network_svg.olt_ports(o, pon_href, cell=30 if olt_id else 22) for o in olts}
    pons = [p for o in olts for p in o.pons]
    if olt_id is None:
        listed = [p for p in pons if p.health not in (ElementHealth.OK, ElementHealth.IDLE)]
        listed.sort(key=lambda p: (rank(p.health), -p.problems, p.label))
        listed = listed[:PROBLEM_ROWS]
    else:
        listed = pons
    return page(
        request,
        user,
        "console/network/overview.html",
        area="network",
        olts=olts,
        one=olts[0] if olt_id is not None else None,
        drawings=drawings,
        listed=listed,
        pon_title=network_svg.pon_title,
        **common,
    )
