"""/api/v1/templates: the message kinds, and any template previewed with sample data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import NotFound
from fiberdesk.messages import Branding, MessageKind, Rendered, default_templates
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES
from fiberdesk.web.deps import ApiActor, get_app

router = APIRouter(prefix="/api/v1/templates", tags=["templates"], responses=PROBLEM_RESPONSES)
App = Annotated[Fiberdesk, Depends(get_app)]


class FieldOut(BaseModel):
    name: str
    label: str
    required: bool
    format: str


class KindOut(BaseModel):
    kind: str
    label: str
    essential: bool
    audience: str
    sent_when: str
    fields: list[FieldOut]


class PreviewOut(BaseModel):
    kind: str
    subject: str
    text: str
    html: str


def _kind_out(spec: MessageKind) -> KindOut:
    return KindOut(
        kind=spec.name,
        label=spec.label,
        essential=spec.essential,
        audience=spec.audience,
        sent_when=spec.sent_when,
        fields=[FieldOut(name=f.name, label=f.label, required=f.required, format=f.format)
                for f in spec.fields],
    )  # fmt: skip


def _sample(kind: str, app: Fiberdesk) -> Rendered:
    templates = default_templates()
    if kind not in templates.catalog:
        raise NotFound(f"there is no message kind {kind!r}")
    return templates.sample(kind, Branding.from_settings(app.settings))


@router.get("", summary="Every kind of message, with its fields")
def catalog(actor: ApiActor) -> list[KindOut]:
    return [_kind_out(spec) for spec in default_templates().catalog.values()]


@router.get("/{kind}/preview", summary="One kind rendered with sample data")
def preview(kind: str, actor: ApiActor, app: App) -> PreviewOut:
    r = _sample(kind, app)
    return PreviewOut(kind=kind, subject=r.subject, text=r.text, html=r.html)


@router.get("/{kind}/preview.html", response_class=HTMLResponse, summary="The HTML body, as a page")
def preview_html(kind: str, actor: ApiActor, app: App) -> HTMLResponse:
    return HTMLResponse(_sample(kind, app).html)
