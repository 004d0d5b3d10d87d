"""Service qualification: from an address or a premises to a decision, a NAP port and tiers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, Nap, NapPort, Olt, Plan, PonPort, Premises, Splitter
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.catalog import TierSpec, tier_offers
from fiberdesk.domain.customers import OCCUPYING_STATUSES
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.network import (
    ROUTE_FACTOR,
    NapPortStatus,
    OpticalPath,
    PonTechnology,
    SignalClass,
    route_length_m,
    signal_class,
)
from fiberdesk.domain.qualification import (
    Decision,
    MatchStatus,
    NapOption,
    QualificationRules,
    Reason,
    decide,
)
from fiberdesk.domain.users import Actor
from fiberdesk.services.address_match import (
    Candidate,
    MatchResult,
    as_candidate,
    match_address,
)


@dataclass(frozen=True, slots=True)
class TierView:
    code: str
    name: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Decimal
    install_fee: Decimal
    currency: str
    use_case: str
    offered: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class PonView:
    id: int
    label: str
    technology: PonTechnology
    used_ports: int
    max_split: int
    sold_peak_mbps: int


@dataclass(frozen=True, slots=True)
class Qualification:
    """The answer to "is fiber available here?"; ``decision`` is None when the address
    did not match one premises (see ``match`` for the candidates)."""

    decision: Decision | None
    messages: list[str]
    reasons: list[Reason] = field(default_factory=list)
    match: MatchResult | None = None
    premises: Candidate | None = None
    multi_dwelling: bool = False
    nap_id: int | None = None
    nap_code: str | None = None
    port: int | None = None
    drop_m: int | None = None
    predicted_rx_dbm: Decimal | None = None
    signal: SignalClass | None = None
    margin_db: Decimal | None = None
    pon: PonView | None = None
    tiers: list[TierView] = field(default_factory=list)
    survey_requirements: list[str] = field(default_factory=list)
    #: the nearest NAP that was full, when that is why the answer is no
    full_nap_id: int | None = None

    @property
    def waitlist_offered(self) -> bool:
        return self.decision is Decision.NOT_SERVICEABLE

    @property
    def can_quote(self) -> bool:
        return self.decision in (Decision.SERVICEABLE, Decision.SITE_SURVEY)


def _held(now: datetime) -> sa.ColumnElement[bool]:
    """A port that counts as taken: in use, or reserved by a hold that has not lapsed."""
    return sa.or_(
        NapPort.status == NapPortStatus.IN_USE,
        sa.and_(
            NapPort.status == NapPortStatus.RESERVED,
            sa.or_(NapPort.hold_expires_at.is_(None), NapPort.hold_expires_at > now),
        ),
    )


def free_port_condition(now: datetime) -> sa.ColumnElement[bool]:
    """A port that can be given out: free, or reserved by a hold that has lapsed."""
    return sa.or_(
        NapPort.status == NapPortStatus.FREE,
        sa.and_(
            NapPort.status == NapPortStatus.RESERVED,
            NapPort.customer_id.is_(None),
            NapPort.hold_expires_at.is_not(None),
            NapPort.hold_expires_at <= now,
        ),
    )


@dataclass(frozen=True, slots=True)
class _NapRow:
    nap_id: int
    code: str
    drop_m: int
    pon_id: int
    fiber_m: int
    ratio: int
    connectors: int
    splices: int
    tx: Decimal


def _naps_in_reach(session: Session, premises: Premises, max_drop_m: int) -> list[_NapRow]:
    reach_deg = max_drop_m / ROUTE_FACTOR / 111_000
    lon_deg = reach_deg / max(0.1, math.cos(math.radians(premises.lat)))
    rows = session.execute(
        sa.select(
            Nap.id,
            Nap.code,
            Nap.lat,
            Nap.lon,
            Nap.distribution_m,
            Nap.connectors,
            Nap.splices,
            Splitter.ratio,
            Splitter.feeder_m,
            Splitter.connectors,
            Splitter.splices,
            PonPort.id,
            Olt.tx_power_dbm,
        )
        .join(Splitter, Nap.splitter_id == Splitter.id)
        .join(PonPort, Splitter.pon_port_id == PonPort.id)
        .join(Olt, PonPort.olt_id == Olt.id)
        .where(
            Nap.lat.between(premises.lat - reach_deg, premises.lat + reach_deg),
            Nap.lon.between(premises.lon - lon_deg, premises.lon + lon_deg),
        )
    ).all()
    naps = []
    for (
        nap_id,
        code,
        lat,
        lon,
        dist_m,
        n_conn,
        n_spl,
        ratio,
        feeder_m,
        s_conn,
        s_spl,
        pon_id,
        tx,
    ) in rows:
        drop = route_length_m(premises.lat, premises.lon, lat, lon)
        naps.append(
            _NapRow(
                nap_id,
                code,
                drop,
                pon_id,
                feeder_m + dist_m + drop,
                ratio,
                # the ONT's connector and the drop's splice come on top of the plant's
                s_conn + n_conn + 1,
                s_spl + n_spl + 1,
                Decimal(tx),
            )
        )
    naps.sort(key=lambda n: (n.drop_m, n.nap_id))
    return naps


def _free_ports(session: Session, nap_ids: list[int], now: datetime) -> dict[int, int]:
    if not nap_ids:
        return {}
    rows = session.execute(
        sa.select(NapPort.nap_id, sa.func.min(NapPort.number))
        .where(NapPort.nap_id.in_(nap_ids), free_port_condition(now))
        .group_by(NapPort.nap_id)
    ).all()
    return dict(rows)


def pon_usage(session: Session, pon_ids: list[int], now: datetime) -> dict[int, int]:
    """Ports taken (in use or held) under each PON port."""
    if not pon_ids:
        return {}
    rows = session.execute(
        sa.select(Splitter.pon_port_id, sa.func.count(NapPort.id))
        .join(Nap, NapPort.nap_id == Nap.id)
        .join(Splitter, Nap.splitter_id == Splitter.id)
        .where(Splitter.pon_port_id.in_(pon_ids), _held(now))
        .group_by(Splitter.pon_port_id)
    ).all()
    usage = dict.fromkeys(pon_ids, 0)
    usage.update(dict(rows))
    return usage


def sold_peak_mbps(session: Session, pon_id: int) -> int:
    """The sum of the downstream speeds sold on a PON port."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Plan.download_mbps), 0))
        .select_from(Customer)
        .join(Plan, Customer.plan_id == Plan.id)
        .join(Nap, Customer.nap_id == Nap.id)
        .join(Splitter, Nap.splitter_id == Splitter.id)
        .where(Splitter.pon_port_id == pon_id, Customer.status.in_(OCCUPYING_STATUSES))
    )
    return int(total or 0)


