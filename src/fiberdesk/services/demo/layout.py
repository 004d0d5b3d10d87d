"""Planning the demo's outside plant from the premises: COs, OLTs, PON ports, LCPs, NAPs.

The county is cut into fine cells (175 m) and coarse cells (700 m, four by four fine cells):

- a coarse cell is built when its premises lie within the GPON reach of the nearest central
  office (20 km of route) and it is not one of the "phase 3" blocks left unbuilt on purpose;
  the rural north and the south-west of the county are beyond reach, so stay dark;
- every fine cell with at least two premises gets NAPs at the centroids of its premises,
  one NAP per up to sixteen homes: 16 ports, or 8 where it passes six homes or fewer;
- the NAPs of a coarse cell are packed, in order, into LCP splitters of 1:32 (GPON) or 1:64
  (XGS-PON where the cell has enough businesses; and on a legacy OLT, the "extended reach"
  1:64 GPON build of the few farthest cells, whose optical budget does not close);
- each splitter hangs off its own PON port, so a port's split never exceeds its maximum;
  OLT cards come whole (16 GPON or 8 XGS-PON ports), the unused ports are spare.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from fiberdesk.domain.network import PonTechnology, route_length_m
from fiberdesk.services.demo import geo
from fiberdesk.services.demo.addresses import Site

FINE_M = 200
FINE_PER_COARSE = 4
#: GPON class B+ logical reach: feeders longer than this are not built
REACH_M = 22_000
#: share of the coarse cells in reach that seed a 2x2 block left for a later build phase
POCKET_SHARE = 0.01
MIN_SITES_PER_NAP = 2
HOMES_PER_NAP = 24
SMALL_NAP_HOMES = 10
#: a coarse cell with this many business premises near its CO gets XGS-PON
XGS_MIN_BUSINESSES = 8
XGS_MAX_FEEDER_M = 12_000
#: the farthest share of GPON coarse cells (beyond EXT_MIN_FEEDER_M) built 1:64 on a legacy OLT
EXT_SHARE = 0.015
EXT_MIN_FEEDER_M = 12_000
MIN_PON_PORTS = 64


@dataclass(frozen=True, slots=True)
class CentralOfficeSpec:
    code: str
    name: str
    lat: float
    lon: float


#: three real towns of the county, placed at their centres
CENTRAL_OFFICES = (
    CentralOfficeSpec("TWSN", "Towson Central Office", 39.401500, -76.601900),
    CentralOfficeSpec("OWML", "Owings Mills Central Office", 39.419500, -76.780300),
    CentralOfficeSpec("ESSX", "Essex Central Office", 39.309300, -76.474700),
)


@dataclass(frozen=True, slots=True)
class OltModel:
    """An (invented) OLT chassis and the LCP split used behind it."""

    kind: str
    vendor: str
    model: str
    technology: PonTechnology
    slots: int
    ports_per_card: int
    split: int
    tx_choices: tuple[str, ...]


GPON_OLT = OltModel(
    "gpon",
    "Lumenar Networks",
    "LX-7216",
    PonTechnology.GPON,
    16,
    16,
    32,
    ("2.80", "3.00", "3.20", "3.50", "3.80", "4.00"),
)
XGS_OLT = OltModel(
    "xgs",
    "Corvane Optical",
    "CV-9800X",
    PonTechnology.XGS_PON,
    16,
    8,
    64,
    ("4.50", "4.80", "5.00"),
)
EXT_OLT = OltModel(
    "ext", "Tidewater Photonics", "TP-4100", PonTechnology.GPON, 8, 16, 64, ("1.50", "1.80")
)
OLT_MODELS = (GPON_OLT, XGS_OLT, EXT_OLT)


@dataclass(slots=True)
class OltPlan:
    co: int
    name: str
    model: OltModel
    tx_dbm: Decimal


@dataclass(slots=True)
class PonPlan:
    olt: int
    slot: int
    port: int
    technology: PonTechnology
    max_split: int


@dataclass(slots=True)
class SplitterPlan:
    co: int
    model: OltModel
    code: str = ""
    pon: int = -1
    ratio: int = 32
    lat: float = 0.0
    lon: float = 0.0
    feeder_m: int = 0
    connectors: int = 2
    splices: int = 4
    naps: list[int] = field(default_factory=list)


@dataclass(slots=True)
class NapPlan:
    splitter: int
    code: str
    lat: float
    lon: float
    x: float
    y: float
    port_count: int
    zip: str
    distribution_m: int = 0
    connectors: int = 2
    splices: int = 2


@dataclass(slots=True)
class NetworkPlan:
    cos: tuple[CentralOfficeSpec, ...]
    olts: list[OltPlan]
    pons: list[PonPlan]
    splitters: list[SplitterPlan]
    naps: list[NapPlan]
    #: premises left dark on purpose: beyond reach, and in unbuilt phase-3 blocks
    beyond_reach: int = 0
    unbuilt_phase: int = 0


def _nearest_co(lat: float, lon: float) -> tuple[int, int]:
    lengths = [route_length_m(co.lat, co.lon, lat, lon) for co in CENTRAL_OFFICES]
    best = min(range(len(lengths)), key=lambda i: (lengths[i], i))
    return best, lengths[best]


def _chunks(indices: list[int], parts: int) -> list[list[int]]:
    size, extra = divmod(len(indices), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(indices[start:end])
        start = end
    return out


def _main_zip(sites: list[Site], members: list[int]) -> str:
    counts = Counter(sites[i].zip for i in members)
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def plan_network(sites: list[Site], rng: random.Random) -> NetworkPlan:
    fine: dict[geo.Cell, list[int]] = {}
    for i, site in enumerate(sites):
        fine.setdefault(geo.cell_of(site.x, site.y, FINE_M), []).append(i)
    coarse: dict[geo.Cell, list[geo.Cell]] = {}
    for cell in sorted(fine, key=geo.snake_key):
        key = (cell[0] // FINE_PER_COARSE, cell[1] // FINE_PER_COARSE)
        coarse.setdefault(key, []).append(cell)
    order = sorted(coarse, key=geo.snake_key)

    home: dict[geo.Cell, tuple[int, int]] = {}
    for key in order:
        members = [i for cell in coarse[key] for i in fine[cell]]
        lat, lon = geo.centroid((sites[i].lat, sites[i].lon) for i in members)
        home[key] = _nearest_co(lat, lon)
    in_reach = [k for k in order if home[k][1] <= REACH_M]
    pockets: set[geo.Cell] = set()
    for row, col in rng.sample(in_reach, max(1, round(len(in_reach) * POCKET_SHARE))):
        pockets.update({(row, col), (row + 1, col), (row, col + 1), (row + 1, col + 1)})

    plan = NetworkPlan(CENTRAL_OFFICES, [], [], [], [])
    built: list[tuple[geo.Cell, OltModel]] = []
    for key in order:
        count = sum(len(fine[c]) for c in coarse[key])
        if home[key][1] > REACH_M:
            plan.beyond_reach += count
        elif key in pockets:
            plan.unbuilt_phase += count
        else:
            businesses = sum(sites[i].business for c in coarse[key] for i in fine[c])
            xgs = businesses >= XGS_MIN_BUSINESSES and home[key][1] <= XGS_MAX_FEEDER_M
            built.append((key, XGS_OLT if xgs else GPON_OLT))
    far = sorted(
        (k for k, m in built if m is GPON_OLT and home[k][1] >= EXT_MIN_FEEDER_M),
        key=lambda k: (-home[k][1], geo.snake_key(k)),
    )
    extended = set(far[: math.ceil(len(built) * EXT_SHARE)]) if far else set()

    for key, model in built:
        model = EXT_OLT if key in extended else model
        _plan_cell(plan, sites, fine, coarse[key], home[key][0], model)
    _name_and_measure(plan)
    _allocate_ports(plan, rng)
    return plan


def _plan_cell(
    plan: NetworkPlan,
    sites: list[Site],
    fine: dict[geo.Cell, list[int]],
    cells: list[geo.Cell],
    co: int,
    model: OltModel,
) -> None:
    """NAPs for the fine cells of one coarse cell, packed into splitters of ``model``."""
    splitter: SplitterPlan | None = None
    used = 0
    for cell in cells:
        members = fine[cell]
        if len(members) < MIN_SITES_PER_NAP:
            continue
        axis_x = (cell[0] + cell[1]) % 2 == 0
        ordered = sorted(members, key=lambda i: (sites[i].x if axis_x else sites[i].y, i))
        for chunk in _chunks(ordered, math.ceil(len(ordered) / HOMES_PER_NAP)):
            ports = 8 if len(chunk) <= SMALL_NAP_HOMES else 16
            if splitter is None or used + ports > model.split:
                splitter = SplitterPlan(co=co, model=model, ratio=model.split)
                plan.splitters.append(splitter)
                used = 0
            lat, lon = geo.centroid((sites[i].lat, sites[i].lon) for i in chunk)
            x, y = geo.xy(lat, lon)
            splitter.naps.append(len(plan.naps))
            plan.naps.append(
                NapPlan(
                    splitter=len(plan.splitters) - 1,
                    code="",
                    lat=lat,
                    lon=lon,
                    x=x,
                    y=y,
                    port_count=ports,
                    zip=_main_zip(sites, chunk),
                )
            )
            used += ports


def _name_and_measure(plan: NetworkPlan) -> None:
    per_zip: Counter[str] = Counter()
    for nap in plan.naps:
        per_zip[nap.zip] += 1
        nap.code = f"NAP-{nap.zip}-{per_zip[nap.zip]:04d}"
    for splitter in plan.splitters:
        co = plan.cos[splitter.co]
        splitter.lat, splitter.lon = geo.centroid(
            (plan.naps[n].lat, plan.naps[n].lon) for n in splitter.naps
        )
        splitter.feeder_m = route_length_m(co.lat, co.lon, splitter.lat, splitter.lon)
        # a splice closure at each end and one per 2.5 km cable reel in between
        splitter.splices = 2 + splitter.feeder_m // 2500
        for n in splitter.naps:
            nap = plan.naps[n]
            nap.distribution_m = max(
                15, route_length_m(splitter.lat, splitter.lon, nap.lat, nap.lon)
            )


def _allocate_ports(plan: NetworkPlan, rng: random.Random) -> None:
    """OLTs per CO and kind with whole cards, one splitter per PON port; codes per CO."""
    groups: dict[tuple[int, str], list[SplitterPlan]] = {}
    for co_index in range(len(plan.cos)):
        for model in OLT_MODELS:
            groups[co_index, model.kind] = [
                s for s in plan.splitters if s.co == co_index and s.model is model
            ]
    cards = {
        key: math.ceil(len(group) / _model(key[1]).ports_per_card) for key, group in groups.items()
    }
    for co_index in range(len(plan.cos)):
        # every CO has its GPON OLT in place, even before its area is built
        cards[co_index, GPON_OLT.kind] = max(1, cards[co_index, GPON_OLT.kind])
    total = sum(n * _model(key[1]).ports_per_card for key, n in cards.items())
    if total < MIN_PON_PORTS:
        # spare cards in the first CO's GPON OLT make up the minimum port count
        cards[0, GPON_OLT.kind] += math.ceil((MIN_PON_PORTS - total) / GPON_OLT.ports_per_card)
    for co_index, co in enumerate(plan.cos):
        olt_number = lcp_number = 0
        for model in OLT_MODELS:
            ports: list[int] = []
            for card in range(cards[co_index, model.kind]):
                if card % model.slots == 0:
                    olt_number += 1
                    plan.olts.append(
                        OltPlan(
                            co=co_index,
                            name=f"{co.code}-OLT{olt_number:02d}",
                            model=model,
                            tx_dbm=Decimal(rng.choice(model.tx_choices)),
                        )
                    )
                for number in range(1, model.ports_per_card + 1):
                    ports.append(len(plan.pons))
                    plan.pons.append(
                        PonPlan(
                            olt=len(plan.olts) - 1,
                            slot=card % model.slots + 1,
                            port=number,
                            technology=model.technology,
                            max_split=model.technology.max_split,
                        )
                    )
            for splitter, pon in zip(groups[co_index, model.kind], ports, strict=False):
                lcp_number += 1
                splitter.pon = pon
                splitter.code = f"LCP-{co.code}-{lcp_number:04d}"


def _model(kind: str) -> OltModel:
    return next(m for m in OLT_MODELS if m.kind == kind)
