"""Read instance files: a TOML file plus three tables beside it.

A table is a CSV file (lon/lat columns, or x/y columns in ``[files] crs``) or a point layer
of a GeoPackage, GeoJSON or Shapefile (read by :mod:`optimizer.formats._gis`); both feed
one validated :class:`_Table`. The format is documented in ``instances/README.md``. Every
problem in a file is reported as one line ``path: field: problem (got value); fix`` through
:class:`InstanceError`; columns a table does not use are ignored with one warning.
"""

from __future__ import annotations

import csv
import difflib
import logging
import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from optimizer._io import os_reason
from optimizer.errors import InstanceError
from optimizer.formats._gis import (
    crs_label,
    first_bad_point,
    layer_kind,
    parse_crs,
    read_point_layer,
    to_wgs84,
)
from optimizer.instance import (
    ColdStorage,
    ColdStoreSite,
    Economics,
    Instance,
    Operations,
    PickupSite,
    Product,
    Scenario,
    Season,
    VehicleType,
    Village,
)

ROAD_CLASSES = ("expressway", "class1", "class2", "class3", "class4", "track")
MAX_VILLAGES = 200_000
MAX_FILE_BYTES = 500 * 1024 * 1024
MAX_TOML_BYTES = 16 * 1024 * 1024  # an instance TOML is a few kB; refuse before parsing
# upper bounds of magnitudes: the solver works in int64 fen, kg, m and s, so absurd values
# (1e308, 2**63) are refused where they enter rather than overflowing inside OR-Tools
MAX_YUAN = 1e9  # any single cost or price, yuan
MAX_YUAN_PER_KG = 1e5
MAX_KG = 1e7  # any mass (kg) per vehicle, lot, order or village-day
MAX_COUNT = 1e8  # households, orders per day

if TYPE_CHECKING:
    from pyproj import CRS

logger = logging.getLogger(__name__)

_Strict = ConfigDict(extra="forbid", strict=False, frozen=True)


class _TableFile(BaseModel):
    """A table's file: a CSV, or a GIS file and the layer to read (None: its only one)."""

    model_config = _Strict
    path: str
    layer: str | None = None


def _table_file(value: Any) -> Any:
    """``villages = "v.csv"`` means ``villages = { path = "v.csv" }``."""
    if isinstance(value, str):
        return {"path": value}
    if not isinstance(value, dict):
        raise ValueError('must be a file name, or { path = "file", layer = "layer name" }')
    return value


_TableFileRef = Annotated[_TableFile, BeforeValidator(_table_file)]


class _Files(BaseModel):
    model_config = _Strict
    network: str
    villages: _TableFileRef
    cold_store_sites: _TableFileRef
    pickup_sites: _TableFileRef
    crs: str | None = None  # of the CSV tables' x/y or lon/lat columns; None: EPSG:4326


class _Product(BaseModel):
    model_config = _Strict
    name: str
    value_yuan_per_kg: float = Field(gt=0, le=MAX_YUAN_PER_KG, allow_inf_nan=False)
    order_kg: float = Field(gt=0, le=MAX_KG, allow_inf_nan=False)
    decay_per_h_at_ref: float = Field(ge=0, le=1, allow_inf_nan=False)
    ref_temp_c: float = Field(default=22.0, ge=-30, le=60, allow_inf_nan=False)
    q10: float = Field(default=3.0, ge=1, le=10, allow_inf_nan=False)
    ambient_temp_c: float = Field(default=22.0, ge=-30, le=60, allow_inf_nan=False)
    storage_temp_c: float = Field(default=0.0, ge=-30, le=60, allow_inf_nan=False)
    uncollected_ambient_h: float = Field(default=72.0, ge=0, le=2000, allow_inf_nan=False)
    perishable_requires_reefer: bool = False


