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


__all__ = ["DECOMPOSE_ABOVE", "PART_STOPS", "Part", "mandatory_unserved", "split"]
