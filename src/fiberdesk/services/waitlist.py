"""The waitlist: demand at addresses fiberdesk cannot serve yet, and a report for planners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fiberdesk.db.models import Nap, Plan, Premises, WaitlistEntry
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.qualification import Decision, QualificationRules, Reason
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.contacts import normalise_email, normalise_phone
from fiberdesk.services.qualification import qualify_premises


@dataclass(frozen=True, slots=True)
class WaitlistView:
    id: int
    name: str
    address: str
    zip: str | None
    reason: Reason
    plan_code: str | None
    nap_code: str | None
    created_at: datetime


def join_waitlist(
    uow: UnitOfWork,
    *,
    actor: Actor,
    premises_id: int,
    name: str,
    rules: QualificationRules,
    email: str | None = None,
    phone: str | None = None,
    plan_code: str | None = None,
) -> WaitlistView:
    """Record someone's wish for fiber at a premises that cannot be served now; the reason
    (no coverage, NAP full, PON full, budget) is taken from a fresh qualification."""
    session = uow.session
    if not name.strip():
        raise InvalidInput("a name is required", field="name")
    if not email and not phone:
        raise InvalidInput("an email or a phone number is needed to tell them", field="email")
    email_n = normalise_email(email) if email else None
    phone_n = normalise_phone(phone) if phone else None
    if (
        plan_code is not None
        and session.scalar(sa.select(Plan.id).where(Plan.code == plan_code.upper())) is None
    ):
        raise InvalidInput(f"no plan {plan_code!r}", field="plan")
    q = qualify_premises(uow, actor=actor, premises_id=premises_id, rules=rules)
    if q.decision is not Decision.NOT_SERVICEABLE:
        raise InvalidInput(
            f"this address is {q.decision.label.lower() if q.decision else 'unknown'}: "
            "the waitlist is for addresses that cannot be served yet",
            field="premises_id",
        )
    premises = session.get(Premises, premises_id)
    if premises is None:
        raise NotFound(f"no premises {premises_id}")
    reason = q.reasons[0] if q.reasons else Reason.NO_COVERAGE
    nap_id = q.full_nap_id
    entry = WaitlistEntry(
        premises_id=premises_id,
        address_text=premises.label,
        zip=premises.zip,
        name=name.strip(),
        email=email_n,
        phone=phone_n,
        plan_code=plan_code.upper() if plan_code else None,
        reason=reason,
        nap_id=nap_id,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="waitlist.join",
        entity_type="waitlist_entry",
        entity_id=entry.id,
        after=audit.snapshot(entry),
    )
    nap_code = session.scalar(sa.select(Nap.code).where(Nap.id == nap_id)) if nap_id else None
    view = WaitlistView(
        entry.id,
        entry.name,
        entry.address_text,
        entry.zip,
        entry.reason,
        entry.plan_code,
        nap_code,
        entry.created_at,
    )
    uow.commit()
    return view


@dataclass(frozen=True, slots=True)
class DemandRow:
    key: str
    entries: int
    by_plan: dict[str, int]


@dataclass(frozen=True, slots=True)
class WaitlistReport:
    total: int
    by_reason: dict[str, int]
    by_zip: list[DemandRow]
    by_full_nap: list[DemandRow]


def waitlist_report(uow: UnitOfWork, *, actor: Actor) -> WaitlistReport:
    """Demand by ZIP and at full NAPs, largest first: where to build or add capacity."""
    actor.require(Permission.REPORTS_READ)
    session = uow.session
    by_reason = dict(
        session.execute(
            sa.select(WaitlistEntry.reason, sa.func.count()).group_by(WaitlistEntry.reason)
        ).all()
    )

    def grouped(
        key: sa.orm.InstrumentedAttribute[str] | sa.orm.InstrumentedAttribute[str | None],
        *where: sa.ColumnElement[bool],
    ) -> list[DemandRow]:
        rows = session.execute(
            sa.select(key, sa.func.coalesce(WaitlistEntry.plan_code, "ANY"), sa.func.count())
            .select_from(WaitlistEntry)
            .outerjoin(Nap, WaitlistEntry.nap_id == Nap.id)
            .where(*where)
            .group_by(key, WaitlistEntry.plan_code)
        ).all()
        table: dict[str, dict[str, int]] = {}
        for k, plan, count in rows:
            table.setdefault(k or "unknown", {})[plan] = count
        demand = [DemandRow(k, sum(v.values()), v) for k, v in table.items()]
        return sorted(demand, key=lambda d: (-d.entries, d.key))

    return WaitlistReport(
        total=sum(by_reason.values()),
        by_reason={Reason(r).value: c for r, c in by_reason.items()},
        by_zip=grouped(WaitlistEntry.zip),
        by_full_nap=grouped(Nap.code, WaitlistEntry.nap_id.is_not(None)),
    )
