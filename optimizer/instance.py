"""Instance types: a county's villages, candidate sites, fleet, product, seasons and scenarios.

All types are frozen dataclasses; files are parsed and validated in
:mod:`optimizer.formats.instance_toml`. Units are in the field names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from optimizer.errors import InstanceError


@dataclass(frozen=True, slots=True)
class Village:
    """A village (administrative village / neighbourhood committee) with its daily volumes.

    ``orders_per_day`` and ``produce_kg_per_day`` map a season id to parcels delivered to the
    village per day and produce (kg) ready for first-mile collection per day.
    """

    id: str
    name: str
    township: str
    lon: float
    lat: float
    households: int
    orders_per_day: dict[str, float]
    produce_kg_per_day: dict[str, float]
    has_pickup_point: bool = False


@dataclass(frozen=True, slots=True)
class ColdStoreSite:
    """A candidate (or existing) site for modular cold storage / pre-cooling.

    ``opening_cost_yuan`` is the one-off cost of preparing a new site (an investment,
    annualised over ``Economics.site_life_years``). ``module_cost_yuan_per_season``, when
    given, is the price of leasing one module there for a season (power included); None
    prices a lease at ``ColdStorage.module_lease_yuan_per_day`` per day of the season.
    """

    id: str
    name: str
    lon: float
    lat: float
    module_capacity_t: float
    max_modules: int
    opening_cost_yuan: float
    module_cost_yuan_per_season: float | None = None
    existing: bool = False
    existing_modules: int = 0
    #: the site's power supply class (e.g. "grid", "rural"): scenarios may cut it for hours
    power: str = "grid"

    def lease_yuan(self, days: float, per_day: float) -> float:
        """Leasing one module here for a season of ``days`` days (yuan)."""
        if self.module_cost_yuan_per_season is not None:
            return self.module_cost_yuan_per_season
        return per_day * days


@dataclass(frozen=True, slots=True)
class PickupSite:
    """A candidate (or existing) village pickup point for parcels.

    ``opening_cost_yuan`` is its running cost per year; ``setup_cost_yuan`` the one-off cost
    of opening a new one (None: ``Economics.pickup_setup_yuan``).
    """

    id: str
    name: str
    lon: float
    lat: float
    opening_cost_yuan: float
    existing: bool = False
    village_id: str = ""
    setup_cost_yuan: float | None = None


@dataclass(frozen=True, slots=True)
class VehicleType:
    """A vehicle type of the fleet; ``count`` vehicles of it are available per day.

    ``depot`` is the cold-store site id where the vehicles are based (routes start and end
    there). ``baseline_count`` is how many exist today (the baseline plan uses those).
    """

    id: str
    count: int
    capacity_kg: float
    fixed_cost_yuan_per_day: float
    cost_yuan_per_km: float
    refrigeration_yuan_per_h: float
    temperature_c: float
    profile: str
    depot: str
    forbidden_road_classes: tuple[str, ...] = ()
    max_trips: int = 1
    baseline_count: int = 0
    co2_kg_per_km: float = 0.3
    #: one-off price of a vehicle (yuan); owned vehicles the plan uses beyond
    #: ``baseline_count`` are bought at this price (an investment)
    purchase_yuan: float = 0.0
    #: day rate of a hired vehicle of this type (yuan/day; replaces the fixed cost); None:
    #: the type cannot be hired
    hire_yuan_per_day: float | None = None
    #: hired vehicles of this type available per day, on top of ``count``
    max_hired: int = 0

    @property
    def refrigerated(self) -> bool:
        """True when the vehicle keeps produce cold (temperature at most 8 C)."""
        return self.temperature_c <= 8.0


@dataclass(frozen=True, slots=True)
class Product:
    """The perishable product; decay follows 1 - exp(-theta t), theta by the Q10 rule."""

    name: str
    value_yuan_per_kg: float
    order_kg: float
    decay_per_h_at_ref: float
    ref_temp_c: float = 22.0
    q10: float = 3.0
    ambient_temp_c: float = 22.0
    storage_temp_c: float = 0.0
    # produce the network does not collect goes through the traditional ambient channel
    uncollected_ambient_h: float = 72.0
    perishable_requires_reefer: bool = False

    def decay_per_h(self, temp_c: float) -> float:
        """Decay rate theta (1/h) at ``temp_c`` (degrees C) by the Q10 rule."""
        return self.decay_per_h_at_ref * self.q10 ** ((temp_c - self.ref_temp_c) / 10.0)

    def loss_fraction(self, temp_c: float, hours: float) -> float:
        """Exact mass fraction lost after ``hours`` at ``temp_c``: 1 - exp(-theta t)."""
        return 1.0 - math.exp(-self.decay_per_h(temp_c) * max(hours, 0.0))


@dataclass(frozen=True, slots=True)
class Operations:
    """Working hours and policy parameters (minutes from midnight; hours; minutes)."""

    day_start_min: int = 6 * 60
    day_end_min: int = 20 * 60
    harvest_ready_min: int = 8 * 60
    precool_deadline_h: float = 12.0
    coverage_radius_min: float = 30.0
    max_snap_m: float = 3000.0
    service_min_per_stop: float = 10.0
    service_min_per_t: float = 6.0
    lot_kg: float = 5000.0
    hub: str = ""
    reload_min: float = 20.0


@dataclass(frozen=True, slots=True)
class ColdStorage:
    """Modular cold-storage economics shared by all sites (yuan; defaults are ASSUMPTIONS,
    see instances/README.md for their sources).

    A module in use is either owned (today's modules, or bought at ``module_buy_yuan``: an
    investment annualised over ``Economics.module_life_years``; it pays
    ``module_power_yuan_per_day`` on the days it runs) or leased for a season (the site's
    ``module_cost_yuan_per_season``, else ``module_lease_yuan_per_day`` x the season's
    days). Owned modules may move between sites between seasons (``module_add_cost_yuan``
    in, ``module_remove_cost_yuan`` out). An open site with modules in a season pays
    ``site_staff_yuan_per_day`` per day; an open site idle for a season (no module) pays
    ``standby_yuan_per_season``.
    """

    turns_per_day: float = 1.0
    module_add_cost_yuan: float = 5000.0
    module_remove_cost_yuan: float = 2000.0
    module_buy_yuan: float = 120_000.0
    module_power_yuan_per_day: float = 72.0
    module_lease_yuan_per_day: float = 150.0
    site_staff_yuan_per_day: float = 150.0
    standby_yuan_per_season: float = 1_000.0


@dataclass(frozen=True, slots=True)
class Economics:
    """A year in money: discounting and asset lives (defaults are ASSUMPTIONS, documented in
    instances/README.md).

    Investments (new cold-store sites, bought modules, new pickup points, bought vehicles)
    are annualised with the capital recovery factor ``r / (1 - (1 + r)^-life)`` at
    ``discount_rate``; the net present value of a plan is counted over ``horizon_years``.
    ``line_haul_yuan_per_kg`` is an optional cost of carrying an order's kg to the city,
    reported in the per-order breakdown (it is the same for every plan of a county).
    """

    discount_rate: float = 0.06
    horizon_years: int = 10
    site_life_years: float = 15.0
    module_life_years: float = 10.0
    vehicle_life_years: float = 8.0
    pickup_life_years: float = 5.0
    pickup_setup_yuan: float = 3_000.0
    line_haul_yuan_per_kg: float = 0.0

    def annuity(self, life_years: float) -> float:
        """Capital recovery factor: the yearly payment per yuan invested over ``life_years``."""
        r = self.discount_rate
        return r / (1.0 - (1.0 + r) ** -life_years)

    def present_value(self, yearly_yuan: float) -> float:
        """Present value of ``yearly_yuan`` received at the end of each year of the
        horizon (yuan)."""
        r = self.discount_rate
        return yearly_yuan * (1.0 - (1.0 + r) ** -self.horizon_years) / r


@dataclass(frozen=True, slots=True)
class Season:
    """A season of the year (``days`` days long)."""

    id: str
    days: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A what-if on one season: volume multipliers, rain (slower roads, closures), a hold.

    ``rain_speed_factor`` multiplies speeds by road class; ``closure_probability`` is the
    per-day closure probability of a road by class, sampled ``closure_samples`` times with
    ``seed``; ``hold_h`` is an extra holding time (h) at the hub before produce moves on.
    """

    id: str
    season: str
    label: str = ""
    produce_multiplier: float = 1.0
    order_multiplier: float = 1.0
    rain_speed_factor: dict[str, float] = field(default_factory=dict)
    closure_probability: dict[str, float] = field(default_factory=dict)
    closure_samples: int = 0
    closed_edges: tuple[str, ...] = ()
    hold_h: float = 0.0
    seed: int = 0
    # hours a day the stores of each power class are without power (a storm cutting rural
    # lines): produce entering such a store waits that long at ambient temperature first
    outage_h: dict[str, float] = field(default_factory=dict)
    # share of its season's days the scenario stands for (rain days, ...): its weight in
    # the location model and in the year (None: the season's unweighted scenarios share
    # what the weighted ones leave, equally)
    probability: float | None = None


