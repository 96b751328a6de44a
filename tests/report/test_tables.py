"""The year table and its line on hand-made year figures: payback (never, immediate, years),
NPV, budget use, "-" for what was not computed, and year_rows."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import pytest
from rich.console import Console

from optimizer.plans import PlanningResult, YearFigures
from optimizer.report import print_year_table, year_rows, year_summary


def _year(plan: str, **kw: float) -> YearFigures:
    base: dict[str, float] = dict(
        days=365.0, orders=100_000.0, produce_kg=1_000_000.0, collected_kg=800_000.0,
        operating_cost_yuan=150_000.0, pickup_running_yuan=8_000.0,
        annualised_investment_yuan=0.0, cost_per_order_yuan=1.58,
        operating_cost_per_order_yuan=1.5, spoilage_kg=60_000.0, spoilage_yuan=720_000.0,
        spoilage_pct=6.0, cold_chain_pct=40.0, village_coverage_pct=80.0,
        first_mile_yuan_per_order=0.5, cold_storage_yuan_per_order=0.8,
        last_mile_yuan_per_order=0.28, line_haul_yuan_per_order=0.0)
    base.update(kw)
    return YearFigures(plan=plan, **base)  # type: ignore[arg-type]


def _result(plan: YearFigures, budget: float | None = None) -> PlanningResult:
    return PlanningResult(instance="hand", seed=0, time_limit_s=1.0, solution_limit=None,
                          seasons=(), pickup_points=(), pickup_status="", outcomes=(),
                          budget_yuan=budget, year=(_year("baseline"), plan))


def _printed(result: PlanningResult, instance=None) -> str:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    print_year_table(result, Console(file=buf, width=200, color_system=None),
                     instance=instance)
    return buf.getvalue()


PLAN = _year("plan", operating_cost_yuan=170_000.0, pickup_running_yuan=12_000.0,
             annualised_investment_yuan=1_234.5, spoilage_yuan=220_000.0,
             investment_pickups_yuan=3_000.0, investment_sites_yuan=1_000_000.0,
             saving_yuan=476_000.0, payback_years=2.1071, npv_yuan=2_500_000.4,
             budget_use_yuan=18_432.2)


def test_table_rows_columns_and_line() -> None:
    text = _printed(_result(PLAN, budget=1_000_000.0))
    assert "a year in money" in text
    for head in ("figure", "baseline", "plan", "change"):
        assert head in text
    for label in ("orders (per year)", "logistics cost (yuan/year)", "pickup points (yuan/year)",
                  "annualised investment (yuan/year)", "cost per order (yuan)",
                  "operating cost per order (yuan)", "first mile (yuan/order)",
                  "cold storage (yuan/order)", "last mile (yuan/order)",
                  "line haul to the city (yuan/order)", "spoilage (t/year)",
                  "spoilage value (million yuan/year)", "spoilage (% of produce)",
                  "cold-chain coverage", "villages covered", "investment: new cold-store sites",
                  "investment: bought modules", "investment: new pickup points",
                  "investment: vehicles bought", "investment, total (yuan, one-off)",
                  "hired vehicle-days (per year)"):
        assert label in text, label
    assert "1,000,000" in text and "+1,003,000" in text  # investment, thousands separators
    assert "net saving 476,000 yuan/year against today" in text
    # 158,000 - 182,000 running, 720,000 - 220,000 spoilage value
    assert "-24,000 on running" in text and "+500,000 on the value of produce spoiled" in text
    assert "payback 2.11 years" in text
    assert "NPV 2,500,000 yuan" in text
    assert "budget 1,000,000 yuan/year, used 18,432" in text
    assert "over by" not in text
    assert "nan" not in text.lower()


@pytest.mark.parametrize(("payback", "saving", "shown"), [
    (math.inf, -5_000.0, "payback never"),
    (0.0, 5_000.0, "payback immediate"),
    (0.5, 5_000.0, "payback 0.5 years (182 days)"),
    (0.0068, 5_000.0, "payback 0.0068 years (2 days)"),
    (1.0 / 365.0, 5_000.0, "payback 0.0027 years (1 day)"),
    (0.0001, 5_000.0, "payback under a day"),
    (12.25, 5_000.0, "payback 12.25 years"),
])
def test_payback(payback: float, saving: float, shown: str) -> None:
    plan = replace(PLAN, payback_years=payback, saving_yuan=saving, npv_yuan=-12_345.6)
    text = _printed(_result(plan))
    assert shown in text
    assert "NPV -12,346 yuan" in text
    assert "budget" not in text  # planned without a budget


def test_npv_names_horizon_and_rate(tiny) -> None:
    text = _printed(_result(PLAN), instance=tiny)
    eco = tiny.economics
    assert (f"NPV over {eco.horizon_years} years at {100 * eco.discount_rate:g}%: "
            "2,500,000 yuan") in text
    # the tiny instance's seasons make a full year: no note on days left out
    assert "counts" not in text
    part = replace(PLAN, days=42.0)
    assert "the roll-up counts 42 of the 365 days" in year_summary(_result(part), tiny)


def test_not_computed_is_a_dash_and_over_budget_is_said() -> None:
    plan = replace(PLAN, npv_yuan=math.nan, first_mile_yuan_per_order=math.nan,
                   budget_use_yuan=1_500.0)
    text = _printed(_result(plan, budget=1_000.0))
    assert "NPV - yuan" in text
    row = next(ln for ln in text.splitlines() if "first mile" in ln)
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells == ["first mile (yuan/order)", "0.50", "-", "-"]  # baseline, plan, change
    assert "budget 1,000 yuan/year, used 1,500 (over by 500)" in text
    assert "nan" not in text.lower()


def test_without_a_year_nothing_is_printed() -> None:
    result = replace(_result(PLAN), year=())
    assert _printed(result) == ""
    assert year_summary(result) == ""
    assert year_rows(result) == []


def test_year_rows() -> None:
    rows = year_rows(_result(PLAN, budget=1_000_000.0))
    assert [r["plan"] for r in rows] == ["baseline", "plan"]
    base, plan = rows
    assert base["saving_yuan"] is None and base["payback_years"] is None  # NaN on today's row
    assert plan["saving_yuan"] == 476_000.0 and plan["budget_use_yuan"] == 18_432.2
    assert plan["investment_yuan"] == 1_003_000.0
    assert plan["logistics_cost_yuan"] == pytest.approx(170_000 + 12_000 + 1_234.5)
    assert plan["total_cost_yuan"] == pytest.approx(170_000 + 12_000 + 1_234.5 + 220_000)
    assert set(base) == set(plan)
    never = year_rows(_result(replace(PLAN, payback_years=math.inf)))[1]
    assert never["payback_years"] == math.inf
