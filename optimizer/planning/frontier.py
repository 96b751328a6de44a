"""The trade-off curve: one full plan per yearly budget, and what each budget buys.

:func:`frontier` plans the county once per budget (:func:`optimizer.planning.planner.plan`
with ``budget_yuan``; ``math.inf`` plans without one), each checked by the plan-level
checker, and rolls each up to a year. Today's baseline does not depend on the budget: it is
routed once and shared by every plan.

The curve is monotone by construction: budgets are taken in increasing order, and when the
plan made for a budget costs the county more a year (logistics + value of the produce lost,
:attr:`optimizer.plans.YearFigures.total_cost_yuan`) than the best plan so far, that cheaper
plan is kept for the budget too: it is within it. The first "best plan so far" is today's
network itself (within every budget: it invests nothing and runs as today), so no budget
shows a plan worse than today. ``reused_from`` says which budget's plan a point keeps
(``TODAY`` for today's network).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from optimizer.errors import InputError
from optimizer.instance import Instance
from optimizer.limits import Limits
from optimizer.planning.planner import Planning, plan
from optimizer.plans import PlanningResult, YearFigures
from optimizer.roads import RoadNetwork

#: ``reused_from`` of a point that keeps today's network
TODAY = -1.0


@dataclass(frozen=True, slots=True)
class FrontierPoint:
    """The plan kept for one budget (yuan/year; ``math.inf``: no budget)."""

    budget_yuan: float
    result: PlanningResult
    #: the budget whose plan this point keeps because it was cheaper (``TODAY``: today's
    #: network), else None
    reused_from: float | None = None

    @property
    def plan(self) -> YearFigures:
        figures = self.result.year_of("plan")
        assert figures is not None, "a frontier plan has both kinds"
        return figures

    @property
    def baseline(self) -> YearFigures:
        figures = self.result.year_of("baseline")
        assert figures is not None, "a frontier plan has both kinds"
        return figures


def parse_budgets(text: str) -> list[float]:
    """Budgets (yuan/year) from ``"0,500000,1e6,inf"`` (``_`` and spaces ignored;
    ``inf``/``unlimited`` for no budget), increasing and without duplicates. Raises
    :class:`InputError` for a negative, NaN or non-numeric value, or an empty list."""
    out: list[float] = []
    for raw in text.replace(";", ",").split(","):
        item = raw.strip().replace("_", "").replace(" ", "")
        if not item:
            continue
        value = math.inf if item.lower() in ("inf", "unlimited", "none") else None
        if value is None:
            try:
                value = float(item)
            except ValueError:
                raise InputError.at(None, "--budgets", "not a number", got=raw.strip(),
                                    fix="list yuan per year, e.g. 0,500000,inf") from None
        if math.isnan(value) or value < 0:
            raise InputError.at(None, "--budgets", "must be >= 0 yuan per year",
                                got=raw.strip(), fix="list yuan per year, e.g. 0,500000,inf")
        out.append(value)
    if not out:
        raise InputError.at(None, "--budgets", "no budget given", got=text,
                            fix="list yuan per year, e.g. 0,500000,inf")
    return sorted(set(out))


def frontier(
    instance: Instance,
    budgets: Sequence[float],
    *,
    network: RoadNetwork | None = None,
    limits: Limits | None = None,
    seed: int = 0,
    iterations: int = 2,
    location_time_s: float = 20.0,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> list[FrontierPoint]:
    """Plan ``instance`` once per budget (increasing; see the module docstring)."""
    say = progress or (lambda _: None)
    points: list[FrontierPoint] = []
    best: FrontierPoint | None = None
    shared: Planning | None = None
    today: FrontierPoint | None = None
    for b in sorted(set(budgets)):
        label = f"budget {_label(b)}"
        say(label)

        def step(message: str, label: str = label) -> None:
            say(f"{label}: {message}")

        planning = plan(instance, network=network, limits=limits, seed=seed,
                        iterations=iterations, location_time_s=location_time_s, jobs=jobs,
                        budget_yuan=None if math.isinf(b) else b, progress=step,
                        baseline_from=None if shared is None else shared.result)
        shared = shared or planning
        if today is None:
            today = FrontierPoint(TODAY, today_as_plan(instance, planning.result))
            best = today
        point = FrontierPoint(b, planning.result)
        assert best is not None
        if point.plan.total_cost_yuan > best.plan.total_cost_yuan:
            point = FrontierPoint(b, best.result, reused_from=best.budget_yuan)
        else:
            best = point
        points.append(point)
    return points


def today_as_plan(instance: Instance, result: PlanningResult) -> PlanningResult:
    """``result`` with its plan replaced by today's network (the baseline's days relabelled
    "plan"): a plan within every budget, which invests nothing."""
    from dataclasses import replace

    from optimizer.planning.year import year_rollup

    base = [o for o in result.outcomes if o.plan == "baseline"]
    as_plan = [replace(o, plan="plan", facilities=replace(o.facilities, name="plan"),
                       kpis=replace(o.kpis, plan="plan")) for o in base]
    outcomes = tuple(x for pair in zip(base, as_plan, strict=True) for x in pair)
    return replace(result, outcomes=outcomes, pickup_points=base[0].facilities.pickup_points,
                   year=year_rollup(instance, outcomes))


def _label(budget: float) -> str:
    return "unlimited" if math.isinf(budget) else f"{budget:,.0f} yuan/year"


#: columns of frontier.csv
FRONTIER_COLUMNS = (
    "budget_yuan", "reused_from_budget_yuan", "cost_per_order_yuan",
    "operating_cost_per_order_yuan", "spoilage_pct", "spoilage_value_saved_yuan",
    "village_coverage_pct", "cold_chain_pct", "investment_yuan",
    "annualised_investment_yuan", "budget_use_yuan", "payback_years", "npv_yuan",
    "total_cost_yuan", "open_sites", "pickup_points",
)


def frontier_rows(points: Sequence[FrontierPoint]) -> list[dict[str, float | int | str]]:
    """One row per budget (:data:`FRONTIER_COLUMNS`); ``inf`` budgets read "inf"."""
    rows: list[dict[str, float | int | str]] = []
    for p in points:
        y, base = p.plan, p.baseline
        plan_outcomes = [o for o in p.result.outcomes if o.plan == "plan"]
        rows.append({
            "budget_yuan": "inf" if math.isinf(p.budget_yuan) else p.budget_yuan,
            "reused_from_budget_yuan": "" if p.reused_from is None
            else ("today" if p.reused_from == TODAY
                  else "inf" if math.isinf(p.reused_from) else p.reused_from),
            "cost_per_order_yuan": y.cost_per_order_yuan,
            "operating_cost_per_order_yuan": y.operating_cost_per_order_yuan,
            "spoilage_pct": y.spoilage_pct,
            "spoilage_value_saved_yuan": base.spoilage_yuan - y.spoilage_yuan,
            "village_coverage_pct": y.village_coverage_pct,
            "cold_chain_pct": y.cold_chain_pct,
            "investment_yuan": y.investment_yuan,
            "annualised_investment_yuan": y.annualised_investment_yuan,
            "budget_use_yuan": y.budget_use_yuan,
            "payback_years": y.payback_years,
            "npv_yuan": y.npv_yuan,
            "total_cost_yuan": y.total_cost_yuan,
            "open_sites": len(plan_outcomes[0].facilities.cold_stores) if plan_outcomes else 0,
            "pickup_points": len(p.result.pickup_points),
        })
    return rows


__all__ = ["FRONTIER_COLUMNS", "TODAY", "FrontierPoint", "frontier", "frontier_rows",
           "parse_budgets", "today_as_plan"]
