"""Console pages: the global search.

    GET /console/search?q=            every hit, with what matched
    GET /console/search/suggest?q=    the header box's live list: an HTML fragment of links
                                      (static/console.js); empty for a query too short

Both call ``services.search`` (as the REST API and the agent tools do).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.services import search
from fiberdesk.services.search import SearchHit
from fiberdesk.services.sessions import SignedIn
from fiberdesk.web.console.auth import CustomersUser
from fiberdesk.web.console.pages import page
from fiberdesk.web.deps import get_app
from fiberdesk.web.render import environment

router = APIRouter(tags=["console"], include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
User = CustomersUser
#: hits on the results page and in the live list
PAGE_HITS = 50
SUGGESTIONS = 8


def _find(app: Fiberdesk, user: SignedIn, q: str, limit: int) -> list[SearchHit]:
    with app.uow(write=False) as uow:
        return search.search(uow, actor=user.actor, query=q, limit=limit)


@router.get("/console/search", response_class=HTMLResponse)
def results(
    request: Request, app: App, user: User, q: Annotated[str, Query(max_length=400)] = ""
) -> HTMLResponse:
    hits: list[SearchHit] = []
    errors: dict[str, str] = {}
    if q.strip():
        try:
            hits = _find(app, user, q, PAGE_HITS)
        except InvalidInput as exc:
            errors = {"q": exc.reason[:1].upper() + exc.reason[1:] + "."}
    return page(
        request,
        user,
        "console/search/results.html",
        area="customers",
        status_code=422 if errors else 200,
        q=" ".join(q.split()),
        hits=hits,
        errors=errors,
        values={"q": q},
    )


@router.get("/console/search/suggest", response_class=HTMLResponse)
def suggest(app: App, user: User, q: Annotated[str, Query(max_length=400)] = "") -> HTMLResponse:
    try:
        hits = _find(app, user, q, SUGGESTIONS)
    except InvalidInput:
        return HTMLResponse("")
    fragment = environment.get_template("console/search/_suggestions.html").render(
        hits=hits, q=" ".join(q.split())
    )
    return HTMLResponse(fragment)
