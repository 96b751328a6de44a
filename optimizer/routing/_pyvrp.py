"""PyVRP adapter (optional engine) for the classic parts of a RoutingProblem.

PyVRP expresses: several depots, a heterogeneous fleet (capacity, fixed cost, per-km cost,
shift window, maximum duration, profile), hard time windows, service times, simultaneous
pickups and deliveries, and optional stops (prize = drop penalty). It does not express
spoilage, deadlines, soft windows, field waiting, span costs, allowed vehicles or multi-trip
chaining: :func:`unsupported_reason` says why a problem is out of reach.

All PyVRP costs are fen x 1000 (integers): distance in metres x fen_per_km, fixed cost and
prizes x 1000.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

from optimizer.routing.problem import Matrix, RoutingProblem
from optimizer.routing.solve import RawResult, RawRoute

log = logging.getLogger(__name__)

_MONEY_SCALE = 1000  # PyVRP cost units per fen
_BIG = 10**9  # stand-in for unreachable arcs
# PyVRP caps its penalty per unit of excess load / time warp at 1e5 by default; scaled data
# (Solomon x 1000, fen x 1000) needs more or the search stays infeasible (e.g. C104)
MAX_PENALTY = 1e9


def unsupported_reason(problem: RoutingProblem) -> str | None:
    """Why PyVRP cannot express ``problem`` exactly, or None if it can."""
    for v in problem.vehicles:
        if v.spoil_fen_per_kg_h:
            return f"vehicle {v.id} has a spoilage cost"
        if v.fen_per_h:
            return f"vehicle {v.id} has a duration cost"
        if v.after is not None:
            return f"vehicle {v.id} is a multi-trip slot"
        if float(v.fen_per_km) != round(v.fen_per_km) or v.fen_per_km < 0:
            return f"vehicle {v.id} fen_per_km {v.fen_per_km} is not a non-negative integer"
    for s in problem.stops:
        if s.deadline_s is not None:
            return f"stop {s.id} has a deadline"
        if s.soft_tw_end_s is not None and s.late_fen_per_h:
            return f"stop {s.id} has a soft window"
        if s.ready_s is not None and s.wait_fen_per_h:
            return f"stop {s.id} has a field-waiting cost"
        if s.allowed_vehicles is not None:
            return f"stop {s.id} restricts vehicles"
    return None


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
    )


def build_data(problem: RoutingProblem) -> tuple[pyvrp.ProblemData, list[list[int]], int]:
    """ProblemData for ``problem``; also the vehicle indices per PyVRP vehicle type and the
    number of depots (PyVRP numbers depots first, then clients)."""
    stops = problem.stops
    depots = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    depot_pos = {d: k for k, d in enumerate(depots)}
    mnode = np.array(depots + [s.node for s in stops], dtype=np.int64)
    locations = [pyvrp.Location(0.0, 0.0) for _ in mnode]
    pv_depots = [pyvrp.Depot(location=k) for k in range(len(depots))]
    clients = []
    for k, s in enumerate(stops):
        optional = s.drop_penalty_fen is not None
        clients.append(
            pyvrp.Client(
                location=len(depots) + k,
                delivery=[int(s.delivery_kg)],
                pickup=[int(s.pickup_kg)],
                service_duration=int(s.service_s),
                tw_early=int(s.tw_start_s),
                tw_late=int(s.tw_end_s),
                prize=int(s.drop_penalty_fen or 0) * _MONEY_SCALE if optional else 0,
                required=not optional,
                name=s.id,
            )
        )
    profiles = sorted({v.profile for v in problem.vehicles})
    prof_pos = {p: k for k, p in enumerate(profiles)}
    dist_mats, dur_mats = [], []
    for p in profiles:
        mat = problem.matrices[p]
        d = mat.distance_m[np.ix_(mnode, mnode)].astype(np.int64)
        t = mat.duration_s[np.ix_(mnode, mnode)].astype(np.int64)
        unreachable = (d >= Matrix.UNREACHABLE) | (t >= Matrix.UNREACHABLE)
        d[unreachable] = _BIG
        t[unreachable] = _BIG
        dist_mats.append(d)
        dur_mats.append(t)
    groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for v in range(len(problem.vehicles)):
        groups[_type_key(problem, v)].append(v)
    vtypes = []
    members: list[list[int]] = []
    for vs in groups.values():
        veh = problem.vehicles[vs[0]]
        kw: dict[str, object] = {}
        if veh.max_duration_s is not None:
            kw["shift_duration"] = int(veh.max_duration_s)
        vtypes.append(
            pyvrp.VehicleType(
                num_available=len(vs),
                capacity=[int(veh.capacity_kg)],
                start_depot=depot_pos[veh.start],
                end_depot=depot_pos[veh.end],
                fixed_cost=int(veh.fixed_fen) * _MONEY_SCALE,
                tw_early=int(veh.shift_start_s),
                tw_late=int(veh.shift_end_s),
                unit_distance_cost=int(round(veh.fen_per_km)),
                unit_duration_cost=0,
                profile=prof_pos[veh.profile],
                name=veh.type_id,
                **kw,  # type: ignore[arg-type]
            )
        )
        members.append(vs)
    data = pyvrp.ProblemData(
        locations, clients, pv_depots, vtypes, dist_mats, dur_mats  # type: ignore[arg-type]
    )
    return data, members, len(depots)


def solve_pyvrp(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    seed: int = 0,
    max_iterations: int | None = None,
) -> RawResult | None:
    """Run PyVRP's ILS for ``time_limit_s`` seconds (and at most ``max_iterations``).

    Returns None when PyVRP finds no feasible solution. Departure times are left to
    ``solve.assemble`` (``RawRoute.start_s`` is None).
    """
    reason = unsupported_reason(problem)
    if reason is not None:
        raise ValueError(f"PyVRP cannot express this problem: {reason}")
    data, members, _ = build_data(problem)
    stop: pyvrp.stop.StoppingCriterion = MaxRuntime(max(0.05, time_limit_s))
    if max_iterations is not None:
        stop = MultipleCriteria([MaxIterations(int(max_iterations)), stop])
    params = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=MAX_PENALTY))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PenaltyBoundWarning)
        res = pyvrp.solve(
            data, stop=stop, seed=int(seed), collect_stats=False, display=False, params=params
        )
    if caught:
        log.debug("PyVRP: %s", str(caught[0].message).strip().splitlines()[0])
    best = res.best
    if not best.is_feasible():
        log.info("PyVRP found no feasible solution (cost %s)", res.cost())
        return None
    free = [list(vs) for vs in members]
    routes: list[RawRoute] = []
    served: set[int] = set()
    for route in best.routes():
        vt = route.vehicle_type()
        v = free[vt].pop(0)
        seq = tuple(int(a.idx) for a in route if a.is_client())
        served.update(seq)
        routes.append(RawRoute(v, seq, None))
    dropped = tuple(i for i in range(len(problem.stops)) if i not in served)
    return RawResult(tuple(routes), dropped, float(res.cost()) / _MONEY_SCALE, "pyvrp")


__all__ = ["build_data", "solve_pyvrp", "unsupported_reason"]
