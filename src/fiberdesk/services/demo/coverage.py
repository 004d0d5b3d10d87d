"""Which NAP serves each premises, its drop length, and its predicted receive power.

A premises is covered by its nearest NAP when the drop (``route_length_m`` from the NAP)
is at most ``max_drop_m``; beyond that it stays uncovered (``premises.nap_id`` NULL).

The predicted receive power follows the domain's optical budget along the path that
``services.qualification`` takes: fiber = feeder + distribution + drop, the LCP's split, and
the connectors and splices of the LCP and the NAP plus the ONT's connector and the drop's
splice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from fiberdesk.domain.network import (
    ONT_SENSITIVITY_DBM,
    ROUTE_FACTOR,
    OpticalPath,
    route_length_m,
)
from fiberdesk.services.demo import geo
from fiberdesk.services.demo.addresses import Site
from fiberdesk.services.demo.layout import NapPlan, NetworkPlan

INDEX_CELL_M = 200.0
#: a premises right beside its NAP still needs a drop from the pole or pedestal
MIN_DROP_M = 8


@dataclass(slots=True)
class Coverage:
    """Per site (same order as the sites): NAP index or -1, drop metres, predicted Rx."""

    nap: list[int]
    drop_m: list[int]
    rx_dbm: list[Decimal | None]
    #: how many NAPs are within the maximum drop (qualification may pick any of them)
    in_reach: list[int]

    def covered(self, i: int) -> bool:
        return self.nap[i] >= 0

    @property
    def covered_count(self) -> int:
        return sum(1 for n in self.nap if n >= 0)

    def budget_exceeded(self, i: int) -> bool:
        rx = self.rx_dbm[i]
        return rx is not None and rx < ONT_SENSITIVITY_DBM

    def margin_ok(self, i: int, min_margin_db: Decimal) -> bool:
        rx = self.rx_dbm[i]
        return rx is not None and rx - ONT_SENSITIVITY_DBM >= min_margin_db


def optical_path(plan: NetworkPlan, nap_index: int, drop_m: int) -> OpticalPath:
    nap = plan.naps[nap_index]
    splitter = plan.splitters[nap.splitter]
    olt = plan.olts[plan.pons[splitter.pon].olt]
    return OpticalPath(
        fiber_m=Decimal(splitter.feeder_m + nap.distribution_m + drop_m),
        splitter_ratios=(splitter.ratio,),
        connectors=splitter.connectors + nap.connectors + 1,
        splices=splitter.splices + nap.splices + 1,
        olt_tx_dbm=olt.tx_dbm,
    )


def assign(sites: list[Site], plan: NetworkPlan, max_drop_m: int) -> Coverage:
    index: dict[geo.Cell, list[int]] = {}
    for n, nap in enumerate(plan.naps):
        index.setdefault(geo.cell_of(nap.x, nap.y, INDEX_CELL_M), []).append(n)
    # the drop is the straight line times the route factor: search that far around
    span = max(1, math.ceil(max_drop_m / ROUTE_FACTOR / INDEX_CELL_M))
    n = len(sites)
    coverage = Coverage([-1] * n, [0] * n, [None] * n, [0] * n)
    # counted generously (10 m more), so that "only one NAP in reach" is certain
    limit_d2 = ((max_drop_m + 10) / ROUTE_FACTOR) ** 2
    naps: list[NapPlan] = plan.naps
    for i, site in enumerate(sites):
        row, col = geo.cell_of(site.x, site.y, INDEX_CELL_M)
        best, best_d2 = -1, math.inf
        for r in range(row - span, row + span + 1):
            for c in range(col - span, col + span + 1):
                for k in index.get((r, c), ()):
                    d2 = geo.planar_d2(site.x, site.y, naps[k].x, naps[k].y)
                    if d2 <= limit_d2:
                        coverage.in_reach[i] += 1
                    if d2 < best_d2:
                        best, best_d2 = k, d2
        if best < 0:
            continue
        drop = route_length_m(naps[best].lat, naps[best].lon, site.lat, site.lon)
        if drop > max_drop_m:
            continue
        coverage.nap[i] = best
        coverage.drop_m[i] = max(drop, MIN_DROP_M)
        coverage.rx_dbm[i] = optical_path(plan, best, coverage.drop_m[i]).predicted_rx_dbm()
    return coverage
