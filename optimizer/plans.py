"""Plan types in instance terms (site ids, yuan, kg, minutes): facilities, routes, results."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FacilityPlan:
    """Which cold stores run with how many modules, which pickup points are open, who goes where.

    ``cold_stores`` are the open sites; ``modules`` maps season id -> cold-store id ->
    modules in use (a site with none in a season is idle then), of which ``leased`` (same
    keys) are leased for the season and the others owned: today's modules plus
    ``bought_modules`` new ones, moved between sites as the seasons need. ``produce_to_store``
    maps a village id to (cold-store id, kg/day) shares of its produce sent there in the
    scenario's season; produce not listed is not collected by the network.
    ``village_pickup`` maps a village id to the pickup point its parcels are delivered to.
    """

    name: str
    cold_stores: tuple[str, ...]
    modules: dict[str, dict[str, int]]
    pickup_points: tuple[str, ...]
    produce_to_store: dict[str, tuple[tuple[str, float], ...]]
    village_pickup: dict[str, str]
    status: str = "heuristic"
    leased: dict[str, dict[str, int]] = field(default_factory=dict)
    bought_modules: int = 0

    def active(self, season: str) -> tuple[str, ...]:
        """Open cold stores running modules in ``season`` (the others are idle then)."""
        mods = self.modules.get(season, {})
        return tuple(s for s in self.cold_stores if mods.get(s, 0) > 0)


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """A stop on a route: what happens there and when (minutes from midnight)."""

    stop_id: str
    site_id: str
    kind: str  # "pickup" (produce lot) | "delivery" (parcels)
    arrival_min: float
    start_min: float
    pickup_kg: float
    delivery_kg: float
    load_after_kg: float


@dataclass(frozen=True, slots=True)
class PlannedRoute:
    """One trip of one vehicle from its depot back to it."""

    vehicle_id: str
    vehicle_type: str
    trip: int
    depot: str
    start_min: float
    end_min: float
    distance_km: float
    stops: tuple[PlannedStop, ...]
    cost_yuan: float


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The routes of one representative day of one scenario, checked and costed."""

    scenario: str
    routes: tuple[PlannedRoute, ...]
    dropped: tuple[str, ...]
    cost_yuan: dict[str, float]
    objective_yuan: float
    solver_status: str
    engine: str
    runtime_s: float = field(default=0.0, compare=False)  # wall clock: not part of the plan
    checked: bool = False


@dataclass(frozen=True, slots=True)
class Kpis:
    """Key figures of one day plan (see :mod:`optimizer.planning.kpi` for definitions)."""

    scenario: str
    plan: str
    orders: float
    cost_per_order_yuan: float
    logistics_cost_yuan: float
    routing_cost_yuan: float
    facility_cost_yuan: float
    spoilage_mass_pct: float
    spoilage_value_pct: float
    produce_kg: float
    collected_kg: float
    cold_chain_pct: float
    village_coverage_pct: float
    household_coverage_pct: float
    distance_km: float
    vehicles_used: int
    vehicle_utilisation_pct: float
    cold_room_utilisation_pct: float
    co2_kg_per_order: float
    parcels_dropped: float
    produce_dropped_kg: float
    #: running cost of the day (routes incl. hires, cold stores, pickup points), yuan/day
    operating_cost_yuan: float = math.nan
    operating_cost_per_order_yuan: float = math.nan
    #: the day's share of the annualised facility investment (yuan/day)
    investment_yuan_per_day: float = math.nan
    #: produce lost (kg/day) and its value at the product's price (yuan/day)
    spoilage_kg: float = math.nan
    spoilage_yuan: float = math.nan
    #: cost per order by leg (yuan/order): collection routes, cold stores, delivery routes
    #: and pickup points, and the line haul to the city (an instance figure)
    first_mile_yuan_per_order: float = math.nan
    cold_storage_yuan_per_order: float = math.nan
    last_mile_yuan_per_order: float = math.nan
    line_haul_yuan_per_order: float = math.nan
    hired_vehicles: int = 0
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    """One scenario planned one way ("baseline": today's sites and fleet; "plan": optimised).

    ``robust_village_coverage_pct`` is the share of villages covered within the radius in
    every road-closure sample of the scenario (None when it samples no closures);
    ``closed_edges`` are the roads closed on the routed day.
    """

    scenario: str
    plan: str
    facilities: FacilityPlan
    day: DayPlan
    kpis: Kpis
    robust_village_coverage_pct: float | None = None
    closed_edges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeasonSites:
    """The location model's answer for one season: modules per site and its proof status."""

    season: str
    modules: dict[str, int]
    status: str
    objective_yuan: float
    bound_yuan: float


