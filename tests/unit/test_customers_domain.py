from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fiberdesk.domain.customers import (
    account_number,
    is_valid_account_number,
    luhn_check_digit,
)
from fiberdesk.domain.errors import InvalidInput


def test_known_luhn_digits() -> None:
    # 7992739871 is the textbook example: its check digit is 3
    assert luhn_check_digit("7992739871") == 3
    assert account_number(1) == "0000000018"


@given(st.integers(min_value=1, max_value=10**9 - 1))
def test_account_numbers_validate(seq: int) -> None:
    number = account_number(seq)
    assert len(number) == 10
    assert is_valid_account_number(number)


@given(st.integers(min_value=1, max_value=10**9 - 1), st.integers(0, 9), st.integers(1, 9))
def test_any_single_digit_change_is_caught(seq: int, position: int, delta: int) -> None:
    number = account_number(seq)
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not is_valid_account_number(changed)


@pytest.mark.parametrize("bad", ["", "123", "abcdefghij", "00000000180", "0000000019"])
def test_invalid_account_numbers(bad: str) -> None:
    assert not is_valid_account_number(bad)


@pytest.mark.parametrize("seq", [0, -1, 10**9])
def test_sequence_out_of_range(seq: int) -> None:
    with pytest.raises(InvalidInput):
        account_number(seq)
