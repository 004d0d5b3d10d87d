"""The global-search benchmark at a tiny size, so it never rots: it loads customers with
COPY, finds what each kind of typed query was made from, and serves every request over
HTTP. Nothing here asserts a timing (docs/performance.md has the measurements)."""

from __future__ import annotations

import pytest

from bench import search as bench
from fiberdesk.domain.errors import InvalidInput


@pytest.mark.postgres
@pytest.mark.parametrize("empty_database_url", ["postgres"], indirect=True)
def test_the_search_benchmark_at_a_tiny_size(empty_database_url: str) -> None:
    url = empty_database_url
    args = ["--url", url, "--customers", "3000", "--count", "200", "--clients", "2"]
    result = bench.main(args)
    assert result["reused"] is False and result["words"] > 100
    recall = result["recall_pct"]
    for kind in ("exact_account", "phone", "email", "ont_serial", "ticket"):
        assert recall[kind] == 100.0, (kind, recall)
    for kind in ("name_typo", "name_lower", "address_typo"):
        assert recall[f"{kind}_same"] >= 75.0, (kind, recall)
        assert recall[kind] <= recall[f"{kind}_same"]
    for key in ("healthz", "exact", "mix"):
        figures = result["results"][key]
        assert figures["requests"] == 200 and figures["errors"] == 0, (key, figures)
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    # the same database again is reused, not loaded twice
    again = bench.prepare(url, 3000, 7)
    assert again == {"reused": True}
    with pytest.raises(InvalidInput, match="not empty"):
        bench.prepare(url, 10, 7)


def test_the_benchmark_needs_postgresql(tmp_path: object) -> None:
    with pytest.raises(InvalidInput, match="needs PostgreSQL"):
        bench.prepare(f"sqlite:///{tmp_path}/x.db", 10, 7)
