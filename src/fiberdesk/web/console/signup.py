"""Console pages: the sign-up wizard, from an address to a booked installation.

The wizard runs the same services in the same order as the REST API (``api/quotes.py``,
``api/orders.py``): qualify, quote, accept (port held) and order entry, identity, credit
check, payment, contract, window. Its state is the services' own records: the quote's
reference and then the order's id are in the URL, and every price shown is read back from
the quote, never taken from a form.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import FiberdeskError, InvalidInput
from fiberdesk.domain.qualification import QuoteStatus
from fiberdesk.domain.signup import IdentityMethod
from fiberdesk.services import orders, quotes, scheduling, signup, signup_views
from fiberdesk.services.contacts import normalise_email, normalise_phone
from fiberdesk.services.qualification import qualify_address, qualify_premises
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import CheckedForm, SignupUser, text
from fiberdesk.web.console.forms import fields, on_slot
from fiberdesk.web.console.pages import form_errors, page, redirect
from fiberdesk.web.deps import get_app
from fiberdesk.web.signup_steps import SignupSteps, card_last4, open_windows, parse_slot

router = APIRouter(prefix="/console/signup", include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
User = SignupUser
AREA = "signup"

#: the wizard's steps, in order
STEPS = (
    ("address", "Address"),
    ("quote", "Plan and price"),
    ("details", "Customer"),
    ("identity", "Identity"),
    ("credit", "Credit check"),
    ("payment", "Payment"),
    ("contract", "Contract"),
    ("window", "Installation"),
    ("done", "Confirmation"),
)
ORDER_STEPS = ("identity", "credit", "payment", "contract", "window", "done")
WIZARD = SignupSteps(
    STEPS,
    ORDER_STEPS,
    #: the checklist item that marks each order step done
    items={"window": "visit_booked", "done": "visit_booked"},
    before_order=frozenset({"address", "quote", "details"}),
)
ID_DOCUMENTS = [
    ("drivers_license", "Driver's license"),
    ("state_id", "State ID card"),
    ("passport", "Passport"),
    ("military_id", "Military ID"),
]


def _bar(current: str, done: set[str], order_id: int | None = None) -> list[dict[str, Any]]:
    """The steps bar: each step's label, whether it is done, and a link back where useful."""

    def url(key: str) -> str | None:
        if order_id is not None and key in ORDER_STEPS and (key in done or key == current):
            return f"/console/signup/orders/{order_id}/{key}"
        return None

    return WIZARD.bar(current, done, url)


# ---- 1. address and plan -------------------------------------------------------------


