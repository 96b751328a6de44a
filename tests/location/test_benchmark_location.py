"""benchmarks/location.py reads the benchdata layout of the full OR-Library sets.

The full ``orlib_cflp`` folder has capa/capb/capc rows that share one file and substitute
the literal word ``capacity`` (``bks.csv`` columns ``capacity`` and ``file``), an optional
``orlib_uflp/bks.csv`` and pmed1-pmed40: a fake folder with that layout must be read and
solved, not crash or be skipped.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_location",
                                                  ROOT / "benchmarks" / "location.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_bks_rows_drive_capacity_substitution_uflp_and_pmed(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    data = tmp_path / "benchdata"
    (data / "orlib_cflp" / "instances").mkdir(parents=True)
    shutil.copy(DATA / "cap_word_capacity.txt", data / "orlib_cflp" / "instances" / "capw.txt")
    shutil.copy(DATA / "cap_tiny.txt", data / "orlib_cflp" / "instances" / "captiny.txt")
    # capacity 5 each: total demand 7 needs both sites (5 + 7 + 4 + 3 = 19); capacity 8:
    # site 1 alone (5 + 4 + 6 = 15)
    _write(data / "orlib_cflp" / "bks.csv",
           "instance,bks,capacity,file,note\n"
           "capw5,19,5,instances/capw.txt,x\n"
           "capw8,15,8,instances/capw.txt,x\n"
           "captiny,15,,,x\n"
           "capgone,1,,,listed without a file\n")
    _write(data / "orlib_uflp" / "bks.csv", "instance,bks\ncapw,15\n")
    (data / "orlib_pmed" / "instances").mkdir(parents=True)
    shutil.copy(DATA / "pmed_tiny.txt", data / "orlib_pmed" / "instances" / "pmed21.txt")
    _write(data / "orlib_pmed" / "bks.csv", "instance,bks,note\npmed21,3,x\n")
    out = tmp_path / "location.csv"
    rc = _bench().main(["--data", str(data), "--out", str(out), "--no-spopt",
                        "--no-generated", "--time-limit", "20"])
    assert rc == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    got = {(r["instance"], r["problem"]): r for r in rows}
    assert set(got) == {("capw5", "cflp"), ("capw8", "cflp"), ("capw", "uflp"),
                        ("captiny", "cflp"), ("captiny", "uflp"), ("pmed21", "p-median")}
    for r in rows:
        assert r["status"] == "optimal", r
        if r["bks"]:
            assert abs(float(r["gap_pct"])) < 1e-9, r
    assert float(got[("capw5", "cflp")]["objective"]) == 19
    assert got[("capw", "uflp")]["bks"] == "15.0"
    text = capsys.readouterr().out
    assert "capgone" in text and "no file" in text
