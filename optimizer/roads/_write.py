"""Write a RoadNetwork as a line layer (GeoJSON/GeoPackage) or GraphML, atomically."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely

from optimizer._io import atomic_path
from optimizer.errors import NetworkError

from ._network import CRS, RoadNetwork, haversine_m

logger = logging.getLogger(__name__)

_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}


def write_network(network: RoadNetwork, path: str | Path) -> None:
    """Write ``network`` to ``path``: ``.geojson``/``.json``/``.gpkg`` (one line feature per
    road, 3-D coordinates when every node has ``elev_m``; properties ``road_class``,
    ``edge_id``, ``name``, ``oneway``, ``speed_factor``) or ``.graphml``.

    The file is written to a temporary name in the same folder and renamed into place.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (*_DRIVERS, ".graphml"):
        raise NetworkError.at(str(path), None, f"cannot write network as {p.suffix!r}",
                              fix="use .geojson, .json, .gpkg or .graphml")
    if not p.parent.exists():
        raise NetworkError.at(str(path), None, "folder does not exist",
                              fix="create the output folder first")
    with atomic_path(p, suffix=f".tmp{suffix}") as out:
        if suffix == ".graphml":
            _write_graphml(network, out)
        else:
            _write_lines(network, out, _DRIVERS[suffix], layer=p.stem)
    logger.info("wrote %s", p)


def _with_z(geom: shapely.LineString, z_u: float, z_v: float) -> shapely.LineString:
    xy = np.asarray(geom.coords)[:, :2]
    seg = haversine_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    frac = cum / cum[-1] if cum[-1] > 0 else np.linspace(0.0, 1.0, len(xy))
    return shapely.LineString(np.column_stack([xy, z_u + frac * (z_v - z_u)]))


def _write_lines(network: RoadNetwork, out: Path, driver: str, *, layer: str) -> None:
    import geopandas as gpd

    g = network.graph
    has_z = g.number_of_nodes() > 0 and all("elev_m" in d for _, d in g.nodes(data=True))
    if not has_z and any("elev_m" in d for _, d in g.nodes(data=True)):
        logger.warning("%s: some nodes lack elev_m; writing 2-D coordinates", out.name)
    rows: list[dict[str, Any]] = []
    done: set[tuple[Any, Any, int]] = set()
    for u, v, k, data in g.edges(keys=True, data=True):
        if (u, v, k) in done:
            continue
        done.add((u, v, k))
        twin = None
        if u != v and g.has_edge(v, u):
            twin = next((kk for kk, d in g[v][u].items()
                         if d.get("edge_id") == data.get("edge_id") and (v, u, kk) not in done),
                        None)
        if twin is not None:
            done.add((v, u, twin))
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString([(g.nodes[u]["x"], g.nodes[u]["y"]),
                                       (g.nodes[v]["x"], g.nodes[v]["y"])])
        if has_z:
            geom = _with_z(geom, float(g.nodes[u]["elev_m"]), float(g.nodes[v]["elev_m"]))
        rows.append({"road_class": data["road_class"], "edge_id": str(data["edge_id"]),
                     "name": data.get("name"), "oneway": twin is None,
                     "speed_factor": float(data.get("speed_factor", 1.0)), "geometry": geom})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    # the layer is named after the target file, not the temporary one
    gdf.to_file(out, driver=driver, engine="pyogrio", layer=layer)


def _write_graphml(network: RoadNetwork, out: Path) -> None:
    g = nx.MultiDiGraph(crs=CRS, name=network.name)
    for n, data in network.graph.nodes(data=True):
        g.add_node(n, **{k: v for k, v in data.items() if v is not None})
    for u, v, k, data in network.graph.edges(keys=True, data=True):
        attrs = {}
        for key, val in data.items():
            if val is None:
                continue
            if key == "geometry":
                val = shapely.to_wkt(val, rounding_precision=-1)
            elif isinstance(val, np.generic):
                val = val.item()
            elif not isinstance(val, str | int | float | bool):
                val = str(val)
            attrs[key] = val
        g.add_edge(u, v, key=k, **attrs)
    nx.write_graphml(g, out)
