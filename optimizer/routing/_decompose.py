"""Decomposition of a large single-depot routing problem into geographic parts.

A day with thousands of stops at one depot (e.g. today's hub collecting from 3,000 villages)
makes the OR-Tools model grow with vehicles x nodes (7.6 GB and minutes of model building at
4,000 stops and 750 vehicle slots). Above ``DECOMPOSE_ABOVE`` stops, :func:`split` cuts the
stops into parts of at most ``PART_STOPS`` by recursive bisection on travel times (the two
far-apart anchors of a part split it at the median of ``t(a, x) - t(b, x)``; stops at the same
node stay together) and shares the physical vehicles (multi-trip slot chains kept whole) out
by load, type by type. Each part is an ordinary :class:`RoutingProblem`; :func:`merge` maps
the parts' routes back to the original indices. Needs no coordinates; deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimizer.routing import _warm
from optimizer.routing.problem import RoutingProblem, Stop

#: problems with more stops than this are split (the classic X set stays whole: <= 1,000)
DECOMPOSE_ABOVE = 1000
#: target largest part (stops)
PART_STOPS = 500


@dataclass(frozen=True, slots=True)
class Part:
    """A sub-problem and the original indices of its stops and vehicles."""

    problem: RoutingProblem
    stops: tuple[int, ...]
    vehicles: tuple[int, ...]


def _bisect(nodes: np.ndarray, weight: np.ndarray, dur: np.ndarray, cap: int,
            depot: int) -> list[np.ndarray]:
    """Split ``nodes`` (with stop counts ``weight``) into groups of total weight <= cap."""
    if weight.sum() <= cap or nodes.size <= 1:
        return [nodes]
    sym = dur[np.ix_(nodes, nodes)] + dur[np.ix_(nodes, nodes)].T
    a = int(np.argmax(dur[depot, nodes] + dur[nodes, depot]))  # farthest from the depot
    b = int(np.argmax(sym[a]))  # farthest from a
    key = sym[a] - sym[b]  # low: a's side
    order = np.lexsort((nodes, key))
    cum = np.cumsum(weight[order])
    cut = int(np.searchsorted(cum, cum[-1] / 2.0))
    cut = min(max(cut + 1, 1), nodes.size - 1)
    left, right = order[:cut], order[cut:]
    return (_bisect(nodes[left], weight[left], dur, cap, depot)
            + _bisect(nodes[right], weight[right], dur, cap, depot))


def split(problem: RoutingProblem, *, part_stops: int | None = None) -> list[Part] | None:
    """Parts of ``problem`` (see the module docstring), or None when it cannot be split:
    several depots (start or end nodes differ), no vehicles, or fewer physical vehicles
    than parts. ``part_stops`` defaults to ``PART_STOPS``."""
    cap = PART_STOPS if part_stops is None else part_stops
    vehicles = problem.vehicles
    if not vehicles or not problem.stops:
        return None
    depots = {v.start for v in vehicles} | {v.end for v in vehicles}
    if len(depots) != 1:
        return None
    depot = depots.pop()
    dur = problem.matrices[vehicles[0].profile].duration_s
    stop_nodes = np.array([s.node for s in problem.stops])
    nodes, counts = np.unique(stop_nodes, return_counts=True)
    groups = _bisect(nodes, counts, dur, cap, depot)
    chains = _warm.chains(problem)
    if len(groups) <= 1 or len(chains) < len(groups):
        return None
    node_group = {int(n): g for g, grp in enumerate(groups) for n in grp.tolist()}
    stop_group = np.array([node_group[int(n)] for n in stop_nodes])
    load = np.array([max(s.pickup_kg, s.delivery_kg) for s in problem.stops], float)
    share = np.bincount(stop_group, weights=load, minlength=len(groups))
    if share.sum() <= 0:
        share = np.bincount(stop_group, minlength=len(groups)).astype(float)
    share = share / share.sum()
    # vehicles: per type, largest remainder of the load share (chains kept whole)
    owner = np.full(len(chains), -1)
    by_type: dict[str, list[int]] = {}
    for c, chain in enumerate(chains):
        by_type.setdefault(vehicles[chain[0]].type_id, []).append(c)
    for t in sorted(by_type):
        cs = by_type[t]
        quota = share * len(cs)
        take = np.floor(quota).astype(int)
        rest = len(cs) - int(take.sum())
        for g in np.lexsort((np.arange(len(groups)), -(quota - take)))[:rest]:
            take[g] += 1
        k = 0
        for g in range(len(groups)):
            for c in cs[k:k + take[g]]:
                owner[c] = g
            k += take[g]
    parts: list[Part] = []
    for g in range(len(groups)):
        vs = sorted(i for c in np.flatnonzero(owner == g) for i in chains[c])
        ss = np.flatnonzero(stop_group == g).tolist()
        parts.append(_sub(problem, g, tuple(ss), tuple(vs)))
    return parts


def _sub(problem: RoutingProblem, g: int, stops: tuple[int, ...],
         vehicles: tuple[int, ...]) -> Part:
    vmap = {old: new for new, old in enumerate(vehicles)}
    new_vehicles = []
    for i in vehicles:
        after = problem.vehicles[i].after
        new_vehicles.append(replace(problem.vehicles[i],
                                    after=None if after is None else vmap[after]))
    new_stops: list[Stop] = []
    for i in stops:
        s = problem.stops[i]
        if s.allowed_vehicles is not None:
            s = replace(s, allowed_vehicles=tuple(vmap[v] for v in s.allowed_vehicles
                                                  if v in vmap))
        new_stops.append(s)
    sub = replace(problem, stops=tuple(new_stops), vehicles=tuple(new_vehicles),
                  name=f"{problem.name}#part{g + 1}")
    return Part(sub, stops, vehicles)


#: trips (stop indices in order) of each used physical vehicle, by its chain's first slot
Trips = dict[int, list[list[int]]]


def split_plan(problem: RoutingProblem, trips: Trips, parts: int,
               seed: int) -> list[tuple[Part, Trips]] | None:
    """Cut a solution into ``parts`` groups of whole routes, each a sub-problem with its
    share of the plan (route-based decomposition of a large problem's solution).

    Two anchor stops (a seeded random served stop ``a`` and the served stop farthest from
    it, ``b``) order the stops by ``t(a, x) - t(b, x)`` (round trips); routes by the median
    of their stops; groups take consecutive routes with about equal stop counts. An
    unserved stop joins the group whose key range holds its key; unused vehicles are dealt
    out type by type. Returns each part with its trips (sub-problem indices), or None when
    there are fewer used vehicles than parts.
    """
    used = sorted(r for r, ts in trips.items() if any(ts))
    if len(used) < parts or parts < 2:
        return None
    chains = _warm.chains(problem)
    chain_of = {ch[0]: ch for ch in chains}
    mat = problem.matrices[problem.vehicles[used[0]].profile].duration_s
    nodes = np.array([s.node for s in problem.stops], dtype=np.int64)
    served = np.array(sorted({i for r in used for t in trips[r] for i in t}), dtype=np.int64)
    rng = np.random.default_rng(seed)
    a = nodes[int(rng.choice(served))]
    sym_a = mat[a, nodes].astype(np.float64) + mat[nodes, a]
    b = nodes[int(served[np.argmax(sym_a[served])])]
    key = sym_a - (mat[b, nodes].astype(np.float64) + mat[nodes, b])
    rkey = np.array([np.median(key[[i for t in trips[r] for i in t]]) for r in used])
    order = np.argsort(rkey, kind="stable")
    size = np.array([sum(len(t) for t in trips[used[k]]) for k in order], dtype=np.float64)
    cum = np.cumsum(size)
    group_of_route = np.minimum((cum - size / 2) * parts // cum[-1], parts - 1).astype(int)
    route_group = {used[k]: int(g) for k, g in zip(order, group_of_route, strict=True)}
    # key range of each group: unserved stops join by their key
    bounds = [max(rkey[[used.index(r) for r in used if route_group[r] == g]], default=-np.inf)
              for g in range(parts - 1)]
    stop_group = np.searchsorted(np.asarray(bounds), key, side="left")
    for r in used:
        for t in trips[r]:
            stop_group[t] = route_group[r]
    by_kind: dict[object, list[int]] = {}
    for ch in chains:
        if ch[0] not in route_group:
            kind = replace(problem.vehicles[ch[0]], id="", type_id="", after=None)
            by_kind.setdefault(kind, []).append(ch[0])
    free_group = {r: k % parts for rs in by_kind.values() for k, r in enumerate(rs)}
    out: list[tuple[Part, Trips]] = []
    for g in range(parts):
        roots = [r for r in chain_of if route_group.get(r, free_group.get(r)) == g]
        vs = tuple(sorted(v for r in roots for v in chain_of[r]))
        ss = tuple(int(i) for i in np.flatnonzero(stop_group == g))
        part = _sub(problem, g, ss, vs)
        vmap = {old: new for new, old in enumerate(vs)}
        smap = {old: new for new, old in enumerate(ss)}
        sub_trips = {vmap[r]: [[smap[i] for i in t] for t in trips[r]]
                     for r in roots if r in route_group}
        out.append((part, sub_trips))
    return out


def merge_trips(parts: list[tuple[Part, Trips]]) -> Trips:
    """The whole problem's trips from each part's trips (sub-problem indices)."""
    out: Trips = {}
    for part, trips in parts:
        for r, ts in trips.items():
            out[part.vehicles[r]] = [[part.stops[i] for i in t] for t in ts]
    return out


def mandatory_unserved(parts: list[Part]) -> bool:
    """True when some part has a mandatory stop that none of its vehicles may carry (not
    allowed, or too small): the caller then solves the problem whole."""
    for p in parts:
        vehicles = p.problem.vehicles
        for s in p.problem.stops:
            if s.drop_penalty_fen is not None:
                continue
            allowed = range(len(vehicles)) if s.allowed_vehicles is None else s.allowed_vehicles
            need = max(s.pickup_kg, s.delivery_kg)
            if not any(vehicles[v].capacity_kg >= need for v in allowed):
                return True
    return False


__all__ = ["DECOMPOSE_ABOVE", "PART_STOPS", "Part", "Trips", "mandatory_unserved",
           "merge_trips", "split", "split_plan"]
