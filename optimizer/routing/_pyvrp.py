"""PyVRP adapter (optional engine) for the classic and benchmark parts of a RoutingProblem.

PyVRP expresses: several depots, a heterogeneous fleet (capacity, fixed cost, per-km cost,
shift window, maximum duration and distance, profile), hard time windows, service times,
release times, simultaneous pickups and deliveries, optional stops (prize = drop penalty),
multi-trip chains of identical slots (reloads at the depot), allowed vehicles (a routing
profile per set of forbidden stops) and backhauls last (forbidden arcs, as ``pyvrp.read``
does). It does not express spoilage, deadlines, soft windows, field waiting, span costs or
chains of differing slots: :func:`unsupported_reason` says why a problem is out of reach,
and :func:`solve_relaxed` solves a relaxation of such a problem instead.

PyVRP costs are fen x 1000 (integers: distance in metres x fen_per_km, fixed cost and
prizes x 1000), except for VRPLIB-dialect benchmarks (``cost_unit == "vrplib"``), whose
integer costs are used unscaled with PyVRP's default parameters, as ``pyvrp.read`` and
``pyvrp.solve`` would.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyvrp
from pyvrp.constants import MAX_VALUE
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

from optimizer._parallel import process_pool
from optimizer.routing import _decompose
from optimizer.routing._decompose import Trips
from optimizer.routing._schedule import RawResult, RawRoute
from optimizer.routing._warm import chain_routes, chains, repair, same_kind, uniform_chains
from optimizer.routing.problem import Matrix, RoutingProblem

log = logging.getLogger(__name__)

_MONEY_SCALE = 1000  # PyVRP cost units per fen
_BIG = 10**9  # stand-in for unreachable arcs
# PyVRP caps its penalty per unit of excess load / time warp at 1e5 by default; scaled data
# (Solomon x 1000, fen x 1000) needs more or the search stays infeasible (e.g. C104)
MAX_PENALTY = 1e9



def _run(
    data: pyvrp.ProblemData,
    *,
    seconds: float,
    seed: int,
    iterations: int | None,
    what: str,
    initial: pyvrp.Solution | None = None,
    params: pyvrp.SolveParams | None = None,
) -> tuple[pyvrp.Solution, float] | None:
    """One PyVRP solve for ``seconds`` (and at most ``iterations``): its best solution and
    cost when feasible, else None."""
    stop: pyvrp.stop.StoppingCriterion = MaxRuntime(max(0.02, seconds))
    if iterations is not None:
        stop = MultipleCriteria([MaxIterations(int(iterations)), stop])
    if params is None:
        params = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=MAX_PENALTY))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PenaltyBoundWarning)
        res = pyvrp.solve(data, stop=stop, seed=int(seed), collect_stats=False, display=False,
                          params=params, initial_solution=initial)
    if caught:
        log.debug("%s: %s", what, str(caught[0].message).strip().splitlines()[0])
    best = res.best
    if not best.is_feasible():
        log.info("%s found no feasible solution (cost %s)", what, res.cost())
        return None
    return best, float(res.cost())

def money_scale(problem: RoutingProblem) -> int:
    """PyVRP cost units per unit of the objective: 1 for VRPLIB-dialect benchmarks (costs are
    integers in the file's unit, as ``pyvrp.read`` gives them), else ``_MONEY_SCALE``."""
    return 1 if problem.cost_unit == "vrplib" else _MONEY_SCALE


def _chain_reason(problem: RoutingProblem) -> str | None:
    """Why the multi-trip chains are not exactly PyVRP reloads at the start depot, or None.

    Exact when every chain's later slots equal its first in everything but ``after`` (no
    own fixed cost, no reload time), it returns to its start depot and has no per-trip
    duration or distance limit (PyVRP applies those to the whole route).
    """
    chs = chains(problem)
    if sum(len(ch) for ch in chs) != len(problem.vehicles):
        return "two multi-trip slots follow the same slot"
    for ch in chs:
        if len(ch) == 1:
            continue
        root = problem.vehicles[ch[0]]
        if root.start != root.end:
            return f"multi-trip vehicle {root.id} ends at another depot than it starts"
        if root.max_duration_s is not None or root.max_distance_m is not None:
            return f"multi-trip vehicle {root.id} has a per-trip duration or distance limit"
        for v in ch[1:]:
            veh = problem.vehicles[v]
            if not same_kind(problem, ch[0], v) or veh.reload_s or veh.fixed_fen:
                return (f"multi-trip slot {veh.id} differs from its first trip (attributes, "
                        "reload time or fixed cost)")
    for s in problem.stops:
        if s.allowed_vehicles is None:
            continue
        allowed = set(s.allowed_vehicles)
        for ch in chs:
            if 0 < len(allowed.intersection(ch)) < len(ch):
                return f"stop {s.id} is allowed on some trips of a vehicle but not others"
    return None


def unsupported_reason(problem: RoutingProblem) -> str | None:
    """Why PyVRP cannot express ``problem`` exactly, or None if it can."""
    scale = money_scale(problem)
    for v in problem.vehicles:
        if v.spoil_fen_per_kg_h:
            return f"vehicle {v.id} has a spoilage cost"
        if v.fen_per_h:
            return f"vehicle {v.id} has a duration cost"
        unit = v.fen_per_km * scale / 1000.0
        if unit != round(unit) or unit < 0:
            return (f"vehicle {v.id} fen_per_km {v.fen_per_km} is not a non-negative "
                    f"multiple of {1000 // scale}")
    for s in problem.stops:
        if s.deadline_s is not None:
            return f"stop {s.id} has a deadline"
        if s.soft_tw_end_s is not None and s.late_fen_per_h:
            return f"stop {s.id} has a soft window"
        if s.ready_s is not None and s.wait_fen_per_h:
            return f"stop {s.id} has a field-waiting cost"
    return _chain_reason(problem)


def _type_key(problem: RoutingProblem, v: int) -> tuple[object, ...]:
    veh = problem.vehicles[v]
    return (
        veh.start,
        veh.end,
        veh.capacity_kg,
        veh.profile,
        veh.fixed_fen,
        veh.fen_per_km,
        veh.shift_start_s,
        veh.shift_end_s,
        veh.max_duration_s,
        veh.max_distance_m,
    )


def _groups(
    problem: RoutingProblem,
) -> tuple[dict[tuple[object, ...], list[list[int]]], dict[tuple[object, ...], frozenset[int]]]:
    """Slot chains per PyVRP vehicle type (same attributes, trips and forbidden stops) and
    each type's forbidden stops, in the order of first appearance."""
    restricted = [(i, frozenset(s.allowed_vehicles)) for i, s in enumerate(problem.stops)
                  if s.allowed_vehicles is not None]
    groups: dict[tuple[object, ...], list[list[int]]] = defaultdict(list)
    forb_of: dict[tuple[object, ...], frozenset[int]] = {}
    for ch in chains(problem):
        forb = frozenset(i for i, al in restricted if ch[0] not in al)
        key = (_type_key(problem, ch[0]), len(ch), forb)
        groups[key].append(ch)
        forb_of[key] = forb
    return groups, forb_of


def _gather(mat: Matrix, mnode: np.ndarray, big: int) -> tuple[np.ndarray, np.ndarray]:
    """Distance and duration over ``mnode`` with unreachable arcs set to ``big``."""
    d = mat.distance_m[np.ix_(mnode, mnode)].astype(np.int64)
    t = mat.duration_s[np.ix_(mnode, mnode)].astype(np.int64)
    unreachable = (d >= Matrix.UNREACHABLE) | (t >= Matrix.UNREACHABLE)
    d[unreachable] = big
    t[unreachable] = big
    return d, t


def _forbid(d: np.ndarray, rows: np.ndarray, cols: np.ndarray, big: int) -> None:
    """Set arcs rows x cols to ``big`` in place."""
    if rows.size and cols.size:
        d[np.ix_(rows, cols)] = big


def build_data(problem: RoutingProblem) -> tuple[pyvrp.ProblemData, list[list[list[int]]], int]:
    """ProblemData for ``problem`` (which :func:`unsupported_reason` accepts); also the slot
    chains per PyVRP vehicle type and the number of depots (PyVRP numbers depots first,
    then clients).

    A chain of multi-trip slots is one PyVRP vehicle that may reload at its depot
    ``len(chain) - 1`` times. Forbidden arcs get a huge distance and duration, in one
    routing profile per set of stops a chain may not serve (``allowed_vehicles``) and, for
    ``backhauls_last``, from every depot to a backhaul and from a backhaul to a linehaul,
    as ``pyvrp.read`` does; the checker rejects a plan that uses one.
    """
    stops, vehicles = problem.stops, problem.vehicles
    scale = money_scale(problem)
    big = int(MAX_VALUE) if problem.cost_unit == "vrplib" else _BIG
    groups, forb_of = _groups(problem)
    depots = sorted({v.start for v in vehicles} | {v.end for v in vehicles})
    depot_pos = {d: k for k, d in enumerate(depots)}
    n_dep = len(depots)
    mnode = np.array(depots + [s.node for s in stops], dtype=np.int64)
    if problem.backhauls_last:
        back = np.array([n_dep + i for i, s in enumerate(stops) if s.pickup_kg > 0], np.int64)
        line = np.array([n_dep + i for i, s in enumerate(stops) if s.delivery_kg > 0], np.int64)
    base: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    prof_index: dict[tuple[str, frozenset[int]], int] = {}
    dist_mats: list[np.ndarray] = []
    dur_mats: list[np.ndarray] = []
    for key, forb in forb_of.items():
        pname = vehicles[groups[key][0][0]].profile
        if (pname, forb) in prof_index:
            continue
        if pname not in base:
            d, t = _gather(problem.matrices[pname], mnode, big)
            if problem.backhauls_last:
                for m in (d, t):
                    _forbid(m, np.arange(n_dep), back, big)
                    _forbid(m, back, line, big)
            base[pname] = (d, t)
        d, t = base[pname]
        if forb:
            cols = np.array(sorted(forb), dtype=np.int64) + n_dep
            d, t = d.copy(), t.copy()
            for m in (d, t):
                m[cols, :] = big
                m[:, cols] = big
                m[cols, cols] = 0
        prof_index[(pname, forb)] = len(dist_mats)
        dist_mats.append(d)
        dur_mats.append(t)
    clients = []
    for k, s in enumerate(stops):
        optional = s.drop_penalty_fen is not None
        clients.append(
            pyvrp.Client(
                location=n_dep + k,
                delivery=[int(s.delivery_kg)],
                pickup=[int(s.pickup_kg)],
                service_duration=int(s.service_s),
                tw_early=int(s.tw_start_s),
                tw_late=int(s.tw_end_s),
                release_time=int(s.release_s),
                prize=int(s.drop_penalty_fen or 0) * scale if optional else 0,
                required=not optional,
                name=s.id,
            )
        )
    vtypes = []
    members: list[list[list[int]]] = []
    for key, group in groups.items():
        veh = vehicles[group[0][0]]
        n_trips = len(group[0])
        kw: dict[str, object] = {}
        if veh.max_duration_s is not None:
            kw["shift_duration"] = int(veh.max_duration_s)
        if veh.max_distance_m is not None:
            kw["max_distance"] = int(veh.max_distance_m)
        if n_trips > 1:
            kw["reload_depots"] = [depot_pos[veh.start]]
            kw["max_reloads"] = n_trips - 1
        vtypes.append(
            pyvrp.VehicleType(
                num_available=len(group),
                capacity=[int(veh.capacity_kg)],
                start_depot=depot_pos[veh.start],
                end_depot=depot_pos[veh.end],
                fixed_cost=int(veh.fixed_fen) * scale,
                tw_early=int(veh.shift_start_s),
                tw_late=int(veh.shift_end_s),
                unit_distance_cost=int(round(veh.fen_per_km * scale / 1000.0)),
                unit_duration_cost=0,
                profile=prof_index[(veh.profile, forb_of[key])],
                name=veh.type_id,
                **kw,  # type: ignore[arg-type]
            )
        )
        members.append(group)
    locations = [pyvrp.Location(0, 0) for _ in mnode]
    pv_depots = [pyvrp.Depot(location=k) for k in range(n_dep)]
    data = pyvrp.ProblemData(
        locations, clients, pv_depots, vtypes, dist_mats, dur_mats  # type: ignore[arg-type]
    )
    return data, members, n_dep


def _params(problem: RoutingProblem) -> pyvrp.SolveParams:
    """PyVRP's own defaults for VRPLIB-dialect benchmarks (unscaled costs), else a penalty
    cap fit for costs in fen x 1000."""
    if problem.cost_unit == "vrplib":
        return pyvrp.SolveParams()
    return pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=MAX_PENALTY))


