"""One task in its own operating-system process: :func:`run_isolated` starts a worker
(:data:`WORKER_COMMAND`, ``python -m optimizer.batch.worker``), kills it when it exceeds
the task's wall-clock budget (status ``timeout``) and records a worker that dies without a
result as ``crashed`` (signal name, tail of its stderr). The live-worker registry lets
:func:`kill_live_workers` stop every running worker when the batch is interrupted.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimizer.batch.run import _one_line, base_record
from optimizer.batch.tasks import Task

#: Command that runs one task in a fresh interpreter (task JSON on stdin, result path argv).
WORKER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "optimizer.batch.worker")

_LIVE: set[subprocess.Popen[bytes]] = set()
_LIVE_LOCK = threading.Lock()


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


def _stderr_tail(path: Path, n: int = 3) -> str:
    try:
        data = path.read_bytes()[-4000:].decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [ln for ln in data.splitlines() if ln.strip()]
    return _one_line(" | ".join(lines[-n:]), 300)


def run_isolated(task: Task, *, command: Sequence[str] | None = None) -> dict[str, Any]:
    """Run ``task`` in a child process and return its record (never raises).

    The child gets the task as JSON on stdin and writes its record to a temporary file; it
    is killed when it exceeds :meth:`Task.budget_s` (status ``timeout``); a child that dies
    without a record (signal, non-zero exit, out of memory) gives status ``crashed``.
    ``runtime_s`` is the wall clock measured here (process start included).
    """
    cmd = list(command or WORKER_COMMAND)
    budget = task.budget_s()
    rec = base_record(task)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coldchain-task-") as tmp:
        out_path = Path(tmp) / "result.json"
        err_path = Path(tmp) / "stderr.txt"
        with err_path.open("wb") as err:
            try:
                proc = subprocess.Popen(cmd + [str(out_path)], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=err)
            except OSError as exc:
                rec.update(status="crashed", error=_one_line(f"cannot start worker: {exc}"),
                           runtime_s=0.0)
                return rec
            with _LIVE_LOCK:
                _LIVE.add(proc)
            try:
                proc.communicate(json.dumps(task.to_json()).encode(), timeout=budget)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rec.update(status="timeout", error=f"exceeded its wall-clock budget of "
                           f"{budget:g} s; killed")
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                with _LIVE_LOCK:
                    _LIVE.discard(proc)
        wall = round(time.perf_counter() - t0, 3)
        if rec["status"] == "timeout":
            rec["runtime_s"] = wall
            return rec
        if proc.returncode == 0 and out_path.is_file():
            try:
                child = json.loads(out_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                rec.update(status="crashed", error=_one_line(f"unreadable worker result: {exc}"),
                           runtime_s=wall)
                return rec
            child["solve_s"] = child.get("runtime_s")
            child["runtime_s"] = wall
            return child
        if proc.returncode < 0:
            why = f"worker killed by {_signal_name(-proc.returncode)}"
        else:
            why = f"worker exited with code {proc.returncode} and no result"
        tail = _stderr_tail(err_path)
        rec.update(status="crashed", error=why + (f": {tail}" if tail else ""), runtime_s=wall)
        return rec


def kill_live_workers() -> None:
    """Kill every worker process this process started and that still runs."""
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        with contextlib.suppress(OSError):
            p.kill()
