"""The tiny instance planned for two scenarios (baseline and plan each) and every output
file written once, shared by the output and map tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.facade import solve
from optimizer.limits import Limits
from optimizer.planning.matrices import build_matrices
from optimizer.planning.scenario import apply_scenario
from optimizer.planning.year import year_rollup
from optimizer.plans import PlanningResult, ScenarioOutcome, SeasonSites
from optimizer.report import write_outputs
from optimizer.roads import load_network

LIMITS = Limits(time_s=5.0, solution_limit=50)
SCENARIOS = ("peak", "rain")
BUDGET_YUAN = 50_000.0


@pytest.fixture(scope="session")
def setup(tiny):
    net = load_network(tiny.network_path)
    outs, nets, mats = [], {}, {}
    for sc in SCENARIOS:
        nets[sc] = apply_scenario(net, tiny.scenario(sc))
        mats[sc] = build_matrices(tiny, nets[sc], check=False)
        base = solve(tiny, scenario=sc, network=net, limits=LIMITS)
        full = solve(tiny, scenario=sc, network=net, limits=LIMITS, baseline=False)
        outs.append(ScenarioOutcome(sc, "baseline", base.facilities, base.day, base.kpis))
        outs.append(ScenarioOutcome(sc, "plan", replace(full.facilities, name="plan"),
                                    full.day, replace(full.kpis, plan="plan")))
    result = PlanningResult(
        instance="tiny", seed=0, time_limit_s=5.0, solution_limit=50,
        seasons=(SeasonSites("off", {"cs-hub": 1}, "optimal", 10.0, 10.0),
                 SeasonSites("peak", {"cs-hub": 2, "cs-east": 1}, "optimal", 20.0, 19.0)),
        pickup_points=("p1", "p3"), pickup_status="optimal", outcomes=tuple(outs),
        runtime_s=4.2, budget_yuan=BUDGET_YUAN, year=year_rollup(tiny, outs))
    assert result.year  # peak and rain (the off season's only scenario planned): both kinds
    return result, nets, mats


@pytest.fixture(scope="session")
def outputs(tiny, setup, tmp_path_factory) -> tuple[Path, list[Path]]:
    result, nets, mats = setup
    out = tmp_path_factory.mktemp("out") / "run"  # created by write_outputs
    return out, write_outputs(out, tiny, result, networks=nets, matrices=mats)
