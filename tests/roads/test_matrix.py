"""Travel matrices, paths and reachability, with Hypothesis properties on random networks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimizer.roads.matrix as matrix_mod
from optimizer.errors import NetworkError
from optimizer.roads import (
    DEFAULT_PROFILES,
    ROAD_CLASSES,
    UNREACHABLE,
    Snap,
    TravelMatrix,
    check_reachable,
    close_edges,
    edge_speed_kph,
    load_network,
    path_coords,
    scale_speeds,
    snap_sites,
    travel_matrix,
    travel_minutes,
)

from ._helpers import TINY, make_network

TRUCK = DEFAULT_PROFILES["truck"]


@st.composite
def networks(draw):
    """A random network whose two-way spanning tree makes it strongly connected, plus extra
    (possibly one-way or parallel) roads, and one snapped site per node."""
    n = draw(st.integers(2, 9))
    cells = draw(st.lists(st.integers(0, 99), min_size=n, max_size=n, unique=True))
    nodes = {i: (106.6 + (c % 10) * 0.004, 26.8 + (c // 10) * 0.004, draw(st.floats(800, 1200)))
             for i, c in enumerate(cells)}
    classes = st.sampled_from(ROAD_CLASSES)
    roads = [(i, draw(st.integers(0, i - 1)), draw(classes), f"t{i}") for i in range(1, n)]
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), classes,
                                    st.booleans()), max_size=2 * n))
    roads += [(a, b, c, f"x{k}", ow) for k, (a, b, c, ow) in enumerate(extra) if a != b]
    net = make_network(nodes, roads)
    access = draw(st.lists(st.floats(0, 300), min_size=n, max_size=n))
    snaps = {f"s{i}": Snap(f"s{i}", i, access[i]) for i in range(n)}
    return net, snaps


def _nx_times(net, profile) -> dict:
    g = nx.DiGraph()
    g.add_nodes_from(net.graph.nodes)
    for u, v, d in net.graph.edges(data=True):
        if d["road_class"] in profile.forbidden:
            continue
        t = d["length"] / (edge_speed_kph(d, profile) / 3.6)
        if not g.has_edge(u, v) or g[u][v]["t"] > t:
            g.add_edge(u, v, t=t, length=d["length"])
    return dict(nx.all_pairs_dijkstra_path_length(g, weight="t"))


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(networks(), st.sampled_from(sorted(DEFAULT_PROFILES)))
def test_matrix_matches_networkx_and_is_metric(case, profile_name) -> None:
    net, snaps = case
    profile = DEFAULT_PROFILES[profile_name]
    m = travel_matrix(net, snaps, profile)
    dur, dist = m.duration_s, m.distance_m
    n = len(snaps)
    assert dur.dtype == np.int64 and dist.dtype == np.int64 and dur.shape == (n, n)
    assert (np.diag(dur) == 0).all() and (np.diag(dist) == 0).all()
    assert (dur >= 0).all() and (dist >= 0).all()
    assert ((dur == UNREACHABLE) == (dist == UNREACHABLE)).all()
    if not profile.forbidden:
        assert m.reachable.all()
    ref = _nx_times(net, profile)
    acc = np.array([s.distance_m / (15 / 3.6) for s in snaps.values()])
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            t = ref[i].get(j)
            if t is None:
                assert dur[i, j] == UNREACHABLE
            else:
                assert abs(dur[i, j] - (acc[i] + t + acc[j])) <= 1.0
    # triangle inequality on durations (whole-second rounding: +1 per leg)
    via = dur[:, :, None] + dur[None, :, :]  # via[i, j, k] = dur[i, j] + dur[j, k]
    assert (dur[:, None, :] <= via + 1).all()


@FAST
@given(networks(), st.sampled_from(sorted(DEFAULT_PROFILES)), st.data())
def test_rectangular_minutes_equal_the_matrix(case, profile_name, data) -> None:
    net, snaps = case
    ids = list(snaps)
    rows = data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    cols = data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    profile = DEFAULT_PROFILES[profile_name]
    m = travel_matrix(net, snaps, profile)
    got = travel_minutes(net, {r: snaps[r] for r in rows}, {c: snaps[c] for c in cols},
                         profile)
    sub = m.duration_s[np.ix_([m.index(r) for r in rows], [m.index(c) for c in cols])]
    assert np.array_equal(got, np.where(sub < UNREACHABLE, sub / 60.0, np.inf))


@FAST
@given(networks(), st.data())
def test_closing_or_forbidding_never_shortens(case, data) -> None:
    net, snaps = case
    base = travel_matrix(net, snaps, TRUCK)
    ids = sorted({d["edge_id"] for _, _, d in net.graph.edges(data=True)})
    closed = data.draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    after = travel_matrix(close_edges(net, closed), snaps, TRUCK)
    assert (after.duration_s >= base.duration_s).all()
    forbid = data.draw(st.lists(st.sampled_from(ROAD_CLASSES), max_size=3, unique=True))
    limited = travel_matrix(net, snaps, TRUCK, forbidden_classes=forbid)
    assert (limited.duration_s >= base.duration_s).all()
    slower = travel_matrix(scale_speeds(net, {c: 0.5 for c in forbid}), snaps, TRUCK)
    assert (slower.duration_s >= base.duration_s).all()


@FAST
@given(networks())
def test_paths_are_consistent_with_matrix(case) -> None:
    net, snaps = case
    m = travel_matrix(net, snaps, TRUCK)
    g = net.graph
    acc = {k: s.distance_m / (15 / 3.6) for k, s in snaps.items()}
    for i in m.ids:
        for j in m.ids:
            nodes = m.path(i, j)
            assert nodes[0] == snaps[i].node and nodes[-1] == snaps[j].node
            if i == j:
                continue
            t = d = 0.0
            for a, b in zip(nodes[:-1], nodes[1:], strict=True):
                best = min(g[a][b].values(), key=lambda e: e["length"] / edge_speed_kph(e, TRUCK))
                t += best["length"] / (edge_speed_kph(best, TRUCK) / 3.6)
                d += best["length"]
            extra = snaps[i].distance_m + snaps[j].distance_m
            assert abs(m.duration_s[m.index(i), m.index(j)] - (t + acc[i] + acc[j])) <= 1.0
            assert abs(m.distance_m[m.index(i), m.index(j)] - (d + extra)) <= 1.0
            assert len(path_coords(net, nodes)) >= len(nodes)


def test_fastest_path_distance_is_reported() -> None:
    """A short slow track against a longer expressway detour: time picks the expressway and
    the matrix reports the expressway's (longer) distance."""
    nodes = {"a": (106.60, 26.80), "b": (106.61, 26.80), "c": (106.605, 26.81)}
    net = make_network(nodes, [("a", "b", "track", "short"), ("a", "c", "expressway", "e1"),
                               ("c", "b", "expressway", "e2")])
    snaps = {"A": Snap("A", "a", 0.0), "B": Snap("B", "b", 0.0)}
    m = travel_matrix(net, snaps, TRUCK)
    lengths = {d["edge_id"]: d["length"] for _, _, d in net.graph.edges(data=True)}
    detour = lengths["e1"] + lengths["e2"]
    assert m.distance_m[0, 1] == round(detour)
    assert m.duration_s[0, 1] == round(detour / (80 / 3.6))
    assert m.path("A", "B") == ["a", "c", "b"]
    tri = travel_matrix(net, snaps, DEFAULT_PROFILES["tricycle"])  # no expressways
    assert tri.distance_m[0, 1] == round(lengths["short"])
    assert tri.path("A", "B") == ["a", "b"]


