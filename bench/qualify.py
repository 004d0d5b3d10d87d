"""Benchmark: service qualification over HTTP, beside the same server's ``/healthz``.

``python -m bench.qualify --url DB_URL [--clients 16] [--duration 20] [--workers 1]``
``python -m bench.qualify --url DB_URL --dump FILE`` (answers only, no timing)

Creates a user and an API token, starts ``fiberdesk serve`` on a free loopback port, warms
it up, then measures with the same load generator (``bench.loadgen``): GET /healthz (no
database), POST /api/v1/qualify with a mix of typed addresses sampled from the premises
before the timed run, and POST /api/v1/qualify by premises id. Prints a table, the
server's peak resident memory per process, and a JSON line with every figure.

With ``--dump FILE`` it measures nothing: it sends each sampled request once, one at a
time (the addresses, the premises ids, and the same premises by source id and by
coordinates), and writes every request with the status and body of its answer to FILE,
one JSON line each, so that two versions of the server can be compared byte for byte on
the same database (``cmp before.jsonl after.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bench.loadgen import (
    CLIENTS,
    LoadResult,
    ProcessWatch,
    Request,
    cpu_snapshot,
    process_tree,
    run_load,
)
from fiberdesk.db import migrate
from fiberdesk.db.engine import make_engine, make_session_factory
from fiberdesk.db.models import Premises, User
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import auth

console = Console(width=130)
BENCH_USER = "bench-qualify"
#: share of each way of typing an address in the mix
MIX = {
    "exact": 25,
    "lower": 15,
    "spelled_type": 15,
    "typo": 10,
    "no_city": 10,
    "unit": 10,
    "no_zip": 5,
    "not_found": 10,
}
SPELLED = {
    "RD": "Road",
    "AVE": "Avenue",
    "DR": "Drive",
    "CT": "Court",
    "LN": "Lane",
    "ST": "Street",
    "CIR": "Circle",
    "BLVD": "Boulevard",
    "PL": "Place",
    "TER": "Terrace",
    "WAY": "Way",
    "PKWY": "Parkway",
    "HWY": "Highway",
}


def make_token(url: str) -> str:
    """A fresh API token of a CSR user made for the benchmark."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)  # a benchmark database made before a new migration
        factory = make_session_factory(engine)
        with UnitOfWork(factory) as uow:
            exists = uow.session.scalar(sa.select(User.id).where(User.username == BENCH_USER))
        if exists is None:
            with UnitOfWork(factory) as uow:
                auth.create_user(
                    uow,
                    actor=SYSTEM_ACTOR,
                    username=BENCH_USER,
                    full_name="Benchmark",
                    role=Role.CSR,
                    password="bench-password-0",
                )
        with UnitOfWork(factory) as uow:
            return auth.create_token(
                uow,
                actor=SYSTEM_ACTOR,
                username=BENCH_USER,
                name="bench.qualify",
                expires_in_days=1,
            ).secret
    finally:
        engine.dispose()


def _typo(name: str, rng: random.Random) -> str:
    """Two neighbouring letters swapped (one typo for the matcher)."""
    spots = [
        i
        for i in range(len(name) - 1)
        if name[i].isalpha() and name[i + 1].isalpha() and name[i] != name[i + 1]
    ]
    if len(name) < 6 or not spots:
        return name
    i = rng.choice(spots[1:] or spots)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def typed_address(row: dict[str, Any], kind: str, rng: random.Random) -> str:
    """How someone might type the premises in ``row`` (premises columns)."""
    number = row["number"] + (f" {row['number_suffix']}" if row["number_suffix"] else "")
    name = _typo(row["street_name"], rng) if kind == "typo" else row["street_name"]
    stype = row["street_type"] or ""
    if kind == "spelled_type":
        stype = SPELLED.get(stype, stype)
    street = " ".join(p for p in (row["predir"], name, stype, row["sufdir"]) if p)
    city = row["city"] or row["community"] or ""
    unit = f" Apt {rng.randint(1, 24)}" if kind == "unit" else ""
    if kind == "no_city":
        text = f"{number} {street}{unit} {row['zip']}"
    elif kind == "no_zip":
        text = f"{number} {street}{unit}, {city}, {row['state']}"
    else:
        text = f"{number} {street}{unit}, {city}, {row['state']} {row['zip']}"
    if kind in ("lower", "typo"):
        return text.lower()
    return text.title() if kind in ("spelled_type", "unit", "no_zip") else text


