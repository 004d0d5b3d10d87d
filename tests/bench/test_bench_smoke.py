"""The benchmarks at a tiny size, so they never rot: each runs end to end and its figures
are sane. Nothing here asserts a timing (see docs/performance.md for the measurements)."""

from __future__ import annotations

import pytest

from bench import generate, loadgen, qualify
from fiberdesk.domain.errors import InvalidInput

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("empty_database_url", BACKENDS, indirect=True)
def test_generate_then_benchmark_qualification(empty_database_url: str) -> None:
    url = empty_database_url
    stats = generate.main(["--url", url, "--premises", "5000", "--naps", "100", "--seed", "3"])
    assert stats["premises"] == 5000
    assert stats["naps"] == 100
    assert 0 < stats["covered_premises"] <= 5000
    assert stats["splitters"] > 0 and stats["pon_ports"] > 0 and stats["olts"] > 0
    assert 0 < stats["in_use_ports"] < stats["nap_ports"]
    assert stats["customers"] >= stats["in_use_ports"]
    with pytest.raises(InvalidInput, match="not empty"):
        generate.generate(url, n_premises=10, n_naps=1)

    figures = qualify.main(
        ["--url", url, "--clients", "4", "--duration", "2", "--warmup", "1", "--samples", "200"]
    )
    for key in qualify.ENDPOINTS:
        result = figures[key]
        assert result["requests"] > 0, key
        assert result["errors"] == 0, (key, result["failures"], result["statuses"])
        assert result["p99_ms"] > 0
        assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
        assert result["server_cpu_ms"] > 0
    assert sum(figures["mix"].values()) == figures["samples"] > 0
    assert all(not k.startswith("HTTP") for k in figures["outcomes"]), figures["outcomes"]
    assert figures["peak_rss_mb"] > 0
    assert figures["qualify_vs_healthz"] > 0


def test_load_generator_only_targets_loopback() -> None:
    request = loadgen.Request("GET", "/healthz")
    for url in ("http://10.0.0.1:80", "http://example.com:80"):
        with pytest.raises(ValueError, match="loopback"):
            loadgen.run_load(url, [request], duration=1.0)
    with pytest.raises(ValueError, match="duration"):
        loadgen.run_load("http://127.0.0.1:9", [request], duration=10_000.0)
    with pytest.raises(ValueError, match="clients"):
        loadgen.run_load("http://127.0.0.1:9", [request], count=1, clients=10_000)


def test_unreachable_server_counts_errors_not_requests() -> None:
    result = loadgen.run_load(
        f"http://127.0.0.1:{qualify.free_port()}",
        [loadgen.Request("GET", "/healthz")],
        count=5,
        clients=2,
    )
    assert result.requests == 0
    assert result.errors == 5
    assert result.percentile(99) == 0.0


def test_percentiles_are_nearest_rank() -> None:
    result = loadgen.LoadResult("x", "raw", 1, 2.0, latencies_ms=[float(i) for i in range(1, 101)])
    assert result.percentile(50) == 50.0
    assert result.percentile(99) == 99.0
    assert result.percentile(100) == 100.0
    assert result.throughput == 50.0
