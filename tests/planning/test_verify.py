"""check_plan / `coldchain check`: an unmodified plan passes; hand edits are caught and named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _tiny_plan import tiny_outcomes

from optimizer.cli import main
from optimizer.errors import InstanceError
from optimizer.formats.plan_json import read_plan_json, write_plan_json
from optimizer.planning.verify import check_plan
from optimizer.plans import PlanningResult

_outcomes = tiny_outcomes


@pytest.fixture(scope="module")
def result(tiny, tiny_net) -> PlanningResult:
    outs = _outcomes(tiny, tiny_net, "peak") + _outcomes(tiny, tiny_net, "rain")
    return PlanningResult(instance="tiny", seed=0, time_limit_s=5.0, solution_limit=50,
                          seasons=(), pickup_points=("p1", "p3"), pickup_status="today",
                          outcomes=tuple(outs))


@pytest.fixture()
def plan_doc(tmp_path: Path, tiny, result) -> tuple[Path, dict]:
    p = tmp_path / "plan.json"
    write_plan_json(p, tiny, result)
    return p, json.loads(p.read_text(encoding="utf-8"))


def _outcome(doc: dict, scenario: str, plan: str) -> dict:
    return next(o for o in doc["outcomes"] if o["scenario"] == scenario and o["plan"] == plan)


def _save(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def test_unmodified_plan_is_valid_with_same_kpis(tiny, tiny_net, plan_doc) -> None:
    path, _ = plan_doc
    recorded = read_plan_json(path)
    checked, violations = check_plan(tiny, path, network=tiny_net)
    assert violations == []
    for a, b in zip(recorded.outcomes, checked.outcomes, strict=True):
        assert b.day.checked
        assert len(a.day.routes) == len(b.day.routes)
        for ra, rb in zip(a.day.routes, b.day.routes, strict=True):
            assert rb.end_min == pytest.approx(ra.end_min, abs=1e-5)
            assert rb.distance_km == pytest.approx(ra.distance_km, abs=1e-5)
            assert rb.cost_yuan == pytest.approx(ra.cost_yuan, abs=1e-5)
            for sa, sb in zip(ra.stops, rb.stops, strict=True):
                assert sb.arrival_min == pytest.approx(sa.arrival_min, abs=1e-5)
                assert sb.load_after_kg == pytest.approx(sa.load_after_kg, abs=1e-6)
        for name in a.kpis.__dataclass_fields__:
            if name not in ("scenario", "plan", "extra"):
                assert getattr(b.kpis, name) == pytest.approx(getattr(a.kpis, name),
                                                              rel=1e-6, abs=1e-5), name
        for part, v in a.day.cost_yuan.items():
            assert b.day.cost_yuan[part] == pytest.approx(v, rel=1e-6, abs=1e-4), part


def test_overloaded_route(tiny, tiny_net, plan_doc) -> None:
    path, doc = plan_doc
    o = _outcome(doc, "peak", "baseline")
    routes = o["day"]["routes"]
    target = next(r for r in routes if any(s["kind"] == "pickup" for s in r["stops"]))
    moved = [s for r in routes if r is not target for s in r["stops"] if s["kind"] == "pickup"]
    assert moved, "the peak plan needs produce lots on two routes"
    for r in routes:
        if r is not target:
            r["stops"] = [s for s in r["stops"] if s["kind"] != "pickup"]
    target["stops"] += moved
    total = sum(s["pickup_kg"] for s in target["stops"])
    _, violations = check_plan(tiny, _save(path, doc), network=tiny_net)
    cap = next(vt.capacity_kg for vt in tiny.vehicle_types if vt.id == target["vehicle_type"])
    assert total > cap
    assert any(v.startswith(f"peak/baseline: {target['vehicle_id']}")
               and f"exceeds capacity {cap:,.0f} kg at collect:" in v for v in violations), \
        violations


def test_stop_after_working_hours(tiny, tiny_net, plan_doc) -> None:
    path, doc = plan_doc
    r = _outcome(doc, "rain", "plan")["day"]["routes"][0]
    r["start_min"] = 19 * 60 + 50  # leaves at 19:50, the day ends at 20:00
    checked, violations = check_plan(tiny, _save(path, doc), network=tiny_net)
    assert any(v.startswith("rain/plan: ") and "after the working day ends at 20:00" in v
               for v in violations), violations
    assert any("pre-cooling deadline 20:00" in v for v in violations), violations
    out = checked.outcome("rain", "plan")
    assert not out.day.checked
    assert out.day.routes[0].stops[0].arrival_min > 19 * 60 + 50  # times recomputed
    assert checked.outcome("peak", "plan").day.checked  # the others are untouched


def test_closed_cold_store(tiny, tiny_net, plan_doc) -> None:
    path, doc = plan_doc
    o = _outcome(doc, "peak", "plan")
    o["facilities"]["cold_stores"] = []  # the planner closes the hub
    _, violations = check_plan(tiny, _save(path, doc), network=tiny_net)
    joined = "\n".join(violations)
    assert "peak/plan: cold store cs-hub: 1 modules in season peak but the site is not open" \
        in joined
    assert "depot cs-hub is not an open cold store" in joined
    assert "goes to cold store cs-hub, which is not open" in joined


def test_deleted_lot_is_dropped_produce(tiny, tiny_net, plan_doc, result) -> None:
    path, doc = plan_doc
    o = _outcome(doc, "peak", "plan")
    route = next(r for r in o["day"]["routes"] if any(s["kind"] == "pickup" for s in r["stops"]))
    lot = next(s for s in route["stops"] if s["kind"] == "pickup")
    route["stops"].remove(lot)
    checked, violations = check_plan(tiny, _save(path, doc), network=tiny_net)
    assert any(v.startswith(f"peak/plan: produce at {lot['site_id']}: ")
               and "not listed as dropped (counted as dropped produce)" in v
               for v in violations), violations
    before = result.outcome("peak", "plan").kpis
    after = checked.outcome("peak", "plan").kpis
    assert after.produce_dropped_kg == pytest.approx(before.produce_dropped_kg
                                                     + lot["pickup_kg"], abs=1.0)
    assert after.collected_kg == pytest.approx(before.collected_kg - lot["pickup_kg"], abs=1.0)
    assert after.spoilage_mass_pct > before.spoilage_mass_pct
    assert checked.outcome("peak", "plan").day.cost_yuan["dropped"] > 0
    # listing the lot as dropped makes the edit legitimate; it still counts as dropped
    o["day"]["dropped"].append(lot["stop_id"])
    checked2, violations2 = check_plan(tiny, _save(path, doc), network=tiny_net)
    assert violations2 == []
    assert checked2.outcome("peak", "plan").kpis.produce_dropped_kg == pytest.approx(
        after.produce_dropped_kg)


def test_reordered_stops_are_re_timed(tiny, tiny_net, plan_doc) -> None:
    path, doc = plan_doc
    route = max(_outcome(doc, "rain", "baseline")["day"]["routes"], key=lambda r: len(r["stops"]))
    assert len(route["stops"]) >= 2
    route["stops"].reverse()
    checked, violations = check_plan(tiny, _save(path, doc), network=tiny_net)
    new = next(r for r in checked.outcome("rain", "baseline").day.routes
               if r.vehicle_id == route["vehicle_id"])
    assert [s.stop_id for s in new.stops] == [s["stop_id"] for s in route["stops"]]
    times = [s.start_min for s in new.stops]
    assert times == sorted(times)
    assert all("capacity" not in v for v in violations)


def test_more_vehicles_than_the_fleet(tiny, tiny_net, plan_doc) -> None:
    path, doc = plan_doc
    routes = _outcome(doc, "rain", "baseline")["day"]["routes"]
    r = next(r for r in routes if r["vehicle_type"] == "tricycle" and len(r["stops"]) > 1)
    split = dict(r, vehicle_id="tricycle#9", stops=[r["stops"].pop()])  # a third tricycle
    routes.append(split)
    _, violations = check_plan(tiny, _save(path, doc), network=tiny_net)
    assert any(v.startswith("rain/baseline: fleet: 3 tricycle vehicles used")
               and "only 2 in the baseline fleet" in v for v in violations), violations


def test_unknown_closed_edge_is_instance_error(tiny, tiny_net, plan_doc) -> None:
    path, doc = plan_doc
    _outcome(doc, "rain", "plan")["closed_edges"] = ["no-such-road"]
    with pytest.raises(InstanceError, match=r"outcomes\[3\]\.closed_edges: cannot close"):
        check_plan(tiny, _save(path, doc), network=tiny_net)


def test_cli_check(tiny_path: Path, plan_doc, capsys) -> None:
    path, doc = plan_doc
    assert main(["check", str(tiny_path), str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "cost per order" in out and "peak" in out

    _outcome(doc, "rain", "plan")["day"]["routes"][0]["start_min"] = 1190
    bad = _save(path.with_name("edited.json"), doc)
    assert main(["check", str(tiny_path), str(bad)]) == 3
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("rain/plan: ")]
    assert lines and all("working day" in ln or "deadline" in ln for ln in lines)

    broken = path.with_name("broken.json")
    broken.write_text("{", encoding="utf-8")
    assert main(["check", str(tiny_path), str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
