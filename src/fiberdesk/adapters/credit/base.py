"""The contract with a credit bureau."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


class BureauError(Exception):
    """The bureau could not answer; the check can be retried."""


@dataclass(frozen=True, slots=True)
class CreditApplicant:
    full_name: str
    date_of_birth: date
    address: str
    #: last four digits of the applicant's SSN, if they gave them; never the whole number
    ssn_last4: str | None = None


@dataclass(frozen=True, slots=True)
class CreditReport:
    reference: str
    #: 300 to 850; None when the bureau has no file on the applicant
    score: int | None


class CreditBureau(Protocol):
    name: str

    def check(self, applicant: CreditApplicant) -> CreditReport: ...