#: a PyVRP solution as plain data: (vehicle type, client indices per trip) per route
_Plan = list[tuple[int, list[list[int]]]]


def _plan_of(best: pyvrp.Solution) -> _Plan:
    out: _Plan = []
    for route in best.routes():
        trips: dict[int, list[int]] = defaultdict(list)
        for act in route:
            if act.is_client():
                trips[int(act.trip)].append(int(act.idx))
        out.append((int(route.vehicle_type()), [trips[k] for k in sorted(trips)]))
    return out


def _solution_of(data: pyvrp.ProblemData, plan: _Plan) -> pyvrp.Solution:
    """The PyVRP solution of a plain plan (reloads at each type's first reload depot)."""
    routes = []
    for vt, trips in plan:
        typ = data.vehicle_type(vt)
        reload = typ.reload_depots[0] if typ.reload_depots else None
        acts: list[pyvrp.Activity] = []
        for k, trip in enumerate(t for t in trips if t):
            if k and reload is not None:
                acts.append(pyvrp.Activity(pyvrp.ActivityType.DEPOT, int(reload)))
            acts += [pyvrp.Activity(pyvrp.ActivityType.CLIENT, int(c)) for c in trip]
        routes.append(pyvrp.Route(data, acts, vt))
    return pyvrp.Solution(data, routes)


