"""Fixtures of the agent tests: the demo operator is built once per test process with the
CLI (``fiberdesk db upgrade``, ``fiberdesk demo``) and each test gets its own copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.harness import World, build_demo, copy_world


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("agent-demo"))


@pytest.fixture
def world(demo_template: Path, tmp_path: Path) -> Iterator[World]:
    w = copy_world(demo_template, tmp_path)
    yield w
    w.app.close()
