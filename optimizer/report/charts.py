"""The PNG charts: one bar per scenario and plan (baseline grey, plan green) of one KPI,
e.g. cost per order (yuan) or spoilage (% of produce mass).

Drawn on a matplotlib Agg figure (no pyplot global state), 100 dpi, without the software
tag so the same plan gives the same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path

from optimizer.plans import PlanningResult
from optimizer.report.tables import _get, _scenarios

_PLANS = ("baseline", "plan")


def _chart(tmp: Path, result: PlanningResult, field: str, ylabel: str, title: str) -> None:
    from matplotlib.figure import Figure  # Agg canvas, no pyplot global state

    scenarios = _scenarios(result)
    fig = Figure(figsize=(max(4.0, 1.4 * len(scenarios) + 2.0), 3.6), dpi=100)
    ax = fig.add_subplot()
    width = 0.38
    for k, (plan, colour) in enumerate(zip(_PLANS, ("#9e9e9e", "#2ca02c"), strict=True)):
        xs, ys = [], []
        for i, s in enumerate(scenarios):
            o = _get(result, s, plan)
            if o is not None and math.isfinite(float(getattr(o.kpis, field))):
                xs.append(i + (k - 0.5) * width)
                ys.append(float(getattr(o.kpis, field)))
        bars = ax.bar(xs, ys, width, label=plan, color=colour)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.margins(y=0.15)
    fig.tight_layout()
    fig.savefig(tmp, format="png", metadata={"Software": None})
