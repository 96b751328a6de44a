"""Re-verify a (hand-edited) plan.json against its instance, from scratch.

A planner may edit ``plan.json`` (move a village's produce lot to another route, reorder
stops, close a site, drop a lot...). :func:`check_plan` trusts none of the recorded times,
loads, distances, costs or KPIs: it rebuilds each scenario's road network (rain speeds and
the recorded closed roads) and travel matrices, then re-drives every route from the
recorded start time and stop order, and recomputes arrival and service times, loads,
distances, costs, what is left undone (dropped) and every KPI
(:func:`optimizer.planning.kpi.evaluate`).

The rules are those of :mod:`optimizer.planning.rules` (the routing model is built from the
same statement); this module only drives the routes itself:

* a route leaves its depot at ``start_min`` loaded with all its parcels; arrival at a stop is
  the departure from the previous one plus the vehicle type's travel time; service starts at
  ``max(arrival, window start)`` and lasts the rules' service time for the stop's kg;
* produce picked up is carried to the route's depot, the cold store that pre-cools it; the
  route must end there within the working day and, if it carries produce, by the
  pre-cooling deadline;
* a vehicle reads ``TYPE#N`` (N within the plan's fleet of that type) and keeps one depot;
  trip k of a multi-trip vehicle starts at least the reload time after trip k-1 returns;
* route cost = fixed cost (first trip) + cost per km x km + refrigeration per h x span.

Violations are returned one per line, e.g.
``peak/plan: reefer#1/trip1: load 3,620 kg exceeds capacity 3,000 kg after collect:v1@cs-hub``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from optimizer.errors import InstanceError, NetworkError
from optimizer.formats.plan_json import read_plan_json
from optimizer.instance import Instance, Scenario, VehicleType
from optimizer.planning.kpi import evaluate
from optimizer.planning.matrices import Matrices, build_matrices
from optimizer.planning.rules import DayRules, parse_vehicle_id, whole_kg
from optimizer.planning.scenario import apply_scenario, day_volumes
from optimizer.planning.year import year_rollup
from optimizer.plans import (
    DayPlan,
    FacilityPlan,
    PlannedRoute,
    PlannedStop,
    PlanningResult,
    ScenarioOutcome,
)
from optimizer.roads import UNREACHABLE, RoadNetwork, TravelMatrix, load_network

log = logging.getLogger(__name__)

#: kg of slack when comparing loads and quantities (lots are rounded to whole kg)
KG_TOL = 1e-6


def _hhmm(seconds: float) -> str:
    m = int(round(seconds / 60.0))
    return f"{m // 60:02d}:{m % 60:02d}"


def _kg(x: float) -> str:
    return f"{x:,.0f} kg"


def _slot_name(r: PlannedRoute) -> str:
    return r.vehicle_id if "/trip" in r.vehicle_id else f"{r.vehicle_id}/trip{r.trip + 1}"


def _physical(r: PlannedRoute) -> str:
    return r.vehicle_id.split("/trip")[0]


class _Day:
    """Re-drives the routes of one outcome and collects violations (one line each)."""

    def __init__(self, instance: Instance, scenario: Scenario, outcome: ScenarioOutcome,
                 matrices: Matrices) -> None:
        self.inst = instance
        self.sc = scenario
        self.o = outcome
        self.fac: FacilityPlan = outcome.facilities
        self.m = matrices
        self.tag = f"{scenario.id}/{outcome.plan}"
        self.v: list[str] = []
        self.rules = rules = DayRules.of(instance)
        self.day_start_s = rules.day_start_s
        self.day_end_s = rules.day_end_s
        self.ready_s = rules.ready_s
        self.deadline_s = rules.deadline_s
        self.orders, self.produce = day_volumes(instance, scenario)
        self.vtypes = {vt.id: vt for vt in instance.vehicle_types}
        self.stores = {s.id: s for s in instance.cold_store_sites}
        self.index: dict[int, dict[str, int]] = {}

    def add(self, msg: str) -> None:
        self.v.append(f"{self.tag}: {msg}")

    # ---- facilities --------------------------------------------------------------------
    def check_facilities(self) -> None:
        fac = self.fac
        open_stores = set(fac.cold_stores)
        season = self.sc.season
        mods = fac.modules.get(season, {})
        for sid, n in sorted(mods.items()):
            site = self.stores[sid]
            if n > 0 and sid not in open_stores:
                self.add(f"cold store {sid}: {n} modules in season {season} but the site is "
                         "not open (facilities.cold_stores)")
            if n > site.max_modules:
                self.add(f"cold store {sid}: {n} modules in season {season} exceed its "
                         f"max_modules {site.max_modules}")
        for vid, shares in sorted(fac.produce_to_store.items()):
            for store, kg in shares:
                if store not in open_stores:
                    self.add(f"produce of {vid} ({_kg(kg)}/day) goes to cold store {store}, "
                             "which is not open")
        pps = set(fac.pickup_points)
        for vid, pp in sorted(fac.village_pickup.items()):
            if pp not in pps:
                self.add(f"parcels of {vid} go to pickup point {pp}, which is not open")

    # ---- vehicles --------------------------------------------------------------------------
    def available(self, vt: VehicleType) -> int:
        """Vehicles of ``vt`` in this outcome's fleet: today's owned ones, or the plan's
        owned ones plus the hired ones."""
        if self.o.plan == "baseline":
            return vt.baseline_count
        return vt.count + (vt.max_hired if vt.hire_yuan_per_day is not None else 0)

    def check_vehicle_id(self, r: PlannedRoute, vt: VehicleType, who: str) -> None:
        """The id reads ``TYPE#N`` or ``TYPE#N/tripK``: its type, N within the fleet
        (hired ones after the owned ones), K the route's trip."""
        parsed = parse_vehicle_id(r.vehicle_id)
        avail = self.available(vt)
        if parsed is None or parsed[0] != vt.id:
            self.add(f"{who}: vehicle id should read {vt.id}#<n> (n = 1..{avail}) for a "
                     f"{vt.id} vehicle")
            return
        _, number, trip = parsed
        if number > avail:
            hires = "" if self.o.plan == "baseline" else (
                f" ({vt.count} owned + {avail - vt.count} hired)")
            self.add(f"{who}: vehicle number {number} exceeds the {avail} {vt.id} vehicles of "
                     f"the {self.o.plan} fleet{hires}")
        if trip is not None and trip != r.trip + 1:
            self.add(f"{who}: the id names trip {trip}, but the route is trip {r.trip + 1}")

    # ---- routes --------------------------------------------------------------------------
    def _idx(self, tm: TravelMatrix) -> dict[str, int]:
        key = id(tm)
        if key not in self.index:
            self.index[key] = {s: i for i, s in enumerate(tm.ids)}
        return self.index[key]

    def _leg(self, tm: TravelMatrix, a: str, b: str, who: str) -> tuple[int, int]:
        """(metres, seconds) from site a to site b; 0 and a violation when unreachable."""
        idx = self._idx(tm)
        i, j = idx[a], idx[b]
        d, t = tm.pair(i, j)
        if d >= UNREACHABLE or t >= UNREACHABLE:
            self.add(f"{who}: no road from {a} to {b} for this vehicle type on the "
                     f"{self.sc.id} roads")
            return 0, 0
        return d, t

    def drive(self, r: PlannedRoute, vt: VehicleType) -> tuple[PlannedRoute, float, float]:
        """Re-drive ``r``; return the recomputed route, spoilage (yuan) and field waiting
        (yuan)."""
        ops, rules = self.inst.operations, self.rules
        who = _slot_name(r)
        open_stores = set(self.fac.cold_stores)
        pps = set(self.fac.pickup_points)
        tm = self.m.by_vehicle_type[vt.id]
        # today's vehicles stay at their depot; a plan may base them at any open cold store
        if self.o.plan == "baseline" and r.depot != vt.depot:
            self.add(f"{who}: starts and ends at {r.depot}, but {vt.id} vehicles are based at "
                     f"{vt.depot}")
        if r.depot not in open_stores:
            self.add(f"{who}: depot {r.depot} is not an open cold store")
        if r.trip >= vt.max_trips:
            self.add(f"{who}: trip {r.trip + 1} exceeds max_trips {vt.max_trips} of {vt.id}")
        start_s = int(round(r.start_min * 60))
        if start_s < self.day_start_s:
            self.add(f"{who}: starts at {_hhmm(start_s)}, before the working day starts at "
                     f"{_hhmm(self.day_start_s)}")
        cap = vt.capacity_kg
        load = sum(s.delivery_kg for s in r.stops)
        if load > cap + KG_TOL:
            self.add(f"{who}: load {_kg(load)} of parcels at departure exceeds capacity "
                     f"{_kg(cap)}")
        t = start_s
        prev = r.depot
        dist_m = 0
        kg_h = 0.0
        waiting = 0.0
        carries_produce = False
        stops: list[PlannedStop] = []
        for st in r.stops:
            at = f"{who}: {st.stop_id or st.site_id}"
            if st.kind == "pickup":
                carries_produce = True
                kg = st.pickup_kg
                if st.delivery_kg > 0:
                    self.add(f"{at}: a produce lot cannot deliver parcels "
                             f"(delivery_kg {st.delivery_kg:g})")
                if not rules.may_collect(vt):
                    self.add(f"{at}: produce must travel refrigerated; {vt.id} runs at "
                             f"{vt.temperature_c:g} C")
            else:
                kg = st.delivery_kg
                if st.pickup_kg > 0:
                    self.add(f"{at}: a parcel delivery cannot pick up produce "
                             f"(pickup_kg {st.pickup_kg:g})")
                if st.site_id not in pps:
                    self.add(f"{at}: pickup point {st.site_id} is not open")
                if r.depot != ops.hub:
                    self.add(f"{at}: parcels leave the hub {ops.hub}, but this route starts "
                             f"at {r.depot}")
            tw_start, tw_end = rules.window_s(st.kind)
            d, dt = self._leg(tm, prev, st.site_id, who)
            dist_m += d
            kg_h += load * dt / 3600.0
            arrival = t + dt
            start = max(arrival, tw_start)
            if start > tw_end:
                self.add(f"{at}: service starts at {_hhmm(start)}, after the working day ends "
                         f"at {_hhmm(tw_end)}")
            if st.kind == "pickup" and start > self.ready_s:
                waiting += rules.wait_yuan_per_kg_h() * kg * (start - self.ready_s) / 3600.0
            load += st.pickup_kg - st.delivery_kg
            if load > cap + KG_TOL:
                self.add(f"{who}: load {_kg(load)} exceeds capacity {_kg(cap)} at "
                         f"{st.stop_id or st.site_id}")
            service = rules.service_s(kg)
            stops.append(replace(st, arrival_min=arrival / 60.0, start_min=start / 60.0,
                                 load_after_kg=load))
            t = start + service
            prev = st.site_id
        d, dt = self._leg(tm, prev, r.depot, who)
        dist_m += d
        kg_h += load * dt / 3600.0
        end = t + dt
        if end > self.day_end_s:
            self.add(f"{who}: returns to {r.depot} at {_hhmm(end)}, after the working day ends "
                     f"at {_hhmm(self.day_end_s)}")
        if carries_produce and end > self.deadline_s:
            self.add(f"{who}: produce reaches cold store {r.depot} at {_hhmm(end)}, after the "
                     f"pre-cooling deadline {_hhmm(self.deadline_s)} "
                     f"({ops.precool_deadline_h:g} h after harvest at "
                     f"{_hhmm(self.ready_s)})")
        km = dist_m / 1000.0
        cost = rules.route_cost_yuan(vt, r.trip, km, (end - start_s) / 3600.0,
                                     hired=rules.is_hired(vt, r.vehicle_id, self.o.plan))
        spoil = rules.ride_yuan_per_kg_h(vt) * kg_h
        route = replace(r, start_min=start_s / 60.0, end_min=end / 60.0, distance_km=km,
                        stops=tuple(stops), cost_yuan=cost)
        return route, spoil, waiting

    def run(self) -> tuple[ScenarioOutcome, list[str]]:
        inst, prod, rules = self.inst, self.inst.product, self.rules
        self.check_facilities()
        fac = self.fac
        routes: list[PlannedRoute] = []
        parts = dict.fromkeys(("fixed", "distance", "refrigeration", "spoilage",
                               "field_waiting", "lateness", "dropped"), 0.0)
        slots: set[tuple[str, int]] = set()
        trips: dict[tuple[str, str], dict[int, tuple[float, float]]] = defaultdict(dict)
        served_ids: dict[str, str] = {}
        collected: dict[tuple[str, str], float] = defaultdict(float)
        lots_at: dict[str, int] = defaultdict(int)
        lots_into: dict[str, int] = defaultdict(int)
        delivered: dict[str, float] = defaultdict(float)
        depot_of: dict[str, str] = {}
        for r in self.o.day.routes:
            who = _slot_name(r)
            vt = self.vtypes[r.vehicle_type]
            if (r.vehicle_id, r.trip) in slots:
                self.add(f"{who}: vehicle {r.vehicle_id} trip {r.trip + 1} has more than one "
                         "route")
            slots.add((r.vehicle_id, r.trip))
            self.check_vehicle_id(r, vt, who)
            if depot_of.setdefault(_physical(r), r.depot) != r.depot:
                self.add(f"{who}: starts at {r.depot}, but {_physical(r)} is based at "
                         f"{depot_of[_physical(r)]} (a vehicle keeps one depot all day)")
            if not r.stops:
                continue  # an empty route is an unused vehicle
            new, spoil, waiting = self.drive(r, vt)
            routes.append(new)
            trips[(vt.id, _physical(r))][r.trip] = (new.start_min * 60, new.end_min * 60)
            parts["fixed"] += rules.fixed_yuan(vt, r.trip,
                                               hired=rules.is_hired(vt, r.vehicle_id, self.o.plan))
            parts["distance"] += vt.cost_yuan_per_km * new.distance_km
            parts["refrigeration"] += (vt.refrigeration_yuan_per_h
                                       * (new.end_min - new.start_min) / 60.0)
            parts["spoilage"] += spoil
            parts["field_waiting"] += waiting
            for st in r.stops:
                if st.stop_id:
                    if st.stop_id in served_ids:
                        self.add(f"{who}: stop {st.stop_id} is also served by "
                                 f"{served_ids[st.stop_id]}")
                    served_ids[st.stop_id] = who
                if st.kind == "pickup":
                    collected[(st.site_id, r.depot)] += st.pickup_kg
                    lots_at[st.site_id] += 1
                    lots_into[r.depot] += 1
                else:
                    delivered[st.site_id] += st.delivery_kg
                    lots_at[st.site_id] += 1

        # fleet: trips chained, vehicles per type within the fleet of this plan
        reload_min = rules.reload_s / 60.0
        used: dict[str, set[str]] = defaultdict(set)
        for (tid, phys), by_trip in sorted(trips.items()):
            used[tid].add(phys)
            for k in sorted(by_trip):
                if k == 0:
                    continue
                prev = by_trip.get(k - 1)
                name = f"{phys}/trip{k + 1}"
                if prev is None:
                    self.add(f"{name}: trip {k + 1} used without trip {k}")
                elif by_trip[k][0] < prev[1] + rules.reload_s - 1e-6:
                    self.add(f"{name}: starts at {_hhmm(by_trip[k][0])}, before trip {k} "
                             f"returns at {_hhmm(prev[1])} plus {reload_min:g} min reload")
        for tid in sorted(used):
            avail = self.available(self.vtypes[tid])
            if len(used[tid]) > avail:
                self.add(f"fleet: {len(used[tid])} {tid} vehicles used "
                         f"({', '.join(sorted(used[tid]))}), only {avail} in the "
                         f"{self.o.plan} fleet")

        # cold stores: pre-cooling capacity per day
        season = self.sc.season
        mods = fac.modules.get(season, {})
        into: dict[str, float] = defaultdict(float)
        for (_, store), kg in collected.items():
            into[store] += kg
        for store, kg in sorted(into.items()):
            site = self.stores[store]
            n = int(mods.get(store, 0))
            cap = n * site.module_capacity_t * 1000.0 * inst.cold_storage.turns_per_day
            if kg > cap + 0.5 * lots_into[store] + KG_TOL:
                self.add(f"cold store {store}: receives {_kg(kg)}/day, over its pre-cooling "
                         f"capacity {_kg(cap)}/day ({n} modules x {site.module_capacity_t:g} t"
                         f" x {inst.cold_storage.turns_per_day:g} turns, season {season})")

        # produce: collected vs ready and assigned; what is left is dropped
        listed = set(self.o.day.dropped)
        dropped: list[str] = [d for d in self.o.day.dropped if d not in served_ids]
        for d in sorted(listed & set(served_ids)):
            self.add(f"stop {d} is listed as dropped but served by {served_ids[d]}")
        by_village: dict[str, float] = defaultdict(float)
        for (vid, _), kg in collected.items():
            by_village[vid] += kg
        for vid, kg in sorted(by_village.items()):
            ready = self.produce.get(vid, 0.0)
            tol = 0.5 * lots_at[vid] + KG_TOL
            if kg > ready + tol:
                self.add(f"produce at {vid}: {_kg(kg)} collected but only {_kg(ready)} ready "
                         f"in scenario {self.sc.id}")
        assigned = {(vid, store): kg for vid, shares in fac.produce_to_store.items()
                    for store, kg in shares}
        for (vid, store), kg in sorted(collected.items()):
            share = whole_kg(min(assigned.get((vid, store), 0.0), self.produce.get(vid, 0.0)))
            if (vid, store) not in assigned:
                self.add(f"produce at {vid}: {_kg(kg)} taken to cold store {store}, but "
                         f"facilities.produce_to_store does not send {vid}'s produce there")
            elif kg > share + 0.5 * lots_at[vid] + KG_TOL:
                self.add(f"produce at {vid}: {_kg(kg)} taken to {store}, more than the "
                         f"{_kg(share)} assigned there")
        for (vid, store), share_kg in sorted(assigned.items()):
            want = whole_kg(min(share_kg, self.produce.get(vid, 0.0)))
            left = want - collected.get((vid, store), 0.0)
            if left <= 0.5 * max(lots_at[vid], 1) + KG_TOL:
                continue
            parts["dropped"] += rules.produce_drop_yuan(left)
            prefix = f"collect:{vid}@{store}"
            if not any(d == prefix or d.startswith(prefix + "#") for d in listed):
                self.add(f"produce at {vid}: {_kg(left)} of the {_kg(want)} assigned to cold "
                         f"store {store} is on no route and not listed as dropped (counted "
                         "as dropped produce)")
                dropped.append(prefix)
        # parcels: delivered vs ordered per pickup point
        need: dict[str, float] = defaultdict(float)
        for vid, pp in fac.village_pickup.items():
            need[pp] += self.orders.get(vid, 0.0) * prod.order_kg
        for pp in sorted(set(need) | set(delivered)):
            got, want = delivered.get(pp, 0.0), whole_kg(need.get(pp, 0.0))
            tol = 0.5 * max(lots_at[pp], 1) + KG_TOL
            if got > want + tol:
                self.add(f"parcels for {pp}: {_kg(got)} delivered but only {_kg(want)} "
                         "ordered by its villages")
            elif want - got > tol:
                parts["dropped"] += rules.parcel_drop_yuan(want - got)
                prefix = f"deliver:{pp}"
                if not any(d == prefix or d.startswith(prefix + "#") for d in listed):
                    self.add(f"parcels for {pp}: {_kg(want - got)} of {_kg(want)} on no route "
                             "and not listed as dropped (counted as parcels not delivered)")
                    dropped.append(prefix)

        day = DayPlan(
            scenario=self.sc.id, routes=tuple(routes), dropped=tuple(dropped),
            cost_yuan=parts, objective_yuan=sum(parts.values()),
            solver_status=self.o.day.solver_status, engine=self.o.day.engine, runtime_s=0.0,
            checked=not self.v,
        )
        vids = [v.id for v in inst.villages]
        minutes_to = self.m.minutes_to(vids, list(fac.pickup_points))
        kpis = evaluate(inst, self.sc, fac, day, orders=self.orders, produce_kg=self.produce,
                        minutes_to=minutes_to)
        kpis = replace(kpis, plan=self.o.plan)
        return replace(self.o, day=day, kpis=kpis), self.v


