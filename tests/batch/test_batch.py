"""Batch runs: task expansion, the crash-safe results file, isolation, resume, Dask."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer.batch import (
    ResultsLog,
    Task,
    TaskDefaults,
    expand_inputs,
    read_results,
    run_batch,
    run_isolated,
    schedule_order,
    summarise,
)
from optimizer.errors import InputError
from optimizer.limits import Limits
from tests.conftest import DATA, ROOT

QUICK = ["--mode", "baseline", "--time-limit", "1", "--solution-limit", "10"]


def _copies(tmp_path: Path, names: list[str]) -> Path:
    root = tmp_path / "instances"
    for n in names:
        shutil.copytree(DATA / "tiny", root / n)
    return root


def _broken(root: Path, name: str = "broken") -> Path:
    d = root / name
    shutil.copytree(DATA / "tiny", d)
    toml = d / "instance.toml"
    toml.write_text(toml.read_text().replace("capacity_kg = 3000.0", "capacity_kg = -5.0", 1))
    return d


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "optimizer", "batch", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=240)


def _lines(path: Path) -> list[dict]:
    raw = path.read_text(encoding="utf-8")
    assert raw.endswith("\n")
    return [json.loads(line) for line in raw.splitlines()]  # every line is valid JSON


# ----------------------------------------------------------------------------- expansion


def test_directory_of_instances_expands_with_stable_distinct_keys(tmp_path: Path) -> None:
    root = _copies(tmp_path, ["a", "b"])
    opts = TaskDefaults(seeds=(0, 1), scenarios=("peak", "off"))
    tasks = expand_inputs([root], opts)
    assert len(tasks) == 2 * 2 * 2
    assert len({t.key for t in tasks}) == len(tasks)
    assert [t.key for t in expand_inputs([root], opts)] == [t.key for t in tasks]
    assert {t.family for t in tasks} == {"kiwifruit"}
    # the same instance named by its TOML is the same task; editing its content changes keys
    same = expand_inputs([root / "a" / "instance.toml"], opts)
    assert {t.key for t in same} <= {t.key for t in tasks}
    csv_path = root / "a" / "villages.csv"
    csv_path.write_text(csv_path.read_text() + "\n")
    assert not {t.key for t in expand_inputs([root / "a"], opts)} & {t.key for t in tasks}
    # limits are part of the key
    other = expand_inputs([root / "b"], TaskDefaults(seeds=(0, 1), scenarios=("peak", "off"),
                                                     time_limit_s=2.0))
    assert not {t.key for t in other} & {t.key for t in tasks}


def test_csv_and_toml_manifests(tmp_path: Path) -> None:
    root = _copies(tmp_path, ["a", "b"])
    (tmp_path / "m.csv").write_text(
        "instance,scenario,seed,time_limit,solution_limit,mode\n"
        "instances/a,peak;off,0;1,2,,baseline\n"
        "instances/b,,,,5,\n")
    tasks = expand_inputs([tmp_path / "m.csv"], TaskDefaults(time_limit_s=7.0))
    assert len(tasks) == 4 + 1
    a = [t for t in tasks if t.name == "a"]
    assert {(t.scenario, t.seed) for t in a} == {("peak", 0), ("peak", 1), ("off", 0),
                                                 ("off", 1)}
    assert all(t.time_limit_s == 2.0 and t.mode == "baseline" for t in a)
    (b,) = [t for t in tasks if t.name == "b"]
    assert (b.time_limit_s, b.solution_limit, b.mode, b.scenario) == (7.0, 5, "plan", None)

    (tmp_path / "m.toml").write_text(
        '[defaults]\ntime_limit = 3\nmode = "baseline"\n\n'
        '[[task]]\ninstance = "instances"\nscenario = ["peak", "rain"]\nseed = [0, 1]\n'
        'family = "tinyfam"\n')
    tasks = expand_inputs([tmp_path / "m.toml"])
    assert len(tasks) == 2 * 2 * 2
    assert {t.family for t in tasks} == {"tinyfam"}
    assert all(t.time_limit_s == 3.0 and t.mode == "baseline" for t in tasks)
    assert root.exists()


@pytest.mark.parametrize(("text", "match"), [
    ("instance,bogus\ninstances/a,1\n", "bogus: unknown manifest key"),
    ("instance,seed\ninstances/a,x\n", "line 2: bad value"),
    ("instance,mode\ninstances/a,fast\n", "mode must be one of"),
    ("instance\nnowhere\n", r"m.csv: line 2: instance: not found \(got .*nowhere"),
])
def test_bad_manifest_is_one_line_input_error(tmp_path: Path, text: str, match: str) -> None:
    _copies(tmp_path, ["a"])
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(InputError, match=match) as info:
        expand_inputs([tmp_path / "m.csv"])
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------- results file


def test_results_log_drops_partial_line_and_appends_whole_lines(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_bytes(b'{"key":"k1","status":"ok"}\n{"key":"k2","status":"fail')
    with ResultsLog(out) as log:
        assert set(log.records) == {"k1"}
        assert log.repaired_bytes > 0
        log.append({"key": "k2", "status": "ok", "objective": float("nan")})
        with pytest.raises(InputError, match="another batch is writing"), ResultsLog(out):
            pass
    recs = _lines(out)
    assert [r["key"] for r in recs] == ["k1", "k2"]
    assert recs[1]["objective"] is None  # NaN is not JSON
    assert [r["key"] for r in read_results(out)] == ["k1", "k2"]


# ----------------------------------------------------------------------------- isolation


def _fake_task(tmp_path: Path, timeout_s: float = 30.0) -> Task:
    return Task(kind="classic", path=str(tmp_path / "x.vrp"), digest="0", family="f",
                timeout_s=timeout_s)


def test_worker_killed_by_signal_is_crashed(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]
    rec = run_isolated(_fake_task(tmp_path), command=cmd)
    assert rec["status"] == "crashed"
    assert "SIGKILL" in rec["error"]


def test_worker_exit_without_result_is_crashed_with_stderr(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import sys; sys.stderr.write('boom happened\\n'); "
           "sys.exit(3)"]
    rec = run_isolated(_fake_task(tmp_path), command=cmd)
    assert rec["status"] == "crashed"
    assert "code 3" in rec["error"] and "boom happened" in rec["error"]


def test_worker_over_budget_is_killed_as_timeout(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import time; time.sleep(60)"]
    t0 = time.perf_counter()
    rec = run_isolated(_fake_task(tmp_path, timeout_s=1.0), command=cmd)
    assert rec["status"] == "timeout"
    assert time.perf_counter() - t0 < 20


# ----------------------------------------------------------------------------- the command


def test_broken_instance_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    root = _copies(tmp_path, ["a", "b"])
    _broken(root)
    out = tmp_path / "r.jsonl"
    summary = tmp_path / "summary.csv"
    res = _cli(str(root), "--out", str(out), "--jobs", "2", "--csv", str(summary), *QUICK,
               cwd=tmp_path)
    assert res.returncode == 4, res.stderr  # some tasks failed
    recs = {Path(r["path"]).name: r for r in _lines(out)}
    assert set(recs) == {"a", "b", "broken"}
    assert recs["a"]["status"] == recs["b"]["status"] == "ok"
    assert recs["a"]["cost_per_order_yuan"] > 0
    assert recs["broken"]["status"] == "failed"
    assert "capacity_kg" in recs["broken"]["error"] and "\n" not in recs["broken"]["error"]
    assert "kiwifruit" in summary.read_text()
    # a rerun skips every recorded task; the good ones alone exit 0
    res = _cli(str(root / "a"), str(root / "b"), "--out", str(out), *QUICK, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert len(_lines(out)) == 3
    # bad input (no such path) is exit code 2 with a one-line error
    res = _cli(str(tmp_path / "nowhere"), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "not found" in res.stderr


def test_sigkill_midway_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    names = ["a", "b", "c", "d"]
    root = _copies(tmp_path, names)
    out = tmp_path / "r.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "optimizer", "batch", str(root), "--out", str(out),
            "--jobs", "2", *QUICK]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 1:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    first = _lines(out)
    assert 1 <= len(first) < len(names)
    with out.open("ab") as fh:  # as if a writer had died in the middle of a line
        fh.write(b'{"key":"' + first[0]["key"].encode() + b'","status":"o')
    res = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=240)
    assert res.returncode == 0, res.stderr
    recs = _lines(out)
    keys = [r["key"] for r in recs]
    assert len(keys) == len(set(keys)) == len(names)
    assert {r["key"] for r in first} <= set(keys)
    assert all(r["status"] == "ok" for r in recs)
    assert {Path(r["path"]).name for r in recs} == set(names)


def test_small_batch_on_a_dask_local_cluster(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    root = _copies(tmp_path, ["a", "b"])
    tasks = expand_inputs([root], TaskDefaults(time_limit_s=1.0, solution_limit=10,
                                               mode="baseline"))
    out = tmp_path / "r.jsonl"
    seen: list[str] = []
    report = run_batch(tasks, out, jobs=2, scheduler="local",
                       on_result=lambda t, r: seen.append(t.key))
    assert report.all_ok and report.ran == 2 and "LocalCluster" in report.scheduler
    assert sorted(seen) == sorted(t.key for t in tasks)
    assert {r["key"] for r in _lines(out)} == {t.key for t in tasks}
    (row,) = summarise(report.records)
    assert (row.count, row.failures) == (2, 0) and row.mean_objective is not None
    again = run_batch(tasks, out, jobs=2, scheduler="local")
    assert (again.ran, again.skipped) == (0, 2)


# ----------------------------------------------------------------------------- scheduling


def test_largest_instances_start_first(tmp_path: Path) -> None:
    root = _copies(tmp_path, ["a-small", "b-big", "c-mid"])
    for name, extra in (("b-big", 4000), ("c-mid", 1000)):
        with (root / name / "instance.toml").open("a", encoding="utf-8") as fh:
            fh.write("\n#" + "x" * extra + "\n")
    tasks = expand_inputs([root], TaskDefaults())
    assert [t.name for t in tasks] == ["a-small", "b-big", "c-mid"]
    assert [t.name for t in schedule_order(tasks)] == ["b-big", "c-mid", "a-small"]


def test_time_defaults_agree_with_the_planner() -> None:
    """Every entry point leaves the routing and location times to the size rule."""
    import inspect

    from optimizer.cli import batch as cli_batch
    from optimizer.cli import solve as cli_solve
    from optimizer.planning.planner import plan

    task = Task(kind="instance", path="x", digest="d", family="f")
    assert task.location_time_s is None and task.time_limit_s is None
    assert TaskDefaults().location_time_s is None and TaskDefaults().time_limit_s is None
    assert inspect.signature(plan).parameters["location_time_s"].default is None
    assert Limits().time_s is None
    for fn in (cli_solve.solve, cli_batch.batch):
        params = inspect.signature(fn).parameters
        assert params["location_time"].default is None, fn.__name__
        assert params["time_limit"].default is None, fn.__name__
