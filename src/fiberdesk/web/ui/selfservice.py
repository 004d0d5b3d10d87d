"""Public self-service pages: sign-up, outage status, ticket status by signed link.

No login: every route is rate limited per client (like ``public.py``), and every form and
every sign-up step carries a signed token (``web/forms.py``) binding it to its premises
or to its own order, so no one can post to or look at another person's order. The
sign-up runs the same services as the console wizard as ``PUBLIC_ACTOR``:

    /signup?premises=ID        plan, contract term and the customer's details
    /signup/{order}/verify     a one-time code by text or email (no photo ID online)
    /signup/{order}/credit     date of birth and SSN last four (a decline: call us)
    /signup/{order}/payment    the card
    /signup/{order}/agree      the contract, accepted by typing the account holder's name
    /signup/{order}/window     the installation window
    /signup/{order}/done       the confirmation
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import FiberdeskError, Forbidden, InvalidInput, RateLimited
from fiberdesk.domain.qualification import QuoteStatus
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.domain.users import PUBLIC_ACTOR
from fiberdesk.services import orders, outage_status, quotes, scheduling, signup, signup_views
from fiberdesk.services import tickets as ticket_service
from fiberdesk.services.contacts import normalise_email, normalise_phone
from fiberdesk.services.qualification import qualify_premises
from fiberdesk.web.deps import get_app
from fiberdesk.web.forms import sign, verify
from fiberdesk.web.ratelimit import client_key
from fiberdesk.web.render import render
from fiberdesk.web.signup_steps import SignupSteps, card_last4, open_windows, parse_slot

router = APIRouter(tags=["self-service"], include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]

#: how long a sign-up form, and then each sign-up step, stays usable
FORM_MAX_AGE_S = 3600
ORDER_MAX_AGE_S = 2 * 3600
STEPS = (
    ("plan", "Plan and details"),
    ("verify", "Verify it's you"),
    ("credit", "Credit check"),
    ("payment", "Payment"),
    ("agree", "Agreement"),
    ("window", "Installation"),
    ("done", "Done"),
)
ORDER_STEPS = ("verify", "credit", "payment", "agree", "window", "done")
WIZARD = SignupSteps(
    STEPS,
    ORDER_STEPS,
    items={
        "verify": "identity",
        "agree": "contract",
        "window": "visit_booked",
        "done": "visit_booked",
    },
    before_order=frozenset({"plan"}),
)


def _limited(request: Request) -> HTMLResponse | None:
    """The public rate limit, answered with a page rather than JSON."""
    try:
        request.app.state.public_limiter.check(client_key(request))
    except RateLimited as exc:
        app: Fiberdesk = request.app.state.fiberdesk
        response = _message(
            app,
            "Too many requests",
            "You have made a lot of requests in a short time. Please wait a minute and try again.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(exc.extra.get("retry_after", 60))
        return response
    return None


def _message(
    app: Fiberdesk, title: str, text: str, *, status_code: int, link: tuple[str, str] | None = None
) -> HTMLResponse:
    return render(
        "public/message.html",
        status_code=status_code,
        title=title,
        text=text,
        link=link,
        company=app.settings.company_name,
        settings=app.settings,
    )


def _expired(app: Fiberdesk) -> HTMLResponse:
    return _message(
        app,
        "This sign-up link has expired",
        "For your security, a sign-up page works for a limited time and only from the link "
        f"we gave you. Please start again, or call us on {app.settings.support_phone} and we "
        "will finish it with you.",
        status_code=403,
        link=("/availability", "Check your address again"),
    )


def _order_token(app: Fiberdesk, order_id: int) -> str:
    return sign(app.settings.secret_key, f"signup-order:{order_id}")


def _order_ok(app: Fiberdesk, order_id: int, token: str) -> bool:
    return verify(
        app.settings.secret_key, f"signup-order:{order_id}", token, max_age_s=ORDER_MAX_AGE_S
    )


def _base(app: Fiberdesk) -> dict[str, Any]:
    return {"company": app.settings.company_name, "settings": app.settings}


# ---- plan and details -------------------------------------------------------------------


def _plan_page(
    app: Fiberdesk,
    premises_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        q = qualify_premises(uow, actor=PUBLIC_ACTOR, premises_id=premises_id, rules=app.rules)
        terms = signup_views.contract_terms(uow)
    offered = [t for t in q.tiers if t.offered]
    values = dict(values or {})
    if values.get("plan") not in {t.code for t in offered}:
        values["plan"] = offered[0].code if offered else ""
    values.setdefault("term", terms[0].code if terms else "M2M")
    return render(
        "public/signup.html",
        status_code=status_code,
        q=q,
        terms=terms,
        values=values,
        errors=errors or {},
        steps=WIZARD.bar("plan", set()),
        token=sign(app.settings.secret_key, f"signup:{premises_id}"),
        **_base(app),
    )


@router.get("/signup", response_class=HTMLResponse)
def start(
    request: Request,
    app: App,
    premises: int | None = Query(None, ge=1),
    plan: str = Query("", max_length=24),
) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    if premises is None:
        return RedirectResponse("/availability", status_code=303)
    try:
        return _plan_page(app, premises, values={"plan": plan.upper()})
    except FiberdeskError:
        return _message(
            app,
            "We could not find that address",
            "Please check your address on the availability page first.",
            status_code=404,
            link=("/availability", "Check availability"),
        )


@router.post("/signup", response_class=HTMLResponse)
async def enter(request: Request, app: App) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    form = await request.form()
    f = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    raw = f.get("premises_id", "")
    if not raw.isdigit() or not verify(
        app.settings.secret_key, f"signup:{raw}", f.get("token", ""), max_age_s=FORM_MAX_AGE_S
    ):
        return _expired(app)
    premises_id = int(raw)
    keys = ("plan", "term", "name", "email", "phone", "unit")
    values = {k: f.get(k, "")[:254] for k in keys}
    try:
        if len(values["name"]) < 2:
            raise InvalidInput("please give your full name", field="name")
        if not values["email"]:
            raise InvalidInput("please give your email address", field="email")
        normalise_email(values["email"])
        normalise_phone(values["phone"])
        order_id = _enter_order(app, premises_id, values)
    except FiberdeskError as exc:
        return _plan_page(
            app, premises_id, values=values, errors={exc.field or "_": exc.reason}, status_code=422
        )
    return _to_step(app, order_id, "verify")


def _enter_order(app: Fiberdesk, premises_id: int, values: dict[str, str]) -> int:
    """Quote, hold the port and enter the order, as the console does."""
    with app.uow() as uow:
        quote = quotes.create_quote(
            uow,
            actor=PUBLIC_ACTOR,
            premises_id=premises_id,
            plan_code=values["plan"],
            term_code=values["term"] or "M2M",
            settings=app.quote_settings,
        )
    with app.uow() as uow:
        if quote.status is QuoteStatus.OPEN:
            quotes.accept_quote(
                uow, actor=PUBLIC_ACTOR, reference=quote.reference, settings=app.quote_settings
            )
    with app.uow() as uow:
        order = orders.create_order(
            uow,
            actor=PUBLIC_ACTOR,
            quote_reference=quote.reference,
            name=values["name"],
            email=values["email"],
            phone=values["phone"],
            unit=values["unit"] or None,
        )
    return order.id


def _to_step(app: Fiberdesk, order_id: int, step: str, **extra: str) -> RedirectResponse:
    query = urlencode({"t": _order_token(app, order_id), **extra})
    return RedirectResponse(f"/signup/{order_id}/{step}?{query}", status_code=303)


# ---- the order's steps ------------------------------------------------------------------


def _step_page(
    app: Fiberdesk,
    order_id: int,
    step: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        s = signup_views.signup_summary(uow, actor=PUBLIC_ACTOR, order_id=order_id)
    done = WIZARD.done(s)
    if step == "window" and "window" not in done:
        ready = s.order.ready_to_schedule
        context.setdefault("slots", _windows(app, s.visit_order_id) if ready else [])
    return render(
        f"public/signup_{step}.html",
        status_code=status_code,
        s=s,
        order=s.order,
        step=step,
        steps=WIZARD.bar(step, done),
        step_done=step in done,
        next_step=WIZARD.next(s),
        token=_order_token(app, order_id),
        values=values or {},
        errors=errors or {},
        mask=signup_views.mask,
        **_base(app),
        **context,
    )


def _windows(app: Fiberdesk, order_id: int) -> list[scheduling.Slot]:
    return open_windows(app, PUBLIC_ACTOR, order_id, limit=8)


@router.get("/signup/{order_id}/{step}", response_class=HTMLResponse)
def show_step(
    request: Request,
    order_id: int,
    step: str,
    app: App,
    t: str = Query("", max_length=100),
    sent: str = Query("", max_length=10),
) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    if step not in ORDER_STEPS:
        return _message(app, "Page not found", "There is no such page.", status_code=404)
    if not _order_ok(app, order_id, t):
        return _expired(app)
    extra: dict[str, Any] = {}
    if step == "verify":
        extra["sent"] = sent if sent in ("sms", "email") else ""
    if step == "done":
        extra["what_to_expect"] = scheduling.WHAT_TO_EXPECT
        extra["how_to_prepare"] = scheduling.HOW_TO_PREPARE
    return _step_page(app, order_id, step, **extra)


@router.post("/signup/{order_id}/{step}", response_class=HTMLResponse)
async def do_step(request: Request, order_id: int, step: str, app: App) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    form = await request.form()
    f = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    if step not in ORDER_STEPS or not _order_ok(app, order_id, f.get("t", "")):
        return _expired(app)
    handler = _HANDLERS.get(step)
    if handler is None:
        return _expired(app)
    return handler(app, order_id, f)


def _verify(app: Fiberdesk, order_id: int, f: dict[str, str]) -> Response:
    channel = f.get("channel") if f.get("channel") in ("sms", "email") else "sms"
    assert channel is not None
    try:
        if f.get("action") == "send":
            signup.send_identity_code(
                app.uow,
                actor=PUBLIC_ACTOR,
                order_id=order_id,
                channel=channel,
                secret_key=app.settings.secret_key,
                ttl_minutes=app.settings.one_time_code_minutes,
            )
            return _to_step(app, order_id, "verify", sent=channel)
        signup.verify_identity(
            app.uow,
            actor=PUBLIC_ACTOR,
            order_id=order_id,
            method=IdentityMethod.OTP_SMS if channel == "sms" else IdentityMethod.OTP_EMAIL,
            secret_key=app.settings.secret_key,
            code=f.get("code", ""),
        )
    except FiberdeskError as exc:
        return _step_page(
            app,
            order_id,
            "verify",
            values={"code": f.get("code", "")[:10]},
            errors={"code": exc.reason},
            status_code=422,
            sent=channel,
        )
    return _to_step(app, order_id, "credit")


def _credit(app: Fiberdesk, order_id: int, f: dict[str, str]) -> Response:
    values = {"date_of_birth": f.get("date_of_birth", "")[:20]}
    try:
        try:
            born = date.fromisoformat(values["date_of_birth"])
        except ValueError:
            raise InvalidInput("please give your date of birth", field="date_of_birth") from None
        last4 = f.get("ssn_last4", "")
        if not (len(last4) == 4 and last4.isdigit()):
            raise InvalidInput("the last four digits of your SSN, please", field="ssn_last4")
        signup.credit_check(
            app.uow,
            actor=PUBLIC_ACTOR,
            order_id=order_id,
            bureau=app.bureau,
            policy=app.credit_policy,
            date_of_birth=born,
            ssn_last4=last4,
        )
    except FiberdeskError as exc:
        if exc.extra.get("outcome") == "DECLINED":
            return _step_page(app, order_id, "credit", declined=True, status_code=422)
        return _step_page(
            app,
            order_id,
            "credit",
            values=values,
            errors={exc.field or "_": exc.reason},
            status_code=422,
        )
    return _to_step(app, order_id, "payment")


def _payment(app: Fiberdesk, order_id: int, f: dict[str, str]) -> Response:
    values = {"card_expiry": f.get("card_expiry", "")[:10], "card_name": f.get("card_name", "")}
    number = f.get("card_number", "")
    try:
        token = signup_views.card_token(
            app.gateway, number=number, expiry=values["card_expiry"], cvc=f.get("card_cvc", "")
        )
        signup.setup_payment(
            app.uow,
            actor=PUBLIC_ACTOR,
            order_id=order_id,
            gateway=app.gateway,
            token=token,
            autopay=bool(f.get("autopay")),
            currency=app.settings.currency,
        )
    except FiberdeskError as exc:
        errors = {exc.field or "_": exc.reason}
        if exc.extra.get("decline_code"):
            last4 = card_last4(number)
            errors = {"card_number": f"Your card ending {last4} was declined. Try another card."}
        return _step_page(app, order_id, "payment", values=values, errors=errors, status_code=422)
    return _to_step(app, order_id, "agree")


def _agree(app: Fiberdesk, order_id: int, f: dict[str, str]) -> Response:
    values = {"accepted_name": f.get("accepted_name", "")[:120], "agree": f.get("agree", "")}
    try:
        if not values["agree"]:
            raise InvalidInput("please tick the box to agree to the terms", field="agree")
        signup.accept_contract(
            app.uow,
            actor=PUBLIC_ACTOR,
            order_id=order_id,
            accepted_name=values["accepted_name"],
            channel="web",
        )
    except FiberdeskError as exc:
        return _step_page(
            app,
            order_id,
            "agree",
            values=values,
            errors={exc.field or "_": exc.reason},
            status_code=422,
        )
    return _to_step(app, order_id, "window")


def _window(app: Fiberdesk, order_id: int, f: dict[str, str]) -> Response:
    values = {"slot": f.get("slot", "")[:40]}
    try:
        day, code = parse_slot(values["slot"], "please choose a time")
        with app.uow(write=False) as uow:
            summary = signup_views.signup_summary(uow, actor=PUBLIC_ACTOR, order_id=order_id)
        scheduling.book(
            app.uow,
            actor=PUBLIC_ACTOR,
            # the site survey first, when the address needs one
            order_id=summary.visit_order_id,
            day=day,
            window=code,
            settings=app.scheduling,
        )
    except FiberdeskError as exc:
        return _step_page(
            app,
            order_id,
            "window",
            values=values,
            errors={"slot": exc.reason},
            status_code=422,
        )
    return _to_step(app, order_id, "done")


_HANDLERS = {
    "verify": _verify,
    "credit": _credit,
    "payment": _payment,
    "agree": _agree,
    "window": _window,
}


# ---- outage status ----------------------------------------------------------------------


@router.get("/outage-status", response_class=HTMLResponse)
def outages(
    request: Request,
    app: App,
    address: str = Query("", max_length=300),
    premises: int | None = Query(None, ge=1),
) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    result = None
    error = None
    if address.strip() or premises is not None:
        try:
            with app.uow(write=False) as uow:
                result = outage_status.outage_status(
                    uow, address=address.strip() or None, premises_id=premises
                )
        except FiberdeskError as exc:
            error = exc.reason
    if result is not None and result.premises is not None:
        address = result.premises.label
    return render(
        "public/outage_status.html",
        status_code=422 if error else 200,
        address=address,
        result=result,
        error=error,
        **_base(app),
    )


# ---- ticket status ----------------------------------------------------------------------


@router.get("/tickets/status/{token}", response_class=HTMLResponse)
def ticket_status(request: Request, token: str, app: App) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    try:
        with app.uow(write=False) as uow:
            ticket = ticket_service.ticket_for_status_token(
                uow, secret_key=app.settings.secret_key, token=token[:100]
            )
    except Forbidden as exc:
        expired = "expired" in exc.reason
        return _message(
            app,
            "This link has expired" if expired else "This link does not work",
            (
                "Ticket links work for a limited time. "
                if expired
                else "The link is not complete or has been changed. "
            )
            + f"Please call us on {app.settings.support_phone} and we will tell you where "
            "your ticket stands.",
            status_code=403,
        )
    except FiberdeskError:
        return _message(
            app,
            "Ticket not found",
            f"We could not find that ticket. Please call us on {app.settings.support_phone}.",
            status_code=404,
        )
    return render("public/ticket_status.html", ticket=ticket, **_base(app))
