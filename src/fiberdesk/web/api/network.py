"""/api/v1/network"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from fiberdesk.domain.network import NapPortStatus, PonTechnology
from fiberdesk.services import network
from fiberdesk.services.pagination import MAX_PAGE_SIZE, PageRequest
from fiberdesk.web.api.schemas import PROBLEM_RESPONSES, PageOut
from fiberdesk.web.deps import ApiActor, ReadUow

router = APIRouter(prefix="/api/v1/network", tags=["network"], responses=PROBLEM_RESPONSES)


class PortOut(BaseModel):
    number: int
    status: NapPortStatus
    customer_id: int | None


class NapOut(BaseModel):
    id: int
    code: str
    lat: float
    lon: float
    port_count: int
    splitter: str
    pon_port: str
    technology: PonTechnology
    usage: dict[str, int]
    ports: list[PortOut] | None = None


def _out(view: network.NapView, *, with_ports: bool) -> NapOut:
    return NapOut(
        id=view.id,
        code=view.code,
        lat=view.lat,
        lon=view.lon,
        port_count=view.port_count,
        splitter=view.splitter_code,
        pon_port=view.pon_port,
        technology=view.technology,
        usage=view.usage,
        ports=[
            PortOut(number=p.number, status=p.status, customer_id=p.customer_id) for p in view.ports
        ]
        if with_ports
        else None,
    )


@router.get("/naps", response_model=PageOut[NapOut], summary="List NAPs with port usage")
def list_naps(
    actor: ApiActor,
    uow: ReadUow,
    splitter: str | None = Query(None, max_length=32),
    with_free_ports: bool | None = None,
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
) -> PageOut[NapOut]:
    with uow:
        result = network.list_naps(
            uow,
            actor=actor,
            page=PageRequest(page, per_page),
            splitter_code=splitter,
            with_free_ports=with_free_ports,
        )
    return PageOut[NapOut](
        items=[_out(n, with_ports=False) for n in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
    )


@router.get("/naps/{nap_id}", response_model=NapOut, summary="Get one NAP with its ports")
def get_nap(nap_id: int, actor: ApiActor, uow: ReadUow) -> NapOut:
    with uow:
        return _out(network.get_nap(uow, actor=actor, nap_id=nap_id), with_ports=True)
