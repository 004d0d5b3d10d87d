"""Console administration: tiers and prices, users, API tokens, message templates and
troubleshooting flows.

Administrators may change everything here; supervisors see the tiers and templates and
edit the troubleshooting flows (the services decide: they refuse what a role may not do).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.domain.errors import FiberdeskError, InvalidInput, NotFound
from fiberdesk.domain.users import STAFF_ROLES, Permission, Role
from fiberdesk.messages import Branding, default_templates
from fiberdesk.services import auth, catalog, flows
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import AdminUser, CheckedForm, text
from fiberdesk.web.console.forms import fields
from fiberdesk.web.console.pages import form_errors, page, redirect
from fiberdesk.web.deps import get_app

router = APIRouter(include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]

SECTIONS = (
    ("plans", "Tiers and prices"),
    ("users", "Users"),
    ("tokens", "API tokens"),
    ("templates", "Message templates"),
    ("flows", "Troubleshooting flows"),
)
#: sections only an administrator opens (the others supervisors open too)
ADMIN_ONLY = frozenset({"users", "tokens"})


def _sections(user: SignedIn) -> list[tuple[str, str]]:
    full = user.actor.can(Permission.ADMIN)
    return [(k, label) for k, label in SECTIONS if full or k not in ADMIN_ONLY]


def _admin_page(
    request: Request,
    user: SignedIn,
    template: str,
    section: str,
    *,
    errors: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """An admin section's page; with ``errors``, status 422 and each beside its field."""
    return page(
        request,
        user,
        f"console/admin/{template}",
        area="admin",
        status_code=422 if errors else 200,
        errors=errors or {},
        sections=_sections(user),
        section=section,
        is_admin=user.actor.can(Permission.ADMIN),
        **context,
    )


@router.get("/console/admin", response_class=HTMLResponse, response_model=None)
def overview(user: AdminUser) -> Response:
    return redirect("/console/admin/plans")


# --- tiers -------------------------------------------------------------------------------


