"""Engine selection and solution assembly: ``solve_routing(problem, ...) -> RoutingSolution``.

Engines (``engine=``):

* ``"ortools"``: OR-Tools with every feature (parallel cheapest insertion + guided local
  search), optionally warm-started from ``initial``;
* ``"ortools-plain"``: OR-Tools PATH_CHEAPEST_ARC + guided local search (the baseline);
* ``"pyvrp"``: PyVRP only (classic parts: CVRP/VRPTW, multi-depot, heterogeneous fleet,
  pickups/deliveries, optional stops); raises ValueError when the problem needs more;
* ``"auto"`` (default): when PyVRP can express the problem, PyVRP for ``PYVRP_SHARE`` of
  the budget, then OR-Tools GLS warm-started from PyVRP's routes for the rest, keeping the
  better of the two by the checker's objective. Otherwise (spoilage, field waiting,
  deadlines, multi-trip slots, allowed vehicles...) PyVRP solves a relaxation for
  ``RELAXED_SHARE`` of the budget (multi-trip as reloads, restrictions as per-type
  profiles, deadlines as tighter windows; ``_pyvrp.solve_relaxed``), its trips are mapped
  onto the chained slots and repaired by dropping stops that violate the true constraints
  (``_warm.repair``), and OR-Tools GLS on the full model starts from that plan; the best
  checked plan wins. With ``initial`` given, OR-Tools alone starts from it. A rich
  single-depot problem with more than ``_decompose.DECOMPOSE_ABOVE`` stops is first cut
  into geographic parts (``_decompose.split``), each solved this way with its share of the
  time and vehicles; the merged plan is checked as a whole.

Every returned solution has been recomputed and accepted by :func:`optimizer.check.verify`;
``objective`` is the checker's total (fen, divided by ``distance_scale``).

Engines are imported lazily so that importing this module (and ``optimizer.check``) never
loads a solver.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optimizer import check
from optimizer.errors import InfeasibleError
from optimizer.routing.problem import RouteSolution, RoutingProblem, RoutingSolution, Visit

log = logging.getLogger(__name__)

ENGINES = ("auto", "ortools", "ortools-plain", "pyvrp")
# share of the time budget given to PyVRP in "auto" mode (the rest warm-starts OR-Tools)
PYVRP_SHARE = 0.9
# share of the budget given to the PyVRP relaxation of a rich problem in "auto" mode
RELAXED_SHARE = 0.4
# PyVRP iterations per unit of solution_limit (deterministic runs)
PYVRP_ITERS_PER_SOLUTION = 50


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

    Returns (visits, end_s, feasible for windows/shift/duration/deadlines, time-dependent
    cost in fen: span + lateness + field waiting).
    """
    veh = problem.vehicles[vehicle]
    dur = problem.matrices[veh.profile].duration_s
    t = start_s
    prev = veh.start
    visits: list[Visit] = []
    ok = start_s >= veh.shift_start_s
    cost = 0.0
    for i in stops:
        s = problem.stops[i]
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
    cost += veh.fen_per_h * (end - start_s) / 3600.0
    return tuple(visits), end, ok, cost


def best_start(
    problem: RoutingProblem, vehicle: int, stops: tuple[int, ...], *, earliest_s: int = 0
) -> int:
    """Departure time (s) minimising span + soft costs among the schedule breakpoints.

    Candidates: the shift start (or ``earliest_s`` if later, e.g. a multi-trip slot's
    predecessor end + reload) and every departure at which, without waiting, some stop is
    reached exactly at its window start/end, ready time or soft end, or the route ends
    exactly at the shift end or a deadline (exact for routes without waiting).
    """
    veh = problem.vehicles[vehicle]
    dur = problem.matrices[veh.profile].duration_s
    lo = max(veh.shift_start_s, earliest_s)
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


