"""report.md: the human-readable report of a planning run.

It opens with the year in money (today's baseline and the plan rolled up to a year, with
the net saving, payback, NPV and the budget, and what the cost per order covers), then key
figures per scenario (baseline vs plan, the same rows as the console table), links to the
charts, cold-storage modules per season, open pickup points, every route (clock times
hh:mm, km, cost in yuan, stop kg) and the list of files. The wall-clock runtime appears
here only, never in plan.json.
"""

from __future__ import annotations

from optimizer.instance import Instance
from optimizer.plans import PlanningResult
from optimizer.report.names import (
    COST_PNG,
    GPKG_LAYERS,
    KPIS_CSV,
    MAP_HTML,
    PLAN_GPKG,
    PLAN_JSON,
    SPOILAGE_PNG,
)
from optimizer.report.tables import (
    _hhmm,
    _kpi_table,
    _reference,
    _scenarios,
    _year_table,
    year_summary,
)

#: the cost per parcel quoted for Guizhou (README): an end-to-end figure, line haul included
GUIZHOU_PARCEL_YUAN = 8.5


def _md_escape(s: object) -> str:
    return str(s).replace("|", "\\|")


def _year_section(instance: Instance, result: PlanningResult) -> list[str]:
    """"A year in money": the year table, the saving / payback / NPV / budget line and what
    the cost per order covers."""
    L = ["## A year in money\n"]
    rows = _year_table(result)
    if not rows:
        L.append("No year roll-up: it needs both today's baseline and the plan.\n")
        return L
    L.append("Today's baseline and the plan rolled up to a year: each season counts for its "
             "days, each scenario for its share of them.\n")
    L.append("| figure | baseline | plan | change |")
    L.append("|---|---:|---:|---:|")
    for label, b, p_, c in rows:
        L.append(f"| {_md_escape(label)} | {b} | {p_} | {c} |")
    L.append("")
    line = year_summary(result, instance)
    if line:
        L.append(line[0].upper() + line[1:] + ".\n")
    L.append(_cost_note(instance, result) + "\n")
    return L


def _cost_note(instance: Instance, result: PlanningResult) -> str:
    """What the cost per order covers, and when it compares with the Guizhou parcel cost."""
    per_kg = instance.economics.line_haul_yuan_per_kg
    per_order = per_kg * instance.product.order_kg
    text = ("The cost per order is local: it covers the in-county legs (first mile, cold "
            "storage, last mile: collection routes, cold stores, delivery routes and pickup "
            "points, running and annualised investment). The line haul to the city is "
            "reported apart (`economics.line_haul_yuan_per_kg` = "
            f"{per_kg:g} yuan/kg, {per_order:,.2f} yuan per {instance.product.order_kg:g} kg "
            "order) and is not inside the cost per order, so only the cost per order plus "
            f"the line haul can be set beside the {GUIZHOU_PARCEL_YUAN:g} yuan per parcel "
            "quoted for Guizhou.")
    if per_kg <= 0:
        text += (" This instance sets no line haul, so its cost per order is not comparable "
                 f"with the {GUIZHOU_PARCEL_YUAN:g} yuan.")
    p = result.year_of("plan")
    if p is not None and p.investment_vehicles_yuan > 0 and p.orders > 0:
        eco = instance.economics
        per = p.investment_vehicles_yuan * eco.annuity(eco.vehicle_life_years) / p.orders
        text += (" The three legs add up to the cost per order except the annualised cost of "
                 f"the vehicles the plan buys ({per:,.3f} yuan/order), which the year's cost "
                 "per order carries and no leg (nor the day figures) does.")
    return text


