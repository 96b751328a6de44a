"""One-call facade: instance + road network -> checked plan and KPIs for a scenario day."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optimizer.check import verify
from optimizer.errors import InfeasibleError
from optimizer.formats.instance_toml import read_instance
from optimizer.instance import Instance, Scenario
from optimizer.kpi import evaluate
from optimizer.plan import DayPlan, FacilityPlan, Kpis
from optimizer.roads import (
    DEFAULT_PROFILES,
    UNREACHABLE,
    RoadNetwork,
    TravelMatrix,
    check_reachable,
    load_network,
    snap_sites,
    travel_matrix,
)
from optimizer.routing.coldchain import build_day_problem, fleet_counts, to_day_plan
from optimizer.routing.solve import solve_routing
from optimizer.scenario import apply_scenario, day_volumes

log = logging.getLogger(__name__)

COVERAGE_PROFILE = "van"


@dataclass(frozen=True, slots=True)
class Limits:
    """Search limits: wall-clock seconds (always honoured) and an optional solution count.

    A ``solution_limit`` makes the search deterministic for a given seed whatever the
    machine's speed (the time limit then only guards against runaway runs).
    """

    time_s: float = 60.0
    solution_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Matrices:
    """Travel matrices over the instance's site ids: one per vehicle type, one for coverage."""

    by_vehicle_type: dict[str, TravelMatrix]
    coverage: TravelMatrix
    build_s: float

    def minutes_to(self, rows: list[str], cols: list[str]) -> dict[str, dict[str, float]]:
        """Coverage travel minutes from each id in ``rows`` to each id in ``cols``."""
        idx = {s: i for i, s in enumerate(self.coverage.ids)}
        sub = self.coverage.duration_s[np.ix_([idx[r] for r in rows], [idx[c] for c in cols])]
        mins = np.where(sub < UNREACHABLE, sub / 60.0, math.inf).tolist()
        return {r: dict(zip(cols, row, strict=True)) for r, row in zip(rows, mins, strict=True)}


@dataclass(frozen=True, slots=True)
class Result:
    """A solved scenario day: facilities, checked routes, KPIs and how they were obtained."""

    instance: str
    scenario: str
    facilities: FacilityPlan
    day: DayPlan
    kpis: Kpis
    runtime_s: float
    seed: int
    limits: Limits
    notes: tuple[str, ...] = field(default=())


def load_instance(path: str | Path) -> Instance:
    """Read and validate an instance (TOML file or its directory)."""
    return read_instance(path)


def load_instance_network(instance: Instance) -> RoadNetwork:
    """Load the road network an instance names."""
    return load_network(instance.network_path)


def build_matrices(instance: Instance, network: RoadNetwork, *, check: bool = True) -> Matrices:
    """Snap every site and build one travel matrix per vehicle type plus the coverage matrix.

    Raises :class:`NetworkError` naming every site too far from the road network or not
    connected to the others (with ``check``).
    """
    t0 = time.perf_counter()
    snaps = snap_sites(network, instance.site_points(), max_snap_m=instance.operations.max_snap_m,
                       source=str(instance.network_path))
    if check:
        check_reachable(network, snaps, source=str(instance.network_path))
    cache: dict[tuple[str, tuple[str, ...]], TravelMatrix] = {}
    by_type: dict[str, TravelMatrix] = {}
    for vt in instance.vehicle_types:
        key = (vt.profile, tuple(sorted(vt.forbidden_road_classes)))
        if key not in cache:
            cache[key] = travel_matrix(network, snaps, DEFAULT_PROFILES[vt.profile],
                                       forbidden_classes=key[1])
        by_type[vt.id] = cache[key]
    cov_key = (COVERAGE_PROFILE, ())
    if cov_key not in cache:
        cache[cov_key] = travel_matrix(network, snaps, DEFAULT_PROFILES[COVERAGE_PROFILE])
    return Matrices(by_type, cache[cov_key], time.perf_counter() - t0)


