"""Batch runs at province scale: many instances x scenarios x seeds x limits.

A batch is a list of :class:`Task` objects (built by :func:`expand_inputs` from instance
directories, directories of instances, classic Solomon/VRPLIB files and manifests). Every
task runs in its **own operating-system process** (``python -m optimizer.batch.worker``),
so a task that exceeds its wall-clock budget is killed (status ``timeout``), and a worker
that dies (segfault, SIGKILL, out of memory) is recorded as ``crashed`` while the batch
goes on. The processes are driven either locally (at most ``jobs`` at a time) or on a Dask
distributed cluster (``scheduler="tcp://host:8786"``, or ``"local"`` for a
``LocalCluster``); Dask is imported only then (extra ``dist``).

Results go to a JSON-lines file (:class:`ResultsLog`): one line per finished task, written
with a single ``os.write`` on a file opened ``O_APPEND`` and fsynced, so a crash never
leaves half a line; a trailing partial line from an older crash is truncated away on open.
Each line carries a stable task key (hash of the instance path, a digest of its content,
scenario, seed, mode and limits); a rerun with the same results file skips finished keys.

Units: times in seconds (``runtime_s``, ``time_limit_s``, ``timeout_s``), costs in yuan
(``objective`` is yuan/day for instances, the file's distance unit for classic files),
percentages 0-100, memory in MiB (``peak_rss_mb``, the worker process's peak RSS).

One module per job: :mod:`~optimizer.batch.tasks` (tasks, keys, budgets, input targets),
:mod:`~optimizer.batch.manifest` (manifests and :func:`expand_inputs`; the manifest format),
:mod:`~optimizer.batch.run` (one task in this process), :mod:`~optimizer.batch.isolate`
(one task in its own process), :mod:`~optimizer.batch.worker` (that process's entry point),
:mod:`~optimizer.batch.results` (the results file), :mod:`~optimizer.batch.runner` (the
batch, locally or on Dask) and :mod:`~optimizer.batch.summary` (per-family summaries).
"""

from optimizer.batch.isolate import run_isolated
from optimizer.batch.manifest import expand_inputs, read_manifest
from optimizer.batch.results import ResultsLog, read_results
from optimizer.batch.run import known_optimum, run_task
from optimizer.batch.runner import (
    BatchReport,
    pending_tasks,
    run_batch,
    schedule_order,
    size_hint,
)
from optimizer.batch.summary import (
    SUMMARY_COLUMNS,
    TASK_COLUMNS,
    FamilySummary,
    summarise,
    write_summary_csv,
)
from optimizer.batch.tasks import FIGURES, MODES, STATUSES, Task, TaskDefaults

__all__ = [
    "FIGURES",
    "MODES",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "TASK_COLUMNS",
    "BatchReport",
    "FamilySummary",
    "ResultsLog",
    "Task",
    "TaskDefaults",
    "expand_inputs",
    "known_optimum",
    "pending_tasks",
    "read_manifest",
    "read_results",
    "run_batch",
    "run_isolated",
    "run_task",
    "schedule_order",
    "size_hint",
    "summarise",
    "write_summary_csv",
]
