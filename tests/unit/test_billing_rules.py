"""Billing rules: cycles, proration (property-based), dunning, early termination."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fiberdesk.domain.billing import (
    DunningPolicy,
    Period,
    Standing,
    change_proration,
    cycle_of,
    cycle_start,
    early_termination_fee,
    prorate,
    split,
)
from fiberdesk.domain.errors import InvalidInput

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
cycle_days = st.integers(min_value=1, max_value=28)


def test_cycles() -> None:
    assert cycle_start(date(2026, 11, 28), 1) == date(2026, 11, 1)
    assert cycle_start(date(2026, 11, 5), 15) == date(2026, 10, 15)
    assert cycle_of(date(2026, 2, 10), 15) == Period(date(2026, 1, 15), date(2026, 2, 15))
    assert cycle_of(date(2026, 2, 10), 1).days == 28
    with pytest.raises(InvalidInput):
        cycle_start(date(2026, 1, 1), 31)


def test_proration_by_hand() -> None:
    november = Period(date(2026, 11, 1), date(2026, 12, 1))
    assert prorate(Decimal("99.99"), 10, november) == Decimal("33.33")
    assert prorate(Decimal("99.99"), 30, november) == Decimal("99.99")
    assert split(Decimal("99.99"), 10, november) == (Decimal("33.33"), Decimal("66.66"))
    upgrade = change_proration(
        old_price=Decimal("49.99"),
        new_price=Decimal("99.99"),
        effective=date(2026, 11, 21),
        cycle_day=1,
    )
    assert upgrade.days_left == 10
    assert (upgrade.credit_old, upgrade.charge_new, upgrade.net) == (
        Decimal("16.66"),
        Decimal("33.33"),
        Decimal("16.67"),
    )


@given(prices, days, cycle_days, st.integers(min_value=0, max_value=31))
def test_split_parts_always_sum_to_the_cycle_price(
    price: Decimal, on: date, cycle_day: int, cut: int
) -> None:
    period = cycle_of(on, cycle_day)
    first_days = min(cut, period.days)
    first, second = split(price, first_days, period)
    assert first + second == price
    assert first >= 0 and second >= 0
    assert first == first.quantize(Decimal("0.01"))


@given(prices, days, cycle_days)
def test_proration_of_every_day_sums_close_to_the_price(
    price: Decimal, on: date, cycle_day: int
) -> None:
    period = cycle_of(on, cycle_day)
    daily = [prorate(price, 1, period) for _ in range(period.days)]
    # rounding each day separately may drift by at most half a cent a day
    assert abs(sum(daily) - price) <= Decimal("0.005") * period.days


@given(prices, prices, days, cycle_days)
def test_change_proration_is_consistent(
    old: Decimal, new: Decimal, on: date, cycle_day: int
) -> None:
    p = change_proration(old_price=old, new_price=new, effective=on, cycle_day=cycle_day)
    assert 0 < p.days_left <= p.period.days
    assert p.effective in p.period
    assert (p.net > 0) == (p.charge_new > p.credit_old)


def test_dunning_policy() -> None:
    policy = DunningPolicy(reminder_days=(3, 10), suspend_at=20, collections_at=50)
    assert policy.standing(0) is Standing.CURRENT
    assert policy.standing(4) is Standing.PAST_DUE
    assert policy.standing(50) is Standing.COLLECTIONS
    for bad in ({"reminder_days": (10, 3)}, {"suspend_at": 5}, {"collections_at": 10}):
        with pytest.raises(InvalidInput):
            DunningPolicy(**bad)  # type: ignore[arg-type]


def test_early_termination_fee() -> None:
    start = date(2026, 1, 15)
    ends = date(2027, 1, 15)
    fee = Decimal("150.00")
    assert early_termination_fee(fee, term_months=12, ends_on=ends, on=start) == fee
    assert early_termination_fee(
        fee, term_months=12, ends_on=ends, on=date(2026, 7, 15)
    ) == Decimal("75.00")
    assert early_termination_fee(
        fee, term_months=12, ends_on=ends, on=ends - timedelta(days=3)
    ) == Decimal("12.50")
    assert early_termination_fee(fee, term_months=12, ends_on=ends, on=ends) == 0
    assert early_termination_fee(fee, term_months=0, ends_on=None, on=start) == 0