def sample_addresses(url: str, n: int, seed: int) -> tuple[list[tuple[str, str]], list[int]]:
    """``n`` (kind, typed address) pairs and ``n`` premises ids, sampled through SQL."""
    rng = random.Random(seed)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            low, high = conn.execute(
                sa.select(sa.func.min(Premises.id), sa.func.max(Premises.id))
            ).one()
            if low is None:
                raise SystemExit("the database has no premises: run bench.generate first")
            wanted = list({rng.randint(low, high) for _ in range(n * 2)})
            rows: list[dict[str, Any]] = []
            for start in range(0, len(wanted), 1000):
                rows += [
                    r._asdict()
                    for r in conn.execute(
                        sa.select(Premises).where(Premises.id.in_(wanted[start : start + 1000]))
                    )
                ]
            rows = rng.sample(rows, min(n, len(rows)))
            kinds = rng.choices(list(MIX), list(MIX.values()), k=len(rows))
            # a house number that is not on the street: a digit too many
            missing = {
                (r["street_name"], r["number"] + "7")
                for r, k in zip(rows, kinds, strict=True)
                if k == "not_found"
            }
            found = set()
            for street_name, number in missing:
                if conn.execute(
                    sa.select(Premises.id)
                    .where(Premises.street_name == street_name, Premises.number == number)
                    .limit(1)
                ).first():
                    found.add((street_name, number))
    finally:
        engine.dispose()
    mix = []
    for row, kind in zip(rows, kinds, strict=True):
        if kind == "not_found":
            if (row["street_name"], row["number"] + "7") in found:
                kind = "exact"
            else:
                row = {**row, "number": row["number"] + "7"}
        mix.append((kind, typed_address(row, kind, rng)))
    return mix, [r["id"] for r in rows]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(
    url: str, port: int | Sequence[int], workers: int, cpus: set[int] | None
) -> Iterator[int]:
    """``fiberdesk serve`` on 127.0.0.1:``port``, or one on each port given (the
    benchmarks' ``--processes``); yields the pid whose process tree holds them all; always
    stopped."""
    ports = [port] if isinstance(port, int) else list(port)
    env = {**os.environ, "FIBERDESK_DATABASE_URL": url}
    commands = [
        [
            sys.executable,
            "-m",
            "fiberdesk",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(p),
            "--workers",
            str(workers),
        ]
        for p in ports
    ]
    if len(commands) > 1:
        # one parent for them all, so that the CPU and memory of its tree are theirs
        script = " & ".join(shlex.join(c) for c in commands) + " & wait"
        commands = [["/bin/sh", "-c", script]]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            commands[0], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            if cpus:
                os.sched_setaffinity(proc.pid, cpus)
            deadline = time.monotonic() + 90
            waiting = set(ports)
            while waiting:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError("the server stopped:\n" + log.read().decode()[-3000:])
                for p in sorted(waiting):
                    try:
                        if httpx.get(f"http://127.0.0.1:{p}/healthz", timeout=2).is_success:
                            waiting.discard(p)
                    except httpx.HTTPError:
                        pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not answer /healthz within 90 s")
                if waiting:
                    time.sleep(0.2)
            if cpus:  # the servers started by the shell too
                for pid in process_tree(proc.pid):
                    os.sched_setaffinity(pid, cpus)
            yield proc.pid
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # the server(s) and their workers
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


#: what ``--processes`` means, for the benchmarks' help
PROCESSES_HELP = (
    "separate server processes, each on its own port, the clients split evenly between "
    "them as a load balancer in front would (uvicorn's --workers share one socket, and a "
    "few keep-alive connections opened together land unevenly on its workers)"
)


def bases(ports: Sequence[int]) -> list[str]:
    return [f"http://127.0.0.1:{p}" for p in ports]


