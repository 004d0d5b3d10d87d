"""The fake payment gateway: behaves like a card processor, keeps its books in the database.

``tokenize`` plays the processor's browser script: it is the only place a card number is
seen, and the number is never stored, only a token with the brand, last four and expiry.
Tokens, charges and refunds live in the ``fake_gateway_*`` tables, so they survive restarts
and are shared by every process. Magic card numbers pick how a card behaves:

    4242 4242 4242 4242  always succeeds
    4000 0000 0000 0002  every charge and verification declines: card_declined
    4000 0000 0000 9995  verifies; every charge declines: insufficient_funds
    4000 0000 0000 0341  verifies; every charge declines: card_declined
    4000 0000 0000 0119  verifies; every charge fails with PaymentError (retryable)

Any other valid number behaves like 4242 4242 4242 4242.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.adapters.payments.base import CardDetails, Charge, PaymentDeclined, PaymentError
from fiberdesk.db.base import utcnow
from fiberdesk.db.models.fakes import FakeGatewayCharge, FakeGatewayRefund, FakeGatewayToken
from fiberdesk.db.unit_of_work import UnitOfWork

APPROVE = "approve"
DECLINE_ALL = "decline_all"
INSUFFICIENT_FUNDS = "insufficient_funds"
DECLINE_CHARGES = "decline_charges"
PROCESSING_ERROR = "processing_error"

#: magic test card numbers and how the fake treats them
MAGIC_CARDS = {
    "4242424242424242": APPROVE,
    "4000000000000002": DECLINE_ALL,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000000341": DECLINE_CHARGES,
    "4000000000000119": PROCESSING_ERROR,
}
#: the decline code of each charge a behaviour refuses
_CHARGE_DECLINE = {
    DECLINE_ALL: "card_declined",
    INSUFFICIENT_FUNDS: "insufficient_funds",
    DECLINE_CHARGES: "card_declined",
}
CENT = Decimal("0.01")
#: how far ahead an expiry date may lie
MAX_YEARS_AHEAD = 20


class FakeGateway:
    """A stateful, deterministic card processor for development, demos and tests."""

    name = "fakegateway"

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._factory = session_factory
        self._clock = clock or utcnow

    def tokenize(self, card_number: str, exp_month: int, exp_year: int, cvc: str) -> CardDetails:
        """Check a card as a processor's browser script would and return a token for it."""
        digits = "".join(ch for ch in card_number if ch not in " -")
        if not (digits.isdigit() and 12 <= len(digits) <= 19 and luhn_valid(digits)):
            raise PaymentDeclined("invalid_number", "The card number is not valid.")
        brand = card_brand(digits)
        if brand is None:
            raise PaymentDeclined("invalid_number", "This card brand is not accepted.")
        year = exp_year + 2000 if 0 <= exp_year < 100 else exp_year
        now = self._clock()
        if not 1 <= exp_month <= 12 or year > now.year + MAX_YEARS_AHEAD:
            raise PaymentDeclined("invalid_expiry", "The expiry date is not valid.")
        if (year, exp_month) < (now.year, now.month):
            raise PaymentDeclined("expired_card", "The card has expired.")
        if not (cvc.isdigit() and 3 <= len(cvc) <= 4):
            raise PaymentDeclined("invalid_cvc", "The security code is not valid.")
        row = FakeGatewayToken(
            token=f"tok_{secrets.token_hex(12)}",
            brand=brand,
            last4=digits[-4:],
            exp_month=exp_month,
            exp_year=year,
            behaviour=MAGIC_CARDS.get(digits, APPROVE),
            created_at=now,
        )
        with UnitOfWork(self._factory) as uow:
            uow.session.add(row)
            uow.commit()
        return _details(row)

    def describe(self, *, token: str) -> CardDetails:
        with UnitOfWork(self._factory, write=False) as uow:
            return _details(_token_or_decline(uow.session, token))

    def verify(self, *, token: str) -> CardDetails:
        with UnitOfWork(self._factory, write=False) as uow:
            row = _token_or_decline(uow.session, token)
            code = self._decline_code(row, charging=False)
            if code is not None:
                raise PaymentDeclined(code, _MESSAGES[code])
            return _details(row)

    def charge(self, *, token: str, amount: Decimal, currency: str, key: str) -> Charge:
        amount, currency = _amount(amount), _currency(currency)
        _check_key(key)
        for _attempt in range(2):
            try:
                return self._charge_once(token, amount, currency, key)
            except IntegrityError:  # the same key raced in from another process: re-read
                continue
        raise PaymentError("the charge could not be recorded; retry with the same key")

    def refund(self, *, charge_id: str, amount: Decimal, key: str) -> str:
        amount = _amount(amount)
        _check_key(key)
        for _attempt in range(2):
            try:
                return self._refund_once(charge_id, amount, key)
            except IntegrityError:
                continue
        raise PaymentError("the refund could not be recorded; retry with the same key")

    # -- ledger (fake only) ---------------------------------------------------------------

    def charges(self, *, token: str | None = None) -> list[Charge]:
        """Successful charges, oldest first (all of them, or one token's)."""
        query = sa.select(FakeGatewayCharge).where(FakeGatewayCharge.decline_code.is_(None))
        if token is not None:
            query = query.where(FakeGatewayCharge.token == token)
        with UnitOfWork(self._factory, write=False) as uow:
            rows = uow.session.scalars(query.order_by(FakeGatewayCharge.id))
            return [_charge(row) for row in rows]

    def refunded(self, *, charge_id: str) -> Decimal:
        """How much of a charge has been refunded."""
        with UnitOfWork(self._factory, write=False) as uow:
            return _refunded(uow.session, charge_id)

    # -- internals ------------------------------------------------------------------------

    def _charge_once(self, token: str, amount: Decimal, currency: str, key: str) -> Charge:
        with UnitOfWork(self._factory) as uow:
            s = uow.session
            done = s.scalar(sa.select(FakeGatewayCharge).where(FakeGatewayCharge.key == key))
            if done is not None:
                if (done.token, done.amount, done.currency) != (token, amount, currency):
                    raise ValueError(f"idempotency key {key!r} was used for another charge")
                if done.decline_code is not None:
                    raise PaymentDeclined(done.decline_code, _MESSAGES[done.decline_code])
                return _charge(done)
            card = _token_or_decline(s, token)
            if card.behaviour == PROCESSING_ERROR:
                raise PaymentError("the processor had an error; nothing was charged")
            row = FakeGatewayCharge(
                charge_id=f"ch_{secrets.token_hex(12)}",
                token=token,
                amount=amount,
                currency=currency,
                key=key,
                decline_code=self._decline_code(card, charging=True),
                created_at=self._clock(),
            )
            s.add(row)
            uow.commit()
        if row.decline_code is not None:
            raise PaymentDeclined(row.decline_code, _MESSAGES[row.decline_code])
        return _charge(row)

    def _refund_once(self, charge_id: str, amount: Decimal, key: str) -> str:
        with UnitOfWork(self._factory) as uow:
            s = uow.session
            done = s.scalar(sa.select(FakeGatewayRefund).where(FakeGatewayRefund.key == key))
            if done is not None:
                if (done.charge_id, done.amount) != (charge_id, amount):
                    raise ValueError(f"idempotency key {key!r} was used for another refund")
                return done.refund_id
            # the charge's row lock makes concurrent refunds of one charge count in turn
            charge = s.scalar(
                sa.select(FakeGatewayCharge)
                .where(FakeGatewayCharge.charge_id == charge_id)
                .with_for_update()
            )
            if charge is None or charge.decline_code is not None:
                raise PaymentDeclined("invalid_charge", f"No charge {charge_id} to refund.")
            left = charge.amount - _refunded(s, charge_id)
            if amount > left:
                raise PaymentDeclined(
                    "amount_too_large", f"Only {left} {charge.currency} is left to refund."
                )
            refund_id = f"re_{secrets.token_hex(12)}"
            s.add(
                FakeGatewayRefund(
                    refund_id=refund_id,
                    charge_id=charge_id,
                    amount=amount,
                    key=key,
                    created_at=self._clock(),
                )
            )
            uow.commit()
            return refund_id

    def _decline_code(self, card: FakeGatewayToken, *, charging: bool) -> str | None:
        now = self._clock()
        if (card.exp_year, card.exp_month) < (now.year, now.month):
            return "expired_card"
        if card.behaviour == DECLINE_ALL:
            return "card_declined"
        return _CHARGE_DECLINE.get(card.behaviour) if charging else None


