"""The ASGI application: API routers, problem responses, health."""

from __future__ import annotations

from fastapi import FastAPI

from fiberdesk import __version__
from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.web import problems
from fiberdesk.web.api import customers, network


def create_app(fiberdesk: Fiberdesk | None = None) -> FastAPI:
    app = FastAPI(
        title="fiberdesk",
        version=__version__,
        description="Customer operations for fiber-to-the-home operators.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.fiberdesk = fiberdesk or build()
    problems.install(app)

    @app.get("/healthz", tags=["health"], summary="Liveness: answers without the database")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(customers.router)
    app.include_router(network.router)
    return app
