"""Read and write instance files: a TOML file plus CSV tables beside it.

The format is documented in ``instances/README.md``. Every problem in a file is reported as
one line ``path: field: problem (got value); fix`` through :class:`InstanceError`.
"""

from __future__ import annotations

import csv
import math
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer.errors import InstanceError
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

_Strict = ConfigDict(extra="forbid", strict=False, frozen=True)


class _Files(BaseModel):
    model_config = _Strict
    network: str
    villages: str
    cold_store_sites: str
    pickup_sites: str


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
    except OSError as exc:  # name too long, permission denied on a folder, a loop...
        raise InstanceError.at(path, what, f"cannot access the file ({exc.strerror or exc})",
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


class _Table:
    """A CSV table read as strings, with typed, validated column access."""

    def __init__(self, path: Path, what: str, required: list[str], optional: list[str]) -> None:
        _check_size(path, what)
        self.path = path
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                reader = csv.reader(fh)
                header = next(reader, None)
                if header is None:
                    raise InstanceError.at(path, what, "empty file",
                                           fix="write a header row and one row per item")
                self.rows: list[list[str]] = []
                for row in reader:
                    if not row or all(not c.strip() for c in row):
                        continue
                    if len(self.rows) >= MAX_VILLAGES:
                        raise InstanceError.at(path, what, f"more than {MAX_VILLAGES} rows",
                                               fix="split the county into several instances")
                    self.rows.append(row)
        except UnicodeDecodeError:
            raise InstanceError.at(path, what, "not a UTF-8 CSV file",
                                   fix="save the table as UTF-8 CSV") from None
        except OSError as exc:
            raise InstanceError.at(path, what, f"cannot read the file ({exc.strerror or exc})",
                                   fix="check the file's permissions") from None
        except csv.Error as exc:
            raise InstanceError.at(path, what, f"malformed CSV ({exc})",
                                   fix="save the table as CSV") from None
        self.header = [h.strip() for h in header]
        for col in self.header:
            if col not in required and col not in optional:
                raise InstanceError.at(path, col, "unknown column",
                                       fix=f"expected columns: {', '.join(required + optional)}")
        for col in required:
            if col not in self.header:
                raise InstanceError.at(path, col, "missing column",
                                       fix="add the column (see instances/README.md)")
        if len(set(self.header)) != len(self.header):
            raise InstanceError.at(path, "header", "duplicate column names", got=self.header,
                                   fix="name every column once")
        self.index = {c: i for i, c in enumerate(self.header)}
        for n, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise InstanceError.at(path, f"row {n + 2}", "wrong number of fields",
                                       got=len(row), fix=f"every row needs {len(self.header)}")

    def has(self, col: str) -> bool:
        return col in self.index

    def text(self, n: int, col: str, default: str | None = None) -> str:
        if col not in self.index:
            if default is None:  # pragma: no cover - required columns are checked
                raise InstanceError.at(self.path, col, "missing column")
            return default
        value = self.rows[n][self.index[col]].strip()
        if not value and default is None:
            raise InstanceError.at(self.path, f"row {n + 2}.{col}", "empty value",
                                   fix="fill in the value")
        return value or (default or "")

    def number(self, n: int, col: str, *, lo: float | None = None, hi: float | None = None,
               default: float | None = None, integer: bool = False) -> float:
        raw = self.text(n, col, None if default is None else str(default))
        field = f"row {n + 2}.{col}"
        try:
            value = float(raw)
        except ValueError:
            raise InstanceError.at(self.path, field, "not a number", got=raw,
                                   fix="write a plain number") from None
        if not math.isfinite(value):
            raise InstanceError.at(self.path, field, "not a finite number", got=raw,
                                   fix="write a finite number")
        if integer and value != int(value):
            raise InstanceError.at(self.path, field, "must be a whole number", got=raw,
                                   fix="write an integer")
        if lo is not None and value < lo:
            raise InstanceError.at(self.path, field, f"must be >= {lo:g}", got=value,
                                   fix="correct the value")
        if hi is not None and value > hi:
            raise InstanceError.at(self.path, field, f"must be <= {hi:g}", got=value,
                                   fix="correct the value")
        return value

    def flag(self, n: int, col: str) -> bool:
        raw = self.text(n, col, "0").lower()
        if raw in ("1", "true", "yes"):
            return True
        if raw in ("0", "false", "no", ""):
            return False
        raise InstanceError.at(self.path, f"row {n + 2}.{col}", "not a yes/no flag", got=raw,
                               fix="write 1 or 0")

    def lonlat(self, n: int) -> tuple[float, float]:
        lon = self.number(n, "lon", lo=-180, hi=180)
        lat = self.number(n, "lat", lo=-90, hi=90)
        return lon, lat


def _read_villages(path: Path, seasons: list[str]) -> tuple[Village, ...]:
    season_cols = [f"orders_per_day_{s}" for s in seasons] + [
        f"produce_kg_per_day_{s}" for s in seasons
    ]
    t = _Table(path, "villages", ["id", "name", "lon", "lat", "households", *season_cols],
               ["township", "township_code", "has_pickup_point"])
    if not t.rows:
        raise InstanceError.at(path, "villages", "no villages", fix="add one row per village")
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


def _read_cold_stores(path: Path) -> tuple[ColdStoreSite, ...]:
    t = _Table(path, "cold_store_sites",
               ["id", "name", "lon", "lat", "module_capacity_t", "max_modules",
                "opening_cost_yuan"],
               ["module_cost_yuan_per_season", "existing", "existing_modules", "power"])
    if not t.rows:
        raise InstanceError.at(path, "cold_store_sites", "no sites",
                               fix="add at least the hub's site")
    out = []
    for n in range(len(t.rows)):
        lon, lat = t.lonlat(n)
        max_modules = int(t.number(n, "max_modules", lo=0, hi=10_000, integer=True))
        existing_modules = int(t.number(n, "existing_modules", lo=0, hi=10_000, default=0,
                                        integer=True))
        if existing_modules > max_modules:
            raise InstanceError.at(path, f"row {n + 2}.existing_modules",
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


def _read_pickup_sites(path: Path) -> tuple[PickupSite, ...]:
    t = _Table(path, "pickup_sites", ["id", "name", "lon", "lat", "opening_cost_yuan"],
               ["existing", "village_id", "setup_cost_yuan"])
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
        raise InstanceError.at(t.path, f"row {n + 2}.power", "not a power class name",
                               got=value, fix="write a word such as grid or rural")
    return value


def _optional(t: _Table, n: int, col: str) -> float | None:
    """An optional money column (yuan): None where the column is absent or the cell empty."""
    if not t.has(col) or not t.text(n, col, "").strip():
        return None
    return t.number(n, col, lo=0, hi=MAX_YUAN)


def read_instance(path: str | Path) -> Instance:
    """Read and validate an instance TOML file and the CSV tables it names.

    ``path`` may be the TOML file or a directory holding ``instance.toml``.
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
    villages = _read_villages(base / doc.files.villages, season_ids)
    stores = _read_cold_stores(base / doc.files.cold_store_sites)
    pickups = _read_pickup_sites(base / doc.files.pickup_sites)
    network_path = Path(os.path.normpath(base / doc.files.network))
    try:
        network_path.stat()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise InstanceError.at(p, "files.network", f"cannot access the network file "
                               f"({exc.strerror or exc})", got=_short(doc.files.network),
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
