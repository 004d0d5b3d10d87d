"""The outbox benchmark at a tiny size: it runs end to end on both databases, every message
reaches the SMTP server exactly once, and the figures are sane (no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import outbox_smtp
from fiberdesk.db import migrate
from fiberdesk.db.engine import make_engine, make_session_factory
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.services import messages

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("empty_database_url", BACKENDS, indirect=True)
def test_outbox_benchmark_delivers_everything_once(empty_database_url: str) -> None:
    n = 40
    [figures] = outbox_smtp.main(
        ["--url", empty_database_url, "--messages", str(n), "--workers", "1,2", "--batch", "5"]
    )
    assert figures["messages"] == n
    assert figures["render_per_s"] > 0
    assert [r["workers"] for r in figures["runs"]] == [1, 2]
    for run in figures["runs"]:
        assert run["sent"] == n and run["failed"] == 0
        assert run["server_received"] == run["server_distinct"] == n
        assert run["duplicates"] == 0
        assert sum(run["per_worker"].values()) == n
        assert run["deliver_per_s"] > 0 and run["queue_per_s"] > 0
        assert run["baseline_smtp_per_s"] > 0


def test_refuses_a_database_with_pending_messages_of_its_own(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/busy.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with UnitOfWork(make_session_factory(engine)) as uow:
        messages.queue(uow.session, kind="welcome", key="real", customer=None, context={},
                       recipient="customer@example.com")  # fmt: skip
        uow.commit()
    engine.dispose()
    with pytest.raises(SystemExit, match="1 pending messages"):
        outbox_smtp.main(["--url", url, "--messages", "5", "--workers", "1"])
