"""Independent checker of matrix-level routing solutions (imports no solver module).

``verify(problem, solution)`` recomputes, from the problem data alone, every route's
schedule, loads, deadlines and cost components, and raises
:class:`optimizer.errors.CheckError` listing one line per violation. ``evaluate`` returns
the same breakdown plus the list of violations without raising.

Semantics (the contract every engine must meet):

* a route departs ``vehicle.start`` at ``route.start_s``; arrival at the next node is the
  departure from the previous one plus the travel duration of the vehicle's profile;
  service starts at ``max(arrival, tw_start_s)`` (no voluntary waiting inside a route) and
  must be ``<= tw_end_s``; departure = service start + service time;
* ``route.end_s`` is the arrival at ``vehicle.end``;
* load on board starts at the sum of the route's deliveries and changes by
  ``pickup - delivery`` at each stop; it must stay within ``capacity_kg``;
* spoilage = ``spoil_fen_per_kg_h`` x sum over arcs of (kg on board on the arc x travel h);
* the route end must be ``<= deadline_s`` of every stop with a deadline on it;
* a multi-trip slot (``after`` set) may be used only if slot ``after`` is used, and must
  start at or after that slot's end plus ``reload_s``;
* a route departs at or after the ``release_s`` of every stop on it (its goods are at the
  depot from then on);
* a route drives at most ``max_distance_m`` metres (the vehicle's);
* with ``problem.backhauls_last`` (VRPB), no stop with a delivery follows a stop with a
  pickup on a route, no route starts with a pickup stop, and no stop has both;
* distance cost = ``fen_per_km`` x the route's metres / 1000 (integer metres summed first,
  so integer per-metre rates give exact integer costs).

Empty routes (no visits) count as unused vehicles and cost nothing.

"""

from __future__ import annotations

import numpy as np

from optimizer.errors import CheckError
from optimizer.routing.problem import (
    CostBreakdown,
    Matrix,
    RoutingProblem,
    RoutingSolution,
    Stop,
)

# absolute tolerance (fen, divided by distance_scale) on the reported objective
OBJECTIVE_ABS_TOL = 1e-3
OBJECTIVE_REL_TOL = 1e-9


def _leg(dist: np.ndarray, dur: np.ndarray, a: int, b: int, load: float, metres: int,
         kg_h: float, tag: str, violations: list[str]) -> tuple[int, int, float]:
    """Drive arc a -> b with ``load`` kg on board: (travel s, metres so far, kg x h so far)."""
    d_arc = int(dist[a, b])
    t_arc = int(dur[a, b])
    if d_arc >= Matrix.UNREACHABLE or t_arc >= Matrix.UNREACHABLE:
        violations.append(f"{tag}: arc {a}->{b} is unreachable")
    return t_arc, metres + d_arc, kg_h + load * t_arc / 3600.0


def _backhaul_violations(stops: list[Stop], tag: str) -> list[str]:
    """VRPB order on one route: linehauls (deliveries) first, then backhauls (pickups)."""
    out: list[str] = []
    seen_backhaul: str | None = None
    for k, stop in enumerate(stops):
        if stop.pickup_kg > 0 and stop.delivery_kg > 0:
            out.append(f"{tag}: stop {stop.id}: backhauls: has both a delivery and a pickup")
        if stop.pickup_kg > 0:
            if k == 0:
                out.append(f"{tag}: stop {stop.id}: backhauls: the route starts with a "
                           "backhaul (pickup) stop")
            seen_backhaul = seen_backhaul or stop.id
        elif stop.delivery_kg > 0 and seen_backhaul is not None:
            out.append(f"{tag}: stop {stop.id}: backhauls: linehaul (delivery) after "
                       f"backhaul {seen_backhaul}")
    return out


