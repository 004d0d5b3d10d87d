"""The billing-run benchmark at a tiny size: it runs end to end and its checks hold.

Nothing here asserts a timing (docs/performance.md has the measurements).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bench import billing_run

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ACCOUNTS = 300


@pytest.mark.parametrize("empty_database_url", BACKENDS, indirect=True)
def test_billing_run_benchmark_at_a_tiny_size(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = empty_database_url
    figures = billing_run.main(["--url", url, "--accounts", str(ACCOUNTS)])
    assert figures["failures"] == []
    assert figures["run_accounts_seen"] == figures["run_invoices"] == ACCOUNTS
    assert figures["invoices"] == figures["invoiced_periods"] == ACCOUNTS
    assert figures["rerun_invoices"] == 0
    assert figures["replay_invoices"] == 0
    assert figures["replay_already_invoiced"] == ACCOUNTS
    assert figures["ledger_mismatches"] == 0
    assert figures["unbilled_entries"] == 0
    assert 0 < figures["one_time_entries"] < ACCOUNTS
    assert Decimal(figures["run_total_billed"]) > 0
    assert figures["baseline_rows"] == ACCOUNTS
    for step in ("run", "bare", "keyed"):
        assert figures[f"{step}_s"] > 0
        assert figures[f"{step}_rows_per_s"] > 0
    assert figures["ratio_vs_bare"] > 0
    assert figures["cpu_ratio_vs_bare"] > 0
    out = capsys.readouterr().out
    assert json.loads(out.strip().splitlines()[-1]) == figures
    assert "ledger invariant: 0 mismatching accounts" in out

    with pytest.raises(SystemExit) as refused:
        billing_run.main(["--url", url, "--accounts", "10"])
    assert refused.value.code == 1
    assert "not empty" in capsys.readouterr().err


def _figures(**changes: Any) -> dict[str, Any]:
    n = 10
    figures: dict[str, Any] = {
        "accounts": n,
        "run_invoices": n,
        "rerun_invoices": 0,
        "replay_invoices": 0,
        "replay_already_invoiced": n,
        "invoices": n,
        "invoiced_periods": n,
        "unbilled_entries": 0,
        "ledger_mismatches": 0,
    }
    return {**figures, **changes}


def test_failed_checks_are_reported() -> None:
    assert billing_run.failures(_figures()) == []
    problems = billing_run.failures(_figures(rerun_invoices=3, ledger_mismatches=2))
    assert len(problems) == 2
    assert "re-run issued 3" in problems[0]
    assert "2 ledgers differ" in problems[1]
    assert len(billing_run.failures(_figures(replay_invoices=1, replay_already_invoiced=9))) == 1
    assert len(billing_run.failures(_figures(run_invoices=9, invoices=9))) == 2


def test_a_failed_check_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def doctored(url: str, *, n: int, on: object, seed: int) -> dict[str, Any]:
        figures = _figures(rerun_invoices=1)
        figures["failures"] = billing_run.failures(figures)
        return figures

    monkeypatch.setattr(billing_run, "benchmark", doctored)
    monkeypatch.setattr(billing_run, "report", lambda figures: None)
    with pytest.raises(SystemExit) as failed:
        billing_run.main(["--url", "sqlite://", "--accounts", "10"])
    assert failed.value.code == 2
    assert "integrity check failed" in capsys.readouterr().err