def tier_spec(plan: Plan) -> TierSpec:
    return TierSpec(
        plan.code,
        plan.name,
        plan.download_mbps,
        plan.upload_mbps,
        plan.monthly_price,
        plan.use_case,
        frozenset(PonTechnology(t) for t in plan.technologies.split(",") if t),
        plan.static_ip,
    )


def _tiers(session: Session, pon: PonView, rules: QualificationRules) -> list[TierView]:
    plans = session.scalars(
        sa.select(Plan).where(Plan.active.is_(True)).order_by(Plan.sort_order, Plan.id)
    ).all()
    offers = tier_offers(
        [tier_spec(p) for p in plans],
        technology=pon.technology,
        sold_peak_mbps=pon.sold_peak_mbps,
        oversubscription_limit=rules.oversubscription_limit,
    )
    return [
        TierView(
            p.code,
            p.name,
            p.download_mbps,
            p.upload_mbps,
            p.monthly_price,
            p.install_fee,
            p.currency,
            p.use_case,
            o.offered,
            o.reason,
        )
        for p, o in zip(plans, offers, strict=True)
    ]


def _existing_customer(session: Session, premises_id: int) -> str | None:
    return session.scalar(
        sa.select(Customer.account_number)
        .where(Customer.premises_id == premises_id, Customer.status.in_(OCCUPYING_STATUSES))
        .limit(1)
    )


