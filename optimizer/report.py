"""Outputs of a planning run: plan.json, GeoPackage, KPI CSV, Markdown report, charts, map.

:func:`write_outputs` writes every file of ``coldchain solve --out DIR`` atomically (a temp
file in ``DIR``, then ``os.replace``); a failure raises :class:`~optimizer.errors.InputError`
naming the path and leaves no partial file. :func:`kpi_rows` and :func:`print_kpi_table` serve
the CLI. Routes are drawn along the roads with the scenario's travel matrices
(``TravelMatrix.path``) and road network (``path_coords``); lon/lat, EPSG:4326.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer._io import atomic_path, write_text
from optimizer.errors import InputError, NetworkError
from optimizer.formats.plan_json import FLOAT_DECIMALS, dumps_plan
from optimizer.instance import Instance
from optimizer.plans import Kpis, PlannedRoute, PlanningResult, ScenarioOutcome
from optimizer.roads import RoadNetwork, path_coords

if TYPE_CHECKING:
    from rich.console import Console

    from optimizer.planning.matrices import Matrices

log = logging.getLogger(__name__)

PLAN_JSON = "plan.json"
PLAN_GPKG = "plan.gpkg"
KPIS_CSV = "kpis.csv"
REPORT_MD = "report.md"
MAP_HTML = "map.html"
COST_PNG = "cost_per_order.png"
SPOILAGE_PNG = "spoilage.png"
OUTPUT_NAMES = (PLAN_JSON, PLAN_GPKG, KPIS_CSV, COST_PNG, SPOILAGE_PNG, REPORT_MD, MAP_HTML)
GPKG_LAYERS = ("cold_stores", "pickup_points", "villages", "routes")
CRS = "EPSG:4326"

# colour per vehicle type, in the instance's order (colour-blind friendly Tableau palette)
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")
_PLANS = ("baseline", "plan")


@dataclass(frozen=True, slots=True)
class _KpiSpec:
    field: str
    label: str
    fmt: str


#: KPIs shown in tables (every numeric Kpis field), with labels and formats.
KPI_SPECS: tuple[_KpiSpec, ...] = (
    _KpiSpec("cost_per_order_yuan", "cost per order (yuan)", ",.2f"),
    _KpiSpec("logistics_cost_yuan", "logistics cost (yuan/day)", ",.0f"),
    _KpiSpec("routing_cost_yuan", "routing cost (yuan/day)", ",.0f"),
    _KpiSpec("facility_cost_yuan", "facility cost (yuan/day)", ",.0f"),
    _KpiSpec("spoilage_mass_pct", "spoilage (% of produce mass)", ",.2f"),
    _KpiSpec("spoilage_value_pct", "spoilage (% of produce value)", ",.2f"),
    _KpiSpec("cold_chain_pct", "cold-chain coverage (% pre-cooled in time)", ",.1f"),
    _KpiSpec("village_coverage_pct", "villages covered by a pickup point (%)", ",.1f"),
    _KpiSpec("household_coverage_pct", "households covered (%)", ",.1f"),
    _KpiSpec("orders", "orders handled", ",.0f"),
    _KpiSpec("produce_kg", "produce ready (kg)", ",.0f"),
    _KpiSpec("collected_kg", "produce collected (kg)", ",.0f"),
    _KpiSpec("produce_dropped_kg", "produce left to the ambient channel (kg)", ",.0f"),
    _KpiSpec("parcels_dropped", "parcels not delivered", ",.0f"),
    _KpiSpec("distance_km", "distance driven (km)", ",.1f"),
    _KpiSpec("vehicles_used", "vehicles used", ",.0f"),
    _KpiSpec("vehicle_utilisation_pct", "vehicle utilisation (% of working day)", ",.1f"),
    _KpiSpec("cold_room_utilisation_pct", "cold-room utilisation (%)", ",.1f"),
    _KpiSpec("co2_kg_per_order", "CO2 per order (kg)", ",.3f"),
)


# ---- KPI rows and tables ---------------------------------------------------------------
def _round(x: float) -> float:
    return round(float(x), FLOAT_DECIMALS) if math.isfinite(float(x)) else float(x)


def kpi_rows(result: PlanningResult) -> list[dict[str, Any]]:
    """One dict per scenario x plan: every :class:`Kpis` field (``extra`` flattened as
    ``extra.<key>``) plus ``robust_village_coverage_pct`` (None when not sampled).

    Floats are rounded to 6 decimals; rows follow ``result.outcomes``; every row has the
    same keys (a missing ``extra`` key is None)."""
    extra_keys = sorted({k for o in result.outcomes for k in o.kpis.extra})
    rows: list[dict[str, Any]] = []
    for o in result.outcomes:
        row: dict[str, Any] = {}
        for f in fields(Kpis):
            v = getattr(o.kpis, f.name)
            if f.name == "extra":
                continue
            row[f.name] = _round(v) if isinstance(v, float) else v
        rc = o.robust_village_coverage_pct
        row["robust_village_coverage_pct"] = None if rc is None else _round(rc)
        for k in extra_keys:
            v = o.kpis.extra.get(k)
            row[f"extra.{k}"] = None if v is None else _round(v)
        rows.append(row)
    return rows


def _scenarios(result: PlanningResult) -> list[str]:
    out: list[str] = []
    for o in result.outcomes:
        if o.scenario not in out:
            out.append(o.scenario)
    return out


def _get(result: PlanningResult, scenario: str, plan: str) -> ScenarioOutcome | None:
    try:
        return result.outcome(scenario, plan)
    except KeyError:
        return None


def _fmt(v: float | None, fmt: str) -> str:
    if v is None:
        return "-"
    if not math.isfinite(v):
        return "n/a"
    return format(v, fmt)


def _change(base: float | None, plan: float | None, fmt: str) -> str:
    if base is None or plan is None or not (math.isfinite(base) and math.isfinite(plan)):
        return "-"
    d = plan - base
    s = format(d, "+" + fmt.lstrip(","))
    if abs(base) > 1e-12:
        s += f" ({100.0 * d / abs(base):+.1f}%)"
    return s


def _kpi_table(result: PlanningResult, scenario: str) -> list[tuple[str, str, str, str]]:
    """(label, baseline, plan, change) rows of one scenario."""
    b = _get(result, scenario, "baseline")
    p = _get(result, scenario, "plan")
    rows = []
    for spec in KPI_SPECS:
        bv = float(getattr(b.kpis, spec.field)) if b else None
        pv = float(getattr(p.kpis, spec.field)) if p else None
        rows.append((spec.label, _fmt(bv, spec.fmt), _fmt(pv, spec.fmt),
                     _change(bv, pv, spec.fmt)))
    rb = b.robust_village_coverage_pct if b else None
    rp = p.robust_village_coverage_pct if p else None
    if rb is not None or rp is not None:
        rows.append(("villages covered in every closure sample (%)", _fmt(rb, ",.1f"),
                     _fmt(rp, ",.1f"), _change(rb, rp, ",.1f")))
    return rows


def _rich_table(result: PlanningResult, scenarios: list[str], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("KPI")
    per = {s: _kpi_table(result, s) for s in scenarios}
    for s in scenarios:
        table.add_column(f"{s}\nbaseline", justify="right", no_wrap=True)
        table.add_column(f"{s}\nplan", justify="right", no_wrap=True)
        table.add_column(f"{s}\nchange", justify="right", no_wrap=True)
    n = max((len(r) for r in per.values()), default=0)
    for i in range(n):
        label = next(per[s][i][0] for s in scenarios if i < len(per[s]))
        cells: list[str] = [label]
        for s in scenarios:
            cells += list(per[s][i][1:]) if i < len(per[s]) else ["-", "-", "-"]
        table.add_row(*cells)
    return table


def _table_width(table: Any) -> int:
    """Characters needed to print ``table`` without wrapping or truncating a cell."""
    from rich.console import Console

    probe = Console(width=10_000, file=io.StringIO(), record=True, color_system=None)
    probe.print(table)
    return max((len(line.rstrip()) for line in probe.export_text().splitlines()), default=0)


def print_kpi_table(result: PlanningResult, console: Console) -> None:
    """Print the KPI table: one row per KPI; per scenario columns baseline / plan / change.

    When the console is too narrow for every scenario side by side, one table per scenario
    is printed instead (same rows and columns)."""
    scenarios = _scenarios(result)
    title = f"{result.instance}: key figures per scenario (baseline vs plan)"
    table = _rich_table(result, scenarios, title)
    if len(scenarios) <= 1 or _table_width(table) <= console.width:
        console.print(table)
        return
    for s in scenarios:
        console.print(_rich_table(result, [s], f"{result.instance}: scenario {s}"))


# ---- atomic files ------------------------------------------------------------------------
def _atomic(path: Path, write: Callable[[Path], None], *, suffix: str) -> None:
    """Call ``write(tmp)`` on a fresh temp path beside ``path`` (GDAL and matplotlib create
    the file themselves), then rename it to ``path`` (:func:`optimizer._io.atomic_path`)."""
    import pyogrio.errors

    with atomic_path(path, suffix=suffix,
                     errors=(pyogrio.errors.DataSourceError,
                             pyogrio.errors.DataLayerError)) as tmp:
        write(tmp)


def _input_files(instance: Instance) -> set[Path]:
    """Resolved paths of the instance's input files (TOML, CSV tables, network)."""
    out = {Path(instance.network_path).resolve()}
    src = instance.source
    if src is None:
        return out
    src = Path(src)
    toml = src if src.is_file() else src / "instance.toml"
    out.add(toml.resolve())
    try:
        doc = tomllib.loads(toml.read_text(encoding="utf-8-sig"))
        for v in (doc.get("files") or {}).values():
            if isinstance(v, str):
                out.add((toml.parent / v).resolve())
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        log.debug("could not list the input files of %s", toml)
    return out


