"""Sign-up records for every demo customer: identity check, credit check and contract.

Identity was checked with a one-time code (no document, so no document hash to keep); the
credit check used the simulated bureau and passed, some with a deposit; the contract uses a
term from the seeded catalog at the plan's price less the term's discount. No payment
methods are made: their tokens belong to a payment gateway, and the demo has none to ask.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.models import Contract, ContractTermRow, CreditCheck, IdentityVerification, Plan
from fiberdesk.domain.signup import CreditPolicy, IdentityMethod
from fiberdesk.services.demo.context import DemoContext
from fiberdesk.services.demo.database import insert_all

#: the name the fake credit bureau reports itself by
BUREAU = "fakebureau"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has 28 days


def insert_signup_records(session: Session, ctx: DemoContext) -> int:
    """Writes the three records per customer; returns how many contracts."""
    policy = CreditPolicy()
    terms = {t.code: t for t in session.scalars(sa.select(ContractTermRow)).all() if t.active}
    prices = dict(session.execute(sa.select(Plan.code, Plan.monthly_price)).all())
    fallback = min(terms.values(), key=lambda t: (t.months, t.code)) if terms else None
    identities, checks, contracts = [], [], []
    for i, life in enumerate(ctx.lives):
        customer = ctx.customer_ids[i]
        at = life.created_at
        identities.append(
            {
                "customer_id": customer,
                "method": IdentityMethod(life.identity),
                "verified_by": "csr",
                "channel": "public" if life.channel == "web" else "console",
                "verified_at": at - timedelta(minutes=3),
            }
        )
        outcome, deposit = policy.decide(life.credit_score)
        checks.append(
            {
                "customer_id": customer,
                "bureau": BUREAU,
                "reference": f"DEMO-{life.account}",
                "score": life.credit_score,
                "outcome": outcome,
                "deposit": deposit,
                "checked_by": "csr",
                "checked_at": at - timedelta(minutes=2),
            }
        )
        term = terms.get(life.term, fallback)
        if term is None:
            continue
        price = max(Decimal("0.00"), prices[life.first_plan] - term.monthly_discount)
        starts = life.billing_start
        ends = _add_months(starts, term.months) if starts and term.months else None
        contracts.append(
            {
                "customer_id": customer,
                "term_code": term.code,
                "months": term.months,
                "terms_version": term.terms_version,
                "monthly_price": price,
                "early_termination_fee": term.early_termination_fee,
                "accepted_name": life.name,
                "accepted_at": at,
                "channel": life.channel,
                "starts_on": starts,
                "ends_on": ends,
            }
        )
    insert_all(session, IdentityVerification, identities)
    insert_all(session, CreditCheck, checks)
    insert_all(session, Contract, contracts)
    return len(contracts)
