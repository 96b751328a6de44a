"""plan.gpkg: one GeoPackage layer per kind of site, the routes, their stops and the roads.

:func:`_gpkg_frames` builds the GeoDataFrames (layers :data:`GPKG_LAYERS`, EPSG:4326
lon/lat): ``cold_stores`` (modules per season), ``pickup_points``, ``villages`` (minutes to
the assigned pickup point, produce kg), ``routes`` (``route_id``, km, cost in yuan, start
and end), ``stops`` (one row per stop: ``route_id``, vehicle, sequence from 1, site, kind
``pickup`` (produce collected) or ``delivery`` (parcels), kg, load after the stop in kg,
arrival and start of service) and ``roads`` (the networks the scenarios were routed on, by
class, km, the scenarios that closed each). Clock times are given twice: ``*_hhmm`` text
(HH:MM) and ``*_min`` minutes from midnight. :func:`_write_gpkg` writes the layers with
GDAL into a path the caller renames into place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.instance import Instance
from optimizer.plans import PlanningResult
from optimizer.report.geometry import _minutes, _roads
from optimizer.report.names import CRS, GPKG_LAYERS
from optimizer.report.tables import _hhmm, _reference, _stop_kg

if TYPE_CHECKING:
    from optimizer.planning.matrices import Matrices
    from optimizer.roads import RoadNetwork

#: columns of the routes, stops and roads layers (geometry last)
ROUTE_COLUMNS = ("route_id", "scenario", "plan", "vehicle", "type", "trip", "depot",
                 "start_hhmm", "start_min", "end_hhmm", "end_min", "km", "cost_yuan",
                 "n_stops", "stops", "geometry")
STOP_COLUMNS = ("route_id", "scenario", "plan", "vehicle", "type", "trip", "depot", "seq",
                "site_id", "site_name", "kind", "kg", "pickup_kg", "delivery_kg",
                "load_after_kg", "arrival_hhmm", "arrival_min", "start_hhmm", "start_min",
                "wait_min", "geometry")
ROAD_COLUMNS = ("edge_id", "road_class", "name", "km", "closed_in", "geometry")


def _gpkg_frames(instance: Instance, result: PlanningResult,
                 geoms: Mapping[tuple[int, int], list[tuple[float, float]]],
                 matrices: Mapping[str, Matrices],
                 networks: Mapping[str, RoadNetwork] | None = None) -> dict[str, Any]:
    """One GeoDataFrame per layer of :data:`GPKG_LAYERS`, keyed by layer name."""
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

    routes, stops = _route_frames(instance, result, geoms)
    roads = gpd.GeoDataFrame(
        [{"edge_id": r.edge_id, "road_class": r.road_class, "name": r.name,
          "km": r.length_m / 1000.0, "closed_in": ",".join(r.closed_in),
          "geometry": LineString(r.coords)} for r in _roads(networks or {})] or None,
        columns=list(ROAD_COLUMNS), geometry="geometry", crs=CRS)
    return {"cold_stores": cold, "pickup_points": pickup, "villages": villages,
            "routes": routes, "stops": stops, "roads": roads}


def _route_frames(instance: Instance, result: PlanningResult,
                  geoms: Mapping[tuple[int, int], list[tuple[float, float]]]
                  ) -> tuple[Any, Any]:
    """The routes layer (one line per route, ``route_id`` from 1 in the order of the
    outcomes) and the stops layer (one point per stop at its site, ``seq`` from 1)."""
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    xy = {sid: (lon, lat) for sid, lon, lat in instance.site_points()}
    names = {v.id: v.name for v in instance.villages}
    names |= {s.id: s.name for s in instance.cold_store_sites}
    names |= {p.id: p.name for p in instance.pickup_sites}
    rrows: list[dict[str, Any]] = []
    srows: list[dict[str, Any]] = []
    for i, o in enumerate(result.outcomes):
        for j, r in enumerate(o.day.routes):
            route_id = len(rrows) + 1
            common = {"route_id": route_id, "scenario": o.scenario, "plan": o.plan,
                      "vehicle": r.vehicle_id, "type": r.vehicle_type, "trip": int(r.trip) + 1,
                      "depot": r.depot}
            rrows.append(common | {
                "start_hhmm": _hhmm(r.start_min), "start_min": float(r.start_min),
                "end_hhmm": _hhmm(r.end_min), "end_min": float(r.end_min),
                "km": float(r.distance_km), "cost_yuan": float(r.cost_yuan),
                "n_stops": len(r.stops), "stops": " ".join(s.site_id for s in r.stops),
                "geometry": LineString(geoms[(i, j)]),
            })
            for seq, s in enumerate(r.stops, start=1):
                at = xy.get(s.site_id)
                srows.append(common | {
                    "seq": seq, "site_id": s.site_id, "site_name": names.get(s.site_id, ""),
                    "kind": s.kind, "kg": float(_stop_kg(s)), "pickup_kg": float(s.pickup_kg),
                    "delivery_kg": float(s.delivery_kg),
                    "load_after_kg": float(s.load_after_kg),
                    "arrival_hhmm": _hhmm(s.arrival_min), "arrival_min": float(s.arrival_min),
                    "start_hhmm": _hhmm(s.start_min), "start_min": float(s.start_min),
                    "wait_min": max(0.0, float(s.start_min - s.arrival_min)),
                    "geometry": Point(at) if at is not None else None,
                })
    routes = gpd.GeoDataFrame(rrows or None, columns=list(ROUTE_COLUMNS), geometry="geometry",
                              crs=CRS)
    stops = gpd.GeoDataFrame(srows or None, columns=list(STOP_COLUMNS), geometry="geometry",
                             crs=CRS)
    return routes, stops


def _write_gpkg(tmp: Path, frames: Mapping[str, Any]) -> None:
    import pyogrio

    geom_type = {"cold_stores": "Point", "pickup_points": "Point", "villages": "Point",
                 "routes": "LineString", "stops": "Point", "roads": "LineString"}
    for name in GPKG_LAYERS:
        pyogrio.write_dataframe(frames[name], tmp, layer=name, driver="GPKG",
                                geometry_type=geom_type[name])
