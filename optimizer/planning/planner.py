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
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace

import numpy as np

from optimizer._parallel import process_pool
from optimizer.instance import Instance, Scenario
from optimizer.limits import LOCATION_CAP_S, Limits
from optimizer.limits import location_time_s as location_rule_s
from optimizer.planning.baseline import baseline_facilities
from optimizer.planning.day import day_kpis, plan_day, route_day
from optimizer.planning.economics import facility_day
from optimizer.planning.fleet import home_fleet, place_fleet
from optimizer.planning.kpi import facility_cost_per_day
from optimizer.planning.matrices import Matrices, build_matrices, load_instance_network
from optimizer.planning.scenario import coverage_masks, day_volumes, scenario_networks
from optimizer.planning.sites import (
    StorePlan,
    candidate_sites,
    choose_pickup_points,
    haul_estimate,
    locate_cold_stores,
)
from optimizer.planning.verify import check_result
from optimizer.planning.year import year_rollup
from optimizer.plans import DayPlan, FacilityPlan, Kpis, PlanningResult, ScenarioOutcome
from optimizer.roads import RoadNetwork

log = logging.getLogger(__name__)

#: the location time of the old fixed default (s); the default is now the size rule
#: (:func:`location_time_s_for`)
LOCATION_TIME_S = LOCATION_CAP_S


def location_time_s_for(instance: Instance) -> float:
    """Seconds per location model solve for ``instance`` by the size rule
    (:func:`optimizer.limits.location_time_s`): its villages x the cold-store sites each
    may use (:func:`optimizer.planning.sites.candidate_sites`)."""
    return location_rule_s(len(instance.villages),
                           min(len(instance.cold_store_sites),
                               candidate_sites(len(instance.villages))))


@dataclass(frozen=True, slots=True)
class Planning:
    """A planning result with the road networks and matrices it was computed on."""

    result: PlanningResult
    networks: dict[str, RoadNetwork]
    matrices: dict[str, Matrices]


Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


def _robust_pct(instance: Instance, pickup_points: tuple[str, ...],
                samples: list[np.ndarray], sample_ids: list[str]) -> float:
    """% of villages within the radius of one of ``pickup_points`` in every closure sample
    (``samples``: village x ``sample_ids`` minutes, or booleans "within the radius")."""
    wanted = set(pickup_points)
    assert wanted <= set(sample_ids), "robust coverage samples lack a plan's pickup point"
    cols = [j for j, pid in enumerate(sample_ids) if pid in wanted]
    radius = instance.operations.coverage_radius_min
    if not cols:
        return 0.0
    ok = np.ones(len(instance.villages), bool)
    for m in samples:
        ok &= (m[:, cols] if m.dtype == bool else m[:, cols] <= radius).any(axis=1)
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
    location_time_s: float | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    budget_yuan: float | None = None,
    baseline_from: PlanningResult | None = None,
) -> Planning:
    """Plan sites, modules, pickup points and routes for every scenario, with the baseline.

    ``limits.time_s`` is the routing time per scenario and plan (split over depots; None:
    by the size rule from each day's stops, :func:`optimizer.limits.routing_time_s`);
    ``location_time_s`` the seconds of each location model solve (None: by the size rule
    from villages x candidate sites, :func:`optimizer.limits.location_time_s`);
    ``iterations`` location-routing rounds on the peak-like scenario (the season with the
    most produce). ``jobs`` processes route the scenario days in parallel (results do not
    depend on it); today's days start at once in ``jobs - 1`` of them, alongside the
    location models and the key scenario's rounds in this process. ``budget_yuan``
    (yuan/year) caps the facility side of the plan: the annualised investment in new
    sites, bought modules and new pickup points plus what running the cold stores and
    pickup points costs above today's (the cold stores take what they need first, the
    pickup points the rest); the plan then buys no vehicle (it owns today's of every type
    with a ``purchase_yuan``, and may still hire).
    ``baseline_from``: a result of the same instance and scenarios whose baseline days are
    taken as they are (they do not depend on the plan). Every routed day passes
    :func:`optimizer.routing.verify.verify`, and the whole result passes the plan-level
    checker (:func:`optimizer.planning.verify.check_result`) before it is returned.
    """
    t0 = time.perf_counter()
    jobs_n = max(1, int(jobs))
    say = progress or _noop
    limits = limits or Limits()
    if location_time_s is None:
        location_time_s = location_time_s_for(instance)
    chosen = list(instance.scenarios) if scenarios is None else [
        instance.scenario(s) for s in scenarios]
    if not chosen:
        chosen = [Scenario(id=s.id, season=s.id) for s in instance.seasons]
    base = network if network is not None else load_instance_network(instance)
    say("road network and travel matrices")
    base_m = build_matrices(instance, base)
    nets, closed = scenario_networks(base, chosen)
    mats = {sc.id: (base_m if nets[sc.id] is base else
                    build_matrices(instance, nets[sc.id], check=False)) for sc in chosen}
    base_facs = {sc.id: baseline_facilities(instance, mats[sc.id], day_volumes(instance, sc)[1])
                 for sc in chosen}
    reused = {o.scenario: o for o in (baseline_from.outcomes if baseline_from else ())
              if o.plan == "baseline" and o.scenario in base_facs}
    # today's days do not depend on the plan: with jobs > 1 they are routed in jobs - 1
    # worker processes while this process locates the stores and routes the key scenario
    base_fleet = home_fleet(instance, baseline=True)
    today = {(sc.id, "baseline"): (instance, sc, base_facs[sc.id], mats[sc.id], base_fleet,
                                   None) for sc in chosen if sc.id not in reused}
    n_days = len(today) + len(chosen) - 1
    queue = _RoutingQueue(min(jobs_n, n_days), limits, seed, width=jobs_n - 1)
    try:
        queue.add(today)
        return _plan(instance, base, base_m, chosen, nets, closed, mats, base_facs, reused,
                     queue, limits=limits, seed=seed, iterations=iterations,
                     location_time_s=location_time_s, jobs=jobs_n, say=say,
                     budget_yuan=budget_yuan, t0=t0)
    finally:
        queue.close()


