"""Sign-up rules: identity verification methods, credit decisions, contracts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fiberdesk.domain.status import LabelledStatus


class IdentityMethod(LabelledStatus):
    PHOTO_ID = ("PHOTO_ID", "Photo ID seen", "green", "A government photo ID was checked")
    OTP_SMS = ("OTP_SMS", "One-time code by text", "green", "A code sent to the phone")
    OTP_EMAIL = ("OTP_EMAIL", "One-time code by email", "green", "A code sent to the email")


class CreditOutcome(LabelledStatus):
    APPROVED = ("APPROVED", "Approved", "green")
    APPROVED_WITH_DEPOSIT = ("APPROVED_WITH_DEPOSIT", "Approved with deposit", "amber")
    DECLINED = ("DECLINED", "Declined", "red")


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    """Scores at or above ``approve_at`` pass; from ``deposit_at`` a deposit is asked."""

    approve_at: int = 650
    deposit_at: int = 550
    deposit: Decimal = Decimal("100.00")

    def decide(self, score: int | None) -> tuple[CreditOutcome, Decimal]:
        if score is None:  # no file at the bureau: treat as thin credit, ask a deposit
            return CreditOutcome.APPROVED_WITH_DEPOSIT, self.deposit
        if score >= self.approve_at:
            return CreditOutcome.APPROVED, Decimal("0.00")
        if score >= self.deposit_at:
            return CreditOutcome.APPROVED_WITH_DEPOSIT, self.deposit
        return CreditOutcome.DECLINED, Decimal("0.00")


class LeadTimeFlag(LabelledStatus):
    """The spec's install lead time: target under 7 days, alert over 10."""

    ON_TARGET = ("ON_TARGET", "On target", "green", "Within 7 days")
    OVER_TARGET = ("OVER_TARGET", "Over target", "amber", "More than 7 days")
    ALERT = ("ALERT", "Alert", "red", "More than 10 days")


LEAD_TIME_TARGET_DAYS = 7
LEAD_TIME_ALERT_DAYS = 10


def lead_time_flag(
    days: float, *, target: int = LEAD_TIME_TARGET_DAYS, alert: int = LEAD_TIME_ALERT_DAYS
) -> LeadTimeFlag:
    if days > alert:
        return LeadTimeFlag.ALERT
    if days > target:
        return LeadTimeFlag.OVER_TARGET
    return LeadTimeFlag.ON_TARGET
