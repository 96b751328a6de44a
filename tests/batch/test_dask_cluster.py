"""A real distributed batch: a Dask scheduler and two workers started as separate processes
(``dask scheduler``, ``dask worker``), and ``coldchain batch --scheduler tcp://...`` over
them, as on a cluster. Skips when Dask distributed (the ``dist`` extra) is not installed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT

pytest.importorskip("distributed")

#: seconds to wait for the scheduler's address file and for the workers to register
START_TIMEOUT_S = 90.0


def _dask(*args: str) -> list[str]:
    """``dask ...`` through this interpreter (the ``dask`` script may not be on PATH)."""
    return [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]]


def _env() -> dict[str, str]:
    # the workers (and the task processes they start) import this checkout's package
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # dask's clean shutdown
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """The address of a scheduler with two single-threaded workers, each its own process."""
    sched_file = tmp_path / "scheduler.json"
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen(
            _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                  "--scheduler-file", str(sched_file)),
            cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL,
            stderr=(logs / "scheduler.txt").open("wb")))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not sched_file.is_file() or not sched_file.read_text().strip():
            if procs[0].poll() is not None or time.monotonic() > deadline:
                pytest.fail("dask scheduler did not start: "
                            + (logs / "scheduler.txt").read_text()[-2000:])
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        for k in range(2):
            procs.append(subprocess.Popen(
                _dask("worker", address, "--nthreads", "1", "--nworkers", "1",
                      "--no-dashboard", "--name", f"w{k}"),
                cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL,
                stderr=(logs / f"worker{k}.txt").open("wb")))
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for p in reversed(procs):
            _stop(p)


def test_batch_runs_on_a_separately_started_dask_cluster(tmp_path: Path, cluster: str) -> None:
    root = tmp_path / "instances"
    for name in ("a", "b", "c"):
        shutil.copytree(DATA / "tiny", root / name)
    out = tmp_path / "results.jsonl"
    args = [sys.executable, "-m", "optimizer", "batch", str(root), "--scheduler", cluster,
            "--out", str(out), "--time-limit", "1", "--location-time", "2",
            "--solution-limit", "10", "--iterations", "1"]
    res = subprocess.run(args, cwd=tmp_path, env=_env(), capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert f"dask {cluster}" in res.stdout
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(Path(r["path"]).name for r in recs) == ["a", "b", "c"]
    assert all(r["status"] == "ok" and r["checked"] for r in recs), recs
    assert all(r["cost_per_order_yuan"] is not None for r in recs)
    # a rerun over the same cluster resumes: nothing left to do
    again = subprocess.run(args, cwd=tmp_path, env=_env(), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(out.read_text().splitlines()) == 3
