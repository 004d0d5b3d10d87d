"""Every serviceability branch, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import Premises
from fiberdesk.domain.network import SignalClass
from fiberdesk.domain.qualification import Decision, QualificationRules, Reason
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import qualification
from fiberdesk.services.qualification import Qualification, qualify_address, qualify_premises
from tests.factories import QualificationWorld, make_qualification_world

RULES = QualificationRules()


@pytest.fixture
def world(fd: Fiberdesk) -> QualificationWorld:
    return make_qualification_world(fd)


def _q(
    fd: Fiberdesk, world: QualificationWorld, key: str, rules: QualificationRules = RULES
) -> Qualification:
    with fd.uow(write=False) as uow:
        return qualify_premises(
            uow, actor=SYSTEM_ACTOR, premises_id=world.premises[key], rules=rules
        )


def test_serviceable_names_nap_port_rx_and_tiers(fd: Fiberdesk, world: QualificationWorld) -> None:
    q = _q(fd, world, "serviceable")
    assert q.decision is Decision.SERVICEABLE
    assert (q.nap_code, q.port) == ("NAP-A", 1)
    assert q.drop_m == 52  # 40 m straight x 1.3
    # 3 dBm - (3.352 km x 0.25 + 17.5 + 5 x 0.3 + 7 x 0.05 + 3)
    assert q.predicted_rx_dbm == Decimal("-20.19")
    assert q.signal is SignalClass.GOOD
    offered = {t.code for t in q.tiers if t.offered}
    assert offered == {"BASIC", "STANDARD", "PLUS", "PREMIUM", "GIGABIT"}
    business = next(t for t in q.tiers if t.code == "BUSINESS")
    assert not business.offered and "XGS-PON" in (business.reason or "")
    assert Reason.TIERS_LIMITED in q.reasons
    assert any("NAP-A" in m and "port 1" in m for m in q.messages)


def test_xgs_pon_offers_business(fd: Fiberdesk, world: QualificationWorld) -> None:
    q = _q(fd, world, "xgs")
    assert q.decision is Decision.SERVICEABLE
    assert all(t.offered for t in q.tiers)


@pytest.mark.parametrize(
    ("key", "reason", "words"),
    [
        ("long_drop", Reason.LONG_DROP, "169 m"),
        ("multi_dwelling", Reason.MULTI_DWELLING, "Multi-dwelling"),
        ("low_margin", Reason.LOW_MARGIN, "margin 0.31 dB"),
    ],
)
def test_site_survey_branches(
    fd: Fiberdesk, world: QualificationWorld, key: str, reason: Reason, words: str
) -> None:
    q = _q(fd, world, key)
    assert q.decision is Decision.SITE_SURVEY
    assert q.reasons[0] is reason
    assert any(words in r for r in q.survey_requirements), q.survey_requirements
    assert q.port is not None and q.can_quote


@pytest.mark.parametrize(
    ("key", "reason", "words"),
    [
        ("no_coverage", Reason.NO_COVERAGE, "No NAP is within 250 m"),
        ("nap_full", Reason.NAP_FULL, "NAP-FULL is taken"),
        ("pon_full", Reason.PON_FULL, "split limit (2/2)"),
        ("budget", Reason.BUDGET_EXCEEDED, "optical budget exceeded"),
    ],
)
def test_not_serviceable_branches(
    fd: Fiberdesk, world: QualificationWorld, key: str, reason: Reason, words: str
) -> None:
    q = _q(fd, world, key)
    assert q.decision is Decision.NOT_SERVICEABLE
    assert q.reasons == [reason]
    assert any(words in m for m in q.messages), q.messages
    assert q.waitlist_offered and not q.can_quote
    assert q.port is None and q.tiers == []


def test_already_served(fd: Fiberdesk, world: QualificationWorld) -> None:
    q = _q(fd, world, "already_served")
    assert q.decision is Decision.ALREADY_SERVED
    assert q.reasons == [Reason.EXISTING_CUSTOMER]
    assert "0000009001" in q.messages[0]


def test_configurable_drop_and_oversubscription(fd: Fiberdesk, world: QualificationWorld) -> None:
    short = QualificationRules(max_drop_m=50)
    assert _q(fd, world, "serviceable", short).decision is Decision.NOT_SERVICEABLE
    # one Gigabit customer on NAP-A's GPON port (2,488 Mb/s): with a limit of 0.5 the
    # port may sell 1,244 Mb/s, so only tiers of at most 244 Mb/s still fit
    tight = QualificationRules(oversubscription_limit=Decimal("0.5"))
    q = _q(fd, world, "serviceable", tight)
    assert q.pon is not None and q.pon.sold_peak_mbps == 1000
    assert {t.code for t in q.tiers if t.offered} == {"BASIC", "STANDARD"}
    plus = next(t for t in q.tiers if t.code == "PLUS")
    assert "heavily sold" in (plus.reason or "")


def test_a_typed_address_gets_its_premises_answer_without_a_second_read(
    fd: Fiberdesk, world: QualificationWorld
) -> None:
    """The matcher hands over the row it read (multi-dwelling flag and any customer served
    there included): the answer is the premises', and the premises is not read again."""
    premises_reads: list[object] = []

    def record(conn: object, clause: object, *args: object) -> None:
        if clause is qualification._stmts().premises:
            premises_reads.append(clause)

    event.listen(fd.engine, "before_execute", record)
    try:
        with fd.uow(write=False) as uow:
            for key, premises_id in world.premises.items():
                premises = uow.session.get(Premises, premises_id)
                assert premises is not None
                by_id = qualify_premises(
                    uow, actor=SYSTEM_ACTOR, premises_id=premises_id, rules=RULES
                )
                assert len(premises_reads) == 1
                premises_reads.clear()
                typed = qualify_address(
                    uow, actor=SYSTEM_ACTOR, address=premises.label, rules=RULES
                )
                assert typed.premises is not None and typed.premises.premises_id == premises_id
                assert (typed.decision, typed.reasons, typed.messages) == (
                    by_id.decision,
                    by_id.reasons,
                    by_id.messages,
                ), key
                assert (typed.nap_code, typed.port, typed.multi_dwelling) == (
                    by_id.nap_code,
                    by_id.port,
                    by_id.multi_dwelling,
                ), key
                assert premises_reads == [], key
    finally:
        event.remove(fd.engine, "before_execute", record)
