"""Load a RoadNetwork from line layers (GeoJSON/GeoPackage/Shapefile), GraphML or OSM XML/PBF."""

from __future__ import annotations

import ast
import logging
import math
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely

from optimizer._io import os_reason
from optimizer.errors import NetworkError

from ._network import (
    CRS,
    OSM_HIGHWAY_TO_CLASS,
    ROAD_CLASSES,
    RoadNetwork,
    edge_shape,
    line_length_m,
)

logger = logging.getLogger(__name__)

_LINE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
_OSM_FORMATS = {".osm.pbf": "pbf", ".pbf": "pbf", ".osm.bz2": "osm.bz2", ".osm.gz": "osm.gz",
                ".osm": "osm", ".xml": "osm"}
_SUPPORTED = ".geojson, .json, .gpkg, .shp, .graphml, .osm, .xml, .osm.bz2, .osm.gz, .pbf, .osm.pbf"
#: network files above this size are refused before reading (GDAL/osmium would load them
#: whole); a county is a few MB, all of Guizhou from OSM about 100 MB as PBF
MAX_NETWORK_BYTES = 2 * 1024**3
_NODE_ROUND = 1e7  # endpoint coordinates merged when equal after rounding to 1e-7 degree
_TRUE = {"yes", "true", "1", "y", "t"}
_FALSE = {"no", "false", "0", "n", "f", ""}


@dataclass
class _Road:
    """One road between two nodes, before it becomes one or two directed edges."""

    u: Any
    v: Any
    coords: np.ndarray  # (n, 2) lon/lat, u -> v
    length: float
    road_class: str
    oneway: int  # 0 two-way, 1 u->v only, -1 v->u only
    edge_id: str
    name: str | None = None
    speed_factor: float = 1.0
    osmid: int | None = None


def load_network(path: str | Path, *, name: str | None = None) -> RoadNetwork:
    """Read a road network file into a :class:`RoadNetwork` (lengths in metres, lon/lat).

    The format follows the suffix: ``.geojson``/``.json``/``.gpkg``/``.shp`` line layers,
    ``.graphml`` (networkx/OSMnx GraphML), ``.osm``/``.xml``/``.osm.bz2`` (OSM XML) and
    ``.pbf``/``.osm.pbf`` (OSM PBF, needs ``osmium``). Every problem is a one-line
    :class:`~optimizer.errors.NetworkError` naming the file.
    """
    p = Path(path)
    source = str(path)
    lower = p.name.lower()
    try:
        p.stat()
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # too long, a NUL, a link loop, no access
        raise NetworkError.at(source[:200], None, f"cannot access the file "
                              f"({os_reason(exc)})", fix="check the path") from None
    if not p.exists():
        raise NetworkError.at(source, None, "file not found", fix="check the path")
    if p.is_dir():
        raise NetworkError.at(source, None, "is a directory, not a network file")
    if not p.is_file():  # /dev/zero, a named pipe...: reading could hang or never end
        raise NetworkError.at(source, None, "not a regular file (a device, pipe or socket)",
                              fix="name an ordinary network file")
    size = p.stat().st_size
    if size > MAX_NETWORK_BYTES:
        raise NetworkError.at(source, None, f"file too large ({size / 1e9:,.1f} GB)",
                              fix=f"network files must be under {MAX_NETWORK_BYTES / 1e9:,.1f} "
                              "GB; clip the network to the county or use an OSM PBF extract")
    stem = p.name
    for suf in sorted([*_OSM_FORMATS, *_LINE_SUFFIXES, ".graphml"], key=len, reverse=True):
        if lower.endswith(suf):
            stem = p.name[: -len(suf)]
            break
    net_name = name if name is not None else stem
    if lower.endswith(_LINE_SUFFIXES):
        graph = _graph_from_roads(source, *_read_lines(p, source))
    elif lower.endswith(".graphml"):
        graph = _read_graphml(p, source)
    else:
        fmt = next((f for s, f in _OSM_FORMATS.items() if lower.endswith(s)), None)
        if fmt is None:
            raise NetworkError.at(source, None, f"unknown network file type {p.suffix!r}",
                                  fix=f"use one of {_SUPPORTED}")
        graph = _graph_from_roads(source, *_read_osm(p, source, fmt))
    logger.info("loaded %s: %d nodes, %d edges", source, graph.number_of_nodes(),
                graph.number_of_edges())
    return RoadNetwork(graph=graph, name=net_name, source=source)


