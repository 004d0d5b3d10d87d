"""Property test on the real ledger: the balance is the exact sum of what was posted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import BillingAccount, Customer
from fiberdesk.domain.billing import EntryKind
from fiberdesk.domain.customers import ServiceStatus, account_number
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import billing

SIGN = {
    EntryKind.CHARGE: 1,
    EntryKind.ADJUSTMENT: 1,
    EntryKind.REFUND: 1,
    EntryKind.CREDIT: -1,
    EntryKind.PAYMENT: -1,
}
amounts = st.integers(min_value=1, max_value=10**8).map(lambda c: Decimal(c) / 100)
entries = st.lists(st.tuples(st.sampled_from(list(EntryKind)), amounts), max_size=40)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(posted=entries)
def test_balance_is_the_exact_sum(
    sqlite_fd: Fiberdesk, posted: list[tuple[EntryKind, Decimal]]
) -> None:
    with sqlite_fd.uow() as uow:
        s = uow.session
        customer = Customer(
            account_number="T" + str(id(posted))[-9:],
            name="Prop Test",
            service_address="x",
            status=ServiceStatus.ACTIVE,
        )
        s.add(customer)
        s.flush()
        customer.account_number = account_number(customer.id)
        account = BillingAccount(
            customer_id=customer.id, cycle_day=1, billed_through=date(2026, 1, 1)
        )
        s.add(account)
        s.flush()
        expected = Decimal("0.00")
        for n, (kind, amount) in enumerate(posted):
            value = SIGN[kind] * amount
            billing.post(
                s,
                account=account,
                kind=kind,
                amount=value,
                description="prop",
                reference=f"prop:{account.id}:{n}",
                actor=SYSTEM_ACTOR,
                on=date(2026, 1, 1),
            )
            expected += value
        uow.commit()
        account_id = account.id
    with sqlite_fd.uow(write=False) as uow:
        assert billing.balance(uow.session, account_id) == expected
