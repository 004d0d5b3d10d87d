"""The dispatch board (/console/dispatch) and one appointment (/console/dispatch/
appointments/{id}): reschedule, reassign, cancel. The same services as the REST API's
appointments router and ``fiberdesk dispatch``: ``services.scheduling`` books, and a
refusal (a window that filled up, a technician at capacity) is shown next to the field."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import FiberdeskError, InvalidInput
from fiberdesk.domain.orders import OrderStatus
from fiberdesk.services import dispatch_board, fieldwork, scheduling
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import CheckedForm, DispatchUser, text
from fiberdesk.web.console.forms import on_slot, typed_values
from fiberdesk.web.console.pages import form_errors, page, redirect
from fiberdesk.web.deps import get_app

router = APIRouter(include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
WEEK = 7
SLOTS_OFFERED = 12
DONE = {
    "booked": "Visit booked. For an installation, the customer gets a confirmation.",
    "rescheduled": "Visit moved. For an installation, the customer gets a new confirmation.",
    "reassigned": "Visit given to the new technician.",
    "cancelled": "Visit cancelled. The order waits for a new window.",
}


def sentences(errors: dict[str, str]) -> dict[str, str]:
    """The services' reasons as sentences a person reads: a capital and a full stop."""
    return {
        k: v[:1].upper() + v[1:] + ("" if v.endswith((".", "!", "?")) else ".")
        for k, v in errors.items()
    }


def refusal(exc: FiberdeskError, field: str) -> dict[str, str]:
    """The service's reason as sentences, beside ``field`` when it named no field."""
    errors = form_errors(exc)
    if "_" in errors:
        errors = {field: errors["_"]}
    return sentences(errors)


def _date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{raw!r} is not a date", field=field) from None


def _day(raw: str | None) -> tuple[date, str | None]:
    today = utcnow().date()
    if not raw:
        return today, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return today, f"{raw!r} is not a date (YYYY-MM-DD); showing today."


@router.get("/console/dispatch", response_class=HTMLResponse)
def board(
    request: Request,
    app: App,
    user: DispatchUser,
    day: Annotated[str | None, Query(alias="date", max_length=10)] = None,
    view: Annotated[str, Query(max_length=8)] = "day",
) -> HTMLResponse:
    first, problem = _day(day)
    view = "week" if view == "week" else "day"
    if view == "week":
        first -= timedelta(days=first.weekday())
    days = WEEK if view == "week" else 1
    with app.uow(write=False) as uow:
        b = dispatch_board.board(
            uow, actor=user.actor, first=first, days=days, settings=app.scheduling
        )
    step = timedelta(days=days)
    return page(
        request,
        user,
        "console/dispatch/board.html",
        area="dispatch",
        board=b,
        view=view,
        first=first,
        today=utcnow().date(),
        previous=first - step,
        next=first + step,
        problem=problem,
    )


