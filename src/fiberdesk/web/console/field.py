"""The technician's pages, made for a phone: the route (/console/field) and a work order
(/console/field/workorders/{id}) with the steps taken on site. The same services as the
REST API's orders router and ``fiberdesk tech``, through ``services.fieldwork``, which
refuses another technician's work order (403)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import FiberdeskError, InvalidInput
from fiberdesk.domain.users import Role
from fiberdesk.services import fieldwork
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import CheckedForm, FieldUser, text
from fiberdesk.web.console.dispatch import refusal
from fiberdesk.web.console.forms import typed_values
from fiberdesk.web.console.pages import page, redirect
from fiberdesk.web.deps import get_app

router = APIRouter(include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
DONE = {
    "en-route": ("The customer has been told you are on the way.", "arrive"),
    "arrive": ("Marked on site. The customer is now installing.", "ont"),
    "ont": ("ONT assigned to this order.", "rx"),
    "rx": ("Rx reading saved.", "speed"),
    "speed-test": ("Speed test saved.", "close"),
    "activate": ("Service activated. The customer is ACTIVE and gets a welcome message.", "top"),
    "repair": ("Repair visit closed.", "top"),
}
#: which form's whole-form error goes where
FORM_FIELDS = {
    "en-route": "eta_minutes",
    "arrive": "arrive",
    "ont": "serial",
    "rx": "rx_dbm",
    "speed-test": "download_mbps",
    "activate": "physical_confirmed",
    "repair": "resolution",
}


@router.get("/console/field", response_class=HTMLResponse)
def my_route(
    request: Request,
    app: App,
    user: FieldUser,
    technician: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    today = utcnow().date()
    chosen = None
    choices: list[tuple[int, str]] = []
    with app.uow(write=False) as uow:
        if user.actor.role is not Role.TECHNICIAN:
            choices = fieldwork.technicians(uow, actor=user.actor)
        if user.actor.role is Role.TECHNICIAN or technician is not None:
            chosen = fieldwork.route(uow, actor=user.actor, start=today, technician_id=technician)
    return page(
        request,
        user,
        "console/field/route.html",
        area="field",
        route=chosen,
        choices=choices,
        technician=technician,
        today=today,
        day_label=day_label,
    )


def _show(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    order_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        fo = fieldwork.field_order(uow, actor=user.actor, order_id=order_id)
    done = DONE.get(request.query_params.get("done", ""))
    share = Decimal(str(app.settings.speed_test_min_share))
    return page(
        request,
        user,
        "console/field/workorder.html",
        area="field",
        status_code=status_code,
        fo=fo,
        wo=fo.wo,
        errors=errors or {},
        values=values or {},
        flash=done[0] if done else None,
        min_share=share,
        need_down=(Decimal(fo.plan_down) * share).quantize(Decimal("0.1"))
        if fo.plan_down
        else None,
        need_up=(Decimal(fo.plan_up) * share).quantize(Decimal("0.1")) if fo.plan_up else None,
        today=utcnow().date(),
    )


@router.get("/console/field/workorders/{order_id}", response_class=HTMLResponse)
def work_order(
    request: Request,
    app: App,
    user: FieldUser,
    order_id: int,
) -> HTMLResponse:
    return _show(request, app, user, order_id)


def _step(app: Fiberdesk, user: SignedIn, order_id: int, step: str, form: CheckedForm) -> None:
    """Carry out one step through the services; raises their refusal."""
    uows, actor = app.uow, user.actor
    s = app.settings
    if step == "en-route":
        raw = text(form, "eta_minutes")
        if not raw.isdigit():
            raise InvalidInput("give the minutes until you arrive, e.g. 20", field="eta_minutes")
        fieldwork.en_route(
            uows,
            actor=actor,
            order_id=order_id,
            eta_minutes=int(raw),
            company_name=s.company_name,
            support_phone=s.support_phone,
        )
    elif step == "arrive":
        fieldwork.arrive(uows, actor=actor, order_id=order_id)
    elif step == "ont":
        fieldwork.enter_ont(uows, actor=actor, order_id=order_id, serial=text(form, "serial"))
    elif step == "rx":
        fieldwork.record_rx(uows, actor=actor, order_id=order_id, reading=text(form, "rx_dbm"))
    elif step == "speed-test":
        fieldwork.record_speed_test(
            uows,
            actor=actor,
            order_id=order_id,
            download=text(form, "download_mbps"),
            upload=text(form, "upload_mbps"),
            min_share=Decimal(str(s.speed_test_min_share)),
        )
    elif step == "activate":
        fieldwork.close_installation(
            uows,
            actor=actor,
            order_id=order_id,
            network=app.network,
            physical_confirmed=text(form, "physical_confirmed") == "yes",
            min_share=Decimal(str(s.speed_test_min_share)),
            company_name=s.company_name,
            support_phone=s.support_phone,
            surveys=app.kpi_settings,
        )
    else:
        fieldwork.close_repair(
            uows, actor=actor, order_id=order_id, resolution=text(form, "resolution")
        )


def _post(step: str) -> Any:
    def handler(
        request: Request,
        app: App,
        user: FieldUser,
        form: CheckedForm,
        order_id: int,
    ) -> Response:
        try:
            _step(app, user, order_id, step, form)
        except FiberdeskError as exc:
            return _show(
                request,
                app,
                user,
                order_id,
                errors=refusal(exc, FORM_FIELDS[step]),
                values=typed_values(form),
                status_code=422,
            )
        anchor = DONE[step][1]
        return redirect(f"/console/field/workorders/{order_id}?done={step}#{anchor}")

    handler.__name__ = f"field_{step.replace('-', '_')}"
    return handler


for _step_name in DONE:
    router.add_api_route(
        f"/console/field/workorders/{{order_id}}/{_step_name}",
        _post(_step_name),
        methods=["POST"],
        response_class=HTMLResponse,
    )


def day_label(day: date, today: date) -> str:
    """'Today', 'Tomorrow' or the weekday and date."""
    offset = (day - today).days
    if offset == 0:
        return "Today"
    if offset == 1:
        return "Tomorrow"
    return f"{day:%A %d %B}"
