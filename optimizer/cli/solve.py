"""``coldchain solve [INSTANCE]``: plan sites, modules, pickup points and routes; the year in
money and KPIs vs today; ``--budget`` caps the plan's yearly facility cost."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from optimizer.cli._common import InstanceArg, default_instance, out, progress
from optimizer.errors import InputError

BUDGET_HELP = (
    "Yearly facility budget in yuan/year. It caps the annualised investment in new "
    "cold-store sites, bought modules and new pickup points plus the increase of the cold "
    "stores' and pickup points' running cost against today's (the cold stores take what "
    "they need first, the pickup points the rest). With a budget the plan owns no vehicle "
    "beyond today's fleet (it may still hire). Routes, hires and spoilage are not capped. "
    "Accepts 1000000, 1,000,000 or 1_000_000; inf or unlimited: no budget (the default). "
    "Not with --baseline-only.")

#: --budget values meaning "no budget"
_NO_BUDGET = {"inf", "+inf", "infinity", "+infinity", "unlimited"}
#: a plain number with comma thousands separators: 1,000,000 or 1,000,000.50
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")


def parse_budget(text: str) -> float | None:
    """The ``--budget`` value in yuan/year; None for "inf" or "unlimited" (no budget).

    Accepts a plain non-negative number, with comma thousands separators (``1,000,000``)
    or underscores (``1_000_000``); refuses a negative, NaN or non-numeric value with an
    :class:`InputError` naming ``--budget`` (exit code 2)."""
    raw = text.strip()
    if raw.lower() in _NO_BUDGET:
        return None
    plain = raw.replace(",", "") if _GROUPED.fullmatch(raw) else raw
    try:
        value = float(plain)
    except ValueError:
        value = math.nan
    if math.isnan(value) or value < 0:
        raise InputError.at(None, "--budget", "must be a non-negative number of yuan per year",
                            got=text, fix="e.g. --budget 1,000,000, or --budget inf for none")
    return None if math.isinf(value) else value + 0.0  # + 0.0: -0 is 0


def solve(
    instance: InstanceArg = None,
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", "-s", help="Scenario id to plan; repeat for several (default: all).")
    ] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.1, show_default=False,
        help="Routing seconds per scenario and plan (split over depots). Default: the size "
        "rule, max(min(10, max(1, 0.065 x the day's stops)), 0.2 x its depots).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (deterministic per seed and "
                                      "--solution-limit).")] = 0,
    solution_limit: Annotated[int | None, typer.Option(
        "--solution-limit", min=1,
        help="Stop each routing search after this many improving solutions "
        "(deterministic runs).")] = None,
    iterations: Annotated[int, typer.Option(
        min=1, max=10, help="Location-routing rounds (route costs fed back into location).")
    ] = 2,
    location_time: Annotated[float | None, typer.Option(
        "--location-time", min=0.1, show_default=False,
        help="Seconds per location model solve (pickup points, then cold stores in every "
        "round). Default: the size rule, min(20, max(2, villages x candidate sites / "
        "1000)).")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Write plan.json, plan.gpkg, kpis.csv, report.md, charts and map.html "
        "into this directory.")] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, max=64,
        help="Worker processes for routing the scenario days (same plan for any value).")
    ] = 2,
    baseline_only: Annotated[bool, typer.Option(
        "--baseline-only", help="Only route today's sites and fleet for one scenario "
        "(quick look; --scenario picks it, default peak).")] = False,
    budget: Annotated[str | None, typer.Option(
        "--budget", metavar="YUAN", show_default=False, help=BUDGET_HELP)] = None,
) -> None:
    """Plan sites, modules, pickup points and routes for every scenario; print the year in
    money and KPIs vs today."""
    from optimizer.facade import load_instance
    from optimizer.limits import Limits

    budget_yuan = parse_budget(budget) if budget is not None else None
    if baseline_only and budget is not None:
        raise InputError.at(None, "--budget", "cannot be used with --baseline-only (today's "
                            "baseline has no budget)", got=budget,
                            fix="drop --budget, or drop --baseline-only to plan within it")
    if baseline_only and out_dir is not None:
        raise InputError.at(out_dir, "--out", "cannot be used with --baseline-only (the quick "
                            "look prints one scenario's figures and writes no files)",
                            fix="drop --out, or drop --baseline-only to write the plan's files")
    inst = load_instance(default_instance(instance))
    limits = Limits(time_s=time_limit, solution_limit=solution_limit)
    if baseline_only:
        _solve_baseline(inst, (scenario or ["peak"])[0], limits, seed)
        return
    from optimizer.planning.planner import plan
    from optimizer.report import print_kpi_table, print_year_table, write_outputs

    if out_dir is not None:
        _check_out_dir(inst, out_dir)
    with progress(f"Planning {inst.name}...") as update:
        planning = plan(inst, scenarios=scenario, limits=limits, seed=seed,
                        iterations=iterations, location_time_s=location_time, jobs=jobs,
                        progress=lambda msg: update(f"Planning {inst.name}: {msg}..."),
                        budget_yuan=budget_yuan)
    res = planning.result
    _print_sites(inst, res)
    print_year_table(res, out, instance=inst)
    print_kpi_table(res, out)
    checked = all(o.day.checked for o in res.outcomes)
    out.print(f"every routed day passed the independent checker: {checked}; "
              f"{res.runtime_s:.0f} s, seed {res.seed}, routing {limits.describe()} per "
              "scenario and plan")
    if out_dir is not None:
        paths = write_outputs(out_dir, inst, res, networks=planning.networks,
                              matrices=planning.matrices)
        out.print(f"wrote {len(paths)} files to {out_dir}: "
                  + ", ".join(p.name for p in paths))


def _check_out_dir(inst: object, out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError.at(out_dir, "--out", "exists and is not a directory",
                            fix="give a directory path")


def _print_sites(inst, res) -> None:  # type: ignore[no-untyped-def]
    stores = {s.id: s for s in inst.cold_store_sites}
    today = {s.id: s.existing_modules for s in inst.cold_store_sites if s.existing}
    t = Table("season", "cold stores open (modules)", "modules", "today", "status",
              title="Cold storage per season (location model)")
    for ss in res.seasons:
        sites = ", ".join(f"{stores[sid].name} ({n})" for sid, n in sorted(ss.modules.items())
                          if n > 0)
        gap = abs(ss.objective_yuan - ss.bound_yuan) / max(1.0, abs(ss.objective_yuan))
        t.add_row(ss.season, sites or "-", str(sum(ss.modules.values())),
                  str(sum(today.values())), f"{ss.status} (gap {gap:.1e})")
    out.print(t)
    existing = {p.id for p in inst.pickup_sites if p.existing}
    new = [p for p in res.pickup_points if p not in existing]
    base = next((o for o in res.outcomes if o.plan == "baseline"), None)
    plan_o = next((o for o in res.outcomes if o.plan == "plan"), None)
    line = (f"pickup points: {len(res.pickup_points)} ({len(existing)} today + {len(new)} new, "
            f"{res.pickup_status})")
    if base is not None and plan_o is not None:
        line += (f"; villages within {inst.operations.coverage_radius_min:g} min: "
                 f"{plan_o.kpis.village_coverage_pct:.1f}% (today "
                 f"{base.kpis.village_coverage_pct:.1f}%)")
    out.print(line)


def _solve_baseline(inst, scenario: str, limits, seed: int) -> None:  # type: ignore[no-untyped-def]
    from optimizer.facade import solve as solve_fn

    with progress(f"Routing {inst.name} / {scenario} ({limits.describe()} limit)..."):
        res = solve_fn(inst, scenario=scenario, limits=limits, seed=seed)
    k = res.kpis
    out.print(f"[bold]{inst.name}[/bold], scenario [bold]{res.scenario}[/bold], "
              "today's sites and fleet")
    t = Table("figure", "value")
    t.add_row("cost per order (yuan)", f"{k.cost_per_order_yuan:.2f}")
    t.add_row("spoilage (% of produce mass)", f"{k.spoilage_mass_pct:.2f}")
    t.add_row("villages within "
              f"{inst.operations.coverage_radius_min:g} min of a pickup point (%)",
              f"{k.village_coverage_pct:.1f}")
    t.add_row("households covered (%)", f"{k.household_coverage_pct:.1f}")
    t.add_row("cold-chain coverage (% pre-cooled in time)", f"{k.cold_chain_pct:.1f}")
    t.add_row("orders handled", f"{k.orders:,.0f}")
    t.add_row("produce collected / ready (t)", f"{k.collected_kg / 1000:,.1f} / "
              f"{k.produce_kg / 1000:,.1f}")
    t.add_row("parcels not delivered", f"{k.parcels_dropped:,.0f}")
    t.add_row("logistics cost (yuan/day)", f"{k.logistics_cost_yuan:,.0f}")
    t.add_row("km driven", f"{k.distance_km:,.1f}")
    t.add_row("vehicles used", f"{k.vehicles_used}")
    out.print(t)
    out.print(f"routes {len(res.day.routes)}, checked: {res.day.checked}, "
              f"engine {res.day.engine} ({res.day.solver_status}), "
              f"{res.runtime_s:.1f} s, seed {res.seed}")


def register(app: typer.Typer) -> None:
    """Add the ``solve`` command to ``app``."""
    app.command("solve")(solve)


__all__ = ["BUDGET_HELP", "parse_budget", "register", "solve"]
