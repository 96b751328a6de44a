"""plan.gpkg: one GeoPackage layer per kind of site and one for the routes.

:func:`_gpkg_frames` builds the GeoDataFrames (layers ``cold_stores``, ``pickup_points``,
``villages`` and ``routes``, EPSG:4326 lon/lat; modules per season, pickup minutes, produce
kg, route km, cost in yuan, start/end in minutes of the day) and :func:`_write_gpkg` writes
them with GDAL into a path the caller renames into place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.instance import Instance
from optimizer.plans import PlanningResult
from optimizer.report.geometry import _minutes
from optimizer.report.names import CRS, GPKG_LAYERS
from optimizer.report.tables import _reference

if TYPE_CHECKING:
    from optimizer.planning.matrices import Matrices


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