def _qualify_page(
    request: Request,
    user: SignedIn,
    app: Fiberdesk,
    *,
    address: str = "",
    premises_id: int | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    q = None
    problem = None
    terms: list[signup_views.TermOption] = []
    promos: list[signup_views.PromotionOption] = []
    try:
        with app.uow(write=False) as uow:
            if premises_id is not None:
                q = qualify_premises(
                    uow, actor=user.actor, premises_id=premises_id, rules=app.rules
                )
            elif address:
                q = qualify_address(uow, actor=user.actor, address=address, rules=app.rules)
            terms = signup_views.contract_terms(uow)
            promos = signup_views.promotions(uow)
    except FiberdeskError as exc:
        problem = exc.reason
    if q is not None and q.premises is not None and not address:
        address = q.premises.label
    offered = [t for t in q.tiers if t.offered] if q is not None else []
    values = dict(values or {})
    values.setdefault("plan", offered[0].code if offered else "")
    values.setdefault("term", terms[0].code if terms else "M2M")
    return page(
        request,
        user,
        "console/signup/qualify.html",
        area=AREA,
        status_code=status_code if problem is None else 422,
        steps=_bar(
            "quote" if q is not None and q.can_quote else "address",
            {"address"} if q is not None and q.can_quote else set(),
        ),
        address=address,
        q=q,
        problem=problem,
        terms=terms,
        promotions=promos,
        values=values,
        errors=errors or {},
    )


@router.get("", response_class=HTMLResponse)
def start(
    request: Request,
    user: User,
    app: App,
    address: str = Query("", max_length=300),
    premises_id: int | None = Query(None, ge=1),
) -> HTMLResponse:
    return _qualify_page(request, user, app, address=address.strip(), premises_id=premises_id)


@router.post("/quote", response_class=HTMLResponse)
def make_quote(request: Request, user: User, form: CheckedForm, app: App) -> Response:
    raw = text(form, "premises_id")
    if not raw.isdigit():
        return _qualify_page(
            request, user, app, errors={"_": "Check an address first."}, status_code=422
        )
    premises_id = int(raw)
    values = fields(form, "plan", "term", "promotion")
    try:
        with app.uow() as uow:
            quote = quotes.create_quote(
                uow,
                actor=user.actor,
                premises_id=premises_id,
                plan_code=values["plan"],
                term_code=values["term"] or "M2M",
                promotion_code=values["promotion"] or None,
                settings=app.quote_settings,
            )
    except FiberdeskError as exc:
        return _qualify_page(
            request,
            user,
            app,
            premises_id=premises_id,
            values=values,
            errors=form_errors(exc),
            status_code=422,
        )
    return redirect(f"/console/signup/quotes/{quote.reference}")


# ---- 2. the quote and the customer's details ------------------------------------------


def _quote_page(
    request: Request,
    user: SignedIn,
    app: Fiberdesk,
    reference: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        quote = quotes.get_quote(uow, actor=user.actor, reference=reference)
        term = next(
            (t for t in signup_views.contract_terms(uow) if t.code == quote.term_code), None
        )
    return page(
        request,
        user,
        "console/signup/quote.html",
        area=AREA,
        status_code=status_code,
        steps=_bar("details", {"address", "quote"}),
        quote=quote,
        term=term,
        values=values or {},
        errors=errors or {},
    )


@router.get("/quotes/{reference}", response_class=HTMLResponse)
def show_quote(request: Request, reference: str, user: User, app: App) -> HTMLResponse:
    return _quote_page(request, user, app, reference)


@router.post("/quotes/{reference}", response_class=HTMLResponse)
def enter_order(
    request: Request, reference: str, user: User, form: CheckedForm, app: App
) -> Response:
    """Check the details, hold the port (accept the quote) and enter the order."""
    values = fields(form, "name", "email", "phone", "unit", "access_notes")
    try:
        if len(values["name"]) < 2:
            raise InvalidInput("the customer's full name is required", field="name")
        normalise_email(values["email"])
        normalise_phone(values["phone"])
        with app.uow() as uow:
            quote = quotes.get_quote(uow, actor=user.actor, reference=reference)
            if quote.status is QuoteStatus.OPEN:
                quotes.accept_quote(
                    uow, actor=user.actor, reference=reference, settings=app.quote_settings
                )
        with app.uow() as uow:
            order = orders.create_order(
                uow,
                actor=user.actor,
                quote_reference=reference,
                name=values["name"],
                email=values["email"],
                phone=values["phone"],
                unit=values["unit"] or None,
                access_notes=values["access_notes"] or None,
            )
    except FiberdeskError as exc:
        return _quote_page(
            request, user, app, reference, values=values, errors=form_errors(exc), status_code=422
        )
    return redirect(f"/console/signup/orders/{order.id}/identity")


# ---- 3. the order's steps ------------------------------------------------------------


def _summary(app: Fiberdesk, user: SignedIn, order_id: int) -> signup_views.SignupSummary:
    with app.uow(write=False) as uow:
        return signup_views.signup_summary(uow, actor=user.actor, order_id=order_id)


def _step_page(
    request: Request,
    user: SignedIn,
    app: Fiberdesk,
    order_id: int,
    step: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    summary = _summary(app, user, order_id)
    done = WIZARD.done(summary)
    return page(
        request,
        user,
        f"console/signup/{step}.html",
        area=AREA,
        status_code=status_code,
        steps=_bar(step, done, order_id),
        s=summary,
        order=summary.order,
        step_done=step in done,
        next_step=WIZARD.next(summary),
        values=values or {},
        errors=errors or {},
        **context,
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def resume(order_id: int, user: User, app: App) -> Response:
    """Carry on where the sign-up of an order stopped."""
    return redirect(
        f"/console/signup/orders/{order_id}/{WIZARD.next(_summary(app, user, order_id))}"
    )


@router.get("/orders/{order_id}/identity", response_class=HTMLResponse)
def identity(
    request: Request,
    order_id: int,
    user: User,
    app: App,
    sent: str = Query("", max_length=10),
    to: str = Query("", max_length=80),
) -> HTMLResponse:
    return _step_page(
        request,
        user,
        app,
        order_id,
        "identity",
        documents=ID_DOCUMENTS,
        sent=sent if sent in ("sms", "email") else "",
        sent_to=to,
        mask=signup_views.mask,
    )


@router.post("/orders/{order_id}/identity", response_class=HTMLResponse)
def verify(request: Request, order_id: int, user: User, form: CheckedForm, app: App) -> Response:
    action = text(form, "action")
    values = fields(form, "document_type", "document_number", "code", "channel")
    channel = values["channel"] if values["channel"] in ("sms", "email") else "sms"
    try:
        if action == "send":
            masked = signup.send_identity_code(
                app.uow,
                actor=user.actor,
                order_id=order_id,
                channel=channel,
                secret_key=app.settings.secret_key,
                ttl_minutes=app.settings.one_time_code_minutes,
            )
            query = urlencode({"sent": channel, "to": masked})
            return redirect(f"/console/signup/orders/{order_id}/identity?{query}#code")
        if action == "code":
            signup.verify_identity(
                app.uow,
                actor=user.actor,
                order_id=order_id,
                method=IdentityMethod.OTP_SMS if channel == "sms" else IdentityMethod.OTP_EMAIL,
                secret_key=app.settings.secret_key,
                code=values["code"],
            )
        else:
            signup.verify_identity(
                app.uow,
                actor=user.actor,
                order_id=order_id,
                method=IdentityMethod.PHOTO_ID,
                secret_key=app.settings.secret_key,
                document_type=values["document_type"],
                document_number=values["document_number"],
            )
    except FiberdeskError as exc:
        errors = form_errors(exc)
        if action == "code" and "_" in errors:  # a wrong or expired code: beside the code
            errors = {"code": errors["_"]}
        values.pop("document_number")  # never shown back in full
        return _step_page(
            request,
            user,
            app,
            order_id,
            "identity",
            values=values,
            errors=errors,
            status_code=422,
            documents=ID_DOCUMENTS,
            sent=channel if action == "code" else "",
            sent_to="",
            mask=signup_views.mask,
        )
    return redirect(f"/console/signup/orders/{order_id}/credit")


@router.get("/orders/{order_id}/credit", response_class=HTMLResponse)
def credit(request: Request, order_id: int, user: User, app: App) -> HTMLResponse:
    return _step_page(request, user, app, order_id, "credit")


@router.post("/orders/{order_id}/credit", response_class=HTMLResponse)
def run_credit(
    request: Request, order_id: int, user: User, form: CheckedForm, app: App
) -> Response:
    values = {"date_of_birth": text(form, "date_of_birth")}
    last4 = text(form, "ssn_last4")
    try:
        try:
            born = date.fromisoformat(values["date_of_birth"])
        except ValueError:
            raise InvalidInput(
                "give the date of birth as a date (YYYY-MM-DD)", field="date_of_birth"
            ) from None
        signup.credit_check(
            app.uow,
            actor=user.actor,
            order_id=order_id,
            bureau=app.bureau,
            policy=app.credit_policy,
            date_of_birth=born,
            ssn_last4=last4 or None,
        )
    except FiberdeskError as exc:
        return _step_page(
            request,
            user,
            app,
            order_id,
            "credit",
            values=values,
            errors=form_errors(exc),
            status_code=422,
        )
    return redirect(f"/console/signup/orders/{order_id}/payment")


def _payment_context(app: Fiberdesk) -> dict[str, Any]:
    return {"card_form": isinstance(app.gateway, signup_views.CardTokenizer)}


@router.get("/orders/{order_id}/payment", response_class=HTMLResponse)
def payment(request: Request, order_id: int, user: User, app: App) -> HTMLResponse:
    return _step_page(
        request, user, app, order_id, "payment", values={"autopay": "on"}, **_payment_context(app)
    )


@router.post("/orders/{order_id}/payment", response_class=HTMLResponse)
def take_payment(
    request: Request, order_id: int, user: User, form: CheckedForm, app: App
) -> Response:
    values = {
        "card_expiry": text(form, "card_expiry"),
        "autopay": "on" if text(form, "autopay") else "",
    }
    number = text(form, "card_number")
    try:
        token = text(form, "token") or signup_views.card_token(
            app.gateway, number=number, expiry=values["card_expiry"], cvc=text(form, "card_cvc")
        )
        signup.setup_payment(
            app.uow,
            actor=user.actor,
            order_id=order_id,
            gateway=app.gateway,
            token=token,
            autopay=bool(values["autopay"]),
            currency=app.settings.currency,
        )
    except FiberdeskError as exc:
        errors = form_errors(exc)
        if "_" in errors and exc.extra.get("decline_code"):
            last4 = card_last4(number)
            code = str(exc.extra["decline_code"]).replace("_", " ")
            errors = {
                "card_number": f"The card ending {last4} was declined ({code}). "
                "Ask for another card."
            }
        return _step_page(
            request,
            user,
            app,
            order_id,
            "payment",
            values=values,
            errors=errors,
            status_code=422,
            **_payment_context(app),
        )
    return redirect(f"/console/signup/orders/{order_id}/contract")


@router.get("/orders/{order_id}/contract", response_class=HTMLResponse)
def contract(request: Request, order_id: int, user: User, app: App) -> HTMLResponse:
    return _step_page(request, user, app, order_id, "contract", values={"channel": "phone"})


@router.post("/orders/{order_id}/contract", response_class=HTMLResponse)
def accept(request: Request, order_id: int, user: User, form: CheckedForm, app: App) -> Response:
    values = fields(form, "accepted_name", "channel", "read_out")
    try:
        if not values["read_out"]:
            raise InvalidInput(
                "confirm the customer heard the terms and agreed to them", field="read_out"
            )
        signup.accept_contract(
            app.uow,
            actor=user.actor,
            order_id=order_id,
            accepted_name=values["accepted_name"],
            channel=values["channel"] if values["channel"] in ("phone", "console") else "phone",
        )
    except FiberdeskError as exc:
        return _step_page(
            request,
            user,
            app,
            order_id,
            "contract",
            values=values,
            errors=form_errors(exc),
            status_code=422,
        )
    return redirect(f"/console/signup/orders/{order_id}/window")


def _windows(app: Fiberdesk, user: SignedIn, order_id: int) -> list[scheduling.Slot]:
    """The windows for the order's next visit: its site survey first, when one is due."""
    target = _summary(app, user, order_id).visit_order_id
    return open_windows(app, user.actor, target, limit=12)


@router.get("/orders/{order_id}/window", response_class=HTMLResponse)
def window(request: Request, order_id: int, user: User, app: App) -> HTMLResponse:
    slots = _windows(app, user, order_id)
    first = f"{slots[0].day.isoformat()}|{slots[0].window}" if slots else ""
    return _step_page(request, user, app, order_id, "window", values={"slot": first}, slots=slots)


@router.post("/orders/{order_id}/window", response_class=HTMLResponse)
def book(request: Request, order_id: int, user: User, form: CheckedForm, app: App) -> Response:
    values = {"slot": text(form, "slot")}
    try:
        day, code = parse_slot(values["slot"], "choose a window")
        scheduling.book(
            app.uow,
            actor=user.actor,
            order_id=_summary(app, user, order_id).visit_order_id,
            day=day,
            window=code,
            settings=app.scheduling,
        )
    except FiberdeskError as exc:
        errors = on_slot(form_errors(exc))
        return _step_page(
            request,
            user,
            app,
            order_id,
            "window",
            values=values,
            errors=errors,
            status_code=422 if isinstance(exc, InvalidInput) else 409,
            slots=_windows(app, user, order_id),
        )
    return redirect(f"/console/signup/orders/{order_id}/done")


@router.get("/orders/{order_id}/done", response_class=HTMLResponse)
def done(request: Request, order_id: int, user: User, app: App) -> HTMLResponse:
    return _step_page(
        request,
        user,
        app,
        order_id,
        "done",
        what_to_expect=scheduling.WHAT_TO_EXPECT,
        how_to_prepare=scheduling.HOW_TO_PREPARE,
    )