def test_access_legs_and_shared_nodes() -> None:
    net = load_network(TINY)
    snaps = snap_sites(net, [("x", 106.6101, 26.84), ("y", 106.6099, 26.84),
                             ("z", 106.62, 26.84)], max_snap_m=50)
    assert snaps["x"].node == snaps["y"].node
    m = travel_matrix(net, snaps, TRUCK, access_speed_kph=10)
    legs = snaps["x"].distance_m + snaps["y"].distance_m
    assert m.distance_m[0, 1] == round(legs)
    assert m.duration_s[0, 1] == round(legs / (10 / 3.6))
    assert m.path("x", "y") == [snaps["x"].node]
    assert m.profile == "truck" and m.ids == ("x", "y", "z")


def test_unreachable_pairs_and_check_reachable() -> None:
    nodes = {i: (106.6 + 0.01 * i, 26.8) for i in range(6)}
    roads = [(0, 1, "class2", "a"), (1, 2, "class2", "b"),  # island 1
             (3, 4, "class3", "c"),  # island 2
             (2, 5, "track", "d", True)]  # one-way out: 5 can be reached but not leave
    net = make_network(nodes, roads)
    snaps = {f"v{i}": Snap(f"v{i}", i, 0.0) for i in (0, 1, 2, 3, 4, 5)}
    m = travel_matrix(net, snaps, TRUCK)
    assert not m.reachable[0, 3] and m.duration_s[0, 3] == UNREACHABLE
    assert m.distance_m[3, 0] == UNREACHABLE
    assert m.reachable[0, 5] and not m.reachable[5, 0]
    with pytest.raises(NetworkError, match="no road path from v0 to v3"):
        m.path("v0", "v3")
    with pytest.raises(NetworkError, match=r"3 of 6 sites cannot reach or be reached from the "
                       r"others on the road network: v3, v4, v5; add or reopen") as info:
        check_reachable(net, snaps, source="inst.toml")
    assert str(info.value).startswith("inst.toml: sites:")
    check_reachable(net, {k: snaps[k] for k in ("v0", "v1", "v2")})