# ----------------------------------------------------------------------------- graph building


def _graph_from_roads(source: str, nodes: dict[Any, tuple[float, float, float | None]],
                      roads: list[_Road]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(crs=CRS)
    for key, (lon, lat, elev) in nodes.items():
        attrs: dict[str, Any] = {"x": lon, "y": lat}
        if elev is not None:
            attrs["elev_m"] = elev
        g.add_node(key, **attrs)
    edges = []
    for r in roads:
        nu, nv = nodes[r.u], nodes[r.v]
        grade, sinuosity = edge_shape(r.length, nu[0], nu[1], nv[0], nv[1], nu[2], nv[2])
        geom = shapely.LineString(r.coords)
        base: dict[str, Any] = {"length": r.length, "road_class": r.road_class,
                                "edge_id": r.edge_id, "sinuosity": sinuosity,
                                "speed_factor": r.speed_factor, "oneway": r.oneway != 0}
        if r.name:
            base["name"] = r.name
        if r.osmid is not None:
            base["osmid"] = r.osmid
        if r.oneway >= 0:
            edges.append((r.u, r.v, {**base, "grade": grade, "geometry": geom}))
        if r.oneway <= 0:
            edges.append((r.v, r.u, {**base, "grade": -grade, "geometry": geom.reverse()}))
    g.add_edges_from(edges)
    return g


def _class_of(source: str, where: str, road_class: Any, highway: Any) -> str:
    """Road class from a ``road_class`` value or else an OSM ``highway`` tag."""
    if _present(road_class):
        cls = str(road_class).strip()
        if cls not in ROAD_CLASSES:
            raise NetworkError.at(source, f"{where}.road_class", f"unknown road class {cls!r}",
                                  fix="use one of " + ", ".join(ROAD_CLASSES))
        return cls
    if _present(highway):
        values = _as_list(highway)
        for h in values:
            if h in OSM_HIGHWAY_TO_CLASS:
                return OSM_HIGHWAY_TO_CLASS[h]
        raise NetworkError.at(source, f"{where}.highway", "not a routable highway tag",
                              got=highway if len(values) != 1 else values[0],
                              fix="drop the feature or set road_class; routable: "
                              + ", ".join(OSM_HIGHWAY_TO_CLASS))
    raise NetworkError.at(source, where, "has neither road_class nor highway",
                          fix="set road_class to one of " + ", ".join(ROAD_CLASSES))


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    s = str(value).strip()
    if s.startswith("["):  # OSMnx stores merged tags as "['a', 'b']"
        try:
            parsed = ast.literal_eval(s)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return [s]


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and value.strip() == "")


def _oneway(source: str, where: str, value: Any) -> int:
    if not _present(value):
        return 0
    if isinstance(value, bool | np.bool_):
        return int(bool(value))
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1, -1):
        return int(value)
    s = str(value).strip().lower()
    if s in _TRUE:
        return 1
    if s == "-1" or s == "reverse":
        return -1
    if s in _FALSE:
        return 0
    raise NetworkError.at(source, f"{where}.oneway", "must be yes/no/true/false/-1", got=value)


def _check_coords(source: str, where: str, xy: np.ndarray) -> None:
    if not np.all(np.isfinite(xy)):
        raise NetworkError.at(source, where, "coordinate is NaN or infinite",
                              fix="fix or drop the geometry")
    lon, lat = xy[:, 0], xy[:, 1]
    bad = (lon < -180) | (lon > 180) | (lat < -90) | (lat > 90)
    if bad.any():
        i = int(np.argmax(bad))
        raise NetworkError.at(source, where, "coordinate out of range (lon in [-180, 180], "
                              "lat in [-90, 90])", got=(float(lon[i]), float(lat[i])),
                              fix="use lon/lat degrees (EPSG:4326) in lon, lat order")


# ----------------------------------------------------------------------------- line layers


