"""Where: pickup points (robust set covering) and cold-store sites with modules per season
(the modular location model), from travel minutes and a haul-cost estimate per kg."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from optimizer.errors import InfeasibleError
from optimizer.instance import Instance, Scenario
from optimizer.location import modular_location, robust_set_cover
from optimizer.planning.matrices import Matrices
from optimizer.planning.scenario import day_volumes
from optimizer.plans import SeasonSites
from optimizer.roads import UNREACHABLE

LOAD_FACTOR = 0.8  # average load of a collection trip, share of capacity (ASSUMPTION)
#: each village may send produce to at most this many cold-store sites, its cheapest by the
#: haul estimate (keeps the location model small in large counties; exact below it)
CANDIDATE_SITES = 20


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


__all__ = ["CANDIDATE_SITES", "LOAD_FACTOR", "cheapest_sites", "choose_pickup_points",
           "haul_estimate", "locate_cold_stores"]
