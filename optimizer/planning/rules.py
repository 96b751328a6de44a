"""The cold-chain rules of a county day, stated once.

The routing model of a day is built from these rules (:mod:`optimizer.planning.day`), and the
plan-level checker (:mod:`optimizer.planning.verify`) re-derives every plan with them, so the
two can never disagree on what a rule is; each still computes the schedule on its own.

* **Working day.** Every route runs within ``[day_start_s, day_end_s]`` (seconds from
  midnight): it may leave at ``day_start_s`` at the earliest, every service starts by
  ``day_end_s`` and the vehicle is back at its depot by ``day_end_s``.
* **Produce lots.** A village's produce assigned to a cold store is split into whole-kg lots
  of at most ``lot_kg`` (and at most the largest vehicle allowed to collect it; lots differ
  by at most 1 kg and add up to the rounded total). A lot is ready at ``ready_s`` (harvest);
  it waits in the field, unrefrigerated, from then until its pick-up starts (field waiting,
  valued at value x ambient decay rate x kg x hours); it must reach the route's depot, the
  cold store that pre-cools it, by ``deadline_s`` (``precool_deadline_h`` after harvest);
  it travels only on a refrigerated vehicle where the product requires it. A lot left on no
  route goes to the ambient channel and loses ``lost_if_dropped`` of its value.
* **Parcels.** The parcels of each open pickup point leave the hub in whole-kg lots of at
  most ``lot_kg`` (and the largest hub vehicle), loaded at departure; a parcel not
  delivered today costs ``PARCEL_DROP_YUAN``.
* **Service.** A stop handling ``kg`` takes ``service_min_per_stop + service_min_per_t x t``
  minutes, rounded to whole seconds; service starts at ``max(arrival, window start)``.
* **Vehicles and trips.** A vehicle is named ``TYPE#N`` (``N`` from 1 to the type's owned
  fleet, numbered across depots; hired vehicles after them, ``N > count``), its trips
  ``TYPE#N/tripK`` when the type makes several; a vehicle keeps one depot all day; trip
  ``K`` starts at least ``reload_s`` after trip ``K-1`` is back. A route costs the type's
  fixed cost (a hired vehicle: its day rate) on the first trip (whole fen), its cost per
  km, and its refrigeration cost per hour of the route's span; produce on board loses value
  at the vehicle's temperature (value x decay rate x kg x hours).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from optimizer.instance import Instance, Product, VehicleType

#: a parcel that cannot go out today is compensated (yuan per parcel): an ASSUMPTION, so
#: that an overloaded day drops the cheapest work first instead of failing
PARCEL_DROP_YUAN = 15.0

_VEHICLE_ID = re.compile(r"^(?P<type>.+)#(?P<number>[1-9][0-9]*)(?:/trip(?P<trip>[1-9][0-9]*))?$")


def vehicle_id(type_id: str, number: int, trip: int, max_trips: int) -> str:
    """The id of trip ``trip`` (0-based) of vehicle ``number`` (1-based) of a type:
    ``TYPE#N``, or ``TYPE#N/tripK`` when the type makes several trips."""
    return f"{type_id}#{number}" + (f"/trip{trip + 1}" if max_trips > 1 else "")


def parse_vehicle_id(vid: str) -> tuple[str, int, int | None] | None:
    """(type id, vehicle number, trip number 1-based or None) of a vehicle id, or None when
    it does not read ``TYPE#N`` or ``TYPE#N/tripK``."""
    m = _VEHICLE_ID.match(vid)
    if m is None:
        return None
    trip = m["trip"]
    return m["type"], int(m["number"]), int(trip) if trip else None


def whole_kg(kg: float) -> int:
    """The whole kilograms a quantity of produce or parcels travels as (lots are whole kg):
    halves round up, and so does anything within 1e-6 kg below a half, so a quantity read
    back from plan.json (6 decimals) rounds as the original did."""
    return max(0, math.floor(kg + 0.5 + 1e-6))


def split_kg(total_kg: float, max_lot_kg: float) -> tuple[int, ...]:
    """Whole-kg lots of at most ``max_lot_kg`` (at least 1 kg each) adding up to
    ``round(total_kg)``, as equal as whole kilograms allow (larger lots first); () for
    nothing to carry."""
    total = whole_kg(total_kg)
    if total <= 0:
        return ()
    n = max(1, math.ceil(total / max(1.0, max_lot_kg) - 1e-9))
    base, extra = divmod(total, n)
    return tuple(base + 1 if k < extra else base for k in range(n))


