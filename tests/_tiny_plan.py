"""A small PlanningResult of the tiny instance, shared by the plan.json and check tests."""

from __future__ import annotations

from dataclasses import replace

from optimizer.facade import solve
from optimizer.limits import Limits
from optimizer.plans import ScenarioOutcome

LIMITS = Limits(time_s=5.0, solution_limit=50)


def tiny_outcomes(tiny, net, scenario: str, *,
                  robust_pct: float | None = None) -> list[ScenarioOutcome]:
    """Baseline (today's fleet) and "plan" (full fleet) outcomes of one tiny scenario."""
    base = solve(tiny, scenario=scenario, network=net, limits=LIMITS, seed=0)
    full = solve(tiny, scenario=scenario, network=net, limits=LIMITS, seed=0, baseline=False)
    return [
        ScenarioOutcome(scenario, "baseline", base.facilities, base.day, base.kpis,
                        closed_edges=base.closed_edges),
        ScenarioOutcome(scenario, "plan", replace(full.facilities, name="plan"), full.day,
                        replace(full.kpis, plan="plan"), robust_village_coverage_pct=robust_pct,
                        closed_edges=full.closed_edges),
    ]


def tiny_result(tiny, net):  # type: ignore[no-untyped-def]
    """A PlanningResult of the tiny instance: peak and rain, baseline and plan, one season
    and a location-routing iteration (no year rows)."""
    from optimizer.plans import PlanningResult, SeasonSites

    outs = tiny_outcomes(tiny, net, "peak") + tiny_outcomes(tiny, net, "rain", robust_pct=75.0)
    return PlanningResult(
        instance="tiny", seed=0, time_limit_s=5.0, solution_limit=50,
        seasons=(SeasonSites("peak", {"cs-hub": 1}, "optimal", 1234.5, 1200.25),),
        pickup_points=("p1", "p3"), pickup_status="optimal", outcomes=tuple(outs),
        iterations=({"iteration": 1.0, "cost_yuan": 3.14159265358979},), runtime_s=12.3,
    )
