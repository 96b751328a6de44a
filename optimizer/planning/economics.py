"""Money of a facility plan: what it invests, and what its cold stores and pickup points cost
to run per day of a season (yuan).

* **Investment** (one-off): preparing new cold-store sites (``opening_cost_yuan``), bought
  modules (``bought_modules x ColdStorage.module_buy_yuan``), setting up new pickup points
  (``setup_cost_yuan``, else ``Economics.pickup_setup_yuan``) and vehicles bought beyond
  today's (``purchase_yuan``). Each is annualised with the capital recovery factor of its
  life at the discount rate (:meth:`optimizer.instance.Economics.annuity`).
* **Running a cold store** on a day of a season: a leased module pays its lease (the
  season's price / the season's days); an owned module pays its power on the days it runs,
  and it runs only when the day's produce needs it (``ceil(kg in / (module t x turns))``
  modules of the site); a site with modules pays ``site_staff_yuan_per_day``; an open site
  without modules in the season (idle) pays ``standby_yuan_per_season`` / days; moving
  owned modules between sites between seasons (``module_add_cost_yuan`` in,
  ``module_remove_cost_yuan`` out, the seasons taken as a yearly cycle) is spread over the
  365 days of the year.
* **Running a pickup point**: its ``opening_cost_yuan`` per year, spread over 365 days.

The operating cost of a day is running the cold stores (routes are costed apart); the
pickup points' yearly cost and the annualised investment, each / 365, complete the full cost
of a day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from optimizer.instance import Instance, PickupSite
from optimizer.plans import FacilityPlan

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, slots=True)
class Investment:
    """One-off investment of a plan (yuan) by asset, and each annualised (yuan/year)."""

    sites_yuan: float = 0.0
    modules_yuan: float = 0.0
    pickups_yuan: float = 0.0
    vehicles_yuan: float = 0.0
    sites_annual_yuan: float = 0.0
    modules_annual_yuan: float = 0.0
    pickups_annual_yuan: float = 0.0
    vehicles_annual_yuan: float = 0.0

    @property
    def total_yuan(self) -> float:
        """The whole one-off investment (yuan)."""
        return self.sites_yuan + self.modules_yuan + self.pickups_yuan + self.vehicles_yuan

    @property
    def annualised_yuan(self) -> float:
        """The whole investment annualised (yuan/year)."""
        return (self.sites_annual_yuan + self.modules_annual_yuan + self.pickups_annual_yuan
                + self.vehicles_annual_yuan)

    @property
    def cold_storage_annual_yuan(self) -> float:
        """Sites and modules annualised (yuan/year)."""
        return self.sites_annual_yuan + self.modules_annual_yuan


@dataclass(frozen=True, slots=True)
class FacilityDay:
    """Facility costs of one day of a season (yuan/day); see the module docstring."""

    modules_yuan: float
    staff_yuan: float
    standby_yuan: float
    moves_yuan: float
    pickups_yuan: float
    #: the day's share of the annualised investment in sites and modules, and in pickup
    #: points' setup
    cold_investment_yuan: float
    pickup_investment_yuan: float

    @property
    def investment_yuan(self) -> float:
        """The day's share of the annualised facility investment."""
        return self.cold_investment_yuan + self.pickup_investment_yuan

    @property
    def operating_yuan(self) -> float:
        """Running the cold stores (modules, staff, standby, moves)."""
        return self.modules_yuan + self.staff_yuan + self.standby_yuan + self.moves_yuan

    @property
    def total_yuan(self) -> float:
        """Running the cold stores and pickup points, plus the day's share of the
        annualised investment."""
        return self.operating_yuan + self.pickups_yuan + self.investment_yuan


def investment(instance: Instance, facilities: FacilityPlan, *,
               vehicles_bought: Mapping[str, int] | None = None) -> Investment:
    """The plan's one-off investment and its annualised cost (see the module docstring).

    ``vehicles_bought`` maps a vehicle type id to vehicles bought beyond today's.
    """
    eco, cs = instance.economics, instance.cold_storage
    stores = {s.id: s for s in instance.cold_store_sites}
    pickups = {p.id: p for p in instance.pickup_sites}
    sites = sum(stores[s].opening_cost_yuan for s in facilities.cold_stores
                if not stores[s].existing)
    modules = facilities.bought_modules * cs.module_buy_yuan
    setup = sum(pickup_setup_yuan(instance, pickups[p]) for p in facilities.pickup_points
                if not pickups[p].existing)
    vtypes = {v.id: v for v in instance.vehicle_types}
    vehicles = sum(vtypes[t].purchase_yuan * n for t, n in (vehicles_bought or {}).items())
    return Investment(sites, modules, setup, vehicles,
                      sites * eco.annuity(eco.site_life_years),
                      modules * eco.annuity(eco.module_life_years),
                      setup * eco.annuity(eco.pickup_life_years),
                      vehicles * eco.annuity(eco.vehicle_life_years))


