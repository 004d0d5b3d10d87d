"""The KPI API, /metrics, the dashboard page, the public survey page and ``fiberdesk kpi``
(TestClient and CliRunner, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.cli.common import reset_app
from fiberdesk.cli.kpi import kpi
from fiberdesk.config import get_settings
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import OutboxMessage, ServiceOrder, Survey
from fiberdesk.domain.kpis import Metric
from fiberdesk.domain.users import Role
from fiberdesk.services import surveys
from fiberdesk.web.api.kpis import kpi_settings
from fiberdesk.web.app import create_app
from fiberdesk.web.ratelimit import RateLimiter
from tests.console.support import make_user, sign_in
from tests.factories import make_token
from tests.integration.test_kpis import EXPECTED, A, Builder, build_fixed_data

JANUARY = {"start": "2026-01-01", "end": "2026-01-31"}


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd), base_url="http://console.test") as c:
        yield c


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_kpis_over_the_api(fd: Fiberdesk, client: TestClient) -> None:
    build_fixed_data(fd)
    sup = _auth(make_token(fd, Role.SUPERVISOR))
    body = client.get("/api/v1/kpis", params=JANUARY, headers=sup).json()
    assert {Metric(k["metric"]): k["value"] for k in body} == EXPECTED[None]
    assert body[3]["status"] == "alert" and body[3]["unit"] == "%/month"
    assert body[0]["start"].startswith("2026-01-01T00:00:00") and body[0]["end"].startswith(
        "2026-02-01T00:00:00"
    )
    area = client.get("/api/v1/kpis", params={**JANUARY, "area": A}, headers=sup).json()
    assert {Metric(k["metric"]): k["value"] for k in area} == EXPECTED[("area", A)]
    team = client.get("/api/v1/kpis", params={**JANUARY, "team": "noc"}, headers=sup).json()
    assert {Metric(k["metric"]): k["value"] for k in team} == EXPECTED[("team", "NOC")]

    refused = client.get("/api/v1/kpis", params={"area": "abc"}, headers=sup)
    assert refused.status_code == 422 and refused.json()["field"] == "area"
    backwards = client.get("/api/v1/kpis", params={"start": "2026-02-01", "end": "2026-01-01"})
    assert backwards.status_code == 401  # no token: refused before anything else
    assert client.get("/api/v1/kpis", params={"start": "2026-02-01", "end": "2026-01-01"},
                      headers=sup).status_code == 422  # fmt: skip
    forever = {"start": "0001-01-01", "end": "9999-12-31"}
    assert client.get("/api/v1/kpis", params=forever, headers=sup).status_code == 422
    csr = _auth(make_token(fd, Role.CSR))
    assert client.get("/api/v1/kpis", headers=csr).status_code == 403

    trend = client.get("/api/v1/kpis/trend/csat", params={"months": 3}, headers=sup).json()
    assert (trend["metric"], trend["target"], trend["alert"]) == ("csat", 4.5, 4.0)
    assert len(trend["points"]) == 3 and trend["points"][0]["month"] < trend["points"][2]["month"]
    assert client.get("/api/v1/kpis/trend/speed", headers=sup).status_code == 422
    assert client.get("/api/v1/kpis/trend/csat?months=99", headers=sup).status_code == 422

    csv = client.get("/api/v1/kpis/export.csv", params={**JANUARY, "area": A}, headers=sup)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="kpis-2026-01-01-to-2026-01-31.csv"' in csv.headers["content-disposition"]
    rows = csv.text.splitlines()
    assert rows[0].startswith("metric,label,unit,value,target,alert,status")
    assert rows[5].startswith("ticket_resolution_time,Ticket resolution time,hours,14.17,24,48,")

    results = client.get(
        "/api/v1/kpis/surveys", params={**JANUARY, "group_by": "team"}, headers=sup
    ).json()
    assert [(r["group"], r["answered"], r["average"]) for r in results] == [
        ("CSR", 6, 4.67),
        ("FIELD", 4, 4.25),
        ("NOC", 4, 3.0),
    ]
    assert results[0]["scores"] == [0, 0, 0, 2, 4]
    bad = client.get("/api/v1/kpis/surveys", params={"group_by": "zip"}, headers=sup)
    assert bad.status_code == 422


def test_metrics_for_prometheus(fd: Fiberdesk, client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=_auth(make_token(fd, Role.CSR))).status_code == 403
    with fd.uow() as uow:
        uow.session.add(
            OutboxMessage(
                kind="welcome", channel="email", recipient="a@example.com", context={},
                idempotency_key="k1",
            )
        )  # fmt: skip
        uow.commit()
    response = client.get("/metrics", headers=_auth(make_token(fd, Role.NOC)))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    for name in (
        "fiberdesk_install_lead_time_days",
        "fiberdesk_first_call_resolution_percent",
        "fiberdesk_customer_satisfaction_score",
        "fiberdesk_monthly_churn_percent",
        "fiberdesk_ticket_resolution_time_hours",
    ):
        assert f"# TYPE {name} gauge" in text and f"\n{name} NaN\n" in text  # no data yet
    assert 'fiberdesk_outbox_messages{status="pending"} 1\n' in text
    assert 'fiberdesk_outbox_messages{status="failed"} 0\n' in text


def test_the_dashboard_draws_a_chart_per_kpi(fd: Fiberdesk, client: TestClient) -> None:
    build_fixed_data(fd)
    anonymous = client.get("/console/kpis", follow_redirects=False)
    assert anonymous.status_code == 303  # the page needs a signed-in user
    assert anonymous.headers["location"].startswith("/login?next=%2Fconsole%2Fkpis")
    sign_in(client, make_user(fd, Role.SUPERVISOR), page="/console/kpis")
    page = client.get("/console/kpis", params=JANUARY)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<svg" in html and "console.js" in html  # charts need no script
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 5
    thresholds = [("7", "10"), ("70", "60"), ("4.5", "4"), ("2", "3"), ("24", "48")]
    for svg, (target, alert) in zip(svgs, thresholds, strict=True):
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
        assert f">target {target}</text>" in svg and 'stroke-dasharray="6 4"' in svg
        assert f">alert {alert}</text>" in svg and 'stroke-dasharray="2 3"' in svg
    assert "7.55 days" in html and "10%/month" in html and "4.07/5" in html
    assert 'class="badge red">Alert<' in html and 'class="badge amber">Warning<' in html
    assert 'href="/console/kpis/export.csv?start=2026-01-01&amp;end=2026-01-31"' in html
    csv = client.get("/console/kpis/export.csv", params={**JANUARY, "team": "NOC"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[5].startswith(
        "ticket_resolution_time,Ticket resolution time,hours,54,"
    )
    for label in ('for="start"', 'for="end"', 'for="team"', 'for="area"'):
        assert label in html
    bad = client.get("/console/kpis", params={"area": "x"})
    assert bad.status_code == 422 and "5-digit ZIP" in bad.text
    by_team = client.get("/console/kpis", params={**JANUARY, "team": "FIELD"})
    assert "4.25/5" in by_team.text and "not kept per team" in by_team.text
    client.cookies.clear()
    sign_in(client, make_user(fd, Role.CSR), page="/console")
    assert client.get("/console/kpis").status_code == 403
    assert client.get("/console/kpis/export.csv").status_code == 403


def _sent_survey(fd: Fiberdesk, *, days_ago: int = 0) -> tuple[int, str]:
    b = Builder(fd)
    done = utcnow() - timedelta(days=days_ago)
    cid = b.customer(A, activated=done)
    order_id = b.install(cid, created=done - timedelta(days=5), completed=done)
    with fd.uow() as uow:
        order = uow.session.get_one(ServiceOrder, order_id)
        survey = surveys.send_installation_survey(uow.session, order, kpi_settings(fd), now=done)
        link = surveys.survey_link(kpi_settings(fd), survey)
        uow.commit()
    return survey.id, parse_qs(urlsplit(link).query)["t"][0]


def test_the_survey_page_works_without_login(fd: Fiberdesk, client: TestClient) -> None:
    survey_id, token = _sent_survey(fd)
    page = client.get(f"/survey/{survey_id}", params={"t": token})
    assert page.status_code == 200
    html = page.text
    assert "How satisfied are you with the installation of your fiber service?" in html
    assert len(re.findall(r'<input type="radio" name="score" value="[1-5]"', html)) == 5
    assert '<label for="comment">' in html and "<legend>" in html and "<script" not in html
    for score in ("0", "6", "", "five"):
        again = client.post(f"/survey/{survey_id}", data={"t": token, "score": score})
        assert again.status_code == 422 and "choose a score from 1 to 5" in again.text
        assert 'aria-invalid="true"' in again.text
    done = client.post(
        f"/survey/{survey_id}", data={"t": token, "score": "4", "comment": "On time."}
    )
    assert done.status_code == 200 and "Thank you" in done.text
    with fd.uow(write=False) as uow:
        row = uow.session.get_one(Survey, survey_id)
        assert (row.score, row.comment) == (4, "On time.")
    twice = client.post(f"/survey/{survey_id}", data={"t": token, "score": "1"})
    assert twice.status_code == 409 and "already answered" in twice.text
    reopened = client.get(f"/survey/{survey_id}", params={"t": token})
    assert reopened.status_code == 200 and "already answered" in reopened.text


def test_forged_and_expired_survey_links(fd: Fiberdesk, client: TestClient) -> None:
    survey_id, token = _sent_survey(fd)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    for response in (
        client.get(f"/survey/{survey_id}", params={"t": forged}),
        client.get(f"/survey/{survey_id}"),
        client.get(f"/survey/{survey_id + 100}", params={"t": token}),
        client.post(f"/survey/{survey_id}", data={"t": forged, "score": "5"}),
        client.post(f"/survey/{survey_id}", data={"t": forged, "score": "9"}),
    ):
        assert response.status_code == 400 and "This link is not valid" in response.text
    old_id, old_token = _sent_survey(fd, days_ago=15)
    for response in (
        client.get(f"/survey/{old_id}", params={"t": old_token}),
        client.post(f"/survey/{old_id}", data={"t": old_token, "score": "5"}),
    ):
        assert response.status_code == 410 and "This survey has closed" in response.text
    with fd.uow(write=False) as uow:
        answered = uow.session.scalars(sa.select(Survey.answered_at)).all()
    assert answered == [None, None]


def test_the_survey_page_is_rate_limited(fd: Fiberdesk) -> None:
    app = create_app(fd)
    app.state.public_limiter = RateLimiter(3)
    survey_id, token = _sent_survey(fd)
    with TestClient(app) as c:
        codes = [c.get(f"/survey/{survey_id}", params={"t": token}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


runner = CliRunner()


@pytest.fixture
def cli_fd(
    fd: Fiberdesk, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Fiberdesk]:
    monkeypatch.setenv("FIBERDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_app()
    yield fd
    reset_app()
    get_settings.cache_clear()


def test_fiberdesk_kpi(cli_fd: Fiberdesk, tmp_path: Path) -> None:
    build_fixed_data(cli_fd)
    cli = typer.Typer()
    cli.command()(kpi)
    shown = runner.invoke(cli, ["--start", "2026-01-01", "--end", "2026-01-31"])
    assert shown.exit_code == 0, (shown.output, shown.exception)
    text = shown.output
    assert "KPIs 2026-01-01 to 2026-01-31" in text
    for expected in ("7.55 days", "65%", "4.07/5", "10%/month", "33.6 hours", "Alert", "Warning"):
        assert expected in text
    out = tmp_path / "kpis.csv"
    as_json = runner.invoke(
        cli,
        ["--start", "2026-01-01", "--end", "2026-01-31", "--area", A, "--json", "--csv", str(out)],
    )
    assert as_json.exit_code == 0, (as_json.output, as_json.exception)
    values = {Metric(v["metric"]): v["value"] for v in json.loads(as_json.output)}
    assert values == EXPECTED[("area", A)]
    assert (
        out.read_text().splitlines()[1].startswith("install_lead_time,Install lead time,days,7.1,")
    )
    bad = runner.invoke(cli, ["--start", "January"])
    assert bad.exit_code != 0 and "not a date" in str(bad.exception)
