"""A per-client sliding-window rate limit for the anonymous public routes.

The counts live in the memory of each server process (a limit of N per minute per process);
they are throttling state, not records, so losing them on restart loses nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import Request

from fiberdesk.domain.errors import RateLimited


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                wait = int(60 - (now - hits[0])) + 1
                raise RateLimited(
                    f"too many requests: at most {self.per_minute} a minute; try again in {wait} s",
                    extra={"retry_after": wait},
                )
            hits.append(now)
            if len(self._hits) > 50_000:  # forget idle clients
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - 60]:
                    del self._hits[key]


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"
