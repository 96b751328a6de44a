"""Checker strength: break one constraint of a solver-produced plan at a time; the checker
must reject it and name the violation.

``check.verify`` on a tiny-instance day problem solved by OR-Tools, and
``plancheck.check_plan`` on the plan.json of a planning run, edited per constraint.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.errors import CheckError
from optimizer.routing import verify as check
from optimizer.routing.problem import RoutingProblem, RoutingSolution, Visit


@pytest.fixture(scope="module")
def solved(tiny) -> tuple[RoutingProblem, RoutingSolution]:
    from optimizer.planning.baseline import baseline_facilities
    from optimizer.planning.day import build_day_problem
    from optimizer.planning.fleet import home_fleet
    from optimizer.planning.matrices import build_matrices, load_instance_network
    from optimizer.planning.scenario import day_volumes
    from optimizer.routing.solve import solve_routing

    sc = tiny.scenario("peak")
    m = build_matrices(tiny, load_instance_network(tiny))
    orders, produce = day_volumes(tiny, sc)
    fac = baseline_facilities(tiny, m, produce)
    day = build_day_problem(tiny, m.by_vehicle_type, fac, orders, produce,
                            home_fleet(tiny, baseline=False), name="tiny/peak")
    sol = solve_routing(day.problem, time_limit_s=5, seed=0, solution_limit=20)
    check.verify(day.problem, sol)  # the unmodified plan passes
    assert sum(len(r.visits) for r in sol.routes) >= 3
    return day.problem, sol


def _routes(sol: RoutingSolution) -> list[int]:
    return [i for i, r in enumerate(sol.routes) if r.visits]


def _set_route(sol: RoutingSolution, i: int, **changes: object) -> RoutingSolution:
    routes = list(sol.routes)
    routes[i] = replace(routes[i], **changes)
    return replace(sol, routes=tuple(routes))


def _set_stop(p: RoutingProblem, k: int, **changes: object) -> RoutingProblem:
    stops = list(p.stops)
    stops[k] = replace(stops[k], **changes)
    return replace(p, stops=tuple(stops))


def _capacity(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    r = s.routes[_routes(s)[0]]
    cap = p.vehicles[r.vehicle].capacity_kg
    k = r.visits[-1].stop
    return _set_stop(p, k, pickup_kg=cap + 1, delivery_kg=0), s


def _arrival(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    i = _routes(s)[0]
    v = s.routes[i].visits
    shifted = Visit(v[0].stop, v[0].arrival_s - 600, v[0].start_s - 600)
    return p, _set_route(s, i, visits=(shifted, *v[1:]))


def _window(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    v = s.routes[_routes(s)[0]].visits[0]
    return _set_stop(p, v.stop, tw_start_s=0, tw_end_s=v.start_s - 1), s


def _deadline(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    r = s.routes[_routes(s)[0]]
    return _set_stop(p, r.visits[0].stop, deadline_s=r.end_s - 1), s


def _double(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    a, b = _routes(s)[:2]
    extra = s.routes[a].visits[0]
    return p, _set_route(s, b, visits=(*s.routes[b].visits, extra))


def _missed(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    i = _routes(s)[0]
    v = s.routes[i].visits
    p = _set_stop(p, v[-1].stop, drop_penalty_fen=None)  # mandatory
    return p, _set_route(s, i, visits=v[:-1])


def _dropped_mandatory(p: RoutingProblem, s: RoutingSolution
                       ) -> tuple[RoutingProblem, RoutingSolution]:
    i = _routes(s)[0]
    v = s.routes[i].visits
    p = _set_stop(p, v[-1].stop, drop_penalty_fen=None)
    return p, replace(_set_route(s, i, visits=v[:-1]), dropped=(*s.dropped, v[-1].stop))


def _cost(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    return p, replace(s, objective=s.objective - 1.0)


def _shift(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    r = s.routes[_routes(s)[0]]
    vehicles = list(p.vehicles)
    vehicles[r.vehicle] = replace(vehicles[r.vehicle], shift_end_s=r.end_s - 1)
    return replace(p, vehicles=tuple(vehicles)), s


def _not_allowed(p: RoutingProblem, s: RoutingSolution) -> tuple[RoutingProblem, RoutingSolution]:
    r = s.routes[_routes(s)[0]]
    others = tuple(v for v in range(len(p.vehicles)) if v != r.vehicle)
    return _set_stop(p, r.visits[0].stop, allowed_vehicles=others), s


MUTATIONS: dict[str, tuple[Callable, str]] = {
    "capacity": (_capacity, "capacity"),
    "shifted arrival": (_arrival, "differ from recomputed"),
    "time window": (_window, "time window"),
    "deadline": (_deadline, "deadline"),
    "double visit": (_double, "visited more than once"),
    "missed mandatory stop": (_missed, "mandatory but not served"),
    "mandatory stop dropped": (_dropped_mandatory, "mandatory but dropped"),
    "wrong cost": (_cost, "objective: reported"),
    "shift end": (_shift, "after shift end"),
    "vehicle not allowed": (_not_allowed, "not allowed"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_verify_names_each_violation(solved, name: str) -> None:
    problem, sol = solved
    mutate, needle = MUTATIONS[name]
    p2, s2 = mutate(problem, sol)
    with pytest.raises(CheckError) as info:
        check.verify(p2, s2)
    assert any(needle in v for v in info.value.violations), info.value.violations


# ---- plan.json edited by hand --------------------------------------------------------------
@pytest.fixture(scope="module")
def plan_file(tiny, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from optimizer.formats.plan_json import write_plan_json
    from optimizer.limits import Limits
    from optimizer.planning.planner import plan

    res = plan(tiny, scenarios=["peak"], limits=Limits(time_s=10, solution_limit=30), seed=0,
               iterations=1).result
    path = tmp_path_factory.mktemp("plancheck") / "plan.json"
    write_plan_json(path, tiny, res)
    return path, json.loads(path.read_text(encoding="utf-8"))


def _first_route(doc: dict, kind: str | None = None) -> dict:
    for o in doc["outcomes"]:
        for r in o["day"]["routes"]:
            if kind is None or any(s["kind"] == kind for s in r["stops"]):
                return r
    raise AssertionError("no such route")


def _pj_capacity(doc: dict) -> None:
    r = _first_route(doc, "pickup")
    s = next(s for s in r["stops"] if s["kind"] == "pickup")
    s["pickup_kg"] += 3000.0
    s["load_after_kg"] += 3000.0


def _pj_late(doc: dict) -> None:
    _first_route(doc, "pickup")["start_min"] = 19 * 60 + 50


def _pj_double(doc: dict) -> None:
    routes = doc["outcomes"][0]["day"]["routes"]
    routes[1]["stops"].append(copy.deepcopy(routes[0]["stops"][0]))


def _pj_missed(doc: dict) -> None:
    del _first_route(doc)["stops"][0]


PLAN_EDITS: dict[str, tuple[Callable[[dict], None], str]] = {
    "capacity": (_pj_capacity, "exceeds capacity"),
    "time window": (_pj_late, "after the working day ends"),
    "deadline": (_pj_late, "after the pre-cooling deadline"),
    "double visit": (_pj_double, "is also served by"),
    "missed stop": (_pj_missed, "not listed as dropped"),
}


@pytest.mark.parametrize("name", sorted(PLAN_EDITS))
def test_check_plan_names_each_violation(tiny, plan_file, tmp_path: Path, name: str) -> None:
    from optimizer.planning.verify import check_plan

    path, doc = plan_file
    assert check_plan(tiny, path)[1] == []
    edit, needle = PLAN_EDITS[name]
    doc = copy.deepcopy(doc)
    edit(doc)
    edited = tmp_path / "plan.json"
    edited.write_text(json.dumps(doc), encoding="utf-8")
    _, violations = check_plan(tiny, edited)
    assert any(needle in v for v in violations), violations


@pytest.mark.parametrize("field", ["objective_yuan", "route cost_yuan", "kpi"])
def test_check_plan_is_not_fooled_by_edited_costs(tiny, plan_file, tmp_path: Path,
                                                  field: str) -> None:
    """A hand-lowered cost is recomputed, never trusted (check_plan does not list it as a
    violation today: it returns the recomputed figures)."""
    from optimizer.planning.verify import check_plan

    path, doc = plan_file
    original, _ = check_plan(tiny, path)
    doc = copy.deepcopy(doc)
    o = doc["outcomes"][0]
    if field == "objective_yuan":
        o["day"]["objective_yuan"] -= 100.0
    elif field == "kpi":
        o["kpis"]["cost_per_order_yuan"] -= 1.0
    else:
        o["day"]["routes"][0]["cost_yuan"] -= 100.0
    edited = tmp_path / "plan.json"
    edited.write_text(json.dumps(doc), encoding="utf-8")
    checked, _ = check_plan(tiny, edited)
    a, b = original.outcomes[0], checked.outcomes[0]
    assert b.day.objective_yuan == pytest.approx(a.day.objective_yuan)
    assert b.day.routes[0].cost_yuan == pytest.approx(a.day.routes[0].cost_yuan)
    assert b.kpis.cost_per_order_yuan == pytest.approx(a.kpis.cost_per_order_yuan)
