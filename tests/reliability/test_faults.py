"""Faults: kill -9 while solving or writing, write errors, outputs never overwrite inputs.

The kill test runs ``coldchain solve --out DIR`` in subprocesses over a DIR that already
holds a previous run's outputs (plan.json re-indented, so old and new bytes differ) and
kills each run with SIGKILL: once while it plans, and several times just after its first
temp file appears (while it writes), at seeded random delays. Every output file must then
be byte-identical to the previous run's or to a complete new run's, never partial; the
only leftovers allowed are hidden temp files of the killed process, which the next run
removes.
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer import report
from optimizer.errors import InputError
from optimizer.report import OUTPUT_NAMES, write_outputs
from tests.reliability._harness import ROOT, assert_clean_failure, copy_tiny, run_cli

SOLVE = ["solve", "--time-limit", "30", "--solution-limit", "30", "--seed", "0",
         "--scenario", "peak", "--iterations", "1"]
KILLS_WHILE_WRITING = 3
RUN_TIMEOUT_S = 120
#: outputs that are byte-identical between runs (plan.gpkg stores timestamps, report.md the
#: run time): the others are checked for completeness
DETERMINISTIC = ("plan.json", "kpis.csv", "cost_per_order.png", "spoilage.png", "map.html")


def _mask(data: bytes) -> bytes:
    return re.sub(rb"Wall-clock runtime: [0-9.,]+ s", b"<runtime>", data)


def _solve(inst: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "optimizer", *SOLVE, str(inst), "--out",
                             str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes],
                                                             dict[str, bytes]]:
    """(instance, previous outputs, outputs of one complete run)."""
    base = tmp_path_factory.mktemp("faults")
    inst = copy_tiny(base / "tiny")
    full = base / "full"
    proc = _solve(inst, full)
    _, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 0, err.decode()
    new = _snapshot(full)
    assert set(new) == set(OUTPUT_NAMES)
    old = dict(new)
    old["plan.json"] = (json.dumps(json.loads(new["plan.json"]), indent=1) + "\n").encode()
    old["kpis.csv"] = new["kpis.csv"].replace(b"\n", b"\r\n")
    assert old["plan.json"] != new["plan.json"]
    return inst, old, new


def _complete(path: Path, data: bytes, new: dict[str, bytes]) -> bool:
    if path.name == "report.md":
        return _mask(data) == _mask(new["report.md"])
    import sqlite3

    import pyogrio

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    layers = {str(n) for n, _ in pyogrio.list_layers(path)}
    return ok and layers == set(report.GPKG_LAYERS)


def _check_after_kill(d: Path, old: dict[str, bytes], new: dict[str, bytes]) -> list[str]:
    """Every output is the old or a complete new file; return the leftover temp names."""
    temps = []
    for p in d.iterdir():
        if p.name in OUTPUT_NAMES:
            data = p.read_bytes()
            if p.name in DETERMINISTIC:
                assert data in (old[p.name], new[p.name]), f"{p.name}: partial content"
            else:
                assert data == old[p.name] or _complete(p, data, new), f"{p.name}: partial"
        else:
            assert p.name.startswith(".") and ".tmp" in p.name, f"unexpected file {p.name}"
            temps.append(p.name)
    for name in OUTPUT_NAMES:
        assert (d / name).exists(), f"{name} lost"
    return temps


def _prepare(d: Path, old: dict[str, bytes]) -> Path:
    d.mkdir()
    for name, data in old.items():
        (d / name).write_bytes(data)
    return d


def _has_temp(d: Path) -> bool:
    return any(n.startswith(".") and ".tmp" in n for n in os.listdir(d))


def test_kill_9_never_leaves_partial_outputs(runs, tmp_path: Path) -> None:
    inst, old, new = runs
    rng = random.Random(7)
    # one run killed while planning, KILLS_WHILE_WRITING killed while writing (in parallel)
    planning = _prepare(tmp_path / "planning", old)
    writing = [_prepare(tmp_path / f"writing{k}", old) for k in range(KILLS_WHILE_WRITING)]
    procs = {d: _solve(inst, d) for d in [planning, *writing]}
    delays = {d: rng.uniform(0.0, 0.3) for d in writing}
    kill_at: dict[Path, float] = {planning: time.monotonic() + 1.0}
    hit = {"planning": 0, "writing": 0, "finished": 0, "temps_left": 0}
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while procs and time.monotonic() < deadline:
        now = time.monotonic()
        for d, proc in list(procs.items()):
            if d not in kill_at and _has_temp(d):
                kill_at[d] = now + delays[d]
            if proc.poll() is not None or (d in kill_at and now >= kill_at[d]):
                alive = proc.poll() is None
                proc.send_signal(signal.SIGKILL)
                rc = proc.wait(timeout=RUN_TIMEOUT_S)
                hit["finished"] += rc == 0
                if alive:
                    hit["planning" if d == planning else "writing"] += 1
                hit["temps_left"] += bool(_check_after_kill(d, old, new))
                del procs[d]
        time.sleep(0.002)
    assert not procs, "runs did not finish in time"
    assert _snapshot(planning) == old, "a run killed while planning changed the outputs"
    assert hit["planning"] == 1 and hit["writing"] >= 1, hit
    # the next run completes the outputs and removes the killed runs' temp files
    d = writing[0]
    proc = _solve(inst, d)
    _, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 0, err.decode()
    assert sorted(os.listdir(d)) == sorted(OUTPUT_NAMES)
    after = _snapshot(d)
    assert {n: after[n] for n in DETERMINISTIC} == {n: new[n] for n in DETERMINISTIC}
    assert all(_complete(d / n, after[n], new) for n in OUTPUT_NAMES if n not in DETERMINISTIC)


# ---- write errors --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planned(runs):
    """A planning result (in-process) for the write tests."""
    from optimizer.facade import load_instance
    from optimizer.limits import Limits
    from optimizer.planning.planner import plan

    inst, _, _ = runs
    instance = load_instance(inst)
    p = plan(instance, scenarios=["peak"], limits=Limits(time_s=5, solution_limit=10), seed=0,
             iterations=1)
    return instance, p


@pytest.mark.parametrize(("where", "fail_at"), [("replace", 1), ("replace", 3),
                                                ("fsync", 2), ("fsync", 4)])
def test_disk_full_is_one_line_and_loses_nothing(planned, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, where: str,
                                                 fail_at: int) -> None:
    instance, p = planned
    d = tmp_path / "out"
    d.mkdir()
    for name in OUTPUT_NAMES:
        (d / name).write_bytes(f"previous {name}\n".encode())
    before = _snapshot(d)
    real = getattr(os, where)
    calls = {"n": 0}

    def failing(*args: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kw)

    monkeypatch.setattr(os, where, failing)
    with pytest.raises(InputError, match="cannot write the file .*No space left on device") as e:
        write_outputs(d, instance, p.result, networks=p.networks, matrices=p.matrices)
    monkeypatch.undo()
    assert "\n" not in str(e.value)
    after = _snapshot(d)
    assert set(after) == set(OUTPUT_NAMES), f"temp or lost files: {sorted(after)}"
    changed = [n for n in OUTPUT_NAMES if after[n] != before[n]]
    # files written before the failure are complete new files; the rest are untouched
    assert all(not after[n].startswith(b"previous") for n in changed)
    assert len(changed) < len(OUTPUT_NAMES)


def test_read_only_or_file_out_dir_is_one_line_exit_2(runs, tmp_path: Path) -> None:
    inst, _, _ = runs
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory\n")
    rc, _, err = run_cli(["solve", str(inst), "--out", str(blocker)])
    assert "exists and is not a directory" in assert_clean_failure(rc, err, codes=(2,))
    assert blocker.read_text() == "not a directory\n"
    # a folder inside a file cannot be created (works as root, unlike a read-only folder)
    rc, _, err = run_cli(["solve", str(inst), "--time-limit", "1", "--solution-limit", "5",
                          "--scenario", "peak", "--iterations", "1", "--out",
                          str(blocker / "sub")])
    assert "cannot create the output directory" in assert_clean_failure(rc, err, codes=(2,))
    if os.geteuid() != 0:  # a read-only folder stops only non-root users
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            assert not os.access(ro, os.W_OK)
            rc, _, err = run_cli(["solve", str(inst), "--time-limit", "1", "--solution-limit",
                                  "5", "--scenario", "peak", "--iterations", "1", "--out",
                                  str(ro)])
            assert "cannot write" in assert_clean_failure(rc, err, codes=(2,))
            assert os.listdir(ro) == []
        finally:
            ro.chmod(0o700)


# ---- outputs never overwrite inputs ------------------------------------------------------------
@pytest.mark.parametrize("victim", ["villages", "network", "symlink"])
def test_output_never_overwrites_an_input(planned, tmp_path: Path, victim: str) -> None:
    """An instance whose input file is named like an output, or an output that is a symlink
    to an input, is refused before anything is written."""
    instance, p = planned
    d = copy_tiny(tmp_path / "inst")
    toml = d / "instance.toml"
    if victim == "villages":
        (d / "villages.csv").rename(d / "kpis.csv")
        toml.write_text(toml.read_text().replace('"villages.csv"', '"kpis.csv"'))
    elif victim == "network":
        (d / "network.geojson").rename(d / "map.html")
        toml.write_text(toml.read_text().replace('"network.geojson"', '"map.html"'))
    from optimizer.facade import load_instance

    inst2 = load_instance(d)
    out = d
    if victim == "symlink":
        out = tmp_path / "out"
        out.mkdir()
        (out / "report.md").symlink_to(d / "villages.csv")
    before = _snapshot(d)
    with pytest.raises(InputError, match="would overwrite an input file of instance tiny"):
        write_outputs(out, inst2, p.result, networks=p.networks, matrices=p.matrices)
    assert _snapshot(d) == before


def test_out_in_instance_dir_is_refused(planned, tmp_path: Path) -> None:
    """--out at the instance folder itself is refused; every input file stays
    byte-identical."""
    instance, p = planned
    d = copy_tiny(tmp_path / "inst")
    from optimizer.facade import load_instance

    inst2 = load_instance(d)
    before = _snapshot(d)
    with pytest.raises(InputError, match="is the instance's own directory"):
        write_outputs(d, inst2, p.result, networks=p.networks, matrices=p.matrices)
    assert _snapshot(d) == before


def test_temp_names_carry_the_pid() -> None:
    from optimizer import _io

    name = _io.temp_path(Path("/nonexistent/plan.json")).name
    assert name.startswith(f".plan.json.{os.getpid()}.") and name.endswith(".tmp")