ENDPOINTS = {
    "healthz": "GET /healthz (baseline)",
    "qualify_address": "POST /api/v1/qualify, address mix",
    "qualify_premises_id": "POST /api/v1/qualify, premises_id",
}


def _tables(
    title: str, results: dict[str, LoadResult], cpu: dict[str, dict[str, float]]
) -> tuple[Table, Table]:
    hz = results["healthz"].throughput
    latency = Table(title=title)
    columns = ["requests", "errors", "p50_ms", "p90_ms", "p99_ms", "max_ms", "req/s", "vs_/healthz"]
    for col in ["endpoint", *columns]:
        latency.add_column(col.replace("_", " "), justify="left" if col == "endpoint" else "right")
    usage = Table(
        title="CPU ms per request; machine load (100 % = every core busy) and the share of it "
        "taken by processes outside the benchmark"
    )
    heads = ["endpoint", "server", "database", "load generator", "machine busy", "others"]
    for col in [*heads, "vs /healthz by server CPU"]:
        usage.add_column(col, justify="left" if col == "endpoint" else "right")
    for key, name in ENDPOINTS.items():
        r, c = results[key].summary(), cpu[key]
        ratio = "baseline" if key == "healthz" else f"{results[key].throughput / hz:.1%}"
        cells = [f"{r[k]:.2f}" for k in ("p50_ms", "p90_ms", "p99_ms")]
        cells += [f"{r['max_ms']:.1f}", f"{r['rps']:,.0f}", ratio]
        latency.add_row(name, f"{r['requests']:,}", str(r["errors"]), *cells)
        cells = [f"{c[k]:.2f}" for k in ("server_cpu_ms", "db_cpu_ms", "loadgen_cpu_ms")]
        cells += [f"{c[k]:.0f} %" for k in ("machine_busy_pct", "others_busy_pct")]
        by_cpu = cpu["healthz"]["server_cpu_ms"] / max(1e-9, c["server_cpu_ms"])
        usage.add_row(name, *cells, "baseline" if key == "healthz" else f"{by_cpu:.1%}")
    return latency, usage


