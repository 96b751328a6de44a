"""Engine selection and solution assembly: ``solve_routing(problem, ...) -> RoutingSolution``.

Engines (``engine=``):

* ``"ortools"``: OR-Tools with every feature (parallel cheapest insertion + guided local
  search), optionally warm-started from ``initial``;
* ``"ortools-plain"``: OR-Tools PATH_CHEAPEST_ARC + guided local search (the baseline);
* ``"pyvrp"``: PyVRP only (CVRP/VRPTW, multi-depot, heterogeneous fleet, pickups and
  deliveries, optional stops, release times, maximum distance, backhauls last, allowed
  vehicles, multi-trip chains of identical slots); raises ValueError when the problem
  needs more;
* ``"auto"`` (default): when PyVRP can express the problem, PyVRP for ``PYVRP_SHARE`` of
  the budget, then OR-Tools GLS warm-started from PyVRP's routes for the rest, keeping the
  better of the two by the checker's objective. Otherwise (spoilage, field waiting,
  deadlines, span costs, differing multi-trip slots...) PyVRP solves a relaxation for
  ``RELAXED_SHARE`` of the budget (multi-trip as reloads, restrictions as per-type
  profiles, deadlines as tighter windows; ``_pyvrp.solve_relaxed``), its trips are mapped
  onto the chained slots and repaired by dropping stops that violate the true constraints
  (``_warm.repair``), and OR-Tools GLS on the full model starts from that plan; the best
  checked plan wins. With ``initial`` given, OR-Tools alone starts from it. A rich
  single-depot problem with more than ``_decompose.DECOMPOSE_ABOVE`` stops is first cut
  into geographic parts (``_decompose.split``), each solved this way with its share of the
  time and vehicles; the merged plan is checked as a whole.

  A benchmark in PyVRP's VRPLIB dialect (``cost_unit == "vrplib"``: heterogeneous fleets,
  several depots, prizes, backhauls, reloads, release times; PyVRP expresses all of it)
  gets PyVRP for the whole budget, with ``jobs`` parallel lanes
  (:func:`_pyvrp.solve_pyvrp`: lanes restart from the best plan; at 400 stops and more
  they also improve the parts of the best plan in parallel).

Every returned solution has been recomputed and accepted by :func:`optimizer.routing.verify.verify`;
``objective`` is the checker's total (fen, divided by ``distance_scale``).

Engines are imported lazily so that importing this module (and ``optimizer.routing.verify``) never
loads a solver.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from optimizer.errors import InfeasibleError
from optimizer.routing import verify as check
from optimizer.routing._schedule import RawResult, RawRoute, assemble, to_raw
from optimizer.routing.problem import RoutingProblem, RoutingSolution

log = logging.getLogger(__name__)

ENGINES = ("auto", "ortools", "ortools-plain", "pyvrp")
# share of the time budget given to PyVRP in "auto" mode (the rest warm-starts OR-Tools)
PYVRP_SHARE = 0.9
# share of the budget given to the PyVRP relaxation of a rich problem in "auto" mode
RELAXED_SHARE = 0.4
# PyVRP iterations per unit of solution_limit (deterministic runs)
PYVRP_ITERS_PER_SOLUTION = 50


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
    jobs: int = 1,
) -> RoutingSolution:
    """Solve ``problem`` within about ``time_limit_s`` seconds of wall clock (model building
    included; the final check and schedule assembly are not) and return a checked solution.

    ``seed`` drives PyVRP (OR-Tools' search is deterministic). ``solution_limit`` makes runs
    deterministic: OR-Tools stops after that many improving solutions and PyVRP after
    ``PYVRP_ITERS_PER_SOLUTION x solution_limit`` iterations (the time limit still applies).
    ``initial`` warm-starts OR-Tools. ``jobs`` > 1 runs that many PyVRP trajectories in
    parallel processes (seeds ``seed``, ``seed + 1``, ...; the cheapest is kept) where
    PyVRP solves the problem exactly. A VRPLIB-dialect benchmark (``cost_unit ==
    "vrplib"``) gets PyVRP for the whole budget in "auto" mode, and OR-Tools only when
    :func:`ortools_polishes` says the model is small enough to help. Raises InfeasibleError
    when mandatory stops cannot be served; an engine plan the checker rejects is discarded
    with a warning (a bug to report).
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

    polish = engine != "pyvrp"
    if use_pyvrp:
        share = 1.0 if engine == "pyvrp" else PYVRP_SHARE
        if engine == "auto" and problem.cost_unit == "vrplib":
            polish = ortools_polishes(problem)
            share = PYVRP_SHARE if polish else 1.0
        iters = None if solution_limit is None else PYVRP_ITERS_PER_SOLUTION * solution_limit
        raw = _pyvrp.solve_pyvrp(
            problem, time_limit_s=time_limit_s * share - (time.perf_counter() - t0),
            seed=seed, max_iterations=iters, lanes=max(1, int(jobs)),
        )
        warm = _consider(problem, raw, "pyvrp", t0, candidates) or warm

    if polish:
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

    n_mand = sum(1 for s in problem.stops if s.drop_penalty_fen is None)
    if not candidates and n_mand == 0:
        # every stop is optional: serving none is a plan (each drop pays its penalty); a
        # time share too short for any engine to return a first solution ends here
        log.warning("%s: no routing found in %g s for %d stops; all dropped", problem.name,
                    time_limit_s, len(problem.stops))
        idle = RoutingSolution((), tuple(range(len(problem.stops))), 0.0, "no solution in time",
                               "none")
        cost, _ = check.evaluate(problem, idle)
        candidates.append(RoutingSolution((), idle.dropped, cost.total, idle.status, "none",
                                          time.perf_counter() - t0))
    if not candidates:
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


#: OR-Tools polishes a VRPLIB-dialect benchmark only up to this many vehicles x stops
ORTOOLS_POLISH_MAX = 0


def ortools_polishes(problem: RoutingProblem) -> bool:
    """Whether "auto" gives OR-Tools the end of the budget on a VRPLIB-dialect benchmark
    (its model grows with vehicles x nodes; on large fleets it cannot even be built in
    time)."""
    return len(problem.vehicles) * len(problem.stops) <= ORTOOLS_POLISH_MAX


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
    "ortools_polishes",
    "precheck",
    "solve_routing",
    "time_shares",
]
