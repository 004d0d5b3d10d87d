"""The CLI: commands through CliRunner, error handling through a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fiberdesk.cli import app
from fiberdesk.cli.common import reset_app
from fiberdesk.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FIBERDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_app()
    yield database_url
    reset_app()
    get_settings.cache_clear()


def _ok(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_users_tokens_and_listing(cli_env: str) -> None:
    _ok("db", "upgrade")
    assert json.loads(_ok("db", "current", "--json"))["up_to_date"] is True
    _ok(
        "user",
        "create",
        "dora",
        "--role",
        "dispatcher",
        "--name",
        "Dora Dispatch",
        "--password",
        "long enough pw",
    )
    issued = json.loads(_ok("token", "create", "dora", "--name", "board", "--json"))
    assert issued["secret"].startswith("fdk_") and issued["role"] == "dispatcher"
    users = json.loads(_ok("user", "list", "--json"))
    assert [(u["username"], u["role"]) for u in users] == [("dora", "dispatcher")]
    _ok("token", "revoke", str(issued["id"]))


def test_password_prompt(cli_env: str) -> None:
    out = _ok(
        "user",
        "create",
        "eve",
        "--role",
        "csr",
        "--name",
        "Eve",
        input="prompted password\nprompted password\n",
    )
    assert "created user eve" in out


def test_premises_import_json(cli_env: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "points.csv"
    csv_file.write_text(
        "address_id,number,street_name,street_type,city,state,zip,lat,lon,status\n"
        "1,5,OAK,AVE,TOWSON,MD,21204,39.4,-76.6,ACTIVE\n"
        "2,7,OAK,AVE,TOWSON,MD,21204,39.4,-76.6,INACTIVE\n"
    )
    result = json.loads(_ok("premises", "import", str(csv_file), "--json"))
    assert (result["imported"], result["skipped_inactive"]) == (1, 1)


def _run(env_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIBERDESK_DATABASE_URL": env_url}
    return subprocess.run(
        [sys.executable, "-m", "fiberdesk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("nonsense://", 1, "unsupported database"),
        ("not a url at all", 1, "bad database URL"),
        ("mysql://root@127.0.0.1/x", 1, "unsupported database"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", 3, "database unreachable"),
    ],
)
def test_bad_database_urls_are_one_line(url: str, code: int, words: str) -> None:
    proc = _run(url, "db", "current")
    assert proc.returncode == code
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    proc = _run(f"sqlite:///{tmp_path / 'new.db'}", "serve", "--port", "8999")
    assert proc.returncode == 1
    assert "fiberdesk db upgrade" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_qualify_quote_accept_waitlist(cli_env: str, tmp_path: Path) -> None:
    from fiberdesk.bootstrap import build
    from fiberdesk.config import Settings
    from tests.factories import make_qualification_world

    app_ = build(Settings(database_url=cli_env))
    world = make_qualification_world(app_)
    app_.close()

    out = json.loads(_ok("qualify", "100 Test Rd, Towson MD 21204", "--json"))
    assert out["decision"] == "SERVICEABLE" and out["premises"]["source_id"] == "Q0"
    assert out["nap"]["code"] == "NAP-A" and out["port"] == 1 and out["tiers"]
    human = _ok("qualify", "100 Test Rd, Towson MD 21204")
    assert "Serviceable" in human and "NAP-A" in human

    lines = tmp_path / "leads.txt"
    lines.write_text("100 Test Rd 21204\n\nnot an address at all\n110 Test Rd 21204\n")
    rows = [json.loads(x) for x in _ok("qualify", "--file", str(lines), "--json").splitlines()]
    assert [r["decision"] for r in rows] == ["SERVICEABLE", None, None, "NOT_SERVICEABLE"]
    assert rows[1]["error"] == "empty line" and "error" in rows[2]
    assert [r["query"] for r in rows][3] == "110 Test Rd 21204"

    bad = runner.invoke(app, ["qualify", "--json"])
    assert bad.exit_code != 0

    quote = json.loads(
        _ok(
            "quote",
            "create",
            str(world.premises["serviceable"]),
            "--plan",
            "gigabit",
            "--term",
            "12M",
            "--json",
        )
    )
    assert quote["monthly_total"] == "100.69"
    held = json.loads(_ok("quote", "accept", quote["reference"], "--json"))
    assert held["status"] == "ACCEPTED" and held["port"] == 1
    entry = json.loads(
        _ok(
            "waitlist",
            "join",
            str(world.premises["no_coverage"]),
            "--name",
            "Al",
            "--phone",
            "410-555-0123",
            "--json",
        )
    )
    assert entry["reason"] == "NO_COVERAGE"
    report = json.loads(_ok("waitlist", "report", "--json"))
    assert report["total"] == 1
    assert json.loads(_ok("holds", "release-expired", "--json"))["ports_released"] == 0


def test_qualify_bad_address_exits_nonzero() -> None:
    proc = _run("sqlite:///:memory:", "qualify", "")
    assert proc.returncode != 0 and "error" in proc.stderr


def test_bad_option_values_are_usage_errors_not_tracebacks(tmp_path: Path) -> None:
    for args in (["demo", "--customers", "abc"], ["no-such-command"]):
        proc = _run(f"sqlite:///{tmp_path / 'x.db'}", *args)
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr and "Error" in proc.stderr
