"""Travel matrices between snapped sites: fastest paths with scipy.sparse.csgraph.

Each edge weight encodes time and distance lexicographically in one float64 integer::

    w = t_units * 2**30 + d_units      (t_units of ``q_t`` seconds, d_units of 1 cm)

so one Dijkstra run per source yields both the minimum travel time and the length of that
fastest path (ties in time go to the shorter path). Sums stay exact integers below 2**53;
when a result could have overflowed (paths of more than about 23 h or 10,000 km) the time
quantum grows 8x and the run is repeated. Per-edge rounding is at most 0.01 s and 0.5 cm.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from optimizer._parallel import process_pool
from optimizer.errors import NetworkError

from ._network import ROAD_CLASSES, RoadNetwork, _id_list
from .snap import Snap
from .speeds import SpeedProfile

logger = logging.getLogger(__name__)

#: Value stored in ``distance_m`` and ``duration_s`` for pairs with no path.
UNREACHABLE: int = 10**12

_D_UNIT_M = 0.01  # distance quantum, metres
_M = float(2**30)  # distance units per time unit in the encoding (10,737 km)
_T_BUDGET = 2**22  # largest safe t_units of a path (encoded value < 2**52)
_Q_T0 = 0.02  # initial time quantum, seconds
_CHUNK_CELLS = 4_000_000  # Dijkstra rows per call: chunk x nodes <= this (32 MB of float64)
_PARALLEL_MIN_SOURCES = 200  # fewer sources than this: one process is faster
_PATH_CACHE = 64  # predecessor arrays kept by TravelMatrix.path (one per source node)


class _Router:
    """The weighted CSR graph a matrix was computed on, for lazy path recovery."""

    def __init__(self, csr: sp.csr_matrix, nodes: list[Any], site_node: dict[str, int]) -> None:
        self.csr = csr
        self.nodes = nodes
        self.site_node = site_node
        self._pred: OrderedDict[int, np.ndarray] = OrderedDict()

    def predecessors(self, src: int) -> np.ndarray:
        pred = self._pred.get(src)
        if pred is None:
            _, pred = dijkstra(self.csr, indices=src, return_predecessors=True)
            self._pred[src] = pred
            if len(self._pred) > _PATH_CACHE:
                self._pred.popitem(last=False)
        else:
            self._pred.move_to_end(src)
        return pred


class _NodeValues:
    """Fastest paths between the distinct graph nodes the sites snap to, in integer units
    (int32: t_units of ``q_t`` seconds and d_units of 1 cm; -1 where there is no path),
    with each site's node row and access legs. Site values are derived exactly as a dense
    site x site matrix would hold them (same float operations, then rounded)."""

    __slots__ = ("acc_d", "acc_t", "d_units", "pos", "q_t", "t_units")

    def __init__(self, t_units: np.ndarray, d_units: np.ndarray, q_t: float, pos: np.ndarray,
                 acc_t: np.ndarray, acc_d: np.ndarray) -> None:
        self.t_units, self.d_units, self.q_t = t_units, d_units, q_t
        self.pos, self.acc_t, self.acc_d = pos, acc_t, acc_d

    def block(self, rows: np.ndarray, cols: np.ndarray, which: str) -> np.ndarray:
        """int64 (rows x cols) seconds (``which="t"``) or metres (``"d"``) between sites."""
        nr, nc = self.pos[rows], self.pos[cols]
        t = self.t_units[np.ix_(nr, nc)]
        unreachable = t < 0
        if which == "t":
            out = t.astype(np.float64)
            out *= self.q_t
            acc = self.acc_t
        else:
            out = self.d_units[np.ix_(nr, nc)].astype(np.float64)
            out *= _D_UNIT_M
            acc = self.acc_d
        out[unreachable] = 0.0
        out += acc[rows][:, None]
        out += acc[cols][None, :]
        np.rint(out, out=out)
        res = out.astype(np.int64)
        res[unreachable] = UNREACHABLE
        res[rows[:, None] == cols[None, :]] = 0
        return res

    @property
    def nbytes(self) -> int:
        return int(self.t_units.nbytes + self.d_units.nbytes + self.pos.nbytes
                   + self.acc_t.nbytes + self.acc_d.nbytes)


def _indices(ix: Iterable[int] | np.ndarray) -> np.ndarray:
    """``ix`` as an int64 index array."""
    return np.asarray(ix if isinstance(ix, np.ndarray) else list(ix), dtype=np.int64)


class TravelMatrix:
    """Fastest-path durations (s) and their distances (m) between sites, for one profile.

    Row/column order is ``ids``. Values are int64 with a zero diagonal; pairs without a path
    hold :data:`UNREACHABLE`. Off-diagonal values include the access legs between each site
    and its snapped node.

    :func:`travel_matrix` stores the paths between the distinct graph nodes the sites snap
    to (int32 units, a quarter of the memory of two int64 site x site arrays when villages
    and pickup points share nodes, and 8 bytes per node pair); :meth:`durations`,
    :meth:`distances` and :meth:`pair` derive site values on demand. ``duration_s`` and
    ``distance_m`` build the whole site x site arrays on each access (tests, small cases):
    library code asks for the rectangles it needs. Built directly from two int64 arrays
    (``TravelMatrix(profile, ids, distance_m, duration_s)``), the arrays are kept as given.
    """

    __slots__ = ("_dense_d", "_dense_t", "_index", "_nodes", "_router", "ids", "profile")

    def __init__(self, profile: str, ids: tuple[str, ...], distance_m: np.ndarray | None,
                 duration_s: np.ndarray | None, _router: _Router | None = None,
                 _nodes: _NodeValues | None = None) -> None:
        self.profile = profile
        self.ids = tuple(ids)
        n = len(self.ids)
        if _nodes is None:
            for name, a in (("distance_m", distance_m), ("duration_s", duration_s)):
                if not isinstance(a, np.ndarray) or a.shape != (n, n) or a.dtype != np.int64:
                    raise NetworkError.at(None, f"TravelMatrix.{name}",
                                          f"must be an int64 array of shape ({n}, {n})",
                                          got=getattr(a, "shape", type(a).__name__))
        self._dense_d, self._dense_t = distance_m, duration_s
        self._nodes = _nodes
        self._router = _router
        self._index = {sid: k for k, sid in enumerate(self.ids)}
        if len(self._index) != n:
            raise NetworkError.at(None, "TravelMatrix.ids", "must be unique")

    def __getstate__(self) -> tuple:
        return (self.profile, self.ids, self._dense_d, self._dense_t, self._router, self._nodes)

    def __setstate__(self, state: tuple) -> None:
        profile, ids, d, t, router, nodes = state
        self.profile, self.ids = profile, ids
        self._dense_d, self._dense_t, self._router, self._nodes = d, t, router, nodes
        self._index = {sid: k for k, sid in enumerate(ids)}

    def __repr__(self) -> str:
        return f"TravelMatrix(profile={self.profile!r}, sites={len(self.ids)})"

    @property
    def nbytes(self) -> int:
        """Bytes held by the matrix's values (not its road graph)."""
        if self._nodes is not None:
            return self._nodes.nbytes
        return int(self._dense_d.nbytes + self._dense_t.nbytes)  # type: ignore[union-attr]

    def _all(self) -> np.ndarray:
        return np.arange(len(self.ids), dtype=np.int64)

    def durations(self, rows: Iterable[int] | np.ndarray,
                  cols: Iterable[int] | np.ndarray) -> np.ndarray:
        """int64 (rows x cols) seconds between the sites at those row/column indices."""
        return self._block(rows, cols, "t")

    def distances(self, rows: Iterable[int] | np.ndarray,
                  cols: Iterable[int] | np.ndarray) -> np.ndarray:
        """int64 (rows x cols) metres of the fastest paths between those sites."""
        return self._block(rows, cols, "d")

    def _block(self, rows: Iterable[int] | np.ndarray, cols: Iterable[int] | np.ndarray,
               kind: str) -> np.ndarray:
        r, c = _indices(rows), _indices(cols)
        if self._nodes is None:
            dense = self._dense_t if kind == "t" else self._dense_d
            return dense[np.ix_(r, c)]  # type: ignore[index]
        return self._nodes.block(r, c, kind)

    def pair(self, i: int, j: int) -> tuple[int, int]:
        """(metres, seconds) from the site at index ``i`` to the one at ``j``."""
        if self._nodes is None:
            return int(self._dense_d[i, j]), int(self._dense_t[i, j])  # type: ignore[index]
        r, c = np.array([i], np.int64), np.array([j], np.int64)
        return int(self._nodes.block(r, c, "d")[0, 0]), int(self._nodes.block(r, c, "t")[0, 0])

    @property
    def duration_s(self) -> np.ndarray:
        """int64 (n, n) seconds between every two sites (built on each access)."""
        if self._nodes is None:
            return self._dense_t  # type: ignore[return-value]
        return self._nodes.block(self._all(), self._all(), "t")

    @property
    def distance_m(self) -> np.ndarray:
        """int64 (n, n) metres between every two sites (built on each access)."""
        if self._nodes is None:
            return self._dense_d  # type: ignore[return-value]
        return self._nodes.block(self._all(), self._all(), "d")

    @property
    def reachable(self) -> np.ndarray:
        """Boolean (n, n) mask: True where a path exists."""
        return self.duration_s < UNREACHABLE

    def index(self, site_id: str) -> int:
        """Row/column of ``site_id``."""
        try:
            return self._index[site_id]
        except KeyError:
            raise NetworkError.at(None, "TravelMatrix", f"unknown site id {site_id!r}") from None

    def path(self, i: str, j: str) -> list[Any]:
        """Graph nodes of the fastest path from site ``i``'s node to site ``j``'s node.

        Recomputed on demand from the weighted graph (one Dijkstra per source node, the last
        few cached). Raises NetworkError when there is no path.
        """
        if self._router is None:
            raise NetworkError.at(None, "TravelMatrix.path", "no road network attached",
                                  fix="compute the matrix with travel_matrix()")
        self.index(i)
        self.index(j)
        r = self._router
        a, b = r.site_node[i], r.site_node[j]
        if a == b:
            return [r.nodes[a]]
        pred = r.predecessors(a)
        if pred[b] < 0:
            raise NetworkError.at(None, "TravelMatrix.path", f"no road path from {i} to {j}")
        seq = [b]
        while seq[-1] != a:
            seq.append(int(pred[seq[-1]]))
        return [r.nodes[k] for k in reversed(seq)]