# ---- geometry ----------------------------------------------------------------------------
def _site_xy(instance: Instance) -> dict[str, tuple[float, float]]:
    return {sid: (lon, lat) for sid, lon, lat in instance.site_points()}


def route_coords(
    instance: Instance,
    route: PlannedRoute,
    network: RoadNetwork | None,
    matrices: Matrices | None,
) -> list[tuple[float, float]]:
    """Lon/lat polyline of ``route``: depot -> stops -> depot along the fastest roads of the
    route's vehicle type; straight segments where no network/path is available."""
    xy = _site_xy(instance)
    sites = [route.depot] + [s.site_id for s in route.stops] + [route.depot]
    tm = matrices.by_vehicle_type.get(route.vehicle_type) if matrices is not None else None
    out: list[tuple[float, float]] = []

    def add(pts: Iterable[tuple[float, float]]) -> None:
        for p in pts:
            if not out or out[-1] != p:
                out.append(p)

    for a, b in zip(sites[:-1], sites[1:], strict=True):
        pa, pb = xy.get(a), xy.get(b)
        leg: list[tuple[float, float]] = [pa] if pa else []
        if a != b and tm is not None and network is not None:
            try:
                leg += path_coords(network, tm.path(a, b))
            except NetworkError as exc:
                log.warning("route %s: leg %s->%s drawn straight (%s)", route.vehicle_id, a, b,
                            exc)
        if pb:
            leg.append(pb)
        add(leg)
    if len(out) == 1:
        out.append(out[0])
    return out