# ---- pre-checks -------------------------------------------------------------------------
def precheck(problem: RoutingProblem) -> None:
    """Raise InfeasibleError for mandatory stops no allowed vehicle can carry or reach."""
    if not problem.vehicles:
        if any(s.drop_penalty_fen is None for s in problem.stops):
            raise InfeasibleError("no vehicles, but there are mandatory stops")
        return
    for i, s in enumerate(problem.stops):
        if s.drop_penalty_fen is not None:
            continue
        allowed = (
            range(len(problem.vehicles)) if s.allowed_vehicles is None else s.allowed_vehicles
        )
        caps = [problem.vehicles[v].capacity_kg for v in allowed]
        need = max(s.delivery_kg, s.pickup_kg)
        if not caps:
            raise InfeasibleError(f"stop {s.id} (index {i}): no vehicle is allowed to serve it")
        if need > max(caps):
            raise InfeasibleError(
                f"stop {s.id} (index {i}): load {need} kg exceeds the largest allowed vehicle "
                f"capacity {max(caps)} kg"
            )
        if s.tw_start_s > s.tw_end_s:
            raise InfeasibleError(
                f"stop {s.id} (index {i}): time window start {s.tw_start_s} s > end "
                f"{s.tw_end_s} s"
            )


# ---- main entry -------------------------------------------------------------------------
def _consider(problem: RoutingProblem, raw: Any, engine: str, t0: float,
              candidates: list[RoutingSolution]) -> Any:
    """Add ``raw`` to ``candidates`` when the checker accepts it; return it as a warm start."""
    if raw is None:
        return None
    sol = assemble(problem, raw, engine, time.perf_counter() - t0)
    _, viol = check.evaluate(problem, sol)
    if viol:
        log.warning("%s plan rejected by the checker: %s", engine, viol[0])
        return None
    candidates.append(sol)
    return to_raw(sol)