def _node_index(network: RoadNetwork) -> tuple[list[Any], dict[Any, int]]:
    nodes = list(network.graph.nodes)
    return nodes, {n: k for k, n in enumerate(nodes)}


def _site_nodes(network: RoadNetwork, snaps: Mapping[str, Snap], index: dict[Any, int]
                ) -> list[int]:
    out = []
    for sid, s in snaps.items():
        k = index.get(s.node)
        if k is None:
            raise NetworkError.at(network.source, f"snap {sid}", "node not in the network",
                                  got=s.node, fix="snap sites to this network")
        out.append(k)
    return out


def _edge_arrays(network: RoadNetwork, profile: SpeedProfile, forbidden: frozenset[str],
                 index: dict[Any, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrays (u, v, length_m, time_s) over the allowed directed edges.

    Speeds are computed with numpy; this is :func:`edge_speed_kph` vectorised (a test checks
    they agree)."""
    code = {c: k for k, c in enumerate(ROAD_CLASSES)}
    rows = [(index[u], index[v], code[d["road_class"]], float(d["length"]),
             float(d.get("grade", 0.0) or 0.0), float(d.get("sinuosity", 1.0) or 1.0),
             float(d.get("speed_factor", 1.0)))
            for u, v, d in network.graph.edges(data=True) if d["road_class"] not in forbidden]
    if not rows:
        empty = np.empty(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty, empty
    cols = list(zip(*rows, strict=True))
    u, v, cls = (np.asarray(c, dtype=np.int64) for c in cols[:3])
    length, grade, sinuosity, factor = (np.asarray(c, dtype=float) for c in cols[3:])
    base = np.array([min(profile.speed_kph[c], profile.max_speed_kph) for c in ROAD_CLASSES])
    speed = base[cls]
    up = np.ones_like(speed)
    for threshold, f in profile.grade_factors:  # sorted: the largest matching threshold wins
        up[grade >= threshold] = f
    down = np.ones_like(speed)
    for threshold, f in profile.downhill_factors:
        down[-grade >= threshold] = f
    speed *= np.where(grade > 0, up, np.where(grade < 0, down, 1.0))
    speed /= 1.0 + profile.curve_k * (np.maximum(sinuosity, 1.0) - 1.0)
    speed = np.maximum(speed * factor, profile.min_speed_kph)
    return u, v, length, length / (speed / 3.6)


def _encoded_csr(u: np.ndarray, v: np.ndarray, length_m: np.ndarray, time_s: np.ndarray,
                 n: int, q_t: float) -> tuple[sp.csr_matrix, float]:
    """CSR of encoded weights (parallel edges: fastest, then shortest kept; loops dropped),
    and the largest d_units / t_units ratio over kept edges."""
    t = np.maximum(1.0, np.rint(time_s / q_t))
    d = np.rint(length_m / _D_UNIT_M)
    w = t * _M + d
    keep = u != v
    u, v, w, t, d = u[keep], v[keep], w[keep], t[keep], d[keep]
    order = np.lexsort((w, v, u))
    u, v, w, t, d = u[order], v[order], w[order], t[order], d[order]
    first = np.ones(u.size, dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w, t, d = u[first], v[first], w[first], t[first], d[first]
    ratio = float(np.max(d / t)) if d.size else 0.0
    return sp.csr_matrix((w, (u, v)), shape=(n, n)), ratio


def _rows(csr: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Encoded shortest-path values from each node of ``rows`` to each node of ``cols``."""
    n = csr.shape[0]
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    out = np.empty((rows.size, cols.size))
    for s in range(0, rows.size, chunk):
        out[s:s + chunk] = dijkstra(csr, directed=True, indices=rows[s:s + chunk])[:, cols]
    return out


def _many_to_many(csr: sp.csr_matrix, sources: np.ndarray, *, jobs: int = 1) -> np.ndarray:
    """Encoded shortest-path values between all pairs of ``sources`` (node indices).

    With ``jobs`` > 1 and at least ``_PARALLEL_MIN_SOURCES`` sources, the sources are split
    over that many worker processes (scipy's Dijkstra holds the GIL); the values are the same.
    """
    if jobs <= 1 or sources.size < _PARALLEL_MIN_SOURCES:
        return _rows(csr, sources, sources)
    parts = np.array_split(sources, min(jobs, sources.size))
    with process_pool(len(parts)) as pool:
        blocks = list(pool.map(_rows, [csr] * len(parts), parts, [sources] * len(parts)))
    return np.vstack(blocks)


def _check_options(network: RoadNetwork, profile: SpeedProfile,
                   forbidden_classes: Iterable[str], access_speed_kph: float) -> frozenset[str]:
    forbidden = frozenset(forbidden_classes) | profile.forbidden
    unknown = sorted(forbidden - set(ROAD_CLASSES))
    if unknown:
        raise NetworkError.at(network.source, "forbidden_classes", "unknown road class",
                              got=unknown, fix="use " + ", ".join(ROAD_CLASSES))
    if not access_speed_kph > 0:
        raise NetworkError.at(network.source, "access_speed_kph", "must be > 0",
                              got=access_speed_kph)
    return forbidden


def _node_paths(network: RoadNetwork, profile: SpeedProfile, forbidden: frozenset[str],
                index: dict[Any, int], n_nodes: int, rows: np.ndarray,
                cols: np.ndarray | None, jobs: int
                ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, float]:
    """Fastest paths between graph nodes: ``(csr, t_units, d_units, q_t)``, the units int32
    arrays (rows x cols; cols = rows when None): time in ``q_t`` seconds (-1 where there
    is no path) and the fastest path's length in cm."""
    u, v, length, time_s = _edge_arrays(network, profile, forbidden, index)
    q_t = _Q_T0
    while True:
        csr, ratio = _encoded_csr(u, v, length, time_s, n_nodes, q_t)
        enc = (_many_to_many(csr, rows, jobs=jobs) if cols is None
               else _rows(csr, rows, cols))
        finite = np.isfinite(enc)
        enc[~finite] = 0.0
        t_units = enc / _M
        np.floor(t_units, out=t_units)
        t_max = float(t_units.max()) if t_units.size else 0.0
        if t_max < _T_BUDGET and ratio * t_max < _M:
            break
        q_t *= 8.0
        logger.warning("long paths in %s: time quantum raised to %g s", network.source, q_t)
    # in place from here on (a few full-size arrays at a time)
    np.subtract(enc, t_units * _M, out=enc)  # distance units (cm) of the fastest paths
    d_units = enc.astype(np.int32)
    del enc
    t_int = t_units.astype(np.int32)
    del t_units
    t_int[~finite] = -1
    return csr, t_int, d_units, q_t


def _access(snaps: Mapping[str, Snap], access_speed_kph: float) -> tuple[np.ndarray, np.ndarray]:
    """(metres, seconds) of each site's access leg."""
    acc_d = np.array([float(s.distance_m) for s in snaps.values()])
    return acc_d, acc_d / (access_speed_kph / 3.6)


def travel_matrix(network: RoadNetwork, snaps: Mapping[str, Snap], profile: SpeedProfile, *,
                  forbidden_classes: Iterable[str] = (), access_speed_kph: float = 15.0,
                  jobs: int = 1) -> TravelMatrix:
    """Fastest travel times (s) and the distances of those paths (m) between snapped sites.

    Edges of ``forbidden_classes`` (and of ``profile.forbidden``) are not used; among parallel
    edges the fastest counts. Each site's access leg (its ``Snap.distance_m``) is travelled at
    ``access_speed_kph`` at both ends. Values are rounded to whole metres/seconds; pairs with
    no path hold :data:`UNREACHABLE`. Rows/columns follow the order of ``snaps``.
    ``jobs`` worker processes share the shortest-path runs of large matrices (same result).
    The paths are kept between the distinct nodes the sites snap to (see
    :class:`TravelMatrix`): 8 bytes per node pair.
    """
    forbidden = _check_options(network, profile, forbidden_classes, access_speed_kph)
    ids = tuple(str(k) for k in snaps)
    nodes, index = _node_index(network)
    site_nodes = _site_nodes(network, snaps, index)
    uniq, pos = np.unique(np.asarray(site_nodes, dtype=np.int64), return_inverse=True)
    csr, t_units, d_units, q_t = _node_paths(network, profile, forbidden, index, len(nodes),
                                             uniq, None, jobs)
    acc_d, acc_t = _access(snaps, access_speed_kph)
    values = _NodeValues(t_units, d_units, q_t, pos.reshape(-1).astype(np.int64), acc_t, acc_d)
    router = _Router(csr, nodes, {sid: int(k) for sid, k in zip(ids, site_nodes, strict=True)})
    logger.debug("travel matrix %s: %d sites, %d source nodes", profile.name, len(ids), uniq.size)
    return TravelMatrix(profile.name, ids, None, None, _router=router, _nodes=values)


def travel_minutes(network: RoadNetwork, sources: Mapping[str, Snap],
                   targets: Mapping[str, Snap], profile: SpeedProfile, *,
                   forbidden_classes: Iterable[str] = (), access_speed_kph: float = 15.0
                   ) -> np.ndarray:
    """(sources x targets) fastest travel minutes, ``inf`` where there is no path.

    The same values as ``travel_matrix(...).duration_s / 60`` for those pairs (whole
    seconds, access legs included) but only the rectangle is computed: one Dijkstra per
    source node and no site x site arrays (e.g. villages x pickup candidates for coverage).
    A site present in both (same id) gets 0.
    """
    forbidden = _check_options(network, profile, forbidden_classes, access_speed_kph)
    nodes, index = _node_index(network)
    src_nodes = np.asarray(_site_nodes(network, sources, index), dtype=np.int64)
    dst_nodes = np.asarray(_site_nodes(network, targets, index), dtype=np.int64)
    src_u, src_pos = np.unique(src_nodes, return_inverse=True)
    dst_u, dst_pos = np.unique(dst_nodes, return_inverse=True)
    _, t_units, _, q_t = _node_paths(network, profile, forbidden, index, len(nodes),
                                     src_u, dst_u, 1)
    _, acc_src = _access(sources, access_speed_kph)
    _, acc_dst = _access(targets, access_speed_kph)
    src_pos, dst_pos = src_pos.reshape(-1), dst_pos.reshape(-1)
    t = t_units[np.ix_(src_pos, dst_pos)]
    del t_units
    unreachable = t < 0
    sec = t.astype(np.float64)
    del t
    sec *= q_t
    sec[unreachable] = 0.0
    sec += acc_src[:, None]
    sec += acc_dst[None, :]
    np.rint(sec, out=sec)
    sec /= 60.0
    sec[unreachable] = np.inf
    tgt = {str(k): j for j, k in enumerate(targets)}
    for i, k in enumerate(sources):
        j = tgt.get(str(k))
        if j is not None:
            sec[i, j] = 0.0
    return sec


def check_reachable(network: RoadNetwork, snaps: Mapping[str, Snap], *,
                    source: str | None = None) -> None:
    """Raise NetworkError naming every site that cannot reach, or be reached from, the
    others (strongly connected components of the full network, any vehicle)."""
    where = source if source is not None else network.source
    if len(snaps) < 2:
        return
    nodes, index = _node_index(network)
    site_nodes = _site_nodes(network, snaps, index)
    g = network.graph
    u = np.fromiter((index[a] for a, _ in g.edges()), np.int64, g.number_of_edges())
    v = np.fromiter((index[b] for _, b in g.edges()), np.int64, g.number_of_edges())
    adj = sp.csr_matrix((np.ones(u.size), (u, v)), shape=(len(nodes), len(nodes)))
    _, label = connected_components(adj, directed=True, connection="strong")
    site_label = label[np.asarray(site_nodes)]
    values, counts = np.unique(site_label, return_counts=True)
    if values.size == 1:
        return
    best = counts.max()
    main = next(lab for lab in site_label if counts[np.searchsorted(values, lab)] == best)
    cut = [sid for sid, lab in zip(snaps, site_label, strict=True) if lab != main]
    raise NetworkError.at(
        where, "sites",
        f"{len(cut)} of {len(snaps)} sites cannot reach or be reached from the others "
        f"on the road network: {_id_list(cut)}",
        fix="add or reopen roads connecting them (check one-way roads), or drop those sites")
