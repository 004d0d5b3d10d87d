"""A small async HTTP/1.1 load generator for local benchmarks.

N concurrent clients, one keep-alive connection each, send requests for a fixed duration
or a fixed count and record each latency. Two clients are built in: ``raw`` writes the
request bytes and parses the response on asyncio streams (cheap, so most of the shared
CPU is left to the server); ``httpx`` uses one ``httpx.AsyncClient`` per client. Only
loopback addresses are accepted, and duration, count and concurrency are bounded.

Beside the load, ``ProcessWatch`` and ``cpu_snapshot`` read ``/proc`` for what a benchmark
reports next to its latencies: the peak resident memory of a server's process tree and the
CPU time spent per request by the server, the database (the PostgreSQL backends connected
to it) and the load generator itself, and how busy the whole machine was.

``python -m bench.loadgen --url http://127.0.0.1:8000/healthz --clients 16 --duration 5
--client both`` measures one URL with each client, to see which one is the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import itertools
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

MAX_CLIENTS = 256
MAX_DURATION_S = 600.0
MAX_COUNT = 5_000_000
CLIENTS = ("raw", "httpx")

#: called with (status, body) for each response when given; for checks outside timing
ResponseHook = Callable[[int, bytes], None]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class LoadResult:
    label: str
    client: str
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds (0 with none)."""
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "client": self.client,
            "clients": self.clients,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p90_ms": round(self.percentile(90), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(self.percentile(100), 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": dict(self.failures),
        }


def check_local(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the load generator only targets loopback addresses, not {host!r}")


def _encode(request: Request, host: str, port: int) -> bytes:
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in request.headers]
    body = request.body or b""
    if request.body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one HTTP/1.1 response."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed by the server")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, keep_alive = 0, False, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep_alive = b"close" not in value.lower()
    if not chunked:
        return status, await reader.readexactly(length), keep_alive
    parts: list[bytes] = []
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, b"".join(parts), keep_alive
        parts.append(chunk[:-2])


class _Plan:
    """What the clients share: the requests, the deadline or the count, the results."""

    def __init__(self, n_requests: int, duration: float | None, count: int | None) -> None:
        self.next_index = itertools.count()
        self.n_requests = n_requests
        self.deadline = time.perf_counter() + duration if duration is not None else math.inf
        self.remaining = count if count is not None else math.inf

    def take(self) -> int | None:
        if self.remaining <= 0 or time.perf_counter() >= self.deadline:
            return None
        self.remaining -= 1
        return next(self.next_index) % self.n_requests


