"""Key performance indicators of a day plan, computed from the plan alone (yuan, kg, %).

Definitions (all per representative day of a scenario):

- orders = parcels delivered + produce collected / ``product.order_kg`` (produce leaves the
  county as e-commerce orders of that size);
- operating cost = routing cost (fixed or hire + distance + refrigeration) + running the
  cold stores (modules, staff, standby, moves; :mod:`optimizer.planning.economics`);
  logistics cost = operating cost + the pickup points' yearly cost / 365 + the day's share
  of the annualised facility investment; cost per order = logistics cost / orders,
  operating cost per order = operating cost / orders. Spoilage and compensation for
  dropped parcels are reported apart, not inside cost per order;
- per-order breakdown: first mile = the collection share of route costs (each route's cost
  split by the kg it picks up and delivers), cold storage = running and annualised
  investment of the cold stores, last mile = the delivery share of route costs plus the
  pickup points, line haul = ``economics.line_haul_yuan_per_kg`` x order kg (the same for
  every plan; it lets the local total be set beside a county's whole cost per parcel);
- spoilage = exact loss 1 - exp(-sum theta_leg * t_leg) over field waiting (ambient), the ride
  (vehicle temperature), the scenario's hold (cold store temperature if pre-cooled in time,
  ambient otherwise); produce the network leaves behind loses its value over
  ``product.uncollected_ambient_h`` plus the hold at ambient temperature; its value is the
  kg lost x ``product.value_yuan_per_kg`` (one price per kg, so the value share lost equals
  the mass share: ``spoilage_value_pct`` is kept for older readers and equals the mass %);
- power outages: produce entering a store whose power class the scenario cuts for ``h``
  hours (``scenario.outage_h``) waits those hours at ambient temperature before cooling
  starts: they add to its loss, and it counts as pre-cooled in time only if it reaches the
  store ``h`` hours before the deadline (``extra["outage_kg"]``: kg entering such a store);
- cold-chain coverage = share of produce reaching a cold store within the pre-cooling deadline;
- village (household) coverage = share of villages (households) whose nearest open pickup
  point is within ``operations.coverage_radius_min`` minutes by van on the road network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from optimizer.instance import Instance, Scenario
from optimizer.planning.economics import facility_day
from optimizer.planning.rules import DayRules
from optimizer.plans import DayPlan, FacilityPlan, Kpis


def facility_cost_per_day(instance: Instance, facilities: FacilityPlan, season: str) -> float:
    """Daily facility cost (yuan/day) of ``facilities`` in ``season``: running the cold
    stores and pickup points plus the day's share of the annualised facility investment
    (:func:`optimizer.planning.economics.facility_day`)."""
    return facility_day(instance, facilities, season).total_yuan


def coverage(
    instance: Instance,
    pickup_points: tuple[str, ...],
    minutes_to: Mapping[str, Mapping[str, float]],
) -> tuple[float, float]:
    """(village %, household %) within the coverage radius of an open pickup point.

    ``minutes_to[village][pickup]`` is the travel time in minutes.
    """
    radius = instance.operations.coverage_radius_min
    covered_v = 0
    covered_h = 0
    total_h = sum(v.households for v in instance.villages) or 1
    for v in instance.villages:
        row = minutes_to.get(v.id, {})
        best = min((row.get(p, math.inf) for p in pickup_points), default=math.inf)
        if best <= radius:
            covered_v += 1
            covered_h += v.households
    return 100.0 * covered_v / max(len(instance.villages), 1), 100.0 * covered_h / total_h


def evaluate(
    instance: Instance,
    scenario: Scenario,
    facilities: FacilityPlan,
    day: DayPlan,
    *,
    orders: Mapping[str, float],
    produce_kg: Mapping[str, float],
    minutes_to: Mapping[str, Mapping[str, float]],
) -> Kpis:
    """KPIs of ``day`` (routes already checked) under ``facilities`` in ``scenario``."""
    prod = instance.product
    ops = instance.operations
    theta_amb = prod.decay_per_h(prod.ambient_temp_c)
    theta_store = prod.decay_per_h(prod.storage_temp_c)
    vtypes = {v.id: v for v in instance.vehicle_types}
    ready_min = ops.harvest_ready_min
    deadline_min = ready_min + ops.precool_deadline_h * 60.0
    outage_h = {s.id: scenario.outage_h.get(s.power, 0.0) for s in instance.cold_store_sites}
    outage_kg = 0.0

    total_produce = sum(produce_kg.values())
    collected = 0.0
    lost = 0.0
    in_time = 0.0
    parcels_delivered = 0.0
    km = 0.0
    co2 = 0.0
    span_h = 0.0
    vehicles_used: set[str] = set()
    hired: set[str] = set()
    routing_cost = 0.0
    first_mile = last_mile = 0.0
    for r in day.routes:
        vt = vtypes[r.vehicle_type]
        theta_v = prod.decay_per_h(vt.temperature_c)
        km += r.distance_km
        co2 += r.distance_km * vt.co2_kg_per_km
        span_h += (r.end_min - r.start_min) / 60.0
        vehicles_used.add(r.vehicle_id)
        if DayRules.is_hired(vt, r.vehicle_id, facilities.name):
            hired.add(r.vehicle_id.split("/trip")[0])
        routing_cost += r.cost_yuan
        up = sum(s.pickup_kg for s in r.stops)
        down = sum(s.delivery_kg for s in r.stops)
        share = up / (up + down) if up + down > 0 else 0.5
        first_mile += r.cost_yuan * share
        last_mile += r.cost_yuan * (1.0 - share)
        for s in r.stops:
            if s.kind == "delivery":
                parcels_delivered += s.delivery_kg / prod.order_kg
                continue
            kg = s.pickup_kg
            collected += kg
            wait_h = max(0.0, s.start_min - ready_min) / 60.0
            ride_h = max(0.0, r.end_min - s.start_min) / 60.0
            dark_h = outage_h.get(r.depot, 0.0)
            if dark_h > 0:
                outage_kg += kg
            ok = r.end_min + 60.0 * dark_h <= deadline_min + 1e-6
            if ok:
                in_time += kg
            hold_theta = theta_store if ok else theta_amb
            exponent = (theta_amb * (wait_h + dark_h) + theta_v * ride_h
                        + hold_theta * scenario.hold_h)
            lost += kg * (1.0 - math.exp(-exponent))
    left = max(total_produce - collected, 0.0)
    lost += left * prod.loss_fraction(prod.ambient_temp_c,
                                      prod.uncollected_ambient_h + scenario.hold_h)
    fac = facility_day(instance, facilities, scenario.season)
    facility_cost = fac.total_yuan
    n_orders = parcels_delivered + collected / prod.order_kg
    logistics = routing_cost + facility_cost
    operating = routing_cost + fac.operating_yuan
    parcels_total = sum(orders.values())
    village_pct, household_pct = coverage(instance, facilities.pickup_points, minutes_to)
    stores = {s.id: s for s in instance.cold_store_sites}
    modules = facilities.modules.get(scenario.season, {})
    room_kg = sum(
        modules.get(sid, 0) * stores[sid].module_capacity_t * 1000.0
        * instance.cold_storage.turns_per_day
        for sid in facilities.cold_stores
    )
    day_h = (ops.day_end_min - ops.day_start_min) / 60.0
    # route slots "type#k/tripN" of one physical vehicle count once
    veh_types_used = {vid.split("/trip")[0] for vid in vehicles_used}

    def per_order(yuan: float) -> float:
        return yuan / n_orders if n_orders > 0 else math.inf

    line_haul = instance.economics.line_haul_yuan_per_kg * n_orders * prod.order_kg
    return Kpis(
        scenario=scenario.id,
        plan=facilities.name,
        orders=n_orders,
        cost_per_order_yuan=per_order(logistics),
        logistics_cost_yuan=logistics,
        routing_cost_yuan=routing_cost,
        facility_cost_yuan=facility_cost,
        spoilage_mass_pct=100.0 * lost / total_produce if total_produce > 0 else 0.0,
        spoilage_value_pct=100.0 * lost / total_produce if total_produce > 0 else 0.0,
        produce_kg=total_produce,
        collected_kg=collected,
        # lots are whole kg: what is collected may pass the day's produce by under 1 kg a lot
        cold_chain_pct=100.0 * min(in_time, total_produce) / total_produce
        if total_produce > 0 else 0.0,
        village_coverage_pct=village_pct,
        household_coverage_pct=household_pct,
        distance_km=km,
        vehicles_used=len(veh_types_used),
        vehicle_utilisation_pct=100.0 * span_h / (len(veh_types_used) * day_h)
        if veh_types_used else 0.0,
        cold_room_utilisation_pct=100.0 * collected / room_kg if room_kg > 0 else 0.0,
        co2_kg_per_order=co2 / n_orders if n_orders > 0 else 0.0,
        parcels_dropped=max(parcels_total - parcels_delivered, 0.0),
        produce_dropped_kg=left,
        operating_cost_yuan=operating,
        operating_cost_per_order_yuan=per_order(operating),
        investment_yuan_per_day=fac.investment_yuan,
        spoilage_kg=lost,
        spoilage_yuan=lost * prod.value_yuan_per_kg,
        first_mile_yuan_per_order=per_order(first_mile),
        cold_storage_yuan_per_order=per_order(fac.operating_yuan + fac.cold_investment_yuan),
        last_mile_yuan_per_order=per_order(last_mile + fac.pickups_yuan
                                           + fac.pickup_investment_yuan),
        line_haul_yuan_per_order=per_order(line_haul),
        hired_vehicles=len(hired),
        extra={"spoiled_kg": lost, "parcels_delivered": parcels_delivered,
               "outage_kg": outage_kg},
    )