class _Operations(BaseModel):
    model_config = _Strict
    day_start: str = "06:00"
    day_end: str = "20:00"
    harvest_ready: str = "08:00"
    precool_deadline_h: float = Field(default=12.0, gt=0, le=240, allow_inf_nan=False)
    coverage_radius_min: float = Field(default=30.0, gt=0, le=1440, allow_inf_nan=False)
    max_snap_m: float = Field(default=3000.0, gt=0, le=1e6, allow_inf_nan=False)
    service_min_per_stop: float = Field(default=10.0, ge=0, le=600, allow_inf_nan=False)
    service_min_per_t: float = Field(default=6.0, ge=0, le=600, allow_inf_nan=False)
    lot_kg: float = Field(default=5000.0, gt=0, le=MAX_KG, allow_inf_nan=False)
    hub: str
    reload_min: float = Field(default=20.0, ge=0, le=600, allow_inf_nan=False)


def _yuan(default: float) -> Any:
    return Field(default=default, ge=0, le=MAX_YUAN, allow_inf_nan=False)


class _ColdStorage(BaseModel):
    model_config = _Strict
    turns_per_day: float = Field(default=1.0, gt=0, le=24, allow_inf_nan=False)
    module_add_cost_yuan: float = _yuan(5000.0)
    module_remove_cost_yuan: float = _yuan(2000.0)
    module_buy_yuan: float = _yuan(120_000.0)
    module_power_yuan_per_day: float = _yuan(72.0)
    module_lease_yuan_per_day: float = _yuan(150.0)
    site_staff_yuan_per_day: float = _yuan(150.0)
    standby_yuan_per_season: float = _yuan(1_000.0)


class _Economics(BaseModel):
    model_config = _Strict
    discount_rate: float = Field(default=0.06, gt=0, lt=1, allow_inf_nan=False)
    horizon_years: int = Field(default=10, ge=1, le=100)
    site_life_years: float = Field(default=15.0, gt=0, le=100, allow_inf_nan=False)
    module_life_years: float = Field(default=10.0, gt=0, le=100, allow_inf_nan=False)
    vehicle_life_years: float = Field(default=8.0, gt=0, le=100, allow_inf_nan=False)
    pickup_life_years: float = Field(default=5.0, gt=0, le=100, allow_inf_nan=False)
    pickup_setup_yuan: float = _yuan(3_000.0)
    line_haul_yuan_per_kg: float = Field(default=0.0, ge=0, le=MAX_YUAN_PER_KG,
                                         allow_inf_nan=False)


class _Vehicle(BaseModel):
    model_config = _Strict
    id: str = Field(min_length=1)
    count: int = Field(ge=0, le=10_000)
    capacity_kg: float = Field(gt=0, le=MAX_KG, allow_inf_nan=False)
    fixed_cost_yuan_per_day: float = Field(ge=0, le=MAX_YUAN, allow_inf_nan=False)
    cost_yuan_per_km: float = Field(ge=0, le=MAX_YUAN, allow_inf_nan=False)
    refrigeration_yuan_per_h: float = Field(default=0.0, ge=0, le=MAX_YUAN, allow_inf_nan=False)
    temperature_c: float = Field(ge=-30, le=60, allow_inf_nan=False)
    profile: Literal["truck", "van", "tricycle"]
    depot: str
    forbidden_road_classes: list[Literal[ROAD_CLASSES]] = []  # type: ignore[valid-type]
    max_trips: int = Field(default=1, ge=1, le=20)
    baseline_count: int = Field(default=0, ge=0, le=10_000)
    co2_kg_per_km: float = Field(default=0.3, ge=0, le=MAX_KG, allow_inf_nan=False)
    purchase_yuan: float = _yuan(0.0)
    hire_yuan_per_day: float | None = Field(default=None, ge=0, le=MAX_YUAN,
                                            allow_inf_nan=False)
    max_hired: int = Field(default=0, ge=0, le=10_000)


class _Season(BaseModel):
    model_config = _Strict
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    days: int = Field(gt=0, le=366)
    label: str = ""


