"""solve_routing on tiny hand-made problems: optimality by brute force and each feature."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.errors import InfeasibleError
from optimizer.routing import Matrix, solve_routing
from optimizer.routing import verify as check
from optimizer.routing._schedule import to_raw

from ._helpers import brute_force, matrix, problem

T = 1.0  # seconds per solve: GLS runs to the limit on tiny problems


def _routes(sol):
    return {r.vehicle: tuple(v.stop for v in r.visits) for r in sol.routes}


def _rng_problem(seed: int, *, windows: bool) -> object:
    rng = np.random.default_rng(seed)
    coords = [(0.0, 0.0)] + [tuple(rng.uniform(-10, 10, 2)) for _ in range(5)]
    stops = []
    for _ in range(5):
        kw: dict = {"delivery_kg": int(rng.integers(2, 7)), "service_s": 60}
        if windows:
            a = int(rng.integers(0, 3000))
            kw.update(tw_start_s=a, tw_end_s=a + int(rng.integers(600, 3000)))
        stops.append(kw)
    vehicles = [{"capacity_kg": 16, "fixed_fen": 500}, {"capacity_kg": 16, "fixed_fen": 500}]
    return problem(coords, stops, vehicles)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("windows", [False, True])
@pytest.mark.parametrize("engine", ["ortools", "auto"])
def test_matches_brute_force(seed: int, windows: bool, engine: str) -> None:
    p = _rng_problem(seed, windows=windows)
    opt = brute_force(p)
    sol = solve_routing(p, time_limit_s=T, engine=engine)
    assert sol.objective == pytest.approx(opt, abs=1e-6)


def test_mixed_pickup_delivery_load_is_exact() -> None:
    # asymmetric: 0->A->B->0 costs 3 km, the reverse 15 km; A picks up 6, B receives 6
    d = np.array([[0, 1000, 5000], [5000, 0, 1000], [1000, 5000, 0]], dtype=np.int64)
    mats = {"car": Matrix(d, d // 10)}
    stops = [{"pickup_kg": 6}, {"delivery_kg": 6}]
    # capacity 10: A first would carry 6 + 6 = 12 kg, so B must come first
    p = problem([(0, 0)] * 3, stops, [{"capacity_kg": 10}], matrices=mats)
    sol = solve_routing(p, time_limit_s=T, engine="ortools")
    assert _routes(sol) == {0: (1, 0)}
    # capacity 12: the cheap order is feasible and chosen (a single cumulative
    # pickup+delivery dimension would need 12 kg in both cases and reject capacity 11)
    p12 = problem([(0, 0)] * 3, stops, [{"capacity_kg": 12}], matrices=mats)
    assert _routes(solve_routing(p12, time_limit_s=T, engine="ortools")) == {0: (0, 1)}
    p11 = problem([(0, 0)] * 3, stops, [{"capacity_kg": 11}], matrices=mats)
    assert _routes(solve_routing(p11, time_limit_s=T, engine="ortools")) == {0: (1, 0)}


def test_time_windows_force_order() -> None:
    coords = [(0, 0), (1, 0), (2, 0), (3, 0)]
    # far stop first, near stop last (1 km = 100 s)
    stops = [{"tw_start_s": 900, "tw_end_s": 1000}, {"tw_end_s": 2000}, {"tw_end_s": 300}]
    p = problem(coords, stops, [{}])
    sol = solve_routing(p, time_limit_s=T, engine="ortools")
    assert _routes(sol) == {0: (2, 1, 0)}
    assert all(v.start_s <= p.stops[v.stop].tw_end_s for r in sol.routes for v in r.visits)


def test_soft_window_and_field_waiting_costs() -> None:
    coords = [(0, 0), (10, 0)]  # 10 km = 1000 s
    stop = {
        "soft_tw_end_s": 500, "late_fen_per_h": 3600.0,  # 500 s late -> 500 fen
        "ready_s": 0, "wait_fen_per_h": 1800.0,  # waits 1000 s -> 500 fen
        "pickup_kg": 10,
    }
    p = problem(coords, [stop], [{"fen_per_km": 0.0}])
    sol = solve_routing(p, time_limit_s=T, engine="ortools")
    bd = check.verify(p, sol)
    assert bd.lateness == pytest.approx(500.0)
    assert bd.waiting == pytest.approx(500.0)
    assert sol.extra["solver_objective_fen"] == pytest.approx(bd.total, abs=0.01)


def test_spoilage_equals_hand_computation_and_solver_objective() -> None:
    coords = [(0, 0), (10, 0), (10, 10)]
    stops = [
        {"delivery_kg": 40, "tw_end_s": 1500},  # reached at 1000 s
        {"pickup_kg": 30, "tw_start_s": 2000, "tw_end_s": 5000},
    ]
    p = problem(coords, stops, [{"spoil_fen_per_kg_h": 36.0, "fen_per_h": 720.0}])
    sol = solve_routing(p, time_limit_s=T, engine="ortools")
    assert _routes(sol) == {0: (0, 1)}
    dur = p.matrices["car"].duration_s
    hand = 36.0 * (40 * dur[0, 1] + 0 * dur[1, 2] + 30 * dur[2, 0]) / 3600.0
    bd = check.verify(p, sol)
    assert bd.spoilage == pytest.approx(hand)
    span = sol.routes[0].end_s - sol.routes[0].start_s
    assert bd.duration == pytest.approx(720.0 * span / 3600.0)
    assert sol.extra["solver_objective_fen"] == pytest.approx(bd.total, abs=0.01)


@pytest.mark.parametrize("optional", [False, True])
def test_deadline_splits_route(optional: bool) -> None:
    coords = [(0, 0), (10, 0), (0, 10)]  # one route: 3414 s, two routes: 2000 s each
    stops = [{"pickup_kg": 5, "deadline_s": 2500}, {"pickup_kg": 5, "deadline_s": 2500}]
    p = problem(coords, stops, [{}, {}])
    free = problem(coords, [{"pickup_kg": 5}, {"pickup_kg": 5}], [{}, {}])
    assert len(solve_routing(free, time_limit_s=T, engine="ortools").routes) == 1
    if not optional:
        sol = solve_routing(p, time_limit_s=T, engine="ortools")
        assert len(sol.routes) == 2
        assert all(r.end_s <= 2500 for r in sol.routes)
    else:  # one vehicle, optional stops: one must be dropped (VehicleVar = -1 case)
        stops = [dict(s, drop_penalty_fen=10**6 + 1000 * k) for k, s in enumerate(stops)]
        p1 = problem(coords, stops, [{}])
        sol = solve_routing(p1, time_limit_s=T, engine="ortools")
        assert sol.dropped == (0,)
        assert sol.routes[0].end_s <= 2500


def test_overload_drops_the_cheapest_stop() -> None:
    coords = [(0, 0), (1, 0), (0, 1), (1, 1)]
    pen = [3000, 1000, 2000]
    stops = [{"delivery_kg": 5, "drop_penalty_fen": x} for x in pen]
    p = problem(coords, stops, [{"capacity_kg": 10, "fen_per_km": 1.0}])
    for engine in ("ortools", "auto"):
        sol = solve_routing(p, time_limit_s=T, engine=engine)
        assert sol.dropped == (1,)
        assert check.verify(p, sol).dropped == 1000


def test_allowed_vehicles() -> None:
    coords = [(0, 0), (1, 0), (2, 0)]
    stops = [{"allowed_vehicles": (1,)}, {}]
    p = problem(coords, stops, [{"fen_per_km": 10.0}, {"fen_per_km": 1000.0}])
    sol = solve_routing(p, time_limit_s=T, engine="auto")
    assert _routes(sol) == {1: (0,), 0: (1,)}


def test_multi_depot() -> None:
    coords = [(0, 0), (100, 0), (1, 0), (0, 1), (101, 0), (100, 1)]
    stops = [{"node": k} for k in (2, 3, 4, 5)]
    vehicles = [{"start": 1, "end": 1}, {"start": 0, "end": 0}]
    p = problem(coords, stops, vehicles)
    sol = solve_routing(p, time_limit_s=T, engine="ortools")
    r = _routes(sol)
    assert set(r[0]) == {2, 3} and set(r[1]) == {0, 1}


def test_heterogeneous_matrices() -> None:
    coords = [(0, 0), (10, 0), (0, 10)]
    mats = {"truck": matrix(coords, 20.0), "trike": matrix(coords, 2.0)}
    # stop 0 must be reached within 900 s: the truck takes 500 s, the trike 5000 s
    stops = [{"tw_end_s": 900}, {}]
    vehicles = [
        {"profile": "trike", "fen_per_km": 10.0},
        {"profile": "truck", "fen_per_km": 500.0},
    ]
    p = problem(coords, stops, vehicles, matrices=mats)
    sol = solve_routing(p, time_limit_s=T, engine="ortools")
    assert _routes(sol) == {1: (0,), 0: (1,)}


def test_multi_trip_order() -> None:
    coords = [(0, 0), (5, 0), (0, 5)]  # 500 s each way
    stops = [{"delivery_kg": 8}, {"delivery_kg": 8}]
    vehicles = [{"capacity_kg": 10}, {"capacity_kg": 10, "after": 0, "reload_s": 600}]
    p = problem(coords, stops, vehicles)
    sol = solve_routing(p, time_limit_s=T, engine="auto")
    r = {x.vehicle: x for x in sol.routes}
    assert set(r) == {0, 1}
    assert r[1].start_s >= r[0].end_s + 600
    # slot 1 alone is cheaper but may only be used after slot 0
    p1 = problem(coords, [{"delivery_kg": 8}],
                 [{"fixed_fen": 100}, {"after": 0, "fixed_fen": 0}])
    sol1 = solve_routing(p1, time_limit_s=T, engine="ortools")
    assert _routes(sol1) == {0: (0,)}


def test_determinism_with_solution_limit() -> None:
    p = _rng_problem(7, windows=True)
    for engine in ("ortools", "auto"):
        a = solve_routing(p, time_limit_s=30, seed=3, solution_limit=20, engine=engine)
        b = solve_routing(p, time_limit_s=30, seed=3, solution_limit=20, engine=engine)
        assert _routes(a) == _routes(b)
        assert a.objective == b.objective


def test_warm_start_never_worse() -> None:
    p = _rng_problem(3, windows=False)
    first = solve_routing(p, time_limit_s=T, solution_limit=1, engine="ortools")
    again = solve_routing(p, time_limit_s=T, engine="ortools", initial=first)
    assert again.objective <= first.objective + 1e-9
    assert to_raw(first)


def test_demand_above_every_capacity_is_infeasible() -> None:
    p = problem([(0, 0), (1, 0)], [{"delivery_kg": 150}], [{"capacity_kg": 100}])
    with pytest.raises(InfeasibleError, match="150 kg.*100 kg"):
        solve_routing(p, time_limit_s=T)


def test_bad_arguments() -> None:
    p = problem([(0, 0), (1, 0)], [{}], [{}])
    with pytest.raises(ValueError, match="engine"):
        solve_routing(p, time_limit_s=T, engine="nope")
    with pytest.raises(ValueError, match="PyVRP"):
        solve_routing(problem([(0, 0), (1, 0)], [{"deadline_s": 10**6}], [{}]),
                      time_limit_s=T, engine="pyvrp")


def test_no_solution_in_time_drops_every_optional_stop(monkeypatch) -> None:
    """A time share too short for any engine to answer: with every stop optional the plan
    serves none (a feasible plan, checked, penalties paid); with a mandatory stop it is an
    InfeasibleError as before."""
    from optimizer.routing import _ortools, _pyvrp

    monkeypatch.setattr(_pyvrp, "solve_relaxed", lambda *a, **k: None)
    monkeypatch.setattr(_pyvrp, "solve_pyvrp", lambda *a, **k: None)
    monkeypatch.setattr(_ortools, "solve_ortools", lambda *a, **k: None)
    coords = [(0, 0), (1, 0), (0, 1)]
    p = problem(coords, [{"delivery_kg": 5, "drop_penalty_fen": 700},
                         {"delivery_kg": 5, "drop_penalty_fen": 300}], [{"capacity_kg": 10}])
    sol = solve_routing(p, time_limit_s=T)
    assert sol.dropped == (0, 1) and not sol.routes and sol.objective == 1000
    assert check.verify(p, sol).dropped == 1000
    mandatory = problem(coords, [{"delivery_kg": 5}], [{"capacity_kg": 10}])
    with pytest.raises(InfeasibleError, match="no feasible routing found"):
        solve_routing(mandatory, time_limit_s=T)
