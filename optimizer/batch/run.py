"""Running one task in this process: :func:`run_task` (never raises: the outcome is the
record's status), :func:`base_record` (the fields every result line has), the figures of an
instance (mode ``plan`` or ``baseline``) or of a classic file, and :func:`known_optimum`
(the best-known objective of a classic file, for the gap).
"""

from __future__ import annotations

import csv
import logging
import math
import socket
import sys
import time
from pathlib import Path
from typing import Any

from optimizer.batch.tasks import CLASSIC_TIME_LIMIT_S, FIGURES, Task
from optimizer.errors import ColdChainError, InfeasibleError

log = logging.getLogger(__name__)


def _one_line(text: str, limit: int = 500) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def base_record(task: Task) -> dict[str, Any]:
    """The fields every result line has, before the outcome is known."""
    rec: dict[str, Any] = {
        "key": task.key, "task": task.label, "kind": task.kind, "family": task.family,
        "path": task.path, "scenario": task.scenario, "seed": task.seed, "mode": task.mode,
        "time_limit_s": task.time_limit_s, "solution_limit": task.solution_limit,
        "status": "crashed", "error": None, "runtime_s": None, "peak_rss_mb": None,
        "host": socket.gethostname(),
    }
    rec.update({f: None for f in FIGURES})
    return rec


def _instance_figures(task: Task) -> dict[str, Any]:
    from optimizer.facade import load_instance
    from optimizer.limits import Limits

    inst = load_instance(task.path)
    limits = Limits(time_s=task.time_limit_s, solution_limit=task.solution_limit)
    if task.mode == "baseline":
        from optimizer.facade import solve

        one = solve(inst, scenario=task.scenario or "peak", limits=limits, seed=task.seed)
        k = one.kpis
        return {
            "scenario_routed": one.scenario, "objective": _finite(k.logistics_cost_yuan),
            "cost_per_order_yuan": _finite(k.cost_per_order_yuan),
            "baseline_cost_per_order_yuan": _finite(k.cost_per_order_yuan),
            "spoilage_mass_pct": _finite(k.spoilage_mass_pct),
            "village_coverage_pct": _finite(k.village_coverage_pct),
            "cold_chain_pct": _finite(k.cold_chain_pct), "checked": one.day.checked,
            "villages": len(inst.villages), "routes": len(one.day.routes),
        }
    from optimizer.planning.planner import plan

    planning = plan(inst, scenarios=[task.scenario] if task.scenario else None, limits=limits,
                    seed=task.seed, iterations=task.iterations,
                    location_time_s=task.location_time_s)
    res = planning.result
    per: dict[str, dict[str, Any]] = {}
    for o in res.outcomes:
        k = o.kpis
        d = per.setdefault(o.scenario, {})
        prefix = "" if o.plan == "plan" else "baseline_"
        d[prefix + "objective"] = _finite(k.logistics_cost_yuan)
        d[prefix + "cost_per_order_yuan"] = _finite(k.cost_per_order_yuan)
        d[prefix + "spoilage_mass_pct"] = _finite(k.spoilage_mass_pct)
        d[prefix + "village_coverage_pct"] = _finite(k.village_coverage_pct)
        d[prefix + "cold_chain_pct"] = _finite(k.cold_chain_pct)
        d[prefix + "produce_kg"] = _finite(k.produce_kg)
    # headline: the requested scenario, else the one with the most produce (the peak)
    head = task.scenario or max(per, key=lambda s: (per[s].get("produce_kg") or 0.0, s))
    h = per[head]
    return {
        "scenario_routed": head, "objective": h.get("objective"),
        "cost_per_order_yuan": h.get("cost_per_order_yuan"),
        "baseline_cost_per_order_yuan": h.get("baseline_cost_per_order_yuan"),
        "spoilage_mass_pct": h.get("spoilage_mass_pct"),
        "village_coverage_pct": h.get("village_coverage_pct"),
        "cold_chain_pct": h.get("cold_chain_pct"),
        "checked": all(o.day.checked for o in res.outcomes),
        "villages": len(inst.villages), "open_cold_stores": len(
            res.outcome(head, "plan").facilities.cold_stores),
        "pickup_points": len(res.pickup_points), "scenarios": per,
    }


def known_optimum(path: Path) -> float | None:
    """Best-known objective of a classic file, if a ``.sol`` or ``bks.csv`` is at hand.

    Looks for ``<stem>.sol`` next to the file or in ``../solutions/`` (its ``Cost`` line),
    then for a ``bks.csv`` (columns ``instance, bks``) next to the file or one level up.
    """
    stem = path.stem
    for sol in (path.with_suffix(".sol"), path.parent.parent / "solutions" / f"{stem}.sol"):
        try:
            for line in sol.read_text(encoding="utf-8").splitlines():
                if line.strip().lower().startswith("cost"):
                    return float(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    for bks in (path.parent / "bks.csv", path.parent.parent / "bks.csv"):
        try:
            with bks.open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    if row.get("instance") == stem and row.get("bks"):
                        return float(row["bks"])
        except (OSError, ValueError, csv.Error):
            continue
    return None


def _classic_figures(task: Task) -> dict[str, Any]:
    from optimizer.formats.classic import read_classic
    from optimizer.routing import solve_routing

    path = Path(task.path)
    problem = read_classic(path)
    tl = CLASSIC_TIME_LIMIT_S if task.time_limit_s is None else task.time_limit_s
    sol = solve_routing(problem, time_limit_s=tl, seed=task.seed,
                        solution_limit=task.solution_limit)
    obj = float(sol.objective)
    bks = known_optimum(path)
    gap = 100.0 * (obj - bks) / bks if bks else None
    return {
        "objective": _finite(obj), "bks": bks, "gap_pct": _finite(gap),
        "routes": sum(1 for r in sol.routes if r.visits), "dropped": len(sol.dropped),
        "engine": sol.engine, "customers": len(problem.stops),
    }


def run_task(task: Task) -> dict[str, Any]:
    """Run ``task`` in this process and return its result record (never raises).

    Status ``ok``; ``infeasible`` (InfeasibleError); ``failed`` for any other error, with the
    one-line message (an unexpected exception is prefixed ``internal error:``).
    """
    rec = base_record(task)
    t0 = time.perf_counter()
    try:
        figures = _classic_figures(task) if task.kind == "classic" else _instance_figures(task)
    except InfeasibleError as exc:
        rec.update(status="infeasible", error=_one_line(str(exc)))
    except ColdChainError as exc:
        rec.update(status="failed", error=_one_line(str(exc)))
    except MemoryError:
        rec.update(status="failed", error="out of memory")
    except Exception as exc:  # a bug in the library: one line, the batch goes on
        log.exception("task %s failed", task.label)
        rec.update(status="failed", error=_one_line(f"internal error: {type(exc).__name__}: "
                                                    f"{exc}"))
    else:
        rec.update(figures)
        rec["status"] = "ok"
    rec["runtime_s"] = round(time.perf_counter() - t0, 3)
    rec["peak_rss_mb"] = _peak_rss_mb()
    return rec