@dataclass(frozen=True, slots=True)
class DayRules:
    """The numbers of the rules for one instance (seconds from midnight, kg, yuan, 1/h)."""

    day_start_s: int
    day_end_s: int
    ready_s: int
    deadline_s: int
    reload_s: int
    service_min_per_stop: float
    service_min_per_t: float
    lot_kg: float
    hub: str
    order_kg: float
    value_yuan_per_kg: float
    theta_ambient_per_h: float
    lost_if_dropped: float
    reefer_only: bool
    product: Product

    @classmethod
    def of(cls, instance: Instance) -> DayRules:
        """The rules of ``instance`` (its operations and product)."""
        ops, prod = instance.operations, instance.product
        ready_s = int(ops.harvest_ready_min * 60)
        theta = prod.decay_per_h(prod.ambient_temp_c)
        return cls(
            day_start_s=int(ops.day_start_min * 60),
            day_end_s=int(ops.day_end_min * 60),
            ready_s=ready_s,
            deadline_s=int(ready_s + ops.precool_deadline_h * 3600),
            reload_s=int(ops.reload_min * 60),
            service_min_per_stop=ops.service_min_per_stop,
            service_min_per_t=ops.service_min_per_t,
            lot_kg=ops.lot_kg,
            hub=ops.hub,
            order_kg=prod.order_kg,
            value_yuan_per_kg=prod.value_yuan_per_kg,
            theta_ambient_per_h=theta,
            lost_if_dropped=1.0 - math.exp(-theta * prod.uncollected_ambient_h),
            reefer_only=prod.perishable_requires_reefer,
            product=prod,
        )

    def service_s(self, kg: float) -> int:
        """Service time (whole s) of a stop handling ``kg``."""
        return int(round(60 * (self.service_min_per_stop + self.service_min_per_t * kg / 1000.0)))

    def window_s(self, kind: str) -> tuple[int, int]:
        """(earliest, latest) service start (s) of a ``"pickup"`` lot or a ``"delivery"``."""
        return (self.ready_s if kind == "pickup" else self.day_start_s), self.day_end_s

    def may_collect(self, vt: VehicleType) -> bool:
        """True when vehicles of ``vt`` may carry produce."""
        return vt.refrigerated or not self.reefer_only

    def fixed_yuan(self, vt: VehicleType, trip: int, *, hired: bool = False) -> float:
        """Fixed cost (yuan, whole fen) of trip ``trip`` (0-based): the day's vehicle cost on
        the first trip, nothing on later ones; a ``hired`` vehicle costs its day rate."""
        if trip != 0:
            return 0.0
        day = vt.fixed_cost_yuan_per_day
        if hired and vt.hire_yuan_per_day is not None:
            day = vt.hire_yuan_per_day
        return round(day * 100) / 100.0

    def route_cost_yuan(self, vt: VehicleType, trip: int, km: float, span_h: float, *,
                        hired: bool = False) -> float:
        """Cost (yuan) of a route: fixed or hire (first trip) + per km + refrigeration per
        hour."""
        return (self.fixed_yuan(vt, trip, hired=hired) + vt.cost_yuan_per_km * km
                + vt.refrigeration_yuan_per_h * span_h)

    @staticmethod
    def is_hired(vt: VehicleType, vehicle: str, plan: str) -> bool:
        """True when ``vehicle`` (an id) is a hired one: in a plan (today's baseline hires
        none) and numbered after the type's ``count`` owned vehicles."""
        parsed = parse_vehicle_id(vehicle)
        return plan != "baseline" and parsed is not None and parsed[1] > vt.count

    def ride_yuan_per_kg_h(self, vt: VehicleType) -> float:
        """Value lost per kg on board per hour at the vehicle's temperature (yuan)."""
        return self.value_yuan_per_kg * self.product.decay_per_h(vt.temperature_c)

    def wait_yuan_per_kg_h(self) -> float:
        """Value lost per kg of produce waiting in the field per hour (yuan)."""
        return self.value_yuan_per_kg * self.theta_ambient_per_h

    def produce_drop_yuan(self, kg: float) -> float:
        """Value lost (yuan) when ``kg`` of produce are left to the ambient channel."""
        return self.value_yuan_per_kg * kg * self.lost_if_dropped

    def parcel_drop_yuan(self, kg: float) -> float:
        """Compensation (yuan) for ``kg`` of parcels not delivered today."""
        return kg / self.order_kg * PARCEL_DROP_YUAN


__all__ = ["PARCEL_DROP_YUAN", "DayRules", "parse_vehicle_id", "split_kg", "vehicle_id",
           "whole_kg"]