def _scenario_network(
    instance: Instance, base: RoadNetwork, outcome: ScenarioOutcome, where: str, path: Path
) -> tuple[Scenario, RoadNetwork]:
    sc = instance.scenario(outcome.scenario)
    closed = tuple(sorted(set(sc.closed_edges) | set(outcome.closed_edges)))
    sc = replace(sc, closed_edges=closed)
    try:
        return sc, apply_scenario(base, sc)
    except NetworkError as exc:
        raise InstanceError.at(path, f"{where}.closed_edges", f"cannot close the roads ({exc})",
                               fix="use edge_id values of the instance's road network") from None


def check_result(
    instance: Instance,
    result: PlanningResult,
    *,
    network: RoadNetwork | None = None,
    source: str | Path = "plan",
) -> tuple[PlanningResult, list[str]]:
    """Re-verify every outcome of ``result`` against ``instance`` from scratch.

    Rebuilds each scenario's road network (rain speeds and the recorded closed roads) and
    travel matrices, re-drives every route and returns the recomputed result (times, loads,
    km, costs, dropped stops and KPIs as the routes actually run; ``checked`` per day) and
    one line per violation (empty: valid). ``network`` defaults to the instance's road
    network; ``source`` names the plan in error messages.
    """
    path = Path(source)
    base = network if network is not None else load_network(instance.network_path)
    base_m = build_matrices(instance, base)
    cache: dict[tuple[str, tuple[str, ...]], Matrices] = {}
    outcomes: list[ScenarioOutcome] = []
    violations: list[str] = []
    for i, o in enumerate(result.outcomes):
        sc, net = _scenario_network(instance, base, o, f"outcomes[{i}]", path)
        key = (sc.id, sc.closed_edges)
        if key not in cache:
            cache[key] = base_m if net is base else build_matrices(instance, net, check=False)
        new, v = _Day(instance, sc, o, cache[key]).run()
        outcomes.append(new)
        violations += v
    log.info("%s: %d outcomes checked, %d violations", path, len(outcomes), len(violations))
    return replace(result, outcomes=tuple(outcomes), year=year_rollup(instance, outcomes)), \
        violations


def check_plan(
    instance: Instance,
    plan_json_path: str | Path,
    *,
    network: RoadNetwork | None = None,
) -> tuple[PlanningResult, list[str]]:
    """Read ``plan_json_path`` and re-verify it against ``instance`` (:func:`check_result`).

    Raises :class:`InstanceError` for a malformed plan.json (not JSON, missing keys, wrong
    types, unknown ids).
    """
    path = Path(plan_json_path)
    result = read_plan_json(path, instance=instance)
    return check_result(instance, result, network=network, source=path)


__all__ = ["check_plan", "check_result"]
