"""The ASGI application: API routers, problem responses, health."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fiberdesk import __version__
from fiberdesk.adapters.payments.fake import FakeGateway
from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.web import console, problems
from fiberdesk.web.api import (
    appointments,
    billing,
    changes,
    communications,
    customers,
    dev,
    kpis,
    network,
    orders,
    outages,
    qualification,
    quotes,
    search,
    templates,
    tickets,
    troubleshooting,
    waitlist,
)
from fiberdesk.web.ratelimit import RateLimiter
from fiberdesk.web.ui import public, selfservice
from fiberdesk.web.ui import surveys as survey_pages


def create_app(fiberdesk: Fiberdesk | None = None) -> FastAPI:
    fiberdesk = fiberdesk or build()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # the thread pool that runs the endpoints' database work, per event loop
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = fiberdesk.settings.request_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="fiberdesk",
        version=__version__,
        description="Customer operations for fiber-to-the-home operators.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.fiberdesk = fiberdesk
    app.state.public_limiter = RateLimiter(fiberdesk.settings.public_rate_limit_per_minute)
    problems.install(app, html=console.html_error)

    # Routes are matched in the order they are added: the API first, then the pages, so
    # that an API request (the busiest, from other systems) is not compared with every
    # console route before its own (about 1 ms per request with FastAPI's router).
    @app.get("/healthz", tags=["health"], summary="Liveness: answers without the database")
    async def healthz() -> dict[str, str]:
        # async: a liveness probe needs no thread, and answers while they are all busy
        return {"status": "ok", "version": __version__}

    for router in (
        qualification.router,
        search.router,
        customers.router,
        network.router,
        quotes.router,
        waitlist.router,
        orders.router,
        appointments.router,
        tickets.router,
        troubleshooting.router,
        templates.router,
        outages.router,
        kpis.router,
        kpis.metrics_router,
        survey_pages.router,
        billing.router,
        changes.router,
        communications.router,
        public.router,
        selfservice.router,
    ):
        app.include_router(router)
    if isinstance(fiberdesk.gateway, FakeGateway):
        app.include_router(dev.router)
    console.install(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app


def settle_heap() -> None:
    """Take what start-up made (modules, models, routes, compiled templates: some 180,000
    objects) out of the cyclic garbage collector's reach, in a server process: they live
    as long as the process, and each full collection that walked them held Python's lock
    for about 100 ms, stalling every request in flight. Objects freed later are still
    freed as usual; only cycles among them would stay."""
    gc.collect()
    gc.freeze()