@dataclass(frozen=True, slots=True)
class YearFigures:
    """One plan ("plan" or "baseline") rolled up to a year (yuan, kg, %; see
    :mod:`optimizer.planning.year`).

    Seasons count by their days and scenarios inside a season by their share of its days.
    ``operating_cost_yuan`` is what running the routes (and hires) and the cold stores costs
    a year, ``pickup_running_yuan`` what the pickup points cost; the investment is one-off,
    by asset, and ``annualised_investment_yuan`` its yearly cost. The comparison with
    today's baseline (``saving_yuan``, ``payback_years``, ``npv_yuan``, ``budget_use_yuan``)
    is NaN on the baseline's own row.
    """

    plan: str
    days: float
    orders: float
    produce_kg: float
    collected_kg: float
    operating_cost_yuan: float
    pickup_running_yuan: float
    annualised_investment_yuan: float
    cost_per_order_yuan: float
    operating_cost_per_order_yuan: float
    spoilage_kg: float
    spoilage_yuan: float
    spoilage_pct: float
    cold_chain_pct: float
    village_coverage_pct: float
    first_mile_yuan_per_order: float
    cold_storage_yuan_per_order: float
    last_mile_yuan_per_order: float
    line_haul_yuan_per_order: float
    investment_sites_yuan: float = 0.0
    investment_modules_yuan: float = 0.0
    investment_pickups_yuan: float = 0.0
    investment_vehicles_yuan: float = 0.0
    hired_vehicle_days: float = 0.0
    saving_yuan: float = math.nan
    payback_years: float = math.nan
    npv_yuan: float = math.nan
    budget_use_yuan: float = math.nan

    @property
    def investment_yuan(self) -> float:
        """The whole one-off investment (yuan)."""
        return (self.investment_sites_yuan + self.investment_modules_yuan
                + self.investment_pickups_yuan + self.investment_vehicles_yuan)

    @property
    def logistics_cost_yuan(self) -> float:
        """Operating cost + pickup points + annualised investment (yuan/year)."""
        return self.operating_cost_yuan + self.pickup_running_yuan + self.annualised_investment_yuan

    @property
    def total_cost_yuan(self) -> float:
        """Logistics cost + value of the produce lost (yuan/year): what the plan costs the
        county a year, the measure plans are compared by."""
        return self.logistics_cost_yuan + self.spoilage_yuan


@dataclass(frozen=True, slots=True)
class PlanningResult:
    """Everything ``coldchain solve`` computes: per-season sites and per-scenario outcomes."""

    instance: str
    seed: int
    #: routing seconds per scenario day and plan; None: the size rule
    #: (:func:`optimizer.limits.routing_time_s`)
    time_limit_s: float | None
    solution_limit: int | None
    seasons: tuple[SeasonSites, ...]
    pickup_points: tuple[str, ...]
    pickup_status: str
    outcomes: tuple[ScenarioOutcome, ...]
    iterations: tuple[dict[str, float], ...] = ()
    runtime_s: float = field(default=0.0, compare=False)
    #: the yearly facility budget the plan was made within (yuan/year), None: no budget
    budget_yuan: float | None = None
    #: the plan and the baseline rolled up to a year
    year: tuple[YearFigures, ...] = ()

    def year_of(self, plan: str) -> YearFigures | None:
        """The year figures of ``plan`` ("plan" or "baseline"), None when not rolled up."""
        return next((y for y in self.year if y.plan == plan), None)

    def outcome(self, scenario: str, plan: str) -> ScenarioOutcome:
        """The outcome of ``scenario`` planned as ``plan`` ("baseline" or "plan")."""
        for o in self.outcomes:
            if o.scenario == scenario and o.plan == plan:
                return o
        raise KeyError(f"{scenario}/{plan}")
