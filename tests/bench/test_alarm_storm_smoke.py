"""The alarm storm benchmark at a tiny size, so it never rots. No timing is asserted (see
docs/performance.md for the measurements); the outages it finds must be the injected ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import alarm_storm
from fiberdesk.domain.errors import InvalidInput

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("empty_database_url", BACKENDS, indirect=True)
def test_a_tiny_storm_finds_exactly_the_injected_outages(empty_database_url: str) -> None:
    url = empty_database_url
    figures = alarm_storm.main(["--url", url, "--alarms", "4000", "--splitters", "100"])
    assert figures["alarms"] == figures["stored"] == 4000
    assert figures["onts"] == 100 * 32
    assert figures["exact"], (figures["missing"], figures["extra"])
    # one OLT, one PON port, two splitter cuts and one power cut
    assert figures["injected"] == figures["found"] == figures["pure_outages"] == 5
    assert figures["rerun_opened"] == 0
    assert 0 < figures["unmatched"] < figures["alarms"]
    assert figures["notifications_queued"] > 0
    for key in ("ingest_s", "ingest_baseline_raw_insert_s", "correlate_s", "pure_correlation_s",
                "correlate_baseline_group_by_s"):  # fmt: skip
        assert figures[key] > 0, key
    with pytest.raises(InvalidInput, match="not empty"):
        alarm_storm.run(url, n_alarms=10, n_splitters=4, seed=1)


def test_too_few_alarms_for_the_events_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'storm.db'}"
    with pytest.raises(SystemExit) as exited:
        alarm_storm.main(["--url", url, "--alarms", "10", "--splitters", "100"])
    assert exited.value.code == 1
