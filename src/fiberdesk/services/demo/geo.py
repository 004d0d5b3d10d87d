"""Flat-earth helpers for planning the demo plant: local metres, grid cells, centroids.

Baltimore County spans about 60 km, so an equirectangular projection around the county's
middle is accurate to well under a metre per kilometre: good enough to cluster premises into
cells and to find the nearest NAP. Cable lengths stored in the database are computed with
``domain.network.route_length_m`` (haversine times the route factor), never from these.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: the projection's origin, near the middle of the county
LAT0 = 39.45
LON0 = -76.62
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))

Cell = tuple[int, int]


def xy(lat: float, lon: float) -> tuple[float, float]:
    """Metres east and north of the origin."""
    return (lon - LON0) * M_PER_DEG_LON, (lat - LAT0) * M_PER_DEG_LAT


def cell_of(x: float, y: float, size_m: float) -> Cell:
    """The (row, column) of the square grid cell of ``size_m`` that holds a point."""
    return math.floor(y / size_m), math.floor(x / size_m)


def snake_key(cell: Cell) -> tuple[int, int]:
    """Orders cells row by row, alternating direction, so neighbours stay together."""
    row, col = cell
    return (row, col if row % 2 == 0 else -col)


def centroid(points: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """The mean of (lat, lon) pairs, rounded to six decimals as the source data is."""
    n = 0
    sum_lat = sum_lon = 0.0
    for lat, lon in points:
        sum_lat += lat
        sum_lon += lon
        n += 1
    if n == 0:
        raise ValueError("centroid of no points")
    return round(sum_lat / n, 6), round(sum_lon / n, 6)


def planar_d2(ax: float, ay: float, bx: float, by: float) -> float:
    """Squared planar distance in square metres (for comparisons only)."""
    return (ax - bx) ** 2 + (ay - by) ** 2
