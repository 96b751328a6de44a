"""Rich problems (multi-trip, mixed loads, optional stops, restrictions): warm start and
solve_routing's auto path (PyVRP relaxation -> repair -> OR-Tools)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from optimizer.routing import Matrix, RoutingProblem, Stop, Vehicle, solve_routing
from optimizer.routing import verify as check
from optimizer.routing._schedule import assemble
from optimizer.routing._warm import chains, repair, uniform_chains

from ._helpers import problem


def rich_problem(seed: int, n_stops: int = 60, fleet: int = 1) -> RoutingProblem:
    """Random cold-chain-like day: one hub, pickups (some big, truck-only) and deliveries,
    two vehicle types with 3 and 2 chained trips, spoilage, field waiting, deadlines,
    optional stops; more load than the fleet (``fleet`` x 2 trucks, 3 vans) can carry."""
    rng = np.random.default_rng(seed)
    n_nodes = n_stops + 1
    side = 40_000 * max(1.0, (n_stops / 60) ** 0.5)
    xy = rng.uniform(0, side, (n_nodes, 2))
    xy[0] = (side / 2, side / 2)
    dist = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2)) * 1.3).astype(np.int64)
    mats = {"truck": Matrix(dist, dist // 11), "van": Matrix(dist, dist // 13)}
    vehicles: list[Vehicle] = []
    truck_slots, van_slots = [], []
    for kind, count, trips, cap in (("truck", 2 * fleet, 3, 7000), ("van", 3 * fleet, 2, 1500)):
        for k in range(count):
            prev = None
            for t in range(trips):
                vehicles.append(Vehicle(
                    id=f"{kind}{k}/{t}", type_id=kind, start=0, end=0, capacity_kg=cap,
                    profile=kind, fixed_fen=30_000 if t == 0 else 0,
                    fen_per_km=260.0 if kind == "truck" else 110.0,
                    fen_per_h=1600.0 if kind == "truck" else 0.0,
                    spoil_fen_per_kg_h=0.25 if kind == "truck" else 2.28,
                    shift_start_s=6 * 3600, shift_end_s=20 * 3600, after=prev, reload_s=1200,
                ))
                prev = len(vehicles) - 1
                (truck_slots if kind == "truck" else van_slots).append(prev)
    stops: list[Stop] = []
    for i in range(n_stops):
        if rng.random() < 0.3:
            kg = int(rng.integers(100, 1400))
            stops.append(Stop(
                id=f"d{i}", node=i + 1, delivery_kg=kg, service_s=600 + kg * 360 // 1000,
                tw_start_s=6 * 3600, tw_end_s=20 * 3600, drop_penalty_fen=300 * kg,
            ))
        else:
            big = rng.random() < 0.4
            kg = int(rng.integers(1600, 5000)) if big else int(rng.integers(50, 1400))
            stops.append(Stop(
                id=f"p{i}", node=i + 1, pickup_kg=kg, service_s=600 + kg * 360 // 1000,
                tw_start_s=8 * 3600, tw_end_s=20 * 3600, ready_s=8 * 3600,
                wait_fen_per_h=0.285 * kg, deadline_s=(19 if i % 5 == 0 else 20) * 3600,
                drop_penalty_fen=153 * kg,
                allowed_vehicles=tuple(truck_slots) if big else None,
            ))
    return RoutingProblem(
        nodes=tuple(str(i) for i in range(n_nodes)), matrices=mats, stops=tuple(stops),
        vehicles=tuple(vehicles), name=f"rich{seed}",
    )


def _routes(sol):
    return {r.vehicle: tuple(v.stop for v in r.visits) for r in sol.routes}


def test_chains_follow_after_links() -> None:
    p = rich_problem(0, n_stops=5)
    assert chains(p) == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9], [10, 11]]
    assert uniform_chains(p) == chains(p)


def test_repair_maps_trips_onto_chained_slots() -> None:
    coords = [(0, 0), (5, 0), (0, 5), (5, 5)]  # 500 s per 5 km
    stops = [{"delivery_kg": 8}, {"delivery_kg": 8}, {"delivery_kg": 1,
                                                      "allowed_vehicles": (0,),
                                                      "drop_penalty_fen": 10}]
    vehicles = [{"capacity_kg": 10}, {"capacity_kg": 10, "after": 0, "reload_s": 600},
                {"capacity_kg": 10, "after": 1, "reload_s": 600}]
    p = problem(coords, stops, vehicles)
    # empty trips are skipped; stop 2 is not allowed on the second slot and is dropped
    raw = repair(p, {0: [[], [0], [1, 2]]}, status="test")
    assert [(r.vehicle, r.stops) for r in raw.routes] == [(0, (0,)), (1, (1,))]
    assert raw.dropped == (2,)
    sol = assemble(p, raw, "test", 0.0)
    check.verify(p, sol)
    r0, r1 = sol.routes
    assert r1.start_s >= r0.end_s + 600


def test_repair_drops_stops_violating_what_the_relaxation_ignores() -> None:
    coords = [(0, 0), (10, 0), (0, 10)]  # one route 0-1-2-0: 3414 s; single trips 2000 s
    stops = [{"pickup_kg": 5, "deadline_s": 2500, "drop_penalty_fen": 1000},
             {"pickup_kg": 5, "deadline_s": 2500, "drop_penalty_fen": 900}]
    p = problem(coords, stops, [{}])
    raw = repair(p, {0: [[0, 1]]}, status="test")
    assert raw.dropped == (1,)  # the cheaper one goes
    check.verify(p, assemble(p, raw, "test", 0.0))


def test_relaxed_pyvrp_uses_reloads_for_multi_trip() -> None:
    from optimizer.routing._pyvrp import solve_relaxed

    coords = [(0, 0), (5, 0), (0, 5)]
    stops = [{"delivery_kg": 8, "deadline_s": 10**5}, {"delivery_kg": 8}]
    vehicles = [{"capacity_kg": 10, "fixed_fen": 100},
                {"capacity_kg": 10, "after": 0, "reload_s": 600}]
    p = problem(coords, stops, vehicles)
    raw = solve_relaxed(p, time_limit_s=1.0, seed=1, max_iterations=200)
    assert raw is not None
    assert sorted(r.vehicle for r in raw.routes) == [0, 1] and raw.dropped == ()
    sol = assemble(p, raw, "pyvrp-relaxed", 0.0)
    check.verify(p, sol)


@pytest.mark.parametrize("seed", [1, 2])
def test_rich_mid_size_gets_a_checked_plan_within_the_limit(seed: int) -> None:
    p = rich_problem(seed)
    limit = 6.0
    t0 = time.perf_counter()
    sol = solve_routing(p, time_limit_s=limit, seed=seed)
    elapsed = time.perf_counter() - t0
    assert elapsed <= limit * 1.1 + 0.5
    bd = check.verify(p, sol)
    assert sol.routes and len(sol.dropped) < len(p.stops)
    # every delivery fits on some vehicle and is worth more than a trip: all served
    assert all(p.stops[i].pickup_kg > 0 for i in sol.dropped)
    assert set(sol.extra["candidates"]) >= {"pyvrp-relaxed"}
    assert sol.objective == pytest.approx(bd.total)
    # the plan uses the fleet: pickups left undone only when it is busy
    used = {r.vehicle for r in sol.routes}
    assert len(used) >= 8


def test_rich_is_deterministic_with_solution_limit() -> None:
    p = rich_problem(3, n_stops=40)
    a = solve_routing(p, time_limit_s=30, seed=4, solution_limit=10)
    b = solve_routing(p, time_limit_s=30, seed=4, solution_limit=10)
    assert _routes(a) == _routes(b)
    assert a.objective == b.objective


def test_redundant_deadlines_are_not_modelled() -> None:
    from optimizer.routing._ortools import _Model

    p = problem([(0, 0), (1, 0)], [{"pickup_kg": 1, "deadline_s": 5000}],
                [{"shift_end_s": 5000}])
    assert not _Model(p).side_constraints
    p2 = problem([(0, 0), (1, 0)], [{"pickup_kg": 1, "deadline_s": 5000}],
                 [{"shift_end_s": 6000}])
    assert _Model(p2).side_constraints
