"""Run a creating request under its ``Idempotency-Key`` (see services/idempotency.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.users import Actor
from fiberdesk.services import idempotency


def run_idempotent(
    app: Fiberdesk,
    *,
    actor: Actor,
    key: str | None,
    request: Any,
    work: Callable[[], BaseModel],
    status_code: int = 201,
) -> JSONResponse:
    """``work`` runs once per (actor, key); a retry gets the first answer back."""
    if key is None:
        return JSONResponse(work().model_dump(mode="json"), status_code=status_code)
    with app.uow() as uow:
        stored = idempotency.claim(
            uow, actor=actor, key=key, digest=idempotency.request_digest(request)
        )
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        body = work().model_dump(mode="json")
    except BaseException:
        with app.uow() as uow:
            idempotency.release(uow, actor=actor, key=key)
        raise
    with app.uow() as uow:
        idempotency.complete(uow, actor=actor, key=key, status_code=status_code, body=body)
    return JSONResponse(body, status_code=status_code)
