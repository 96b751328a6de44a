"""benchmarks/rich_vrp.py on a fake benchdata folder: both solvers run, every .sol is
scored by PyVRP and by our checker (they agree), the CSV and a per-family summary appear;
an absent folder is skipped cleanly."""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "rich"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_rich", ROOT / "benchmarks" / "rich_vrp.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fake_families_are_run_scored_and_summarised(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bench = tmp_path / "rich_vrplib"
    for fam, name, bks in (("VRPB", "b", 95), ("MTVRPTWR", "mt", 700)):
        (bench / fam / "instances").mkdir(parents=True)
        shutil.copy(DATA / f"{name}.vrp", bench / fam / "instances" / f"{name}.vrp")
        rounding = "dimacs" if fam == "MTVRPTWR" else "round"
        (bench / fam / "bks.csv").write_text(
            f"instance,bks,dimension,rounding\n{name},{bks},7,{rounding}\n")
    out = tmp_path / "res" / "rich.csv"
    rc = _bench().main(["--time-limit", "0.5", "--jobs", "1", "--families", "VRPB,MTVRPTWR",
                        "--bench-dir", str(bench), "--out", str(out)])
    assert rc == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["family"], r["solver"]) for r in rows] == [
        ("VRPB", "ours"), ("VRPB", "pyvrp"), ("MTVRPTWR", "ours"), ("MTVRPTWR", "pyvrp")]
    assert all(r["agree"] == "True" and r["feasible_pyvrp"] == "True" for r in rows)
    assert all(abs(float(r["gap_pct"])) < 100 for r in rows)
    text = capsys.readouterr().out
    assert "VRPB      ours" in text and "ours better on" in text


def test_absent_benchdata_is_skipped(tmp_path: Path) -> None:
    assert _bench().main(["--bench-dir", str(tmp_path / "none")]) == 0