def solve_routing(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    seed: int = 0,
    solution_limit: int | None = None,
    engine: str = "auto",
    initial: RoutingSolution | None = None,
) -> RoutingSolution:
    """Solve ``problem`` within about ``time_limit_s`` seconds of wall clock (model building
    included; the final check and schedule assembly are not) and return a checked solution.

    ``seed`` drives PyVRP (OR-Tools' search is deterministic). ``solution_limit`` makes runs
    deterministic: OR-Tools stops after that many improving solutions and PyVRP after
    ``PYVRP_ITERS_PER_SOLUTION x solution_limit`` iterations (the time limit still applies).
    ``initial`` warm-starts OR-Tools. Raises InfeasibleError when mandatory stops cannot be
    served; an engine plan the checker rejects is discarded with a warning (a bug to report).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES} (got {engine!r})")
    if time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be > 0 (got {time_limit_s})")
    precheck(problem)
    t0 = time.perf_counter()
    if not problem.stops:
        return RoutingSolution((), (), 0.0, "empty", engine, 0.0)

    from optimizer.routing import _pyvrp

    candidates: list[RoutingSolution] = []
    use_pyvrp = engine == "pyvrp" or (
        engine == "auto" and initial is None and _pyvrp.unsupported_reason(problem) is None
    )
    if engine == "pyvrp":
        reason = _pyvrp.unsupported_reason(problem)
        if reason is not None:
            raise ValueError(f"PyVRP cannot express this problem: {reason}")
    warm = to_raw(initial) if initial is not None else None

    if engine == "auto" and initial is None and not use_pyvrp:
        from optimizer.routing import _decompose

        if len(problem.stops) > _decompose.DECOMPOSE_ABOVE:
            parts = _decompose.split(problem)
            if parts and not _decompose.mandatory_unserved(parts):
                return _solve_parts(problem, parts, time_limit_s=time_limit_s, seed=seed,
                                    solution_limit=solution_limit, t0=t0)

    use_relaxed = (
        engine == "auto" and initial is None and not use_pyvrp and bool(problem.vehicles)
    )
    if use_relaxed:
        # the rich problem: PyVRP on a relaxation, mapped onto the chained slots and
        # repaired, then OR-Tools GLS from it on the true model (see module docstring)
        iters = None if solution_limit is None else PYVRP_ITERS_PER_SOLUTION * solution_limit
        try:
            raw = _pyvrp.solve_relaxed(
                problem, time_limit_s=time_limit_s * RELAXED_SHARE, seed=seed,
                max_iterations=iters,
            )
        except (ValueError, RuntimeError, OverflowError) as exc:  # PyVRP data validation
            log.warning("PyVRP relaxation unavailable: %s", exc)
            raw = None
        warm = _consider(problem, raw, "pyvrp-relaxed", t0, candidates) or warm

    if use_pyvrp:
        share = 1.0 if engine == "pyvrp" else PYVRP_SHARE
        iters = None if solution_limit is None else PYVRP_ITERS_PER_SOLUTION * solution_limit
        raw = _pyvrp.solve_pyvrp(
            problem, time_limit_s=time_limit_s * share, seed=seed, max_iterations=iters
        )
        warm = _consider(problem, raw, "pyvrp", t0, candidates) or warm

    if engine != "pyvrp":
        from optimizer.routing import _ortools

        remaining = time_limit_s - (time.perf_counter() - t0)
        if engine == "ortools-plain":
            first, warm = "path_cheapest_arc", None
        else:
            first = "parallel_cheapest_insertion"
        if remaining > 0.05 or not candidates:
            raw = _ortools.solve_ortools(
                problem,
                time_limit_s=max(remaining, 0.1),
                solution_limit=solution_limit,
                initial_routes=warm,
                first_solution=first,
            )
            if raw is not None:
                sol = assemble(problem, raw, "ortools", time.perf_counter() - t0)
                _, viol = check.evaluate(problem, sol)
                if viol:
                    log.warning("OR-Tools solution rejected by the checker: %s", viol[0])
                else:
                    candidates.append(sol)

    if not candidates:
        n_mand = sum(1 for s in problem.stops if s.drop_penalty_fen is None)
        raise InfeasibleError(
            f"no feasible routing found in {time_limit_s:g} s for {len(problem.stops)} stops "
            f"({n_mand} mandatory) and {len(problem.vehicles)} vehicles; relax windows, "
            "capacities or deadlines, add vehicles, or make stops optional"
        )
    best = min(candidates, key=lambda s: s.objective)
    runtime = time.perf_counter() - t0
    extra = dict(best.extra)
    extra["candidates"] = {c.engine: c.objective for c in candidates}
    best = RoutingSolution(
        best.routes, best.dropped, best.objective, best.status, best.engine, runtime, extra
    )
    check.verify(problem, best)
    return best


#: smallest time (s) given to one part of a split routing budget (a depot, a geographic part)
MIN_PART_TIME_S = 0.1


def time_shares(time_limit_s: float, stops: Sequence[int]) -> list[float]:
    """Split a routing time (s) over problems in proportion to their stops.

    Each gets at least ``MIN_PART_TIME_S`` (less only when there are more problems than
    ``time_limit_s / MIN_PART_TIME_S``); the shares add up to ``time_limit_s``.
    """
    n = len(stops)
    if n == 0:
        return []
    floor = min(MIN_PART_TIME_S, time_limit_s / n)
    rest = time_limit_s - floor * n
    total = sum(stops) or 1
    return [floor + rest * k / total for k in stops]


def _solve_parts(problem: RoutingProblem, parts: list[Any], *, time_limit_s: float,
                 seed: int, solution_limit: int | None, t0: float) -> RoutingSolution:
    """Solve each part of a decomposed problem, map the routes back, check the whole."""
    routes: list[RawRoute] = []
    dropped: list[int] = []
    engines: set[str] = set()
    total = 0.0
    shares = time_shares(time_limit_s, [len(p.stops) for p in parts])
    for part, share in zip(parts, shares, strict=True):
        if not part.problem.vehicles:
            dropped += part.stops
            continue
        sol = solve_routing(part.problem, time_limit_s=share, seed=seed,
                            solution_limit=solution_limit)
        engines.add(sol.engine)
        total += sol.objective
        routes += [RawRoute(part.vehicles[r.vehicle],
                            tuple(part.stops[v.stop] for v in r.visits), r.start_s)
                   for r in sol.routes]
        dropped += [part.stops[d] for d in sol.dropped]
    raw = RawResult(tuple(routes), tuple(dropped), total, "decomposed")
    sol = assemble(problem, raw, "+".join(sorted(engines)) or "none",
                   time.perf_counter() - t0)
    sol.extra["parts"] = len(parts)
    log.info("%s: %d stops solved in %d parts", problem.name, len(problem.stops), len(parts))
    check.verify(problem, sol)
    return sol


__all__ = [
    "ENGINES",
    "RawResult",
    "RawRoute",
    "assemble",
    "best_start",
    "precheck",
    "route_times",
    "solve_routing",
    "time_shares",
]
