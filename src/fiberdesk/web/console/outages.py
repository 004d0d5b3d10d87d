"""Console pages: the outage board (/console/outages) and one outage (/console/outages/{id}).

Everyone in the outages area (CSRs, the NOC, supervisors) sees the board, the outages, their
customers, tickets, alarms and the notices sent; the NOC's forms (check the network for
alarms, confirm, new estimate or note, declare restored, declare an outage by hand, plan
maintenance) are shown only to roles that may change the network, and their POSTs answer
403 to the others. The forms call the same services as /api/v1/outages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import FiberdeskError, InvalidInput
from fiberdesk.domain.outages import OutageKind, OutageStatus, Scope
from fiberdesk.domain.users import Permission
from fiberdesk.services import outage_board, outages
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import CheckedForm, OutagesUser, text
from fiberdesk.web.console.forms import fields
from fiberdesk.web.console.nav import may_open
from fiberdesk.web.console.pages import form_errors, page, redirect
from fiberdesk.web.deps import get_app

User = OutagesUser

router = APIRouter(include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
#: elements an outage or a maintenance window can be on, biggest first
SCOPES = [
    (s.value, s.label) for s in (Scope.OLT, Scope.PON_PORT, Scope.SPLITTER, Scope.NAP, Scope.ONT)
]
KINDS = [(k.value, k.label) for k in OutageKind]
#: messages after a redirect, by the ``done`` query value
DONE = {
    "declared": "Outage declared: its customers are being told.",
    "confirmed": "Outage confirmed.",
    "updated": "Outage updated.",
    "restored": "Outage closed as restored: its customers are being told.",
    "planned": "Maintenance window planned: the customers under it are being told.",
}


def _may_write(user: SignedIn) -> bool:
    return user.actor.can(Permission.NETWORK_WRITE)


def _time(value: str, name: str, *, required: bool = False) -> datetime | None:
    """A ``datetime-local`` field (``YYYY-MM-DDTHH:MM``), read as UTC."""
    if not value:
        if required:
            raise InvalidInput("give a date and time", field=name)
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("give a date and time as YYYY-MM-DD HH:MM", field=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _choice(value: str, options: list[tuple[str, str]], name: str) -> str:
    if value not in {v for v, _ in options}:
        raise InvalidInput("choose one of the options", field=name)
    return value


def _renamed(errors: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    return {names.get(k, k): v for k, v in errors.items()}


# -- the board ---------------------------------------------------------------------------


@router.get("/console/outages", response_class=HTMLResponse)
def outage_board_page(
    request: Request,
    user: User,
    app: App,
    done: Annotated[str | None, Query(max_length=20)] = None,
    opened: Annotated[int | None, Query(ge=0)] = None,
    stored: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        board = outage_board.board(uow, actor=user.actor)
    flash = None
    if done == "polled":
        flash = f"Network checked: {stored or 0} new alarms, {opened or 0} outages opened."
    elif done in DONE:
        flash = DONE[done]
    return page(
        request,
        user,
        "console/outages/board.html",
        area="outages",
        board=board,
        may_write=_may_write(user),
        flash=flash,
        now=datetime.now(UTC),
    )


@router.post("/console/outages/poll")
def poll_network(user: User, app: App, form: CheckedForm) -> Response:
    """Pull the network's alarms now and correlate them, as the scheduled poll does."""
    user.actor.require(Permission.NETWORK_WRITE)
    result = outages.poll(
        app.uow, actor=user.actor, network=app.network, settings=outages.settings_from(app.settings)
    )
    query = {
        "done": "polled",
        "stored": result.ingest.stored,
        "opened": len(result.correlation.opened),
    }
    return redirect("/console/outages?" + urlencode(query))


# -- declaring an outage by hand ---------------------------------------------------------


