"""Coordinates in any CRS and GIS point layers for the instance tables.

A table's points arrive as lon/lat or x/y columns of a CSV file in the CRS named by
``[files] crs``, or as the Point geometries of a GeoPackage, GeoJSON or Shapefile layer in
the layer's own CRS. Everything leaves this module as lon/lat degrees WGS84 (EPSG:4326),
converted once by pyproj with ``always_xy=True`` (x is the easting or longitude). Every
problem is one line through :class:`InstanceError`. pyproj, pyogrio and shapely are
imported on first use, so an instance of plain lon/lat CSV tables never loads them.
"""

from __future__ import annotations

import difflib
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.errors import InstanceError

if TYPE_CHECKING:
    from pyproj import CRS

logger = logging.getLogger(__name__)

#: file suffix -> the kind of GIS file read as a point layer (any other suffix is a CSV table)
LAYER_SUFFIXES = {".gpkg": "GeoPackage", ".geojson": "GeoJSON", ".json": "GeoJSON",
                  ".shp": "Shapefile"}
CRS_FIX = ('write an EPSG code such as "EPSG:4545" (CGCS2000 3-degree Gauss-Kruger CM 108E), '
           '"EPSG:4490" (CGCS2000 lon/lat) or "EPSG:4326" (WGS84 lon/lat), or a WKT/PROJ string')


def layer_kind(path: Path) -> str | None:
    """``"GeoPackage"``, ``"GeoJSON"`` or ``"Shapefile"`` for a GIS file, None for a CSV."""
    return LAYER_SUFFIXES.get(path.suffix.lower())


def _first_line(exc: BaseException, n: int = 160) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= n else text[:n] + "..."


def parse_crs(path: Path, field: str, text: str) -> CRS:
    """The CRS ``text`` names (EPSG code, WKT or PROJ string), 2D geographic or projected.

    ``path`` and ``field`` name where it was written, for the one-line error.
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    got = text if len(text) <= 80 else text[:80] + "..."
    try:
        crs = CRS.from_user_input(text)
    except CRSError as exc:
        # "Invalid projection: X: (Internal Proj Error: proj_create: crs not found: X)"
        m = re.search(r"proj_create: ([^)]*)", str(exc))
        reason = m.group(1).strip() if m else _first_line(exc, 80)
        reason = reason if len(reason) <= 80 else reason[:80] + "..."
        raise InstanceError.at(path, field, f"not a CRS pyproj knows ({reason})", got=got,
                               fix=CRS_FIX) from None
    if not (crs.is_geographic or crs.is_projected):
        raise InstanceError.at(path, field, f"not a geographic or projected CRS "
                               f"({crs.type_name})", got=got, fix=CRS_FIX)
    return crs


def crs_label(crs: CRS) -> str:
    """A short name of ``crs``: ``EPSG:4545`` where it has a code, else its name."""
    auth = crs.to_authority(min_confidence=90)
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def is_wgs84(crs: CRS) -> bool:
    """Whether ``crs`` is lon/lat WGS84 (EPSG:4326 or OGC:CRS84): no conversion needed."""
    from pyproj import CRS

    return bool(crs.equals(CRS.from_epsg(4326), ignore_axis_order=True))


def to_wgs84(crs: CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon, lat (degrees WGS84) of points ``x``, ``y`` in ``crs`` (x the easting or
    longitude, in the CRS's units). A point outside the conversion's domain gives inf."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if is_wgs84(crs):
        return x, y
    from pyproj import Transformer

    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def first_bad_point(lon: np.ndarray, lat: np.ndarray) -> int | None:
    """Index of the first point that is not finite lon in [-180, 180], lat in [-90, 90]."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else None


@dataclass(frozen=True)
class PointLayer:
    """One point layer as a table: attribute names, attribute values as strings (null -> ""),
    each feature's label (``feature <FID>``) and position (lon/lat degrees WGS84)."""

    label: str  # "sites.gpkg (layer 'villages')": names the file and the layer in messages
    header: list[str]
    rows: list[list[str]]
    features: list[str]
    lon: np.ndarray
    lat: np.ndarray


def _cell(value: Any) -> str:
    """An attribute value as the text a CSV cell would hold; null is an empty cell."""
    if value is None:
        return ""
    try:
        if bool(value != value):  # NaN, NaT
            return ""
    except (TypeError, ValueError):  # pd.NA and other values without a truth value
        return ""
    if isinstance(value, float | np.floating):
        v = float(value)
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _geometry_name(geom: Any) -> str:
    if geom is None:
        return "no geometry"
    if geom.is_empty:
        return f"empty {geom.geom_type}"
    if geom.geom_type == "MultiPoint":
        return f"MultiPoint of {len(geom.geoms)} points"
    return str(geom.geom_type)


