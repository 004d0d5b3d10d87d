"""Disconnection: the final bill shown first, then account closure and equipment returns.

The final bill prorates service to the disconnect date (a credit for days already billed
and not used, or a charge for days used and not yet billed), adds any early-termination
fee from the contract, applies a held deposit, and shows what will be owed or refunded.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.network.base import NetworkAdapter, NetworkError
from fiberdesk.adapters.payments.base import PaymentDeclined, PaymentError, PaymentGateway
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import (
    BillingAccount,
    Contract,
    Equipment,
    EquipmentReturn,
    Invoice,
    LedgerEntry,
    Plan,
)
from fiberdesk.db.unit_of_work import UowFactory
from fiberdesk.domain.billing import (
    EntryKind,
    InvoiceStatus,
    Period,
    cycle_of,
    early_termination_fee,
    prorate,
)
from fiberdesk.domain.customers import SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus, EquipmentType
from fiberdesk.domain.errors import InvalidInput, NotFound, Refused
from fiberdesk.domain.money import round_cents
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, messages
from fiberdesk.services.billing import account_of, balance, post
from fiberdesk.services.diagnostics import ont_serial_of
from fiberdesk.services.lifecycle import release_ip, release_port
from fiberdesk.services.orders import get_customer

CHURN_REASONS = (
    "moving_out_of_area",
    "price",
    "service_quality",
    "competitor",
    "non_payment",
    "deceased",
    "business_closed",
    "other",
)


@dataclass(frozen=True, slots=True)
class ReturnSettings:
    days_to_return: int = 30
    ont_fee: Decimal = Decimal("150.00")
    router_fee: Decimal = Decimal("100.00")
    tax_rate: Decimal = Decimal("0.06")
    company_name: str = "fiberdesk"
    support_phone: str = ""


@dataclass(frozen=True, slots=True)
class FinalBill:
    customer_id: int
    disconnect_on: date
    lines: list[dict[str, str]]
    balance_before: Decimal
    final_amount: Decimal  # positive: the customer owes; negative: refund due
    equipment_to_return: list[str]
    return_by: date
    token: str = ""
    notes: list[str] = field(default_factory=list)


def _lines(
    session: Session,
    account: BillingAccount,
    customer_id: int,
    plan: Plan,
    on: date,
    settings: ReturnSettings,
) -> list[tuple[str, Decimal, bool]]:
    """(description, amount, taxable) of the final bill, before tax."""
    lines: list[tuple[str, Decimal, bool]] = []
    monthly = plan.monthly_price - account.term_discount
    billed_through = account.billed_through or on
    if billed_through > on:
        # billed in advance past the disconnect date: give back the unused days
        period = cycle_of(on, account.cycle_day)
        unused = (min(billed_through, period.end) - on).days
        if unused > 0:
            lines.append(
                (
                    f"Unused service {on:%b %d} to {period.end:%b %d}",
                    -prorate(monthly, unused, period),
                    True,
                )
            )
    elif billed_through < on:
        period = cycle_of(billed_through, account.cycle_day)
        used = (min(on, period.end) - billed_through).days
        if used > 0:
            lines.append(
                (
                    f"Service {billed_through:%b %d} to {on:%b %d}",
                    prorate(monthly, used, Period(period.start, period.end)),
                    True,
                )
            )
    contract = session.scalar(
        sa.select(Contract)
        .where(Contract.customer_id == customer_id)
        .order_by(Contract.id.desc())
        .limit(1)
    )
    if contract is not None:
        fee = early_termination_fee(
            contract.early_termination_fee,
            term_months=contract.months,
            ends_on=contract.ends_on,
            on=on,
        )
        if fee:
            lines.append(
                (
                    f"Early termination ({contract.term_code}, ends {contract.ends_on:%Y-%m-%d})",
                    fee,
                    False,
                )
            )
    if account.deposit_held:
        lines.append(("Security deposit returned", -account.deposit_held, False))
    return lines


def _token(secret: str, customer_id: int, on: date, amount: Decimal) -> str:
    msg = f"disconnect|{customer_id}|{on}|{amount}"
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()[:24]


def preview_disconnect(
    uows: UowFactory,
    *,
    actor: Actor,
    customer_id: int,
    on: date,
    settings: ReturnSettings,
    secret_key: str,
) -> FinalBill:
    """The final bill as it would be, and the equipment to come back; nothing changes."""
    actor.require(Permission.CUSTOMERS_WRITE)
    with uows(write=False) as uow:
        session = uow.session
        customer = get_customer(session, customer_id)
        if customer.status is ServiceStatus.DISCONNECTED:
            raise Refused(f"account {customer.account_number} is already closed")
        if customer.status not in (
            ServiceStatus.ACTIVE,
            ServiceStatus.SUSPENDED,
            ServiceStatus.RELOCATING,
        ):
            raise Refused(
                "a customer not yet installed is cancelled through their order, not disconnected"
            )
        if on < (customer.billing_start or on):
            raise InvalidInput("the disconnect date is before service started", field="on")
        account = account_of(session, customer_id)
        plan = session.get(Plan, customer.plan_id)
        assert plan is not None
        raw = _lines(session, account, customer_id, plan, on, settings)
        taxable = sum((amount for _, amount, taxed in raw if taxed), Decimal(0))
        tax = round_cents(taxable * settings.tax_rate)
        lines = [{"description": d, "amount": str(a)} for d, a, _ in raw if a]
        if tax:
            lines.append({"description": "Tax on service lines", "amount": str(tax)})
        before = balance(session, account.id)
        final = before + sum((a for _, a, _ in raw), Decimal(0)) + tax
        kit = [
            f"{e.type.value} {e.serial_number}"
            for e in session.scalars(
                sa.select(Equipment).where(
                    Equipment.customer_id == customer_id,
                    Equipment.status == EquipmentStatus.INSTALLED,
                )
            )
        ]
        notes = [f"balance before the final bill: {before}"]
        if final < 0:
            notes.append(f"a refund of {-final} is due to the customer")
        return FinalBill(
            customer_id,
            on,
            lines,
            before,
            final,
            kit,
            on + timedelta(days=settings.days_to_return),
            _token(secret_key, customer_id, on, final),
            notes,
        )


def disconnect(
    uows: UowFactory,
    *,
    actor: Actor,
    network: NetworkAdapter,
    gateway: PaymentGateway | None,
    customer_id: int,
    on: date,
    churn_reason: str,
    confirm: str,
    settings: ReturnSettings,
    secret_key: str,
) -> FinalBill:
    """Close the account as previewed: final invoice, port and IP released, ONT
    deprovisioned, equipment returns expected, DISCONNECTED with the churn reason."""
    if churn_reason not in CHURN_REASONS:
        raise InvalidInput(
            f"churn reason is one of {', '.join(CHURN_REASONS)}", field="churn_reason"
        )
    bill = preview_disconnect(
        uows, actor=actor, customer_id=customer_id, on=on, settings=settings, secret_key=secret_key
    )
    if not hmac.compare_digest(confirm, bill.token):
        raise InvalidInput(
            "the confirmation does not match the final bill shown; preview it again",
            field="confirm",
        )
    with uows(write=False) as uow:
        serial = ont_serial_of(uow.session, customer_id)
    with uows() as uow:
        _close(uow.session, bill, actor=actor, churn_reason=churn_reason, settings=settings)
        uow.commit()
    if serial is not None:
        # an ONT already gone from the OLT leaves nothing to remove
        with contextlib.suppress(NetworkError):
            network.deprovision(serial=serial)
    # the refund is billing's to make: for a role without billing:write (a CSR) the credit
    # stays on the closed account, in billing's queue, and the disconnection still stands
    if bill.final_amount < 0 and gateway is not None and actor.can(Permission.BILLING_WRITE):
        from fiberdesk.services.payments import refund_credit

        # a credit that cannot go back to a card is refunded by check (billing's queue)
        with contextlib.suppress(NotFound, PaymentDeclined, PaymentError):
            refund_credit(
                uows,
                actor=actor,
                customer_id=customer_id,
                gateway=gateway,
                key=f"final:{customer_id}",
            )
    return bill


def _close(
    session: Session, bill: FinalBill, *, actor: Actor, churn_reason: str, settings: ReturnSettings
) -> None:
    from fiberdesk.db.models import ServiceOrder

    customer = get_customer(session, bill.customer_id)
    account = account_of(session, bill.customer_id, for_update=True)
    on = bill.disconnect_on
    lines: list[dict[str, Any]] = []
    for n, line in enumerate(bill.lines):
        amount = Decimal(line["amount"])
        kind = EntryKind.CHARGE if amount > 0 else EntryKind.CREDIT
        post(
            session,
            account=account,
            kind=kind,
            amount=amount,
            description=line["description"],
            reference=f"final:{account.id}:{n}",
            actor=actor,
            on=on,
        )
        lines.append({"description": line["description"], "amount": line["amount"]})
    total = sum((Decimal(x["amount"]) for x in bill.lines), Decimal(0))
    invoice = Invoice(
        number=f"FIN-{on:%Y%m%d}-{account.id:07d}",
        account_id=account.id,
        period_start=on,
        period_end=on,
        issued_on=on,
        due_on=on + timedelta(days=15),
        subtotal=total,
        tax=Decimal("0.00"),
        total=total,
        status=InvoiceStatus.OPEN if bill.final_amount > 0 else InvoiceStatus.PAID,
        kind="FINAL",
        lines=lines,
    )
    session.add(invoice)
    session.flush()
    session.execute(
        sa.update(LedgerEntry)
        .where(
            LedgerEntry.account_id == account.id,
            LedgerEntry.invoice_id.is_(None),
            LedgerEntry.kind.in_([EntryKind.CHARGE, EntryKind.CREDIT]),
        )
        .values(invoice_id=invoice.id)
        .execution_options(synchronize_session=False)
    )
    account.deposit_held = Decimal("0.00")
    account.closed_at = utcnow()
    for unit in session.scalars(
        sa.select(Equipment).where(
            Equipment.customer_id == customer.id, Equipment.status == EquipmentStatus.INSTALLED
        )
    ):
        fee = settings.ont_fee if unit.type is EquipmentType.ONT else settings.router_fee
        session.add(
            EquipmentReturn(
                customer_id=customer.id, equipment_id=unit.id, expected_by=bill.return_by, fee=fee
            )
        )
    release_port(session, customer.id)
    addresses = release_ip(session, customer.id)
    before = audit.snapshot(customer)
    SERVICE_TRANSITIONS.check(customer.status, ServiceStatus.DISCONNECTED)
    customer.status = ServiceStatus.DISCONNECTED
    customer.disconnected_at = utcnow()
    customer.churn_reason = churn_reason
    now = utcnow()
    session.add(
        ServiceOrder(
            customer_id=customer.id,
            type=OrderType.DISCONNECT,
            status=OrderStatus.COMPLETED,
            plan_id=customer.plan_id,
            completed_date=now,
            details={
                "churn_reason": churn_reason,
                "final_invoice": invoice.number,
                "final_amount": str(bill.final_amount),
                "released_ips": addresses,
            },
            steps=[
                {
                    "at": now.isoformat(),
                    "step": "disconnect",
                    "outcome": "done",
                    "by": actor.name,
                    "via": actor.channel.value,
                    "detail": churn_reason,
                }
            ],
        )
    )
    messages.queue(
        session,
        kind="disconnection_confirmation",
        key=f"customer{customer.id}",
        customer=customer,
        context={
            "customer_name": customer.name,
            "account_number": customer.account_number,
            "disconnect_on": on.isoformat(),
            "final_bill_lines": bill.lines,
            "final_amount": str(bill.final_amount),
            "equipment_to_return": bill.equipment_to_return,
            "return_by": bill.return_by.isoformat(),
            "company_name": settings.company_name,
            "support_number": settings.support_phone,
        },
    )
    audit.record(
        session,
        actor=actor,
        action="customer.disconnect",
        entity_type="customer",
        entity_id=customer.id,
        before=before,
        after=audit.snapshot(customer),
    )


def receive_return(uows: UowFactory, *, actor: Actor, serial: str, on: date | None = None) -> int:
    """Equipment back from a former customer: the return closes, the unit is RETURNED."""
    actor.require(Permission.NETWORK_WRITE)
    on = on or utcnow().date()
    with uows() as uow:
        session = uow.session
        row = session.execute(
            sa.select(EquipmentReturn, Equipment)
            .join(Equipment, EquipmentReturn.equipment_id == Equipment.id)
            .where(
                Equipment.serial_number == serial.strip().upper(),
                EquipmentReturn.received_on.is_(None),
            )
        ).first()
        if row is None:
            raise InvalidInput(f"no return is expected for {serial}", field="serial")
        ret, unit = row
        ret.received_on = on
        unit.status = EquipmentStatus.RETURNED
        audit.record(
            session,
            actor=actor,
            action="equipment.returned",
            entity_type="customer_equipment",
            entity_id=unit.id,
            after={"serial": unit.serial_number, "on": on.isoformat()},
        )
        uow.commit()
        return ret.id


@dataclass
class ReturnsRun:
    reminders: int = 0
    fees: int = 0


def run_returns(
    uows: UowFactory, *, actor: Actor, on: date, settings: ReturnSettings
) -> ReturnsRun:
    """Remind a week before the return date; charge the fee once it has passed."""
    result = ReturnsRun()
    with uows() as uow:
        session = uow.session
        for ret in session.scalars(
            sa.select(EquipmentReturn).where(
                EquipmentReturn.received_on.is_(None), EquipmentReturn.fee_charged_on.is_(None)
            )
        ):
            customer = get_customer(session, ret.customer_id)
            unit = session.get(Equipment, ret.equipment_id)
            assert unit is not None
            if on > ret.expected_by:
                account = account_of(session, customer.id)
                post(
                    session,
                    account=account,
                    kind=EntryKind.CHARGE,
                    amount=ret.fee,
                    description=f"Unreturned {unit.type.value} {unit.serial_number}",
                    reference=f"nonreturn:{ret.id}",
                    actor=actor,
                    on=on,
                )
                ret.fee_charged_on = on
                result.fees += 1
            elif on >= ret.expected_by - timedelta(days=7) and ret.reminded_on is None:
                messages.queue(
                    session,
                    kind="equipment_return_reminder",
                    key=f"return{ret.id}",
                    customer=customer,
                    context={
                        "customer_name": customer.name,
                        "items": [f"{unit.type.value} {unit.serial_number}"],
                        "return_by": ret.expected_by.isoformat(),
                        "fee": str(ret.fee),
                        "company_name": settings.company_name,
                        "support_number": settings.support_phone,
                    },
                )
                ret.reminded_on = on
                result.reminders += 1
        uow.commit()
    return result
