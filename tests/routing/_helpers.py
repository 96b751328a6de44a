"""Builders for tiny hand-made routing problems and a brute-force optimum (<= 7 stops)."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np

from optimizer.routing import verify as check
from optimizer.routing._schedule import best_start, route_times
from optimizer.routing.problem import (
    Matrix,
    RouteSolution,
    RoutingProblem,
    RoutingSolution,
    Stop,
    Vehicle,
)


def matrix(coords: list[tuple[float, float]], speed_mps: float = 10.0) -> Matrix:
    """Euclidean matrix: coordinates in km, distance in m, duration = distance / speed."""
    xy = np.asarray(coords, dtype=float)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)) * 1000.0
    dist = np.rint(d).astype(np.int64)
    dur = np.rint(d / speed_mps).astype(np.int64)
    return Matrix(dist, dur)


def problem(
    coords: list[tuple[float, float]],
    stops: list[dict],
    vehicles: list[dict],
    *,
    matrices: dict[str, Matrix] | None = None,
) -> RoutingProblem:
    """Stops/vehicles as keyword dicts; stop k defaults to node k + 1, vehicles to depot 0."""
    st = tuple(
        Stop(**{"id": f"s{k}", "node": k + 1, **kw}) for k, kw in enumerate(stops)
    )
    vs = tuple(
        Vehicle(
            **{
                "id": f"v{k}",
                "type_id": "t",
                "start": 0,
                "end": 0,
                "capacity_kg": 100,
                "profile": "car",
                "fen_per_km": 100.0,
                **kw,
            }
        )
        for k, kw in enumerate(vehicles)
    )
    mats = matrices if matrices is not None else {"car": matrix(coords)}
    return RoutingProblem(
        nodes=tuple(str(i) for i in range(len(coords))),
        matrices=mats,
        stops=st,
        vehicles=vs,
        name="tiny",
    )


def single_route(p: RoutingProblem, v: int, seq: tuple[int, ...]) -> tuple[bool, float]:
    """(feasible, cost in fen without drop penalties) of one route, by the checker."""
    start = best_start(p, v, seq)
    visits, end, _, _ = route_times(p, v, seq, start)
    sol = RoutingSolution((RouteSolution(v, visits, start, end),), (), 0.0)
    bd, viol = check.evaluate(p, sol)
    ok = not any(x.startswith("route") or x.startswith("vehicle") for x in viol)
    return ok, bd.total - bd.dropped


def brute_force(p: RoutingProblem) -> float:
    """Optimal objective (fen) by enumeration; ignores multi-trip coupling."""
    n, nv = len(p.stops), len(p.vehicles)
    best_route: dict[tuple[int, int], float] = {}
    for v in range(nv):
        for mask in range(1, 1 << n):
            members = [i for i in range(n) if mask >> i & 1]
            costs = [
                c for seq in itertools.permutations(members)
                for ok, c in [single_route(p, v, seq)] if ok
            ]
            if costs:
                best_route[(v, mask)] = min(costs)
    best = math.inf
    choices = [list(range(nv)) + ([-1] if s.drop_penalty_fen is not None else []) for s in p.stops]
    for assign in itertools.product(*choices):
        total = 0.0
        for v in range(nv):
            mask = sum(1 << i for i, a in enumerate(assign) if a == v)
            if mask:
                if (v, mask) not in best_route:
                    total = math.inf
                    break
                total += best_route[(v, mask)]
        total += sum(p.stops[i].drop_penalty_fen or 0 for i, a in enumerate(assign) if a == -1)
        best = min(best, total)
    return best


def with_stop(p: RoutingProblem, i: int, **kw: object) -> RoutingProblem:
    stops = list(p.stops)
    stops[i] = replace(stops[i], **kw)
    return replace(p, stops=tuple(stops))
