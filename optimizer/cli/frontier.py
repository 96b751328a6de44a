"""``coldchain frontier [INSTANCE]``: one checked plan per yearly budget; the trade-off curve."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from optimizer.cli._common import InstanceArg, default_instance, out, progress

DEFAULT_BUDGETS = "0,250000,500000,1000000,inf"


def frontier(
    instance: InstanceArg = None,
    budgets: Annotated[str, typer.Option(
        "--budgets", help="Yearly budgets in yuan, comma-separated; 'inf' plans without one. "
        "A budget caps the annualised investment (new sites, bought modules, new pickup "
        "points) plus what running the cold stores and pickup points costs above today.")
    ] = DEFAULT_BUDGETS,
    out_dir: Annotated[Path, typer.Option(
        "--out", help="Directory for frontier.csv and frontier.png.")] = Path("frontier"),
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=0.1, help="Routing seconds per scenario and plan.")] = 5.0,
    location_time: Annotated[float, typer.Option(
        "--location-time", min=0.1, help="Seconds per location model solve.")] = 20.0,
    iterations: Annotated[int, typer.Option(
        min=1, max=10, help="Location-routing rounds per budget.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    solution_limit: Annotated[int | None, typer.Option(
        "--solution-limit", min=1, help="Stop each routing search after this many improving "
        "solutions (deterministic runs).")] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, max=64, help="Worker processes for routing the days.")] = 2,
) -> None:
    """Plan the county once per budget and show what each budget buys (monotone curve)."""
    from optimizer.facade import load_instance
    from optimizer.limits import Limits
    from optimizer.planning.frontier import TODAY, parse_budgets
    from optimizer.planning.frontier import frontier as run_frontier
    from optimizer.report.frontier import budget_label, write_frontier

    values = parse_budgets(budgets)
    inst = load_instance(default_instance(instance))
    limits = Limits(time_s=time_limit, solution_limit=solution_limit)
    with progress(f"Frontier of {inst.name}...") as update:
        points = run_frontier(inst, values, limits=limits, seed=seed, iterations=iterations,
                              location_time_s=location_time, jobs=jobs,
                              progress=lambda m: update(f"Frontier of {inst.name}: {m}"))
    t = Table("budget (yuan/yr)", "cost/order", "operating/order", "spoilage %",
              "spoilage saved (M yuan/yr)", "villages covered %", "cold chain %",
              "investment (yuan)", "budget use (yuan/yr)", "payback (yr)",
              title=f"{inst.name}: what each yearly budget buys (year figures of each plan)")
    for p in points:
        y, base = p.plan, p.baseline
        note = ("" if p.reused_from is None else " (= today)" if p.reused_from == TODAY
                else f" (= {budget_label(p.reused_from)})")
        payback = ("never" if math.isinf(y.payback_years) else f"{y.payback_years:.2f}")
        t.add_row(budget_label(p.budget_yuan) + note, f"{y.cost_per_order_yuan:.3f}",
                  f"{y.operating_cost_per_order_yuan:.3f}", f"{y.spoilage_pct:.2f}",
                  f"{(base.spoilage_yuan - y.spoilage_yuan) / 1e6:,.2f}",
                  f"{y.village_coverage_pct:.1f}", f"{y.cold_chain_pct:.1f}",
                  f"{y.investment_yuan:,.0f}", f"{y.budget_use_yuan:,.0f}", payback)
    base = points[0].baseline
    t.add_row("today", f"{base.cost_per_order_yuan:.3f}",
              f"{base.operating_cost_per_order_yuan:.3f}", f"{base.spoilage_pct:.2f}", "0.00",
              f"{base.village_coverage_pct:.1f}", f"{base.cold_chain_pct:.1f}", "0", "0", "-")
    out.print(t)
    paths = write_frontier(out_dir, points)
    out.print(f"every plan passed the plan-level checker; wrote "
              f"{', '.join(str(p) for p in paths)}")


def register(app: typer.Typer) -> None:
    """Add the ``frontier`` command to ``app``."""
    app.command("frontier")(frontier)


__all__ = ["frontier", "register"]
