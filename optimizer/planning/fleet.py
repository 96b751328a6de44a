"""The fleet of a plan: how many vehicles of each type, and at which cold store each is based.

A plan may use each type's ``count`` owned vehicles and, where the type can be hired, up to
``max_hired`` hired ones a day at ``hire_yuan_per_day`` (numbered after the owned ones:
``TYPE#N`` with ``N > count`` is hired). Today's baseline uses ``baseline_count`` owned
vehicles at the type's home depot and hires none.
"""

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


def vehicle_numbers(fleet: Mapping[str, Mapping[str, int]], *, first: Mapping[str, int] | None
                    = None) -> dict[tuple[str, str], tuple[int, ...]]:
    """The numbers of each type's vehicles at each depot: numbered across the type's depots
    in sorted order from ``first[type]`` (default 1), so ``TYPE#N`` names one vehicle of
    the whole fleet."""
    out: dict[tuple[str, str], tuple[int, ...]] = {}
    for type_id, per in fleet.items():
        start = (first or {}).get(type_id, 1)
        for depot in sorted(per):
            n = max(0, int(per[depot]))
            out[(type_id, depot)] = tuple(range(start, start + n))
            start += n
    return out


def hired_numbers(instance: Instance, hired: Mapping[str, Mapping[str, int]]
                  ) -> dict[tuple[str, str], tuple[int, ...]]:
    """The numbers of hired vehicles at each depot: after each type's ``count`` owned ones."""
    first = {vt.id: vt.count + 1 for vt in instance.vehicle_types}
    return vehicle_numbers(hired, first=first)


def place_fleet(
    instance: Instance, facilities: FacilityPlan, orders: Mapping[str, float], *,
    hired: bool = False, owned: Mapping[str, int] | None = None,
    placed: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, dict[str, int]]:
    """Base the plan's vehicles at the cold stores that take produce that day and the hub.

    ``count`` per type (or ``owned[type]``; ``hired``: ``max_hired`` per type that can be
    hired) split over the stores in proportion to the kg they handle per day (produce in;
    at the hub also parcels out), largest remainders first; the hub keeps at least one
    owned vehicle of every type so that parcels always have a carrier. With ``hired`` and
    ``placed`` (the owned placement), a store handling produce that would have no vehicle
    at all gets one hired vehicle of the type with the largest pool, taken from the store
    holding most of them (a hired vehicle costs only when used; without it the store's
    lots were all dropped). Idle stores (no produce that day) get none.
    """
    hub = instance.operations.hub
    load = {hub: sum(orders.values()) * instance.product.order_kg}
    for shares in facilities.produce_to_store.values():
        for store, kg in shares:
            if kg > 0:
                load[store] = load.get(store, 0.0) + kg
    total = sum(load.values()) or 1.0
    out: dict[str, dict[str, int]] = {}
    for vt in instance.vehicle_types:
        if hired:
            n = vt.max_hired if vt.hire_yuan_per_day is not None else 0
        else:
            n = vt.count if owned is None else min(vt.count, owned.get(vt.id, vt.count))
        if n <= 0:
            out[vt.id] = {}
            continue
        alloc = dict.fromkeys(load, 0)
        if not hired:
            alloc[hub] = 1
        rest = n - sum(alloc.values())
        quotas = {s: rest * load[s] / total for s in load}
        for s in load:
            alloc[s] += int(math.floor(quotas[s]))
        left = n - sum(alloc.values())
        for s in sorted(load, key=lambda s: (-(quotas[s] - math.floor(quotas[s])), s))[:left]:
            alloc[s] += 1
        out[vt.id] = {s: k for s, k in alloc.items() if k > 0}
    if hired and placed is not None:
        _no_store_without_a_vehicle(out, placed, load)
    return out


def _no_store_without_a_vehicle(hired: dict[str, dict[str, int]],
                                placed: Mapping[str, Mapping[str, int]],
                                load: Mapping[str, float]) -> None:
    """Move one hired vehicle to each store with load that has none at all (owned or
    hired), from the store holding most of the largest pool (which keeps at least one)."""
    def has_vehicle(store: str) -> bool:
        return any(per.get(store, 0) > 0 for per in (*placed.values(), *hired.values()))

    for store in sorted(load, key=lambda s: (-load[s], s)):
        if load[store] <= 0 or has_vehicle(store):
            continue
        pools = sorted(hired, key=lambda t: (-sum(hired[t].values()), t))
        for type_id in pools:
            per = hired[type_id]
            donors = [s for s, k in per.items() if k >= 2]
            if not donors:
                continue
            donor = max(donors, key=lambda s: (per[s], s))
            per[donor] -= 1
            per[store] = per.get(store, 0) + 1
            break


__all__ = ["hired_numbers", "home_fleet", "place_fleet", "vehicle_numbers"]