def _plans_page(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    *,
    errors: dict[str, str] | None = None,
    editing: str | None = None,
    values: dict[str, str] | None = None,
    saved: str | None = None,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        plans = catalog.list_plans(uow, actor=user.actor)
    return _admin_page(
        request,
        user,
        "plans.html",
        "plans",
        plans=plans,
        errors=errors,
        editing=editing,
        values=values or {},
        saved=saved,
    )


@router.get("/console/admin/plans", response_class=HTMLResponse)
def plans_page(request: Request, app: App, user: AdminUser) -> HTMLResponse:
    return _plans_page(request, app, user, saved=request.query_params.get("saved"))


@router.post("/console/admin/plans/{code}", response_model=None)
def update_plan(
    code: str,
    request: Request,
    app: App,
    user: AdminUser,
    form: CheckedForm,
) -> Response:
    values = fields(form, "monthly_price", "install_fee", "active")
    try:
        with app.uow() as uow:
            catalog.update_plan(
                uow,
                actor=user.actor,
                code=code,
                monthly_price=values["monthly_price"],
                install_fee=values["install_fee"],
                active=values["active"] == "yes",
            )
    except (InvalidInput, NotFound) as exc:
        return _plans_page(
            request, app, user, errors=form_errors(exc), editing=code.upper(), values=values
        )
    return redirect(f"/console/admin/plans?saved={code.upper()}")


# --- users -------------------------------------------------------------------------------

ROLE_CHOICES = [(r.value, r.label) for r in STAFF_ROLES]


def _users_page(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        user.actor.require(Permission.ADMIN)
        users = auth.list_users(uow)
    return _admin_page(
        request,
        user,
        "users.html",
        "users",
        users=users,
        roles=ROLE_CHOICES,
        errors=errors,
        values=values or {"role": Role.CSR.value},
        flash=flash,
    )


@router.get("/console/admin/users", response_class=HTMLResponse)
def users_page(request: Request, app: App, user: AdminUser) -> HTMLResponse:
    return _users_page(request, app, user, flash=request.query_params.get("flash"))


@router.post("/console/admin/users", response_model=None)
def create_user(
    request: Request,
    app: App,
    user: AdminUser,
    form: CheckedForm,
) -> Response:
    raw_password = form.get("password")
    values = fields(form, "username", "full_name", "email", "role")
    try:
        role = Role(values["role"]) if values["role"] else None
        if role is None:
            raise InvalidInput("choose a role", field="role")
        with app.uow() as uow:
            made = auth.create_user(
                uow,
                actor=user.actor,
                username=values["username"],
                full_name=values["full_name"],
                email=values["email"] or None,
                role=role,
                password=raw_password if isinstance(raw_password, str) else "",
            )
    except ValueError:
        return _users_page(
            request, app, user, errors={"role": "choose a role from the list"}, values=values
        )
    except FiberdeskError as exc:
        return _users_page(request, app, user, errors=form_errors(exc), values=values)
    return redirect(f"/console/admin/users?flash=User+{made.username}+created.")


@router.post("/console/admin/users/{username}/active", response_model=None)
def set_active(
    username: str,
    request: Request,
    app: App,
    user: AdminUser,
    form: CheckedForm,
) -> Response:
    active = text(form, "active") == "yes"
    try:
        with app.uow() as uow:
            auth.set_user_active(uow, actor=user.actor, username=username, active=active)
    except FiberdeskError as exc:
        return _users_page(request, app, user, errors=form_errors(exc))
    state = "reactivated" if active else "deactivated"
    return redirect(f"/console/admin/users?flash={username}+{state}.")


# --- tokens ------------------------------------------------------------------------------


def _tokens_page(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    issued: auth.IssuedToken | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        tokens = auth.list_tokens(uow, actor=user.actor)
        users = [u.username for u in auth.list_users(uow) if u.active]
    return _admin_page(
        request,
        user,
        "tokens.html",
        "tokens",
        tokens=tokens,
        usernames=[(u, u) for u in users],
        errors=errors,
        values=values or {},
        issued=issued,
        flash=flash,
        now=utcnow(),
    )


@router.get("/console/admin/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, app: App, user: AdminUser) -> HTMLResponse:
    return _tokens_page(request, app, user, flash=request.query_params.get("flash"))


@router.post("/console/admin/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    app: App,
    user: AdminUser,
    form: CheckedForm,
) -> HTMLResponse:
    values = fields(form, "username", "name", "expires_in_days")
    try:
        days = values["expires_in_days"]
        if days and not days.isdigit():
            raise InvalidInput(
                "a whole number of days, or empty for no expiry", field="expires_in_days"
            )
        with app.uow() as uow:
            issued = auth.create_token(
                uow,
                actor=user.actor,
                username=values["username"],
                name=values["name"],
                expires_in_days=int(days) if days else None,
            )
    except FiberdeskError as exc:
        return _tokens_page(request, app, user, errors=form_errors(exc), values=values)
    # shown once, on this response; never stored in a form or a URL
    return _tokens_page(request, app, user, issued=issued)


@router.post("/console/admin/tokens/{token_id}/revoke", response_model=None)
def revoke_token(
    token_id: int,
    request: Request,
    app: App,
    user: AdminUser,
    form: CheckedForm,
) -> Response:
    try:
        with app.uow() as uow:
            auth.revoke_token(uow, actor=user.actor, token_id=token_id)
    except FiberdeskError as exc:
        return _tokens_page(request, app, user, errors=form_errors(exc))
    return redirect(f"/console/admin/tokens?flash=Token+{token_id}+revoked.")


# --- message templates -------------------------------------------------------------------


@router.get("/console/admin/templates", response_class=HTMLResponse)
def templates_page(request: Request, user: AdminUser) -> HTMLResponse:
    kinds = list(default_templates().catalog.values())
    return _admin_page(request, user, "templates.html", "templates", kinds=kinds)


@router.get("/console/admin/templates/{kind}", response_class=HTMLResponse)
def template_preview(
    kind: str,
    request: Request,
    app: App,
    user: AdminUser,
) -> HTMLResponse:
    templates = default_templates()
    spec = templates.catalog.get(kind)
    if spec is None:
        raise NotFound(f"there is no message kind {kind!r}")
    sample = templates.sample(kind, Branding.from_settings(app.settings))
    return _admin_page(request, user, "template.html", "templates", spec=spec, sample=sample)


# --- troubleshooting flows ---------------------------------------------------------------


@router.get("/console/admin/flows", response_class=HTMLResponse)
def flows_page(request: Request, app: App, user: AdminUser) -> HTMLResponse:
    with app.uow(write=False) as uow:
        found = flows.list_flows(uow, actor=user.actor)
    return _admin_page(request, user, "flows.html", "flows", flows=found)


def _flow_page(
    request: Request,
    app: Fiberdesk,
    user: SignedIn,
    code: str,
    *,
    errors: dict[str, str] | None = None,
    draft: str | None = None,
    saved: str | None = None,
) -> HTMLResponse:
    with app.uow(write=False) as uow:
        flow = flows.get_flow(uow, actor=user.actor, code=code)
    return _admin_page(
        request,
        user,
        "flow.html",
        "flows",
        flow=flow,
        errors=errors,
        values={"definition": draft or json.dumps(flow.definition, indent=2)},
        saved=saved,
    )


@router.get("/console/admin/flows/{code}", response_class=HTMLResponse)
def flow_page(
    code: str,
    request: Request,
    app: App,
    user: AdminUser,
) -> HTMLResponse:
    return _flow_page(request, app, user, code, saved=request.query_params.get("saved"))


@router.post("/console/admin/flows/{code}", response_model=None)
def save_flow(
    code: str,
    request: Request,
    app: App,
    user: AdminUser,
    form: CheckedForm,
) -> Response:
    draft = text(form, "definition")
    try:
        try:
            definition = json.loads(draft)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"this is not valid JSON: {exc.msg} at line {exc.lineno}", field="definition"
            ) from None
        with app.uow() as uow:
            saved = flows.save_flow(uow, actor=user.actor, code=code, definition=definition)
    except FiberdeskError as exc:
        errors = form_errors(exc)
        if "_" in errors or exc.field not in (None, "definition"):
            errors = {"definition": exc.reason}
        return _flow_page(request, app, user, code, errors=errors, draft=draft)
    return redirect(f"/console/admin/flows/{code}?saved={saved.version}")
