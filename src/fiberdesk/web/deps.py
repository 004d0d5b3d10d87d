"""Request dependencies: the application, units of work and the authenticated actor.

They are ``async`` because none of them waits for anything on the common path: FastAPI
runs a plain ``def`` dependency in its thread pool, a hop that costs more than the work.
Only a bearer token this process has not seen in the last 30 s is looked up in the
database, in the thread pool (see ``services.auth``'s token cache).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import Unauthorized
from fiberdesk.domain.users import Actor, Channel
from fiberdesk.services import auth

_bearer = HTTPBearer(auto_error=False, description="an API token from `fiberdesk token create`")


def get_app(request: Request) -> Fiberdesk:
    app: Fiberdesk = request.app.state.fiberdesk
    return app


async def current_app(request: Request) -> Fiberdesk:
    """``get_app`` as an async dependency: the same value, no thread-pool hop."""
    return get_app(request)


# Each takes the request rather than depending on ``current_app``: FastAPI spends about
# a tenth of a millisecond on every nested dependency of every request.
async def read_uow(request: Request) -> UnitOfWork:
    return get_app(request).uow(write=False)


async def write_uow(request: Request) -> UnitOfWork:
    return get_app(request).uow(write=True)


def _actor_from_database(app: Fiberdesk, secret: str) -> Actor:
    with app.uow(write=False) as uow:
        return auth.actor_for_token(uow, secret=secret, channel=Channel.API)


async def api_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("this endpoint needs an API token: Authorization: Bearer <token>")
    secret = credentials.credentials
    app = get_app(request)
    actor = auth.cached_actor(app.engine, secret=secret, channel=Channel.API)
    if actor is not None:
        return actor
    return await run_in_threadpool(_actor_from_database, app, secret)


ApiActor = Annotated[Actor, Depends(api_actor)]
ReadUow = Annotated[UnitOfWork, Depends(read_uow)]
WriteUow = Annotated[UnitOfWork, Depends(write_uow)]
CurrentApp = Annotated[Fiberdesk, Depends(current_app)]