def baseline_facilities(
    instance: Instance, matrices: Matrices, produce_kg: Mapping[str, float]
) -> FacilityPlan:
    """Today's plan: existing cold stores and modules, existing pickup points.

    Produce is sent to the nearest existing cold store that still has pre-cooling capacity
    (modules x t x turns per day) and is reachable within the pre-cooling deadline, nearest
    villages first; what does not fit is left to the ambient channel. Parcels go to the
    nearest existing pickup point (villagers without one fetch them there).
    """
    ops = instance.operations
    stores = [s for s in instance.cold_store_sites if s.existing]
    pickups = [p.id for p in instance.pickup_sites if p.existing]
    if not stores:
        raise InfeasibleError(f"{instance.source}: cold_store_sites: no existing cold store; "
                              "the baseline needs today's sites (existing = 1)")
    if not pickups:
        raise InfeasibleError(f"{instance.source}: pickup_sites: no existing pickup point; "
                              "the baseline needs today's pickup points (existing = 1)")
    cap_kg = {
        s.id: s.existing_modules * s.module_capacity_t * 1000.0
        * instance.cold_storage.turns_per_day
        for s in stores
    }
    village_ids = [v.id for v in instance.villages]
    to_store = matrices.minutes_to(village_ids, [s.id for s in stores])
    deadline_min = ops.precool_deadline_h * 60.0
    order = sorted(village_ids, key=lambda v: (min(to_store[v].values()), v))
    assign: dict[str, tuple[tuple[str, float], ...]] = {}
    for vid in order:
        need = produce_kg.get(vid, 0.0)
        shares: list[tuple[str, float]] = []
        for sid in sorted(to_store[vid], key=lambda s: (to_store[vid][s], s)):
            if need <= 0:
                break
            if to_store[vid][sid] > deadline_min or cap_kg[sid] <= 0:
                continue
            take = min(need, cap_kg[sid])
            cap_kg[sid] -= take
            need -= take
            shares.append((sid, take))
        if shares:
            assign[vid] = tuple(shares)
    to_pickup = matrices.minutes_to(village_ids, pickups)
    village_pickup = {
        v: min(pickups, key=lambda p: (to_pickup[v][p], p))
        for v in village_ids
        if min(to_pickup[v].values()) < math.inf
    }
    modules = {
        season.id: {s.id: s.existing_modules for s in stores} for season in instance.seasons
    }
    return FacilityPlan(
        name="baseline",
        cold_stores=tuple(s.id for s in stores),
        modules=modules,
        pickup_points=tuple(pickups),
        produce_to_store=assign,
        village_pickup=village_pickup,
        status="today",
    )


def plan_day(
    instance: Instance,
    scenario: Scenario,
    facilities: FacilityPlan,
    matrices: Matrices,
    *,
    fleet: Mapping[str, int],
    limits: Limits,
    seed: int = 0,
) -> tuple[DayPlan, Kpis]:
    """Route one representative day of ``scenario`` for ``facilities``; check; compute KPIs."""
    orders, produce = day_volumes(instance, scenario)
    day = build_day_problem(instance, matrices.by_vehicle_type, facilities, orders, produce,
                            fleet, name=f"{instance.name}/{scenario.id}/{facilities.name}")
    if not day.problem.vehicles:
        raise InfeasibleError(f"{instance.source}: vehicles: the {facilities.name} fleet has no "
                              "vehicle; set count/baseline_count > 0 for a vehicle type")
    sol = solve_routing(day.problem, time_limit_s=limits.time_s, seed=seed,
                        solution_limit=limits.solution_limit)
    breakdown = verify(day.problem, sol)
    plan = to_day_plan(day, sol, breakdown, scenario=scenario.id, checked=True)
    minutes_to = matrices.minutes_to([v.id for v in instance.villages],
                                     list(facilities.pickup_points))
    kpis = evaluate(instance, scenario, facilities, plan, orders=orders, produce_kg=produce,
                    minutes_to=minutes_to)
    return plan, kpis


def solve(
    instance: Instance,
    *,
    scenario: str = "peak",
    network: RoadNetwork | None = None,
    baseline: bool = True,
    limits: Limits | None = None,
    seed: int = 0,
) -> Result:
    """Plan one representative day of ``scenario`` and return the checked plan with KPIs.

    Today this routes the baseline facilities (existing cold stores, pickup points and the
    baseline fleet, or the full fleet with ``baseline=False``) with OR-Tools; every plan
    passes :func:`optimizer.check.verify` before it is returned.
    """
    t0 = time.perf_counter()
    limits = limits or Limits()
    sc = instance.scenario(scenario)
    base_net = network if network is not None else load_instance_network(instance)
    matrices = build_matrices(instance, base_net)  # validates snapping and reachability
    net = apply_scenario(base_net, sc)
    if net is not base_net:
        matrices = build_matrices(instance, net, check=False)
    _, produce = day_volumes(instance, sc)
    facilities = baseline_facilities(instance, matrices, produce)
    fleet = fleet_counts(instance, baseline=baseline)
    day, kpis = plan_day(instance, sc, facilities, matrices, fleet=fleet, limits=limits,
                         seed=seed)
    return Result(
        instance=instance.name, scenario=sc.id, facilities=facilities, day=day, kpis=kpis,
        runtime_s=time.perf_counter() - t0, seed=seed, limits=limits,
    )


__all__ = [
    "Limits",
    "Matrices",
    "Result",
    "baseline_facilities",
    "build_matrices",
    "load_instance",
    "load_instance_network",
    "plan_day",
    "solve",
]