#: PyVRP data of the problem a lane worker process serves (set by :func:`_lane_init`)
_LANE: dict[str, Any] = {}


def _lane_init(problem: RoutingProblem) -> None:
    """Worker initializer: build the problem's PyVRP data once per process."""
    data, _, n_dep = build_data(problem)
    _LANE.update(data=data, n_dep=n_dep, params=_params(problem), name=problem.name)
    logging.getLogger("pyvrp").setLevel(logging.WARNING)


def _lane(deadline: float, seed: int, iterations: int | None,
          initial: _Plan | None) -> tuple[float, _Plan] | None:
    """One PyVRP trajectory until the wall-clock ``deadline`` (``time.time()``), from
    ``initial`` if given: its best feasible cost and plan, or None. Runs on the data of
    :func:`_lane_init` (module-level so that worker processes can run it)."""
    data = _LANE["data"]
    init = _solution_of(data, initial) if initial else None
    run = _run(data, seconds=deadline - time.time(), seed=seed, iterations=iterations,
               what=f"PyVRP lane {seed} on {_LANE['name']}", params=_LANE["params"],
               initial=init)
    if run is None:
        return None
    best, cost = run
    return cost, _plan_of(best)


#: parallel lanes restart from the best plan found so far this many times, evenly spread
#: over the budget (0: independent trajectories)
LANE_SYNCS = 1


