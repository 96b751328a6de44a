"""Benchmark: optimizer.roads.travel_matrix against per-source networkx Dijkstra (and pandana).

Builds a perturbed grid road network (~``--edges`` directed edges, random road classes and
elevations), snaps ``--sites`` random sites, then times:

- ``travel_matrix`` (scipy csgraph, time + distance of the fastest path, access legs);
- networkx ``single_source_dijkstra_path_length`` on the same MultiDiGraph with a
  precomputed ``travel_time`` attribute, and on a collapsed DiGraph (nx's fastest option),
  over ``--nx-sources`` sources, extrapolated linearly to all source nodes;
- pandana's contraction-hierarchy ``shortest_path_lengths``, if pandana is importable.

Appends a row to benchmarks/results/matrix.csv. Usage::

    python benchmarks/matrix.py --seed 0 --edges 100000 --sites 1000
"""

from __future__ import annotations

import argparse
import csv
import math
import platform
import time
from pathlib import Path

import networkx as nx
import numpy as np
import shapely

from optimizer.roads import (
    DEFAULT_PROFILES,
    ROAD_CLASSES,
    RoadNetwork,
    edge_speed_kph,
    snap_sites,
    travel_matrix,
)
from optimizer.roads._network import edge_shape, haversine_m

RESULTS = Path(__file__).parent / "results" / "matrix.csv"