def _detail(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    appointment_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        detail = dispatch_board.appointment_detail(
            uow, actor=user.actor, appointment_id=appointment_id, settings=app.scheduling
        )
    slots: list[scheduling.Slot] = []
    if detail.status.value == "BOOKED":
        slots = [
            s
            for s in scheduling.find_windows(
                app.uow,
                actor=user.actor,
                order_id=detail.order_id,
                settings=app.scheduling,
                limit=SLOTS_OFFERED + 1,
            )
            if (s.day, s.window) != (detail.day, detail.window)
        ][:SLOTS_OFFERED]
    done = request.query_params.get("done", "")
    return page(
        request,
        user,
        "console/dispatch/appointment.html",
        area="dispatch",
        status_code=status_code,
        a=detail,
        slots=slots,
        windows=app.scheduling.windows,
        errors=errors or {},
        values=values or {},
        flash=DONE.get(done),
    )


@router.get("/console/dispatch/appointments/{appointment_id}", response_class=HTMLResponse)
def appointment(
    request: Request,
    app: App,
    user: DispatchUser,
    appointment_id: int,
) -> HTMLResponse:
    return _detail(request, app, user, appointment_id)


def _redo(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    appointment_id: int,
    form: CheckedForm,
    exc: FiberdeskError,
    field: str,
) -> HTMLResponse:
    """The page again with the user's input and the service's reason next to ``field``
    (or the field the service named)."""
    return _detail(
        request,
        app,
        user,
        appointment_id,
        errors=refusal(exc, field),
        values=typed_values(form),
        status_code=422,
    )


@router.post("/console/dispatch/appointments/{appointment_id}/reschedule")
def reschedule(
    request: Request,
    app: App,
    user: DispatchUser,
    form: CheckedForm,
    appointment_id: int,
) -> Response:
    slot = text(form, "slot")
    field = "slot" if "slot" in form else "day"
    try:
        if field == "slot":
            if not slot:
                raise InvalidInput("choose one of the free windows", field="slot")
            raw_day, _, window = slot.partition(" ")
        else:
            raw_day, window = text(form, "day"), text(form, "window")
            if not raw_day:
                raise InvalidInput("choose a day", field="day")
            if not window:
                raise InvalidInput("choose a window", field="window")
        day = _date(raw_day, field)
        booking = scheduling.reschedule(
            app.uow,
            actor=user.actor,
            appointment_id=appointment_id,
            day=day,
            window=window,
            settings=app.scheduling,
        )
    except FiberdeskError as exc:
        if exc.field in ("day", "window") and field == "slot":
            exc.field = "slot"
        return _redo(request, app, user, appointment_id, form, exc, field)
    return redirect(f"/console/dispatch/appointments/{booking.appointment_id}?done=rescheduled")


@router.post("/console/dispatch/appointments/{appointment_id}/reassign")
def reassign(
    request: Request,
    app: App,
    user: DispatchUser,
    form: CheckedForm,
    appointment_id: int,
) -> Response:
    raw = text(form, "technician_id")
    try:
        if not raw.isdigit():
            raise InvalidInput("choose a technician", field="technician_id")
        scheduling.reassign(
            app.uow,
            actor=user.actor,
            appointment_id=appointment_id,
            technician_id=int(raw),
            settings=app.scheduling,
        )
    except FiberdeskError as exc:
        return _redo(request, app, user, appointment_id, form, exc, "technician_id")
    return redirect(f"/console/dispatch/appointments/{appointment_id}?done=reassigned")


@router.post("/console/dispatch/appointments/{appointment_id}/cancel")
def cancel(
    request: Request,
    app: App,
    user: DispatchUser,
    form: CheckedForm,
    appointment_id: int,
) -> Response:
    reason = text(form, "reason")
    try:
        if len(reason) > 500:
            raise InvalidInput("keep the reason under 500 characters", field="reason")
        scheduling.cancel(app.uow, actor=user.actor, appointment_id=appointment_id, reason=reason)
    except FiberdeskError as exc:
        return _redo(request, app, user, appointment_id, form, exc, "reason")
    return redirect(f"/console/dispatch/appointments/{appointment_id}?done=cancelled")


def _place(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    order_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    with app.uow(write=False) as uow:
        o = dispatch_board.order_to_place(uow, actor=user.actor, order_id=order_id)
        techs = fieldwork.technicians(uow, actor=user.actor)
    if o.appointment_id is not None and not errors:
        return redirect(f"/console/dispatch/appointments/{o.appointment_id}")
    slots = []
    if o.status is OrderStatus.OPEN and not o.missing:
        slots = scheduling.find_windows(
            app.uow,
            actor=user.actor,
            order_id=order_id,
            settings=app.scheduling,
            limit=SLOTS_OFFERED,
        )
    return page(
        request,
        user,
        "console/dispatch/place.html",
        area="dispatch",
        status_code=status_code,
        o=o,
        slots=slots,
        technicians=techs,
        errors=errors or {},
        values=values or {},
    )


@router.get("/console/dispatch/orders/{order_id}", response_class=HTMLResponse)
def place(
    request: Request,
    app: App,
    user: DispatchUser,
    order_id: int,
) -> Response:
    return _place(request, app, user, order_id)


@router.post("/console/dispatch/orders/{order_id}/book")
def book(
    request: Request,
    app: App,
    user: DispatchUser,
    form: CheckedForm,
    order_id: int,
) -> Response:
    slot, tech = text(form, "slot"), text(form, "technician_id")
    try:
        if not slot:
            raise InvalidInput("choose one of the free windows", field="slot")
        raw_day, _, window = slot.partition(" ")
        day = _date(raw_day, "slot")
        if tech and not tech.isdigit():
            raise InvalidInput("choose a technician from the list", field="technician_id")
        booking = scheduling.book(
            app.uow,
            actor=user.actor,
            order_id=order_id,
            day=day,
            window=window,
            settings=app.scheduling,
            technician_id=int(tech) if tech else None,
        )
    except FiberdeskError as exc:
        return _place(
            request,
            app,
            user,
            order_id,
            errors=sentences(on_slot(form_errors(exc))),
            values=typed_values(form),
            status_code=422,
        )
    return redirect(f"/console/dispatch/appointments/{booking.appointment_id}?done=booked")