def qualify_premises(
    uow: UnitOfWork,
    *,
    actor: Actor,
    premises_id: int,
    rules: QualificationRules,
    candidate: Candidate | None = None,
    match: MatchResult | None = None,
    now: datetime | None = None,
) -> Qualification:
    """The serviceability decision for one premises, with the reasons a CSR reads out."""
    session = uow.session
    now = now or utcnow()
    premises = session.get(Premises, premises_id)
    if premises is None:
        raise NotFound(f"no premises {premises_id}")
    base = Qualification(
        None,
        [],
        match=match,
        premises=candidate or as_candidate(premises, 1.0),
        multi_dwelling=premises.multi_dwelling,
    )
    account = None if premises.multi_dwelling else _existing_customer(session, premises.id)
    if account is not None:
        return replace(
            base,
            decision=Decision.ALREADY_SERVED,
            messages=[f"Account {account} already has service at this address."],
            reasons=[Reason.EXISTING_CUSTOMER],
        )
    naps = _naps_in_reach(session, premises, rules.max_drop_m)
    free = _free_ports(session, [n.nap_id for n in naps], now)
    pons = pon_usage(session, sorted({n.pon_id for n in naps}), now)
    max_split = dict(
        session.execute(
            sa.select(PonPort.id, PonPort.max_split).where(PonPort.id.in_(list(pons)))
        ).all()
    )
    options: list[NapOption] = []
    for n in naps:
        path = OpticalPath(
            fiber_m=Decimal(n.fiber_m),
            splitter_ratios=(n.ratio,),
            connectors=n.connectors,
            splices=n.splices,
            olt_tx_dbm=n.tx,
        )
        options.append(
            NapOption(
                n.nap_id,
                n.code,
                n.drop_m,
                free.get(n.nap_id),
                pons[n.pon_id],
                max_split[n.pon_id],
                path.predicted_rx_dbm(),
                path.margin_db(),
            )
        )
    verdict = decide(options, multi_dwelling=premises.multi_dwelling, rules=rules)
    if verdict.option is None:
        return replace(
            base,
            decision=verdict.decision,
            messages=list(verdict.messages),
            reasons=list(verdict.reasons),
            full_nap_id=verdict.blocked.nap_id if verdict.blocked else None,
        )
    option = verdict.option
    pon_id = next(n.pon_id for n in naps if n.nap_id == option.nap_id)
    pon_row = session.execute(
        sa.select(PonPort.technology, PonPort.slot, PonPort.port, Olt.name)
        .join(Olt, PonPort.olt_id == Olt.id)
        .where(PonPort.id == pon_id)
    ).one()
    pon = PonView(
        pon_id,
        f"{pon_row[3]} {pon_row[1]}/{pon_row[2]}",
        PonTechnology(pon_row[0]),
        option.pon_used,
        option.pon_max_split,
        sold_peak_mbps(session, pon_id),
    )
    tiers = _tiers(session, pon, rules)
    reasons = list(verdict.reasons)
    messages = list(verdict.messages)
    limited = [t for t in tiers if not t.offered]
    if limited:
        reasons.append(Reason.TIERS_LIMITED)
        messages.append(
            "Not on offer here: " + "; ".join(f"{t.name} ({t.reason})" for t in limited) + "."
        )
    return replace(
        base,
        decision=verdict.decision,
        messages=messages,
        reasons=reasons,
        nap_id=option.nap_id,
        nap_code=option.nap_code,
        port=option.free_port,
        drop_m=option.drop_m,
        predicted_rx_dbm=option.predicted_rx_dbm,
        signal=signal_class(option.predicted_rx_dbm),
        margin_db=option.margin_db,
        pon=pon,
        tiers=tiers,
        survey_requirements=list(verdict.survey_requirements),
    )


