"""/api/v1/search: the global search (the console's search box and the agent tools use the
same service)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.users import Actor
from fiberdesk.services import search
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES, prebuilt_json
from fiberdesk.web.deps import ApiActor, ReadUow
from fiberdesk.web.threads import run_lookup

router = APIRouter(prefix="/api/v1/search", tags=["search"], responses=PROBLEM_RESPONSES)


class SearchHitOut(BaseModel):
    kind: str
    id: int
    customer_id: int
    title: str
    subtitle: str
    matched: str
    matched_label: str
    score: float
    url: str


class SearchOut(BaseModel):
    query: str
    items: list[SearchHitOut]


@router.get(
    "",
    response_model=SearchOut,
    summary="Search customers and tickets",
    description=(
        "One box for account numbers, names, phone numbers (any format), emails, service "
        "addresses, ONT serials and ticket numbers (TKT-000123), tolerant of typos. Exact "
        "identifiers score 100 and come first; names and addresses follow, best first."
    ),
)
async def run_search(
    actor: ApiActor,
    uow: ReadUow,
    request: Request,
    q: str = Query("", max_length=400, description="what to look for"),
    limit: int = Query(10, description=f"1 to {search.MAX_LIMIT}"),
) -> Response:
    return await run_lookup(request, _search, actor, uow, q, limit)


def _search(actor: Actor, uow: UnitOfWork, q: str, limit: int) -> Response:
    with uow:
        hits = search.search(uow, actor=actor, query=q, limit=limit)
    return prebuilt_json(search_payload(q, hits))


def search_payload(query: str, hits: list[search.SearchHit]) -> dict[str, object]:
    """The answer in the shape of ``SearchOut``."""
    return {
        "query": " ".join(query.split()),
        "items": [
            {
                "kind": h.kind,
                "id": h.id,
                "customer_id": h.customer_id,
                "title": h.title,
                "subtitle": h.subtitle,
                "matched": h.matched,
                "matched_label": h.matched_label,
                "score": h.score,
                "url": h.url,
            }
            for h in hits
        ],
    }
