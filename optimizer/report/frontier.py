"""Outputs of ``coldchain frontier``: frontier.csv (one row per budget) and frontier.png.

The chart puts the budgets side by side (yuan per year, "unlimited" last): the yearly cost
per order (yuan, left axis) and, on the right axis in %, the produce lost, the produce
pre-cooled in time and the villages within reach of a pickup point. Files are written
atomically (:mod:`optimizer._io`); the same points give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from optimizer._io import atomic_path, write_csv
from optimizer.planning.frontier import FRONTIER_COLUMNS, FrontierPoint, frontier_rows

FRONTIER_CSV = "frontier.csv"
FRONTIER_PNG = "frontier.png"


def budget_label(budget: float) -> str:
    """Short label of a budget: 0, 250k, 1.5M, unlimited."""
    if math.isinf(budget):
        return "unlimited"
    if budget >= 1e6:
        return f"{budget / 1e6:g}M"
    if budget >= 1e3:
        return f"{budget / 1e3:g}k"
    return f"{budget:g}"


def _chart(tmp: Path, points: Sequence[FrontierPoint]) -> None:
    from matplotlib.figure import Figure  # Agg canvas, no pyplot global state

    labels = [budget_label(p.budget_yuan) for p in points]
    xs = list(range(len(points)))
    fig = Figure(figsize=(max(5.0, 1.2 * len(points) + 3.0), 4.0), dpi=100)
    ax = fig.add_subplot()
    cost = [p.plan.cost_per_order_yuan for p in points]
    ax.plot(xs, cost, marker="o", color="#1f77b4", label="cost per order (yuan, left)")
    for x, c in zip(xs, cost, strict=True):
        ax.annotate(f"{c:.3f}", (x, c), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=8)
    ax.set_xticks(xs, labels)
    ax.set_xlabel("budget (yuan per year)")
    ax.set_ylabel("cost per order, year (yuan)")
    ax.margins(y=0.2)
    right = ax.twinx()
    for field, colour, label in (("spoilage_pct", "#d62728", "produce lost (%)"),
                                 ("cold_chain_pct", "#2ca02c", "pre-cooled in time (%)"),
                                 ("village_coverage_pct", "#9467bd", "villages covered (%)")):
        right.plot(xs, [getattr(p.plan, field) for p in points], marker="s", linestyle="--",
                   color=colour, label=f"{label}, right")
    right.set_ylabel("%")
    right.set_ylim(0, 105)
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="center left")
    ax.set_title("What each yearly budget buys (each point a checked plan)")
    fig.tight_layout()
    fig.savefig(tmp, format="png", metadata={"Software": None})


def write_frontier(out_dir: str | Path, points: Sequence[FrontierPoint]) -> list[Path]:
    """Write frontier.csv and frontier.png into ``out_dir``; return their paths."""
    out = Path(out_dir)
    csv_path = write_csv(out / FRONTIER_CSV, FRONTIER_COLUMNS, frontier_rows(points))
    png = out / FRONTIER_PNG
    with atomic_path(png, suffix=".tmp.png") as tmp:
        _chart(tmp, points)
    return [csv_path, png]


__all__ = ["FRONTIER_CSV", "FRONTIER_PNG", "budget_label", "write_frontier"]
