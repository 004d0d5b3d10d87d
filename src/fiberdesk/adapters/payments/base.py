"""The contract with a payment processor. fiberdesk only ever holds its tokens.

A card number is turned into a token by the processor itself (in the customer's browser or
at the processor's hosted page); fiberdesk stores the token, the brand, the last four
digits and the expiry, and charges the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class PaymentDeclined(Exception):
    """The processor declined; ``code`` is its reason (e.g. insufficient_funds)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PaymentError(Exception):
    """The processor could not be reached or answered nonsense; safe to retry later."""


@dataclass(frozen=True, slots=True)
class CardDetails:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class Charge:
    id: str
    token: str
    amount: Decimal
    currency: str
    #: the idempotency key it was made with: the same key never charges twice
    key: str


class PaymentGateway(Protocol):
    name: str

    def describe(self, *, token: str) -> CardDetails:
        """The card behind a token; raises PaymentDeclined for an unknown or dead token."""
        ...

    def verify(self, *, token: str) -> CardDetails:
        """A zero-amount authorisation: is the card good? Raises PaymentDeclined."""
        ...

    def charge(self, *, token: str, amount: Decimal, currency: str, key: str) -> Charge: ...

    def refund(self, *, charge_id: str, amount: Decimal, key: str) -> str: ...
