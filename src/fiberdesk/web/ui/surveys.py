"""The public satisfaction survey (no login, rate limited): /survey/{id}?t=<signed token>.

GET shows the question (a score from 1 to 5 and an optional comment); POST records the
answer. A forged link gets a 400 page, an expired one 410, a second answer 409 (the link
opened again after answering shows the thank-you note), a missing or out-of-range score the
form again with the error (422).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.services import surveys
from fiberdesk.services.surveys import AlreadyAnswered, LinkExpired, LinkInvalid, SurveyView
from fiberdesk.web.api.kpis import kpi_settings
from fiberdesk.web.deps import get_app
from fiberdesk.web.ratelimit import client_key
from fiberdesk.web.render import render

router = APIRouter(tags=["self-service"], include_in_schema=False)
App = Annotated[Fiberdesk, Depends(get_app)]
SurveyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SCORES = [
    (5, "Very satisfied"),
    (4, "Satisfied"),
    (3, "Neither satisfied nor dissatisfied"),
    (2, "Dissatisfied"),
    (1, "Very dissatisfied"),
]


def _limit(request: Request, app: App) -> None:
    request.app.state.public_limiter.check(client_key(request))


def _page(
    app: Fiberdesk,
    *,
    state: str,
    survey_id: int,
    token: str = "",
    view: SurveyView | None = None,
    error: str | None = None,
    score: str = "",
    comment: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        "public/survey.html",
        status_code=status_code,
        company=app.settings.company_name,
        support_phone=app.settings.support_phone,
        state=state,
        survey_id=survey_id,
        token=token,
        view=view,
        error=error,
        score=score,
        comment=comment,
        scores=SCORES,
        max_comment=surveys.MAX_COMMENT,
    )


def _refused(app: Fiberdesk, survey_id: int, exc: Exception) -> HTMLResponse:
    if isinstance(exc, LinkExpired):
        return _page(app, state="expired", survey_id=survey_id, status_code=410)
    if isinstance(exc, AlreadyAnswered):
        return _page(app, state="answered", survey_id=survey_id, status_code=409)
    return _page(app, state="invalid", survey_id=survey_id, status_code=400)


@router.get("/survey/{survey_id}", response_class=HTMLResponse, dependencies=[Depends(_limit)])
def survey_page(
    app: App, survey_id: SurveyId, t: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    try:
        with app.uow(write=False) as uow:
            view = surveys.open_survey(
                uow, survey_id=survey_id, token=t, settings=kpi_settings(app)
            )
    except AlreadyAnswered:
        return _page(app, state="answered", survey_id=survey_id)
    except (LinkInvalid, LinkExpired) as exc:
        return _refused(app, survey_id, exc)
    return _page(app, state="question", survey_id=survey_id, token=t, view=view)


@router.post("/survey/{survey_id}", response_class=HTMLResponse, dependencies=[Depends(_limit)])
def survey_answer(
    app: App,
    survey_id: SurveyId,
    t: Annotated[str, Form(max_length=200)] = "",
    score: Annotated[str, Form(max_length=10)] = "",
    comment: Annotated[str, Form(max_length=4 * surveys.MAX_COMMENT)] = "",
) -> HTMLResponse:
    settings = kpi_settings(app)
    try:
        number = int(score.strip()) if score.strip().lstrip("-").isdigit() else None
        if number is None:
            raise InvalidInput("choose a score from 1 to 5", field="score")
        with app.uow() as uow:
            view = surveys.answer(
                uow,
                survey_id=survey_id,
                token=t,
                score=number,
                comment=comment,
                settings=settings,
            )
    except (LinkInvalid, LinkExpired, AlreadyAnswered) as exc:
        return _refused(app, survey_id, exc)
    except InvalidInput as exc:
        with app.uow(write=False) as uow:
            try:
                shown = surveys.open_survey(uow, survey_id=survey_id, token=t, settings=settings)
            except (LinkInvalid, LinkExpired, AlreadyAnswered) as refused:
                return _refused(app, survey_id, refused)
        return _page(
            app,
            state="question",
            survey_id=survey_id,
            token=t,
            view=shown,
            error=exc.reason,
            score=score,
            comment=comment,
            status_code=422,
        )
    return _page(app, state="thanks", survey_id=survey_id, view=view)
