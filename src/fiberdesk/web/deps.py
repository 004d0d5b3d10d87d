"""Request dependencies: the application, units of work and the authenticated actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import Unauthorized
from fiberdesk.domain.users import Actor, Channel
from fiberdesk.services import auth

_bearer = HTTPBearer(auto_error=False, description="an API token from `fiberdesk token create`")


def get_app(request: Request) -> Fiberdesk:
    app: Fiberdesk = request.app.state.fiberdesk
    return app


def read_uow(app: Annotated[Fiberdesk, Depends(get_app)]) -> UnitOfWork:
    return app.uow(write=False)


def write_uow(app: Annotated[Fiberdesk, Depends(get_app)]) -> UnitOfWork:
    return app.uow(write=True)


def api_actor(
    app: Annotated[Fiberdesk, Depends(get_app)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("this endpoint needs an API token: Authorization: Bearer <token>")
    with app.uow(write=False) as uow:
        return auth.actor_for_token(uow, secret=credentials.credentials, channel=Channel.API)


ApiActor = Annotated[Actor, Depends(api_actor)]
ReadUow = Annotated[UnitOfWork, Depends(read_uow)]
WriteUow = Annotated[UnitOfWork, Depends(write_uow)]
