from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.money import Money, round_cents, round_cents_bankers, to_decimal

cents = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False)


def test_rounding_is_explicit() -> None:
    assert round_cents(Decimal("2.675")) == Decimal("2.68")
    assert round_cents(Decimal("-2.675")) == Decimal("-2.68")
    assert round_cents_bankers(Decimal("2.665")) == Decimal("2.66")
    assert round_cents_bankers(Decimal("2.675")) == Decimal("2.68")


def test_floats_and_garbage_refused() -> None:
    with pytest.raises(InvalidInput):
        to_decimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        to_decimal("twelve")
    with pytest.raises(InvalidInput):
        to_decimal("NaN")


def test_currencies_do_not_mix() -> None:
    with pytest.raises(InvalidInput):
        Money(Decimal(1), "USD") + Money(Decimal(1), "EUR")
    with pytest.raises(InvalidInput):
        Money(Decimal(1), "US")


def test_display() -> None:
    assert str(Money(Decimal("1234.5"))) == "$1,234.50"
    assert str(Money(Decimal("-3.999"))) == "-$4.00"


@given(cents, cents)
def test_addition_is_exact(a: Decimal, b: Decimal) -> None:
    total = Money(a) + Money(b)
    assert total.amount == a + b
    assert (total - Money(b)).amount == a


def test_add_months_clamps() -> None:
    from datetime import date

    from fiberdesk.domain.dates import add_months

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
