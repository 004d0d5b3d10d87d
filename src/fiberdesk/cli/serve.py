"""``fiberdesk serve``: the web application."""

from __future__ import annotations

import typer
import uvicorn

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.cli.common import console, get_app
from fiberdesk.db import migrate
from fiberdesk.messages import default_templates
from fiberdesk.worker import delivery_settings, start_in_process


def serve(
    host: str | None = typer.Option(None, help="address to bind (default from settings)"),
    port: int | None = typer.Option(None, help="port (default from settings)"),
    workers: int = typer.Option(1, min=1, help="uvicorn worker processes"),
) -> None:
    """Run the web console and the REST API."""
    app = get_app()
    migrate.require_migrated(app.engine)
    default_templates()  # a broken message template stops start-up, not a send

    host = host or app.settings.host
    port = port or app.settings.port
    console.print(f"fiberdesk on http://{host}:{port}  (API docs at /docs)")
    stop = None
    if delivery_settings(app.settings).worker_in_process:
        # messages go out from this process too (turn off with FIBERDESK_WORKER_IN_PROCESS
        # when separate `fiberdesk worker` processes deliver)
        stop = start_in_process(app)
    try:
        _run(app, host, port, workers)
    finally:
        if stop is not None:
            stop()


def _run(app: Fiberdesk, host: str, port: int, workers: int) -> None:
    if workers > 1:
        uvicorn.run(
            "fiberdesk.web.asgi:app", host=host, port=port, workers=workers, log_level="warning"
        )
    else:
        from fiberdesk.web.app import create_app, settle_heap

        asgi = create_app(app)
        settle_heap()
        uvicorn.run(asgi, host=host, port=port, log_level="warning")
