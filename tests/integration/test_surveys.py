"""Satisfaction surveys: sent once per installation and per resolved ticket, answered
through a signed link, refused when forged, expired, out of range or answered twice, and
summed up per agent, team, area and month (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import AuditEntry, OutboxMessage, ServiceOrder, Survey, Technician, Ticket
from fiberdesk.domain.errors import Forbidden, InvalidInput, Refused
from fiberdesk.domain.tickets import Team
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Channel, Role
from fiberdesk.services import auth, surveys
from fiberdesk.services.kpis import KpiSettings
from fiberdesk.services.surveys import AlreadyAnswered, LinkExpired, LinkInvalid
from tests.integration.test_kpis import A, B, Builder

SETTINGS = KpiSettings(
    secret_key="survey-secret",
    base_url="https://fiber.example",
    company_name="Chesapeake Fiber",
    support_phone="+1 410 555 0100",
)
SENT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def _user(fd: Fiberdesk, username: str, role: Role = Role.CSR) -> int:
    with fd.uow() as uow:
        return auth.create_user(
            uow,
            actor=SYSTEM_ACTOR,
            username=username,
            full_name=username.title(),
            role=role,
            password="correct horse battery",
        ).id


def _installation(fd: Fiberdesk, b: Builder, zip_code: str = A) -> int:
    user_id = _user(fd, "tech1", Role.TECHNICIAN)
    cid = b.customer(zip_code, activated=SENT)
    order_id = b.install(cid, created=SENT - timedelta(days=6), completed=SENT)
    with fd.uow() as uow:
        tech = Technician(name="Terry Tech", user_id=user_id, skills=["install"], zones=[])
        uow.session.add(tech)
        uow.session.flush()
        uow.session.get_one(ServiceOrder, order_id).technician_id = tech.id
        uow.commit()
    return order_id


def _send_install(fd: Fiberdesk, order_id: int, now: datetime = SENT) -> int:
    with fd.uow() as uow:
        order = uow.session.get_one(ServiceOrder, order_id)
        survey = surveys.send_installation_survey(uow.session, order, SETTINGS, now=now)
        uow.commit()
        return survey.id


def _send_ticket(fd: Fiberdesk, ticket_id: int, now: datetime = SENT) -> int:
    with fd.uow() as uow:
        ticket = uow.session.get_one(Ticket, ticket_id)
        survey = surveys.send_ticket_survey(uow.session, ticket, SETTINGS, now=now)
        uow.commit()
        return survey.id


def _messages(fd: Fiberdesk) -> list[OutboxMessage]:
    with fd.uow(write=False) as uow:
        query = sa.select(OutboxMessage).where(OutboxMessage.kind == "satisfaction_survey")
        return list(uow.session.scalars(query.order_by(OutboxMessage.id)))


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["t"][0]


def _survey(fd: Fiberdesk, survey_id: int) -> Survey:
    with fd.uow(write=False) as uow:
        return uow.session.get_one(Survey, survey_id)


def _answer(fd: Fiberdesk, survey_id: int, token: str, score: int, **kw: object) -> object:
    with fd.uow() as uow:
        return surveys.answer(
            uow,
            survey_id=survey_id,
            token=token,
            score=score,
            comment=str(kw.get("comment", "")),
            settings=SETTINGS,
            now=kw.get("now", SENT + timedelta(days=1)),  # type: ignore[arg-type]
        )


def test_an_installation_survey_is_sent_once_and_credits_the_technician(fd: Fiberdesk) -> None:
    order_id = _installation(fd, Builder(fd), B)
    survey_id = _send_install(fd, order_id)
    assert _send_install(fd, order_id, now=SENT + timedelta(hours=1)) == survey_id
    s = _survey(fd, survey_id)
    assert (s.kind, s.agent, s.team, s.area, s.order_id) == (
        "INSTALLATION",
        "tech1",
        "FIELD",
        B,
        order_id,
    )
    assert s.expires_at == SENT + timedelta(days=14)
    [message] = _messages(fd)
    link = message.context["survey_link"]
    assert link.startswith(f"https://fiber.example/survey/{survey_id}?t=")
    assert message.context == {
        "customer_name": message.context["customer_name"],
        "survey_link": link,
        "topic": "the installation of your fiber service on March 2, 2026",
        "expires_on": "2026-03-16",
        "company_name": "Chesapeake Fiber",
        "support_number": "+1 410 555 0100",
    }
    assert message.recipient.endswith("@example.com") and message.channel == "email"


def test_a_ticket_survey_credits_the_assignee_or_the_resolver(fd: Fiberdesk) -> None:
    b = Builder(fd)
    alice = _user(fd, "alice")
    cid = b.customer(A, activated=SENT - timedelta(days=90))
    assigned = b.ticket(
        cid, team=Team.NOC, created=SENT - timedelta(hours=5), resolved=SENT, fcr=False
    )
    unassigned = b.ticket(
        cid, team=Team.CSR, created=SENT - timedelta(hours=2), resolved=SENT, fcr=True
    )
    with fd.uow() as uow:
        uow.session.get_one(Ticket, assigned).assignee_id = alice
        uow.session.get_one(Ticket, unassigned).transcript = [
            {"kind": "opened", "by": "bob"},
            {"kind": "resolved", "by": "carol"},
        ]
        uow.commit()
    first, second = _send_ticket(fd, assigned), _send_ticket(fd, unassigned)
    assert _send_ticket(fd, assigned) == first  # once per ticket
    s1, s2 = _survey(fd, first), _survey(fd, second)
    assert (s1.kind, s1.agent, s1.team, s1.area, s1.ticket_id) == (
        "TICKET",
        "alice",
        "NOC",
        A,
        assigned,
    )
    assert (s2.agent, s2.team) == ("carol", "CSR")
    messages = _messages(fd)
    assert len(messages) == 2
    assert messages[0].context["topic"] == f"your support request TKT-{assigned:06d} (no internet)"


def test_only_completed_installations_and_resolved_tickets_get_a_survey(fd: Fiberdesk) -> None:
    b = Builder(fd)
    cid = b.customer(A)
    pending = b.install(cid, created=SENT, completed=None)
    ticket = b.ticket(cid, team=Team.CSR, created=SENT, resolved=None, fcr=None)
    with pytest.raises(Refused, match="not a completed installation"):
        _send_install(fd, pending)
    with pytest.raises(Refused, match="not resolved"):
        _send_ticket(fd, ticket)
    assert _messages(fd) == []


def test_answering_through_the_link(fd: Fiberdesk) -> None:
    survey_id = _send_install(fd, _installation(fd, Builder(fd)))
    token = _token(_messages(fd)[0].context["survey_link"])
    with fd.uow(write=False) as uow:
        view = surveys.open_survey(
            uow, survey_id=survey_id, token=token, settings=SETTINGS, now=SENT
        )
    assert view.about == "the installation of your fiber service" and view.answered_at is None
    answered = _answer(fd, survey_id, token, 5, comment="  Quick and tidy.  ")
    assert isinstance(answered, surveys.SurveyView) and answered.score == 5
    s = _survey(fd, survey_id)
    assert (s.score, s.comment, s.answered_at) == (5, "Quick and tidy.", SENT + timedelta(days=1))
    with fd.uow(write=False) as uow:
        entry = uow.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "survey.answer")
        )
    assert (
        entry is not None
        and entry.via == "public"
        and entry.after
        == {
            "score": 5,
            "comment": "Quick and tidy.",
        }
    )
    with pytest.raises(AlreadyAnswered, match="already been answered"):
        _answer(fd, survey_id, token, 1)
    with pytest.raises(AlreadyAnswered), fd.uow(write=False) as uow:
        surveys.open_survey(uow, survey_id=survey_id, token=token, settings=SETTINGS, now=SENT)
    assert _survey(fd, survey_id).score == 5


def test_forged_and_expired_links_are_refused(fd: Fiberdesk) -> None:
    b = Builder(fd)
    first = _send_install(fd, _installation(fd, b))
    token = _token(_messages(fd)[0].context["survey_link"])
    expires, _, mac = token.partition(".")
    later = str(int(expires) + 86_400)
    other_secret = surveys.sign_token("another-secret", first, _survey(fd, first).expires_at)
    for forged in (
        f"{expires}.{'0' * 32}",
        f"{later}.{mac}",  # a longer life with the old signature
        other_secret,
        "",
        "garbage",
        f"{expires}.{mac}x",
    ):
        with pytest.raises(LinkInvalid, match="not valid"):
            _answer(fd, first, forged, 4)
    with pytest.raises(LinkInvalid):  # a genuine token, for another survey
        _answer(fd, first + 1, token, 4)
    expired_at = _survey(fd, first).expires_at + timedelta(seconds=1)
    with pytest.raises(LinkExpired, match="expired"):
        _answer(fd, first, token, 4, now=expired_at)
    with pytest.raises(LinkExpired), fd.uow(write=False) as uow:
        surveys.open_survey(uow, survey_id=first, token=token, settings=SETTINGS, now=expired_at)
    assert _survey(fd, first).answered_at is None
    _answer(fd, first, token, 4, now=expired_at - timedelta(seconds=2))  # just in time


@pytest.mark.parametrize("score", [0, 6, -1, 10])
def test_a_score_outside_one_to_five_is_refused(fd: Fiberdesk, score: int) -> None:
    survey_id = _send_install(fd, _installation(fd, Builder(fd)))
    token = _token(_messages(fd)[0].context["survey_link"])
    with pytest.raises(InvalidInput, match="1 to 5") as refused:
        _answer(fd, survey_id, token, score)
    assert refused.value.field == "score"
    with pytest.raises(InvalidInput, match="comment"):
        _answer(fd, survey_id, token, 3, comment="x" * 2001)
    assert _survey(fd, survey_id).answered_at is None
    _answer(fd, survey_id, token, 1)
    assert _survey(fd, survey_id).score == 1


def test_results_by_agent_team_area_and_month(fd: Fiberdesk) -> None:
    b = Builder(fd)
    cid = b.customer(A, activated=SENT - timedelta(days=200))
    march, april = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    rows = [  # team, area, agent, score, answered
        ("CSR", A, "alice", 5, march + timedelta(days=2)),
        ("CSR", B, "alice", 4, march + timedelta(days=3)),
        ("CSR", A, "bob", 2, march + timedelta(days=4)),
        ("NOC", B, "carol", 3, march + timedelta(days=5)),
        ("NOC", B, "carol", None, None),  # sent on March 2, not answered
        ("CSR", A, "alice", 1, april + timedelta(days=2)),  # April
    ]
    for team, area, agent, score, answered in rows:
        sent = None if answered else march + timedelta(days=1)  # else the day before
        b.survey(cid, team=team, area=area, agent=agent, score=score, answered=answered, sent=sent)

    def by(
        group_by: str, start: datetime = march, end: datetime = april
    ) -> list[tuple[object, ...]]:
        with fd.uow(write=False) as uow:
            found = surveys.results(
                uow, actor=SYSTEM_ACTOR, start=start, end=end, group_by=group_by
            )
        return [(r.group, r.sent, r.answered, r.average, r.scores) for r in found]

    assert by("agent") == [
        ("alice", 2, 2, 4.5, (0, 0, 0, 1, 1)),
        ("bob", 1, 1, 2.0, (0, 1, 0, 0, 0)),
        ("carol", 2, 1, 3.0, (0, 0, 1, 0, 0)),
    ]
    assert by("team") == [("CSR", 3, 3, 3.67, (0, 1, 0, 1, 1)), ("NOC", 2, 1, 3.0, (0, 0, 1, 0, 0))]
    assert by("area") == [(A, 2, 2, 3.5, (0, 1, 0, 0, 1)), (B, 3, 2, 3.5, (0, 0, 1, 1, 0))]
    whole = by("month", march, datetime(2026, 5, 1, tzinfo=UTC))
    assert whole == [
        ("2026-03", 5, 4, 3.5, (0, 1, 1, 1, 1)),
        ("2026-04", 1, 1, 1.0, (1, 0, 0, 0, 0)),
    ]
    csr = Actor(name="csr", role=Role.CSR, channel=Channel.API)
    with fd.uow(write=False) as uow:
        with pytest.raises(Forbidden):
            surveys.results(uow, actor=csr, start=march, end=april)
        with pytest.raises(InvalidInput, match="group by"):
            surveys.results(uow, actor=SYSTEM_ACTOR, start=march, end=april, group_by="zip")