def _plan(instance: Instance, base: RoadNetwork, base_m: Matrices, chosen: list[Scenario],
          nets: dict[str, RoadNetwork], closed: Mapping[str, tuple],
          mats: dict[str, Matrices], base_facs: Mapping[str, FacilityPlan],
          reused: Mapping[str, ScenarioOutcome], queue: _RoutingQueue, *, limits: Limits,
          seed: int, iterations: int, location_time_s: float, jobs: int, say: Progress,
          budget_yuan: float | None, t0: float) -> Planning:
    """:func:`plan` from the location models on, today's days already in ``queue``."""
    # under a budget the plan buys no vehicle: it owns today's of every type that has a price
    owned = ({vt.id: vt.baseline_count for vt in instance.vehicle_types if vt.purchase_yuan > 0}
             if budget_yuan is not None else None)
    haul, allowed = haul_estimate(instance, base_m)
    cov = coverage_masks(instance, base, chosen)  # booleans: 1 byte per village x site
    store_budget, budget_base = budget_yuan, 0.0
    pickups: tuple[str, ...] = ()
    pickup_status = ""
    if budget_yuan is not None:
        budget_base = today_store_running_yuan(instance, chosen, base_facs)
    else:
        say("pickup points (robust set covering)")
        pickups, pickup_status, _ = choose_pickup_points(instance, cov,
                                                         time_limit_s=location_time_s)

    # the scenario driving the feedback: the one with the most produce
    key_sc = max(chosen, key=lambda sc: (sum(day_volumes(instance, sc)[1].values()), sc.id))
    best: tuple[float, StorePlan, dict] | None = None
    history: list[dict[str, float]] = []
    factor = np.ones(len(instance.cold_store_sites))
    village_pickup: dict[str, str] = {}
    for it in range(max(iterations, 1)):
        say(f"cold-store location, round {it + 1}")
        stores = locate_cold_stores(instance, chosen, haul * factor[None, :], allowed,
                                    time_limit_s=location_time_s, budget_yuan=store_budget,
                                    budget_base_yuan=budget_base)
        if not pickups:  # with a budget: the pickup points get what the cold stores leave
            assert budget_yuan is not None
            say("pickup points within the budget")
            left = budget_yuan - (stores.facility_cost_yuan - budget_base)
            pickups, pickup_status, spent = choose_pickup_points(
                instance, cov, time_limit_s=location_time_s, budget_yuan=left)
            store_budget = budget_yuan - spent
        if not village_pickup:
            to_pickup = base_m.minutes_to([v.id for v in instance.villages], list(pickups))
            village_pickup = {v: min(pickups, key=lambda p: (to_pickup[v][p], p))
                              for v in to_pickup}
        fac = _facilities(instance, key_sc, stores, pickups, village_pickup)
        orders, _ = day_volumes(instance, key_sc)
        fleet = place_fleet(instance, fac, orders, owned=owned)
        hired = place_fleet(instance, fac, orders, hired=True, placed=fleet)
        say(f"routing {key_sc.id} (plan), round {it + 1}")
        day, k = plan_day(instance, key_sc, fac, mats[key_sc.id], fleet, hired=hired,
                          limits=limits, seed=seed)
        total = total_cost_yuan(instance, fac, day, k, key_sc)
        history.append({"round": float(it + 1), "total_cost_yuan": total,
                        "cost_per_order_yuan": k.cost_per_order_yuan,
                        "spoilage_mass_pct": k.spoilage_mass_pct,
                        "open_sites": float(len(fac.cold_stores))})
        if best is None or total < best[0] - 1e-6:
            best = (total, stores, {key_sc.id: (fac, day, k)})
        new_factor = _feedback(instance, fac, day, haul, factor)
        if np.allclose(new_factor, factor, rtol=0.05):
            break
        factor = new_factor
    assert best is not None
    stores, done = best[1], best[2]

    # keep only the chosen points' coverage columns (today's points are among them): frees
    # the village x candidate masks (0.1 GB at 3,000 villages)
    keep_cols = [j for j, p in enumerate(instance.pickup_sites) if p.id in set(pickups)]
    cov_ids = [instance.pickup_sites[j].id for j in keep_cols]
    cov = {k: [np.ascontiguousarray(m[:, keep_cols]) for m in ms] for k, ms in cov.items()}

    # the plans of the other scenarios join today's days (already queued) in the pool
    tasks: dict[tuple[str, str], tuple] = {}
    facs: dict[tuple[str, str], FacilityPlan] = {
        (sc.id, "baseline"): base_facs[sc.id] for sc in chosen if sc.id not in reused}
    for sc in chosen:
        orders, _ = day_volumes(instance, sc)
        if sc.id not in done:
            fac = _facilities(instance, sc, stores, pickups, village_pickup)
            facs[(sc.id, "plan")] = fac
            owned_at = place_fleet(instance, fac, orders, owned=owned)
            tasks[(sc.id, "plan")] = (instance, sc, fac, mats[sc.id], owned_at,
                                     place_fleet(instance, fac, orders, hired=True,
                                                 placed=owned_at))
    say(f"routing {len(facs)} scenario days on {min(jobs, len(facs)) or 1} process(es)")
    queue.add(tasks)
    days = queue.results()
    outcomes: list[ScenarioOutcome] = []
    for sc in chosen:
        if sc.id in reused:
            outcomes.append(reused[sc.id])
        for kind in ("baseline", "plan"):
            if kind == "baseline" and sc.id in reused:
                continue
            if kind == "plan" and sc.id in done:
                fac, day, k = done[sc.id]
            else:
                fac, day = facs[(sc.id, kind)], days[(sc.id, kind)]
                k = day_kpis(instance, sc, fac, day, mats[sc.id])
            robust = _robust_pct(instance, fac.pickup_points, cov[sc.id], cov_ids) \
                if sc.closure_samples > 0 else None
            outcomes.append(ScenarioOutcome(sc.id, kind, fac, day, k, robust, closed[sc.id]))
    result = PlanningResult(
        instance=instance.name, seed=seed, time_limit_s=limits.time_s,
        solution_limit=limits.solution_limit, seasons=stores.seasons, pickup_points=pickups,
        pickup_status=pickup_status, outcomes=tuple(outcomes), iterations=tuple(history),
        runtime_s=0.0, budget_yuan=budget_yuan, year=year_rollup(instance, outcomes),
    )
    say("re-checking the whole plan (plan-level checker)")
    _, violations = check_result(instance, result, network=base)
    if violations:  # both checkers state the same rules: a disagreement is a bug
        more = f" (+{len(violations) - 1} more)" if len(violations) > 1 else ""
        raise RuntimeError(f"{instance.name}: the plan fails the plan-level checker: "
                           f"{violations[0]}{more}")
    result = replace(result, runtime_s=time.perf_counter() - t0)
    return Planning(result, nets, mats)


