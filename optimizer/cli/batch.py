"""``coldchain batch INPUT...``: many instances x scenarios x seeds, locally or on Dask."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from optimizer.cli._common import EXIT_SOME_FAILED, options


class Mode(StrEnum):
    plan = "plan"
    baseline = "baseline"


_HELP = """Run many planning/routing tasks, each in its own process; one JSON line per task
is appended atomically to --out, and a rerun with the same --out skips finished tasks.

INPUT: an instance directory (or its instance.toml); a directory of instance directories
(all of them, and its Solomon .txt / VRPLIB .vrp files); a .txt/.vrp file (a routing task;
gap to a .sol or bks.csv when found); or a manifest (.csv or .toml).

Manifest CSV: a header, then one row per task; columns instance (required), scenario, seed,
time_limit, solution_limit, mode, timeout, iterations, location_time, family. Empty cells
take the command-line values; scenario and seed cells may list values separated by ';'
(one task per combination), e.g. 'instances/xiuwen-kiwifruit,peak;rain,0;1,5'.

Manifest TOML: an optional \\[defaults] table and \\[\\[task]] tables with the same keys;
any key but instance and family may be a list (the task expands to the cross product),
e.g. \\[\\[task]] instance = "instances", scenario = \\["peak", "rain"], seed = \\[0, 1].
Paths are relative to the manifest; a row beats \\[defaults], which beats the options.