def _reference(result: PlanningResult) -> ScenarioOutcome | None:
    """The peak scenario's plan: the plan outcome with the most produce (first on ties)."""
    plans = [o for o in result.outcomes if o.plan == "plan"] or list(result.outcomes)
    if not plans:
        return None
    return max(plans, key=lambda o: (o.kpis.produce_kg, -plans.index(o)))


def _minutes(matrices: Matrices | None, rows: list[str], cols: list[str]
             ) -> dict[str, dict[str, float]]:
    if matrices is None or not cols:
        return {r: {} for r in rows}
    known = set(matrices.coverage.ids)
    return matrices.minutes_to([r for r in rows if r in known], [c for c in cols if c in known])


# ---- GeoPackage ------------------------------------------------------------------------
def _gpkg_frames(instance: Instance, result: PlanningResult,
                 geoms: Mapping[tuple[int, int], list[tuple[float, float]]],
                 matrices: Mapping[str, Matrices]) -> dict[str, Any]:
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    ref = _reference(result)
    seasons = [s.id for s in instance.seasons]
    modules: dict[str, dict[str, int]] = {
        s.season: dict(s.modules) for s in result.seasons
    }
    if ref is not None:
        for season, m in ref.facilities.modules.items():
            modules.setdefault(season, dict(m))
    open_stores = set(ref.facilities.cold_stores) if ref else set()
    open_stores |= {sid for m in modules.values() for sid, n in m.items() if n > 0}
    rows = []
    for s in instance.cold_store_sites:
        row: dict[str, Any] = {"id": s.id, "name": s.name, "existing": bool(s.existing),
                               "existing_modules": int(s.existing_modules)}
        for season in seasons:
            row[f"modules_{season}"] = int(modules.get(season, {}).get(s.id, 0))
        row["open"] = s.id in open_stores
        row["geometry"] = Point(s.lon, s.lat)
        rows.append(row)
    cold = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)

    open_pp = set(result.pickup_points) | (set(ref.facilities.pickup_points) if ref else set())
    pickup = gpd.GeoDataFrame(
        [{"id": p.id, "name": p.name, "village_id": p.village_id, "existing": bool(p.existing),
          "open": p.id in open_pp, "geometry": Point(p.lon, p.lat)}
         for p in instance.pickup_sites],
        geometry="geometry", crs=CRS)

    radius = instance.operations.coverage_radius_min
    vids = [v.id for v in instance.villages]
    pps = sorted(ref.facilities.pickup_points) if ref else []
    mins = _minutes(matrices.get(ref.scenario) if ref else None, vids, pps)
    vrows = []
    for v in instance.villages:
        assigned = ref.facilities.village_pickup.get(v.id, "") if ref else ""
        row_min = mins.get(v.id, {})
        to_assigned = row_min.get(assigned, math.nan) if assigned else math.nan
        best = min(row_min.values(), default=math.inf)
        shares = ref.facilities.produce_to_store.get(v.id, ()) if ref else ()
        main = max(shares, key=lambda t: (t[1], t[0]), default=("", 0.0))
        vrows.append({
            "id": v.id, "name": v.name, "township": v.township, "households": v.households,
            "pickup_point": assigned,
            "pickup_min": float(to_assigned) if math.isfinite(to_assigned) else None,
            "covered": bool(best <= radius),
            "cold_store": main[0],
            "cold_store_kg": float(sum(kg for _, kg in shares)),
            "plan_scenario": ref.scenario if ref else "",
            "geometry": Point(v.lon, v.lat),
        })
    villages = gpd.GeoDataFrame(vrows, geometry="geometry", crs=CRS)

    rrows = []
    for i, o in enumerate(result.outcomes):
        for j, r in enumerate(o.day.routes):
            rrows.append({
                "scenario": o.scenario, "plan": o.plan, "vehicle": r.vehicle_id,
                "type": r.vehicle_type, "trip": int(r.trip) + 1, "depot": r.depot,
                "start_min": float(r.start_min), "end_min": float(r.end_min),
                "km": float(r.distance_km), "cost_yuan": float(r.cost_yuan),
                "n_stops": len(r.stops),
                "stops": " ".join(s.site_id for s in r.stops),
                "geometry": LineString(geoms[(i, j)]),
            })
    cols = ["scenario", "plan", "vehicle", "type", "trip", "depot", "start_min", "end_min",
            "km", "cost_yuan", "n_stops", "stops", "geometry"]
    routes = gpd.GeoDataFrame(rrows or None, columns=cols, geometry="geometry", crs=CRS)
    return {"cold_stores": cold, "pickup_points": pickup, "villages": villages,
            "routes": routes}


