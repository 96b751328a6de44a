"""Two runs writing the same output folder take turns: the folder always holds one run's
complete set of files, never a mix (optimizer._io.locked_dir). Two batches on one results
file: the second is refused (here, and tests/batch/test_batch.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from optimizer._io import locked_dir
from optimizer.errors import InputError
from tests.reliability._harness import ROOT, copy_tiny, run_cli

pytest.importorskip("fcntl")


def test_a_locked_folder_waits_then_refuses(tmp_path: Path) -> None:
    with locked_dir(tmp_path):
        t0 = time.monotonic()
        # a second holder (another open file description) cannot get the lock
        with (pytest.raises(InputError, match="another coldchain run is writing this folder"),
              locked_dir(tmp_path, wait_s=0.5, poll_s=0.05)):
            pass
        assert 0.45 < time.monotonic() - t0 < 5
    with locked_dir(tmp_path, wait_s=0):  # released with the first holder
        pass
    assert list(tmp_path.iterdir()) == []  # no lock file left behind


def test_a_waiting_writer_goes_in_when_the_first_is_done(tmp_path: Path) -> None:
    order: list[str] = []
    release = threading.Event()

    def first() -> None:
        with locked_dir(tmp_path):
            order.append("first in")
            release.wait(5)
            order.append("first out")

    t = threading.Thread(target=first)
    t.start()
    while not order:
        time.sleep(0.01)
    threading.Timer(0.3, release.set).start()
    with locked_dir(tmp_path, wait_s=10, poll_s=0.02):
        order.append("second in")
    t.join()
    assert order == ["first in", "first out", "second in"]


def test_two_solves_into_one_folder_leave_one_consistent_plan(tmp_path: Path) -> None:
    inst = copy_tiny(tmp_path / "tiny")
    out = tmp_path / "out"
    args = ["solve", str(inst), "--time-limit", "2", "--solution-limit", "20", "--iterations",
            "1", "--location-time", "2", "--jobs", "1", "--scenario", "peak", "--out",
            str(out)]
    procs = [subprocess.Popen([sys.executable, "-m", "optimizer", *args, "--seed", str(seed)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for seed in (1, 2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    code, _, err = run_cli(["check", str(inst), str(out / "plan.json")])
    assert code == 0, err
    seed = __import__("json").loads((out / "plan.json").read_text())["seed"]
    # report.md is from the same run as plan.json
    assert f"Seed {seed}," in (out / "report.md").read_text(encoding="utf-8")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_two_batches_on_one_results_file_never_interleave(tmp_path: Path) -> None:
    """The second ``coldchain batch`` on a results file the first holds is refused in one
    line (exit 2); the file then holds the first batch's complete JSON lines only."""
    import json

    inst = copy_tiny(tmp_path / "tiny")
    out = tmp_path / "results.jsonl"
    args = [sys.executable, "-m", "optimizer", "batch", str(inst), "--mode", "baseline",
            "--time-limit", "1", "--seed", "0", "--seed", "1", "--seed", "2", "--jobs", "1",
            "--out", str(out)]
    first = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    while not out.exists() and first.poll() is None and time.monotonic() - t0 < 60:
        time.sleep(0.02)
    second = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err.decode()
    assert second.returncode == 2, second.stderr
    lines = [ln for ln in second.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "another batch is writing" in lines[0], second.stderr
    records = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert len(records) == 3 and all(r["status"] == "ok" for r in records)