def test_check_reachable_truncates_long_lists() -> None:
    nodes = {i: (106.6 + 0.01 * i, 26.8) for i in range(30)}
    net = make_network(nodes, [(0, 1, "class2", "a")])
    snaps = {f"v{i:02d}": Snap(f"v{i:02d}", i, 0.0) for i in range(30)}
    with pytest.raises(NetworkError, match=r"28 of 30 sites .*v11 and 18 more"):
        check_reachable(net, snaps)


def test_overflow_guard_coarsens_time(monkeypatch) -> None:
    net = load_network(TINY)
    snaps = snap_sites(net, [("a", 106.60, 26.84), ("b", 106.64, 26.845), ("c", 106.61, 26.85)],
                       max_snap_m=10)
    ref = travel_matrix(net, snaps, TRUCK)
    monkeypatch.setattr(matrix_mod, "_T_BUDGET", 2**14)
    coarse = travel_matrix(net, snaps, TRUCK)
    assert np.abs(coarse.duration_s - ref.duration_s).max() <= 2
    assert np.abs(coarse.distance_m - ref.distance_m).max() <= 1


def test_bad_arguments() -> None:
    net = load_network(TINY)
    snaps = snap_sites(net, [("a", 106.60, 26.84)], max_snap_m=10)
    with pytest.raises(NetworkError, match="forbidden_classes: unknown road class"):
        travel_matrix(net, snaps, TRUCK, forbidden_classes=["dirt"])
    with pytest.raises(NetworkError, match="access_speed_kph: must be > 0"):
        travel_matrix(net, snaps, TRUCK, access_speed_kph=0)
    with pytest.raises(NetworkError, match="node not in the network"):
        travel_matrix(net, {"q": Snap("q", 999, 0.0)}, TRUCK)
    m = travel_matrix(net, snaps, TRUCK)
    with pytest.raises(NetworkError, match="unknown site id 'zz'"):
        m.path("a", "zz")
    bare = TravelMatrix("truck", ("a",), np.zeros((1, 1), np.int64), np.zeros((1, 1), np.int64))
    with pytest.raises(NetworkError, match="no road network attached"):
        bare.path("a", "a")
    with pytest.raises(NetworkError, match="int64 array of shape"):
        TravelMatrix("truck", ("a", "b"), np.zeros((1, 1), np.int64), np.zeros((1, 1), np.int64))