def today_store_running_yuan(instance: Instance, scenarios: Sequence[Scenario],
                             base_facs: Mapping[str, FacilityPlan]) -> float:
    """What running today's cold stores costs a year (yuan): each season's days x its
    scenarios' day costs weighted by their share of the season
    (:func:`optimizer.planning.economics.facility_day`)."""
    shares = instance.scenario_shares()
    total = 0.0
    for season in instance.seasons:
        group = [sc for sc in scenarios if sc.season == season.id]
        weights = [shares.get(sc.id, 0.0) for sc in group]
        norm = sum(weights) or 1.0
        for sc, w in zip(group, weights, strict=True):
            day = facility_day(instance, base_facs[sc.id], season.id)
            total += season.days * (w / norm) * day.operating_yuan
    return total


def _route_job(args: tuple, limits: Limits, seed: int) -> DayPlan:
    instance, sc, fac, matrices, fleet, hired = args
    return route_day(instance, sc, fac, matrices, fleet, hired=hired, limits=limits, seed=seed)


class _RoutingQueue:
    """Routing jobs (scenario days) run in ``n`` worker processes, at most ``width`` at a
    time until :meth:`widen` (so that this process can work alongside them); in this
    process, in key order, when ``n`` is 1. Results do not depend on ``n`` or the order."""

    def __init__(self, n: int, limits: Limits, seed: int, *, width: int,
                 fn: Callable[[tuple, Limits, int], DayPlan] | None = None) -> None:
        self.limits, self.seed = limits, seed
        self.fn = fn or _route_job  # module-level (picklable); tests swap it
        self.width = max(1, width)
        self.pool = process_pool(n, preload=("optimizer.planning.planner",)) if n > 1 else None
        self.pending: deque[tuple[tuple[str, str], tuple]] = deque()
        self.futures: dict[tuple[str, str], Future[DayPlan]] = {}
        self.running = 0
        self.lock = threading.RLock()  # a job done at once calls back in this thread

    def close(self) -> None:
        """Drop the jobs not started and stop the worker processes."""
        if self.pool is not None:
            with self.lock:
                self.pending.clear()
            self.pool.shutdown(wait=True, cancel_futures=True)

    def add(self, jobs: Mapping[tuple[str, str], tuple]) -> None:
        """Queue ``jobs`` (key -> :func:`route_day` arguments), in key order."""
        with self.lock:
            self.pending.extend((k, jobs[k]) for k in sorted(jobs))
            self._fill()

    def widen(self, width: int) -> None:
        """Let ``width`` jobs run at once from now on."""
        with self.lock:
            self.width = max(1, width)
            self._fill()

    def results(self) -> dict[tuple[str, str], DayPlan]:
        """Every queued job's day (waits for them; in this process when ``n`` is 1)."""
        if self.pool is None:
            jobs = sorted(self.pending)
            self.pending.clear()
            return {k: self.fn(job, self.limits, self.seed) for k, job in jobs}
        self.widen(len(self.pending) + len(self.futures))
        return {k: f.result() for k, f in sorted(self.futures.items())}

    def _fill(self) -> None:  # with self.lock held
        while self.pool is not None and self.pending and self.running < self.width:
            key, job = self.pending.popleft()
            fut = self.pool.submit(self.fn, job, self.limits, self.seed)
            self.futures[key] = fut
            self.running += 1
            fut.add_done_callback(self._done)

    def _done(self, _: Future[DayPlan]) -> None:
        with self.lock:
            self.running -= 1
            self._fill()


