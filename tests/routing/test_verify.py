"""The independent checker: a valid plan passes; each violation is reported on its own line."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest

from optimizer.errors import CheckError
from optimizer.routing import verify as check
from optimizer.routing.problem import (
    Matrix,
    RouteSolution,
    RoutingProblem,
    RoutingSolution,
    Stop,
    Vehicle,
    Visit,
)

# depot (0,0), s0 (1,0), s1 (2,0), s2 (0,1); 1 km = 100 s
COORDS = np.array([(0, 0), (1, 0), (2, 0), (0, 1)], dtype=float)


def _problem(**changes: object) -> RoutingProblem:
    d = np.sqrt(((COORDS[:, None] - COORDS[None]) ** 2).sum(axis=2)) * 1000
    mat = Matrix(np.rint(d).astype(np.int64), np.rint(d / 10).astype(np.int64))
    stops = [
        Stop("s0", 1, delivery_kg=5, tw_end_s=1000, soft_tw_end_s=50, late_fen_per_h=360.0),
        Stop("s1", 2, pickup_kg=4, deadline_s=2000, ready_s=0, wait_fen_per_h=36.0),
        Stop("s2", 3, delivery_kg=3, allowed_vehicles=(1,), drop_penalty_fen=500),
    ]
    veh = dict(type_id="t", start=0, end=0, capacity_kg=10, profile="car", fen_per_km=100.0,
               fixed_fen=1000, fen_per_h=360.0, spoil_fen_per_kg_h=3.6)
    vehicles = [
        Vehicle("v0", **veh),
        Vehicle("v1", **veh),
        Vehicle("v2", **veh, after=0, reload_s=100),
    ]
    for key, val in changes.items():
        kind, i, fld = key.split("__")
        seq = stops if kind == "s" else vehicles
        seq[int(i)] = replace(seq[int(i)], **{fld: val})
    return RoutingProblem(("d", "a", "b", "c"), {"car": mat}, tuple(stops), tuple(vehicles))


def _route(p: RoutingProblem, v: int, seq: list[int], start: int = 0) -> RouteSolution:
    """Hand-rolled earliest schedule (independent of the solver modules)."""
    veh = p.vehicles[v]
    dur = p.matrices[veh.profile].duration_s
    t, prev, visits = start, veh.start, []
    for i in seq:
        s = p.stops[i]
        arr = t + int(dur[prev, s.node])
        st = max(arr, s.tw_start_s)
        visits.append(Visit(i, arr, st))
        t, prev = st + s.service_s, s.node
    return RouteSolution(v, tuple(visits), start, t + int(dur[prev, veh.end]))


def _solution(p: RoutingProblem, routes: list[RouteSolution], dropped: tuple[int, ...] = (),
              objective: float | None = None) -> RoutingSolution:
    sol = RoutingSolution(tuple(routes), dropped, 0.0)
    if objective is None:
        bd, _ = check.evaluate(p, sol)
        objective = bd.total / p.distance_scale
    return replace(sol, objective=objective)


def _valid(p: RoutingProblem) -> RoutingSolution:
    return _solution(p, [_route(p, 0, [0, 1]), _route(p, 1, [2])])


def test_valid_plan_and_hand_computed_costs() -> None:
    p = _problem()
    bd = check.verify(p, _valid(p))
    # v0: 0 -> s0 (100 s) -> s1 (200 s) -> 0 (400 s); v1: 0 -> s2 -> 0 (200 s)
    assert bd.fixed == 2000
    assert bd.distance == pytest.approx(100.0 * (4 + 2))
    assert bd.duration == pytest.approx(360.0 * (400 + 200) / 3600)
    # v0 carries 5 kg for 100 s, 0 kg for 100 s, 4 kg for 200 s; v1 3 kg for 100 s
    assert bd.spoilage == pytest.approx(3.6 * (5 * 100 + 4 * 200 + 3 * 100) / 3600)
    assert bd.lateness == pytest.approx(360.0 * 50 / 3600)
    assert bd.waiting == pytest.approx(36.0 * 200 / 3600)
    assert bd.dropped == 0


def test_checker_imports_no_solver() -> None:
    import subprocess

    code = ("import sys, optimizer.routing.verify, optimizer.lrp.verify; "
            "assert not any(m.startswith(('ortools', 'pyvrp')) for m in sys.modules), "
            "[m for m in sys.modules if m.startswith(('ortools', 'pyvrp'))]")
    subprocess.run([sys.executable, "-c", code], check=True)


def _bad(p: RoutingProblem, sol: RoutingSolution, needle: str) -> None:
    with pytest.raises(CheckError) as exc:
        check.verify(p, sol)
    assert any(needle in v for v in exc.value.violations), exc.value.violations
    _, viol = check.evaluate(p, sol)
    assert viol == exc.value.violations


def test_capacity() -> None:
    p = _problem(v__0__capacity_kg=4)
    _bad(p, _valid(p), "capacity")


def test_capacity_after_pickup() -> None:
    p = _problem(s__1__pickup_kg=11, v__0__capacity_kg=10)
    _bad(p, _valid(p), "on board after stop s1")


def test_time_window() -> None:
    p = _problem(s__0__tw_end_s=50)
    _bad(p, _valid(p), "time window")


def test_deadline() -> None:
    p = _problem(s__1__deadline_s=300)
    _bad(p, _valid(p), "deadline")


def test_double_visit() -> None:
    p = _problem()
    _bad(p, _solution(p, [_route(p, 0, [0, 1, 0]), _route(p, 1, [2])]), "more than once")


def test_missed_mandatory_stop() -> None:
    p = _problem()
    _bad(p, _solution(p, [_route(p, 0, [1]), _route(p, 1, [2])]), "mandatory but not served")


def test_dropped_mandatory_stop() -> None:
    p = _problem()
    sol = _solution(p, [_route(p, 0, [1]), _route(p, 1, [2])], dropped=(0,))
    _bad(p, sol, "mandatory but dropped")


def test_optional_stop_unaccounted_and_both_served_and_dropped() -> None:
    p = _problem()
    _bad(p, _solution(p, [_route(p, 0, [0, 1])]), "neither served nor listed")
    _bad(p, _solution(p, [_route(p, 0, [0, 1]), _route(p, 1, [2])], dropped=(2,)),
         "both served and dropped")


def test_wrong_vehicle() -> None:
    p = _problem()
    _bad(p, _solution(p, [_route(p, 0, [0, 1, 2])]), "not allowed")


def test_wrong_objective() -> None:
    p = _problem()
    sol = _valid(p)
    _bad(p, replace(sol, objective=sol.objective + 1.0), "objective")


def test_multi_trip_overlap_and_unused_previous_slot() -> None:
    p = _problem()
    # v0 ends at 200 s; v2 (after v0, reload 100 s) starts at 250 s < 300 s
    sol = _solution(p, [_route(p, 0, [0]), _route(p, 1, [2]), _route(p, 2, [1], start=250)])
    _bad(p, sol, "multi-trip")
    ok = _solution(p, [_route(p, 0, [0]), _route(p, 1, [2]), _route(p, 2, [1], start=300)])
    check.verify(p, ok)
    alone = _solution(p, [_route(p, 1, [2]), _route(p, 2, [0, 1])])
    _bad(p, alone, "previous slot")


def test_reported_times_and_end() -> None:
    p = _problem()
    sol = _valid(p)
    r0 = sol.routes[0]
    moved = replace(r0, visits=(replace(r0.visits[0], arrival_s=99),) + r0.visits[1:])
    _bad(p, replace(sol, routes=(moved, sol.routes[1])), "differ from recomputed")
    _bad(p, replace(sol, routes=(replace(r0, end_s=401), sol.routes[1])), "reported end")


def test_shift_and_max_duration() -> None:
    p = _problem(v__0__max_duration_s=300)
    _bad(p, _valid(p), "max_duration")
    p = _problem(v__0__shift_end_s=399)
    _bad(p, _valid(p), "shift end")
    p = _problem(v__0__shift_start_s=10)
    _bad(p, _valid(p), "before shift start")


def test_duplicate_vehicle_and_bad_indices() -> None:
    p = _problem()
    _bad(p, _solution(p, [_route(p, 0, [0]), _route(p, 0, [1]), _route(p, 1, [2])]),
         "more than one route")
    bad = RouteSolution(7, (), 0, 0)
    _bad(p, replace(_valid(p), routes=_valid(p).routes + (bad,)), "out of range")


def test_unreachable_arc() -> None:
    p = _problem()
    d = p.matrices["car"].distance_m.copy()
    d[1, 2] = Matrix.UNREACHABLE
    p2 = replace(p, matrices={"car": Matrix(d, p.matrices["car"].duration_s)})
    _bad(p2, _valid(p2), "unreachable")


def test_error_message_is_one_line() -> None:
    p = _problem(v__0__capacity_kg=4, s__0__tw_end_s=50)
    with pytest.raises(CheckError) as exc:
        check.verify(p, _valid(p))
    assert "\n" not in str(exc.value)
    assert len(exc.value.violations) >= 2


# ---- rich VRP variants: release times, maximum distance, backhauls last ------------------
def test_release_time() -> None:
    p = _problem(s__1__release_s=10)
    _bad(p, _valid(p), "release: the route departs at 0 s < release 10 s")
    late = _solution(p, [_route(p, 0, [0, 1], start=10), _route(p, 1, [2])])
    check.verify(p, late)


def test_max_distance() -> None:
    p = _problem(v__0__max_distance_m=3999)  # v0 drives 4 km
    _bad(p, _valid(p), "distance 4000 m > max_distance 3999 m")
    check.verify(_problem(v__0__max_distance_m=4000), _valid(_problem(v__0__max_distance_m=4000)))


def test_backhauls_last() -> None:
    p = replace(_problem(), backhauls_last=True)
    check.verify(p, _valid(p))  # s0 delivers, then s1 picks up
    swapped = _solution(p, [_route(p, 0, [1, 0]), _route(p, 1, [2])])
    _bad(p, swapped, "the route starts with a backhaul")
    _bad(p, swapped, "linehaul (delivery) after backhaul s1")
    both = replace(_problem(s__1__delivery_kg=1), backhauls_last=True)
    _bad(both, _valid(both), "has both a delivery and a pickup")


def test_distance_cost_is_exact_for_integer_rates() -> None:
    p = _problem(v__0__fen_per_km=7000.0, v__1__fen_per_km=7000.0)
    assert check.verify(p, _valid(p)).distance == 7 * (4000 + 2000)
