"""ASGI entry for process managers: ``uvicorn fiberdesk.web.asgi:app``."""

from fiberdesk.web.app import create_app, settle_heap

app = create_app()
settle_heap()
