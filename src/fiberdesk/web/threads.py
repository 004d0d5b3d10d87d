"""Where the endpoints' blocking work runs: threads, bounded per server process.

FastAPI runs a plain ``def`` endpoint on anyio's thread pool, whose size the server sets
from ``FIBERDESK_REQUEST_THREADS``. The busiest read-only lookups (qualification and
global search) spend their time in Python rather than waiting, so threads running them
only take turns at Python's lock: with eight at once, each waited for the others and
the slowest hundredth of answers took two to three times as long as with two. They run
on a pool of their own, ``FIBERDESK_LOOKUP_THREADS`` (2) per process, so that a burst of
them neither slows itself down nor takes every thread from the other endpoints; the
others wait their turn on the event loop. For more throughput, run more processes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import Request

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

#: one limiter per event loop (a limiter belongs to the loop that made it)
_LOOKUPS: RunVar[CapacityLimiter] = RunVar("fiberdesk_lookup_limiter")


def lookup_limiter(size: int) -> CapacityLimiter:
    """This event loop's limiter of lookups, made with ``size`` places on first use."""
    try:
        return _LOOKUPS.get()
    except LookupError:
        limiter = CapacityLimiter(size)
        _LOOKUPS.set(limiter)
        return limiter


async def run_lookup(request: Request, work: Callable[[*Ts], T], *args: *Ts) -> T:
    """Run ``work(*args)`` on a thread, at most ``lookup_threads`` at once."""
    size = request.app.state.fiberdesk.settings.lookup_threads
    return await anyio.to_thread.run_sync(work, *args, limiter=lookup_limiter(size))