def _write_gpkg(tmp: Path, frames: Mapping[str, Any]) -> None:
    import pyogrio

    geom_type = {"cold_stores": "Point", "pickup_points": "Point", "villages": "Point",
                 "routes": "LineString"}
    for name in GPKG_LAYERS:
        pyogrio.write_dataframe(frames[name], tmp, layer=name, driver="GPKG",
                                geometry_type=geom_type[name])


# ---- CSV, charts, Markdown --------------------------------------------------------------
def _csv_text(result: PlanningResult) -> str:
    rows = kpi_rows(result)
    buf = io.StringIO()
    header = list(rows[0]) if rows else ["scenario", "plan"]
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return buf.getvalue()


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


def _md_escape(s: object) -> str:
    return str(s).replace("|", "\\|")


def _hhmm(minutes: float) -> str:
    m = int(round(minutes))
    return f"{m // 60:02d}:{m % 60:02d}"


def _markdown(instance: Instance, result: PlanningResult) -> str:
    L: list[str] = []
    title = f" ({instance.title})" if instance.title else ""
    L.append(f"# Cold-chain plan: {result.instance}{title}\n")
    limit = "none" if result.solution_limit is None else str(result.solution_limit)
    L.append(f"Seed {result.seed}, routing time limit {result.time_limit_s:g} s, solution "
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
    L.append(f"- `{KPIS_CSV}`: every KPI per scenario and plan")
    L.append(f"- `{MAP_HTML}`: interactive map, one layer per scenario")
    return "\n".join(L).rstrip() + "\n"


# ---- map -----------------------------------------------------------------------------------
def _map_html(instance: Instance, result: PlanningResult,
              geoms: Mapping[tuple[int, int], list[tuple[float, float]]],
              matrices: Mapping[str, Matrices]) -> str:
    import folium

    pts = instance.site_points()
    lat0 = sum(p[2] for p in pts) / max(len(pts), 1)
    lon0 = sum(p[1] for p in pts) / max(len(pts), 1)
    m = folium.Map(location=[lat0, lon0], zoom_start=11, tiles=None, control_scale=True)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
    colour = {vt.id: _PALETTE[i % len(_PALETTE)] for i, vt in enumerate(instance.vehicle_types)}
    stores = {s.id: s for s in instance.cold_store_sites}
    pickups = {p.id: p for p in instance.pickup_sites}
    season_of = {s.id: s.season for s in instance.scenarios}
    radius = instance.operations.coverage_radius_min
    vids = [v.id for v in instance.villages]
    if pts:
        lats = [p[2] for p in pts]
        lons = [p[1] for p in pts]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]])

    order = sorted(range(len(result.outcomes)),
                   key=lambda i: result.outcomes[i].plan == "baseline")
    first_plan = True
    for i in order:  # plan layers first, then baselines (hidden)
        o = result.outcomes[i]
        show = o.plan != "baseline" and first_plan
        first_plan = first_plan and not show
        fg = folium.FeatureGroup(name=f"{o.scenario}: {o.plan}", show=show)
        f = o.facilities
        pps = sorted(f.pickup_points)
        mins = _minutes(matrices.get(o.scenario), vids, pps)
        for v in instance.villages:
            best = min(mins.get(v.id, {}).values(), default=math.inf)
            ok = best <= radius
            folium.CircleMarker(
                [v.lat, v.lon], radius=3, color="#2e7d32" if ok else "#c62828", fill=True,
                fill_opacity=0.8, weight=1,
                tooltip=f"{v.name} ({v.id}): {v.households} households, "
                + (f"{best:.0f} min to a pickup point" if math.isfinite(best)
                   else "no pickup point reachable")
                + ("" if ok else f" (> {radius:g} min)"),
            ).add_to(fg)
        for j, r in enumerate(o.day.routes):
            folium.PolyLine(
                [(lat, lon) for lon, lat in geoms[(i, j)]], color=colour.get(r.vehicle_type,
                                                                              "#000000"),
                weight=4 if o.plan != "baseline" else 3, opacity=0.8,
                dash_array="6 6" if o.plan == "baseline" else None,
                tooltip=f"{o.scenario}/{o.plan} {r.vehicle_id} ({r.vehicle_type}) trip "
                f"{r.trip + 1}: {r.distance_km:.1f} km, {r.cost_yuan:.0f} yuan, "
                f"{len(r.stops)} stops, {_hhmm(r.start_min)}-{_hhmm(r.end_min)}",
            ).add_to(fg)
        mods = f.modules.get(season_of.get(o.scenario, ""), {})
        for sid in f.cold_stores:
            s = stores.get(sid)
            if s is None:
                continue
            n = int(mods.get(sid, 0))
            folium.CircleMarker(
                [s.lat, s.lon], radius=6 + 3 * n, color="#0d47a1", fill=True,
                fill_color="#42a5f5", fill_opacity=0.6, weight=2,
                tooltip=f"cold store {s.name} ({sid}): {n} modules x "
                f"{s.module_capacity_t:g} t" + (" (existing)" if s.existing else " (new)"),
            ).add_to(fg)
        for pid in pps:
            p = pickups.get(pid)
            if p is None:
                continue
            folium.Marker(  # a purple square; DivIcon is core Leaflet (no plugin needed)
                [p.lat, p.lon],
                icon=folium.DivIcon(
                    html='<div class="coldchain-pickup" style="width:10px;height:10px;'
                    'background:#ce93d8;border:2px solid #6a1b9a"></div>',
                    icon_size=(14, 14), icon_anchor=(7, 7), class_name="coldchain-pickup-icon"),
                tooltip=f"pickup point {p.name} ({pid})" + (" (existing)" if p.existing
                                                           else " (new)"),
            ).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    legend = "".join(
        f'<div><span style="display:inline-block;width:18px;height:4px;background:{c};'
        f'margin-right:6px;vertical-align:middle"></span>{vt}</div>'
        for vt, c in colour.items())
    m.get_root().html.add_child(folium.Element(  # type: ignore[attr-defined]
        '<div id="coldchain-legend" style="position:fixed;bottom:24px;left:12px;z-index:1000;'
        'background:white;padding:6px 8px;border:1px solid #999;font:12px sans-serif">'
        f"<b>{result.instance}</b><div>vehicle types (dashed: baseline)</div>{legend}"
        '<div><span style="color:#2e7d32">&#9679;</span> village covered '
        f'<span style="color:#c62828">&#9679;</span> not covered (&gt; {radius:g} min)</div>'
        "</div>"))
    return str(m.get_root().render())