_MESSAGES = {
    "card_declined": "The card was declined.",
    "insufficient_funds": "The card has insufficient funds.",
    "expired_card": "The card has expired.",
}


def luhn_valid(digits: str) -> bool:
    """The Luhn check digit test every card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The brand from the number's issuer identification prefix, or None if not accepted."""
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return "Visa"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "Mastercard"
    if two in (34, 37):
        return "Amex"
    if four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649:
        return "Discover"
    return None


def _amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"an amount must be a Decimal, not {amount!r}")
    try:
        exact = amount.quantize(CENT)
    except InvalidOperation:
        raise ValueError(f"{amount} is too large an amount") from None
    if exact != amount:
        raise ValueError(f"{amount} has more than two decimal places")
    if exact <= 0:
        raise ValueError(f"an amount must be positive, not {amount}")
    return exact


def _currency(currency: str) -> str:
    code = currency.strip().upper()
    if not (len(code) == 3 and code.isascii() and code.isalpha()):
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    return code


def _check_key(key: str) -> None:
    if not key or len(key) > 200:
        raise ValueError("an idempotency key of 1 to 200 characters is required")


def _token_or_decline(s: Session, token: str) -> FakeGatewayToken:
    row = s.scalar(sa.select(FakeGatewayToken).where(FakeGatewayToken.token == token))
    if row is None:
        raise PaymentDeclined("invalid_token", "No such card token.")
    return row


def _refunded(s: Session, charge_id: str) -> Decimal:
    amounts = s.scalars(
        sa.select(FakeGatewayRefund.amount).where(FakeGatewayRefund.charge_id == charge_id)
    )
    return sum(amounts, Decimal("0.00"))


def _details(row: FakeGatewayToken) -> CardDetails:
    return CardDetails(row.token, row.brand, row.last4, row.exp_month, row.exp_year)


def _charge(row: FakeGatewayCharge) -> Charge:
    return Charge(row.charge_id, row.token, row.amount, row.currency, row.key)