async def _raw_client(
    host: str,
    port: int,
    payloads: list[bytes],
    plan: _Plan,
    result: LoadResult,
    hook: ResponseHook | None,
    timeout: float,
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while (index := plan.take()) is not None:
            started = time.perf_counter()
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(payloads[index])
                status, body, keep_alive = await asyncio.wait_for(_read_response(reader), timeout)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                result.errors += 1
                result.failures[type(exc).__name__] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            _record(result, started, status, body, hook)
            if not keep_alive:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()
            await writer.wait_closed()


async def _httpx_client(
    host: str,
    port: int,
    requests: Sequence[Request],
    plan: _Plan,
    result: LoadResult,
    hook: ResponseHook | None,
    timeout: float,
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=f"http://{host}:{port}", limits=limits, timeout=timeout
    ) as client:
        while (index := plan.take()) is not None:
            req = requests[index]
            started = time.perf_counter()
            try:
                response = await client.request(
                    req.method, req.path, content=req.body, headers=list(req.headers)
                )
            except httpx.HTTPError as exc:
                result.errors += 1
                result.failures[type(exc).__name__] += 1
                continue
            _record(result, started, response.status_code, response.content, hook)


def _record(
    result: LoadResult, started: float, status: int, body: bytes, hook: ResponseHook | None
) -> None:
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    result.statuses[status] += 1
    if not 200 <= status < 300:
        result.errors += 1
        result.failures[f"HTTP {status}"] += 1
    if hook is not None:
        hook(status, body)


async def run(
    base_url: str | Sequence[str],
    requests: Sequence[Request],
    *,
    clients: int = 16,
    duration: float | None = None,
    count: int | None = None,
    client: str = "raw",
    label: str = "",
    timeout: float = 30.0,
    hook: ResponseHook | None = None,
) -> LoadResult:
    """Send ``requests`` (cycled, shared by all clients) for ``duration`` seconds or
    ``count`` requests; non-2xx answers and transport failures count as errors. With
    several base URLs (one server process each), client ``i`` talks to URL ``i % n``."""
    targets = []
    for url in [base_url] if isinstance(base_url, str) else base_url:
        parts = urlsplit(url)
        targets.append((parts.hostname or "", parts.port or 80))
        check_local(targets[-1][0])
    if not targets:
        raise ValueError("no base URL")
    if client not in CLIENTS:
        raise ValueError(f"client must be one of {CLIENTS}")
    if not requests:
        raise ValueError("no requests to send")
    if not 1 <= clients <= MAX_CLIENTS:
        raise ValueError(f"clients must be 1..{MAX_CLIENTS}")
    if (duration is None) == (count is None):
        raise ValueError("give a duration or a count, not both")
    if duration is not None and not 0 < duration <= MAX_DURATION_S:
        raise ValueError(f"duration must be in (0, {MAX_DURATION_S}] seconds")
    if count is not None and not 0 < count <= MAX_COUNT:
        raise ValueError(f"count must be 1..{MAX_COUNT}")
    result = LoadResult(label, client, clients, 0.0)
    plan = _Plan(len(requests), duration, count)
    started = time.perf_counter()
    tasks = []
    encoded: dict[tuple[str, int], list[bytes]] = {}
    for i in range(clients):
        host, port = targets[i % len(targets)]
        if client == "raw":
            payloads = encoded.setdefault((host, port), [_encode(r, host, port) for r in requests])
            tasks.append(_raw_client(host, port, payloads, plan, result, hook, timeout))
        else:
            tasks.append(_httpx_client(host, port, requests, plan, result, hook, timeout))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - started
    return result


def run_load(
    base_url: str | Sequence[str], requests: Sequence[Request], **options: Any
) -> LoadResult:
    """``run`` on a fresh event loop (uvloop when it is installed, as uvicorn does)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(run(base_url, requests, **options))
    return uvloop.run(run(base_url, requests, **options))


def _processes() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command name, CPU clock ticks) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            found[int(entry.name)] = (int(fields[1]), name, int(fields[11]) + int(fields[12]))
    return found


def process_tree(pid: int, table: dict[int, tuple[int, str, int]] | None = None) -> list[int]:
    """``pid`` and every descendant (a server's worker processes)."""
    table = _processes() if table is None else table
    tree, todo = [pid], [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, (ppid, _, _) in table.items() if ppid == parent]
        tree += kids
        todo += kids
    return tree


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """Cumulative CPU seconds: a server's process tree, each PostgreSQL backend of its
    database, this process, and the machine's busy and total time (summed over its cores)."""

    server: float
    database: dict[int, float]
    loadgen: float
    busy: float
    total: float

    def per_request_ms(self, later: CpuSnapshot, requests: int) -> dict[str, float]:
        """CPU ms per request of each party, how busy the machine was, and how much of it
        went to processes outside the benchmark (a noisy neighbour)."""
        n, total = max(1, requests), max(1e-9, later.total - self.total)
        server, loadgen = later.server - self.server, later.loadgen - self.loadgen
        # postgres processes that ended in between are lost; new ones count from zero
        database = sum(t - self.database.get(pid, 0.0) for pid, t in later.database.items())
        busy = later.busy - self.busy
        return {
            "server_cpu_ms": round(server * 1000 / n, 3),
            "db_cpu_ms": round(database * 1000 / n, 3),
            "loadgen_cpu_ms": round(loadgen * 1000 / n, 3),
            "machine_busy_pct": round(100 * busy / total, 1),
            "others_busy_pct": round(100 * max(0.0, busy - server - database - loadgen) / total, 1),
        }


def _serves(pid: int, database: str) -> bool:
    """Whether a postgres process is a backend connected to ``database`` (its title reads
    ``postgres: [cluster:] user database host(port) state``)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return False
    if len(title) > 1 and title[1].endswith(b":"):
        del title[1]
    return len(title) > 2 and title[0] == b"postgres:" and title[2] == database.encode()


def cpu_snapshot(server_pid: int, database: str | None = None) -> CpuSnapshot:
    """CPU so far of the server's tree and of the PostgreSQL backends serving ``database``."""
    tick = os.sysconf("SC_CLK_TCK")
    table = _processes()
    server = sum(table[p][2] for p in process_tree(server_pid, table) if p in table) / tick
    backends = [p for p, (_, name, _) in table.items() if database and name == "postgres"]
    db = {p: table[p][2] / tick for p in backends if _serves(p, database or "")}
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    busy, total = sum(values) - values[3] - values[4], sum(values)
    return CpuSnapshot(server, db, time.process_time(), busy / tick, total / tick)


def _status_kb(pid: int, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class ProcessWatch(threading.Thread):
    """Samples the resident memory of a process and its descendants; keeps each peak
    (VmHWM, the kernel's own high-water mark, catches peaks between samples)."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_kb: dict[int, int] = {}
        self.peak_total_kb = 0
        self._tree: list[int] = []
        self._samples = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        if self._samples % 10 == 0:  # a full /proc scan only now and then
            self._tree = process_tree(self.pid)
        self._samples += 1
        total = 0
        for pid in self._tree:
            rss = _status_kb(pid, "VmRSS")
            self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), rss, _status_kb(pid, "VmHWM"))
            total += rss
        self.peak_total_kb = max(self.peak_total_kb, total)

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self._samples = 0
        self.sample()


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadgen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000/healthz")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--client", choices=[*CLIENTS, "both"], default="raw")
    args = parser.parse_args(argv)
    parts = urlsplit(args.url)
    base = f"{parts.scheme}://{parts.netloc}"
    request = Request("GET", parts.path or "/")
    summaries = []
    for client in CLIENTS if args.client == "both" else (args.client,):
        result = run_load(
            base,
            [request],
            clients=args.clients,
            duration=args.duration,
            client=client,
            label=args.url,
        )
        summary = result.summary()
        summaries.append(summary)
        print(
            f"{client:>6}: {summary['requests']} requests, {summary['errors']} errors, "
            f"{summary['rps']} req/s, p50 {summary['p50_ms']} ms, "
            f"p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms"
        )
    return summaries


if __name__ == "__main__":
    main()
