"""Helpers shared by the road-network tests."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import shapely

from optimizer.roads import RoadNetwork
from optimizer.roads._network import CRS, edge_shape, haversine_m

DATA = Path(__file__).parent / "data"


def make_network(nodes: dict, roads: list[tuple], name: str = "test") -> RoadNetwork:
    """Build a network from ``nodes = {key: (lon, lat[, elev])}`` and
    ``roads = [(u, v, road_class, edge_id[, oneway])]`` with straight geometries."""
    g = nx.MultiDiGraph(crs=CRS)
    for k, xyz in nodes.items():
        attrs = {"x": float(xyz[0]), "y": float(xyz[1])}
        if len(xyz) > 2:
            attrs["elev_m"] = float(xyz[2])
        g.add_node(k, **attrs)
    for road in roads:
        u, v, cls, eid = road[:4]
        oneway = road[4] if len(road) > 4 else False
        nu, nv = g.nodes[u], g.nodes[v]
        length = float(haversine_m(nu["x"], nu["y"], nv["x"], nv["y"]))
        grade, sin = edge_shape(length, nu["x"], nu["y"], nv["x"], nv["y"],
                                nu.get("elev_m"), nv.get("elev_m"))
        geom = shapely.LineString([(nu["x"], nu["y"]), (nv["x"], nv["y"])])
        base = {"length": length, "road_class": cls, "edge_id": eid, "sinuosity": sin,
                "speed_factor": 1.0, "oneway": oneway}
        g.add_edge(u, v, **base, grade=grade, geometry=geom)
        if not oneway:
            g.add_edge(v, u, **base, grade=-grade, geometry=geom.reverse())
    return RoadNetwork(graph=g, name=name, source=f"<{name}>")

TINY = DATA / "tiny.geojson"
