"""Outage status by address, for the public page: is anything wrong with the service here?

An address is matched to one premises like the availability check does; the network path
of the service there (its NAP, splitter, PON port and OLT) is then looked up for open
outages and for planned maintenance now or in the coming days. Only what a member of the
public may read is returned: no customer, no element names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, Premises
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.customers import OCCUPYING_STATUSES
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.outages import OutageKind, OutageStatus
from fiberdesk.domain.qualification import MatchStatus
from fiberdesk.services.address_match import Candidate, MatchResult, as_candidate, match_address
from fiberdesk.services.diagnostics import maintenance_on_path, outages_on_path, path_of

#: what people are told about each kind of outage
KIND_TEXT = {
    OutageKind.FIBER: "a fault on the fiber network",
    OutageKind.POWER: "a power cut in the area",
}


@dataclass(frozen=True, slots=True)
class PublicOutage:
    kind: OutageKind
    status: OutageStatus
    what: str
    since: datetime
    confirmed: bool
    estimated_resolution: datetime | None
    area: str


@dataclass(frozen=True, slots=True)
class PublicMaintenance:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    ongoing: bool


@dataclass(frozen=True, slots=True)
class AddressStatus:
    """``premises`` is None when the address did not match one place (see ``match``);
    ``served`` is False when we have no service there, so nothing can affect it."""

    match: MatchResult | None
    premises: Candidate | None
    served: bool = False
    outages: list[PublicOutage] = field(default_factory=list)
    maintenance: list[PublicMaintenance] = field(default_factory=list)

    @property
    def all_clear(self) -> bool:
        return self.served and not self.outages and not self.maintenance


def outage_status(
    uow: UnitOfWork,
    *,
    address: str | None = None,
    premises_id: int | None = None,
    now: datetime | None = None,
    ahead: timedelta = timedelta(days=7),
) -> AddressStatus:
    """Open outages and planned maintenance (from now to ``ahead``) on the network path of
    the service at an address (free text) or a premises (by id)."""
    session = uow.session
    now = now or utcnow()
    match = None
    if premises_id is None:
        match = match_address(session, address or "")
        if match.status is not MatchStatus.MATCHED or match.best is None:
            return AddressStatus(match, None)
        premises_id = match.best.premises_id
    premises = session.get(Premises, premises_id)
    if premises is None:
        raise NotFound(f"no premises {premises_id}")
    candidate = match.best if match and match.best else as_candidate(premises, 1.0)
    nap_ids = sorted(
        {
            n
            for n in session.scalars(
                sa.select(Customer.nap_id).where(
                    Customer.premises_id == premises.id,
                    Customer.status.in_(OCCUPYING_STATUSES),
                    Customer.nap_id.is_not(None),
                )
            )
            if n is not None
        }
    )
    if not nap_ids:
        return AddressStatus(match, candidate)
    outages: dict[int, PublicOutage] = {}
    windows: dict[int, PublicMaintenance] = {}
    for nap_id in nap_ids:
        path = path_of(session, nap_id)
        for o in outages_on_path(session, path):
            outages[o.id] = PublicOutage(
                o.kind,
                o.status,
                KIND_TEXT.get(o.kind, o.kind.label.lower()),
                o.detected_at,
                o.status is OutageStatus.CONFIRMED,
                o.estimated_resolution,
                o.area,
            )
        for w in maintenance_on_path(session, path, now, ahead):
            windows[w.id] = PublicMaintenance(
                w.title, w.description, w.starts_at, w.ends_at, w.starts_at <= now
            )
    return AddressStatus(
        match,
        candidate,
        served=True,
        outages=sorted(outages.values(), key=lambda o: o.since),
        maintenance=sorted(windows.values(), key=lambda w: w.starts_at),
    )