def pickup_setup_yuan(instance: Instance, site: PickupSite) -> float:
    """One-off cost of opening the pickup point ``site`` (yuan)."""
    given = site.setup_cost_yuan
    return instance.economics.pickup_setup_yuan if given is None else given


def module_moves_yuan(instance: Instance, facilities: FacilityPlan) -> float:
    """Yearly cost (yuan) of moving owned modules between sites as the seasons change
    (seasons in the instance's order, as a yearly cycle)."""
    cs = instance.cold_storage
    seasons = [s.id for s in instance.seasons]
    if len(seasons) < 2:
        return 0.0
    total = 0.0
    for t, season in enumerate(seasons):
        prev = seasons[t - 1]
        for site in facilities.cold_stores:
            now = _owned(facilities, season, site)
            before = _owned(facilities, prev, site)
            total += cs.module_add_cost_yuan * max(0, now - before)
            total += cs.module_remove_cost_yuan * max(0, before - now)
    return total


def _owned(facilities: FacilityPlan, season: str, site: str) -> int:
    return (facilities.modules.get(season, {}).get(site, 0)
            - facilities.leased.get(season, {}).get(site, 0))


def modules_running(instance: Instance, facilities: FacilityPlan, season: str) -> dict[str, int]:
    """Owned modules running per open site on a day of ``season``: as many as the produce
    assigned to the site needs, at most the site's owned modules in the season."""
    turns = instance.cold_storage.turns_per_day
    kg_in: dict[str, float] = {}
    for shares in facilities.produce_to_store.values():
        for store, kg in shares:
            kg_in[store] = kg_in.get(store, 0.0) + kg
    stores = {s.id: s for s in instance.cold_store_sites}
    out: dict[str, int] = {}
    for site in facilities.cold_stores:
        leased = facilities.leased.get(season, {}).get(site, 0)
        per_module = stores[site].module_capacity_t * 1000.0 * turns
        need = math.ceil(kg_in.get(site, 0.0) / per_module - 1e-9) if per_module > 0 else 0
        out[site] = max(0, min(_owned(facilities, season, site), need - leased))
    return out


def facility_day(instance: Instance, facilities: FacilityPlan, season: str) -> FacilityDay:
    """Facility costs (yuan/day) of ``facilities`` on a day of ``season``."""
    cs = instance.cold_storage
    days = float(instance.season(season).days)
    stores = {s.id: s for s in instance.cold_store_sites}
    mods = facilities.modules.get(season, {})
    leased = facilities.leased.get(season, {})
    running = modules_running(instance, facilities, season)
    module_cost = sum(running.values()) * cs.module_power_yuan_per_day
    module_cost += sum(stores[s].lease_yuan(days, cs.module_lease_yuan_per_day) * n
                       for s, n in leased.items() if n > 0) / days
    active = sum(1 for s in facilities.cold_stores if mods.get(s, 0) > 0)
    idle = len(facilities.cold_stores) - active
    pickups = {p.id: p for p in instance.pickup_sites}
    inv = investment(instance, facilities)
    return FacilityDay(
        modules_yuan=module_cost,
        staff_yuan=active * cs.site_staff_yuan_per_day,
        standby_yuan=idle * cs.standby_yuan_per_season / days,
        moves_yuan=module_moves_yuan(instance, facilities) / DAYS_PER_YEAR,
        pickups_yuan=sum(pickups[p].opening_cost_yuan for p in facilities.pickup_points)
        / DAYS_PER_YEAR,
        cold_investment_yuan=inv.cold_storage_annual_yuan / DAYS_PER_YEAR,
        pickup_investment_yuan=inv.pickups_annual_yuan / DAYS_PER_YEAR,
    )


__all__ = ["DAYS_PER_YEAR", "FacilityDay", "Investment", "facility_day", "investment",
           "module_moves_yuan", "modules_running", "pickup_setup_yuan"]