def solve_pyvrp(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    seed: int = 0,
    max_iterations: int | None = None,
    lanes: int = 1,
) -> RawResult | None:
    """Run PyVRP's ILS for ``time_limit_s`` seconds (and at most ``max_iterations``).

    ``lanes`` > 1 runs that many trajectories in parallel processes (seeds ``seed``,
    ``seed + 1``, ...); ``LANE_SYNCS`` times, evenly spread, every lane restarts from the
    cheapest plan so far with a fresh seed; the cheapest plan wins. Returns None when PyVRP
    finds no feasible solution. A reloading vehicle's trips go onto its chained slots in
    order (:func:`_warm.chain_routes`); other departure times are left to
    ``solve.assemble``.
    """
    reason = unsupported_reason(problem)
    if reason is not None:
        raise ValueError(f"PyVRP cannot express this problem: {reason}")
    t_start = time.time()
    if lanes <= 1:
        _lane_init(problem)
        try:
            found = _lane(t_start + time_limit_s, seed, max_iterations, None)
        finally:
            _LANE.clear()
    else:
        found = _lanes(problem, t_start, time_limit_s, seed, max_iterations, lanes)
    if found is None:
        return None
    cost, plan = found
    return _raw_of(problem, plan, cost / money_scale(problem), "pyvrp")


def _plan_trips(problem: RoutingProblem, plan: _Plan) -> Trips:
    """A PyVRP plan as trips per chain root slot (chains taken in order per type)."""
    free = [list(g) for g in _groups(problem)[0].values()]
    return {free[vt].pop(0)[0]: [list(t) for t in trips if t] for vt, trips in plan}


def _trips_plan(problem: RoutingProblem, trips: Trips) -> _Plan:
    """Trips per chain root slot as a PyVRP plan (the inverse of :func:`_plan_trips`)."""
    type_of = {ch[0]: k for k, g in enumerate(_groups(problem)[0].values()) for ch in g}
    return [(type_of[r], ts) for r, ts in sorted(trips.items()) if any(ts)]


