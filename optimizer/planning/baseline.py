"""Today's plan: the existing cold stores, modules, pickup points and fleet."""

from __future__ import annotations

import math
from collections.abc import Mapping

from optimizer.errors import InfeasibleError
from optimizer.instance import Instance
from optimizer.planning.matrices import Matrices
from optimizer.plans import FacilityPlan


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


__all__ = ["baseline_facilities"]
