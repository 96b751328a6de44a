"""The two checkers judge one plan alike: the routing checker (matrix level,
``optimizer.routing.verify``) and the plan-level checker (``optimizer.planning.verify``),
which re-derives everything from the plan and the instance alone.

* On the tool's own plans of every shipped instance: ``coldchain solve --out D`` then
  ``coldchain check INSTANCE D/plan.json`` exits 0, and the costs the plan-level checker
  recomputes equal the ones the routing checker gave (the plan's recorded costs).
* On a table of hand-made violations of a solved tiny day: both checkers reject each one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.instance import Instance
from optimizer.limits import Limits
from optimizer.plans import DayPlan, PlannedRoute, PlannedStop, PlanningResult, ScenarioOutcome
from tests.conftest import DATA, ROOT

SHIPPED = sorted(p.parent for p in (ROOT / "instances").glob("*/instance.toml"))


@pytest.mark.parametrize("inst_dir", [DATA / "tiny", *SHIPPED], ids=lambda p: p.name)
def test_solve_output_passes_coldchain_check(inst_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from optimizer.facade import load_instance
    from optimizer.formats.plan_json import read_plan_json
    from optimizer.planning.verify import check_plan

    out = tmp_path / "out"
    rc = main(["solve", str(inst_dir), "--time-limit", "2", "--location-time", "5",
               "--iterations", "1", "--solution-limit", "30", "--jobs", "1", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["check", str(inst_dir), str(out / "plan.json")]) == 0, capsys.readouterr().err
    # the plan-level checker's costs equal the routing checker's (recorded in the plan)
    inst = load_instance(inst_dir)
    recorded = read_plan_json(out / "plan.json", instance=inst)
    checked, violations = check_plan(inst, out / "plan.json")
    assert violations == []
    for a, b in zip(recorded.outcomes, checked.outcomes, strict=True):
        assert b.day.checked
        for part, yuan in a.day.cost_yuan.items():
            # the routing model prices each dropped lot in whole fen (half a fen each at most)
            tol = 1e-3 + (0.005 * len(a.day.dropped) if part == "dropped" else 0.0)
            assert b.day.cost_yuan[part] == pytest.approx(yuan, rel=1e-6, abs=tol), \
                (a.scenario, a.plan, part)
        assert set(b.day.dropped) == set(a.day.dropped)


# ---- hand-made violations ----------------------------------------------------------------
@pytest.fixture(scope="module")
def solved_day(tiny, tiny_net):  # type: ignore[no-untyped-def]
    """A solved peak day of the tiny instance (full fleet, today's sites) in both forms."""
    from optimizer.planning.baseline import baseline_facilities
    from optimizer.planning.day import build_day_problem, to_day_plan
    from optimizer.planning.fleet import home_fleet
    from optimizer.planning.matrices import build_matrices
    from optimizer.planning.scenario import day_volumes
    from optimizer.routing import solve_routing
    from optimizer.routing.verify import verify

    sc = tiny.scenario("peak")
    m = build_matrices(tiny, tiny_net)
    orders, produce = day_volumes(tiny, sc)
    fac = replace(baseline_facilities(tiny, m, produce), name="plan")
    day = build_day_problem(tiny, m.by_vehicle_type, fac, orders, produce,
                            home_fleet(tiny, baseline=False), name="tiny/peak")
    limits = Limits(time_s=5, solution_limit=30)
    sol = solve_routing(day.problem, time_limit_s=limits.time_s, seed=0,
                        solution_limit=limits.solution_limit)
    plan = to_day_plan(day, sol, verify(day.problem, sol), scenario="peak", checked=True)
    assert sum(len(r.stops) for r in plan.routes) >= 3
    return day, fac, plan


def _retime(day, plan: DayPlan) -> DayPlan:  # type: ignore[no-untyped-def]
    """Every route's earliest schedule from its recorded start (both checkers then judge
    the edited order and start, not stale times)."""
    from optimizer.routing._schedule import route_times

    slot = {v.id: i for i, v in enumerate(day.problem.vehicles)}
    stop = {s.id: i for i, s in enumerate(day.problem.stops)}
    routes = []
    for r in plan.routes:
        idx = tuple(stop[s.stop_id] for s in r.stops)
        visits, end, _, _ = route_times(day.problem, slot[r.vehicle_id], idx,
                                        int(round(r.start_min * 60)))
        stops = tuple(replace(s, arrival_min=v.arrival_s / 60.0, start_min=v.start_s / 60.0)
                      for s, v in zip(r.stops, visits, strict=True))
        routes.append(replace(r, stops=stops, end_min=end / 60.0))
    return replace(plan, routes=tuple(routes))


def _both(tiny: Instance, tiny_net, day, fac, plan: DayPlan) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """(routing checker's violations, plan-level checker's violations) of ``plan``."""
    from optimizer.planning.day import day_kpis, to_routing_solution
    from optimizer.planning.matrices import build_matrices
    from optimizer.planning.verify import check_result
    from optimizer.routing.verify import evaluate

    sol = to_routing_solution(day, plan)
    _, routing = evaluate(day.problem, sol)
    # the routing checker also compares the reported objective: not a plan rule
    routing = [v for v in routing if not v.startswith("objective:")]
    kpis = day_kpis(tiny, tiny.scenario("peak"), fac, plan, build_matrices(tiny, tiny_net))
    result = PlanningResult(instance=tiny.name, seed=0, time_limit_s=5.0, solution_limit=30,
                            seasons=(), pickup_points=fac.pickup_points, pickup_status="test",
                            outcomes=(ScenarioOutcome("peak", "plan", fac, plan, kpis),))
    _, planned = check_result(tiny, result, network=tiny_net)
    return routing, planned


def _busiest(plan: DayPlan) -> int:
    return max(range(len(plan.routes)), key=lambda i: (len(plan.routes[i].stops), -i))


def _set_route(plan: DayPlan, i: int, route: PlannedRoute) -> DayPlan:
    routes = list(plan.routes)
    routes[i] = route
    return replace(plan, routes=tuple(routes))


def _start_before_day(plan: DayPlan) -> DayPlan:
    i = _busiest(plan)
    return _set_route(plan, i, replace(plan.routes[i], start_min=60.0))


def _start_too_late(plan: DayPlan) -> DayPlan:
    i = _busiest(plan)
    return _set_route(plan, i, replace(plan.routes[i], start_min=19 * 60 + 50.0))


def _stop_served_twice(plan: DayPlan) -> DayPlan:
    i = _busiest(plan)
    r = plan.routes[i]
    return _set_route(plan, i, replace(r, stops=r.stops + r.stops[:1]))


def _stop_forgotten(plan: DayPlan) -> DayPlan:
    i = _busiest(plan)
    r = plan.routes[i]
    return _set_route(plan, i, replace(r, stops=r.stops[1:]))


def _served_and_dropped(plan: DayPlan) -> DayPlan:
    i = _busiest(plan)
    return replace(plan, dropped=plan.dropped + (plan.routes[i].stops[0].stop_id,))


def _overloaded(plan: DayPlan) -> DayPlan:
    """Every lot of the day on the busiest route (more than one vehicle carries)."""
    i = _busiest(plan)
    stops: list[PlannedStop] = [s for r in plan.routes for s in r.stops]
    return replace(plan, routes=(replace(plan.routes[i], stops=tuple(stops)),))


def _second_trip_too_early(plan: DayPlan) -> DayPlan:
    """A reefer's second trip leaving at the first trip's departure."""
    first = next(r for r in plan.routes if r.vehicle_id.endswith("/trip1"))
    second = replace(first, vehicle_id=first.vehicle_id.replace("/trip1", "/trip2"), trip=1,
                     stops=first.stops[-1:], start_min=first.start_min)
    first = replace(first, stops=first.stops[:-1]) if len(first.stops) > 1 else first
    others = tuple(r for r in plan.routes
                   if r.vehicle_id.split("/trip")[0] != first.vehicle_id.split("/trip")[0])
    return replace(plan, routes=(first, second, *others))


MUTATIONS: dict[str, Callable[[DayPlan], DayPlan]] = {
    "start before the working day": _start_before_day,
    "start too late for the working day": _start_too_late,
    "stop served twice": _stop_served_twice,
    "stop on no route and not dropped": _stop_forgotten,
    "stop served and listed as dropped": _served_and_dropped,
    "capacity exceeded": _overloaded,
    "second trip before the first is back": _second_trip_too_early,
}


def test_both_checkers_accept_the_solved_day(tiny, tiny_net, solved_day) -> None:
    day, fac, plan = solved_day
    assert _both(tiny, tiny_net, day, fac, _retime(day, plan)) == ([], [])


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_both_checkers_reject_each_hand_made_violation(name: str, tiny, tiny_net,
                                                       solved_day) -> None:
    day, fac, plan = solved_day
    bad = _retime(day, MUTATIONS[name](plan))
    routing, planned = _both(tiny, tiny_net, day, fac, bad)
    assert routing, f"{name}: the routing checker accepted it"
    assert planned, f"{name}: the plan-level checker accepted it"


def test_written_plan_round_trips_through_the_checker(tmp_path: Path, tiny, tiny_net,
                                                       solved_day) -> None:
    """The day, written as plan.json and read back, still passes (reader + checker)."""
    from optimizer.formats.plan_json import write_plan_json
    from optimizer.planning.day import day_kpis
    from optimizer.planning.matrices import build_matrices
    from optimizer.planning.verify import check_plan

    _, fac, plan = solved_day
    kpis = day_kpis(tiny, tiny.scenario("peak"), fac, plan, build_matrices(tiny, tiny_net))
    result = PlanningResult(instance=tiny.name, seed=0, time_limit_s=5.0, solution_limit=30,
                            seasons=(), pickup_points=fac.pickup_points, pickup_status="test",
                            outcomes=(ScenarioOutcome("peak", "plan", fac, plan, kpis),))
    path = tmp_path / "plan.json"
    write_plan_json(path, tiny, result)
    _, violations = check_plan(tiny, path, network=tiny_net)
    assert violations == []
    assert json.loads(path.read_text(encoding="utf-8"))["outcomes"][0]["plan"] == "plan"