class _Scenario(BaseModel):
    model_config = _Strict
    id: str = Field(min_length=1)
    season: str
    label: str = ""
    produce_multiplier: float = Field(default=1.0, ge=0, le=100, allow_inf_nan=False)
    order_multiplier: float = Field(default=1.0, ge=0, le=100, allow_inf_nan=False)
    rain_speed_factor: dict[Literal[ROAD_CLASSES], float] = {}  # type: ignore[valid-type]
    closure_probability: dict[Literal[ROAD_CLASSES], float] = {}  # type: ignore[valid-type]
    closure_samples: int = Field(default=0, ge=0, le=1000)
    closed_edges: list[str] = []
    hold_h: float = Field(default=0.0, ge=0, le=1000, allow_inf_nan=False)
    outage_h: dict[str, float] = {}
    seed: int = 0
    probability: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)


class _InstanceFile(BaseModel):
    model_config = _Strict
    format_version: Literal[1]
    name: str = Field(min_length=1)
    title: str = ""
    county_code: str = ""
    synthetic: str = ""
    files: _Files
    product: _Product
    operations: _Operations
    cold_storage: _ColdStorage = _ColdStorage()
    economics: _Economics = _Economics()
    vehicles: list[_Vehicle] = Field(min_length=1)
    seasons: list[_Season] = Field(min_length=1)
    scenarios: list[_Scenario] = []


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_FIXES = {
    "extra_forbidden": "remove it or check its spelling (see instances/README.md)",
    "missing": "add it (see instances/README.md)",
}


def _pydantic_error(path: Path, err: ValidationError) -> InstanceError:
    e = err.errors()[0]
    field = _loc(tuple(e["loc"]))
    kind = e["type"]
    problem = "unknown key" if kind == "extra_forbidden" else e["msg"].lower()
    if kind == "value_error":  # our own validators' messages, without pydantic's prefix
        problem = str(e.get("ctx", {}).get("error", problem))
    fix = _FIXES.get(kind, "fix the value (see instances/README.md)")
    got = e.get("input") if kind != "missing" else None
    if kind == "missing":
        return InstanceError.at(path, field, "missing required key", fix=fix)
    return InstanceError.at(path, field, problem, got=got, fix=fix)


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[:n] + "..."


def _parse_hhmm(path: Path, field: str, text: str) -> int:
    try:
        h, m = text.split(":")
        hh, mm = int(h), int(m)
        if not (0 <= hh <= 24 and 0 <= mm < 60) or hh * 60 + mm > 24 * 60:
            raise ValueError
    except ValueError:
        raise InstanceError.at(path, field, "not a time of day", got=text,
                               fix='write "HH:MM", e.g. "06:00"') from None
    return hh * 60 + mm


