"""The budget frontier: parsing budgets, monotone curve, and the command end to end."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.planning import frontier as fr
from optimizer.plans import PlanningResult, YearFigures
from tests.conftest import DATA


@pytest.mark.parametrize(("text", "budgets"), [
    ("0,500000,inf", [0.0, 500_000.0, math.inf]),
    ("1_000_000, 0 ,unlimited,0", [0.0, 1_000_000.0, math.inf]),
    ("2.5e5", [250_000.0]),
])
def test_parse_budgets(text: str, budgets: list[float]) -> None:
    assert fr.parse_budgets(text) == budgets


@pytest.mark.parametrize(("text", "needle"), [
    ("-5", "must be >= 0"), ("abc", "not a number"), ("nan", "must be >= 0"), (",", "no budget"),
])
def test_bad_budgets_are_refused_in_one_line(text: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle) as exc:
        fr.parse_budgets(text)
    assert "--budgets" in str(exc.value) and "\n" not in str(exc.value)


def _year(plan: str, total: float) -> YearFigures:
    values = {f: 0.0 for f in YearFigures.__dataclass_fields__ if f != "plan"}
    values["operating_cost_yuan"] = total
    return YearFigures(plan, **values)  # type: ignore[arg-type]


def test_a_larger_budget_never_gives_a_costlier_point(monkeypatch: pytest.MonkeyPatch,
                                                       tiny) -> None:
    """The heuristic plan of 500k is worse than the plan of 0: the 500k point keeps the
    plan of 0 (it is within 500k too); the unlimited plan is better again."""
    totals = {0.0: 100.0, 500_000.0: 120.0, None: 80.0}
    seen: list[float | None] = []

    def fake_plan(instance, *, budget_yuan=None, baseline_from=None, **_):  # type: ignore[no-untyped-def]
        seen.append(budget_yuan)
        assert (baseline_from is None) == (len(seen) == 1)  # the baseline is routed once
        result = PlanningResult(instance.name, 0, 1.0, None, (), (), "", (),
                                budget_yuan=budget_yuan,
                                year=(_year("baseline", 150.0),
                                      _year("plan", totals[budget_yuan])))
        return fr.Planning(result, {}, {})

    monkeypatch.setattr(fr, "plan", fake_plan)
    points = fr.frontier(tiny, [math.inf, 500_000.0, 0.0])
    assert seen == [0.0, 500_000.0, None]
    assert [p.budget_yuan for p in points] == [0.0, 500_000.0, math.inf]
    assert [p.plan.total_cost_yuan for p in points] == [100.0, 100.0, 80.0]
    assert [p.reused_from for p in points] == [None, 0.0, None]
    rows = fr.frontier_rows(points)
    assert [r["budget_yuan"] for r in rows] == [0.0, 500_000.0, "inf"]
    assert rows[1]["reused_from_budget_yuan"] == 0.0


def test_frontier_command_on_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fr"
    rc = main(["frontier", str(DATA / "tiny"), "--budgets", "0,inf", "--time-limit", "1",
               "--location-time", "3", "--iterations", "1", "--solution-limit", "20",
               "--jobs", "1", "--out", str(out)])
    text = capsys.readouterr()
    assert rc == 0, text.err
    assert "what each yearly budget buys" in text.out
    rows = list(csv.DictReader((out / "frontier.csv").open(encoding="utf-8")))
    assert [r["budget_yuan"] for r in rows] == ["0.0", "inf"]
    totals = [float(r["total_cost_yuan"]) for r in rows]
    assert totals[1] <= totals[0] + 1e-6
    assert (out / "frontier.png").stat().st_size > 1000
    # the unlimited plan is the full plan: it covers every village (tiny's candidates can)
    assert float(rows[1]["village_coverage_pct"]) == pytest.approx(100.0)


def test_budget_zero_adds_no_investment_but_may_reuse_savings(tiny) -> None:
    from optimizer.limits import Limits
    from optimizer.planning.planner import plan

    res = plan(tiny, limits=Limits(time_s=1.0, solution_limit=20), location_time_s=3.0,
               iterations=1, budget_yuan=0.0).result
    year = res.year_of("plan")
    assert year is not None and res.budget_yuan == 0.0
    # no new cold store, no bought module; the plan owns only today's vehicles
    assert year.investment_sites_yuan == 0 and year.investment_modules_yuan == 0
    assert year.investment_vehicles_yuan == 0
    # what the plan adds to today's yearly facility cost stays within the budget (1 yuan)
    assert year.budget_use_yuan <= 1.0
    assert all(o.facilities.bought_modules == 0 for o in res.outcomes)