@FAST
@given(networks(), st.sampled_from(sorted(DEFAULT_PROFILES)))
def test_vectorised_speeds_match_edge_speed_kph(case, profile_name) -> None:
    net, _ = case
    profile = DEFAULT_PROFILES[profile_name]
    net = scale_speeds(net, {"class3": 0.7})
    nodes, index = matrix_mod._node_index(net)
    _, _, length, time_s = matrix_mod._edge_arrays(net, profile, profile.forbidden, index)
    expected = [d["length"] / (edge_speed_kph(d, profile) / 3.6)
                for _, _, d in net.graph.edges(data=True)
                if d["road_class"] not in profile.forbidden]
    assert time_s == pytest.approx(expected, rel=1e-12)


def test_parallel_jobs_give_identical_matrices(monkeypatch) -> None:
    monkeypatch.setattr(matrix_mod, "_PARALLEL_MIN_SOURCES", 2)
    nodes = {i: (106.6 + (i % 5) * 0.004, 26.8 + (i // 5) * 0.004, 1000.0 + 10 * i)
             for i in range(25)}
    roads = [(i, i + 1, "class3", f"h{i}") for i in range(24) if i % 5 != 4]
    roads += [(i, i + 5, "class4", f"v{i}") for i in range(20)]
    net = make_network(nodes, roads)
    snaps = {f"s{i}": Snap(f"s{i}", i, 10.0 * i) for i in range(25)}
    one = travel_matrix(net, snaps, TRUCK, jobs=1)
    two = travel_matrix(net, snaps, TRUCK, jobs=2)
    assert np.array_equal(one.duration_s, two.duration_s)
    assert np.array_equal(one.distance_m, two.distance_m)
    assert one.reachable.all()


@st.composite
def shared_node_networks(draw):
    """A random network whose sites share nodes (villages and their pickup points)."""
    net, snaps = draw(networks())
    more = {f"p{k}": Snap(f"p{k}", s.node, draw(st.floats(0, 300)))
            for k, s in enumerate(snaps.values()) if draw(st.booleans())}
    return net, {**snaps, **more}


@FAST
@given(shared_node_networks(), st.sampled_from(sorted(DEFAULT_PROFILES)), st.data())
def test_rectangles_and_pairs_equal_the_dense_matrix(case, profile_name, data) -> None:
    """The node-level matrix gives, for any rows and columns, exactly the site values the
    whole site x site arrays hold (access legs, zero diagonal, UNREACHABLE)."""
    import pickle

    net, snaps = case
    m = travel_matrix(net, snaps, DEFAULT_PROFILES[profile_name])
    dur, dist = m.duration_s, m.distance_m
    n = len(snaps)
    assert dur.shape == dist.shape == (n, n) and dur.dtype == dist.dtype == np.int64
    assert (np.diag(dur) == 0).all() and (np.diag(dist) == 0).all()
    rows = data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n))
    cols = data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n))
    assert np.array_equal(m.durations(rows, cols), dur[np.ix_(rows, cols)])
    assert np.array_equal(m.distances(np.array(rows, np.int64), cols),
                          dist[np.ix_(rows, cols)])
    for i, j in zip(rows, cols, strict=False):
        assert m.pair(i, j) == (dist[i, j], dur[i, j])
    back = pickle.loads(pickle.dumps(m))
    assert np.array_equal(back.duration_s, dur) and back.index(m.ids[-1]) == n - 1
    # sites sharing a node are stored once
    assert m.nbytes <= 8 * len({s.node for s in snaps.values()}) ** 2 + 40 * n


def test_matrix_memory_is_per_node_pair(tmp_path) -> None:
    """Many sites on few nodes: the values take 8 bytes per node pair, not 16 per site
    pair."""
    net = load_network(TINY)
    nodes = list(net.graph.nodes)
    snaps = {f"s{k}": Snap(f"s{k}", nodes[k % len(nodes)], float(k)) for k in range(400)}
    m = travel_matrix(net, snaps, TRUCK)
    assert m.nbytes < 400 * 400 * 16 / 20
    dense = TravelMatrix("truck", m.ids, m.distance_m, m.duration_s)
    assert dense.nbytes == 400 * 400 * 16
    rows, cols = [0, 7, 399, 12], [5, 399, 0]
    assert np.array_equal(dense.durations(rows, cols), m.durations(rows, cols))
    assert np.array_equal(dense.distances(rows, cols), m.distances(rows, cols))
    assert dense.pair(7, 5) == m.pair(7, 5)
