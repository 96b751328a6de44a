"""Where things are: site coordinates, route polylines along the roads, travel minutes.

:func:`route_coords` draws a route depot -> stops -> depot along the fastest roads of its
vehicle type with the scenario's travel matrices (``TravelMatrix.path``) and road network
(``path_coords``), straight segments where no path is known. :func:`_roads` lists the roads
of the networks the scenarios were routed on (each two-way road once) and
:func:`_simplify` thins a polyline with a tolerance in metres. Coordinates are (lon, lat)
degrees, EPSG:4326; travel times in minutes; lengths in metres.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from optimizer.errors import NetworkError
from optimizer.instance import Instance
from optimizer.plans import PlannedRoute
from optimizer.roads import ROAD_CLASSES, RoadNetwork, path_coords

if TYPE_CHECKING:
    from optimizer.planning.matrices import Matrices

log = logging.getLogger(__name__)

#: metres per degree of latitude (mean Earth radius 6,371,008.8 m)
_M_PER_DEG = 6_371_008.8 * math.pi / 180.0
#: decimals of lon/lat kept in the map (1e-5 degrees: about 1 m)
COORD_DECIMALS = 5


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


@dataclass(frozen=True, slots=True)
class _Road:
    """One road (both directions of a two-way road once): its ``edge_id``, class, name,
    length (m), lon/lat polyline (u -> v) and the scenarios whose network lacks it."""

    edge_id: str
    road_class: str
    name: str
    length_m: float
    coords: tuple[tuple[float, float], ...]
    closed_in: tuple[str, ...]


def _roads(networks: Mapping[str, RoadNetwork]) -> list[_Road]:
    """The roads of every network in ``networks`` (scenario id -> the network it was routed
    on), each ``edge_id`` once, ordered by road class (fastest first) then id. A road
    missing from some scenario's network (closed there) lists those scenarios in
    ``closed_in``; a road closed in every scenario is absent from all and not listed."""
    found: dict[str, tuple[str, str, float, tuple[tuple[float, float], ...]]] = {}
    present: dict[str, set[str]] = {}
    for sc in sorted(networks):
        g = networks[sc].graph
        for u, v, k, d in g.edges(keys=True, data=True):
            eid = str(d.get("edge_id") or f"{u}-{v}-{k}")
            present.setdefault(eid, set()).add(sc)
            if eid in found:
                continue
            geom = d.get("geometry")
            if geom is not None:
                coords = tuple((float(c[0]), float(c[1])) for c in geom.coords)
            else:
                coords = ((float(g.nodes[u]["x"]), float(g.nodes[u]["y"])),
                          (float(g.nodes[v]["x"]), float(g.nodes[v]["y"])))
            name = d.get("name")
            found[eid] = (str(d.get("road_class", "")), "" if name is None else str(name),
                          float(d.get("length", 0.0)), coords)
    rank = {c: i for i, c in enumerate(ROAD_CLASSES)}
    scenarios = sorted(networks)
    roads = [_Road(eid, cls, name, length, coords,
                   tuple(s for s in scenarios if s not in present[eid]))
             for eid, (cls, name, length, coords) in found.items()]
    roads.sort(key=lambda r: (rank.get(r.road_class, len(rank)), r.edge_id))
    return roads


def _simplify(coords: Sequence[tuple[float, float]], tolerance_m: float
              ) -> list[tuple[float, float]]:
    """``coords`` (lon/lat degrees) thinned by Douglas-Peucker with ``tolerance_m`` metres
    (in a local equirectangular projection), rounded to :data:`COORD_DECIMALS` decimals,
    consecutive repeats dropped; the first and last points are kept."""
    import shapely

    def rounded(pts: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for x, y in pts:
            p = (round(float(x), COORD_DECIMALS), round(float(y), COORD_DECIMALS))
            if not out or out[-1] != p:
                out.append(p)
        return out

    if len(coords) < 3 or tolerance_m <= 0.0:
        return rounded(coords)
    xy = np.asarray(coords, dtype=float)[:, :2]
    lon0, lat0 = float(xy[0, 0]), float(xy[0, 1])
    kx = _M_PER_DEG * math.cos(math.radians(lat0))
    local = np.column_stack(((xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * _M_PER_DEG))
    thin = shapely.get_coordinates(
        shapely.simplify(shapely.linestrings(local), tolerance_m, preserve_topology=False))
    if len(thin) < 2:  # a degenerate line: keep its ends
        thin = local[[0, -1]]
    return rounded(zip(thin[:, 0] / kx + lon0, thin[:, 1] / _M_PER_DEG + lat0, strict=True))
