"""Money: ``Decimal`` amounts with a currency and explicit rounding."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

from fiberdesk.domain.errors import InvalidInput

CENT = Decimal("0.01")
DEFAULT_CURRENCY = "USD"


def to_decimal(value: Decimal | int | str) -> Decimal:
    """A Decimal from an exact input; floats are refused because they are not exact."""
    if isinstance(value, float):
        raise InvalidInput("money amounts must not be floats")
    try:
        result = Decimal(value)
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{value!r} is not an amount of money") from None
    if not result.is_finite():
        raise InvalidInput(f"{value!r} is not an amount of money")
    return result


def round_cents(amount: Decimal) -> Decimal:
    """Round to the cent, half up, as invoices and receipts do."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_cents_bankers(amount: Decimal) -> Decimal:
    """Round to the cent, half to even, for sums of many prorated parts."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", to_decimal(self.amount))
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise InvalidInput(f"{self.currency!r} is not an ISO 4217 currency code")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInput(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self) -> Money:
        return Money(round_cents(self.amount), self.currency)

    def __str__(self) -> str:
        sign = "-" if self.amount < 0 else ""
        symbol = "$" if self.currency == "USD" else f"{self.currency} "
        return f"{sign}{symbol}{abs(round_cents(self.amount)):,.2f}"
