"""The KPI benchmark at a tiny size, so it never rots: it loads with COPY, computes the five
KPIs, and they equal the generator's own tally. Nothing here asserts a timing."""

from __future__ import annotations

import pytest

from bench import kpis as bench
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.kpis import Metric


@pytest.mark.postgres
@pytest.mark.parametrize("empty_database_url", ["postgres"], indirect=True)
def test_the_kpi_benchmark_at_a_tiny_size(empty_database_url: str) -> None:
    url = empty_database_url
    args = ["--url", url, "--orders", "3000", "--tickets", "15000", "--index-experiment"]
    result = bench.main(args)
    assert result["mismatches"] == []
    assert set(result["values"]) == {m.value for m in Metric}
    assert all(v is not None for v in result["values"].values()), result["values"]
    assert result["values"] == result["tally"]
    assert result["tickets"] == 15000
    assert 0 < result["resolved_in_period"] == result["counts"]["ticket_resolution_time"]
    assert result["counts"]["install_lead_time"] > 0 and result["counts"]["csat"] > 0
    for key in (
        "compute_cold_s",
        "compute_warm_s",
        "baseline_count_s",
        "unindexed_compute_s",
        "dashboard_trends_s",
        "prometheus_s",
        "compute_area_s",
        "compute_team_s",
    ):
        assert result[key] > 0, key  # fmt: skip
    with pytest.raises(InvalidInput, match="not empty"):
        bench.generate(url, n_orders=10, n_tickets=10, seed=1)


def test_the_benchmark_needs_postgresql(tmp_path: object) -> None:
    with pytest.raises(InvalidInput, match="PostgreSQL COPY"):
        bench.generate(f"sqlite:///{tmp_path}/x.db", n_orders=10, n_tickets=10, seed=1)
