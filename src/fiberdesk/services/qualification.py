"""Service qualification: from an address or a premises to a decision, a NAP port and tiers."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, Nap, NapPort, Olt, Plan, PonPort, Premises, Splitter
from fiberdesk.db.models.customers import occupying
from fiberdesk.db.models.premises import address_label
from fiberdesk.db.statements import ByCount
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.catalog import TierSpec, tier_offers
from fiberdesk.domain.customers import OCCUPYING_STATUSES
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.network import (
    ONT_SENSITIVITY_DBM,
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
from fiberdesk.services import plant as plant_cache
from fiberdesk.services.address_match import (
    COLUMNS,
    Candidate,
    MatchResult,
    match_with_row,
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


def _held(now: datetime | sa.ColumnElement[datetime]) -> sa.ColumnElement[bool]:
    """A port that counts as taken: in use, or reserved by a hold that has not lapsed."""
    return sa.or_(
        NapPort.status == NapPortStatus.IN_USE,
        sa.and_(
            NapPort.status == NapPortStatus.RESERVED,
            sa.or_(NapPort.hold_expires_at.is_(None), NapPort.hold_expires_at > now),
        ),
    )


def free_port_condition(now: datetime | sa.ColumnElement[datetime]) -> sa.ColumnElement[bool]:
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
class _InReach:
    nap: plant_cache.NapPath
    drop_m: int


def _naps_in_reach(
    plant: plant_cache.Plant, lat: float, lon: float, max_drop_m: int
) -> list[_InReach]:
    """The NAPs in a box of ``max_drop_m`` of route around a point, nearest first."""
    reach_deg = max_drop_m / ROUTE_FACTOR / 111_000
    lon_deg = reach_deg / max(0.1, math.cos(math.radians(lat)))
    found = [
        _InReach(nap, route_length_m(lat, lon, nap.lat, nap.lon))
        for nap in plant.naps_in_box(lat - reach_deg, lat + reach_deg, lon - lon_deg, lon + lon_deg)
    ]
    found.sort(key=lambda n: (n.drop_m, n.nap.nap_id))
    return found


class _Statements:
    """The two statements a qualification runs, built once per process: SQLAlchemy finds
    their compiled form in its cache without building an expression each time."""

    def __init__(self) -> None:
        #: the premises and, if anyone has service there, the account number
        self.premises = sa.select(*COLUMNS).where(Premises.id == sa.bindparam("premises_id"))
        self._ports_and_sold = ByCount(self._build_ports_and_sold, prefix="n", type_=sa.Integer())

    def ports_and_sold(self, nap_ids: list[int], now: datetime) -> tuple[Any, dict[str, Any]]:
        """Per NAP: ``(0, nap, lowest free port, ports taken)``, and ``(1, nap, Mbps sold,
        0)`` if it has customers; with its parameters."""
        stmt, params = self._ports_and_sold.statement(nap_ids)
        params["now"] = now
        return stmt, params

    @staticmethod
    def _build_ports_and_sold(ids: list[sa.BindParameter[Any]]) -> Any:
        now = sa.bindparam("now", type_=NapPort.__table__.c.hold_expires_at.type)
        ports: Any = (
            sa.select(
                sa.literal_column("0"),
                NapPort.nap_id,
                sa.func.min(sa.case((free_port_condition(now), NapPort.number))),
                sa.func.sum(sa.case((_held(now), 1), else_=0)),
            )
            .where(NapPort.nap_id.in_(ids))
            .group_by(NapPort.nap_id)
        )
        sold: Any = (
            sa.select(
                sa.literal_column("1"),
                Customer.nap_id,
                sa.func.sum(Plan.download_mbps),
                sa.literal_column("0"),
            )
            .join(Plan, Customer.plan_id == Plan.id)
            .where(Customer.nap_id.in_(ids), occupying())
            .group_by(Customer.nap_id)
        )
        return sa.union_all(ports, sold)


_statements: _Statements | None = None
_statements_lock = threading.Lock()


def _stmts() -> _Statements:
    global _statements
    if _statements is None:
        with _statements_lock:
            if _statements is None:
                _statements = _Statements()
    return _statements


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


def _tiers(plant: plant_cache.Plant, pon: PonView, rules: QualificationRules) -> list[TierView]:
    plans = plant.active_plans
    offers = tier_offers(
        [p.spec for p in plans],
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


def qualify_premises(
    uow: UnitOfWork,
    *,
    actor: Actor,
    premises_id: int,
    rules: QualificationRules,
    candidate: Candidate | None = None,
    match: MatchResult | None = None,
    premises_row: Any = None,
    now: datetime | None = None,
) -> Qualification:
    """The serviceability decision for one premises, with the reasons a CSR reads out.

    Two statements (one when the address matcher hands over the row it read): the premises
    with any customer served there, then the state of the
    ports and the speeds sold under the PON ports in reach; the passive plant (NAPs, their
    optical path, PON ports, OLTs, plans) comes from this process's copy (``plant``).
    """
    session = uow.session
    now = now or utcnow()
    stmts = _stmts()
    conn = session.connection()
    premises = premises_row
    if premises is None or premises.id != premises_id:
        premises = conn.execute(stmts.premises, {"premises_id": premises_id}).first()
    if premises is None:
        raise NotFound(f"no premises {premises_id}")
    base = Qualification(
        None,
        [],
        match=match,
        premises=candidate
        or Candidate(
            premises_id=premises.id,
            source_id=premises.source_id,
            label=address_label(premises),
            confidence=1.0,
            nap_id=premises.nap_id,
            lat=premises.lat,
            lon=premises.lon,
        ),
        multi_dwelling=premises.multi_dwelling,
    )
    account = None if premises.multi_dwelling else premises.served_account
    if account is not None:
        return replace(
            base,
            decision=Decision.ALREADY_SERVED,
            messages=[f"Account {account} already has service at this address."],
            reasons=[Reason.EXISTING_CUSTOMER],
        )
    plant = plant_cache.get(session)
    naps = _naps_in_reach(plant, premises.lat, premises.lon, rules.max_drop_m)
    free: dict[int, int] = {}
    taken: dict[int, int] = {}
    sold: dict[int, int] = {}
    if naps:
        pon_ids = sorted({n.nap.pon_id for n in naps})
        under = [nap_id for pon_id in pon_ids for nap_id in plant.pons[pon_id].nap_ids]
        for kind, nap_id, a, b in conn.execute(*stmts.ports_and_sold(under, now)):
            if kind == 0:
                if a is not None:
                    free[nap_id] = a
                taken[nap_id] = b
            else:
                sold[nap_id] = a
    pon_used: dict[int, int] = {}
    options: list[NapOption] = []
    for n in naps:
        nap = n.nap
        used = pon_used.get(nap.pon_id)
        if used is None:
            used = pon_used[nap.pon_id] = sum(
                taken.get(i, 0) for i in plant.pons[nap.pon_id].nap_ids
            )
        path = OpticalPath(
            fiber_m=Decimal(nap.fiber_m + n.drop_m),
            splitter_ratios=(nap.ratio,),
            # the ONT's connector and the drop's splice come on top of the plant's
            connectors=nap.connectors + 1,
            splices=nap.splices + 1,
            olt_tx_dbm=nap.tx_dbm,
        )
        rx = path.predicted_rx_dbm()
        options.append(
            NapOption(
                nap.nap_id,
                nap.code,
                n.drop_m,
                free.get(nap.nap_id),
                used,
                plant.pons[nap.pon_id].max_split,
                rx,
                rx - ONT_SENSITIVITY_DBM,
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
    pon_info = plant.pons[plant.naps[option.nap_id].pon_id]
    pon = PonView(
        pon_info.id,
        pon_info.label,
        pon_info.technology,
        option.pon_used,
        option.pon_max_split,
        sum(sold.get(i, 0) for i in pon_info.nap_ids),
    )
    tiers = _tiers(plant, pon, rules)
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
    match, row = match_with_row(uow.session, address)
    if match.status is not MatchStatus.MATCHED or match.best is None:
        return Qualification(None, [match.message], match=match)
    return qualify_premises(
        uow,
        actor=actor,
        premises_id=match.best.premises_id,
        rules=rules,
        candidate=match.best,
        match=match,
        premises_row=row,
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
