"""The fleet of a plan: how many vehicles of each type, and at which cold store each is based."""

from __future__ import annotations

import math
from collections.abc import Mapping

from optimizer.instance import Instance
from optimizer.plans import FacilityPlan


def home_fleet(instance: Instance, *, baseline: bool = True) -> dict[str, dict[str, int]]:
    """Each type's vehicles at its home depot (``VehicleType.depot``): today's
    ``baseline_count``, or with ``baseline=False`` the plan's ``count``."""
    return {vt.id: {vt.depot: vt.baseline_count if baseline else vt.count}
            for vt in instance.vehicle_types}


def vehicle_numbers(fleet: Mapping[str, Mapping[str, int]]) -> dict[tuple[str, str],
                                                                      tuple[int, ...]]:
    """The numbers (1-based) of each type's vehicles at each depot: numbered across the
    type's depots in sorted order, so ``TYPE#N`` names one vehicle of the whole fleet."""
    out: dict[tuple[str, str], tuple[int, ...]] = {}
    for type_id, per in fleet.items():
        first = 1
        for depot in sorted(per):
            n = max(0, int(per[depot]))
            out[(type_id, depot)] = tuple(range(first, first + n))
            first += n
    return out


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


__all__ = ["home_fleet", "place_fleet", "vehicle_numbers"]