def qualify_address(
    uow: UnitOfWork,
    *,
    actor: Actor,
    address: str,
    rules: QualificationRules,
    now: datetime | None = None,
) -> Qualification:
    """Match free text to one premises and qualify it; without a clear match, the
    candidates come back and no decision is made."""
    match = match_address(uow.session, address)
    if match.status is not MatchStatus.MATCHED or match.best is None:
        return Qualification(None, [match.message], match=match)
    return qualify_premises(
        uow,
        actor=actor,
        premises_id=match.best.premises_id,
        rules=rules,
        candidate=match.best,
        match=match,
        now=now,
    )


def _candidate_payload(c: Candidate) -> dict[str, object]:
    return {
        "premises_id": c.premises_id,
        "source_id": c.source_id,
        "label": c.label,
        "confidence": c.confidence,
        "distance_m": c.distance_m,
    }


def qualification_payload(q: Qualification, *, query: str | None = None) -> dict[str, object]:
    """The JSON shape of a qualification, shared by the API, the CLI and the agent tools."""
    match = q.match
    return {
        "query": query,
        "decision": q.decision.value if q.decision else None,
        "decision_label": q.decision.label if q.decision else None,
        "messages": q.messages,
        "reasons": [r.value for r in q.reasons],
        "match_status": match.status.value if match else "MATCHED",
        "premises": _candidate_payload(q.premises) if q.premises else None,
        "confidence": q.premises.confidence if q.premises else None,
        "multi_dwelling": q.multi_dwelling,
        "candidates": [_candidate_payload(c) for c in match.candidates] if match else [],
        "parsed": (
            {k: getattr(match.parsed, k) for k in match.parsed.__dataclass_fields__}
            if match and match.parsed
            else None
        ),
        "nap": {"id": q.nap_id, "code": q.nap_code, "drop_m": q.drop_m} if q.nap_id else None,
        "port": q.port,
        "predicted_rx_dbm": str(q.predicted_rx_dbm) if q.predicted_rx_dbm is not None else None,
        "signal_class": q.signal.value if q.signal else None,
        "margin_db": str(q.margin_db) if q.margin_db is not None else None,
        "pon": None
        if q.pon is None
        else {
            "label": q.pon.label,
            "technology": q.pon.technology.value,
            "used_ports": q.pon.used_ports,
            "max_split": q.pon.max_split,
            "sold_peak_mbps": q.pon.sold_peak_mbps,
        },
        "tiers": [
            {
                "code": t.code,
                "name": t.name,
                "download_mbps": t.download_mbps,
                "upload_mbps": t.upload_mbps,
                "monthly_price": str(t.monthly_price),
                "install_fee": str(t.install_fee),
                "currency": t.currency,
                "use_case": t.use_case,
                "offered": t.offered,
                "reason": t.reason,
            }
            for t in q.tiers
        ],
        "survey_requirements": q.survey_requirements,
        "waitlist_offered": q.waitlist_offered,
    }


def expected_rx_dbm(session: Session, *, nap_id: int, premises: Premises) -> Decimal:
    """The optical budget's predicted Rx for a premises served from a given NAP."""
    row = session.execute(
        sa.select(
            Nap.lat,
            Nap.lon,
            Nap.distribution_m,
            Nap.connectors,
            Nap.splices,
            Splitter.ratio,
            Splitter.feeder_m,
            Splitter.connectors,
            Splitter.splices,
            Olt.tx_power_dbm,
        )
        .join(Splitter, Nap.splitter_id == Splitter.id)
        .join(PonPort, Splitter.pon_port_id == PonPort.id)
        .join(Olt, PonPort.olt_id == Olt.id)
        .where(Nap.id == nap_id)
    ).one()
    lat, lon, dist_m, n_conn, n_spl, ratio, feeder_m, s_conn, s_spl, tx = row
    drop = route_length_m(premises.lat, premises.lon, lat, lon)
    return OpticalPath(
        fiber_m=Decimal(feeder_m + dist_m + drop),
        splitter_ratios=(ratio,),
        connectors=s_conn + n_conn + 1,
        splices=s_spl + n_spl + 1,
        olt_tx_dbm=Decimal(tx),
    ).predicted_rx_dbm()
