"""Server-rendered pages: one Jinja2 environment, autoescaped, with money and date filters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from fiberdesk.domain.money import round_cents

TEMPLATES = Path(__file__).parent / "templates"


def money(value: Decimal | str | None, currency: str = "USD") -> str:
    if value is None:
        return ""
    amount = round_cents(Decimal(value))
    symbol = "$" if currency == "USD" else f"{currency} "
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return "" if value is None else value.strftime(fmt)


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["money"] = money
environment.filters["when"] = when


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)
