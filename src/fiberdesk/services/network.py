"""Reading the network inventory: NAPs with their port usage."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from fiberdesk.db.models import Nap, NapPort, Olt, PonPort, Splitter
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import NotFound
from fiberdesk.domain.network import NapPortStatus, PonTechnology
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services.pagination import Page, PageRequest


@dataclass(frozen=True, slots=True)
class PortView:
    number: int
    status: NapPortStatus
    customer_id: int | None


@dataclass(frozen=True, slots=True)
class NapView:
    id: int
    code: str
    lat: float
    lon: float
    port_count: int
    splitter_code: str
    pon_port: str
    technology: PonTechnology
    usage: dict[str, int]
    ports: list[PortView] = field(default_factory=list)

    @property
    def free_ports(self) -> int:
        return self.usage.get(NapPortStatus.FREE.value, 0)


def _usage_by_nap(uow: UnitOfWork, nap_ids: list[int]) -> dict[int, dict[str, int]]:
    usage: dict[int, dict[str, int]] = {i: {s.value: 0 for s in NapPortStatus} for i in nap_ids}
    if not nap_ids:
        return usage
    rows = uow.session.execute(
        sa.select(NapPort.nap_id, NapPort.status, sa.func.count())
        .where(NapPort.nap_id.in_(nap_ids))
        .group_by(NapPort.nap_id, NapPort.status)
    )
    for nap_id, status, count in rows:
        usage[nap_id][NapPortStatus(status).value] = count
    return usage


_NAP_QUERY = (
    sa.select(Nap, Splitter.code, Olt.name, PonPort.slot, PonPort.port, PonPort.technology)
    .join(Splitter, Nap.splitter_id == Splitter.id)
    .join(PonPort, Splitter.pon_port_id == PonPort.id)
    .join(Olt, PonPort.olt_id == Olt.id)
)


def list_naps(
    uow: UnitOfWork,
    *,
    actor: Actor,
    page: PageRequest,
    splitter_code: str | None = None,
    with_free_ports: bool | None = None,
) -> Page[NapView]:
    """NAPs by code, each with how many of its ports are free, reserved, in use, faulty."""
    actor.require(Permission.NETWORK_READ)
    query = _NAP_QUERY
    if splitter_code is not None:
        query = query.where(Splitter.code == splitter_code.upper())
    if with_free_ports is not None:
        has_free = sa.exists().where(NapPort.nap_id == Nap.id, NapPort.status == NapPortStatus.FREE)
        query = query.where(has_free if with_free_ports else ~has_free)
    total = uow.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = uow.session.execute(
        query.order_by(Nap.code).offset(page.offset).limit(page.per_page)
    ).all()
    usage = _usage_by_nap(uow, [row[0].id for row in rows])
    items = [
        NapView(
            id=nap.id,
            code=nap.code,
            lat=nap.lat,
            lon=nap.lon,
            port_count=nap.port_count,
            splitter_code=splitter,
            pon_port=f"{olt} {slot}/{port}",
            technology=technology,
            usage=usage[nap.id],
        )
        for nap, splitter, olt, slot, port, technology in (row for row in rows)
    ]
    return Page(items, total, page.page, page.per_page)


def get_nap(uow: UnitOfWork, *, actor: Actor, nap_id: int) -> NapView:
    actor.require(Permission.NETWORK_READ)
    row = uow.session.execute(_NAP_QUERY.where(Nap.id == nap_id)).first()
    if row is None:
        raise NotFound(f"no NAP {nap_id}")
    nap, splitter, olt, slot, port, technology = row
    ports = uow.session.scalars(
        sa.select(NapPort).where(NapPort.nap_id == nap_id).order_by(NapPort.number)
    ).all()
    return NapView(
        id=nap.id,
        code=nap.code,
        lat=nap.lat,
        lon=nap.lon,
        port_count=nap.port_count,
        splitter_code=splitter,
        pon_port=f"{olt} {slot}/{port}",
        technology=technology,
        usage=_usage_by_nap(uow, [nap.id])[nap.id],
        ports=[PortView(p.number, p.status, p.customer_id) for p in ports],
    )
