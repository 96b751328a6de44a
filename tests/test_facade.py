"""End to end on the tiny instance: snap, matrices, baseline sites, routing, check, KPIs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.errors import InfeasibleError, NetworkError
from optimizer.facade import solve
from optimizer.limits import Limits
from optimizer.planning.baseline import baseline_facilities
from optimizer.planning.matrices import build_matrices

LIMITS = Limits(time_s=10.0, solution_limit=200)


@pytest.fixture(scope="module")
def peak(tiny, tiny_net):
    return solve(tiny, scenario="peak", network=tiny_net, limits=LIMITS, seed=0)


def test_peak_plan_is_checked_and_costed(peak) -> None:
    assert peak.day.checked
    assert peak.day.routes
    k = peak.kpis
    assert k.cost_per_order_yuan > 0
    assert 0 < k.spoilage_mass_pct < 100
    assert k.village_coverage_pct == pytest.approx(100.0)


def test_baseline_respects_cold_store_capacity(tiny, tiny_net, peak) -> None:
    # the hub's single 5 t module pre-cools 5 t/day: the rest stays on the ambient channel
    assert peak.kpis.collected_kg <= 5000.0 + 1e-6
    assert peak.kpis.produce_dropped_kg >= 15500.0 - 5000.0 - 1e-6
    m = build_matrices(tiny, tiny_net)
    fac = baseline_facilities(tiny, m, {v.id: v.produce_kg_per_day["peak"] for v in tiny.villages})
    assert sum(kg for shares in fac.produce_to_store.values() for _, kg in shares) == 5000.0
    assert fac.pickup_points == ("p1", "p3")


def test_trucks_never_use_tracks(peak, tiny) -> None:
    # v4 is reachable only over a track: trucks may not go there
    for r in peak.day.routes:
        if r.vehicle_type == "reefer":
            assert all(s.site_id != "v4" for s in r.stops)


def test_deterministic_with_solution_limit(tiny, tiny_net, peak) -> None:
    again = solve(tiny, scenario="peak", network=tiny_net, limits=LIMITS, seed=0)
    assert again.day.routes == peak.day.routes
    assert again.kpis == peak.kpis


def test_rain_scenario_slows_routes(tiny, tiny_net) -> None:
    dry = solve(tiny, scenario="off", network=tiny_net, limits=LIMITS)
    wet = solve(tiny, scenario="rain", network=tiny_net, limits=LIMITS)
    assert wet.day.checked and dry.day.checked


def test_unknown_scenario_is_input_error(tiny) -> None:
    with pytest.raises(Exception, match="unknown scenario"):
        solve(tiny, scenario="monsoon", limits=LIMITS)


def test_no_fleet_is_infeasible(tiny, tiny_net) -> None:
    empty = tiny.replace(vehicle_types=tuple(
        replace(vt, baseline_count=0) for vt in tiny.vehicle_types))
    with pytest.raises(InfeasibleError, match="no vehicle"):
        solve(empty, scenario="peak", network=tiny_net, limits=LIMITS)


def test_far_site_is_network_error(tiny, tiny_net) -> None:
    v = tiny.villages[0]
    far = tiny.replace(villages=(replace(v, lat=v.lat + 0.2),) + tiny.villages[1:])
    with pytest.raises(NetworkError, match="v1"):
        solve(far, scenario="peak", network=tiny_net, limits=LIMITS)


def test_cli_baseline_only_prints_the_three_figures(tiny_path: Path, capsys) -> None:
    code = main(["solve", str(tiny_path), "--baseline-only", "--time-limit", "5",
                 "--solution-limit", "100"])
    out = capsys.readouterr().out
    assert code == 0
    assert "cost per order (yuan)" in out
    assert "spoilage (% of produce mass)" in out
    assert "of a pickup point (%)" in out


def test_cli_solve_plans_and_writes_outputs(tiny_path: Path, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "out"
    code = main(["solve", str(tiny_path), "--scenario", "peak", "--time-limit", "2",
                 "--solution-limit", "50", "--out", str(out_dir)])
    out = capsys.readouterr().out
    assert code == 0
    for figure in ("cost per order (yuan)", "spoilage (% of produce mass)",
                   "villages covered by a pickup point (%)", "Cold storage per season"):
        assert figure in out
    assert {p.name for p in out_dir.iterdir()} >= {
        "plan.json", "plan.gpkg", "kpis.csv", "report.md", "map.html"}
    assert main(["check", str(tiny_path), str(out_dir / "plan.json")]) == 0


def test_cli_network_describes_roads(tiny_path: Path, capsys) -> None:
    assert main(["network", str(tiny_path)]) == 0
    out = capsys.readouterr().out
    assert "class4" in out and "mutually reachable" in out
