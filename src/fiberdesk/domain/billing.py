"""Billing rules: cycles, proration, standing and dunning. Money is Decimal, rounded
explicitly (half-up to the cent), and prorated parts of a cycle always add up to its price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from fiberdesk.domain.dates import add_months
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.money import round_cents
from fiberdesk.domain.status import LabelledStatus


class EntryKind(LabelledStatus):
    """Ledger entries. Charges and fees raise the balance; payments and credits lower it."""

    CHARGE = ("CHARGE", "Charge", "slate")
    CREDIT = ("CREDIT", "Credit", "green")
    PAYMENT = ("PAYMENT", "Payment", "green")
    ADJUSTMENT = ("ADJUSTMENT", "Adjustment", "amber")
    REFUND = ("REFUND", "Refund", "blue")


class Standing(LabelledStatus):
    CURRENT = ("CURRENT", "Current", "green", "Nothing overdue")
    PAST_DUE = ("PAST_DUE", "Past due", "amber", "An invoice is unpaid after its due date")
    COLLECTIONS = ("COLLECTIONS", "In collections", "red", "Long overdue; suspended or closed")


class InvoiceStatus(LabelledStatus):
    OPEN = ("OPEN", "Open", "blue", "Issued, not yet paid")
    PAID = ("PAID", "Paid", "green", "Paid in full")
    VOID = ("VOID", "Void", "grey", "Cancelled")


class HoldKind(LabelledStatus):
    VACATION = ("VACATION", "Vacation hold", "blue", "Asked for by the customer")
    NON_PAYMENT = ("NON_PAYMENT", "Non-payment", "red", "Suspended by dunning")


def cycle_start(on: date, cycle_day: int) -> date:
    """The first day of the billing cycle that contains ``on``."""
    if not 1 <= cycle_day <= 28:
        raise InvalidInput("the billing cycle day is 1 to 28", field="cycle_day")
    start = on.replace(day=cycle_day)
    return start if start <= on else add_months(start, -1)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


def cycle_of(on: date, cycle_day: int) -> Period:
    start = cycle_start(on, cycle_day)
    return Period(start, add_months(start, 1))


def prorate(amount: Decimal, days: int, period: Period) -> Decimal:
    """The share of ``amount`` for ``days`` of ``period``, rounded half-up to the cent."""
    if not 0 <= days <= period.days:
        raise InvalidInput(f"{days} days is not within a {period.days}-day cycle")
    return round_cents(amount * days / period.days)


def split(amount: Decimal, first_days: int, period: Period) -> tuple[Decimal, Decimal]:
    """Split a cycle's price at a day: the two parts always add up to ``amount`` exactly."""
    first = prorate(amount, first_days, period)
    return first, amount - first


@dataclass(frozen=True, slots=True)
class ChangeProration:
    """What a tier change costs or refunds for the rest of the cycle."""

    period: Period
    effective: date
    days_left: int
    old_price: Decimal
    new_price: Decimal
    credit_old: Decimal  # unused part of the old price, given back
    charge_new: Decimal  # the new price for the days left

    @property
    def net(self) -> Decimal:
        return self.charge_new - self.credit_old


def change_proration(
    *, old_price: Decimal, new_price: Decimal, effective: date, cycle_day: int
) -> ChangeProration:
    period = cycle_of(effective, cycle_day)
    left = (period.end - effective).days
    return ChangeProration(
        period,
        effective,
        left,
        old_price,
        new_price,
        prorate(old_price, left, period),
        prorate(new_price, left, period),
    )


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    """Reminders at these days past due; suspension at ``suspend_at``; collections
    (and disconnection) at ``collections_at``."""

    reminder_days: tuple[int, ...] = (3, 10)
    suspend_at: int = 20
    collections_at: int = 50

    def __post_init__(self) -> None:
        if list(self.reminder_days) != sorted(set(self.reminder_days)) or any(
            d <= 0 for d in self.reminder_days
        ):
            raise InvalidInput("reminder days must be positive and increasing")
        if self.reminder_days and self.suspend_at <= self.reminder_days[-1]:
            raise InvalidInput("suspension comes after the last reminder")
        if self.collections_at <= self.suspend_at:
            raise InvalidInput("collections come after suspension")

    def standing(self, days_past_due: int) -> Standing:
        if days_past_due <= 0:
            return Standing.CURRENT
        if days_past_due >= self.collections_at:
            return Standing.COLLECTIONS
        return Standing.PAST_DUE


def early_termination_fee(
    fee: Decimal, *, term_months: int, ends_on: date | None, on: date
) -> Decimal:
    """The contract's fee, prorated by the whole months still left of the term."""
    if not term_months or ends_on is None or on >= ends_on or fee <= 0:
        return Decimal("0.00")
    months_left = 0
    while add_months(on, months_left + 1) <= ends_on:
        months_left += 1
    months_left = max(1, months_left)
    return round_cents(fee * min(months_left, term_months) / term_months)


def due_date(issued: date, days: int) -> date:
    return issued + timedelta(days=days)
