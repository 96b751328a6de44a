"""Summaries of a batch's records: :class:`FamilySummary` per family and scenario
(:func:`summarise`), the CSV columns (:data:`SUMMARY_COLUMNS`, :data:`TASK_COLUMNS`) and
:func:`write_summary_csv` (through :func:`optimizer._io.write_csv`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from optimizer._io import write_csv
from optimizer.batch.tasks import FIGURES


@dataclass(frozen=True, slots=True)
class FamilySummary:
    """Per family and scenario: task count, failures, mean objective, gap (%) and time (s)."""

    family: str
    scenario: str
    count: int
    failures: int
    mean_objective: float | None
    mean_gap_pct: float | None
    mean_runtime_s: float | None
    mean_cost_per_order_yuan: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)


def _mean(xs: Iterable[Any]) -> float | None:
    vals = [float(x) for x in xs if isinstance(x, int | float) and math.isfinite(x)]
    return sum(vals) / len(vals) if vals else None


def summarise(records: Iterable[Mapping[str, Any]]) -> list[FamilySummary]:
    """Group records by (family, scenario); means over ok tasks (time over all tasks)."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in records:
        sc = r.get("scenario") or ("-" if r.get("kind") != "instance" else
                                   "peak" if r.get("mode") == "baseline" else "all")
        groups.setdefault((str(r.get("family")), str(sc)), []).append(r)
    out = []
    for (fam, sc), rs in sorted(groups.items()):
        ok = [r for r in rs if r.get("status") == "ok"]
        st: dict[str, int] = {}
        for r in rs:
            st[str(r.get("status"))] = st.get(str(r.get("status")), 0) + 1
        out.append(FamilySummary(
            family=fam, scenario=sc, count=len(rs), failures=len(rs) - len(ok),
            mean_objective=_mean(r.get("objective") for r in ok),
            mean_gap_pct=_mean(r.get("gap_pct") for r in ok),
            mean_runtime_s=_mean(r.get("runtime_s") for r in rs),
            mean_cost_per_order_yuan=_mean(r.get("cost_per_order_yuan") for r in ok),
            statuses=st,
        ))
    return out


SUMMARY_COLUMNS = ("family", "scenario", "count", "failures", "mean_objective",
                   "mean_gap_pct", "mean_cost_per_order_yuan", "mean_runtime_s")
TASK_COLUMNS = ("key", "task", "family", "scenario", "seed", "mode", "status", "error",
                "runtime_s", "peak_rss_mb", *FIGURES, "path")


def write_summary_csv(path: str | os.PathLike[str], summary: Sequence[FamilySummary]) -> Path:
    """Write the per-family summary (:data:`SUMMARY_COLUMNS`) atomically."""
    return write_csv(path, SUMMARY_COLUMNS, (asdict(s) for s in summary))