# ---- entry point ---------------------------------------------------------------------------
def write_outputs(
    out_dir: str | Path,
    instance: Instance,
    result: PlanningResult,
    *,
    networks: Mapping[str, RoadNetwork],
    matrices: Mapping[str, Matrices],
) -> list[Path]:
    """Write plan.json, plan.gpkg, kpis.csv, the charts, report.md and map.html to ``out_dir``.

    ``networks`` and ``matrices`` are keyed by scenario id (the network and matrices the
    scenario was routed on) and are used to draw routes along the roads; a scenario missing
    from them is drawn with straight segments. Every file is written atomically. Raises
    :class:`InputError` when ``out_dir`` cannot be created or written, or when an output
    would overwrite one of the instance's input files. Returns the paths written, in order.
    """
    out = Path(out_dir)
    paths = {name: out / name for name in OUTPUT_NAMES}
    inputs = _input_files(instance)
    for p in paths.values():
        if p.resolve() in inputs:
            raise InputError.at(p, None, "would overwrite an input file of instance "
                                f"{instance.name}", fix="choose another --out directory")
    if instance.source is not None:
        src = Path(instance.source)
        inst_dir = (src.parent if src.suffix else src).resolve()
        if out.resolve() == inst_dir:
            raise InputError.at(out, None, "is the instance's own directory",
                                fix="choose another --out directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError.at(out, None, f"cannot create the output directory ({exc.strerror})",
                            fix="choose a writable --out directory") from None
    if not out.is_dir():
        raise InputError.at(out, None, "is not a directory", fix="choose a directory for --out")

    geoms: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for i, o in enumerate(result.outcomes):
        for j, r in enumerate(o.day.routes):
            geoms[(i, j)] = route_coords(instance, r, networks.get(o.scenario),
                                         matrices.get(o.scenario))

    written: list[Path] = []
    write_text(paths[PLAN_JSON], dumps_plan(result))
    written.append(paths[PLAN_JSON])
    frames = _gpkg_frames(instance, result, geoms, matrices)
    _atomic(paths[PLAN_GPKG], lambda tmp: _write_gpkg(tmp, frames), suffix=".tmp.gpkg")
    written.append(paths[PLAN_GPKG])
    write_text(paths[KPIS_CSV], _csv_text(result))
    written.append(paths[KPIS_CSV])
    _atomic(paths[COST_PNG], lambda tmp: _chart(tmp, result, "cost_per_order_yuan",
                                                 "yuan per order", "Cost per order"),
            suffix=".tmp.png")
    written.append(paths[COST_PNG])
    _atomic(paths[SPOILAGE_PNG], lambda tmp: _chart(tmp, result, "spoilage_mass_pct",
                                                     "% of produce mass", "Spoilage"),
            suffix=".tmp.png")
    written.append(paths[SPOILAGE_PNG])
    write_text(paths[REPORT_MD], _markdown(instance, result))
    written.append(paths[REPORT_MD])
    write_text(paths[MAP_HTML], _map_html(instance, result, geoms, matrices))
    written.append(paths[MAP_HTML])
    log.info("wrote %d files to %s", len(written), out)
    return written


__all__ = [
    "GPKG_LAYERS",
    "KPI_SPECS",
    "OUTPUT_NAMES",
    "kpi_rows",
    "print_kpi_table",
    "route_coords",
    "write_outputs",
]
