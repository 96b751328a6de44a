"""The batch: :func:`run_batch` runs every pending task (:func:`pending_tasks`), largest
input first (:func:`size_hint`, :func:`schedule_order`), each through
:func:`~optimizer.batch.isolate.run_isolated`, either locally (at most ``jobs`` at a time)
or on a Dask distributed cluster, and appends each record to the
:class:`~optimizer.batch.results.ResultsLog`; :class:`BatchReport` says what it did.

The only module of the package that imports Dask (and only when a scheduler is given).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.batch.isolate import kill_live_workers, run_isolated
from optimizer.batch.results import ResultsLog
from optimizer.batch.run import _one_line, base_record
from optimizer.batch.tasks import STATUSES, Task
from optimizer.errors import InputError

OnEvent = Callable[[Task, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What a batch did: its tasks' latest records (skipped ones included) and counts."""

    records: tuple[dict[str, Any], ...]
    ran: int
    skipped: int
    wall_s: float
    scheduler: str

    @property
    def counts(self) -> dict[str, int]:
        """Number of tasks per status (every status listed)."""
        c = {s: 0 for s in STATUSES}
        for r in self.records:
            c[r.get("status", "crashed")] = c.get(r.get("status", "crashed"), 0) + 1
        return c

    @property
    def all_ok(self) -> bool:
        """True when every task of the batch has status ``ok``."""
        return all(r.get("status") == "ok" for r in self.records)


def pending_tasks(tasks: Sequence[Task], records: Mapping[str, Mapping[str, Any]], *,
                  retry_failed: bool = False) -> list[Task]:
    """Tasks without a record (or, with ``retry_failed``, whose last record is not ok)."""
    out = []
    for t in tasks:
        r = records.get(t.key)
        if r is None or (retry_failed and r.get("status") != "ok"):
            out.append(t)
    return out


def size_hint(task: Task) -> int:
    """Bytes of the task's input (the instance directory's files, or the classic file);
    0 when unreadable. A proxy for its run time."""
    p = Path(task.path)
    try:
        if p.is_dir():
            return sum(e.stat().st_size for e in os.scandir(p) if e.is_file())
        return p.stat().st_size
    except OSError:
        return 0


def schedule_order(tasks: Sequence[Task]) -> list[Task]:
    """Largest inputs first (longest-processing-time-first scheduling: the last tasks to
    start are short, so workers finish together); ties keep the given order."""
    sizes = [size_hint(t) for t in tasks]
    order = sorted(range(len(tasks)), key=lambda i: -sizes[i])
    return [tasks[i] for i in order]


def run_batch(
    tasks: Sequence[Task],
    out: str | os.PathLike[str],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    retry_failed: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_result: OnEvent | None = None,
    command: Sequence[str] | None = None,
) -> BatchReport:
    """Run every task not yet recorded in ``out``; append one line per task as it finishes.

    Pending tasks start largest input first (:func:`schedule_order`). ``jobs`` tasks run at
    once (local) or ``jobs`` single-threaded workers (``scheduler=
    "local"``: a Dask ``LocalCluster``); ``scheduler="tcp://host:8786"`` submits to an
    existing Dask cluster (its workers must see the same paths and have the package
    installed). ``on_start(pending, skipped)`` is called once, ``on_result(task, record)``
    after each line is written. Returns the report of every task (records of skipped tasks
    come from the file).
    """
    if jobs < 1:
        raise InputError.at(None, "--jobs", "must be >= 1", got=jobs)
    t0 = time.perf_counter()
    with ResultsLog(out) as results, contextlib.ExitStack() as stack:
        todo = schedule_order(pending_tasks(tasks, results.records,
                                            retry_failed=retry_failed))
        skipped = len(tasks) - len(todo)
        client = None
        if scheduler:
            client, name = _dask_client(scheduler, jobs, stack)
        else:
            name = f"local processes x {jobs}"
        if on_start is not None:
            on_start(len(todo), skipped)

        def done(task: Task, rec: dict[str, Any]) -> None:
            rec["key"] = task.key
            results.append(rec)
            if on_result is not None:
                on_result(task, rec)

        if client is not None:
            _run_dask(todo, done, client=client, command=command)
        else:
            _run_local(todo, done, jobs=jobs, command=command)
        records = tuple(results.records[t.key] for t in tasks if t.key in results.records)
    return BatchReport(records=records, ran=len(todo), skipped=skipped,
                       wall_s=time.perf_counter() - t0, scheduler=name)


def _run_local(todo: Sequence[Task], done: Callable[[Task, dict[str, Any]], None], *,
               jobs: int, command: Sequence[str] | None) -> None:
    if not todo:
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="coldchain-batch")
    futures: dict[Any, Task] = {}
    try:
        futures = {pool.submit(run_isolated, t, command=command): t for t in todo}
        for fut in as_completed(futures):
            done(futures[fut], fut.result())
    except BaseException:
        for f in futures:
            f.cancel()
        kill_live_workers()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask_client(scheduler: str, jobs: int, stack: contextlib.ExitStack) -> tuple[Any, str]:
    """A Dask client (closed by ``stack``): a new LocalCluster or an existing scheduler."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError.at(None, "--scheduler", "Dask distributed is not installed",
                            fix="pip install 'coldchain-optimizer[dist]'") from exc
    if scheduler == "local":
        cluster = stack.enter_context(LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.WARNING))
        return stack.enter_context(Client(cluster)), f"dask LocalCluster x {jobs}"
    try:
        client = stack.enter_context(Client(scheduler, timeout="30s"))
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError.at(None, "--scheduler", f"cannot connect to {scheduler}: "
                            f"{_one_line(str(exc), 200)}",
                            fix="start a scheduler (dask scheduler) or use 'local'") from exc
    return client, f"dask {scheduler}"


def _run_dask(todo: Sequence[Task], done: Callable[[Task, dict[str, Any]], None], *,
              client: Any, command: Sequence[str] | None) -> None:
    from distributed import as_completed as dask_as_completed

    if not todo:
        return
    futs = {}
    for t in todo:
        f = client.submit(run_isolated, t, command=command, pure=False,
                          key=f"coldchain-{t.name}-{t.key}-{os.urandom(4).hex()}")
        futs[f] = t
    try:
        for f in dask_as_completed(list(futs)):
            task = futs[f]
            try:
                rec = f.result()
            except Exception as exc:  # KilledWorker, lost connection...
                rec = base_record(task)
                rec.update(status="crashed", error=_one_line(
                    f"dask: {type(exc).__name__}: {exc}"))
            done(task, rec)
    except BaseException:
        client.cancel(list(futs))
        raise
