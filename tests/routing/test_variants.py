"""Release times, maximum distance, backhauls last and exact reload chains in both engines:
every returned plan passed the checker, so a constraint an engine ignored would fail here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.routing import solve_routing
from optimizer.routing import verify as check
from optimizer.routing._pyvrp import unsupported_reason

from ._helpers import problem

COORDS = [(0, 0), (2, 0), (4, 0), (0, 3), (0, 6), (-3, 0)]


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_release_time_delays_the_departure(engine: str) -> None:
    p = problem(COORDS, [{"release_s": 900}, {}, {}, {}, {}], [{}, {}])
    sol = solve_routing(p, time_limit_s=1.0, engine=engine)
    for r in sol.routes:
        if any(v.stop == 0 for v in r.visits):
            assert r.start_s >= 900


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_max_distance_splits_routes(engine: str) -> None:
    p = problem(COORDS, [{}] * 5, [{"max_distance_m": 13_000}] * 3)
    sol = solve_routing(p, time_limit_s=1.0, engine=engine)
    assert len(sol.routes) >= 2 and not sol.dropped


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_backhauls_come_last(engine: str) -> None:
    stops = [{"delivery_kg": 5}, {"pickup_kg": 5}, {"delivery_kg": 5}, {"pickup_kg": 5},
             {"delivery_kg": 5}]
    p = replace(problem(COORDS, stops, [{"capacity_kg": 20}] * 2), backhauls_last=True)
    sol = solve_routing(p, time_limit_s=1.0, engine=engine)
    for r in sol.routes:
        kinds = ["B" if p.stops[v.stop].pickup_kg else "L" for v in r.visits]
        assert kinds[0] == "L" and kinds == sorted(kinds, reverse=True)


def test_uniform_reload_chain_is_exact_for_pyvrp() -> None:
    vehicles = [{"capacity_kg": 10}, {"capacity_kg": 10, "after": 0},
                {"capacity_kg": 10, "after": 1}]
    p = problem(COORDS, [{"delivery_kg": 4}] * 5, vehicles)
    assert unsupported_reason(p) is None
    sol = solve_routing(p, time_limit_s=1.0, engine="pyvrp")
    check.verify(p, sol)
    assert len(sol.routes) == 3  # 20 kg on a 10 kg vehicle: two stops (8 kg) per trip
    by_slot = {r.vehicle: r for r in sol.routes}
    assert by_slot[1].start_s >= by_slot[0].end_s and by_slot[2].start_s >= by_slot[1].end_s
    own_cost = replace(p, vehicles=(p.vehicles[0], replace(p.vehicles[1], fixed_fen=5),
                                    p.vehicles[2]))
    assert unsupported_reason(own_cost) is not None


def _grid_problem(n: int, fleet: int):  # type: ignore[no-untyped-def]
    coords = [(0.0, 0.0)] + [((k % 7) - 3.0, (k // 7) - 2.0) for k in range(n)]
    stops = [{"delivery_kg": 3, "drop_penalty_fen": 50_000 if k % 5 == 0 else None}
             for k in range(n)]
    return problem(coords, stops, [{"capacity_kg": 15}] * fleet)


def test_split_plan_keeps_whole_routes_and_merges_back() -> None:
    from optimizer.routing import _decompose

    p = _grid_problem(21, 8)
    trips = {0: [[0, 1, 2, 3, 4]], 1: [[5, 6, 7, 8, 9]], 2: [[10, 11, 12]],
             3: [[13, 14, 15, 16]], 4: [[17, 18]]}  # stop 19 and 20 unserved
    parts = _decompose.split_plan(p, trips, 2, seed=3)
    assert parts is not None and len(parts) == 2
    assert sorted(i for part, _ in parts for i in part.stops) == list(range(21))
    assert sorted(v for part, _ in parts for v in part.vehicles) == list(range(8))
    assert _decompose.merge_trips(parts) == trips


def test_parallel_lanes_with_decomposition(monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizer.routing import _pyvrp

    monkeypatch.setattr(_pyvrp, "DECOMPOSE_MIN_STOPS", 10)
    p = _grid_problem(28, 8)
    sol = solve_routing(p, time_limit_s=3.0, engine="pyvrp", jobs=2)
    check.verify(p, sol)
    one = solve_routing(p, time_limit_s=1.0, engine="pyvrp", jobs=1)
    assert sol.objective <= one.objective * 1.05
