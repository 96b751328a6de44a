"""Integrated planning: pickup points, cold-store sites and modules per season, routes per
scenario, KPIs against today's baseline, and location-routing feedback.

Steps (``plan``):

1. Pickup points: set covering on van travel minutes (every village within the coverage
   radius, robust over the road-closure samples of every scenario), today's points kept at
   no cost, new ones at their yearly cost.
2. Cold stores: the modular location model over seasons x scenarios (sites opened once,
   modules per season and scenario), with haul costs first estimated per kg from the fleet's
   costs and travel times (round trips at 80% load, spoilage on the ride) and the value lost
   on the ambient channel for produce left behind.
3. Fleet: the plan's vehicles are based at the open cold stores in proportion to the produce
   (and, at the hub, parcels) they handle.
4. Routing: every scenario is routed on its own road network, one routing problem per depot
   (the depot's vehicles, its produce lots, and at the hub the parcels); every route passes
   the independent checker; KPIs are computed for the plan and for today's baseline.
5. Feedback: the routed peak cost per kg of each store replaces the estimate, the location
   model is solved again, and the cheaper plan (facilities + routing + spoilage + produce
   lost) is kept.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from optimizer.check import verify
from optimizer.errors import InfeasibleError
from optimizer.instance import Instance, Scenario
from optimizer.kpi import evaluate, facility_cost_per_day
from optimizer.location import modular_location, robust_set_cover
from optimizer.plan import (
    DayPlan,
    FacilityPlan,
    Kpis,
    PlanningResult,
    ScenarioOutcome,
    SeasonSites,
)
from optimizer.roads import DEFAULT_PROFILES, UNREACHABLE, RoadNetwork, travel_minutes
from optimizer.routing.coldchain import build_day_problem, to_day_plan
from optimizer.routing.solve import solve_routing, time_shares
from optimizer.scenario import apply_scenario, day_volumes, sample_closures
from optimizer.solve import (
    COVERAGE_PROFILE,
    Limits,
    Matrices,
    baseline_facilities,
    build_matrices,
    load_instance_network,
)

log = logging.getLogger(__name__)

LOAD_FACTOR = 0.8  # average load of a collection trip, share of capacity (ASSUMPTION)
LOCATION_TIME_S = 20.0
#: each village may send produce to at most this many cold-store sites, its cheapest by the
#: haul estimate (keeps the location model small in large counties; exact below it)
CANDIDATE_SITES = 20


@dataclass(frozen=True, slots=True)
class Planning:
    """A planning result with the road networks and matrices it was computed on."""

    result: PlanningResult
    networks: dict[str, RoadNetwork]
    matrices: dict[str, Matrices]


Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


# ----------------------------------------------------------------------------- networks


def scenario_networks(
    instance: Instance, base: RoadNetwork, scenarios: Sequence[Scenario]
) -> tuple[dict[str, RoadNetwork], dict[str, tuple[str, ...]]]:
    """The routed road network of each scenario (closure sample 0) and its closed roads."""
    nets: dict[str, RoadNetwork] = {}
    closed: dict[str, tuple[str, ...]] = {}
    for sc in scenarios:
        sample = 0 if sc.closure_samples > 0 else None
        nets[sc.id] = apply_scenario(base, sc, sample=sample)
        shut = set(sc.closed_edges)
        if sample is not None:
            shut |= set(sample_closures(base, sc, 0))
        closed[sc.id] = tuple(sorted(shut))
    return nets, closed


def coverage_samples(
    instance: Instance, base: RoadNetwork, scenarios: Sequence[Scenario]
) -> dict[str, list[np.ndarray]]:
    """Per scenario, van travel minutes village x pickup site for every closure sample."""
    from optimizer.roads import snap_sites

    snaps = snap_sites(base, instance.site_points(), max_snap_m=instance.operations.max_snap_m,
                       source=str(instance.network_path))
    villages = {v.id: snaps[v.id] for v in instance.villages}
    pickups = {p.id: snaps[p.id] for p in instance.pickup_sites}
    out: dict[str, list[np.ndarray]] = {}
    for sc in scenarios:
        mats = []
        for k in range(max(sc.closure_samples, 1)):
            net = apply_scenario(base, sc, sample=k if sc.closure_samples > 0 else None)
            mats.append(travel_minutes(net, villages, pickups,
                                       DEFAULT_PROFILES[COVERAGE_PROFILE]))
        out[sc.id] = mats
    return out


# ----------------------------------------------------------------------------- location


def choose_pickup_points(
    instance: Instance, minutes: Mapping[str, list[np.ndarray]], *, time_limit_s: float
) -> tuple[tuple[str, ...], str]:
    """Pickup points covering every village within the radius in every closure sample.

    Today's points are kept (cost 0); new ones cost their yearly ``opening_cost_yuan``.
    Raises :class:`InfeasibleError` naming the villages no candidate can cover.
    """
    radius = instance.operations.coverage_radius_min
    covers = [m <= radius for mats in minutes.values() for m in mats]
    cost = np.array([0.0 if p.existing else max(p.opening_cost_yuan, 1e-3)
                     for p in instance.pickup_sites])
    res = robust_set_cover(covers, site_cost=cost, time_limit_s=time_limit_s,
                           client_names=[v.id for v in instance.villages])
    chosen = {instance.pickup_sites[j].id for j in res.open}
    chosen |= {p.id for p in instance.pickup_sites if p.existing}
    order = [p.id for p in instance.pickup_sites if p.id in chosen]
    return tuple(order), res.status


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
        idx = {s: i for i, s in enumerate(tm.ids)}
        rows, cols = [idx[v] for v in vids], [idx[s] for s in sids]
        out_s = tm.duration_s[np.ix_(rows, cols)].astype(float)
        back_s = tm.duration_s[np.ix_(cols, rows)].T.astype(float)
        out_m = tm.distance_m[np.ix_(rows, cols)].astype(float)
        back_m = tm.distance_m[np.ix_(cols, rows)].T.astype(float)
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


def locate_cold_stores(
    instance: Instance,
    scenarios: Sequence[Scenario],
    haul_yuan_per_kg: np.ndarray,
    allowed: np.ndarray,
    *,
    time_limit_s: float,
) -> tuple[tuple[SeasonSites, ...], dict[str, tuple[tuple[str, ...], dict[str, int],
                                                      dict[str, tuple[tuple[str, float], ...]]]]]:
    """Solve the modular location model over seasons x scenarios.

    Each village is offered its ``CANDIDATE_SITES`` cheapest allowed sites.

    Returns per-season summaries (modules of the season's first scenario) and, per scenario
    id, (open sites, modules by site, produce_to_store).
    """
    allowed = cheapest_sites(haul_yuan_per_kg, allowed, CANDIDATE_SITES)
    seasons = [s.id for s in instance.seasons]
    by_season = {s: [sc for sc in scenarios if sc.season == s] for s in seasons}
    for s in seasons:
        if not by_season[s]:
            by_season[s] = [Scenario(id=f"_{s}", season=s)]
    n_s = max(len(v) for v in by_season.values())
    sites = instance.cold_store_sites
    vids = [v.id for v in instance.villages]
    supply = np.zeros((len(seasons), n_s, len(vids)))
    prob = np.zeros((len(seasons), n_s))
    slot: dict[str, tuple[int, int]] = {}
    for t, s in enumerate(seasons):
        group = by_season[s]
        weights = [sc.probability for sc in group]
        if any(w is None for w in weights):
            weights = [1.0 / len(group)] * len(group)
        for k in range(n_s):
            sc = group[k] if k < len(group) else group[0]
            w = weights[k] if k < len(group) else 0.0
            _, produce = day_volumes(instance, sc)
            supply[t, k] = [produce[v] for v in vids]
            prob[t, k] = w
            if k < len(group):
                slot[sc.id] = (t, k)
    # one scenario axis for the whole model: use the season-average probability per index
    scen_prob = prob.mean(axis=0)
    scen_prob = scen_prob / scen_prob.sum()
    prod = instance.product
    lost = prod.value_yuan_per_kg * prod.loss_fraction(prod.ambient_temp_c,
                                                       prod.uncollected_ambient_h)
    module_kg = np.array([s.module_capacity_t * 1000.0 for s in sites])
    res = modular_location(
        supply,
        allowed,
        haul_yuan_per_kg,
        lost,
        np.array([s.opening_cost_yuan for s in sites]),
        np.array([[s.module_cost_yuan_per_season for s in sites] for _ in seasons]),
        module_kg if np.ptp(module_kg) > 0 else float(module_kg[0]),
        instance.cold_storage.turns_per_day,
        season_days=np.array([s.days for s in instance.seasons], dtype=float),
        add_cost_yuan=instance.cold_storage.module_add_cost_yuan,
        remove_cost_yuan=instance.cold_storage.module_remove_cost_yuan,
        initial_modules=np.array([s.existing_modules for s in sites], dtype=float),
        existing=np.array([s.existing for s in sites]),
        max_modules=np.array([s.max_modules for s in sites], dtype=float),
        scenario_prob=scen_prob,
        time_limit_s=time_limit_s,
    )
    if res.modules is None or res.assignment is None:
        raise InfeasibleError(f"{instance.source}: cold_store_sites: the location model found "
                              f"no plan ({res.status}: {res.message})")
    modules = np.asarray(res.modules)
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
        assign: dict[str, tuple[tuple[str, float], ...]] = {}
        for i, vid in enumerate(vids):
            shares = tuple((sites[j].id, float(flows[t, k, i, j]))
                           for j in range(len(sites)) if flows[t, k, i, j] > 1e-6)
            if shares:
                assign[vid] = shares
        per_scenario[sc_id] = (open_ids, mods, assign)
    return tuple(summaries), per_scenario


# ----------------------------------------------------------------------------- fleet


def place_fleet(
    instance: Instance, facilities: FacilityPlan, orders: Mapping[str, float]
) -> dict[str, dict[str, int]]:
    """Base the plan's vehicles (``count`` per type) at the open cold stores.

    Each type's vehicles are split over the stores in proportion to the kg they handle per
    day (produce in; at the hub also parcels out), largest remainders first; the hub keeps
    at least one vehicle of every type so that parcels always have a carrier.
    """
    load = {s: 0.0 for s in facilities.cold_stores}
    for shares in facilities.produce_to_store.values():
        for store, kg in shares:
            load[store] = load.get(store, 0.0) + kg
    hub = instance.operations.hub
    load[hub] = load.get(hub, 0.0) + sum(orders.values()) * instance.product.order_kg
    total = sum(load.values()) or 1.0
    out: dict[str, dict[str, int]] = {}
    for vt in instance.vehicle_types:
        n = vt.count
        if n <= 0:
            out[vt.id] = {}
            continue
        alloc = {s: 0 for s in load}
        alloc[hub] = 1
        rest = n - 1
        quotas = {s: rest * load[s] / total for s in load}
        for s in load:
            alloc[s] += int(math.floor(quotas[s]))
        left = n - sum(alloc.values())
        for s in sorted(load, key=lambda s: (-(quotas[s] - math.floor(quotas[s])), s))[:left]:
            alloc[s] += 1
        out[vt.id] = {s: k for s, k in alloc.items() if k > 0}
    return out


# ----------------------------------------------------------------------------- routing


def _restrict(facilities: FacilityPlan, depot: str, hub: str) -> FacilityPlan:
    return replace(
        facilities,
        produce_to_store={
            v: tuple((s, kg) for s, kg in shares if s == depot)
            for v, shares in facilities.produce_to_store.items()
            if any(s == depot for s, _ in shares)
        },
        village_pickup=dict(facilities.village_pickup) if depot == hub else {},
    )


def _merge(scenario: str, parts: list[DayPlan]) -> DayPlan:
    cost: dict[str, float] = {}
    for p in parts:
        for k, v in p.cost_yuan.items():
            cost[k] = cost.get(k, 0.0) + v
    statuses = sorted({p.solver_status for p in parts})
    return DayPlan(
        scenario=scenario,
        routes=tuple(r for p in parts for r in p.routes),
        dropped=tuple(d for p in parts for d in p.dropped),
        cost_yuan=cost,
        objective_yuan=sum(p.objective_yuan for p in parts),
        solver_status="+".join(statuses) if statuses else "empty",
        engine="+".join(sorted({p.engine for p in parts if p.engine})),
        runtime_s=sum(p.runtime_s for p in parts),
        checked=all(p.checked for p in parts),
    )


def route_scenario(
    instance: Instance,
    scenario: Scenario,
    facilities: FacilityPlan,
    matrices: Matrices,
    fleet: Mapping[str, Mapping[str, int]],
    *,
    time_limit_s: float,
    solution_limit: int | None,
    seed: int,
) -> DayPlan:
    """Route one day of ``scenario``: one checked routing problem per depot, merged.

    ``time_limit_s`` is the whole day's search time, split over the depots by
    :func:`optimizer.routing.solve.time_shares`.
    """
    orders, produce = day_volumes(instance, scenario)
    hub = instance.operations.hub
    depots = sorted({d for per in fleet.values() for d, n in per.items() if n > 0})
    jobs = []
    for depot in depots:
        sub_fac = _restrict(facilities, depot, hub)
        sub_fleet = {t: {depot: per[depot]} for t, per in fleet.items() if per.get(depot, 0)}
        day = build_day_problem(instance, matrices.by_vehicle_type, sub_fac, orders, produce,
                                sub_fleet, name=f"{instance.name}/{scenario.id}/{depot}")
        if day.problem.stops:
            jobs.append(day)
    shares = time_shares(time_limit_s, [len(d.problem.stops) for d in jobs])
    parts = []
    for day, share in zip(jobs, shares, strict=True):
        sol = solve_routing(day.problem, time_limit_s=share, seed=seed,
                            solution_limit=solution_limit)
        breakdown = verify(day.problem, sol)
        parts.append(to_day_plan(day, sol, breakdown, scenario=scenario.id, checked=True))
    return _merge(scenario.id, parts)


def _kpis(instance: Instance, scenario: Scenario, facilities: FacilityPlan, day: DayPlan,
          matrices: Matrices) -> Kpis:
    orders, produce = day_volumes(instance, scenario)
    minutes_to = matrices.minutes_to([v.id for v in instance.villages],
                                     list(facilities.pickup_points))
    return evaluate(instance, scenario, facilities, day, orders=orders, produce_kg=produce,
                    minutes_to=minutes_to)


def _robust_pct(instance: Instance, pickup_points: tuple[str, ...],
                samples: list[np.ndarray], sample_ids: list[str]) -> float:
    """% of villages within the radius of one of ``pickup_points`` in every closure sample
    (``samples``: village x ``sample_ids`` minutes)."""
    wanted = set(pickup_points)
    assert wanted <= set(sample_ids), "robust coverage samples lack a plan's pickup point"
    cols = [j for j, pid in enumerate(sample_ids) if pid in wanted]
    radius = instance.operations.coverage_radius_min
    if not cols:
        return 0.0
    ok = np.ones(len(instance.villages), bool)
    for m in samples:
        ok &= (m[:, cols] <= radius).any(axis=1)
    return 100.0 * float(ok.mean())


def total_cost_yuan(instance: Instance, facilities: FacilityPlan, day: DayPlan,
                    kpis: Kpis, scenario: Scenario) -> float:
    """Daily cost used to compare plans: facilities + routing + value of produce spoiled."""
    spoiled = kpis.extra.get("spoiled_kg", 0.0) * instance.product.value_yuan_per_kg
    return (facility_cost_per_day(instance, facilities, scenario.season)
            + kpis.routing_cost_yuan + spoiled)


# ----------------------------------------------------------------------------- plan


def plan(
    instance: Instance,
    *,
    network: RoadNetwork | None = None,
    scenarios: Sequence[str] | None = None,
    limits: Limits | None = None,
    seed: int = 0,
    iterations: int = 2,
    location_time_s: float = LOCATION_TIME_S,
    jobs: int = 1,
    progress: Progress | None = None,
) -> Planning:
    """Plan sites, modules, pickup points and routes for every scenario, with the baseline.

    ``limits.time_s`` is the routing time per scenario and plan (split over depots);
    ``iterations`` location-routing rounds on the peak-like scenario (the season with the
    most produce). ``jobs`` processes route the scenario days in parallel (results do not
    depend on it). Every routed day passes :func:`optimizer.check.verify`.
    """
    t0 = time.perf_counter()
    jobs_n = max(1, int(jobs))
    say = progress or _noop
    limits = limits or Limits()
    chosen = list(instance.scenarios) if scenarios is None else [
        instance.scenario(s) for s in scenarios]
    if not chosen:
        chosen = [Scenario(id=s.id, season=s.id) for s in instance.seasons]
    base = network if network is not None else load_instance_network(instance)
    say("road network and travel matrices")
    base_m = build_matrices(instance, base)
    nets, closed = scenario_networks(instance, base, chosen)
    mats = {sc.id: (base_m if nets[sc.id] is base else
                    build_matrices(instance, nets[sc.id], check=False)) for sc in chosen}
    say("pickup points (robust set covering)")
    cov = coverage_samples(instance, base, chosen)
    pickups, pickup_status = choose_pickup_points(instance, cov, time_limit_s=location_time_s)
    # keep only the chosen points' columns (today's points are among them): frees the
    # village x candidate minutes before the location model (0.8 GB at 3,000 villages)
    keep_cols = [j for j, p in enumerate(instance.pickup_sites) if p.id in set(pickups)]
    cov_ids = [instance.pickup_sites[j].id for j in keep_cols]
    cov = {k: [np.ascontiguousarray(m[:, keep_cols]) for m in mats] for k, mats in cov.items()}
    village_ids = [v.id for v in instance.villages]
    to_pickup = base_m.minutes_to(village_ids, list(pickups))
    village_pickup = {v: min(pickups, key=lambda p: (to_pickup[v][p], p)) for v in village_ids}

    haul, allowed = haul_estimate(instance, base_m)
    # the scenario driving the feedback: the one with the most produce
    key_sc = max(chosen, key=lambda sc: (sum(day_volumes(instance, sc)[1].values()), sc.id))
    best: tuple[float, tuple, dict] | None = None
    history: list[dict[str, float]] = []
    factor = np.ones(len(instance.cold_store_sites))
    for it in range(max(iterations, 1)):
        say(f"cold-store location, round {it + 1}")
        seasons, per_sc = locate_cold_stores(
            instance, chosen, haul * factor[None, :], allowed, time_limit_s=location_time_s)
        fac = _facilities(instance, key_sc, per_sc, pickups, village_pickup)
        orders, _ = day_volumes(instance, key_sc)
        fleet = place_fleet(instance, fac, orders)
        say(f"routing {key_sc.id} (plan), round {it + 1}")
        day = route_scenario(instance, key_sc, fac, mats[key_sc.id], fleet,
                             time_limit_s=limits.time_s, solution_limit=limits.solution_limit,
                             seed=seed)
        k = _kpis(instance, key_sc, fac, day, mats[key_sc.id])
        total = total_cost_yuan(instance, fac, day, k, key_sc)
        history.append({"round": float(it + 1), "total_cost_yuan": total,
                        "cost_per_order_yuan": k.cost_per_order_yuan,
                        "spoilage_mass_pct": k.spoilage_mass_pct,
                        "open_sites": float(len(fac.cold_stores))})
        if best is None or total < best[0] - 1e-6:
            best = (total, (seasons, per_sc), {key_sc.id: (fac, day, k, fleet)})
        new_factor = _feedback(instance, fac, day, haul, factor)
        if np.allclose(new_factor, factor, rtol=0.05):
            break
        factor = new_factor
    assert best is not None
    (seasons, per_sc), done = best[1], best[2]

    # every remaining routing job (plans of the other scenarios, every baseline) in a pool
    base_fleet = {vt.id: {vt.depot: vt.baseline_count} for vt in instance.vehicle_types}
    tasks: dict[tuple[str, str], tuple] = {}
    facs: dict[tuple[str, str], FacilityPlan] = {}
    for sc in chosen:
        orders, produce = day_volumes(instance, sc)
        if sc.id not in done:
            fac = _facilities(instance, sc, per_sc, pickups, village_pickup)
            facs[(sc.id, "plan")] = fac
            tasks[(sc.id, "plan")] = (instance, sc, fac, mats[sc.id],
                                     place_fleet(instance, fac, orders))
        base_fac = baseline_facilities(instance, mats[sc.id], produce)
        facs[(sc.id, "baseline")] = base_fac
        tasks[(sc.id, "baseline")] = (instance, sc, base_fac, mats[sc.id], base_fleet)
    say(f"routing {len(tasks)} scenario days on {min(jobs_n, len(tasks)) or 1} process(es)")
    days = _run_jobs(tasks, jobs_n, limits, seed)
    outcomes: list[ScenarioOutcome] = []
    for sc in chosen:
        for kind in ("baseline", "plan"):
            if kind == "plan" and sc.id in done:
                fac, day, k, _ = done[sc.id]
            else:
                fac, day = facs[(sc.id, kind)], days[(sc.id, kind)]
                k = _kpis(instance, sc, fac, day, mats[sc.id])
            robust = _robust_pct(instance, fac.pickup_points, cov[sc.id], cov_ids) \
                if sc.closure_samples > 0 else None
            outcomes.append(ScenarioOutcome(sc.id, kind, fac, day, k, robust, closed[sc.id]))
    result = PlanningResult(
        instance=instance.name, seed=seed, time_limit_s=limits.time_s,
        solution_limit=limits.solution_limit, seasons=seasons, pickup_points=pickups,
        pickup_status=pickup_status, outcomes=tuple(outcomes), iterations=tuple(history),
        runtime_s=time.perf_counter() - t0,
    )
    return Planning(result, nets, mats)


def _route_job(args: tuple, time_limit_s: float, solution_limit: int | None,
               seed: int) -> DayPlan:
    instance, sc, fac, matrices, fleet = args
    return route_scenario(instance, sc, fac, matrices, fleet, time_limit_s=time_limit_s,
                          solution_limit=solution_limit, seed=seed)


def _run_jobs(jobs: Mapping[tuple[str, str], tuple], n: int, limits: Limits,
              seed: int) -> dict[tuple[str, str], DayPlan]:
    """Route every job; in ``n`` worker processes when n > 1 (same results either way)."""
    keys = sorted(jobs)
    if n <= 1 or len(keys) <= 1:
        return {k: _route_job(jobs[k], limits.time_s, limits.solution_limit, seed)
                for k in keys}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(n, len(keys)), mp_context=ctx) as pool:
        futures = {k: pool.submit(_route_job, jobs[k], limits.time_s, limits.solution_limit,
                                  seed) for k in keys}
        return {k: f.result() for k, f in futures.items()}


def _facilities(instance: Instance, sc: Scenario, per_sc: Mapping[str, tuple],
                pickups: tuple[str, ...], village_pickup: dict[str, str]) -> FacilityPlan:
    open_ids, mods, assign = per_sc[sc.id]
    modules: dict[str, dict[str, int]] = {s.id: {} for s in instance.seasons}
    modules[sc.season] = dict(mods)
    for other_id, (_, m2, _) in per_sc.items():
        other = next((x for x in instance.scenarios if x.id == other_id), None)
        if other is not None and other.season != sc.season and not modules[other.season]:
            modules[other.season] = dict(m2)
    return FacilityPlan(
        name="plan", cold_stores=tuple(open_ids), modules=modules, pickup_points=pickups,
        produce_to_store=dict(assign), village_pickup=dict(village_pickup), status="optimised",
    )


def _feedback(instance: Instance, fac: FacilityPlan, day: DayPlan, haul: np.ndarray,
              factor: np.ndarray) -> np.ndarray:
    """Scale each store's haul estimate by routed cost per kg / estimated cost per kg."""
    sids = [s.id for s in instance.cold_store_sites]
    vidx = {v.id: i for i, v in enumerate(instance.villages)}
    routed_cost: dict[str, float] = {}
    routed_kg: dict[str, float] = {}
    est_cost: dict[str, float] = {}
    for r in day.routes:
        kg = sum(s.pickup_kg for s in r.stops)
        if kg <= 0:
            continue
        routed_cost[r.depot] = routed_cost.get(r.depot, 0.0) + r.cost_yuan * kg / max(
            kg + sum(s.delivery_kg for s in r.stops), 1e-9)
        routed_kg[r.depot] = routed_kg.get(r.depot, 0.0) + kg
        j = sids.index(r.depot)
        for s in r.stops:
            if s.kind == "pickup":
                est_cost[r.depot] = est_cost.get(r.depot, 0.0) + s.pickup_kg * float(
                    haul[vidx[s.site_id], j] * factor[j])
    new = factor.copy()
    for sid, kg in routed_kg.items():
        j = sids.index(sid)
        if est_cost.get(sid, 0.0) > 0 and kg > 0:
            ratio = routed_cost[sid] / est_cost[sid]
            new[j] = float(np.clip(factor[j] * ratio, 0.25, 4.0))
    return new


__all__ = [
    "Planning",
    "cheapest_sites",
    "choose_pickup_points",
    "coverage_samples",
    "haul_estimate",
    "locate_cold_stores",
    "place_fleet",
    "plan",
    "route_scenario",
    "scenario_networks",
]
