"""``coldchain solve``: the year table before the scenario tables, ``--budget`` (parsing,
refusals with one line and exit 2, passed to the planner) and ``coldchain check`` printing
the recomputed year."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from optimizer.cli import main
from optimizer.cli.solve import parse_budget
from optimizer.errors import InputError

SMALL = ["--time-limit", "2", "--location-time", "5", "--iterations", "1",
         "--solution-limit", "30", "--jobs", "1"]


@pytest.mark.parametrize(("text", "yuan"), [
    ("1000000", 1_000_000.0),
    ("1,000,000", 1_000_000.0),
    ("1_000_000", 1_000_000.0),
    ("2,500.5", 2_500.5),
    (" 750 ", 750.0),
    ("0", 0.0),
    ("1e6", 1_000_000.0),
    ("inf", None),
    ("INF", None),
    ("unlimited", None),
    ("Unlimited", None),
])
def test_parse_budget_accepts(text: str, yuan: float | None) -> None:
    assert parse_budget(text) == yuan


@pytest.mark.parametrize("text", ["-5", "abc", "nan", "NaN", "", "-inf", "1,00", "1,0000",
                                  "12 yuan"])
def test_parse_budget_refuses(text: str) -> None:
    with pytest.raises(InputError, match=r"^--budget: must be a non-negative number"):
        parse_budget(text)


@pytest.mark.parametrize("value", ["-5", "abc", "nan"])
def test_bad_budget_exits_2_with_one_line(value: str, tiny_path: Path, capsys) -> None:
    assert main(["solve", str(tiny_path), "--budget", value, *SMALL]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: --budget: ")
    assert repr(value) in err and "Traceback" not in err
    assert captured.out == ""  # refused before planning


def test_budget_with_baseline_only_is_refused(tiny_path: Path, capsys) -> None:
    assert main(["solve", str(tiny_path), "--baseline-only", "--budget", "1000"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("error: --budget: ") and "--baseline-only" in err


@pytest.mark.parametrize(("value", "yuan"), [("inf", None), ("1_000_000", 1_000_000.0),
                                              ("unlimited", None)])
def test_budget_reaches_the_planner(value: str, yuan: float | None, tiny_path: Path,
                                    monkeypatch, capsys) -> None:
    import optimizer.planning.planner as planner

    seen: dict[str, Any] = {}

    def fake_plan(instance, **kw):  # type: ignore[no-untyped-def]
        seen.update(kw)
        raise InputError("stopped by the test")

    monkeypatch.setattr(planner, "plan", fake_plan)
    assert main(["solve", str(tiny_path), "--budget", value, *SMALL]) == 2
    assert "stopped by the test" in capsys.readouterr().err
    assert "budget_yuan" in seen and seen["budget_yuan"] == yuan


def test_solve_prints_the_year_first_and_check_recomputes_it(tiny_path: Path, tmp_path: Path,
                                                             capsys) -> None:
    out_dir = tmp_path / "out"
    rc = main(["solve", str(tiny_path), "--budget", "1,000,000", *SMALL, "--out", str(out_dir)])
    text = capsys.readouterr().out
    assert rc == 0
    year_at = text.index("tiny: a year in money (baseline vs plan)")
    assert year_at < text.index("tiny: scenario ")  # before the per-scenario KPI tables
    lines = text.splitlines()
    line = next(ln for ln in lines if ln.startswith("net saving "))
    assert "payback " in line and "NPV over 10 years at 6%: " in line
    assert "budget 1,000,000 yuan/year, used " in line
    assert "nan" not in text.lower()
    doc = json.loads((out_dir / "plan.json").read_text(encoding="utf-8"))
    assert doc["budget_yuan"] == 1_000_000.0
    plan_year = next(y for y in doc["year"] if y["plan"] == "plan")
    assert f"used {plan_year['budget_use_yuan']:,.0f}" in line

    assert main(["check", str(tiny_path), str(out_dir / "plan.json")]) == 0
    checked = capsys.readouterr().out
    assert checked.index("a year in money") < checked.index("scenario")
    again = next(ln for ln in checked.splitlines() if ln.startswith("net saving "))
    assert again == line  # the recomputed year equals the planned one