def _check_size(path: Path, what: str, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse, before reading, a missing file, a directory, a device/pipe, or a huge file."""
    try:
        path.stat()
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # too long, a NUL, no permission, a loop...
        raise InstanceError.at(path, what, f"cannot access the file ({os_reason(exc)})",
                               fix="check the path (relative to the instance TOML)") from None
    if not path.exists():
        raise InstanceError.at(path, what, "file not found",
                               fix="check the path (relative to the instance TOML)")
    if path.is_dir():
        raise InstanceError.at(path, what, "is a directory, not a file",
                               fix="name the file itself")
    if not path.is_file():  # /dev/zero, a named pipe...: reading could hang or never end
        raise InstanceError.at(path, what, "not a regular file (a device, pipe or socket)",
                               fix="name an ordinary file")
    size = path.stat().st_size
    if size > limit:
        raise InstanceError.at(path, what, f"file too large ({size / 1e6:,.0f} MB)",
                               fix=f"this file must be under {limit / 1e6:,.0f} MB")


@dataclass(frozen=True)
class _Source:
    """Where a table comes from: a CSV file, or a GIS file and (optionally) its layer."""

    path: Path
    layer: str | None = None


#: coordinate column names (case-insensitive): lon/lat in degrees, or x/y in files.crs
_LONLAT = ("lon", "lat")
_XY = ("x", "y")
#: difflib ratio from which an unused column is taken for a misspelt column of the table
NEAR_MISS = 0.8


def _read_csv(path: Path, what: str) -> tuple[list[str], list[list[str]]]:
    """Header and non-blank rows of a UTF-8 CSV file, as strings (at most MAX_VILLAGES)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InstanceError.at(path, what, "empty file",
                                       fix="write a header row and one row per item")
            if header:  # a file saved twice with a byte-order mark carries two of them
                header[0] = header[0].lstrip("\ufeff")
            rows: list[list[str]] = []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                if len(rows) >= MAX_VILLAGES:
                    raise InstanceError.at(path, what, f"more than {MAX_VILLAGES} rows",
                                           fix="split the county into several instances")
                bad = next((c for c in row if not c.isprintable()), None)
                if bad is not None:
                    ch = next(ch for ch in bad if not ch.isprintable())
                    raise InstanceError.at(path, f"line {reader.line_num}",
                                           f"a control character {ch!r} in a cell",
                                           got=bad[:40], fix="remove it (save the table as "
                                           "plain UTF-8 CSV)")
                rows.append(row)
    except UnicodeDecodeError:
        raise InstanceError.at(path, what, "not a UTF-8 CSV file",
                               fix="save the table as UTF-8 CSV") from None
    except OSError as exc:
        raise InstanceError.at(path, what, f"cannot read the file ({exc.strerror or exc})",
                               fix="check the file's permissions") from None
    except csv.Error as exc:
        raise InstanceError.at(path, what, f"malformed CSV ({exc})",
                               fix="save the table as CSV") from None
    return header, rows


def _near_miss(col: str, candidates: list[str]) -> str | None:
    """The candidate ``col`` is probably a misspelling of (case-insensitive), or None."""
    low = {c.lower(): c for c in candidates}
    hit = difflib.get_close_matches(col.lower(), list(low), n=1, cutoff=NEAR_MISS)
    return low[hit[0]] if hit else None


class _Table:
    """One table as header + string rows, from a CSV file or a GIS point layer, validated by
    the same code: typed column access, and each row's lon/lat in degrees WGS84.

    Columns the table does not use are ignored with one warning; an unused column that is a
    near-miss of a column the table uses but lacks is refused (a misspelt column would
    otherwise be ignored silently and change the answer). Coordinates of a CSV come from
    ``lon``/``lat`` (degrees) or ``x``/``y`` columns (any case) in ``crs`` (None: lon/lat
    WGS84); those of a layer from its Point geometries, in the layer's CRS.
    """

    def __init__(self, src: _Source, what: str, required: list[str], optional: list[str],
                 crs: CRS | None = None) -> None:
        path = src.path
        _check_size(path, what)
        self.path = path
        kind = layer_kind(path)
        self._features: list[str] | None = None
        pair: tuple[str, str] | None = None
        if kind is None:
            if src.layer is not None:
                raise InstanceError.at(path, f"{what}.layer", "a CSV file has no layers",
                                       got=src.layer, fix="remove layer, or name a GeoPackage,"
                                       " GeoJSON or Shapefile")
            self.where: object = path
            header, self.rows = _read_csv(path, what)
        else:
            layer = read_point_layer(path, what, src.layer, crs, max_rows=MAX_VILLAGES)
            self.where = layer.label
            header, self.rows = layer.header, layer.rows
            self._features = layer.features
            self.lon, self.lat = layer.lon, layer.lat
        self.header = [h.strip() for h in header]
        for i, col in enumerate(self.header):
            if not col:
                raise InstanceError.at(self.where, f"column {i + 1}", "column without a name",
                                       fix="name the column or delete it")
        if kind is None:
            pair = self._coordinate_columns()
        known = required + optional
        absent = [c for c in known if c not in self.header]
        if kind is None and pair is None:
            absent += list(_LONLAT)
        ignored = []
        for col in self.header:
            if col in known or (pair is not None and col in pair):
                continue
            close = None if col.lower() in _LONLAT + _XY else _near_miss(col, absent)
            if close is not None:
                raise InstanceError.at(self.where, col, "unknown column",
                                       fix=f"did you mean {close!r}? rename it (a misspelt "
                                           "column would be ignored and change the answer)")
            ignored.append(col)
        for col in required:
            if col not in self.header:
                short = " (Shapefile field names are cut to 10 characters: use a GeoPackage)"
                raise InstanceError.at(self.where, col, "missing column",
                                       fix="add the column (see instances/README.md)"
                                       + (short if kind == "Shapefile" else ""))
        if pair is None and kind is None:
            raise InstanceError.at(self.where, "lon", "missing column",
                                   fix="add lon and lat columns (degrees WGS84), or x and y "
                                       "columns and crs under [files] (see instances/README.md)")
        if len(set(self.header)) != len(self.header):
            raise InstanceError.at(self.where, "header", "duplicate column names",
                                   got=self.header, fix="name every column once")
        if ignored:
            logger.warning("%s: ignored columns %s (not used by coldchain)", self.where,
                           ", ".join(ignored))
        self.index = {c: i for i, c in enumerate(self.header)}
        for n, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise InstanceError.at(self.where, self.row(n), "wrong number of fields",
                                       got=len(row), fix=f"every row needs {len(self.header)}")
        if pair is not None:
            self.lon, self.lat = self._csv_lonlat(pair, crs)

    def row(self, n: int) -> str:
        """How messages name row ``n`` (0-based): ``row 2`` of a CSV (its line, after the
        header), ``feature 1`` of a layer (the feature's FID, as QGIS shows it)."""
        return f"row {n + 2}" if self._features is None else self._features[n]

    def _coordinate_columns(self) -> tuple[str, str] | None:
        """The header's (x, y) coordinate columns: lon/lat or x/y, in any case; None when
        neither pair is complete."""
        low: dict[str, str] = {}
        for col in self.header:
            key = col.lower()
            if key in _LONLAT + _XY:
                if key in low:
                    raise InstanceError.at(self.where, "header", "duplicate column names",
                                           got=[low[key], col], fix="name every column once")
                low[key] = col
        has_ll = all(c in low for c in _LONLAT)
        has_xy = all(c in low for c in _XY)
        if has_ll and has_xy:
            raise InstanceError.at(self.where, low["x"], "both lon/lat and x/y columns",
                                   fix="keep one pair: lon/lat in degrees, or x/y in files.crs")
        if has_ll:
            return low["lon"], low["lat"]
        if has_xy:
            return low["x"], low["y"]
        for a, b in (_XY, ("y", "x"), _LONLAT, ("lat", "lon")):
            if a in low:
                raise InstanceError.at(self.where, b, "missing column",
                                       fix=f"{low[a]!r} needs its partner column {b!r}")
        return None

    def _csv_lonlat(self, pair: tuple[str, str],
                    crs: CRS | None) -> tuple[np.ndarray, np.ndarray]:
        """Each row's lon/lat in degrees WGS84 from the coordinate columns ``pair``."""
        xcol, ycol = pair
        n_rows = len(self.rows)
        if xcol.lower() == "lon":
            if crs is not None and crs.is_projected:
                raise InstanceError.at(self.where, xcol, "lon/lat columns hold degrees, but "
                                       "files.crs is a projected CRS", got=crs_label(crs),
                                       fix="name the columns x and y (easting, northing in "
                                           "files.crs), or remove crs from [files]")
            xs, ys = [], []
            for n in range(n_rows):
                xs.append(self.number(n, xcol, lo=-180, hi=180))
                ys.append(self.number(n, ycol, lo=-90, hi=90))
        else:
            xs = [self.number(n, xcol) for n in range(n_rows)]
            ys = [self.number(n, ycol) for n in range(n_rows)]
        x, y = np.array(xs, dtype=float), np.array(ys, dtype=float)
        if crs is None:
            bad = first_bad_point(x, y)
            if bad is not None:
                col = xcol if abs(x[bad]) > 180 else ycol
                raise InstanceError.at(self.where, f"{self.row(bad)}.{col}",
                                       "x/y are not lon/lat degrees and [files] names no crs",
                                       got=float(x[bad] if col == xcol else y[bad]),
                                       fix='add crs = "EPSG:...." under [files] of '
                                           'instance.toml: the CRS of the x/y columns, '
                                           'e.g. "EPSG:4545"')
            if xcol.lower() == "x":
                logger.info("%s: x/y read as lon/lat degrees WGS84 ([files] names no crs)",
                            self.where)
            return x, y
        lon, lat = to_wgs84(crs, x, y)
        bad = first_bad_point(lon, lat)
        if bad is not None:
            col = xcol if not (np.isfinite(lon[bad]) and abs(lon[bad]) <= 180) else ycol
            raise InstanceError.at(self.where, f"{self.row(bad)}.{col}",
                                   f"does not convert from {crs_label(crs)} to lon/lat",
                                   got=(float(x[bad]), float(y[bad])),
                                   fix="check the x/y values and files.crs (x is the "
                                       "easting, y the northing)")
        return lon, lat

    def has(self, col: str) -> bool:
        return col in self.index

    def text(self, n: int, col: str, default: str | None = None) -> str:
        if col not in self.index:
            if default is None:  # pragma: no cover - required columns are checked
                raise InstanceError.at(self.where, col, "missing column")
            return default
        value = self.rows[n][self.index[col]].strip()
        if not value and default is None:
            raise InstanceError.at(self.where, f"{self.row(n)}.{col}", "empty value",
                                   fix="fill in the value")
        return value or (default or "")

    def number(self, n: int, col: str, *, lo: float | None = None, hi: float | None = None,
               default: float | None = None, integer: bool = False) -> float:
        raw = self.text(n, col, None if default is None else str(default))
        field = f"{self.row(n)}.{col}"
        try:
            value = float(raw)
        except ValueError:
            raise InstanceError.at(self.where, field, "not a number", got=raw,
                                   fix="write a plain number") from None
        if not math.isfinite(value):
            raise InstanceError.at(self.where, field, "not a finite number", got=raw,
                                   fix="write a finite number")
        if integer and value != int(value):
            raise InstanceError.at(self.where, field, "must be a whole number", got=raw,
                                   fix="write an integer")
        if lo is not None and value < lo:
            raise InstanceError.at(self.where, field, f"must be >= {lo:g}", got=value,
                                   fix="correct the value")
        if hi is not None and value > hi:
            raise InstanceError.at(self.where, field, f"must be <= {hi:g}", got=value,
                                   fix="correct the value")
        return value

    def flag(self, n: int, col: str) -> bool:
        raw = self.text(n, col, "0").lower()
        if raw in ("1", "true", "yes"):
            return True
        if raw in ("0", "false", "no", ""):
            return False
        raise InstanceError.at(self.where, f"{self.row(n)}.{col}", "not a yes/no flag",
                               got=raw, fix="write 1 or 0")

    def lonlat(self, n: int) -> tuple[float, float]:
        """Row ``n``'s position, degrees WGS84."""
        return float(self.lon[n]), float(self.lat[n])


def _read_villages(src: _Source, seasons: list[str], crs: CRS | None) -> tuple[Village, ...]:
    season_cols = [f"orders_per_day_{s}" for s in seasons] + [
        f"produce_kg_per_day_{s}" for s in seasons
    ]
    t = _Table(src, "villages", ["id", "name", "households", *season_cols],
               ["township", "township_code", "has_pickup_point"], crs)
    if not t.rows:
        raise InstanceError.at(t.where, "villages", "no villages", fix="add one row per village")
    out = []
    for n in range(len(t.rows)):
        lon, lat = t.lonlat(n)
        out.append(Village(
            id=t.text(n, "id"),
            name=t.text(n, "name"),
            township=t.text(n, "township", ""),
            lon=lon,
            lat=lat,
            households=int(t.number(n, "households", lo=0, hi=MAX_COUNT, integer=True)),
            orders_per_day={s: t.number(n, f"orders_per_day_{s}", lo=0, hi=MAX_COUNT)
                            for s in seasons},
            produce_kg_per_day={s: t.number(n, f"produce_kg_per_day_{s}", lo=0, hi=MAX_KG)
                                for s in seasons},
            has_pickup_point=t.flag(n, "has_pickup_point"),
        ))
    return tuple(out)


def _read_cold_stores(src: _Source, crs: CRS | None) -> tuple[ColdStoreSite, ...]:
    t = _Table(src, "cold_store_sites",
               ["id", "name", "module_capacity_t", "max_modules", "opening_cost_yuan"],
               ["module_cost_yuan_per_season", "existing", "existing_modules", "power"], crs)
    if not t.rows:
        raise InstanceError.at(t.where, "cold_store_sites", "no sites",
                               fix="add at least the hub's site")
    out = []
    for n in range(len(t.rows)):
        lon, lat = t.lonlat(n)
        max_modules = int(t.number(n, "max_modules", lo=0, hi=10_000, integer=True))
        existing_modules = int(t.number(n, "existing_modules", lo=0, hi=10_000, default=0,
                                        integer=True))
        if existing_modules > max_modules:
            raise InstanceError.at(t.where, f"{t.row(n)}.existing_modules",
                                   f"exceeds max_modules ({max_modules})", got=existing_modules,
                                   fix="raise max_modules or lower existing_modules")
        out.append(ColdStoreSite(
            id=t.text(n, "id"),
            name=t.text(n, "name"),
            lon=lon,
            lat=lat,
            module_capacity_t=t.number(n, "module_capacity_t", lo=0, hi=MAX_KG / 1000),
            max_modules=max_modules,
            opening_cost_yuan=t.number(n, "opening_cost_yuan", lo=0, hi=MAX_YUAN),
            module_cost_yuan_per_season=_optional(t, n, "module_cost_yuan_per_season"),
            existing=t.flag(n, "existing"),
            existing_modules=existing_modules,
            power=_power_class(t, n),
        ))
    return tuple(out)


def _read_pickup_sites(src: _Source, crs: CRS | None) -> tuple[PickupSite, ...]:
    t = _Table(src, "pickup_sites", ["id", "name", "opening_cost_yuan"],
               ["existing", "village_id", "setup_cost_yuan"], crs)
    out = []
    for n in range(len(t.rows)):
        lon, lat = t.lonlat(n)
        out.append(PickupSite(
            id=t.text(n, "id"),
            name=t.text(n, "name"),
            lon=lon,
            lat=lat,
            opening_cost_yuan=t.number(n, "opening_cost_yuan", lo=0, hi=MAX_YUAN),
            existing=t.flag(n, "existing"),
            village_id=t.text(n, "village_id", ""),
            setup_cost_yuan=_optional(t, n, "setup_cost_yuan"),
        ))
    return tuple(out)


def _power_class(t: _Table, n: int) -> str:
    value = t.text(n, "power", "grid") or "grid"
    if not value.replace("_", "").replace("-", "").isalnum():
        raise InstanceError.at(t.where, f"{t.row(n)}.power", "not a power class name",
                               got=value, fix="write a word such as grid or rural")
    return value


def _optional(t: _Table, n: int, col: str) -> float | None:
    """An optional money column (yuan): None where the column is absent or the cell empty."""
    if not t.has(col) or not t.text(n, col, "").strip():
        return None
    return t.number(n, col, lo=0, hi=MAX_YUAN)


def read_instance(path: str | Path) -> Instance:
    """Read and validate an instance TOML file and the tables (CSV or GIS layers) it names.

    ``path`` may be the TOML file or a directory holding ``instance.toml``. Coordinates are
    converted once, here, to lon/lat degrees WGS84.
    Raises :class:`InstanceError` (one line naming file, field and fix) on any problem.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "instance.toml"
    _check_size(p, "instance", MAX_TOML_BYTES)
    try:
        # utf-8-sig: accept the byte-order mark some Windows editors write
        raw = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InstanceError.at(p, "instance", "not a UTF-8 text file",
                               fix="give the instance TOML file") from None
    except OSError as exc:
        raise InstanceError.at(p, "instance", f"cannot read the file ({exc.strerror or exc})",
                               fix="check the file's permissions") from None
    except tomllib.TOMLDecodeError as exc:
        raise InstanceError.at(p, "instance", f"not valid TOML ({exc})",
                               fix="fix the TOML syntax") from None
    try:
        doc = _InstanceFile.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_error(p, exc) from None
    ops = doc.operations
    day_start = _parse_hhmm(p, "operations.day_start", ops.day_start)
    day_end = _parse_hhmm(p, "operations.day_end", ops.day_end)
    ready = _parse_hhmm(p, "operations.harvest_ready", ops.harvest_ready)
    if day_end <= day_start:
        raise InstanceError.at(p, "operations.day_end", "must be after day_start",
                               got=ops.day_end, fix='e.g. day_start = "06:00", day_end = "20:00"')
    for i, sc in enumerate(doc.scenarios):
        for cls, f in sc.rain_speed_factor.items():
            if not (0 < f <= 2) or not math.isfinite(f):
                raise InstanceError.at(p, f"scenarios[{i}].rain_speed_factor.{cls}",
                                       "must be in (0, 2]", got=f, fix="e.g. 0.75")
        for cls, q in sc.closure_probability.items():
            if not (0 <= q <= 1) or not math.isfinite(q):
                raise InstanceError.at(p, f"scenarios[{i}].closure_probability.{cls}",
                                       "must be in [0, 1]", got=q, fix="e.g. 0.02")
        for cls, h in sc.outage_h.items():
            if not (0 <= h <= 24) or not math.isfinite(h):
                raise InstanceError.at(p, f"scenarios[{i}].outage_h.{cls}",
                                       "must be hours in [0, 24]", got=h, fix="e.g. 4.0")
    for season in doc.seasons:
        given = [sc.probability for sc in doc.scenarios
                 if sc.season == season.id and sc.probability is not None]
        if sum(given) > 1.0 + 1e-9:
            i = max(i for i, sc in enumerate(doc.scenarios) if sc.season == season.id
                    and sc.probability is not None)
            raise InstanceError.at(p, f"scenarios[{i}].probability",
                                   f"the probabilities of season {season.id!r} add up to "
                                   f"{sum(given):g}, more than 1", got=sum(given),
                                   fix="give each scenario its share of the season's days")
    base = p.parent
    season_ids = [s.id for s in doc.seasons]
    files = doc.files
    crs = None if files.crs is None else parse_crs(p, "files.crs", files.crs)
    villages = _read_villages(_Source(base / files.villages.path, files.villages.layer),
                              season_ids, crs)
    stores = _read_cold_stores(_Source(base / files.cold_store_sites.path,
                                       files.cold_store_sites.layer), crs)
    pickups = _read_pickup_sites(_Source(base / files.pickup_sites.path,
                                         files.pickup_sites.layer), crs)
    network_path = Path(os.path.normpath(base / doc.files.network))
    try:
        network_path.stat()
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # too long, a NUL, no permission...
        raise InstanceError.at(p, "files.network", f"cannot access the network file "
                               f"({os_reason(exc)})", got=_short(doc.files.network),
                               fix="check the path (relative to the instance TOML)") from None
    if not network_path.exists():
        raise InstanceError.at(p, "files.network", "network file not found",
                               got=doc.files.network,
                               fix="run `coldchain generate` or point to a road network file")
    return Instance(
        name=doc.name,
        title=doc.title,
        county_code=doc.county_code,
        synthetic=doc.synthetic,
        network_path=network_path,
        product=Product(**doc.product.model_dump()),
        operations=Operations(
            day_start_min=day_start,
            day_end_min=day_end,
            harvest_ready_min=ready,
            precool_deadline_h=ops.precool_deadline_h,
            coverage_radius_min=ops.coverage_radius_min,
            max_snap_m=ops.max_snap_m,
            service_min_per_stop=ops.service_min_per_stop,
            service_min_per_t=ops.service_min_per_t,
            lot_kg=ops.lot_kg,
            hub=ops.hub,
            reload_min=ops.reload_min,
        ),
        cold_storage=ColdStorage(**doc.cold_storage.model_dump()),
        economics=Economics(**doc.economics.model_dump()),
        villages=villages,
        cold_store_sites=stores,
        pickup_sites=pickups,
        vehicle_types=tuple(
            VehicleType(**{**v.model_dump(),
                           "forbidden_road_classes": tuple(v.forbidden_road_classes)})
            for v in doc.vehicles
        ),
        seasons=tuple(Season(**s.model_dump()) for s in doc.seasons),
        scenarios=tuple(
            Scenario(**{**s.model_dump(), "closed_edges": tuple(s.closed_edges)})
            for s in doc.scenarios
        ),
        source=p,
    )