def evaluate(
    problem: RoutingProblem, solution: RoutingSolution
) -> tuple[CostBreakdown, list[str]]:
    """Recompute the cost breakdown (fen) and list every violation (empty list: feasible)."""
    violations: list[str] = []
    n_stops = len(problem.stops)
    n_veh = len(problem.vehicles)
    served_by: dict[int, int] = {}
    used: dict[int, tuple[int, int]] = {}  # vehicle -> (start_s, end_s) of non-empty routes
    seen_vehicles: set[int] = set()
    fixed = distance = duration = spoilage = waiting = lateness = 0.0

    for r_pos, route in enumerate(solution.routes):
        v = route.vehicle
        tag = f"route {r_pos}"
        if not 0 <= v < n_veh:
            violations.append(f"{tag}: vehicle index {v} out of range 0..{n_veh - 1}")
            continue
        veh = problem.vehicles[v]
        tag = f"route {r_pos} (vehicle {veh.id})"
        if v in seen_vehicles:
            violations.append(f"{tag}: vehicle {v} has more than one route")
            continue
        seen_vehicles.add(v)
        if not route.visits:
            continue
        if veh.profile not in problem.matrices:
            violations.append(f"{tag}: unknown profile {veh.profile!r}")
            continue
        mat: Matrix = problem.matrices[veh.profile]
        dist = mat.distance_m
        dur = mat.duration_s
        bad_stop = False
        for vis in route.visits:
            if not 0 <= vis.stop < n_stops:
                violations.append(f"{tag}: stop index {vis.stop} out of range")
                bad_stop = True
        if bad_stop:
            continue

        stops = [problem.stops[vis.stop] for vis in route.visits]
        load = sum(s.delivery_kg for s in stops)
        if load > veh.capacity_kg:
            violations.append(
                f"{tag}: capacity: starts with {load} kg of deliveries > {veh.capacity_kg} kg"
            )
        fixed += veh.fixed_fen
        if route.start_s < veh.shift_start_s:
            violations.append(
                f"{tag}: starts at {route.start_s} s before shift start {veh.shift_start_s} s"
            )
        t = route.start_s
        prev = veh.start
        metres = 0
        kg_h = 0.0
        for stop in stops:
            if stop.release_s > route.start_s:
                violations.append(
                    f"{tag}: stop {stop.id}: release: the route departs at {route.start_s} s "
                    f"< release {stop.release_s} s"
                )
        if problem.backhauls_last:
            violations += _backhaul_violations(stops, tag)
        for vis, stop in zip(route.visits, stops, strict=True):
            if vis.stop in served_by:
                violations.append(
                    f"{tag}: stop {stop.id} visited more than once "
                    f"(also by vehicle {problem.vehicles[served_by[vis.stop]].id})"
                )
            served_by.setdefault(vis.stop, v)
            if stop.allowed_vehicles is not None and v not in stop.allowed_vehicles:
                violations.append(
                    f"{tag}: stop {stop.id}: vehicle {v} not allowed "
                    f"(allowed {list(stop.allowed_vehicles)})"
                )
            t_arc, metres, kg_h = _leg(dist, dur, prev, stop.node, load, metres, kg_h, tag,
                                          violations)
            arrival = t + t_arc
            start = max(arrival, stop.tw_start_s)
            if vis.arrival_s != arrival or vis.start_s != start:
                violations.append(
                    f"{tag}: stop {stop.id}: reported arrival/start {vis.arrival_s}/{vis.start_s}"
                    f" s differ from recomputed {arrival}/{start} s"
                )
            if start > stop.tw_end_s:
                violations.append(
                    f"{tag}: stop {stop.id}: time window: service starts at {start} s "
                    f"> tw_end {stop.tw_end_s} s"
                )
            if stop.soft_tw_end_s is not None and start > stop.soft_tw_end_s:
                lateness += (start - stop.soft_tw_end_s) / 3600.0 * stop.late_fen_per_h
            if stop.ready_s is not None and start > stop.ready_s:
                waiting += (start - stop.ready_s) / 3600.0 * stop.wait_fen_per_h
            load += stop.pickup_kg - stop.delivery_kg
            if load > veh.capacity_kg:
                violations.append(
                    f"{tag}: capacity: {load} kg on board after stop {stop.id} "
                    f"> {veh.capacity_kg} kg"
                )
            t = start + stop.service_s
            prev = stop.node
        t_arc, metres, kg_h = _leg(dist, dur, prev, veh.end, load, metres, kg_h, tag,
                                  violations)
        end = t + t_arc
        if route.end_s != end:
            violations.append(
                f"{tag}: reported end {route.end_s} s differs from recomputed {end} s"
            )
        if end > veh.shift_end_s:
            violations.append(f"{tag}: ends at {end} s after shift end {veh.shift_end_s} s")
        span = end - route.start_s
        if veh.max_duration_s is not None and span > veh.max_duration_s:
            violations.append(
                f"{tag}: duration {span} s > max_duration {veh.max_duration_s} s"
            )
        for stop in stops:
            if stop.deadline_s is not None and end > stop.deadline_s:
                violations.append(
                    f"{tag}: stop {stop.id}: deadline: load reaches the route end at {end} s "
                    f"> deadline {stop.deadline_s} s"
                )
        if veh.max_distance_m is not None and metres > veh.max_distance_m:
            violations.append(
                f"{tag}: distance {metres} m > max_distance {veh.max_distance_m} m"
            )
        distance += veh.fen_per_km * metres / 1000.0
        duration += veh.fen_per_h * span / 3600.0
        spoilage += veh.spoil_fen_per_kg_h * kg_h
        used[v] = (route.start_s, end)

    # multi-trip order
    for v, (start_s, _end) in used.items():
        veh = problem.vehicles[v]
        if veh.after is None:
            continue
        prev_slot = used.get(veh.after)
        if prev_slot is None:
            violations.append(
                f"vehicle {veh.id}: multi-trip slot used but its previous slot "
                f"{veh.after} is unused"
            )
        elif start_s < prev_slot[1] + veh.reload_s:
            violations.append(
                f"vehicle {veh.id}: multi-trip: starts at {start_s} s before previous slot "
                f"end {prev_slot[1]} s + reload {veh.reload_s} s"
            )

    # dropped / missed stops
    dropped = 0.0
    dropped_set: set[int] = set()
    for i in solution.dropped:
        if not 0 <= i < n_stops:
            violations.append(f"dropped stop index {i} out of range")
            continue
        stop = problem.stops[i]
        if i in dropped_set:
            violations.append(f"stop {stop.id} listed as dropped twice")
            continue
        dropped_set.add(i)
        if i in served_by:
            violations.append(f"stop {stop.id} is both served and dropped")
        if stop.drop_penalty_fen is None:
            violations.append(f"stop {stop.id} is mandatory but dropped")
        else:
            dropped += stop.drop_penalty_fen
    for i, stop in enumerate(problem.stops):
        if i not in served_by and i not in dropped_set:
            if stop.drop_penalty_fen is None:
                violations.append(f"stop {stop.id} is mandatory but not served")
            else:
                violations.append(f"stop {stop.id} is neither served nor listed as dropped")
                dropped += stop.drop_penalty_fen

    breakdown = CostBreakdown(
        fixed=float(fixed),
        distance=distance,
        duration=duration,
        spoilage=spoilage,
        waiting=waiting,
        lateness=lateness,
        dropped=dropped,
    )
    expected = breakdown.total / problem.distance_scale
    tol = max(OBJECTIVE_ABS_TOL, OBJECTIVE_REL_TOL * abs(expected))
    if abs(solution.objective - expected) > tol:
        violations.append(
            f"objective: reported {solution.objective:.6f} differs from recomputed "
            f"{expected:.6f}"
        )
    return breakdown, violations


def verify(problem: RoutingProblem, solution: RoutingSolution) -> CostBreakdown:
    """Return the recomputed cost breakdown (fen); raise CheckError on any violation."""
    breakdown, violations = evaluate(problem, solution)
    if violations:
        raise CheckError(violations)
    return breakdown


def objective_of(problem: RoutingProblem, breakdown: CostBreakdown) -> float:
    """Objective as reported in solutions: total fen divided by ``distance_scale``."""
    return breakdown.total / problem.distance_scale


__all__ = ["OBJECTIVE_ABS_TOL", "OBJECTIVE_REL_TOL", "evaluate", "objective_of", "verify"]
