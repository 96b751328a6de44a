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


@pytest.mark.parametrize(("totals", "kept", "reused"), [
    # the heuristic plan of 500k is worse than the plan of 0: the 500k point keeps the plan
    # of 0 (it is within 500k too); the unlimited plan is better again
    ({0.0: 100.0, 500_000.0: 120.0, None: 80.0}, [100.0, 100.0, 80.0], [None, 0.0, None]),
    # a plan worse than today's network (150) is never shown: the point keeps today's
    ({0.0: 160.0, 500_000.0: 140.0, None: 145.0}, [150.0, 140.0, 140.0],
     [fr.TODAY, None, 500_000.0]),
])
def test_a_larger_budget_never_gives_a_costlier_point(
        monkeypatch: pytest.MonkeyPatch, tiny, totals: dict, kept: list[float],
        reused: list[float | None]) -> None:
    seen: list[float | None] = []

    def result(budget: float | None, total: float) -> PlanningResult:
        return PlanningResult(tiny.name, 0, 1.0, None, (), (), "", (), budget_yuan=budget,
                              year=(_year("baseline", 150.0), _year("plan", total)))

    def fake_plan(instance, *, budget_yuan=None, baseline_from=None, **_):  # type: ignore[no-untyped-def]
        seen.append(budget_yuan)
        assert (baseline_from is None) == (len(seen) == 1)  # the baseline is routed once
        return fr.Planning(result(budget_yuan, totals[budget_yuan]), {}, {})

    monkeypatch.setattr(fr, "plan", fake_plan)
    monkeypatch.setattr(fr, "today_as_plan", lambda inst, res: result(None, 150.0))
    points = fr.frontier(tiny, [math.inf, 500_000.0, 0.0])
    assert seen == [0.0, 500_000.0, None]
    assert [p.budget_yuan for p in points] == [0.0, 500_000.0, math.inf]
    assert [p.plan.total_cost_yuan for p in points] == kept
    assert [p.reused_from for p in points] == reused
    rows = fr.frontier_rows(points)
    assert [r["budget_yuan"] for r in rows] == [0.0, 500_000.0, "inf"]
    assert rows[0]["reused_from_budget_yuan"] == ("today" if reused[0] == fr.TODAY else "")


def test_today_as_plan_passes_the_checker_and_rolls_up_as_today(tiny, tiny_net) -> None:
    from optimizer.limits import Limits
    from optimizer.planning.planner import plan
    from optimizer.planning.verify import check_result

    res = plan(tiny, network=tiny_net, limits=Limits(time_s=1.0, solution_limit=20),
               location_time_s=3.0, iterations=1).result
    today = fr.today_as_plan(tiny, res)
    _, violations = check_result(tiny, today, network=tiny_net)
    assert violations == []
    base, as_plan = today.year
    assert as_plan.total_cost_yuan == pytest.approx(base.total_cost_yuan)
    assert as_plan.investment_yuan == 0


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
