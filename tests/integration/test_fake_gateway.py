"""The fake payment gateway on SQLite and PostgreSQL: tokens, magic cards, the ledger."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fiberdesk.adapters.payments.base import (
    CardDetails,
    Charge,
    PaymentDeclined,
    PaymentError,
    PaymentGateway,
)
from fiberdesk.adapters.payments.fake import FakeGateway, card_brand, luhn_valid
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models.fakes import FakeGatewayCharge, FakeGatewayRefund, FakeGatewayToken

GOOD = "4242 4242 4242 4242"
DECLINE_ALL = "4000 0000 0000 0002"
INSUFFICIENT = "4000 0000 0000 9995"
ATTACH_THEN_DECLINE = "4000 0000 0000 0341"
PROCESSING_ERROR = "4000 0000 0000 0119"
START = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def gateway(fd: Fiberdesk, clock: Clock) -> FakeGateway:
    return FakeGateway(fd.session_factory, clock=clock)


def _card(gateway: FakeGateway, number: str = GOOD) -> CardDetails:
    return gateway.tokenize(number, 12, 2030, "123")


def _rows(fd: Fiberdesk, model: type, *where: sa.ColumnElement[bool]) -> int:
    with fd.uow(write=False) as uow:
        query = sa.select(sa.func.count()).select_from(model).where(*where)
        return uow.session.scalar(query) or 0


def _declined(code: str, call: Callable[[], object]) -> None:
    with pytest.raises(PaymentDeclined) as caught:
        call()
    assert caught.value.code == code


def test_it_is_a_payment_gateway(gateway: FakeGateway) -> None:
    contract: PaymentGateway = gateway
    assert contract.name == "fakegateway"


def test_tokenize_keeps_only_token_brand_last4_expiry(fd: Fiberdesk, gateway: FakeGateway) -> None:
    card = gateway.tokenize("4242-4242-4242-4242", 7, 29, "987")
    assert card.token.startswith("tok_") and len(card.token) > 20
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("Visa", "4242", 7, 2029)
    assert gateway.describe(token=card.token) == card
    assert _card(gateway).token != card.token  # every tokenisation gives a new token
    with fd.engine.connect() as conn:
        rows = conn.execute(sa.select(FakeGatewayToken.__table__)).all()
    assert len(rows) == 2
    stored = " ".join(str(value) for row in rows for value in row)
    assert "4242424242424242" not in stored and "987" not in stored


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "Visa"),
        ("5555555555554444", "Mastercard"),
        ("2223003122003222", "Mastercard"),
        ("378282246310005", "Amex"),
        ("6011111111111117", "Discover"),
        ("6500000000000002", "Discover"),
    ],
)
def test_brand_from_the_issuer_prefix(gateway: FakeGateway, number: str, brand: str) -> None:
    card = gateway.tokenize(number, 1, 2031, "1234" if brand == "Amex" else "123")
    assert (card.brand, card.last4) == (brand, number[-4:])


def test_luhn_and_brand_helpers() -> None:
    assert luhn_valid("4000000000000002") and luhn_valid("378282246310005")
    assert not luhn_valid("4242424242424241")
    assert card_brand("3530111333300000") is None  # JCB: not accepted


@pytest.mark.parametrize(
    "number",
    ["4242424242424241", "4242", "4242 4242 4242 424x", "", "3530111333300000"],
)
def test_invalid_numbers_are_declined(fd: Fiberdesk, gateway: FakeGateway, number: str) -> None:
    _declined("invalid_number", lambda: gateway.tokenize(number, 12, 2030, "123"))
    assert _rows(fd, FakeGatewayToken) == 0


def test_expiry_against_the_gateway_clock(gateway: FakeGateway) -> None:
    _declined("expired_card", lambda: gateway.tokenize(GOOD, 5, 2025, "123"))
    _declined("expired_card", lambda: gateway.tokenize(GOOD, 12, 2024, "123"))
    assert gateway.tokenize(GOOD, 6, 2025, "123").exp_year == 2025  # good to the month's end
    _declined("invalid_expiry", lambda: gateway.tokenize(GOOD, 13, 2030, "123"))
    _declined("invalid_expiry", lambda: gateway.tokenize(GOOD, 0, 2030, "123"))
    _declined("invalid_expiry", lambda: gateway.tokenize(GOOD, 1, 2060, "123"))


@pytest.mark.parametrize("cvc", ["12", "12345", "abc", ""])
def test_invalid_cvc_is_declined(gateway: FakeGateway, cvc: str) -> None:
    _declined("invalid_cvc", lambda: gateway.tokenize(GOOD, 12, 2030, cvc))


def test_a_card_that_expires_later_is_declined_then(gateway: FakeGateway, clock: Clock) -> None:
    card = gateway.tokenize(GOOD, 6, 2025, "123")
    assert gateway.verify(token=card.token) == card
    clock.now = datetime(2025, 7, 1, 0, 0, tzinfo=UTC)
    _declined("expired_card", lambda: gateway.verify(token=card.token))
    _declined(
        "expired_card",
        lambda: gateway.charge(token=card.token, amount=Decimal("5"), currency="USD", key="k"),
    )
    assert gateway.describe(token=card.token) == card  # still described, just not usable


def test_unknown_tokens_are_declined(gateway: FakeGateway) -> None:
    _declined("invalid_token", lambda: gateway.describe(token="tok_nope"))
    _declined("invalid_token", lambda: gateway.verify(token="tok_nope"))
    _declined(
        "invalid_token",
        lambda: gateway.charge(token="tok_nope", amount=Decimal("1"), currency="USD", key="x"),
    )


def test_good_card_verifies_and_charges(fd: Fiberdesk, gateway: FakeGateway) -> None:
    card = _card(gateway)
    assert gateway.verify(token=card.token) == card
    charge = gateway.charge(token=card.token, amount=Decimal("79.49"), currency="usd", key="inv-1")
    assert charge.id.startswith("ch_")
    assert (charge.token, charge.amount, charge.currency, charge.key) == (
        card.token,
        Decimal("79.49"),
        "USD",
        "inv-1",
    )
    assert gateway.charges(token=card.token) == [charge]


def test_decline_all_card(fd: Fiberdesk, gateway: FakeGateway) -> None:
    card = _card(gateway, DECLINE_ALL)
    _declined("card_declined", lambda: gateway.verify(token=card.token))
    charge = lambda: gateway.charge(token=card.token, amount=Decimal(9), currency="USD", key="a")  # noqa: E731
    _declined("card_declined", charge)
    _declined("card_declined", charge)  # the retry with the same key gets the same answer
    assert _rows(fd, FakeGatewayCharge) == 1
    assert gateway.charges() == []


def test_insufficient_funds_card_verifies_but_charges_decline(gateway: FakeGateway) -> None:
    card = _card(gateway, INSUFFICIENT)
    assert gateway.verify(token=card.token).last4 == "9995"
    _declined(
        "insufficient_funds",
        lambda: gateway.charge(token=card.token, amount=Decimal("50"), currency="USD", key="b"),
    )


def test_card_added_then_every_charge_declines(gateway: FakeGateway) -> None:
    card = _card(gateway, ATTACH_THEN_DECLINE)
    assert gateway.verify(token=card.token).last4 == "0341"
    for attempt in range(3):  # autopay retries, each with its own key
        _declined(
            "card_declined",
            lambda attempt=attempt: gateway.charge(  # type: ignore[misc]
                token=card.token, amount=Decimal("50"), currency="USD", key=f"inv-7/{attempt}"
            ),
        )


def test_processing_error_is_retryable_and_charges_nothing(
    fd: Fiberdesk, gateway: FakeGateway
) -> None:
    card = _card(gateway, PROCESSING_ERROR)
    assert gateway.verify(token=card.token).last4 == "0119"
    for _ in range(2):
        with pytest.raises(PaymentError):
            gateway.charge(token=card.token, amount=Decimal("50"), currency="USD", key="c")
    assert _rows(fd, FakeGatewayCharge) == 0


def test_same_key_same_charge_one_ledger_row(fd: Fiberdesk, gateway: FakeGateway) -> None:
    card = _card(gateway)
    first = gateway.charge(token=card.token, amount=Decimal("10.00"), currency="USD", key="k1")
    again = gateway.charge(token=card.token, amount=Decimal("10"), currency="USD", key="k1")
    assert again == first
    assert _rows(fd, FakeGatewayCharge, FakeGatewayCharge.key == "k1") == 1
    other = gateway.charge(token=card.token, amount=Decimal("10.00"), currency="USD", key="k2")
    assert other.id != first.id
    assert [c.id for c in gateway.charges()] == [first.id, other.id]


def test_key_reuse_with_other_details_is_refused(fd: Fiberdesk, gateway: FakeGateway) -> None:
    card, other_card = _card(gateway), _card(gateway)
    gateway.charge(token=card.token, amount=Decimal("10.00"), currency="USD", key="k1")
    with pytest.raises(ValueError, match="another charge"):
        gateway.charge(token=card.token, amount=Decimal("10.01"), currency="USD", key="k1")
    with pytest.raises(ValueError, match="another charge"):
        gateway.charge(token=other_card.token, amount=Decimal("10.00"), currency="USD", key="k1")
    with pytest.raises(ValueError, match="another charge"):
        gateway.charge(token=card.token, amount=Decimal("10.00"), currency="CAD", key="k1")
    assert _rows(fd, FakeGatewayCharge) == 1


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("0"),
        Decimal("-5.00"),
        Decimal("1.001"),
        Decimal("NaN"),
        Decimal("Infinity"),
        10,
        1.5,
    ],
)
def test_amount_must_be_a_positive_decimal_of_cents(
    fd: Fiberdesk, gateway: FakeGateway, amount: Decimal
) -> None:
    card = _card(gateway)
    with pytest.raises(ValueError):
        gateway.charge(token=card.token, amount=amount, currency="USD", key="bad")
    assert _rows(fd, FakeGatewayCharge) == 0


def test_currency_and_key_are_checked(gateway: FakeGateway) -> None:
    card = _card(gateway)
    with pytest.raises(ValueError, match="currency"):
        gateway.charge(token=card.token, amount=Decimal("1"), currency="US", key="x")
    with pytest.raises(ValueError, match="key"):
        gateway.charge(token=card.token, amount=Decimal("1"), currency="USD", key="")


def _paid(gateway: FakeGateway, amount: str = "100.00", key: str = "inv") -> Charge:
    card = _card(gateway)
    return gateway.charge(token=card.token, amount=Decimal(amount), currency="USD", key=key)


def test_refunds_up_to_the_charge(fd: Fiberdesk, gateway: FakeGateway) -> None:
    charge = _paid(gateway)
    first = gateway.refund(charge_id=charge.id, amount=Decimal("30.00"), key="r1")
    assert first.startswith("re_")
    gateway.refund(charge_id=charge.id, amount=Decimal("60.00"), key="r2")
    assert gateway.refunded(charge_id=charge.id) == Decimal("90.00")
    with pytest.raises(PaymentDeclined) as caught:
        gateway.refund(charge_id=charge.id, amount=Decimal("10.01"), key="r3")
    assert caught.value.code == "amount_too_large" and "10.00" in caught.value.message
    gateway.refund(charge_id=charge.id, amount=Decimal("10.00"), key="r3")
    assert gateway.refunded(charge_id=charge.id) == charge.amount
    _declined(
        "amount_too_large",
        lambda: gateway.refund(charge_id=charge.id, amount=Decimal("0.01"), key="r4"),
    )
    assert _rows(fd, FakeGatewayRefund) == 3


def test_refund_is_idempotent_by_key(fd: Fiberdesk, gateway: FakeGateway) -> None:
    charge = _paid(gateway)
    refund = gateway.refund(charge_id=charge.id, amount=Decimal("100.00"), key="r1")
    assert gateway.refund(charge_id=charge.id, amount=Decimal("100"), key="r1") == refund
    assert _rows(fd, FakeGatewayRefund) == 1
    with pytest.raises(ValueError, match="another refund"):
        gateway.refund(charge_id=charge.id, amount=Decimal("50.00"), key="r1")


def test_refund_of_unknown_or_declined_charge(gateway: FakeGateway) -> None:
    _declined(
        "invalid_charge",
        lambda: gateway.refund(charge_id="ch_nope", amount=Decimal("1"), key="r"),
    )
    charge = _paid(gateway)
    with pytest.raises(ValueError):
        gateway.refund(charge_id=charge.id, amount=Decimal("0"), key="r")


def test_state_is_shared_between_instances(fd: Fiberdesk, gateway: FakeGateway) -> None:
    other = FakeGateway(fd.session_factory)
    card = _card(gateway)
    assert other.describe(token=card.token) == card
    charge = other.charge(token=card.token, amount=Decimal("20.00"), currency="USD", key="s1")
    assert gateway.charge(token=card.token, amount=Decimal("20.00"), currency="USD", key="s1") == (
        charge
    )
    other.refund(charge_id=charge.id, amount=Decimal("15.00"), key="sr1")
    _declined(
        "amount_too_large",
        lambda: gateway.refund(charge_id=charge.id, amount=Decimal("5.01"), key="sr2"),
    )


def test_concurrent_charges_with_one_key_charge_once(fd: Fiberdesk, gateway: FakeGateway) -> None:
    card = _card(gateway)

    def pay(_: int) -> Charge:
        return gateway.charge(token=card.token, amount=Decimal("42.00"), currency="USD", key="race")

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(pay, range(12)))
    assert len({c.id for c in results}) == 1
    assert _rows(fd, FakeGatewayCharge) == 1


def test_concurrent_refunds_never_pass_the_charge(fd: Fiberdesk, gateway: FakeGateway) -> None:
    charge = _paid(gateway, "50.00")

    def refund(i: int) -> str | None:
        try:
            return gateway.refund(charge_id=charge.id, amount=Decimal("10.00"), key=f"r{i}")
        except PaymentDeclined:
            return None

    with ThreadPoolExecutor(max_workers=6) as pool:
        done = [r for r in pool.map(refund, range(12)) if r is not None]
    assert len(done) == 5
    assert gateway.refunded(charge_id=charge.id) == Decimal("50.00")


def test_time_moves_only_with_the_clock(gateway: FakeGateway, clock: Clock) -> None:
    card = gateway.tokenize(GOOD, 7, 2025, "123")
    clock.now += timedelta(days=16)  # 1 July: still valid through July
    assert gateway.verify(token=card.token) == card
