"""Where: pickup points (robust set covering) and cold-store sites with modules per season
(the modular location model), from travel minutes and a haul-cost estimate per kg."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.errors import InfeasibleError
from optimizer.instance import Instance, Scenario
from optimizer.location import modular_location, robust_max_cover, robust_set_cover
from optimizer.planning.economics import pickup_setup_yuan
from optimizer.planning.matrices import Matrices
from optimizer.planning.rules import DayRules
from optimizer.planning.scenario import day_volumes
from optimizer.plans import SeasonSites
from optimizer.roads import UNREACHABLE

LOAD_FACTOR = 0.8  # average load of a collection trip, share of capacity (ASSUMPTION)
#: each village may send produce to at most this many cold-store sites, its cheapest by the
#: haul estimate (keeps the location model small in large counties; exact below it)
CANDIDATE_SITES = 20
#: ... and fewer in very large counties: villages x candidates stays within this many pairs
#: (down to MIN_CANDIDATE_SITES). 3,000 villages get 8 sites each: the LP relaxation of the
#: location model then takes 5.7 s instead of 17 s, and its optimum rises by 0.44 %
CANDIDATE_PAIRS = 24_000
MIN_CANDIDATE_SITES = 8


def candidate_sites(villages: int) -> int:
    """How many cold-store sites each of ``villages`` villages may send produce to:
    ``max(MIN_CANDIDATE_SITES, min(CANDIDATE_SITES, CANDIDATE_PAIRS // villages))`` (20 up
    to 1,200 villages, 8 from 3,000)."""
    return max(MIN_CANDIDATE_SITES, min(CANDIDATE_SITES, CANDIDATE_PAIRS // max(villages, 1)))
#: the cold-store location search stops within this relative gap of its bound (HiGHS's gap,
#: on the objective without the constant value of all produce: on Weining it stopped 0.04 %
#: above the bound, 7,400 yuan a year, far below what routing noise moves)
LOCATION_REL_GAP = 1e-4


def pickup_costs(instance: Instance) -> np.ndarray:
    """Yearly cost (yuan) of opening each pickup site: running it plus its annualised setup;
    0 for today's points (they stay)."""
    eco = instance.economics
    a = eco.annuity(eco.pickup_life_years)
    return np.array([0.0 if p.existing else p.opening_cost_yuan + pickup_setup_yuan(instance, p) * a
                     for p in instance.pickup_sites])


def choose_pickup_points(
    instance: Instance, minutes: Mapping[str, list[np.ndarray]], *, time_limit_s: float,
    budget_yuan: float | None = None,
) -> tuple[tuple[str, ...], str, float]:
    """Pickup points covering every village within the radius in every closure sample, at
    least yearly cost (:func:`pickup_costs`; today's points are kept at no cost).

    ``minutes``: per scenario, one village x pickup site array per closure sample, of van
    minutes (:func:`optimizer.planning.scenario.coverage_samples`) or already of booleans
    "within the radius" (:func:`optimizer.planning.scenario.coverage_masks`).

    With ``budget_yuan`` (yuan/year) below what covering every village costs, the points
    maximise the households covered in the worst closure sample within the budget instead.
    Returns (points, solver status, their yearly cost). Raises :class:`InfeasibleError`
    naming the villages no candidate can cover (full coverage).
    """
    radius = instance.operations.coverage_radius_min
    covers = [m if m.dtype == bool else m <= radius for mats in minutes.values() for m in mats]
    cost = pickup_costs(instance)
    # a tiny price for free new points, so that set covering opens none it does not need
    res = robust_set_cover(covers, site_cost=np.maximum(cost, 1e-3), time_limit_s=time_limit_s,
                           client_names=[v.id for v in instance.villages])
    if budget_yuan is not None and float(cost[list(res.open)].sum()) > budget_yuan + 1e-6:
        households = np.array([v.households for v in instance.villages], dtype=float)
        res = robust_max_cover(covers, households, budget=max(0.0, budget_yuan),
                               site_cost=cost, objective="worst", time_limit_s=time_limit_s)
    chosen = {instance.pickup_sites[j].id for j in res.open}
    chosen |= {p.id for p in instance.pickup_sites if p.existing}
    order = [p.id for p in instance.pickup_sites if p.id in chosen]
    spent = float(sum(cost[j] for j, p in enumerate(instance.pickup_sites) if p.id in chosen))
    return tuple(order), res.status, spent


def haul_estimate(instance: Instance, matrices: Matrices) -> tuple[np.ndarray, np.ndarray]:
    """(yuan per kg, allowed) for sending a village's produce to each cold-store site.

    Cheapest vehicle type that reaches both: a round trip at ``LOAD_FACTOR`` load costs
    distance + refrigeration + a share of the fixed cost over its trips, plus the spoilage
    of the ride at the vehicle's temperature. Allowed where the fastest type arrives within
    the pre-cooling deadline.
    """
    prod = instance.product
    vids = [v.id for v in instance.villages]
    sids = [s.id for s in instance.cold_store_sites]
    best = np.full((len(vids), len(sids)), np.inf)
    fastest = np.full((len(vids), len(sids)), np.inf)
    for vt in instance.vehicle_types:
        tm = matrices.by_vehicle_type[vt.id]
        rows, cols = [tm.index(v) for v in vids], [tm.index(s) for s in sids]
        out_s = tm.durations(rows, cols).astype(float)
        back_s = tm.durations(cols, rows).T.astype(float)
        out_m = tm.distances(rows, cols).astype(float)
        back_m = tm.distances(cols, rows).T.astype(float)
        ok = (out_s < UNREACHABLE) & (back_s < UNREACHABLE)
        kg = vt.capacity_kg * LOAD_FACTOR
        hours = np.where(ok, (out_s + back_s) / 3600.0, np.inf)
        km = np.where(ok, (out_m + back_m) / 1000.0, np.inf)
        with np.errstate(invalid="ignore"):
            per_kg = (km * vt.cost_yuan_per_km + hours * vt.refrigeration_yuan_per_h) / kg
            per_kg += vt.fixed_cost_yuan_per_day / (vt.capacity_kg * vt.max_trips * LOAD_FACTOR)
            per_kg += (prod.value_yuan_per_kg * prod.decay_per_h(vt.temperature_c)
                       * out_s / 3600.0)
        best = np.minimum(best, np.where(ok, per_kg, np.inf))
        fastest = np.minimum(fastest, np.where(ok, out_s / 60.0, np.inf))
    allowed = fastest <= instance.operations.precool_deadline_h * 60.0
    return np.where(allowed, best, np.inf), allowed


def cheapest_sites(cost: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """(villages, sites) bool: ``allowed`` and among each village's ``k`` cheapest sites by
    ``cost`` (yuan/kg; ties by site order)."""
    if allowed.shape[1] <= k:
        return allowed.copy()
    order = np.argsort(np.where(allowed, cost, np.inf), axis=1, kind="stable")[:, :k]
    mask = np.zeros_like(allowed, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask & allowed


def outage_yuan_per_kg(instance: Instance, scenario: Scenario) -> np.ndarray:
    """Per cold-store site, the value lost per kg it takes in on a day of ``scenario`` to
    power outages (yuan/kg): the product's value x ambient decay rate x the hours the site's
    power class is cut. It is what makes the location model prefer sites with reliable
    power where it matters."""
    prod = instance.product
    per_h = prod.value_yuan_per_kg * prod.decay_per_h(prod.ambient_temp_c)
    return np.array([per_h * scenario.outage_h.get(site.power, 0.0)
                     for site in instance.cold_store_sites])


@dataclass(frozen=True, slots=True)
class StorePlan:
    """The cold stores the location model opens, and per scenario what each runs.

    ``per_scenario[scenario id] = (modules by site, leased modules by site,
    produce_to_store)`` for the scenario's season; ``facility_cost_yuan`` is the model's
    yearly facility cost (annualised opening and bought modules, running the stores).
    """

    seasons: tuple[SeasonSites, ...]
    open_ids: tuple[str, ...]
    bought_modules: int
    per_scenario: dict[str, tuple[dict[str, int], dict[str, int],
                                  dict[str, tuple[tuple[str, float], ...]]]]
    facility_cost_yuan: float


@dataclass(frozen=True, slots=True)
class StoreCosts:
    """The yearly money terms of the modular location model (yuan): per site the annualised
    opening of a new one; per season x site an owned module's power for the season, a
    lease for the season, the staff of an active season and the standby of an idle one;
    and the annualised price of a bought module (:mod:`optimizer.planning.economics`)."""

    open: np.ndarray
    module: np.ndarray
    lease: np.ndarray
    active: np.ndarray
    standby: np.ndarray
    buy: float
    #: per season x site, the vehicle-day an active store other than the hub needs every day
    #: (the cheapest day cost of a type that may collect): a routing cost, not a facility one
    depot: np.ndarray


def store_costs(instance: Instance) -> StoreCosts:
    """:class:`StoreCosts` of ``instance``."""
    eco, cs = instance.economics, instance.cold_storage
    sites = instance.cold_store_sites
    days = np.array([s.days for s in instance.seasons], dtype=float)
    rules = DayRules.of(instance)
    vehicle_day = min((vt.fixed_cost_yuan_per_day for vt in instance.vehicle_types
                       if rules.may_collect(vt)), default=0.0)
    return StoreCosts(
        open=np.array([0.0 if s.existing else s.opening_cost_yuan
                       * eco.annuity(eco.site_life_years) for s in sites]),
        module=days[:, None] * cs.module_power_yuan_per_day * np.ones(len(sites)),
        lease=np.array([[s.lease_yuan(d, cs.module_lease_yuan_per_day) for s in sites]
                        for d in days]),
        active=days[:, None] * cs.site_staff_yuan_per_day * np.ones(len(sites)),
        standby=np.full((len(days), len(sites)), cs.standby_yuan_per_season),
        buy=cs.module_buy_yuan * eco.annuity(eco.module_life_years),
        depot=days[:, None] * vehicle_day * np.array([0.0 if s.id == instance.operations.hub
                                                      else 1.0 for s in sites]),
    )


def locate_cold_stores(
    instance: Instance,
    scenarios: Sequence[Scenario],
    haul_yuan_per_kg: np.ndarray,
    allowed: np.ndarray,
    *,
    time_limit_s: float,
    budget_yuan: float | None = None,
    budget_base_yuan: float = 0.0,
) -> StorePlan:
    """Solve the modular location model over seasons x scenarios, with the seasons'
    flexibility: sites open once, idle or active per season, modules owned (today's, moved
    between sites, or bought) or leased per season, each scenario weighted by its share of
    its season's days (:meth:`optimizer.instance.Instance.scenario_shares`).

    Each village is offered its :func:`candidate_sites` cheapest allowed sites; on each
    scenario's days a site's intake also pays the value lost to that scenario's power
    outages (:func:`outage_yuan_per_kg`).
    ``budget_yuan``
    caps the yearly facility cost above ``budget_base_yuan`` (what today's sites cost to run
    a year). Raises :class:`InfeasibleError` when there is no plan (within the budget).
    """
    allowed = cheapest_sites(haul_yuan_per_kg, allowed, candidate_sites(len(instance.villages)))
    seasons = [s.id for s in instance.seasons]
    by_season = {s: [sc for sc in scenarios if sc.season == s] for s in seasons}
    for s in seasons:
        if not by_season[s]:
            by_season[s] = [Scenario(id=f"_{s}", season=s)]
    n_s = max(len(v) for v in by_season.values())
    sites = instance.cold_store_sites
    vids = [v.id for v in instance.villages]
    shares = instance.scenario_shares()
    supply = np.zeros((len(seasons), n_s, len(vids)))
    intake = np.zeros((len(seasons), n_s, len(sites)))
    prob = np.zeros((len(seasons), n_s))
    slot: dict[str, tuple[int, int]] = {}
    for t, s in enumerate(seasons):
        group = by_season[s]
        weights = np.array([shares.get(sc.id, 0.0) for sc in group])
        weights = (weights / weights.sum() if weights.sum() > 0
                   else np.full(len(group), 1.0 / len(group)))
        for k in range(n_s):
            sc = group[k] if k < len(group) else group[0]
            _, produce = day_volumes(instance, sc)
            supply[t, k] = [produce[v] for v in vids]
            intake[t, k] = outage_yuan_per_kg(instance, sc)
            prob[t, k] = weights[k] if k < len(group) else 0.0
            if k < len(group):
                slot[sc.id] = (t, k)
    prod = instance.product
    lost = prod.value_yuan_per_kg * prod.loss_fraction(prod.ambient_temp_c,
                                                       prod.uncollected_ambient_h)
    module_kg = np.array([s.module_capacity_t * 1000.0 for s in sites])
    cost = store_costs(instance)
    res = modular_location(
        supply,
        allowed,
        haul_yuan_per_kg,
        lost,
        cost.open,
        cost.module,
        module_kg if np.ptp(module_kg) > 0 else float(module_kg[0]),
        instance.cold_storage.turns_per_day,
        season_days=np.array([s.days for s in instance.seasons], dtype=float),
        add_cost_yuan=instance.cold_storage.module_add_cost_yuan,
        remove_cost_yuan=instance.cold_storage.module_remove_cost_yuan,
        initial_modules=np.array([s.existing_modules for s in sites], dtype=float),
        existing=np.array([s.existing for s in sites]),
        max_modules=np.array([s.max_modules for s in sites], dtype=float),
        scenario_prob=prob,
        active_cost_yuan=cost.active,
        standby_cost_yuan=cost.standby,
        depot_cost_yuan=cost.depot,
        lease_cost_yuan=cost.lease,
        buy_cost_yuan=cost.buy,
        cyclic=True,
        budget_yuan=budget_yuan,
        budget_base_yuan=budget_base_yuan,
        intake_yuan_per_kg=intake,
        time_limit_s=time_limit_s,
        # HiGHS from an LP-rounding start: with the flows linked to active seasons it proves
        # Xiuwen's optimum in about 3 s (SCIP: 11 s), and on Weining (623 villages) it is
        # within 0.1 % of the bound in 10 s where SCIP was stuck at 8 x the bound (it left
        # the off-season produce unserved). With a budget row HiGHS was better already
        # (Xiuwen, 500,000 yuan, 20 s: 18.6 M vs SCIP's 78.9 M yuan)
        backend="scipy-highs",
        mip_rel_gap=LOCATION_REL_GAP,
    )
    if res.modules is None or res.assignment is None or res.leased is None:
        if budget_yuan is not None and res.status == "infeasible":
            # the least a year can cost: today's stores kept open, idle all year
            floor = float(sum(cost.standby[:, j].sum() for j, s in enumerate(sites)
                              if s.existing))
            short = floor - budget_base_yuan - budget_yuan
            raise InfeasibleError(
                f"{instance.source}: budget: {budget_yuan:,.0f} yuan/year is "
                f"{max(short, 0.0):,.0f} yuan short: today's cold stores cost "
                f"{budget_base_yuan:,.0f} yuan a year to run and at least {floor:,.0f} even "
                f"idle all year; raise the budget to {max(floor - budget_base_yuan, 0.0):,.0f} "
                "or more")
        raise InfeasibleError(f"{instance.source}: cold_store_sites: the location model found "
                              f"no plan ({res.status}: {res.message})")
    modules = np.asarray(res.modules)
    leased = np.asarray(res.leased)
    flows = np.asarray(res.assignment)
    open_ids = tuple(sites[j].id for j in res.open)
    summaries = []
    for t, s in enumerate(seasons):
        summaries.append(SeasonSites(
            season=s,
            modules={sites[j].id: int(modules[t, 0, j]) for j in res.open},
            status=res.status, objective_yuan=float(res.objective), bound_yuan=float(res.bound),
        ))
    per_scenario = {}
    for sc_id, (t, k) in slot.items():
        mods = {sites[j].id: int(modules[t, k, j]) for j in res.open}
        lease = {sites[j].id: int(leased[t, k, j]) for j in res.open if leased[t, k, j] > 0}
        assign: dict[str, tuple[tuple[str, float], ...]] = {}
        for i, vid in enumerate(vids):
            parts = tuple((sites[j].id, float(flows[t, k, i, j]))
                          for j in range(len(sites)) if flows[t, k, i, j] > 1e-6)
            if parts:
                assign[vid] = parts
        per_scenario[sc_id] = (mods, lease, assign)
    return StorePlan(tuple(summaries), open_ids, int(res.bought), per_scenario,
                     float(res.facility_cost))


__all__ = ["CANDIDATE_PAIRS", "CANDIDATE_SITES", "LOAD_FACTOR", "LOCATION_REL_GAP",
           "MIN_CANDIDATE_SITES", "StoreCosts", "StorePlan", "candidate_sites", "cheapest_sites",
           "choose_pickup_points", "haul_estimate", "locate_cold_stores", "outage_yuan_per_kg",
           "pickup_costs", "store_costs"]
