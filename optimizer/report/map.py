"""map.html: a self-contained interactive map that works with no network.

The page inlines Leaflet 1.9.4 (BSD-2-Clause, vendored in ``optimizer/report/static/leaflet``),
its own script and style (``static/map.js``, ``static/map.css``) and the plan as one JSON
block, so it loads nothing: the roads of the instance's network by class are the offline
background (no tiles by default); one layer per scenario and plan shows the villages
coloured by coverage (minutes to the nearest open pickup point against the radius), the
cold stores sized by modules, the open pickup points, the roads closed that day and the
routes coloured per vehicle type (baseline dashed). Popups: a route (vehicle, trip, depot,
start/end HH:MM, km, cost, its stops in order with arrival HH:MM, kg and load after; its
stops are numbered while the popup is open) and a site (who calls when). A panel shows the
year in money and the key figures per scenario. Online tiles (OpenStreetMap; Tianditu
when a key is given, :data:`TIANDITU_KEY_ENV`) can be switched on in the layer control.

Polylines are simplified (:data:`ROUTE_TOLERANCE_M`, :data:`ROAD_TOLERANCE_M`) and stored
at 1e-5 degrees in Google's encoded polyline format. Coordinates lon/lat, EPSG:4326; times
in minutes of the day, shown HH:MM.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from optimizer.instance import Instance
from optimizer.plans import PlannedRoute, PlanningResult
from optimizer.report.geometry import COORD_DECIMALS, _minutes, _roads, _simplify
from optimizer.report.tables import (
    YEAR_SPECS,
    _change,
    _fmt,
    _get,
    _reference,
    _scenarios,
    _stop_kg,
    year_summary,
)

if TYPE_CHECKING:
    from optimizer.planning.matrices import Matrices
    from optimizer.roads import RoadNetwork

log = logging.getLogger(__name__)

#: the environment variable holding a Tianditu (天地图) browser key; with it the layer
#: control offers Tianditu's map and satellite tiles (online, never the default)
TIANDITU_KEY_ENV = "TIANDITU_KEY"
#: Douglas-Peucker tolerances (metres) of the routes and of the roads drawn
ROUTE_TOLERANCE_M = 10.0
ROAD_TOLERANCE_M = 5.0

# colour per vehicle type, in the instance's order (colour-blind friendly Tableau palette)
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")
#: road class -> (colour, weight px, dash pattern): light, so the plan stands out
ROAD_STYLE: dict[str, tuple[str, float, str]] = {
    "expressway": ("#e39b32", 3.5, ""),
    "class1": ("#efbd6e", 3.0, ""),
    "class2": ("#8e8e8e", 2.4, ""),
    "class3": ("#a2a2a2", 1.8, ""),
    "class4": ("#b2b2b2", 1.4, ""),
    "track": ("#b8a47c", 1.2, "4 3"),
}
_OTHER_ROAD = ("#b2b2b2", 1.2, "")
#: rows of the year table in the map's panel: (short label, label in :data:`YEAR_SPECS`)
_PANEL_YEAR_ROWS = (
    ("orders a year", "orders (per year)"),
    ("logistics cost (yuan/year)", "logistics cost (yuan/year)"),
    ("cost per order (yuan)", "cost per order (yuan)"),
    ("operating cost per order", "operating cost per order (yuan)"),
    ("spoilage (t/year)", "spoilage (t/year)"),
    ("spoilage (million yuan/year)", "spoilage value (million yuan/year)"),
    ("spoilage (% of produce)", "spoilage (% of produce)"),
    ("pre-cooled in time (%)", "cold-chain coverage (% of produce pre-cooled in time)"),
    ("villages covered (%)", "villages covered by a pickup point (%, average day)"),
    ("investment (yuan, one-off)", "investment, total (yuan, one-off)"),
    ("hired vehicle-days a year", "hired vehicle-days (per year)"),
)
#: per-scenario columns of the panel: (Kpis field, heading, format)
_PANEL_KPIS = (
    ("cost_per_order_yuan", "cost per order (yuan)", ",.2f"),
    ("spoilage_mass_pct", "spoilage (%)", ",.2f"),
    ("cold_chain_pct", "pre-cooled in time (%)", ",.1f"),
    ("village_coverage_pct", "villages covered (%)", ",.1f"),
)
_TIANDITU_KEY = re.compile(r"[0-9A-Za-z]{16,64}")
_TIANDITU_URL = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                 "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                 "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=")


def encode_polyline(coords: Sequence[tuple[float, float]]) -> str:
    """Google's encoded polyline (precision 1e-5 degrees) of lon/lat ``coords``; the
    decoder yields (lat, lon) pairs, as Leaflet wants them."""
    out: list[str] = []
    prev_lat = prev_lon = 0
    scale = 10 ** COORD_DECIMALS
    for lon, lat in coords:
        ilat, ilon = round(lat * scale), round(lon * scale)
        for delta in (ilat - prev_lat, ilon - prev_lon):
            v = ~(delta << 1) if delta < 0 else delta << 1
            while v >= 0x20:
                out.append(chr((0x20 | (v & 0x1F)) + 63))
                v >>= 5
            out.append(chr(v + 63))
        prev_lat, prev_lon = ilat, ilon
    return "".join(out)


def _tile_layers(tianditu_key: str | None) -> list[dict[str, Any]]:
    """Online tile layers offered in the layer control (none is shown by default)."""
    tiles: list[dict[str, Any]] = [{
        "name": "OpenStreetMap (online)",
        "urls": ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"],
        "subdomains": "abc", "maxZoom": 19,
        "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">'
                       "OpenStreetMap</a> contributors",
    }]
    key = (tianditu_key or "").strip()
    if key and not _TIANDITU_KEY.fullmatch(key):
        log.warning("%s is not a Tianditu key (16-64 letters and digits): Tianditu tiles "
                    "left out of map.html", TIANDITU_KEY_ENV)
        key = ""
    if key:
        for name, base, labels in (("Tianditu map (online)", "vec", "cva"),
                                   ("Tianditu satellite (online)", "img", "cia")):
            tiles.append({
                "name": name,
                "urls": [_TIANDITU_URL.replace("{layer}", base) + key,
                         _TIANDITU_URL.replace("{layer}", labels) + key],
                "subdomains": "01234567", "maxZoom": 18,
                "attribution": "&copy; 天地图 Tianditu",
            })
    return tiles


def _num(x: float, digits: int) -> float | None:
    """``x`` rounded for the page; None when not finite."""
    x = float(x)
    return round(x, digits) if math.isfinite(x) else None


def _panel(instance: Instance, result: PlanningResult) -> dict[str, Any]:
    """The KPI panel: the year table (subset), its summary line, and per scenario the
    baseline and plan of a few key figures (strings, formatted as in the report)."""
    b, p = result.year_of("baseline"), result.year_of("plan")
    year: list[list[str]] = []
    specs = {spec.label: spec for spec in YEAR_SPECS}
    if b is not None or p is not None:
        for short, label in _PANEL_YEAR_ROWS:
            spec = specs[label]
            bv = float(spec.value(b)) if b is not None else None
            pv = float(spec.value(p)) if p is not None else None
            year.append([short, _fmt(bv, spec.fmt), _fmt(pv, spec.fmt),
                         _change(bv, pv, spec.fmt, grouped=True)])
    rows: list[list[str]] = []
    for sc in _scenarios(result):
        ob, op = _get(result, sc, "baseline"), _get(result, sc, "plan")
        for plan, o in (("baseline", ob), ("plan", op)):
            if o is None:
                continue
            rows.append([sc, plan] + [_fmt(float(getattr(o.kpis, f)), fmt)
                                      for f, _, fmt in _PANEL_KPIS])
    return {"year": year, "summary": year_summary(result, instance),
            "head": ["scenario", "plan"] + [h for _, h, _ in _PANEL_KPIS], "rows": rows}


def _road_layers(networks: Mapping[str, RoadNetwork]
                 ) -> tuple[list[list[Any]], dict[str, tuple[str, str]]]:
    """The roads by class, fastest first ([class, colour, weight, dash, [encoded, ...]]),
    and the name and encoded line of every road closed in some scenario, by edge id."""
    by_class: dict[str, list[str]] = {}
    closed: dict[str, tuple[str, str]] = {}
    for road in _roads(networks):
        line = encode_polyline(_simplify(road.coords, ROAD_TOLERANCE_M))
        by_class.setdefault(road.road_class, []).append(line)
        if road.closed_in:
            closed[road.edge_id] = (road.name, line)
    return ([[cls, *ROAD_STYLE.get(cls, _OTHER_ROAD), lines] for cls, lines in by_class.items()],
            closed)


def _route_data(route: PlannedRoute, coords: Sequence[tuple[float, float]],
                index: Mapping[str, int], type_index: Mapping[str, int]) -> list[Any]:
    """[type, vehicle, trip (1-based), depot, start, end (minutes), km, yuan, encoded line,
    stops: [[site, kind, arrival, start (minutes), kg picked up or delivered, load after]]]
    (sites and types by index; -1 when unknown)."""
    stops = [[index[s.site_id], s.kind, int(round(s.arrival_min)), int(round(s.start_min)),
              _num(_stop_kg(s), 1), _num(s.load_after_kg, 1)]
             for s in route.stops if s.site_id in index]
    return [type_index.get(route.vehicle_type, -1), route.vehicle_id, int(route.trip) + 1,
            index.get(route.depot, -1), int(round(route.start_min)), int(round(route.end_min)),
            _num(route.distance_km, 1), _num(route.cost_yuan, 0),
            encode_polyline(_simplify(coords, ROUTE_TOLERANCE_M)), stops]


def _payload(instance: Instance, result: PlanningResult,
             geoms: Mapping[tuple[int, int], list[tuple[float, float]]],
             matrices: Mapping[str, Matrices], networks: Mapping[str, RoadNetwork],
             tianditu_key: str | None) -> dict[str, Any]:
    """Everything the page draws, as JSON-ready data (sites by index, polylines encoded)."""
    sites: list[list[Any]] = []
    index: dict[str, int] = {}

    def add_site(sid: str, name: str, kind: str, lon: float, lat: float) -> None:
        if sid not in index:
            index[sid] = len(sites)
            sites.append([sid, name, kind, round(lat, COORD_DECIMALS),
                          round(lon, COORD_DECIMALS)])

    for v in instance.villages:
        add_site(v.id, v.name, "village", v.lon, v.lat)
    for s in instance.cold_store_sites:
        add_site(s.id, s.name, "cold store", s.lon, s.lat)
    for q in instance.pickup_sites:
        add_site(q.id, q.name, "pickup point", q.lon, q.lat)
    households = {v.id: int(v.households) for v in instance.villages}
    types = [vt.id for vt in instance.vehicle_types]
    type_index = {t: i for i, t in enumerate(types)}

    road_layers, closed_geom = _road_layers(networks)
    stores = {s.id: s for s in instance.cold_store_sites}
    pickups = {q.id: q for q in instance.pickup_sites}
    season_of = {s.id: s.season for s in instance.scenarios}
    vids = [v.id for v in instance.villages]
    order = sorted(range(len(result.outcomes)),
                   key=lambda i: result.outcomes[i].plan == "baseline")
    ref = _reference(result)  # shown first: the peak's plan; the other layers hidden
    layers: list[dict[str, Any]] = []
    for i in order:  # plan layers first, then baselines
        o = result.outcomes[i]
        show = o is ref
        f = o.facilities
        pps = sorted(f.pickup_points)
        mins = _minutes(matrices.get(o.scenario), vids, pps)
        villages = [[index[v], _num(min(mins.get(v, {}).values(), default=math.inf), 1),
                     households[v]] for v in vids]
        mods = f.modules.get(season_of.get(o.scenario, ""), {})
        layer_stores = [[index[sid], int(mods.get(sid, 0)), float(stores[sid].module_capacity_t),
                         int(bool(stores[sid].existing))]
                        for sid in f.cold_stores if sid in stores]
        layer_pickups = [[index[pid], int(bool(pickups[pid].existing))]
                         for pid in pps if pid in pickups]
        routes = [_route_data(r, geoms[(i, j)], index, type_index)
                  for j, r in enumerate(o.day.routes)]
        closed = [[eid, *closed_geom[eid]] for eid in o.closed_edges if eid in closed_geom]
        layers.append({
            "name": f"{o.scenario}: {o.plan}", "scenario": o.scenario, "plan": o.plan,
            "show": show, "villages": villages, "stores": layer_stores,
            "pickups": layer_pickups, "closed": closed, "routes": routes,
        })

    pts = [(lat, lon) for _, _, _, lat, lon in sites]
    bounds = ([[min(p[0] for p in pts), min(p[1] for p in pts)],
               [max(p[0] for p in pts), max(p[1] for p in pts)]] if pts else None)
    return {
        "title": f"{result.instance}: cold-chain plan",
        "instance": result.instance,
        "bounds": bounds,
        "radius": float(instance.operations.coverage_radius_min),
        "sites": sites,
        "types": [[t, _PALETTE[k % len(_PALETTE)]] for k, t in enumerate(types)],
        "roads": road_layers,
        "roadsAttribution": ("roads: " + ", ".join(sorted({n.name for n in networks.values()}))
                             if networks else ""),
        "tiles": _tile_layers(tianditu_key),
        "layers": layers,
        "panel": _panel(instance, result),
    }


def _static(name: str) -> str:
    return (resources.files("optimizer.report") / "static" / name).read_text(encoding="utf-8")


def _inline(text: str, tag: str) -> str:
    """``text`` safe inside ``<tag>``: no closing tag, no source-map fetch."""
    text = re.sub(r"^\s*/[/*]# sourceMappingURL=.*$", "", text, flags=re.MULTILINE)
    if f"</{tag}" in text.lower():
        raise ValueError(f"static text contains </{tag}")
    return text


def _map_html(instance: Instance, result: PlanningResult,
              geoms: Mapping[tuple[int, int], list[tuple[float, float]]],
              matrices: Mapping[str, Matrices],
              networks: Mapping[str, RoadNetwork] | None = None,
              tianditu_key: str | None = None) -> str:
    """The text of map.html: one file with Leaflet, the page's script and style and the
    plan inlined; nothing is fetched unless the user switches on an online tile layer."""
    data = _payload(instance, result, geoms, matrices, networks or {}, tianditu_key)
    # "<" only occurs inside JSON strings, where \\u003c is the same character
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).replace("<", "\\u003c")
    css = _inline(_static("leaflet/leaflet.css"), "style")
    css = re.sub(r"url\(images/[^)]*\)", "none", css)  # no images shipped (see README.md)
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)  # its comments (bug tracker links)
    title = html.escape(data["title"])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{title}</title>\n"
        "<!-- Leaflet 1.9.4, (c) 2010-2023 Volodymyr Agafonkin, (c) 2010-2011 CloudMade, "
        "BSD-2-Clause -->\n"
        f"<style>\n{css}\n</style>\n<style>\n{_inline(_static('map.css'), 'style')}\n</style>\n"
        "</head>\n<body>\n<div id=\"map\"></div>\n"
        f"<script id=\"coldchain-data\" type=\"application/json\">{blob}</script>\n"
        f"<script>\n{_inline(_static('leaflet/leaflet.js'), 'script')}\n</script>\n"
        f"<script>\n{_inline(_static('map.js'), 'script')}\n</script>\n"
        "</body>\n</html>\n"
    )
