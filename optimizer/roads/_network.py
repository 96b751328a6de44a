"""RoadNetwork type, road classes, statistics and network edits (close roads, scale speeds)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from optimizer.errors import NetworkError

logger = logging.getLogger(__name__)

#: Road classes, fastest first (Chinese highway classes JTG B01 plus unpaved tracks).
ROAD_CLASSES: tuple[str, ...] = ("expressway", "class1", "class2", "class3", "class4", "track")

#: OSM ``highway=*`` value -> road class; ``*_link`` roads take their parent's class.
OSM_HIGHWAY_TO_CLASS: dict[str, str] = {
    "motorway": "expressway",
    "motorway_link": "expressway",
    "trunk": "class1",
    "trunk_link": "class1",
    "primary": "class2",
    "primary_link": "class2",
    "secondary": "class2",
    "secondary_link": "class2",
    "tertiary": "class3",
    "tertiary_link": "class3",
    "unclassified": "class4",
    "residential": "class4",
    "living_street": "class4",
    "track": "track",
    "service": "track",
    "path": "track",
}

CRS = "EPSG:4326"
EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), metres


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Great-circle distance in metres between lon/lat points (degrees); numpy-vectorised."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float))
                              for a in (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def line_length_m(coords: np.ndarray) -> float:
    """Geodesic (haversine) length in metres of a polyline given as an (n, >=2) lon/lat array."""
    if len(coords) < 2:
        return 0.0
    return float(np.sum(haversine_m(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])))


def edge_shape(length_m: float, lon_u: float, lat_u: float, lon_v: float, lat_v: float,
               elev_u: float | None, elev_v: float | None) -> tuple[float, float]:
    """Return ``(grade, sinuosity)`` of an edge.

    grade: signed rise/run from u to v (elevation difference over edge length), 0 if either
    elevation is unknown. sinuosity: edge length over the straight (great-circle) distance
    between its end nodes, at least 1; 1 for loops (end nodes closer than 1 m).
    """
    grade = 0.0
    if elev_u is not None and elev_v is not None and length_m > 0:
        grade = (float(elev_v) - float(elev_u)) / length_m
    straight = float(haversine_m(lon_u, lat_u, lon_v, lat_v))
    sinuosity = max(1.0, length_m / straight) if straight >= 1.0 else 1.0
    return grade, sinuosity


@dataclass(frozen=True)
class RoadNetwork:
    """A road graph with OSMnx attribute names and units.

    ``graph`` is an ``nx.MultiDiGraph`` (graph attribute ``crs="EPSG:4326"``). Nodes carry
    ``x`` (lon, degrees), ``y`` (lat, degrees) and optionally ``elev_m`` (metres). Edges carry
    ``length`` (m), ``road_class`` (one of :data:`ROAD_CLASSES`), ``edge_id`` (str, shared by
    both directions of a two-way road), ``grade`` (signed rise/run u->v), ``sinuosity`` (>= 1),
    ``geometry`` (shapely LineString lon/lat, u->v), ``speed_factor`` (default 1.0), and
    optionally ``name``. Treat the graph as read-only: every edit returns a new network.
    """

    graph: nx.MultiDiGraph
    name: str
    source: str

    def __post_init__(self) -> None:
        if not isinstance(self.graph, nx.MultiDiGraph):
            raise NetworkError.at(self.source, "graph", "must be a networkx MultiDiGraph",
                                  got=type(self.graph).__name__)
        crs = self.graph.graph.get("crs", CRS)
        if str(crs).upper() != CRS:
            raise NetworkError.at(self.source, "graph.crs", f"must be {CRS}", got=crs,
                                  fix="reproject the network to lon/lat")


@dataclass(frozen=True)
class NetworkStats:
    """Size of a network: node/edge counts, km of road per class (two-way roads counted
    once), number of weakly connected components and the node count of the largest one."""

    nodes: int
    edges: int
    km_by_class: dict[str, float]
    components: int
    largest_component_nodes: int


def network_stats(network: RoadNetwork) -> NetworkStats:
    """Summarise ``network`` (kilometres per road class, each two-way road counted once)."""
    g = network.graph
    km = dict.fromkeys(ROAD_CLASSES, 0.0)
    seen: set[tuple[str, frozenset[Any]]] = set()
    for u, v, data in g.edges(data=True):
        key = (str(data.get("edge_id")), frozenset((u, v)))
        if key in seen:
            continue
        seen.add(key)
        km[data["road_class"]] = km.get(data["road_class"], 0.0) + float(data["length"]) / 1000.0
    comps = [len(c) for c in nx.weakly_connected_components(g)]
    return NetworkStats(
        nodes=g.number_of_nodes(),
        edges=g.number_of_edges(),
        km_by_class=km,
        components=len(comps),
        largest_component_nodes=max(comps, default=0),
    )


def _copy(network: RoadNetwork, graph: nx.MultiDiGraph) -> RoadNetwork:
    return RoadNetwork(graph=graph, name=network.name, source=network.source)


def close_edges(network: RoadNetwork, edge_ids: Iterable[str]) -> RoadNetwork:
    """Return a new network without the roads ``edge_ids`` (both directions).

    Raises NetworkError naming every id that is not in the network.
    """
    wanted = {str(e) for e in edge_ids}
    drop = [(u, v, k) for u, v, k, eid in network.graph.edges(keys=True, data="edge_id")
            if str(eid) in wanted]
    found = {str(network.graph.edges[e]["edge_id"]) for e in drop}
    missing = sorted(wanted - found)
    if missing:
        raise NetworkError.at(network.source, "closed edges",
                              "unknown edge_id " + _id_list(missing),
                              fix="use edge_id values of this network")
    g = network.graph.copy()
    g.remove_edges_from(drop)
    logger.debug("closed %d roads (%d directed edges)", len(wanted), len(drop))
    return _copy(network, g)


def scale_speeds(network: RoadNetwork, factor_by_class: Mapping[str, float]) -> RoadNetwork:
    """Return a new network whose edges' ``speed_factor`` is multiplied per road class.

    E.g. ``{"class3": 1/1.3, "class4": 1/1.3}`` for the rainy season (travel time x1.3).
    Factors must be finite and > 0; classes must be in :data:`ROAD_CLASSES`.
    """
    for cls, f in factor_by_class.items():
        if cls not in ROAD_CLASSES:
            raise NetworkError.at(network.source, "speed factors", f"unknown road class {cls!r}",
                                  fix="use one of " + ", ".join(ROAD_CLASSES))
        if not (isinstance(f, int | float) and math.isfinite(f) and f > 0):
            raise NetworkError.at(network.source, f"speed factors.{cls}", "must be a number > 0",
                                  got=f)
    g = network.graph.copy()
    for _, _, data in g.edges(data=True):
        factor = factor_by_class.get(data["road_class"])
        if factor is not None:
            data["speed_factor"] = float(data.get("speed_factor", 1.0)) * float(factor)
    return _copy(network, g)


def path_coords(network: RoadNetwork, nodes: Sequence[Any]) -> list[tuple[float, float]]:
    """Lon/lat polyline following the edge geometries along the node sequence ``nodes``.

    Between two consecutive nodes the shortest parallel edge is drawn; an edge without
    geometry is drawn as a straight segment.
    """
    g = network.graph
    if len(nodes) == 0:
        return []
    first = g.nodes[nodes[0]]
    out: list[tuple[float, float]] = [(float(first["x"]), float(first["y"]))]
    for a, b in zip(nodes[:-1], nodes[1:], strict=True):
        if not g.has_edge(a, b):
            raise NetworkError.at(network.source, "path", f"no road from node {a!r} to {b!r}")
        data = min(g[a][b].values(), key=lambda d: float(d["length"]))
        geom = data.get("geometry")
        if geom is not None:
            pts = [(float(c[0]), float(c[1])) for c in geom.coords]
        else:
            pts = [(float(g.nodes[a]["x"]), float(g.nodes[a]["y"])),
                   (float(g.nodes[b]["x"]), float(g.nodes[b]["y"]))]
        out.extend(pts[1:])
    return out


def _id_list(ids: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    if len(ids) > limit:
        shown += f" and {len(ids) - limit} more"
    return shown
