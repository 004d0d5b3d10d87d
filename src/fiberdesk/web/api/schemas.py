"""Shapes of API responses shared by several routers."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fastapi.responses import Response
from pydantic import BaseModel
from pydantic_core import to_json

T = TypeVar("T")


def prebuilt_json(payload: Any) -> Response:
    """``payload`` as JSON, byte for byte what FastAPI sends for it through the route's
    response model (pydantic's serializer), without validating it once more. For the
    busiest endpoints (qualification, search), whose payload is built in the model's shape:
    FastAPI would validate the returned value again in a second thread-pool hop. Their
    tests check the bytes against the model."""
    return Response(to_json(payload), media_type="application/json")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "No or bad API token"},
    403: {"model": Problem, "description": "The token's role may not do this"},
    404: {"model": Problem, "description": "No such record"},
    422: {"model": Problem, "description": "Invalid parameters; the field is named"},
}