def _markdown(instance: Instance, result: PlanningResult) -> str:
    L: list[str] = []
    title = f" ({instance.title})" if instance.title else ""
    L.append(f"# Cold-chain plan: {result.instance}{title}\n")
    L.extend(_year_section(instance, result))
    limit = "none" if result.solution_limit is None else str(result.solution_limit)
    routing = ("set by the size rule" if result.time_limit_s is None
               else f"{result.time_limit_s:g} s")
    L.append(f"Seed {result.seed}, routing time limit {routing}, solution "
             f"limit {limit}. Baseline = today's cold stores, pickup points and fleet; plan = "
             "the optimised sites, modules and fleet.")
    if result.runtime_s > 0:
        L.append(f"Wall-clock runtime: {result.runtime_s:.1f} s (not recorded in plan.json, "
                 "which is byte-identical across runs with the same seed and solution limit).")
    L.append("")
    L.append("## Key figures per scenario\n")
    for scen in _scenarios(result):
        L.append(f"### Scenario `{scen}`\n")
        L.append("| KPI | baseline | plan | change |")
        L.append("|---|---:|---:|---:|")
        for label, b, p_, c in _kpi_table(result, scen):
            L.append(f"| {_md_escape(label)} | {b} | {p_} | {c} |")
        L.append("")
    L.append("## Charts\n")
    L.append(f"![Cost per order by scenario, baseline vs plan]({COST_PNG})\n")
    L.append(f"![Spoilage by scenario, baseline vs plan]({SPOILAGE_PNG})\n")

    L.append("## Cold-storage sites and modules per season\n")
    season_ids = [s.id for s in instance.seasons]
    ref = _reference(result)
    modules = {s.season: s.modules for s in result.seasons}
    if ref is not None:
        for season, m in ref.facilities.modules.items():
            modules.setdefault(season, m)
    L.append("| site | name | existing (modules today) | "
             + " | ".join(f"modules {sid}" for sid in season_ids) + " |")
    L.append("|---|---|---|" + "---:|" * len(season_ids))
    for site in instance.cold_store_sites:
        mods = [modules.get(sid, {}).get(site.id, 0) for sid in season_ids]
        if not site.existing and not any(mods):
            continue
        today = f"yes ({site.existing_modules})" if site.existing else "no"
        L.append(f"| {_md_escape(site.id)} | {_md_escape(site.name)} | {today} | "
                 + " | ".join(str(m) for m in mods) + " |")
    L.append("")
    for s in result.seasons:
        L.append(f"- season `{s.season}`: {s.status}, objective {s.objective_yuan:,.0f} yuan, "
                 f"bound {s.bound_yuan:,.0f} yuan")
    if result.seasons:
        L.append("")

    L.append("## Pickup points\n")
    open_pp = set(result.pickup_points) or (set(ref.facilities.pickup_points) if ref else set())
    L.append(f"{len(open_pp)} open pickup points (selection status: "
             f"{result.pickup_status or 'n/a'}); coverage radius "
             f"{instance.operations.coverage_radius_min:g} min by van.\n")
    L.append("| pickup point | name | village | existing | open |")
    L.append("|---|---|---|---|---|")
    for p in instance.pickup_sites:
        if p.id in open_pp or p.existing:
            L.append(f"| {_md_escape(p.id)} | {_md_escape(p.name)} | {_md_escape(p.village_id)}"
                     f" | {'yes' if p.existing else 'no'} | {'yes' if p.id in open_pp else 'no'} |")
    L.append("")

    L.append("## Routes\n")
    for o in result.outcomes:
        d = o.day
        L.append(f"### `{o.scenario}` / {o.plan}: {len(d.routes)} routes, "
                 f"{sum(r.distance_km for r in d.routes):,.1f} km, {len(d.dropped)} stops "
                 f"dropped, engine {d.engine or 'n/a'} ({d.solver_status}), checked "
                 f"{'yes' if d.checked else 'no'}\n")
        if d.routes:
            L.append("| vehicle | type | trip | depot | start | end | km | cost (yuan) | stops |")
            L.append("|---|---|---:|---|---|---|---:|---:|---|")
            for r in d.routes:
                stops = ", ".join(f"{s.site_id} ({'+' if s.kind == 'pickup' else '-'}"
                                  f"{s.pickup_kg if s.kind == 'pickup' else s.delivery_kg:,.0f}"
                                  " kg)" for s in r.stops)
                L.append(f"| {_md_escape(r.vehicle_id)} | {_md_escape(r.vehicle_type)} | "
                         f"{r.trip + 1} | {_md_escape(r.depot)} | {_hhmm(r.start_min)} | "
                         f"{_hhmm(r.end_min)} | {r.distance_km:,.1f} | {r.cost_yuan:,.2f} | "
                         f"{_md_escape(stops)} |")
            L.append("")
        if d.dropped:
            L.append("Dropped: " + ", ".join(f"`{x}`" for x in d.dropped) + "\n")
    L.append("## Files\n")
    L.append(f"- `{PLAN_JSON}`: the whole plan, machine-readable (edit and re-check with "
             "`coldchain check INSTANCE plan.json`)")
    L.append(f"- `{PLAN_GPKG}`: layers {', '.join(GPKG_LAYERS)} (EPSG:4326)")
    L.append(f"- `{KPIS_CSV}`: every KPI per scenario and plan, then the year of the "
             "baseline and the plan (rows `scenario=year`)")
    L.append(f"- `{MAP_HTML}`: interactive map, one layer per scenario and plan; works offline "
             "(the roads of the instance as background)")
    return "\n".join(L).rstrip() + "\n"
