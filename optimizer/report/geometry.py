"""Where things are: site coordinates, route polylines along the roads, travel minutes.

:func:`route_coords` draws a route depot -> stops -> depot along the fastest roads of its
vehicle type with the scenario's travel matrices (``TravelMatrix.path``) and road network
(``path_coords``), straight segments where no path is known. Coordinates are (lon, lat)
degrees, EPSG:4326; travel times in minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from optimizer.errors import NetworkError
from optimizer.instance import Instance
from optimizer.plans import PlannedRoute
from optimizer.roads import RoadNetwork, path_coords

if TYPE_CHECKING:
    from optimizer.planning.matrices import Matrices

log = logging.getLogger(__name__)


def _site_xy(instance: Instance) -> dict[str, tuple[float, float]]:
    return {sid: (lon, lat) for sid, lon, lat in instance.site_points()}


def route_coords(
    instance: Instance,
    route: PlannedRoute,
    network: RoadNetwork | None,
    matrices: Matrices | None,
) -> list[tuple[float, float]]:
    """Lon/lat polyline of ``route``: depot -> stops -> depot along the fastest roads of the
    route's vehicle type; straight segments where no network/path is available."""
    xy = _site_xy(instance)
    sites = [route.depot] + [s.site_id for s in route.stops] + [route.depot]
    tm = matrices.by_vehicle_type.get(route.vehicle_type) if matrices is not None else None
    out: list[tuple[float, float]] = []

    def add(pts: Iterable[tuple[float, float]]) -> None:
        for p in pts:
            if not out or out[-1] != p:
                out.append(p)

    for a, b in zip(sites[:-1], sites[1:], strict=True):
        pa, pb = xy.get(a), xy.get(b)
        leg: list[tuple[float, float]] = [pa] if pa else []
        if a != b and tm is not None and network is not None:
            try:
                leg += path_coords(network, tm.path(a, b))
            except NetworkError as exc:
                log.warning("route %s: leg %s->%s drawn straight (%s)", route.vehicle_id, a, b,
                            exc)
        if pb:
            leg.append(pb)
        add(leg)
    if len(out) == 1:
        out.append(out[0])
    return out


def _minutes(matrices: Matrices | None, rows: list[str], cols: list[str]
             ) -> dict[str, dict[str, float]]:
    if matrices is None or not cols:
        return {r: {} for r in rows}
    known = set(matrices.coverage.ids)
    return matrices.minutes_to([r for r in rows if r in known], [c for c in cols if c in known])