def _declare_form(
    request: Request,
    user: SignedIn,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return page(
        request,
        user,
        "console/outages/declare.html",
        area="outages",
        status_code=422 if errors else 200,
        values=values,
        errors=errors or {},
        scopes=SCOPES,
        kinds=KINDS,
        examples={s.value: t for s, t in outage_board.EXAMPLES.items()},
    )


@router.get("/console/outages/new", response_class=HTMLResponse)
def declare_form(
    request: Request,
    user: User,
    scope: Annotated[str, Query(max_length=12)] = "",
    element: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    user.actor.require(Permission.NETWORK_WRITE)
    values = {"scope": scope or Scope.PON_PORT.value, "element": element, "kind": "FIBER"}
    return _declare_form(request, user, values)


@router.post("/console/outages/new", response_model=None)
def declare(request: Request, user: User, app: App, form: CheckedForm) -> Response:
    user.actor.require(Permission.NETWORK_WRITE)
    values = fields(form, "scope", "element", "kind", "cause", "eta")
    try:
        scope = Scope(_choice(values["scope"], SCOPES, "scope"))
        kind = OutageKind(_choice(values["kind"], KINDS, "kind"))
        eta = _time(values["eta"], "eta")
        with app.uow() as uow:
            view = outage_board.declare_outage(
                uow,
                actor=user.actor,
                scope=scope,
                element=values["element"],
                kind=kind,
                cause=values["cause"],
                eta=eta,
                settings=outages.settings_from(app.settings),
            )
    except FiberdeskError as exc:
        return _declare_form(request, user, values, form_errors(exc))
    return redirect(f"/console/outages/{view.id}?done=declared")


# -- maintenance windows -----------------------------------------------------------------


def _maintenance_page(
    request: Request,
    user: SignedIn,
    app: Fiberdesk,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        windows = outages.list_maintenance(uow, actor=user.actor, include_past=False)
    return page(
        request,
        user,
        "console/outages/maintenance.html",
        area="outages",
        status_code=422 if errors else 200,
        windows=windows,
        values=values,
        errors=errors or {},
        scopes=SCOPES,
        may_write=_may_write(user),
        examples={s.value: t for s, t in outage_board.EXAMPLES.items()},
    )


@router.get("/console/outages/maintenance", response_class=HTMLResponse)
def maintenance_page(
    request: Request,
    user: User,
    app: App,
    scope: Annotated[str, Query(max_length=12)] = "",
    element: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    values = {"scope": scope or Scope.NAP.value, "element": element}
    return _maintenance_page(request, user, app, values)


@router.post("/console/outages/maintenance", response_model=None)
def plan_maintenance(request: Request, user: User, app: App, form: CheckedForm) -> Response:
    user.actor.require(Permission.NETWORK_WRITE)
    names = ("title", "scope", "element", "starts_at", "ends_at", "description")
    values = fields(form, *names)
    try:
        scope = Scope(_choice(values["scope"], SCOPES, "scope"))
        starts = _time(values["starts_at"], "starts_at", required=True)
        ends = _time(values["ends_at"], "ends_at", required=True)
        assert starts is not None and ends is not None
        with app.uow() as uow:
            scope_id, _ = outage_board.find_element(uow.session, scope, values["element"])
            outages.create_maintenance(
                uow,
                actor=user.actor,
                title=values["title"],
                scope=scope,
                scope_id=scope_id,
                starts_at=starts,
                ends_at=ends,
                description=values["description"],
                settings=outages.settings_from(app.settings),
            )
    except FiberdeskError as exc:
        return _maintenance_page(request, user, app, values, form_errors(exc))
    return redirect("/console/outages?done=planned")


# -- one outage --------------------------------------------------------------------------


def _detail(
    request: Request,
    user: SignedIn,
    app: Fiberdesk,
    outage_id: int,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        view = outage_board.outage_page(uow, actor=user.actor, outage_id=outage_id)
    o = view.detail.outage
    network_link = None
    if o.scope is Scope.PON_PORT:
        network_link = f"/console/network?pon={o.scope_id}"
    elif o.scope is Scope.OLT:
        network_link = f"/console/network?olt={o.scope_id}"
    elif view.pon_id is not None:
        network_link = f"/console/network?pon={view.pon_id}"
    return page(
        request,
        user,
        "console/outages/detail.html",
        area="outages",
        status_code=422 if errors else 200,
        view=view,
        o=o,
        is_open=o.status in outages.OPEN,
        may_write=_may_write(user),
        may_network=may_open(user.actor.role, "network"),
        network_link=network_link,
        form=form,
        values=values or {},
        errors=errors or {},
        flash=flash,
        now=datetime.now(UTC),
        OutageStatus=OutageStatus,
    )


@router.get("/console/outages/{outage_id}", response_class=HTMLResponse)
def outage_page(
    outage_id: int,
    request: Request,
    user: User,
    app: App,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    return _detail(request, user, app, outage_id, flash=DONE.get(done or ""))


@router.post("/console/outages/{outage_id}/confirm", response_model=None)
def confirm(outage_id: int, request: Request, user: User, app: App, form: CheckedForm) -> Response:
    user.actor.require(Permission.NETWORK_WRITE)
    values = {"cause": text(form, "cause"), "confirm_eta": text(form, "confirm_eta")}
    try:
        eta = _time(values["confirm_eta"], "eta")
        with app.uow() as uow:
            outages.confirm(
                uow, actor=user.actor, outage_id=outage_id, cause=values["cause"], eta=eta
            )
    except FiberdeskError as exc:
        errors = _renamed(form_errors(exc), {"eta": "confirm_eta"})
        return _detail(request, user, app, outage_id, form="confirm", values=values, errors=errors)
    return redirect(f"/console/outages/{outage_id}?done=confirmed")


@router.post("/console/outages/{outage_id}/update", response_model=None)
def update(outage_id: int, request: Request, user: User, app: App, form: CheckedForm) -> Response:
    user.actor.require(Permission.NETWORK_WRITE)
    values = {"eta": text(form, "eta"), "note": text(form, "note")}
    try:
        eta = _time(values["eta"], "eta")
        with app.uow() as uow:
            outage_board.update_outage(
                uow, actor=user.actor, outage_id=outage_id, eta=eta, note=values["note"]
            )
    except FiberdeskError as exc:
        return _detail(
            request, user, app, outage_id, form="update", values=values, errors=form_errors(exc)
        )
    return redirect(f"/console/outages/{outage_id}?done=updated")


@router.post("/console/outages/{outage_id}/resolve", response_model=None)
def resolve(outage_id: int, request: Request, user: User, app: App, form: CheckedForm) -> Response:
    user.actor.require(Permission.NETWORK_WRITE)
    values = {"resolve_note": text(form, "resolve_note")}
    try:
        with app.uow() as uow:
            outages.resolve_outage(
                uow,
                actor=user.actor,
                outage_id=outage_id,
                note=values["resolve_note"],
                settings=outages.settings_from(app.settings),
            )
    except FiberdeskError as exc:
        errors = _renamed(form_errors(exc), {"note": "resolve_note"})
        return _detail(request, user, app, outage_id, form="resolve", values=values, errors=errors)
    return redirect(f"/console/outages/{outage_id}?done=restored")
