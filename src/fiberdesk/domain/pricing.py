"""Quote pricing: monthly and one-time totals with promotions, contract terms and tax."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.money import round_cents


@dataclass(frozen=True, slots=True)
class Promotion:
    code: str
    name: str
    #: taken off the monthly price for the first ``months`` months
    monthly_discount: Decimal
    months: int
    waive_install_fee: bool = False


@dataclass(frozen=True, slots=True)
class ContractTerm:
    code: str
    name: str
    months: int
    monthly_discount: Decimal
    early_termination_fee: Decimal
    waive_install_fee: bool = False


@dataclass(frozen=True, slots=True)
class QuoteLine:
    description: str
    amount: Decimal
    recurring: bool


@dataclass(frozen=True, slots=True)
class QuotePrice:
    lines: tuple[QuoteLine, ...]
    monthly_subtotal: Decimal
    monthly_tax: Decimal
    monthly_total: Decimal
    #: what the monthly total becomes when the promotion ends (None without one)
    monthly_total_after_promotion: Decimal | None
    one_time_subtotal: Decimal
    one_time_tax: Decimal
    one_time_total: Decimal


def price_quote(
    *,
    plan_name: str,
    monthly_price: Decimal,
    install_fee: Decimal,
    tax_rate: Decimal,
    term: ContractTerm,
    promotion: Promotion | None = None,
) -> QuotePrice:
    """Price one plan. Discounts never take the monthly price below zero; tax is applied to
    each subtotal and rounded half-up to the cent."""
    if monthly_price < 0 or install_fee < 0:
        raise InvalidInput("prices cannot be negative")
    if not Decimal(0) <= tax_rate < Decimal(1):
        raise InvalidInput("the tax rate is a fraction between 0 and 1")
    lines = [QuoteLine(f"{plan_name} monthly service", monthly_price, True)]
    monthly = monthly_price
    if term.monthly_discount:
        discount = min(term.monthly_discount, monthly)
        lines.append(QuoteLine(f"{term.name} contract discount", -discount, True))
        monthly -= discount
    after_promotion: Decimal | None = None
    if promotion is not None and promotion.monthly_discount:
        discount = min(promotion.monthly_discount, monthly)
        lines.append(
            QuoteLine(f"{promotion.name} (first {promotion.months} months)", -discount, True)
        )
        after_promotion = monthly
        monthly -= discount
    one_time = install_fee
    lines.append(QuoteLine("Installation", install_fee, False))
    waived = term.waive_install_fee or (promotion is not None and promotion.waive_install_fee)
    if waived and install_fee:
        lines.append(QuoteLine("Installation fee waived", -install_fee, False))
        one_time = Decimal(0)
    monthly_tax = round_cents(monthly * tax_rate)
    one_time_tax = round_cents(one_time * tax_rate)
    after_total = (
        None
        if after_promotion is None
        else round_cents(after_promotion) + round_cents(after_promotion * tax_rate)
    )
    return QuotePrice(
        lines=tuple(lines),
        monthly_subtotal=round_cents(monthly),
        monthly_tax=monthly_tax,
        monthly_total=round_cents(monthly) + monthly_tax,
        monthly_total_after_promotion=after_total,
        one_time_subtotal=round_cents(one_time),
        one_time_tax=one_time_tax,
        one_time_total=round_cents(one_time) + one_time_tax,
    )


DEFAULT_TERMS: tuple[ContractTerm, ...] = (
    ContractTerm("M2M", "Month to month", 0, Decimal("0"), Decimal("0")),
    ContractTerm("12M", "12-month", 12, Decimal("5.00"), Decimal("150.00")),
    ContractTerm(
        "24M", "24-month", 24, Decimal("10.00"), Decimal("250.00"), waive_install_fee=True
    ),
)

DEFAULT_PROMOTIONS: tuple[Promotion, ...] = (
    Promotion("WELCOME3", "Welcome offer: $20 off", Decimal("20.00"), 3),
    Promotion("FREEINSTALL", "Free installation", Decimal("0"), 0, waive_install_fee=True),
)
