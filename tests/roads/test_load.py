"""Loading and writing road networks: every format, every defect, round trips."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import pytest
import shapely

from optimizer.errors import NetworkError
from optimizer.roads import (
    ROAD_CLASSES,
    close_edges,
    load_network,
    network_stats,
    path_coords,
    scale_speeds,
    write_network,
)

from ._helpers import DATA, TINY


def _check_invariants(net) -> None:
    g = net.graph
    assert g.graph["crs"] == "EPSG:4326"
    for _, d in g.nodes(data=True):
        assert -180 <= d["x"] <= 180 and -90 <= d["y"] <= 90
    for u, _v, d in g.edges(data=True):
        assert d["length"] > 0
        assert d["road_class"] in ROAD_CLASSES
        assert isinstance(d["edge_id"], str)
        assert d["sinuosity"] >= 1.0
        start = d["geometry"].coords[0]
        assert start[0] == pytest.approx(g.nodes[u]["x"], abs=1e-6)
        assert start[1] == pytest.approx(g.nodes[u]["y"], abs=1e-6)


def test_geojson_tiny() -> None:
    net = load_network(TINY)
    _check_invariants(net)
    assert net.name == "tiny" and net.source == str(TINY)
    stats = network_stats(net)
    # 7 endpoints; 6 two-way roads (12 edges) + 1 one-way track
    assert (stats.nodes, stats.edges, stats.components) == (7, 13, 1)
    assert stats.km_by_class["class2"] == pytest.approx(0.99, abs=0.01)
    assert stats.km_by_class["class1"] == pytest.approx(2.13, abs=0.01)  # multilinestring, 2 parts
    g = net.graph
    by_id = {d["edge_id"]: (u, v, d) for u, v, d in g.edges(data=True)}
    assert set(by_id) == {"ab", "bc", "bd", "de", "ea", "cfg.0", "cfg.1"}
    u, v, ab = by_id["ab"]
    assert ab["name"] == "G321" and ab["road_class"] == "class2"
    assert g.nodes[u]["elev_m"] in (1000.0, 1040.0)
    rise = g.nodes[v]["elev_m"] - g.nodes[u]["elev_m"]
    assert ab["grade"] == pytest.approx(rise / ab["length"])
    assert by_id["ea"][2]["road_class"] == "class4"  # from highway=residential
    assert by_id["bd"][2]["sinuosity"] > 1.1  # bent road
    de = [(a, b) for a, b, d in g.edges(data=True) if d["edge_id"] == "de"]
    assert len(de) == 1  # one-way


def test_load_name_override() -> None:
    assert load_network(TINY, name="xiuwen").name == "xiuwen"


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_gpkg_and_shapefile(tmp_path: Path, suffix: str) -> None:
    gdf = gpd.GeoDataFrame(
        {"road_class": ["class2", "class3", None],
         "highway": [None, None, "track"],
         "oneway": [False, True, False]},
        geometry=[shapely.LineString([(106.60, 26.84, 900), (106.61, 26.84, 950)]),
                  shapely.LineString([(106.61, 26.84, 950), (106.61, 26.85, 960)]),
                  shapely.LineString([(106.61, 26.85, 960), (106.60, 26.84, 900)])],
        crs="EPSG:4326")
    path = tmp_path / f"roads{suffix}"
    gdf.to_file(path, engine="pyogrio")
    net = load_network(path)
    _check_invariants(net)
    stats = network_stats(net)
    assert (stats.nodes, stats.edges) == (3, 5)
    assert stats.km_by_class["track"] > 1.0
    assert {d.get("elev_m") for _, d in net.graph.nodes(data=True)} == {900.0, 950.0, 960.0}


def test_projected_layer_is_reprojected(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"road_class": ["class2"]},
                           geometry=[shapely.LineString([(106.60, 26.84), (106.61, 26.84)])],
                           crs="EPSG:4326").to_crs("EPSG:32648")
    path = tmp_path / "utm.gpkg"
    gdf.to_file(path, engine="pyogrio")
    net = load_network(path)
    xs = sorted(d["x"] for _, d in net.graph.nodes(data=True))
    assert xs == pytest.approx([106.60, 106.61], abs=1e-6)


def test_osm_xml() -> None:
    net = load_network(DATA / "tiny.osm")
    _check_invariants(net)
    g = net.graph
    # way 100 split at node 2 (shared with way 101); footway 102 dropped; 103 one-way
    assert set(g.nodes) == {1, 2, 3, 5}
    assert g.number_of_edges() == 7
    assert g.has_edge(3, 5) and not g.has_edge(5, 3)
    assert {d["road_class"] for _, _, d in g.edges(data=True)} == {"class2", "class4", "track"}
    d25 = next(iter(g[2][5].values()))
    assert len(d25["geometry"].coords) == 3  # keeps interior node 4 as geometry
    assert next(iter(g[1][2].values()))["name"] == "G321"


def _edges(net) -> list[tuple]:
    return sorted((u, v, d["edge_id"], d["road_class"], d.get("name"), round(d["length"], 6),
                   tuple(d["geometry"].coords)) for u, v, d in net.graph.edges(data=True))


def test_osm_pbf_streets() -> None:
    """A PBF made here (data/make_streets.py) reads as the same graph as its XML twin."""
    pytest.importorskip("osmium")
    net = load_network(DATA / "streets.osm.pbf")
    assert net.name == "streets"
    assert _edges(net) == _edges(load_network(DATA / "streets.osm"))
    g = net.graph
    stats = network_stats(net)
    assert (stats.nodes, stats.components) == (35, 1)
    assert stats.km_by_class["class2"] == pytest.approx(0.496, abs=0.002)  # 5 x 99 m, G210
    assert {d["name"] for _, _, d in g.edges(data=True) if d["road_class"] == "class2"} == {"G210"}
    # Street 3 is oneway=-1: its edges run against the node order only
    assert g.has_edge(1032, 1031) and not g.has_edge(1031, 1032)
    # the roundabout is one-way; the footway and the building are not roads
    ring = sorted((u, v, d["edge_id"]) for u, v, d in g.edges(data=True)
                  if d["edge_id"].startswith("201:"))
    assert ring == [(2001, 2004, "201:0"), (2004, 2001, "201:1")]
    assert 3002 not in g and 4001 not in g
    # way 204 lost node 9999: split there, both stubs kept, nothing joins them
    assert g.has_edge(1043, 3003) and g.has_edge(3004, 3001) and not g.has_edge(3003, 3004)
    lengths = [d["length"] for _, _, d in g.edges(data=True)]
    assert min(lengths) > 40 and max(lengths) < 300  # the track runs 282 m


BAD = [
    ("bad_class.geojson",
     r"feature 0\.road_class: unknown road class 'class9'.*expressway, class1"),
    ("nan_coord.geojson", r"NaN"),
    ("out_of_range.geojson", r"out of range"),
    ("not_a_geojson.geojson", r"cannot read as GeoJSON"),
    ("empty.geojson", r"no LineString/MultiLineString features"),
    ("points_only.geojson", r"no LineString/MultiLineString features"),
    ("zero_length.geojson", r"length must be > 0"),
    ("no_class.geojson", r"neither road_class nor highway"),
    ("broken.graphml", r"cannot read as GraphML"),
    ("not_a_pbf.pbf", r"cannot read as OSM pbf"),
    ("missing.geojson", r"file not found"),
]


@pytest.mark.parametrize(("name", "match"), BAD)
def test_bad_inputs(name: str, match: str) -> None:
    path = DATA / name
    with pytest.raises(NetworkError, match=match) as info:
        load_network(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) and "\n" not in msg


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "roads.txt"
    path.write_text("x")
    with pytest.raises(NetworkError, match=r"unknown network file type '\.txt'.*\.graphml"):
        load_network(path)


def test_unknown_highway_in_line_layer(tmp_path: Path) -> None:
    path = tmp_path / "foot.geojson"
    gpd.GeoDataFrame({"highway": ["footway"]},
                     geometry=[shapely.LineString([(106.6, 26.8), (106.61, 26.8)])],
                     crs="EPSG:4326").to_file(path, engine="pyogrio")
    with pytest.raises(NetworkError, match=r"not a routable highway tag \(got 'footway'\)"):
        load_network(path)


def _same_network(a, b) -> None:
    sa, sb = network_stats(a), network_stats(b)
    assert (sa.nodes, sa.edges) == (sb.nodes, sb.edges)

    def roads(net):
        return sorted((d["edge_id"], d["road_class"], round(d["length"]))
                      for _, _, d in net.graph.edges(data=True))

    ra, rb = roads(a), roads(b)
    assert [r[:2] for r in ra] == [r[:2] for r in rb]
    assert all(abs(x[2] - y[2]) <= 1 for x, y in zip(ra, rb, strict=True))


@pytest.mark.parametrize("suffix", [".geojson", ".graphml", ".gpkg"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    net = scale_speeds(load_network(TINY), {"class4": 0.5})
    out = tmp_path / f"copy{suffix}"
    write_network(net, out)
    back = load_network(out)
    _same_network(net, back)
    _check_invariants(back)
    elev = sorted(d["elev_m"] for _, d in back.graph.nodes(data=True))
    assert elev == sorted(d["elev_m"] for _, d in net.graph.nodes(data=True))
    factors = {d["edge_id"]: d["speed_factor"] for _, _, d in back.graph.edges(data=True)}
    assert factors["ea"] == 0.5 and factors["ab"] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp files left


def test_round_trip_osm_to_graphml(tmp_path: Path) -> None:
    net = load_network(DATA / "tiny.osm")
    write_network(net, tmp_path / "osm.graphml")
    back = load_network(tmp_path / "osm.graphml")
    _same_network(net, back)
    assert set(back.graph.nodes) == set(net.graph.nodes)  # int node ids survive


def test_osmnx_style_graphml(tmp_path: Path) -> None:
    """OSMnx saves every attribute as a string and uses highway, not road_class."""
    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_node(10, x="106.6", y="26.84", elevation="1000")
    g.add_node(11, x="106.61", y="26.84", elevation="1050")
    g.add_edge(10, 11, length="1000.0", highway="['tertiary', 'residential']", oneway="False",
               geometry="LINESTRING (106.6 26.84, 106.605 26.841, 106.61 26.84)")
    g.add_edge(11, 10, length="1000.0", highway="tertiary", oneway="False")
    nx.write_graphml(g, tmp_path / "osmnx.graphml")
    net = load_network(tmp_path / "osmnx.graphml")
    d = net.graph.edges[10, 11, 0]
    assert d["road_class"] == "class3" and d["length"] == 1000.0
    assert d["grade"] == pytest.approx(0.05)
    assert d["edge_id"] == net.graph.edges[11, 10, 0]["edge_id"]
    assert net.graph.nodes[11]["elev_m"] == 1050.0


def test_write_bad_suffix(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="cannot write network as '.csv'"):
        write_network(load_network(TINY), tmp_path / "x.csv")


def test_close_edges_and_scale_never_mutate() -> None:
    net = load_network(TINY)
    before = nx.to_dict_of_dicts(net.graph)
    closed = close_edges(net, ["bd", "de"])
    assert closed.graph.number_of_edges() == net.graph.number_of_edges() - 3
    assert not any(d["edge_id"] in ("bd", "de") for _, _, d in closed.graph.edges(data=True))
    rainy = scale_speeds(net, {"class3": 0.7, "class4": 0.7})
    assert {d["speed_factor"] for _, _, d in rainy.graph.edges(data=True)
            if d["road_class"] in ("class3", "class4")} == {0.7}
    assert nx.to_dict_of_dicts(net.graph) == before
    assert all(d["speed_factor"] == 1.0 for _, _, d in net.graph.edges(data=True))


def test_close_unknown_edge() -> None:
    with pytest.raises(NetworkError, match=r"unknown edge_id nope, zzz"):
        close_edges(load_network(TINY), ["ab", "zzz", "nope"])


def test_scale_speeds_bad() -> None:
    net = load_network(TINY)
    with pytest.raises(NetworkError, match="unknown road class 'dirt'"):
        scale_speeds(net, {"dirt": 0.5})
    with pytest.raises(NetworkError, match=r"must be a number > 0 \(got 0\)"):
        scale_speeds(net, {"class4": 0})


def test_path_coords_follows_geometry() -> None:
    net = load_network(TINY)
    g = net.graph
    u, v = next((a, b) for a, b, d in g.edges(data=True) if d["edge_id"] == "bd")
    coords = path_coords(net, [u, v])
    assert len(coords) == 3  # the bend
    assert coords[0] == (g.nodes[u]["x"], g.nodes[u]["y"])
    assert coords[-1] == pytest.approx((g.nodes[v]["x"], g.nodes[v]["y"]))
    w = next(iter(g[v]))
    assert len(path_coords(net, [u, v, w])) >= 4
    with pytest.raises(NetworkError, match="no road from node"):
        path_coords(net, [0, 6])
