"""``fiberdesk mcp`` refuses to start without what it needs, with one line on stderr."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.agent.harness import FIBERDESK, World, clean_env


def _start(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FIBERDESK), "mcp", *args],
        env=env,
        cwd=cwd,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_mcp_needs_a_valid_token_and_a_migrated_database(world: World, tmp_path: Path) -> None:
    no_token = _start(world.env(), world.directory)
    assert no_token.returncode == 1 and no_token.stdout == ""
    assert "FIBERDESK_MCP_TOKEN" in no_token.stderr
    bad = _start(world.env("fdk_000000000000_not-a-token"), world.directory)
    assert bad.returncode == 1 and "unknown API token" in bad.stderr
    empty = _start(clean_env(f"sqlite:///{tmp_path / 'empty.db'}"), tmp_path, "--token", "x")
    assert empty.returncode == 1 and "fiberdesk db upgrade" in empty.stderr
    assert world.agent_audit() == []
