"""The server's thread pool for database work is sized by FIBERDESK_REQUEST_THREADS, the
busiest lookups (qualification, search) have their own, sized by FIBERDESK_LOOKUP_THREADS,
and the liveness probe needs neither."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.config import Settings
from fiberdesk.domain.users import Role
from fiberdesk.services import search
from fiberdesk.web.app import create_app
from tests.factories import make_token


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
    with pytest.raises(ValueError, match="lookup_threads"):
        Settings(lookup_threads=0)


def test_lookups_run_at_most_lookup_threads_at_once(
    sqlite_fd: Fiberdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_fd.settings = sqlite_fd.settings.model_copy(
        update={"lookup_threads": 2, "request_threads": 8}
    )
    auth = {"Authorization": f"Bearer {make_token(sqlite_fd, Role.CSR)}"}
    lock = threading.Lock()
    running = [0]
    most = [0]
    real = search.search

    def slow_search(*args: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.15)
        with lock:
            running[0] -= 1
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "search", slow_search)
    with TestClient(create_app(sqlite_fd)) as client:

        def one(i: int) -> tuple[int, float]:
            started = time.monotonic()
            status = client.get("/api/v1/search", params={"q": f"x{i}"}, headers=auth).status_code
            return status, time.monotonic() - started

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(one, range(6)))
        # meanwhile the liveness probe answers at once
        assert client.get("/healthz").status_code == 200
    assert [status for status, _ in results] == [200] * 6
    assert most[0] == 2, "two at once, the others waited their turn"
    assert max(took for _, took in results) >= 0.15 * 3 * 0.9  # three rounds of two
