"""map.html: an interactive folium (Leaflet) map, one layer per scenario and plan.

Villages coloured by coverage (minutes to the nearest open pickup point against the
coverage radius), routes coloured per vehicle type (baseline dashed), cold stores sized by
modules, pickup points as squares, and a legend. Coordinates lon/lat, EPSG:4326.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from optimizer.instance import Instance
from optimizer.plans import PlanningResult
from optimizer.report.geometry import _minutes
from optimizer.report.tables import _hhmm

if TYPE_CHECKING:
    from optimizer.planning.matrices import Matrices


# colour per vehicle type, in the instance's order (colour-blind friendly Tableau palette)
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")


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