Each line: key (hash of path, content digest, scenario, seed, mode and limits), status
(ok, failed, infeasible, timeout, crashed), error (one line), runtime_s, peak_rss_mb,
objective (yuan/day; classic files: distance), cost_per_order_yuan, spoilage_mass_pct,
village_coverage_pct, cold_chain_pct, bks and gap_pct (classic files). Exit code 0 when
every task is ok, 4 when some failed, 2 for bad input. See benchmarks/README.md."""
# one line per paragraph: the help renderer keeps the source's line breaks
_HELP = "\n\n".join(" ".join(par.split()) for par in _HELP.split("\n\n"))


def _jobs_default() -> int:
    return max(1, os.cpu_count() or 1)


def _fmt(x: Any, nd: int = 2) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def batch(
    inputs: Annotated[list[Path], typer.Argument(
        help="Instance directories, directories of instances, .txt/.vrp files or manifests.",
        show_default=False)],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Results file (JSON lines; appended; a rerun resumes).")
    ] = Path("results.jsonl"),
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Tasks run at once (local processes or Dask workers).",
        show_default="number of CPUs")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address (tcp://host:8786), or 'local' for a "
        "LocalCluster of --jobs single-threaded worker processes (needs the dist extra). "
        "Default: local processes without Dask.", show_default=False)] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.01, show_default=False, help="Routing seconds per scenario and "
        "plan (per file for classic files). Default: the size rule for instances, "
        "max(min(10, max(1, 0.065 x the day's stops)), 0.2 x its depots); 10 s per classic "
        "file.")] = None,
    seed: Annotated[list[int] | None, typer.Option(
        "--seed", help="Random seed; repeat for several (one task each).",
        show_default="0")] = None,
    solution_limit: Annotated[int | None, typer.Option(
        "--solution-limit", min=1, help="Stop each routing search after this many improving "
        "solutions (deterministic runs).")] = None,
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", "-s", help="Scenario id; repeat for several (one task each). Default: "
        "all scenarios planned together (mode plan) or peak (mode baseline).",
        show_default=False)] = None,
    mode: Annotated[Mode, typer.Option(
        "--mode", help="plan: sites, modules, pickup points and routes vs today's baseline "
        "(like coldchain solve); baseline: route today's sites only (quick).")] = Mode.plan,
    iterations: Annotated[int, typer.Option(
        "--iterations", min=1, max=10, help="Location-routing rounds (mode plan).")] = 2,
    location_time: Annotated[float | None, typer.Option(
        "--location-time", min=0.1, show_default=False, help="Seconds per location model "
        "solve (mode plan). Default: the size rule, min(20, max(2, villages x candidate "
        "sites / 1000)).")] = None,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", min=0.1, help="Wall-clock budget per task in seconds; the task's process "
        "is killed after it (status timeout). Default: estimated from the limits.",
        show_default=False)] = None,
    csv_path: Annotated[Path | None, typer.Option(
        "--csv", help="Write the per-family summary table as CSV here.", show_default=False)
    ] = None,
    tasks_csv: Annotated[Path | None, typer.Option(
        "--tasks-csv", help="Write one CSV row per task (the batch's latest records) here.",
        show_default=False)] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Rerun tasks whose last record is not ok (default: skip every "
        "recorded task).")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List the tasks (key, family, label, status so far) and exit.")
    ] = False,
) -> None:
    from optimizer._io import write_csv
    from optimizer.batch import (
        TASK_COLUMNS,
        TaskDefaults,
        expand_inputs,
        pending_tasks,
        read_results,
        run_batch,
        summarise,
        write_summary_csv,
    )

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, highlight=False)
    defaults = TaskDefaults(
        scenarios=tuple(scenario) if scenario else (None,), seeds=tuple(seed or [0]),
        time_limit_s=time_limit, solution_limit=solution_limit, mode=mode.value,
        iterations=iterations, location_time_s=location_time, timeout_s=timeout)
    tasks = expand_inputs(inputs, defaults)
    if dry_run:
        done = {r["key"]: r for r in read_results(out) if "key" in r}
        todo = {t.key for t in pending_tasks(tasks, done, retry_failed=retry_failed)}
        t = Table("key", "family", "task", "mode", "budget s", "status", title=f"{len(tasks)} "
                  f"tasks, {len(todo)} to run")
        for task in tasks:
            status = "pending" if task.key in todo else done[task.key].get("status", "?")
            t.add_row(task.key, task.family, task.label, task.mode,
                      f"{task.budget_s():.0f}", status)
        console.print(t)
        return
    n_jobs = jobs or _jobs_default()
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("ok {task.fields[ok]}  not ok {task.fields[bad]}  {task.fields[last]}"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=err, transient=False, disable=options.quiet,
    )
    state: dict[str, Any] = {"id": None, "ok": 0, "bad": 0}

    def on_start(pending: int, skipped: int) -> None:
        if skipped and not options.quiet:
            err.print(f"{skipped} of {len(tasks)} tasks already in {out}: skipped")
        state["id"] = progress.add_task("batch", total=pending, ok=0, bad=0, last="")

    def on_result(task: Any, rec: dict[str, Any]) -> None:
        key = "ok" if rec.get("status") == "ok" else "bad"
        state[key] += 1
        last = f"{task.label}: {rec.get('status')}"
        if rec.get("status") != "ok":
            progress.console.print(f"[red]{task.label}[/red]: {rec.get('status')}: "
                                   f"{rec.get('error')}", markup=True, highlight=False)
        progress.update(state["id"], advance=1, ok=state["ok"], bad=state["bad"], last=last)

    with progress:
        report = run_batch(tasks, out, jobs=n_jobs, scheduler=scheduler,
                           retry_failed=retry_failed, on_start=on_start, on_result=on_result)
    summary = summarise(report.records)
    table = Table("family", "scenario", "tasks", "failures", "mean objective", "mean gap %",
                  "mean yuan/order", "mean time s",
                  title=f"Batch summary ({report.scheduler}, {report.wall_s:.1f} s wall)")
    for s in summary:
        table.add_row(s.family, s.scenario, str(s.count),
                      str(s.failures) if not s.failures else f"[red]{s.failures}[/red]",
                      _fmt(s.mean_objective), _fmt(s.mean_gap_pct),
                      _fmt(s.mean_cost_per_order_yuan), _fmt(s.mean_runtime_s, 1))
    console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items() if v)
    console.print(f"{len(report.records)} tasks ({report.ran} run now, {report.skipped} from "
                  f"earlier runs): {counts or 'none'}; results in {out}")
    if csv_path is not None:
        write_summary_csv(csv_path, summary)
        console.print(f"summary written to {csv_path}")
    if tasks_csv is not None:
        write_csv(tasks_csv, TASK_COLUMNS, report.records)
        console.print(f"task table written to {tasks_csv}")
    if not report.all_ok:  # some tasks failed: their records say why
        raise typer.Exit(code=EXIT_SOME_FAILED)


def register(app: typer.Typer) -> None:
    """Add the ``batch`` command to ``app``."""
    app.command("batch", help=_HELP)(batch)


__all__ = ["batch", "register"]