def _facilities(instance: Instance, sc: Scenario, stores: StorePlan,
                pickups: tuple[str, ...], village_pickup: dict[str, str]) -> FacilityPlan:
    """The plan's facilities on a day of ``sc``: its season's modules and produce flows;
    the other seasons' modules from one of their scenarios (for the year's module moves)."""
    mods, leased, assign = stores.per_scenario[sc.id]
    modules: dict[str, dict[str, int]] = {s.id: {} for s in instance.seasons}
    leases: dict[str, dict[str, int]] = {s.id: {} for s in instance.seasons}
    modules[sc.season], leases[sc.season] = dict(mods), dict(leased)
    season_of = {x.id: x.season for x in instance.scenarios}
    for other_id, (m2, l2, _) in stores.per_scenario.items():
        other = season_of.get(other_id, other_id[1:])  # "_SEASON": a season's stand-in
        if other != sc.season and not modules[other]:
            modules[other], leases[other] = dict(m2), dict(l2)
    return FacilityPlan(
        name="plan", cold_stores=stores.open_ids, modules=modules, pickup_points=pickups,
        produce_to_store=dict(assign), village_pickup=dict(village_pickup), status="optimised",
        leased={k: v for k, v in leases.items() if v}, bought_modules=stores.bought_modules,
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


__all__ = ["LOCATION_TIME_S", "Planning", "location_time_s_for", "plan", "today_store_running_yuan",
           "total_cost_yuan"]
