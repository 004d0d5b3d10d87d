"""The server's thread pool for database work is sized by FIBERDESK_REQUEST_THREADS, and
the liveness probe needs none of it."""

from __future__ import annotations

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.config import Settings
from fiberdesk.web.app import create_app


def _tokens() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


def test_the_thread_pool_takes_its_size_from_the_settings(sqlite_fd: Fiberdesk) -> None:
    sqlite_fd.settings = sqlite_fd.settings.model_copy(update={"request_threads": 3})
    with TestClient(create_app(sqlite_fd)) as client:
        assert client.portal is not None
        assert client.portal.call(_tokens) == 3
        assert client.get("/healthz").json()["status"] == "ok"


def test_a_bad_thread_count_is_refused() -> None:
    with pytest.raises(ValueError, match="request_threads"):
        Settings(request_threads=0)
