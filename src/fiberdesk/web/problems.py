"""Errors as RFC 9457 problem details (``application/problem+json``), mapped in one place."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fiberdesk.domain import errors

PROBLEM_TYPE_BASE = "https://fiberdesk.dev/problems/"

STATUS_BY_ERROR: dict[type[errors.FiberdeskError], int] = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.TransitionRefused: 409,
    errors.Conflict: 409,
    errors.Refused: 409,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.RateLimited: 429,
}


def status_for(exc: errors.FiberdeskError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def problem(status: int, detail: str, *, code: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (code or HTTPStatus(status).phrase.lower().replace(" ", "-")),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status == 429 and "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


#: renders an error as a page for paths that are pages; None to answer problem+json
HtmlErrors = Callable[[Request, int, str], Response | None]


def install(app: FastAPI, html: HtmlErrors | None = None) -> None:
    def as_page(request: Request, status: int, reason: str) -> Response | None:
        return html(request, status, reason) if html is not None else None

    @app.exception_handler(errors.FiberdeskError)
    async def _domain(request: Request, exc: errors.FiberdeskError) -> Response:
        if (shown := as_page(request, status_for(exc), exc.reason)) is not None:
            return shown
        return problem(
            status_for(exc),
            exc.reason,
            code=exc.code,
            instance=request.url.path,
            field=exc.field,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        invalid = [
            {"field": _field_name(tuple(e["loc"])), "reason": e["msg"]} for e in exc.errors()
        ]
        detail = "; ".join(f"{i['field']}: {i['reason']}" for i in invalid)
        if (shown := as_page(request, 422, detail)) is not None:
            return shown
        return problem(
            422, detail, code="invalid-input", instance=request.url.path, invalid_params=invalid
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if (shown := as_page(request, exc.status_code, str(exc.detail))) is not None:
            return shown
        return problem(exc.status_code, str(exc.detail), instance=request.url.path)