@dataclass(frozen=True, slots=True)
class Instance:
    """A whole county: read with :func:`optimizer.load_instance`."""

    name: str
    title: str
    network_path: Path
    product: Product
    operations: Operations
    cold_storage: ColdStorage
    villages: tuple[Village, ...]
    cold_store_sites: tuple[ColdStoreSite, ...]
    pickup_sites: tuple[PickupSite, ...]
    vehicle_types: tuple[VehicleType, ...]
    seasons: tuple[Season, ...]
    scenarios: tuple[Scenario, ...]
    economics: Economics = field(default_factory=Economics)
    county_code: str = ""
    synthetic: str = ""
    source: Path | None = None

    def __post_init__(self) -> None:
        src = self.source
        _unique(src, "villages", [v.id for v in self.villages])
        _unique(src, "cold_store_sites", [s.id for s in self.cold_store_sites])
        _unique(src, "pickup_sites", [s.id for s in self.pickup_sites])
        _unique(src, "vehicles", [v.id for v in self.vehicle_types])
        _unique(src, "seasons", [s.id for s in self.seasons])
        _unique(src, "scenarios", [s.id for s in self.scenarios])
        all_ids = (
            [v.id for v in self.villages]
            + [s.id for s in self.cold_store_sites]
            + [s.id for s in self.pickup_sites]
        )
        _unique(src, "site ids (villages, cold stores and pickup sites together)", all_ids)
        stores = {s.id for s in self.cold_store_sites}
        if self.operations.hub not in stores:
            raise InstanceError.at(
                src, "operations.hub", "must name a cold_store_sites id",
                got=self.operations.hub, fix=f"use one of {sorted(stores)[:5]}",
            )
        seasons = {s.id for s in self.seasons}
        for i, vt in enumerate(self.vehicle_types):
            if vt.depot not in stores:
                raise InstanceError.at(
                    src, f"vehicles[{i}].depot", "must name a cold_store_sites id",
                    got=vt.depot, fix=f"use one of {sorted(stores)[:5]}",
                )
        classes = {s.power for s in self.cold_store_sites}
        for i, sc in enumerate(self.scenarios):
            if sc.season not in seasons:
                raise InstanceError.at(
                    src, f"scenarios[{i}].season", "unknown season",
                    got=sc.season, fix=f"use one of {sorted(seasons)}",
                )
            for cls in sc.outage_h:
                if cls not in classes:
                    raise InstanceError.at(
                        src, f"scenarios[{i}].outage_h.{cls}", "no cold-store site has this "
                        "power class", got=cls, fix=f"use one of {sorted(classes)} (the power "
                        "column of cold_store_sites.csv)")

    def replace(self, **changes: object) -> Instance:
        """Return a copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def season(self, season_id: str) -> Season:
        """The season with id ``season_id``."""
        for s in self.seasons:
            if s.id == season_id:
                return s
        raise InstanceError.at(self.source, "season", "unknown season", got=season_id,
                               fix=f"use one of {[s.id for s in self.seasons]}")

    def scenario(self, scenario_id: str) -> Scenario:
        """The scenario with id ``scenario_id``."""
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise InstanceError.at(self.source, "scenario", "unknown scenario", got=scenario_id,
                               fix=f"use one of {[s.id for s in self.scenarios]}")

    def scenario_shares(self) -> dict[str, float]:
        """The share of its season's days each scenario stands for (adding up to 1 per
        season): its ``probability``; scenarios without one share what the others leave,
        equally; when every scenario of a season has one, they are scaled to add up to 1."""
        out: dict[str, float] = {}
        for season in self.seasons:
            group = [sc for sc in self.scenarios if sc.season == season.id]
            given = {sc.id: sc.probability for sc in group if sc.probability is not None}
            rest = [sc.id for sc in group if sc.probability is None]
            total = sum(given.values())
            if rest:
                left = max(0.0, 1.0 - total)
                out.update({k: float(v) for k, v in given.items()})
                out.update(dict.fromkeys(rest, left / len(rest)))
            elif group:
                out.update({k: (v / total if total > 0 else 1.0 / len(group))
                            for k, v in given.items()})
        return out

    @property
    def hub(self) -> ColdStoreSite:
        """The county hub (a cold-store site) where parcels for delivery start."""
        return next(s for s in self.cold_store_sites if s.id == self.operations.hub)

    def site_points(self) -> list[tuple[str, float, float]]:
        """(id, lon, lat) of every village, cold-store site and pickup site."""
        pts = [(v.id, v.lon, v.lat) for v in self.villages]
        pts += [(s.id, s.lon, s.lat) for s in self.cold_store_sites]
        pts += [(s.id, s.lon, s.lat) for s in self.pickup_sites]
        return pts


def _unique(path: Path | None, what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise InstanceError.at(path, what, "duplicate id", got=i, fix="make every id unique")
        seen.add(i)


def default_instance_dir() -> Path:
    """The Xiuwen kiwifruit instance shipped inside the package (``optimizer/data/``, a copy
    of the repository's ``instances/xiuwen-kiwifruit`` and its road network), so that an
    installed ``coldchain solve`` works from any folder."""
    return Path(__file__).resolve().parent / "data" / "instances" / "xiuwen-kiwifruit"