def read_point_layer(path: Path, what: str, layer: str | None, crs: CRS | None, *,
                     max_rows: int) -> PointLayer:
    """Read the point layer ``layer`` of ``path`` (None: the file's only layer) as a table.

    ``what`` is the table's key under ``[files]`` (for messages); ``crs`` (``[files] crs``)
    is used only where the layer has none. Raises :class:`InstanceError` (one line) for an
    unreadable file, a missing or unnamed layer, a layer without CRS, a geometry other than
    a point, a point that does not convert to lon/lat, or more than ``max_rows`` features.
    """
    import pyogrio
    import shapely

    kind = LAYER_SUFFIXES[path.suffix.lower()]
    unreadable = f"check that the file is a valid {kind} point layer"
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        raise InstanceError.at(path, what, f"cannot read as {kind} ({_first_line(exc)})",
                               fix=unreadable) from None
    if not names:
        raise InstanceError.at(path, what, "no layer in the file", fix=unreadable)
    if layer is None:
        if len(names) > 1:
            raise InstanceError.at(
                path, what, f"{len(names)} layers and none chosen", got=", ".join(names),
                fix=f'name one in instance.toml: {what} = {{ path = "{path.name}", '
                    f'layer = "{names[0]}" }}')
        layer = names[0]
    elif layer not in names:
        close = difflib.get_close_matches(layer, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InstanceError.at(path, f"{what}.layer", "no such layer in the file", got=layer,
                               fix=f"{hint}the file's layers: {', '.join(names)}")
    label = f"{path} (layer {layer!r})"
    try:
        count = int(pyogrio.read_info(path, layer=layer).get("features", -1))
        if count > max_rows:
            raise InstanceError.at(label, what, f"more than {max_rows} features",
                                   fix="split the county into several instances")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    except InstanceError:
        raise
    except Exception as exc:
        raise InstanceError.at(label, what, f"cannot read the layer ({_first_line(exc)})",
                               fix=unreadable) from None
    if len(gdf) > max_rows:  # a driver that did not count its features beforehand
        raise InstanceError.at(label, what, f"more than {max_rows} features",
                               fix="split the county into several instances")
    features = [f"feature {fid}" for fid in gdf.index.tolist()]
    src = gdf.crs
    if src is None:
        if crs is None:
            raise InstanceError.at(label, what, "the layer has no CRS",
                                   fix="set the layer's CRS (QGIS: Export > Save Features "
                                       'As... with a CRS), or add crs = "EPSG:...." under '
                                       "[files] of instance.toml")
        src = crs
    elif crs is not None and not src.equals(crs, ignore_axis_order=True):
        logger.info("%s: the layer's CRS %s is used, not files.crs %s", label,
                    crs_label(src), crs_label(crs))
    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    type_id = shapely.get_type_id(geoms)
    single = (type_id == 4) & (shapely.get_num_geometries(geoms) == 1)  # MultiPoint of one
    if single.any():
        geoms = geoms.copy()
        geoms[single] = shapely.get_geometry(geoms[single], 0)
    is_point = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    if not is_point.all():
        i = int(np.flatnonzero(~is_point)[0])
        raise InstanceError.at(label, f"{features[i]}.geometry", "must be a Point",
                               got=_geometry_name(gdf.geometry.iloc[i]),
                               fix="store the sites as points (QGIS: Vector > Geometry Tools "
                                   "> Centroids)")
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    lon, lat = to_wgs84(src, x, y)
    bad = first_bad_point(lon, lat)
    if bad is not None:
        raise InstanceError.at(label, f"{features[bad]}.geometry",
                               f"does not convert from {crs_label(src)} to lon/lat",
                               got=(float(x[bad]), float(y[bad])),
                               fix="check the point and the layer's CRS")
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    values = [[_cell(v) for v in gdf[c].tolist()] for c in columns]
    rows = [list(r) for r in zip(*values, strict=True)] if values else [[] for _ in features]
    return PointLayer(label=label, header=[str(c) for c in columns], rows=rows,
                      features=features, lon=lon, lat=lat)


__all__ = ["LAYER_SUFFIXES", "PointLayer", "crs_label", "first_bad_point", "is_wgs84",
           "layer_kind", "parse_crs", "read_point_layer", "to_wgs84"]
