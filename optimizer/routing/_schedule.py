"""Route schedules and solution assembly shared by every routing engine (no solver here).

An engine returns :class:`RawResult` (vehicle, stop order, optional departure per route);
:func:`assemble` turns it into a :class:`RoutingSolution` with the earliest feasible
schedule (:func:`route_times`, :func:`best_start`) and the checker's objective. Engines,
the warm-start repair and the decomposition all import from here, and this module imports
only the problem types and the checker, so the routing package has no import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.routing import verify as check
from optimizer.routing.problem import RouteSolution, RoutingProblem, RoutingSolution, Visit


@dataclass(frozen=True, slots=True)
class RawRoute:
    """A route as found by an engine: vehicle index, stop indices in order, departure (s)."""

    vehicle: int
    stops: tuple[int, ...]
    start_s: int | None = None


@dataclass(frozen=True, slots=True)
class RawResult:
    """What an engine returns before checking: routes, dropped stops, its own objective."""

    routes: tuple[RawRoute, ...]
    dropped: tuple[int, ...]
    solver_objective: float  # fen, as the engine computed it
    status: str


# ---- schedules --------------------------------------------------------------------------
def route_times(
    problem: RoutingProblem, vehicle: int, stops: tuple[int, ...], start_s: int
) -> tuple[tuple[Visit, ...], int, bool, float]:
    """Earliest schedule of a route departing at ``start_s``.

    Returns (visits, end_s, feasible for windows/shift/duration/deadlines/release times/
    maximum distance, time-dependent cost in fen: span + lateness + field waiting).
    """
    veh = problem.vehicles[vehicle]
    mat = problem.matrices[veh.profile]
    dur = mat.duration_s
    t = start_s
    prev = veh.start
    visits: list[Visit] = []
    ok = start_s >= veh.shift_start_s
    cost = 0.0
    for i in stops:
        s = problem.stops[i]
        ok = ok and start_s >= s.release_s
        arr = t + int(dur[prev, s.node])
        st = max(arr, s.tw_start_s)
        ok = ok and st <= s.tw_end_s
        if s.soft_tw_end_s is not None and st > s.soft_tw_end_s:
            cost += (st - s.soft_tw_end_s) / 3600.0 * s.late_fen_per_h
        if s.ready_s is not None and st > s.ready_s:
            cost += (st - s.ready_s) / 3600.0 * s.wait_fen_per_h
        visits.append(Visit(i, arr, st))
        t = st + s.service_s
        prev = s.node
    end = t + int(dur[prev, veh.end])
    ok = ok and end <= veh.shift_end_s
    if veh.max_duration_s is not None:
        ok = ok and end - start_s <= veh.max_duration_s
    for i in stops:
        d = problem.stops[i].deadline_s
        ok = ok and (d is None or end <= d)
    if veh.max_distance_m is not None:
        ok = ok and route_metres(problem, vehicle, stops) <= veh.max_distance_m
    cost += veh.fen_per_h * (end - start_s) / 3600.0
    return tuple(visits), end, ok, cost


def route_metres(problem: RoutingProblem, vehicle: int, stops: tuple[int, ...]) -> int:
    """Metres a route drives (start depot, ``stops`` in order, end depot)."""
    veh = problem.vehicles[vehicle]
    dist = problem.matrices[veh.profile].distance_m
    nodes = [veh.start, *(problem.stops[i].node for i in stops), veh.end]
    return int(sum(int(dist[a, b]) for a, b in zip(nodes, nodes[1:], strict=False)))


def release_of(problem: RoutingProblem, stops: tuple[int, ...]) -> int:
    """Earliest departure (s) the stops' release times allow (0 without any)."""
    return max((problem.stops[i].release_s for i in stops), default=0)


def best_start(
    problem: RoutingProblem, vehicle: int, stops: tuple[int, ...], *, earliest_s: int = 0
) -> int:
    """Departure time (s) minimising span + soft costs among the schedule breakpoints.

    Candidates: the shift start (or ``earliest_s`` or the stops' latest release time if
    later, e.g. a multi-trip slot's predecessor end + reload) and every departure at which,
    without waiting, some stop is reached exactly at its window start/end, ready time or
    soft end, or the route ends exactly at the shift end or a deadline (exact for routes
    without waiting).
    """
    veh = problem.vehicles[vehicle]
    dur = problem.matrices[veh.profile].duration_s
    lo = max(veh.shift_start_s, earliest_s, release_of(problem, stops))
    cands = {lo}
    offset = 0
    prev = veh.start
    for i in stops:
        s = problem.stops[i]
        offset += int(dur[prev, s.node])
        cands.add(s.tw_start_s - offset)
        if s.tw_end_s < veh.shift_end_s:
            cands.add(s.tw_end_s - offset)
        for t in (s.ready_s, s.soft_tw_end_s):
            if t is not None:
                cands.add(t - offset)
        offset += s.service_s
        prev = s.node
    offset += int(dur[prev, veh.end])
    cands.add(veh.shift_end_s - offset)
    for i in stops:
        d = problem.stops[i].deadline_s
        if d is not None:
            cands.add(d - offset)
    best: tuple[int, float, int] | None = None  # (infeasible flag, cost, start)
    for c in sorted(cands):
        if c < lo or c > veh.shift_end_s:
            continue
        _, _, ok, cost = route_times(problem, vehicle, stops, c)
        key = (0 if ok else 1, cost, c)
        if best is None or key < best:
            best = key
    return lo if best is None else best[2]


def assemble(
    problem: RoutingProblem, raw: RawResult, engine: str, runtime_s: float
) -> RoutingSolution:
    """Turn raw routes into a RoutingSolution with schedules and the checker's objective."""
    routes: list[RouteSolution] = []
    for r in sorted(raw.routes, key=lambda r: r.vehicle):
        if not r.stops:
            continue
        start = r.start_s
        if start is None:
            start = best_start(problem, r.vehicle, r.stops)
        visits, end, ok, _ = route_times(problem, r.vehicle, r.stops, start)
        if not ok and r.start_s is not None:
            start = best_start(problem, r.vehicle, r.stops)
            visits, end, ok, _ = route_times(problem, r.vehicle, r.stops, start)
        routes.append(RouteSolution(r.vehicle, visits, start, end))
    sol = RoutingSolution(
        routes=tuple(routes),
        dropped=tuple(sorted(raw.dropped)),
        objective=0.0,
        status=raw.status,
        engine=engine,
        runtime_s=runtime_s,
        extra={"solver_objective_fen": raw.solver_objective},
    )
    breakdown, _ = check.evaluate(problem, sol)
    return _with_objective(sol, check.objective_of(problem, breakdown))


def _with_objective(sol: RoutingSolution, objective: float) -> RoutingSolution:
    return RoutingSolution(
        routes=sol.routes,
        dropped=sol.dropped,
        objective=objective,
        status=sol.status,
        engine=sol.engine,
        runtime_s=sol.runtime_s,
        extra=dict(sol.extra),
    )


def to_raw(solution: RoutingSolution) -> list[RawRoute]:
    """Routes of a solution as warm-start input."""
    return [
        RawRoute(r.vehicle, tuple(v.stop for v in r.visits), r.start_s) for r in solution.routes
    ]


__all__ = ["RawResult", "RawRoute", "assemble", "best_start", "release_of", "route_metres",
           "route_times", "to_raw"]