def _part_lane(part: RoutingProblem, deadline: float, seed: int,
               trips: Trips) -> tuple[float, Trips] | None:
    """One PyVRP trajectory on a sub-problem from its share of the plan, until the
    wall-clock ``deadline``: (cost in PyVRP units, trips) or None."""
    data, _, _ = build_data(part)
    run = _run(data, seconds=deadline - time.time(), seed=seed, iterations=None,
               what=f"PyVRP part of {part.name}", params=_params(part),
               initial=_solution_of(data, _trips_plan(part, trips)))
    if run is None:
        return None
    best, cost = run
    return cost, _plan_trips(part, _plan_of(best))


#: lanes decompose problems with at least this many stops (route-based parts, one per lane)
DECOMPOSE_MIN_STOPS = 400
#: shares of the budget: whole-problem lanes first and last, decomposition rounds between
DECOMPOSE_FIRST, DECOMPOSE_LAST, DECOMPOSE_ROUNDS = 0.3, 0.15, 3


def _lanes(problem: RoutingProblem, t_start: float, time_limit_s: float, seed: int,
           iterations: int | None, lanes: int) -> tuple[float, _Plan] | None:
    """Parallel lanes (see :func:`solve_pyvrp`): on a large problem (at least
    ``DECOMPOSE_MIN_STOPS`` stops, no iteration limit), whole-problem lanes for
    ``DECOMPOSE_FIRST`` of the budget, then ``DECOMPOSE_ROUNDS`` rounds in which each lane
    improves one part of the best plan (:func:`_decompose.split_plan`, whole routes, a
    new cut each round; the merged plan is kept when cheaper), then whole-problem lanes
    from the best plan; otherwise lanes with ``LANE_SYNCS`` restarts from the best plan."""
    if iterations is None and len(problem.stops) >= DECOMPOSE_MIN_STOPS:
        return _lanes_decomposed(problem, t_start, time_limit_s, seed, lanes)
    phases = LANE_SYNCS + 1
    iters = None if iterations is None else max(1, iterations // phases)
    best: tuple[float, _Plan] | None = None
    with process_pool(lanes, preload=(__name__,), initializer=_lane_init,
                      initargs=(problem,)) as pool:
        for ph in range(phases):
            deadline = t_start + time_limit_s * (ph + 1) / phases
            init = best[1] if best is not None else None
            futs = [pool.submit(_lane, deadline, seed + ph * lanes + k, iters, init)
                    for k in range(lanes)]
            for fut in futs:
                res = fut.result()
                if res is not None and (best is None or res[0] < best[0]):
                    best = res
    return best


def _raw_of(problem: RoutingProblem, plan: _Plan, objective: float, status: str) -> RawResult:
    """Map a plain PyVRP plan onto the problem's vehicles (chains of slots per type)."""
    free = [list(g) for g in _groups(problem)[0].values()]
    routes: list[RawRoute] = []
    served: set[int] = set()
    for vt, trips in plan:
        ch = free[vt].pop(0)
        routes += chain_routes(problem, ch, trips)
        served.update(c for t in trips for c in t)
    dropped = tuple(i for i in range(len(problem.stops)) if i not in served)
    return RawResult(tuple(routes), dropped, objective, status)


def _lanes_decomposed(problem: RoutingProblem, t_start: float, time_limit_s: float,
                      seed: int, lanes: int) -> tuple[float, _Plan] | None:
    """Whole-problem lanes, decomposition rounds, whole-problem lanes (see :func:`_lanes`)."""
    best: tuple[float, _Plan] | None = None
    t_end = t_start + time_limit_s

    def whole(pool: Any, deadline: float, first_seed: int) -> None:
        nonlocal best
        init = best[1] if best is not None else None
        futs = [pool.submit(_lane, deadline, first_seed + k, None, init) for k in range(lanes)]
        for fut in futs:
            res = fut.result()
            if res is not None and (best is None or res[0] < best[0]):
                best = res

    with process_pool(lanes, preload=(__name__,), initializer=_lane_init,
                      initargs=(problem,)) as pool:
        whole(pool, t_start + time_limit_s * DECOMPOSE_FIRST, seed)
        middle = 1.0 - DECOMPOSE_FIRST - DECOMPOSE_LAST
        for rnd in range(DECOMPOSE_ROUNDS):
            if best is None:
                break
            deadline = t_start + time_limit_s * (
                DECOMPOSE_FIRST + middle * (rnd + 1) / DECOMPOSE_ROUNDS)
            parts = _decompose.split_plan(problem, _plan_trips(problem, best[1]), lanes,
                                          seed + rnd)
            if parts is None:
                break
            futs = [pool.submit(_part_lane, part.problem, deadline,
                                seed + 1000 * (rnd + 1) + k, trips)
                    for k, (part, trips) in enumerate(parts)]
            done = [fut.result() for fut in futs]
            if any(r is None for r in done):
                continue
            cost = sum(float(r[0]) for r in done if r is not None)
            merged = _decompose.merge_trips(
                [(part, r[1]) for (part, _), r in zip(parts, done, strict=True)
                 if r is not None])
            log.debug("%s: decomposition round %d: %.0f -> %.0f", problem.name, rnd,
                      best[0], cost)
            if cost <= best[0]:
                best = (cost, _trips_plan(problem, merged))
        whole(pool, t_end, seed + 10_000)
    return best


# ---- relaxation of the rich problem (warm start for OR-Tools) ---------------------------
def _relaxed_tw_late(problem: RoutingProblem, i: int, slots: list[int]) -> int:
    """Latest service start (s) of stop ``i``: its window end, tightened by its deadline
    minus service and the fastest return to an allowed slot's end depot (the deadline is
    skipped when every allowed slot's shift ends by it anyway)."""
    s = problem.stops[i]
    vehicles = problem.vehicles
    late = int(s.tw_end_s)
    if s.deadline_s is None:
        return late
    vs = slots if s.allowed_vehicles is None else [v for v in slots if v in s.allowed_vehicles]
    if not vs or all(problem.vehicles[v].shift_end_s <= s.deadline_s for v in vs):
        return late
    back = min(
        int(problem.matrices[vehicles[v].profile].duration_s[s.node, vehicles[v].end])
        for v in vs
    )
    return min(late, int(s.deadline_s) - int(s.service_s) - back)


def build_relaxed_data(
    problem: RoutingProblem,
) -> tuple[pyvrp.ProblemData, list[list[list[int]]]]:
    """ProblemData of a relaxation PyVRP can express, and the slot chains per vehicle type.

    Each chain of multi-trip slots (:func:`_warm.uniform_chains`) becomes one PyVRP vehicle
    that may reload at its start depot ``len(chain) - 1`` times (depot service time =
    ``reload_s``; the shift opens ``reload_s`` earlier so the first trip is not delayed).
    Chains with the same attributes and the same set of forbidden stops share a vehicle
    type; forbidden stops (``allowed_vehicles``) are made unreachable in that type's own
    routing profile. Costs: fixed (the chain's sum), per km and per hour of duration (fen
    x 1000, rounded); drop penalties are prizes. Deadlines tighten time windows (see
    :func:`_relaxed_tw_late`). Not expressed: spoilage, field waiting, soft windows; they
    and the exact deadlines are restored by :func:`_warm.repair` and OR-Tools.
    """
    stops, vehicles = problem.stops, problem.vehicles
    chs = uniform_chains(problem)
    depots = sorted({vehicles[ch[0]].start for ch in chs} | {vehicles[ch[0]].end for ch in chs})
    depot_pos = {d: k for k, d in enumerate(depots)}
    n_dep = len(depots)
    mnode = np.array(depots + [s.node for s in stops], dtype=np.int64)
    all_slots = [v for ch in chs for v in ch]
    # forbidden stops per chain: any slot of the chain not allowed
    restricted = [
        (i, frozenset(s.allowed_vehicles)) for i, s in enumerate(stops)
        if s.allowed_vehicles is not None
    ]
    groups: dict[tuple[object, ...], list[list[int]]] = defaultdict(list)
    forb_of: dict[tuple[object, ...], frozenset[int]] = {}
    key: tuple[object, ...]
    for ch in chs:
        veh = vehicles[ch[0]]
        forb = frozenset(i for i, al in restricted if not al.issuperset(ch))
        key = (
            veh.start, veh.end, veh.capacity_kg, veh.profile,
            sum(vehicles[v].fixed_fen for v in ch), veh.fen_per_km, veh.fen_per_h,
            veh.shift_start_s, veh.shift_end_s,
            veh.max_duration_s if len(ch) == 1 else None,
            len(ch), max((vehicles[v].reload_s for v in ch[1:]), default=0), forb,
        )
        groups[key].append(ch)
        forb_of[key] = forb
    # routing profiles: (problem profile, forbidden set)
    prof_index: dict[tuple[str, frozenset[int]], int] = {}
    dist_mats: list[np.ndarray] = []
    dur_mats: list[np.ndarray] = []
    base: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, forb in forb_of.items():
        pname = str(key[3])
        if (pname, forb) in prof_index:
            continue
        if pname not in base:
            mat = problem.matrices[pname]
            d = mat.distance_m[np.ix_(mnode, mnode)].astype(np.int64)
            t = mat.duration_s[np.ix_(mnode, mnode)].astype(np.int64)
            bad = (d >= Matrix.UNREACHABLE) | (t >= Matrix.UNREACHABLE)
            d[bad] = _BIG
            t[bad] = _BIG
            base[pname] = (d, t)
        d, t = base[pname]
        if forb:
            cols = np.array(sorted(forb), dtype=np.int64) + n_dep
            d, t = d.copy(), t.copy()
            d[cols, :] = _BIG
            d[:, cols] = _BIG
            t[cols, :] = _BIG
            t[:, cols] = _BIG
            d[cols, cols] = 0
            t[cols, cols] = 0
        prof_index[(pname, forb)] = len(dist_mats)
        dist_mats.append(d)
        dur_mats.append(t)
    reload_at: dict[int, int] = defaultdict(int)
    for key in groups:
        if int(key[10]) > 1:  # type: ignore[call-overload]
            reload_at[int(key[0])] = max(reload_at[int(key[0])], int(key[11]))  # type: ignore[call-overload]
    pv_depots = [
        pyvrp.Depot(location=k, service_duration=reload_at.get(d, 0))
        for k, d in enumerate(depots)
    ]
    clients = []
    for k, s in enumerate(stops):
        optional = s.drop_penalty_fen is not None
        late = max(int(s.tw_start_s), _relaxed_tw_late(problem, k, all_slots))
        clients.append(
            pyvrp.Client(
                location=n_dep + k,
                delivery=[int(s.delivery_kg)],
                pickup=[int(s.pickup_kg)],
                service_duration=int(s.service_s),
                tw_early=int(s.tw_start_s),
                tw_late=late,
                release_time=min(int(s.release_s), late),
                prize=int(s.drop_penalty_fen or 0) * _MONEY_SCALE if optional else 0,
                required=not optional,
                name=s.id,
            )
        )
    vtypes = []
    members: list[list[list[int]]] = []
    for key, group in groups.items():
        veh = vehicles[group[0][0]]
        n_trips = len(group[0])
        lead = reload_at.get(veh.start, 0)
        kw: dict[str, object] = {}
        if veh.max_duration_s is not None and n_trips == 1:
            kw["shift_duration"] = int(veh.max_duration_s) + lead
        if n_trips > 1:
            kw["reload_depots"] = [depot_pos[veh.start]]
            kw["max_reloads"] = n_trips - 1
        vtypes.append(
            pyvrp.VehicleType(
                num_available=len(group),
                capacity=[int(veh.capacity_kg)],
                start_depot=depot_pos[veh.start],
                end_depot=depot_pos[veh.end],
                fixed_cost=int(round(float(key[4]) * _MONEY_SCALE)),  # type: ignore[arg-type]
                tw_early=max(0, int(veh.shift_start_s) - lead),
                tw_late=int(veh.shift_end_s),
                unit_distance_cost=max(0, int(round(veh.fen_per_km))),
                unit_duration_cost=max(0, int(round(veh.fen_per_h * _MONEY_SCALE / 3600.0))),
                profile=prof_index[(veh.profile, forb_of[key])],
                name=veh.type_id,
                **kw,  # type: ignore[arg-type]
            )
        )
        members.append(group)
    locations = [pyvrp.Location(0.0, 0.0) for _ in mnode]
    data = pyvrp.ProblemData(
        locations, clients, pv_depots, vtypes, dist_mats, dur_mats  # type: ignore[arg-type]
    )
    return data, members


def solve_relaxed(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    seed: int = 0,
    max_iterations: int | None = None,
) -> RawResult | None:
    """Solve the PyVRP relaxation (:func:`build_relaxed_data`) and repair it for ``problem``.

    Each PyVRP route's trips go onto the slots of its chain in order; departure times
    respect the chaining; stops violating what PyVRP did not see are dropped
    (:func:`_warm.repair`). Returns None when PyVRP finds no feasible solution or the
    repaired plan still misses mandatory stops.
    """
    data, members = build_relaxed_data(problem)
    run = _run(data, seconds=time_limit_s, seed=seed, iterations=max_iterations,
               what="PyVRP relaxation")
    if run is None:
        return None
    best, cost = run
    free = [list(g) for g in members]
    trips: dict[int, list[list[int]]] = {}
    for route in best.routes():
        ch = free[route.vehicle_type()].pop(0)
        seqs: dict[int, list[int]] = defaultdict(list)
        for act in route:
            if act.is_client():
                seqs[int(act.trip)].append(int(act.idx))
        trips[ch[0]] = [seqs[k] for k in sorted(seqs)]
    raw = repair(problem, trips, status="pyvrp-relaxed", solver_objective=cost / _MONEY_SCALE)
    if any(problem.stops[i].drop_penalty_fen is None for i in raw.dropped):
        log.info("PyVRP relaxation: repaired plan misses mandatory stops")
        return None
    return raw


__all__ = [
    "build_data",
    "build_relaxed_data",
    "money_scale",
    "solve_pyvrp",
    "solve_relaxed",
    "unsupported_reason",
]


# ---- multi-depot CVRP runs (optimizer.routing.multidepot) --------------------------------



def lrp_build_data(
    ctx: Any,
    depots: tuple[int, ...],
    lam: Sequence[float] | None = None,
    assign: dict[int, int] | None = None,
    *,
    forbidden: int,
):  # type: ignore[no-untyped-def]
    """PyVRP data for the open ``depots``; ``lam``: per-depot price per unit of load;
    ``assign``: customer -> depot, forbidding other depots (arc cost ``forbidden``; one
    profile per depot)."""
    k, n, m = len(depots), ctx.n, ctx.m
    nodes = np.array(list(depots) + [m + i for i in range(n)], dtype=np.int64)
    base = ctx.cost[np.ix_(nodes, nodes)].astype(np.int64)
    mats: list[np.ndarray] = []
    if lam is None and assign is None:
        mats.append(base)
    else:
        for j, d in enumerate(depots):
            mat = base.copy()
            if lam is not None and lam[j] > 0:
                mat[k:, :] += np.rint(lam[j] * ctx.demand).astype(np.int64)[:, None]
            if assign is not None:
                other = np.array([k + i for i in range(n) if assign[i] != d], dtype=np.int64)
                if other.size:
                    mat[other, :] = forbidden
                    mat[:, other] = forbidden
            np.fill_diagonal(mat, 0)
            mats.append(mat)
    total = int(ctx.demand.sum())
    vtypes = []
    for j, d in enumerate(depots):
        load = min(int(ctx.depot_capacity[d]), total)
        num = min(n, math.ceil(load / ctx.capacity) + 3)
        vtypes.append(
            pyvrp.VehicleType(
                num_available=num,
                capacity=[ctx.capacity],
                start_depot=j,
                end_depot=j,
                fixed_cost=ctx.route_cost,
                profile=j if len(mats) > 1 else 0,
                name=f"d{d}",
            )
        )
    locations = [pyvrp.Location(0, 0) for _ in nodes]
    pv_depots = [pyvrp.Depot(location=j) for j in range(k)]
    clients = [
        pyvrp.Client(location=k + i, delivery=[int(ctx.demand[i])], name=str(i)) for i in range(n)
    ]
    zeros = np.zeros_like(base)
    return pyvrp.ProblemData(
        locations, clients, pv_depots, vtypes, mats,  # type: ignore[arg-type]
        [zeros] * len(mats),  # type: ignore[list-item]
    )


def lrp_run(
    data,  # type: ignore[no-untyped-def]
    depots: tuple[int, ...],
    *,
    seconds: float,
    seed: int,
    iterations: int | None,
    init: list[tuple[int, tuple[int, ...]]] | None,
) -> list[tuple[int, tuple[int, ...]]] | None:
    """One PyVRP run; returns (depot, customers) routes or None if infeasible."""
    initial = None
    if init:
        pos = {d: j for j, d in enumerate(depots)}
        used = [0] * len(depots)
        proutes = []
        ok = True
        for d, custs in init:
            j = pos.get(d)
            if j is None or used[j] >= data.vehicle_type(j).num_available:
                ok = False
                break
            used[j] += 1
            proutes.append(pyvrp.Route(data, list(custs), j))
        if ok:
            initial = pyvrp.Solution(data, proutes)
    run = _run(data, seconds=seconds, seed=seed, iterations=iterations, what="PyVRP (LRP)",
               initial=initial)
    if run is None:
        return None
    best = run[0]
    out: list[tuple[int, tuple[int, ...]]] = []
    for r in best.routes():
        custs = tuple(int(a.idx) for a in r if a.is_client())
        if custs:
            out.append((depots[r.vehicle_type()], custs))
    return out