def dump_answers(
    url: str, token: str, mix: list[tuple[str, str]], ids: list[int], path: str
) -> int:
    """Send each request once and write request, status and body to ``path``; returns
    how many were sent."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            places = {
                r.id: r
                for start in range(0, len(ids), 1000)
                for r in conn.execute(
                    sa.select(Premises.id, Premises.source_id, Premises.lat, Premises.lon).where(
                        Premises.id.in_(ids[start : start + 1000])
                    )
                )
            }
    finally:
        engine.dispose()
    bodies: list[dict[str, Any]] = [{"address": t} for _, t in mix]
    bodies += [{"premises_id": i} for i in ids]
    some = [places[i] for i in ids[:300] if i in places]
    bodies += [{"source_id": p.source_id} for p in some]
    bodies += [{"lat": p.lat, "lon": p.lon} for p in some]
    bodies += [{"premises_id": 10**9}, {"address": "???"}, {"source_id": "NO-SUCH-ID"}]
    port = free_port()
    with (
        server(url, port, 1, None),
        open(path, "w") as out,
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as client,
    ):
        for body in bodies:
            answer = client.post("/api/v1/qualify", json=body)
            line = {
                "request": body,
                "status": answer.status_code,
                "content_type": answer.headers.get("content-type"),
                "body": answer.text,
            }
            out.write(json.dumps(line) + "\n")
    return len(bodies)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.qualify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a generated database")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--processes", type=int, default=1, help=PROCESSES_HELP)
    parser.add_argument("--samples", type=int, default=3000, help="distinct addresses")
    parser.add_argument("--client", choices=CLIENTS, default="raw")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="server on CPU 0, load generator on CPU 1 (the database floats)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--dump",
        metavar="FILE",
        help="no timing: send each sampled request once and write the answers to FILE",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    token = make_token(args.url)
    mix, ids = sample_addresses(args.url, args.samples, args.seed)
    if args.dump:
        sent = dump_answers(args.url, token, mix, ids, args.dump)
        console.print(f"{sent:,} answers written to {args.dump}")
        return {"dumped": sent, "file": args.dump}
    headers = (("Authorization", f"Bearer {token}"), ("Content-Type", "application/json"))
    bodies: dict[str, list[dict[str, Any]]] = {
        "qualify_address": [{"address": t} for _, t in mix],
        "qualify_premises_id": [{"premises_id": i} for i in ids],
    }
    requests = {"healthz": [Request("GET", "/healthz")]} | {
        key: [Request("POST", "/api/v1/qualify", json.dumps(b).encode(), headers) for b in body]
        for key, body in bodies.items()
    }
    outcomes: Counter[str] = Counter()

    def inspect(status: int, body: bytes) -> None:
        data = json.loads(body) if status == 200 else {}
        outcomes[f"{data['match_status']}/{data['decision']}" if data else f"HTTP {status}"] += 1

    url = sa.engine.make_url(args.url)
    dbname = url.database if url.get_backend_name() == "postgresql" else None
    own_cpus = os.sched_getaffinity(0)
    pin = args.pin and len(own_cpus) >= 2
    ports = [free_port() for _ in range(max(1, args.processes))]
    base = bases(ports)
    opts: dict[str, Any] = {"clients": args.clients, "client": args.client}
    results: dict[str, LoadResult] = {}
    cpu: dict[str, dict[str, float]] = {}
    with server(args.url, ports, args.workers, {0} if pin else None) as pid:
        watch = ProcessWatch(pid)
        watch.start()
        try:
            if pin:
                os.sched_setaffinity(0, {1})
            # warm-up: every worker loads its street names, pools fill, caches warm
            run_load(base, requests["qualify_address"], duration=args.warmup, hook=inspect, **opts)
            warm = requests["qualify_premises_id"] + requests["healthz"]
            run_load(base, warm, duration=max(1.0, args.warmup / 2), **opts)
            for key in ENDPOINTS:
                before = cpu_snapshot(pid, dbname)
                results[key] = run_load(base, requests[key], duration=args.duration, **opts)
                cpu[key] = before.per_request_ms(cpu_snapshot(pid, dbname), results[key].requests)
        finally:
            os.sched_setaffinity(0, own_cpus)
            watch.stop()
    peak_mb = max(watch.peak_kb.values(), default=0) / 1024
    title = (
        f"{sa.engine.make_url(args.url).get_backend_name()}: {args.clients} clients, "
        f"{args.duration:g} s each, {len(ports)} server process(es) of {args.workers} "
        "worker(s)" + (", pinned" if pin else "")
    )
    for table in _tables(title, results, cpu):
        console.print(table)
    q = results["qualify_address"]
    ratio = q.throughput / results["healthz"].throughput if results["healthz"].throughput else 0
    console.print(
        f"peak RSS per server process: {peak_mb:.0f} MB ({len(watch.peak_kb)} "
        f"process(es), together at most {watch.peak_total_kb / 1024:.0f} MB)"
    )
    console.print(
        "warm-up outcomes (match status/decision): "
        + ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
    )
    targets = {
        "p99_le_25ms": q.percentile(99) <= 25,
        "throughput_ge_20pct": ratio >= 0.20,
        "rss_le_500mb": peak_mb <= 500,
    }
    console.print(
        "targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items())
    )
    figures = {
        "database": sa.engine.make_url(args.url).get_backend_name(),
        "clients": args.clients,
        "duration_s": args.duration,
        "workers": args.workers,
        "processes": len(ports),
        "client": args.client,
        "pinned": pin,
        "samples": len(mix),
        "mix": dict(Counter(k for k, _ in mix)),
        "outcomes": dict(outcomes),
        **{key: results[key].summary() | cpu[key] for key in ENDPOINTS},
        "qualify_vs_healthz": round(ratio, 4),
        "qualify_vs_healthz_by_server_cpu": round(
            cpu["healthz"]["server_cpu_ms"] / max(1e-9, cpu["qualify_address"]["server_cpu_ms"]), 4
        ),
        "peak_rss_mb": round(peak_mb, 1),
        "peak_rss_total_mb": round(watch.peak_total_kb / 1024, 1),
        "targets": targets,
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