def _read_lines(p: Path, source: str) -> tuple[dict[Any, tuple[float, float, float | None]],
                                                list[_Road]]:
    import geopandas as gpd
    import pyogrio

    kind = {".gpkg": "GeoPackage", ".shp": "Shapefile"}.get(p.suffix.lower(), "GeoJSON")
    layer = None
    try:
        if kind == "GeoPackage":
            layers = pyogrio.list_layers(p)
            lines = [str(n) for n, t in layers if t and "LINE" in str(t).upper()]
            layer = lines[0] if lines else (str(layers[0][0]) if len(layers) else None)
            if len(lines) > 1:
                logger.warning("%s: several line layers, reading %r", source, layer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = gpd.read_file(p, engine="pyogrio", layer=layer)
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NetworkError.at(source, None, f"cannot read as {kind}: {msg}",
                              fix=f"check that the file is a valid {kind} line layer") from exc
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(CRS)
    gdf = gdf.reset_index(drop=True)
    geoms = gdf.geometry
    # geom_type is None for missing geometries (notna() would warn about empty ones)
    is_line = geoms.geom_type.isin(["LineString", "MultiLineString"]) & ~geoms.is_empty
    if not is_line.any():
        raise NetworkError.at(source, None, "no LineString/MultiLineString features",
                              got=f"{len(gdf)} features", fix="provide a layer of road lines")
    if not is_line.all():
        logger.warning("%s: ignoring %d non-line or empty features", source,
                       int((~is_line).sum()))
    gdf = gdf[is_line]
    parts = gdf.explode(index_parts=True)
    empty_parts = parts.geometry.is_empty.to_numpy()
    if empty_parts.any():  # a MultiLineString with an empty member: drop that member
        logger.warning("%s: ignoring %d empty line parts", source, int(empty_parts.sum()))
        parts = parts[~empty_parts]
    rows = parts.index.get_level_values(0).to_numpy()
    part_no = parts.index.get_level_values(1).to_numpy()
    n_parts = Counter(rows.tolist())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        coords, idx = shapely.get_coordinates(parts.geometry.to_numpy(), include_z=True,
                                              return_index=True)
    n = len(parts)
    cols = set(gdf.columns)

    def col(name: str) -> list[Any]:
        return parts[name].tolist() if name in cols else [None] * n

    classes, highways, oneways = col("road_class"), col("highway"), col("oneway")
    names, eids, factors = col("name"), col("edge_id"), col("speed_factor")

    starts = np.searchsorted(idx, np.arange(n), side="left")
    ends = np.searchsorted(idx, np.arange(n), side="right")
    # endpoint keys: rounded lon/lat -> dense int node ids in sorted order (deterministic)
    end_xy = np.concatenate([coords[starts, :2], coords[np.maximum(ends - 1, 0), :2]])
    _check_coords(source, "geometry", coords[:, :2])
    keys = np.round(end_xy * _NODE_ROUND).astype(np.int64)
    uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    end_z = np.concatenate([coords[starts, 2], coords[np.maximum(ends - 1, 0), 2]])
    nodes: dict[Any, tuple[float, float, float | None]] = {}
    for k in range(len(uniq)):
        nodes[k] = (float(end_xy[first[k], 0]), float(end_xy[first[k], 1]), None)
    for j in np.flatnonzero(np.isfinite(end_z)):
        k = int(inverse[j])
        if nodes[k][2] is None:
            nodes[k] = (nodes[k][0], nodes[k][1], float(end_z[j]))
    roads: list[_Road] = []
    for i in range(n):
        row, part = int(rows[i]), int(part_no[i])
        where = f"feature {row}"
        xy = coords[starts[i]:ends[i], :2]
        length = line_length_m(xy)
        if not length > 0:
            raise NetworkError.at(source, f"{where}.geometry", "road length must be > 0 m",
                                  got=round(length, 3), fix="drop degenerate lines")
        cls = _class_of(source, where, classes[i], highways[i])
        eid = str(eids[i]) if _present(eids[i]) else f"e{row}"
        if n_parts[row] > 1:
            eid = f"{eid}.{part}"
        sf = 1.0
        if _present(factors[i]):
            try:
                sf = float(factors[i])
            except (TypeError, ValueError):
                raise NetworkError.at(source, f"{where}.speed_factor", "not a number",
                                      got=factors[i], fix="write a number > 0, e.g. 0.8"
                                      ) from None
            if not (math.isfinite(sf) and sf > 0):
                raise NetworkError.at(source, f"{where}.speed_factor", "must be > 0", got=sf)
        roads.append(_Road(u=int(inverse[i]), v=int(inverse[n + i]), coords=xy, length=length,
                           road_class=cls, oneway=_oneway(source, where, oneways[i]),
                           edge_id=eid, name=str(names[i]) if _present(names[i]) else None,
                           speed_factor=sf))
    return nodes, roads


# ----------------------------------------------------------------------------- OSM


def _read_osm(p: Path, source: str, fmt: str) -> tuple[dict[Any, tuple[float, float, float | None]],
                                                       list[_Road]]:
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise NetworkError.at(source, None, "reading OSM files needs the osmium package",
                              fix="install with pip install 'coldchain-optimizer[osm]'") from exc
    ways: list[tuple[int, list[int], list[tuple[float, float] | None], dict[str, str]]] = []
    try:
        fp = (osmium.FileProcessor(osmium.io.File(str(p), fmt), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations()
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter("highway")))
        for w in fp:
            assert isinstance(w, osmium.osm.Way)
            tags = {t.k: t.v for t in w.tags}
            if tags.get("highway") not in OSM_HIGHWAY_TO_CLASS or tags.get("area") == "yes":
                continue
            refs = [r.ref for r in w.nodes]
            locs = [(r.lon, r.lat) if r.location.valid() else None for r in w.nodes]
            ways.append((w.id, refs, locs, tags))
    except Exception as exc:  # osmium raises RuntimeError for corrupt input
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NetworkError.at(source, None, f"cannot read as OSM {fmt}: {msg}",
                              fix="check that the file is a valid OSM extract") from exc
    if not ways:
        raise NetworkError.at(source, None, "no routable highway ways",
                              fix="use an extract containing roads ("
                              + ", ".join(OSM_HIGHWAY_TO_CLASS) + ")")
    # split at nodes used more than once (intersections, loops) and at missing locations
    uses = Counter(ref for _, refs, locs, _ in ways for ref, loc in zip(refs, locs, strict=True)
                   if loc is not None)
    nodes: dict[Any, tuple[float, float, float | None]] = {}
    roads: list[_Road] = []
    dropped = 0
    for wid, refs, locs, tags in ways:
        cls = OSM_HIGHWAY_TO_CLASS[tags["highway"]]
        ow = tags.get("oneway", "").lower()
        oneway = 1 if ow in ("yes", "true", "1") or tags.get("junction") == "roundabout" else 0
        oneway = -1 if ow == "-1" else oneway
        name = tags.get("name")
        runs: list[list[int]] = [[]]
        for i, loc in enumerate(locs):
            if loc is None:
                runs.append([])
            else:
                runs[-1].append(i)
        seg = 0
        for run in runs:
            if len(run) < 2:
                continue
            cut = [run[0]] + [i for i in run[1:-1] if uses[refs[i]] > 1] + [run[-1]]
            for a, b in zip(cut[:-1], cut[1:], strict=True):
                xy = np.array([locs[i] for i in range(a, b + 1)], dtype=float)
                length = line_length_m(xy)
                eid = f"{wid}:{seg}"
                seg += 1
                if not length > 0:
                    dropped += 1
                    continue
                for i in (a, b):
                    nodes.setdefault(refs[i], (locs[i][0], locs[i][1], None))  # type: ignore[index]
                roads.append(_Road(u=refs[a], v=refs[b], coords=xy, length=length,
                                   road_class=cls, oneway=oneway, edge_id=eid, name=name,
                                   osmid=wid))
    if dropped:
        logger.info("%s: dropped %d zero-length OSM segments", source, dropped)
    if not roads:
        raise NetworkError.at(source, None, "no routable road segments with node locations",
                              fix="use an extract that contains the ways' nodes")
    return nodes, roads


# ----------------------------------------------------------------------------- GraphML

_NODE_FLOATS = ("x", "y", "elev_m")
_EDGE_FLOATS = ("length", "grade", "sinuosity", "speed_factor")


def _read_graphml(p: Path, source: str) -> nx.MultiDiGraph:
    try:
        raw = nx.read_graphml(p, force_multigraph=True)
    except Exception as exc:  # ParseError, NetworkXError, KeyError ...
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NetworkError.at(source, None, f"cannot read as GraphML: {msg}",
                              fix="check that the file is valid GraphML") from exc
    if not raw.is_directed():
        raw = raw.to_directed()
    if raw.number_of_edges() == 0:
        raise NetworkError.at(source, None, "no edges", fix="provide a graph with roads")
    relabel: dict[Any, Any] = {}
    if all(isinstance(n, str) and n.lstrip("-").isdigit() for n in raw.nodes):
        relabel = {n: int(n) for n in raw.nodes}
    g = nx.MultiDiGraph(crs=CRS)
    crs = raw.graph.get("crs", CRS)
    if str(crs).upper() not in (CRS, "EPSG:4326", "WGS84", "OGC:CRS84"):
        raise NetworkError.at(source, "graph.crs", f"must be {CRS}", got=crs,
                              fix="save the graph unprojected (lon/lat)")
    for node, data in raw.nodes(data=True):
        attrs: dict[str, Any] = {}
        elev = data.get("elev_m", data.get("elevation"))
        for k, val in (("x", data.get("x")), ("y", data.get("y")), ("elev_m", elev)):
            if val is None:
                if k != "elev_m":
                    raise NetworkError.at(source, f"node {node}.{k}", "missing",
                                          fix="store lon/lat as node attributes x and y")
                continue
            try:
                attrs[k] = float(val)
            except (TypeError, ValueError) as exc:
                raise NetworkError.at(source, f"node {node}.{k}", "not a number",
                                      got=val) from exc
        _check_coords(source, f"node {node}", np.array([[attrs["x"], attrs["y"]]]))
        if "elev_m" in attrs and not math.isfinite(attrs["elev_m"]):
            del attrs["elev_m"]
        g.add_node(relabel.get(node, node), **attrs)
    seen: Counter[tuple[Any, Any]] = Counter()
    for u0, v0, data in raw.edges(data=True):
        u, v = relabel.get(u0, u0), relabel.get(v0, v0)
        where = f"edge {u0}->{v0}"
        nu, nv = g.nodes[u], g.nodes[v]
        attrs = {k: val for k, val in data.items() if k not in _EDGE_FLOATS}
        for k in _EDGE_FLOATS:
            if data.get(k) is not None:
                try:
                    attrs[k] = float(data[k])
                except (TypeError, ValueError) as exc:
                    raise NetworkError.at(source, f"{where}.{k}", "not a number",
                                          got=data[k]) from exc
        geom = data.get("geometry")
        if isinstance(geom, str):
            try:
                geom = shapely.from_wkt(geom)
            except Exception as exc:
                raise NetworkError.at(source, f"{where}.geometry", "not WKT",
                                      got=geom[:40]) from exc
        if geom is None:
            geom = shapely.LineString([(nu["x"], nu["y"]), (nv["x"], nv["y"])])
        else:
            x0, y0 = geom.coords[0][:2]
            near_u = (x0 - nu["x"]) ** 2 + (y0 - nu["y"]) ** 2
            if near_u > (x0 - nv["x"]) ** 2 + (y0 - nv["y"]) ** 2:
                geom = geom.reverse()  # undirected GraphML: orient u -> v
        attrs["geometry"] = geom
        if "length" not in attrs:
            attrs["length"] = line_length_m(np.asarray(geom.coords))
        length = attrs["length"]
        if not (math.isfinite(length) and length > 0):
            raise NetworkError.at(source, f"{where}.length", "must be > 0 m", got=length)
        attrs["road_class"] = _class_of(source, where, data.get("road_class"), data.get("highway"))
        if not _present(data.get("edge_id")):
            a, b = sorted((str(u), str(v)))
            seen[(a, b)] += 1
            attrs["edge_id"] = f"{a}-{b}"
        else:
            attrs["edge_id"] = str(data["edge_id"])
        if "oneway" in attrs:
            attrs["oneway"] = _oneway(source, where, attrs["oneway"]) != 0
        grade, sinuosity = edge_shape(length, nu["x"], nu["y"], nv["x"], nv["y"],
                                      nu.get("elev_m"), nv.get("elev_m"))
        if "grade" not in attrs or not math.isfinite(attrs["grade"]):
            attrs["grade"] = grade
        attrs.setdefault("sinuosity", sinuosity)
        attrs.setdefault("speed_factor", 1.0)
        if not (math.isfinite(attrs["speed_factor"]) and attrs["speed_factor"] > 0):
            raise NetworkError.at(source, f"{where}.speed_factor", "must be > 0",
                                  got=attrs["speed_factor"])
        attrs.pop("id", None)
        g.add_edge(u, v, **attrs)
    # parallel roads without edge_id between the same pair: number them (both directions alike)
    for u, v, k, eid in list(g.edges(keys=True, data="edge_id")):
        a, b = sorted((str(u), str(v)))
        if eid == f"{a}-{b}" and seen[(a, b)] > 2:
            g.edges[u, v, k]["edge_id"] = f"{a}-{b}-{k}"
    return g
