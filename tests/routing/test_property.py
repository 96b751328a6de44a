"""Hypothesis: the checker accepts every solver output on random small problems."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.routing import Matrix, RoutingProblem, Stop, Vehicle, solve_routing
from optimizer.routing import verify as check


@st.composite
def problems(draw: st.DrawFn) -> RoutingProblem:
    n = draw(st.integers(1, 5))
    nv = draw(st.integers(1, 3))
    n_depots = draw(st.integers(1, 2))
    n_nodes = n_depots + n
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20_000, (n_nodes, 2))
    dist = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2))).astype(np.int64)
    mats = {"fast": Matrix(dist, dist // 15), "slow": Matrix(dist, dist // 5)}
    stops = []
    for i in range(n):
        a = draw(st.integers(0, 7200))
        stops.append(
            Stop(
                id=f"s{i}",
                node=n_depots + i,
                delivery_kg=draw(st.integers(0, 8)),
                pickup_kg=draw(st.integers(0, 8)),
                service_s=draw(st.integers(0, 300)),
                tw_start_s=a,
                tw_end_s=a + draw(st.integers(0, 20_000)),
                soft_tw_end_s=draw(st.none() | st.integers(0, 10_000)),
                late_fen_per_h=draw(st.sampled_from([0.0, 100.0])),
                ready_s=draw(st.none() | st.integers(0, 5000)),
                wait_fen_per_h=draw(st.sampled_from([0.0, 50.0])),
                deadline_s=draw(st.none() | st.integers(5000, 30_000)),
                drop_penalty_fen=draw(st.integers(10_000, 100_000)),  # always solvable
                allowed_vehicles=draw(
                    st.none() | st.lists(st.integers(0, nv - 1), min_size=1, unique=True)
                    .map(tuple)
                ),
            )
        )
    vehicles = []
    for v in range(nv):
        d = draw(st.integers(0, n_depots - 1))
        vehicles.append(
            Vehicle(
                id=f"v{v}",
                type_id="t",
                start=d,
                end=draw(st.integers(0, n_depots - 1)),
                capacity_kg=draw(st.integers(5, 20)),
                profile=draw(st.sampled_from(["fast", "slow"])),
                fixed_fen=draw(st.integers(0, 2000)),
                fen_per_km=draw(st.sampled_from([50.0, 120.5])),
                fen_per_h=draw(st.sampled_from([0.0, 900.0])),
                spoil_fen_per_kg_h=draw(st.sampled_from([0.0, 2.85])),
                shift_start_s=0,
                shift_end_s=draw(st.integers(20_000, 40_000)),
                max_duration_s=draw(st.none() | st.integers(5000, 30_000)),
                after=(v - 1) if v > 0 and draw(st.booleans()) else None,
                reload_s=draw(st.integers(0, 900)),
            )
        )
    return RoutingProblem(
        nodes=tuple(str(i) for i in range(n_nodes)),
        matrices=mats,
        stops=tuple(stops),
        vehicles=tuple(vehicles),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(["auto", "ortools"]))
def test_verify_accepts_every_solver_output(p: RoutingProblem, engine: str) -> None:
    sol = solve_routing(p, time_limit_s=2.0, solution_limit=10, engine=engine)
    bd = check.verify(p, sol)  # solve_routing verified too; re-check independently
    assert sol.objective == bd.total / p.distance_scale
    served = {v.stop for r in sol.routes for v in r.visits}
    assert served | set(sol.dropped) == set(range(len(p.stops)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_ortools_objective_matches_checker(p: RoutingProblem) -> None:
    """The OR-Tools model prices exactly what the checker recomputes (no slack games)."""
    sol = solve_routing(p, time_limit_s=2.0, solution_limit=10, engine="ortools")
    bd = check.verify(p, sol)
    assert abs(sol.extra["solver_objective_fen"] - bd.total) <= 0.01 + 1e-9 * bd.total
