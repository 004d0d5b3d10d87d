"""The fake credit bureau: deterministic scores, magic applicants, the age rule."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, date, datetime

import pytest

from fiberdesk.adapters.credit.base import BureauError, CreditApplicant, CreditBureau
from fiberdesk.adapters.credit.fake import FakeBureau, age_on, normalise_name
from fiberdesk.domain.signup import CreditOutcome, CreditPolicy

CHECK_DAY = datetime(2025, 6, 15, 14, 0, tzinfo=UTC)


def _bureau(**kw: object) -> FakeBureau:
    return FakeBureau(clock=lambda: CHECK_DAY, **kw)  # type: ignore[arg-type]


def _applicant(
    name: str = "Pat Doe", born: date = date(1980, 3, 4), last4: str | None = None
) -> CreditApplicant:
    return CreditApplicant(name, born, "100 MAIN ST, TOWSON, MD 21204", last4)


def test_it_is_a_credit_bureau_named_fakebureau() -> None:
    bureau: CreditBureau = _bureau()
    assert bureau.name == "fakebureau"


def test_same_person_same_score_and_reference() -> None:
    first = _bureau().check(_applicant())
    again = FakeBureau(clock=lambda: CHECK_DAY).check(_applicant())
    assert first == again
    assert first.score is not None and 300 <= first.score <= 850
    assert first.reference.startswith("FB-") and len(first.reference) == 13


def test_name_is_normalised_before_hashing() -> None:
    plain = _bureau().check(_applicant("Jose O'Brien"))
    messy = _bureau().check(_applicant("  JOSÉ   o'brien "))
    assert plain.score == messy.score
    assert normalise_name("  José  O'Brien-Smith ") == "jose obrien smith"


def test_birth_date_and_name_change_the_score() -> None:
    scores = {
        _bureau().check(_applicant(f"Person {i}", date(1970 + i % 30, 1 + i % 12, 1))).score
        for i in range(40)
    }
    assert len(scores) > 20


def test_the_key_changes_the_scores() -> None:
    people = [_applicant(f"Person {i}") for i in range(20)]
    one = [_bureau().check(p).score for p in people]
    other = [_bureau(key="another-key").check(p).score for p in people]
    assert one != other


def test_scores_are_spread_like_real_ones() -> None:
    rng = random.Random(7)
    scores = []
    for i in range(2000):
        born = date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
        report = _bureau().check(_applicant(f"Applicant {i} {rng.random()}", born))
        assert report.score is not None
        scores.append(report.score)
    assert min(scores) >= 300 and max(scores) <= 850
    within = sum(600 <= s <= 800 for s in scores) / len(scores)
    assert 0.72 <= within <= 0.90
    assert 680 <= statistics.mean(scores) <= 730
    assert min(scores) < 550 and max(scores) > 820  # both tails are reached


@pytest.mark.parametrize(
    ("last4", "score", "outcome"),
    [
        ("0000", None, CreditOutcome.APPROVED_WITH_DEPOSIT),
        ("1111", 820, CreditOutcome.APPROVED),
        ("5555", 590, CreditOutcome.APPROVED_WITH_DEPOSIT),
        ("9999", 480, CreditOutcome.DECLINED),
    ],
)
def test_magic_applicants(last4: str, score: int | None, outcome: CreditOutcome) -> None:
    report = _bureau().check(_applicant("Anyone At All", last4=last4))
    assert report.score == score
    assert report.reference.startswith("FB-")
    assert CreditPolicy(approve_at=650, deposit_at=550).decide(report.score)[0] is outcome


def test_unavailable_applicant_raises_bureau_error() -> None:
    with pytest.raises(BureauError, match="unavailable"):
        _bureau().check(_applicant(last4="0503"))


def test_other_last4_values_use_the_hash() -> None:
    assert _bureau().check(_applicant(last4="1234")).score == _bureau().check(_applicant()).score


def test_under_18_on_the_check_date_is_refused() -> None:
    seventeen = date(2007, 6, 16)  # 18 tomorrow
    with pytest.raises(ValueError, match="under 18"):
        _bureau().check(_applicant(born=seventeen))
    eighteen_today = date(2007, 6, 15)
    assert _bureau().check(_applicant(born=eighteen_today)).score is not None
    with pytest.raises(ValueError, match="under 18"):
        _bureau().check(_applicant(born=date(2030, 1, 1)))


def test_age_counts_whole_years() -> None:
    assert age_on(date(2000, 2, 29), date(2018, 2, 28)) == 17
    assert age_on(date(2000, 2, 29), date(2018, 3, 1)) == 18
    assert age_on(date(1980, 12, 31), date(2025, 1, 1)) == 44


@pytest.mark.parametrize("bad", ["123", "12a4", "12345"])
def test_malformed_ssn_last4_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="four digits"):
        _bureau().check(_applicant(last4=bad))


def test_blank_name_is_refused() -> None:
    with pytest.raises(ValueError, match="name"):
        _bureau().check(_applicant(" ,. "))