def grid_network(n_edges: int, seed: int) -> RoadNetwork:
    """Perturbed two-way grid with about ``n_edges`` directed edges (~4 per node)."""
    rng = np.random.default_rng(seed)
    side = max(2, round(math.sqrt(n_edges / 4)))
    step = 0.002  # degrees, ~200 m
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    lon = 106.3 + jj.ravel() * step + rng.uniform(-0.3, 0.3, side * side) * step
    lat = 26.7 + ii.ravel() * step + rng.uniform(-0.3, 0.3, side * side) * step
    elev = 1000 + 150 * np.sin(lon * 300) * np.cos(lat * 250) + rng.normal(0, 10, side * side)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    classes = rng.choice(ROAD_CLASSES, size=u.size, p=[0.02, 0.05, 0.13, 0.3, 0.35, 0.15])
    bend = rng.uniform(1.0, 1.5, u.size)  # winding mountain roads
    g = nx.MultiDiGraph(crs="EPSG:4326")
    g.add_nodes_from((k, {"x": float(lon[k]), "y": float(lat[k]), "elev_m": float(elev[k])})
                     for k in range(side * side))
    straight = haversine_m(lon[u], lat[u], lon[v], lat[v])
    geoms = shapely.linestrings(np.stack([np.column_stack([lon[u], lat[u]]),
                                          np.column_stack([lon[v], lat[v]])], axis=1))
    edges = []
    for e in range(u.size):
        a, b = int(u[e]), int(v[e])
        length = float(straight[e] * bend[e])
        grade, sin = edge_shape(length, lon[a], lat[a], lon[b], lat[b], elev[a], elev[b])
        base = {"length": length, "road_class": str(classes[e]), "edge_id": f"g{e}",
                "sinuosity": sin, "speed_factor": 1.0, "oneway": False}
        edges.append((a, b, {**base, "grade": grade, "geometry": geoms[e]}))
        edges.append((b, a, {**base, "grade": -grade, "geometry": geoms[e].reverse()}))
    g.add_edges_from(edges)
    return RoadNetwork(graph=g, name=f"grid{side}", source="<generated>")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--edges", type=int, default=100_000)
    ap.add_argument("--sites", type=int, default=1_000)
    ap.add_argument("--nx-sources", type=int, default=50,
                    help="networkx sources to time; the total is extrapolated linearly")
    ap.add_argument("--profile", default="truck", choices=sorted(DEFAULT_PROFILES))
    ap.add_argument("--jobs", type=int, default=2,
                    help="worker processes for travel_matrix (the machine has 2 cores)")
    args = ap.parse_args()
    profile = DEFAULT_PROFILES[args.profile]
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()
    net = grid_network(args.edges, args.seed)
    g = net.graph
    print(f"network: {g.number_of_nodes()} nodes, {g.number_of_edges()} directed edges "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    xs = np.array([d["x"] for _, d in g.nodes(data=True)])
    ys = np.array([d["y"] for _, d in g.nodes(data=True)])
    sites = [(f"s{k}", float(rng.uniform(xs.min(), xs.max())),
              float(rng.uniform(ys.min(), ys.max()))) for k in range(args.sites)]
    snaps = snap_sites(net, sites, max_snap_m=5_000)
    sources = list(dict.fromkeys(s.node for s in snaps.values()))
    print(f"sites: {len(snaps)} on {len(sources)} distinct nodes")

    t0 = time.perf_counter()
    m = travel_matrix(net, snaps, profile, jobs=args.jobs)
    t_matrix = time.perf_counter() - t0
    print(f"travel_matrix ({args.profile}, time + distance, {len(snaps)}x{len(snaps)}, "
          f"{args.jobs} process(es)): {t_matrix:.2f} s; reachable {m.reachable.mean():.1%}")
    if args.jobs > 1:
        t0 = time.perf_counter()
        m1 = travel_matrix(net, snaps, profile, jobs=1)
        print(f"travel_matrix with 1 process: {time.perf_counter() - t0:.2f} s "
              f"(same values: {np.array_equal(m1.duration_s, m.duration_s)})")

    # networkx on the same graph with a precomputed travel_time attribute (OSMnx style)
    gm = nx.MultiDiGraph()
    gm.add_edges_from((u, v, k, {"travel_time": d["length"] / (edge_speed_kph(d, profile) / 3.6)})
                      for u, v, k, d in g.edges(keys=True, data=True))
    gd = nx.DiGraph()
    for u, v, d in gm.edges(data=True):
        if not gd.has_edge(u, v) or gd[u][v]["travel_time"] > d["travel_time"]:
            gd.add_edge(u, v, travel_time=d["travel_time"])
    n_timed = min(args.nx_sources, len(sources))
    results = {}
    for label, graph in (("MultiDiGraph", gm), ("DiGraph", gd)):
        t0 = time.perf_counter()
        for s in sources[:n_timed]:
            nx.single_source_dijkstra_path_length(graph, s, weight="travel_time")
        took = time.perf_counter() - t0
        est = took * len(sources) / n_timed
        results[label] = est
        note = "" if n_timed == len(sources) else (
            f" (timed {n_timed} sources: {took:.2f} s, extrapolated linearly)")
        print(f"networkx {label} per-source Dijkstra, {len(sources)} sources, time only: "
              f"{est:.1f} s{note}; ratio {est / t_matrix:.1f}x")

    t_pandana = float("nan")
    try:
        import pandana  # noqa: F401
    except ImportError:
        print("pandana: not installed, skipped")
    else:  # pragma: no cover - optional peer
        import pandas as pd

        ed = [(u, v, d["travel_time"]) for u, v, d in gd.edges(data=True)]
        t0 = time.perf_counter()
        node_ids = range(len(xs))
        pnet = pandana.Network(pd.Series(xs, index=node_ids), pd.Series(ys, index=node_ids),
                               pd.Series([e[0] for e in ed]), pd.Series([e[1] for e in ed]),
                               pd.DataFrame({"t": [e[2] for e in ed]}), twoway=False)
        src = np.repeat(sources, len(sources))
        dst = np.tile(sources, len(sources))
        pnet.shortest_path_lengths(src, dst, imp_name="t")
        t_pandana = time.perf_counter() - t0
        print(f"pandana (CH build + {src.size} queries): {t_pandana:.2f} s")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    new = not RESULTS.exists()
    with RESULTS.open("a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["instance", "seed", "nodes", "edges", "sites", "source_nodes",
                        "matrix_s", "nx_multidigraph_s", "nx_digraph_s", "nx_sources_timed",
                        "ratio_vs_nx_multidigraph", "ratio_vs_nx_digraph", "pandana_s",
                        "machine"])
        w.writerow([net.name, args.seed, g.number_of_nodes(), g.number_of_edges(), len(snaps),
                    len(sources), f"{t_matrix:.3f}", f"{results['MultiDiGraph']:.2f}",
                    f"{results['DiGraph']:.2f}", n_timed,
                    f"{results['MultiDiGraph'] / t_matrix:.1f}",
                    f"{results['DiGraph'] / t_matrix:.1f}", f"{t_pandana:.3f}",
                    platform.processor() or platform.machine()])
    print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
