"""Outputs of ``coldchain frontier``: frontier.csv (one row per budget) and frontier.png.

The chart puts the budgets side by side (yuan per year, "unlimited" last): on top what each
plan costs the county a year (million yuan: logistics, and the value of the produce lost,
against today's total), with its cost per order; below, in %, the produce lost, the produce
pre-cooled in time and the villages within reach of a pickup point. Files are written
atomically (:mod:`optimizer._io`); the same points give the same bytes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from pathlib import Path

from optimizer._io import atomic_path, locked_dir, write_csv
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
    fig = Figure(figsize=(max(6.0, 1.3 * len(points) + 3.5), 6.4), dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    logistics = [p.plan.logistics_cost_yuan / 1e6 for p in points]
    spoiled = [p.plan.spoilage_yuan / 1e6 for p in points]
    top.bar(xs, logistics, 0.6, color="#1f77b4", label="logistics (routes, stores, pickup "
            "points, annualised investment)")
    top.bar(xs, spoiled, 0.6, bottom=logistics, color="#d62728", label="value of produce lost")
    for x, p, lo, sp in zip(xs, points, logistics, spoiled, strict=True):
        top.annotate(f"{lo + sp:,.1f} M\n{p.plan.cost_per_order_yuan:.3f} yuan/order",
                     (x, lo + sp), textcoords="offset points", xytext=(0, 3), ha="center",
                     fontsize=8)
    today = points[0].baseline.total_cost_yuan / 1e6
    top.axhline(today, color="#7f7f7f", linestyle=":", label=f"today: {today:,.1f} M")
    top.set_ylabel("cost a year (million yuan)")
    top.set_title("What each yearly budget buys (each point a checked plan)")
    top.margins(y=0.25)
    top.legend(fontsize=8, loc="upper right")
    for field, colour, label in (("spoilage_pct", "#d62728", "produce lost"),
                                 ("cold_chain_pct", "#2ca02c", "pre-cooled in time"),
                                 ("village_coverage_pct", "#9467bd", "villages covered")):
        bottom.plot(xs, [getattr(p.plan, field) for p in points], marker="s", color=colour,
                    label=label)
    bottom.set_ylabel("% (year)")
    bottom.set_ylim(0, 105)
    bottom.set_xticks(xs, labels)
    bottom.set_xlabel("budget (yuan per year): investment annualised + running cost above "
                      "today")
    bottom.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(tmp, format="png", metadata={"Software": None})


def write_frontier(out_dir: str | Path, points: Sequence[FrontierPoint]) -> list[Path]:
    """Write frontier.csv and frontier.png into ``out_dir``; return their paths."""
    out = Path(out_dir)
    with contextlib.suppress(OSError):  # the writes below report it on their file
        out.mkdir(parents=True, exist_ok=True)
    png = out / FRONTIER_PNG
    with locked_dir(out) if out.is_dir() else contextlib.nullcontext():
        csv_path = write_csv(out / FRONTIER_CSV, FRONTIER_COLUMNS, frontier_rows(points))
        with atomic_path(png, suffix=".tmp.png") as tmp:
            _chart(tmp, points)
    return [csv_path, png]


__all__ = ["FRONTIER_CSV", "FRONTIER_PNG", "budget_label", "write_frontier"]
