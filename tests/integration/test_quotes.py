"""Quotes, port holds and the waitlist (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import AuditEntry, NapPort, Quote, WaitlistEntry
from fiberdesk.domain.errors import InvalidInput, Refused, TransitionRefused
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.qualification import QuoteStatus, Reason
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import quotes, waitlist
from tests.factories import QualificationWorld, make_qualification_world


@pytest.fixture
def world(fd: Fiberdesk) -> QualificationWorld:
    return make_qualification_world(fd)


def _quote(
    fd: Fiberdesk, premises_id: int, plan: str = "GIGABIT", **kw: object
) -> quotes.QuoteView:
    with fd.uow() as uow:
        return quotes.create_quote(
            uow,
            actor=SYSTEM_ACTOR,
            premises_id=premises_id,
            plan_code=plan,
            settings=fd.quote_settings,
            **kw,
        )  # type: ignore[arg-type]


def _count(fd: Fiberdesk, model: type) -> int:
    with fd.uow(write=False) as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_quote_totals_by_hand(fd: Fiberdesk, world: QualificationWorld) -> None:
    view = _quote(
        fd,
        world.premises["serviceable"],
        "GIGABIT",
        term_code="12M",
        promotion_code="WELCOME3",
        contact_name="Pat Doe",
        contact_email="Pat@Example.com",
        contact_phone="(410) 555-0142",
    )
    # 99.99 - 5.00 (12-month) - 20.00 (welcome) = 74.99; tax 6 % = 4.4994 -> 4.50
    assert view.monthly_total == Decimal("79.49")
    # after the promotion: 94.99 + 5.70 (5.6994 rounded half-up)
    assert view.monthly_total_after_promotion == Decimal("100.69")
    # install 99.00 + 5.94 tax
    assert view.one_time_total == Decimal("104.94")
    assert view.status is QuoteStatus.OPEN and view.reference.startswith("Q-")
    assert (view.contact_email, view.contact_phone) == ("Pat@example.com", "+14105550142")
    assert view.expires_at - view.created_at == timedelta(days=30)
    assert [line["description"] for line in view.lines] == [
        "Gigabit monthly service",
        "12-month contract discount",
        "Welcome offer: $20 off (first 3 months)",
        "Installation",
    ]


def test_24_month_term_waives_install(fd: Fiberdesk, world: QualificationWorld) -> None:
    view = _quote(fd, world.premises["serviceable"], "BASIC", term_code="24M")
    assert view.one_time_total == Decimal("0.00")
    assert view.monthly_total == Decimal("31.79")  # (39.99 - 10) x 1.06 = 31.7894


@pytest.mark.parametrize(
    ("key", "plan", "kw", "error", "words"),
    [
        ("no_coverage", "BASIC", {}, Refused, "no quote"),
        ("nap_full", "BASIC", {}, Refused, "NAP-FULL"),
        ("already_served", "BASIC", {}, Refused, "already has service"),
        ("serviceable", "BUSINESS", {}, Refused, "not on offer"),
        ("serviceable", "ULTRA", {}, InvalidInput, "no plan"),
        ("serviceable", "BASIC", {"term_code": "99M"}, InvalidInput, "no contract term"),
        ("serviceable", "BASIC", {"promotion_code": "NOPE"}, InvalidInput, "promotion"),
        ("serviceable", "BASIC", {"contact_email": "not-an-email"}, InvalidInput, "email"),
        ("serviceable", "BASIC", {"contact_phone": "12"}, InvalidInput, "phone"),
    ],
)
def test_refused_quotes_write_nothing(
    fd: Fiberdesk,
    world: QualificationWorld,
    key: str,
    plan: str,
    kw: dict[str, object],
    error: type[Exception],
    words: str,
) -> None:
    audits = _count(fd, AuditEntry)
    with pytest.raises(error, match=words):
        _quote(fd, world.premises[key], plan, **kw)
    assert _count(fd, Quote) == 0
    assert _count(fd, AuditEntry) == audits


def test_accept_holds_the_port_and_expiry_releases_it(
    fd: Fiberdesk, world: QualificationWorld
) -> None:
    view = _quote(fd, world.premises["serviceable"], "PLUS")
    with fd.uow() as uow:
        held = quotes.accept_quote(
            uow, actor=SYSTEM_ACTOR, reference=view.reference, settings=fd.quote_settings
        )
    assert held.status is QuoteStatus.ACCEPTED and (held.nap_code, held.port) == ("NAP-A", 1)
    with fd.uow(write=False) as uow:
        port = uow.session.scalar(
            sa.select(NapPort).where(NapPort.nap_id == world.naps["NAP-A"], NapPort.number == 1)
        )
        assert port is not None and port.status is NapPortStatus.RESERVED
        assert port.held_by == view.reference
    # a second quote at the same NAP is offered the next port
    second = _quote(fd, world.premises["long_drop"], "PLUS")
    assert second.port is None
    with fd.uow() as uow, pytest.raises(TransitionRefused):
        quotes.accept_quote(
            uow, actor=SYSTEM_ACTOR, reference=view.reference, settings=fd.quote_settings
        )
    # asking for the held port by number: refused, the next free one named
    with fd.uow() as uow, pytest.raises(Refused, match="port 2 is free") as info:
        quotes.accept_quote(
            uow,
            actor=SYSTEM_ACTOR,
            reference=second.reference,
            port_number=1,
            settings=fd.quote_settings,
        )
    assert info.value.extra["next_free_port"] == 2
    later = utcnow() + timedelta(minutes=fd.settings.port_hold_minutes + 1)
    with fd.uow() as uow:
        result = quotes.release_expired(uow, actor=SYSTEM_ACTOR, now=later)
    assert result.ports_released == 1 and result.quotes_expired >= 1
    with fd.uow(write=False) as uow:
        assert (
            quotes.get_quote(uow, actor=SYSTEM_ACTOR, reference=view.reference).status
            is QuoteStatus.EXPIRED
        )


def test_lapsed_hold_counts_as_free_before_any_sweep(
    fd: Fiberdesk, world: QualificationWorld
) -> None:
    view = _quote(fd, world.premises["serviceable"], "PLUS")
    with fd.uow() as uow:
        quotes.accept_quote(
            uow, actor=SYSTEM_ACTOR, reference=view.reference, settings=fd.quote_settings
        )
    other = _quote(fd, world.premises["long_drop"], "PLUS")
    later = utcnow() + timedelta(minutes=fd.settings.port_hold_minutes + 1)
    with fd.uow() as uow:
        taken = quotes.accept_quote(
            uow,
            actor=SYSTEM_ACTOR,
            reference=other.reference,
            port_number=1,
            settings=fd.quote_settings,
            now=later,
        )
    assert taken.port == 1


def test_expired_quote_cannot_be_accepted(fd: Fiberdesk, world: QualificationWorld) -> None:
    view = _quote(fd, world.premises["serviceable"], "PLUS")
    with fd.uow() as uow, pytest.raises(Refused, match="expired"):
        quotes.accept_quote(
            uow,
            actor=SYSTEM_ACTOR,
            reference=view.reference,
            settings=fd.quote_settings,
            now=utcnow() + timedelta(days=31),
        )
    with fd.uow(write=False) as uow:
        assert (
            uow.session.scalar(
                sa.select(sa.func.count())
                .select_from(NapPort)
                .where(NapPort.status == NapPortStatus.RESERVED)
            )
            == 0
        )


def test_waitlist_and_report(fd: Fiberdesk, world: QualificationWorld) -> None:
    for key, name in [("no_coverage", "Ann"), ("nap_full", "Ben"), ("nap_full", "Cy")]:
        with fd.uow() as uow:
            waitlist.join_waitlist(
                uow,
                actor=SYSTEM_ACTOR,
                premises_id=world.premises[key],
                name=name,
                email=f"{name}@example.com",
                plan_code="PLUS",
                rules=fd.rules,
            )
    with fd.uow(write=False) as uow:
        report = waitlist.waitlist_report(uow, actor=SYSTEM_ACTOR)
    assert report.total == 3
    assert report.by_reason == {"NO_COVERAGE": 1, "NAP_FULL": 2}
    assert [(r.key, r.entries, r.by_plan) for r in report.by_zip] == [("21204", 3, {"PLUS": 3})]
    assert [(r.key, r.entries) for r in report.by_full_nap] == [("NAP-FULL", 2)]


@pytest.mark.parametrize(
    ("key", "kw", "words"),
    [
        ("serviceable", {"email": "a@example.com"}, "cannot be served yet"),
        ("no_coverage", {}, "email or a phone"),
        ("no_coverage", {"email": "bad"}, "valid email"),
        ("no_coverage", {"email": "a@example.com", "plan_code": "NOPE"}, "no plan"),
    ],
)
def test_waitlist_refusals(
    fd: Fiberdesk, world: QualificationWorld, key: str, kw: dict[str, str], words: str
) -> None:
    with fd.uow() as uow, pytest.raises(InvalidInput, match=words):
        waitlist.join_waitlist(
            uow,
            actor=SYSTEM_ACTOR,
            premises_id=world.premises[key],
            name="Dee",
            rules=fd.rules,
            **kw,
        )  # type: ignore[arg-type]
    assert _count(fd, WaitlistEntry) == 0


def test_waitlist_reason_is_recorded(fd: Fiberdesk, world: QualificationWorld) -> None:
    with fd.uow() as uow:
        view = waitlist.join_waitlist(
            uow,
            actor=SYSTEM_ACTOR,
            premises_id=world.premises["budget"],
            name="Eve",
            phone="410 555 0177",
            rules=fd.rules,
        )
    assert view.reason is Reason.BUDGET_EXCEEDED
