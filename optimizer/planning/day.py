"""Adapter: a cold-chain day (instance, facilities, volumes) -> a matrix-level RoutingProblem.

First mile: each village's produce assigned to a cold store is split into lots of at most
``operations.lot_kg`` (and at most the largest vehicle that may collect it), each an
optional pickup stop whose drop penalty is the value lost if it is left to the ambient
channel. Last mile: the parcels for each open pickup point leave the hub as delivery stops.
Vehicles are route slots: ``count`` vehicles x ``max_trips`` trips, chained in time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from optimizer.errors import InfeasibleError
from optimizer.instance import Instance, Scenario, VehicleType
from optimizer.limits import Limits
from optimizer.planning.kpi import evaluate
from optimizer.planning.matrices import Matrices
from optimizer.planning.scenario import day_volumes
from optimizer.plans import DayPlan, FacilityPlan, Kpis, PlannedRoute, PlannedStop
from optimizer.roads import UNREACHABLE, TravelMatrix
from optimizer.routing import solve_routing
from optimizer.routing.problem import (
    FEN_PER_YUAN,
    CostBreakdown,
    Matrix,
    RoutingProblem,
    RoutingSolution,
    Stop,
    Vehicle,
)
from optimizer.routing.solve import time_shares
from optimizer.routing.verify import verify

# A parcel that cannot go out today is compensated (yuan per parcel): an ASSUMPTION, so that
# an overloaded day drops the cheapest work first instead of failing.
PARCEL_DROP_YUAN = 15.0


@dataclass(frozen=True, slots=True)
class StopInfo:
    """What a routing stop stands for in instance terms."""

    stop_id: str
    site_id: str
    kind: str  # "pickup" | "delivery"
    kg: float
    store: str = ""  # pickup: the cold store the lot must reach
    parcels: float = 0.0


@dataclass(frozen=True, slots=True)
class DayProblem:
    """The routing problem of one day plus the bookkeeping to read its solution back."""

    problem: RoutingProblem
    stops: tuple[StopInfo, ...]
    vehicle_types: tuple[VehicleType, ...]  # per vehicle slot
    vehicle_trip: tuple[int, ...]  # trip number (0-based) per vehicle slot
    node_sites: tuple[str, ...]


def build_day_problem(
    instance: Instance,
    matrices: Mapping[str, TravelMatrix],
    facilities: FacilityPlan,
    orders: Mapping[str, float],
    produce_kg: Mapping[str, float],
    fleet: Mapping[str, int] | Mapping[str, Mapping[str, int]],
    *,
    name: str = "",
) -> DayProblem:
    """Build the day's RoutingProblem.

    ``matrices`` maps vehicle-type id -> travel matrix over the instance's site ids;
    ``orders`` and ``produce_kg`` are per village per day; ``fleet`` gives vehicles per type,
    either a count (based at the type's depot) or a mapping depot id -> count. Parcels are
    delivered only when the hub is among the depots.
    """
    ops = instance.operations
    prod = instance.product
    value_fen = prod.value_yuan_per_kg * FEN_PER_YUAN
    theta_amb = prod.decay_per_h(prod.ambient_temp_c)
    day_start_s = ops.day_start_min * 60
    day_end_s = ops.day_end_min * 60
    ready_s = ops.harvest_ready_min * 60
    deadline_s = int(ready_s + ops.precool_deadline_h * 3600)

    # ---- vehicle slots -------------------------------------------------------------
    node_sites: list[str] = []
    node_of: dict[str, int] = {}

    def depot_node(site: str) -> int:
        if site not in node_of:
            node_of[site] = len(node_sites)
            node_sites.append(site)
        return node_of[site]

    vehicles: list[Vehicle] = []
    slot_types: list[VehicleType] = []
    slot_trip: list[int] = []
    for vt in instance.vehicle_types:
        spec = fleet.get(vt.id, 0)
        per_depot = {vt.depot: int(spec)} if isinstance(spec, int | float) else dict(spec)
        for depot in sorted(per_depot):
            tag = vt.id if depot == vt.depot else f"{vt.id}@{depot}"
            for k in range(int(per_depot[depot])):
                prev: int | None = None
                for trip in range(vt.max_trips):
                    dn = depot_node(depot)
                    vehicles.append(Vehicle(
                        id=f"{tag}#{k + 1}" + (f"/trip{trip + 1}" if vt.max_trips > 1 else ""),
                        type_id=vt.id,
                        start=dn,
                        end=dn,
                        capacity_kg=int(vt.capacity_kg),
                        profile=vt.id,
                        fixed_fen=int(round(vt.fixed_cost_yuan_per_day * FEN_PER_YUAN))
                        if trip == 0 else 0,
                        fen_per_km=vt.cost_yuan_per_km * FEN_PER_YUAN,
                        fen_per_h=vt.refrigeration_yuan_per_h * FEN_PER_YUAN,
                        spoil_fen_per_kg_h=value_fen * prod.decay_per_h(vt.temperature_c),
                        shift_start_s=day_start_s,
                        shift_end_s=day_end_s,
                        after=prev,
                        reload_s=int(ops.reload_min * 60),
                    ))
                    slot_types.append(vt)
                    slot_trip.append(trip)
                    prev = len(vehicles) - 1

    # ---- stops -----------------------------------------------------------------------
    stops: list[Stop] = []
    infos: list[StopInfo] = []
    hub = instance.operations.hub
    index = {k: {s: i for i, s in enumerate(m.ids)} for k, m in matrices.items()}

    def allowed(pred) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
        return tuple(i for i, v in enumerate(vehicles) if pred(i, v))

    def reachable(vi: int, site: str, depot: str) -> bool:
        m = matrices[slot_types[vi].id]
        idx = index[slot_types[vi].id]
        a, b = idx[site], idx[depot]
        return bool(m.duration_s[b, a] < UNREACHABLE and m.duration_s[a, b] < UNREACHABLE)

    def service_s(kg: float) -> int:
        return int(round(60 * (ops.service_min_per_stop + ops.service_min_per_t * kg / 1000.0)))

    # last mile: parcels per pickup point
    parcels_at: dict[str, float] = {}
    for vid, pp in facilities.village_pickup.items():
        parcels_at[pp] = parcels_at.get(pp, 0.0) + orders.get(vid, 0.0)
    hub_capacities = [v.capacity_kg for v in vehicles if node_sites[v.start] == hub]
    for pp in sorted(parcels_at):
        parcels = parcels_at[pp]
        kg_total = parcels * prod.order_kg
        if kg_total <= 0:
            continue
        cands = [
            i for i, v in enumerate(vehicles)
            if node_sites[v.start] == hub and reachable(i, pp, hub)
        ]
        cap = max((vehicles[i].capacity_kg for i in cands), default=max(hub_capacities, default=1))
        lot = min(ops.lot_kg, cap)
        n_lots = max(1, math.ceil(kg_total / lot - 1e-9))
        for k in range(n_lots):
            kg = kg_total / n_lots
            sid = f"deliver:{pp}" + (f"#{k + 1}" if n_lots > 1 else "")
            n_par = parcels / n_lots
            stops.append(Stop(
                id=sid, node=_dup(node_sites, pp), delivery_kg=int(round(kg)),
                service_s=service_s(kg), tw_start_s=day_start_s, tw_end_s=day_end_s,
                drop_penalty_fen=int(round(n_par * PARCEL_DROP_YUAN * FEN_PER_YUAN)),
                allowed_vehicles=tuple(i for i in cands if vehicles[i].capacity_kg >= kg),
            ))
            infos.append(StopInfo(sid, pp, "delivery", kg, parcels=n_par))

    # first mile: produce lots to their assigned cold store
    lost_if_dropped = 1.0 - math.exp(-theta_amb * prod.uncollected_ambient_h)
    for vid in sorted(facilities.produce_to_store):
        for store, kg_total in facilities.produce_to_store[vid]:
            kg_total = min(kg_total, produce_kg.get(vid, 0.0))
            if kg_total <= 0:
                continue
            cands = [
                i for i, v in enumerate(vehicles)
                if node_sites[v.end] == store
                and (slot_types[i].refrigerated or not prod.perishable_requires_reefer)
                and reachable(i, vid, store)
            ]
            cap = max((vehicles[i].capacity_kg for i in cands), default=0)
            lot = min(ops.lot_kg, cap) if cap > 0 else ops.lot_kg
            n_lots = max(1, math.ceil(kg_total / lot - 1e-9))
            for k in range(n_lots):
                kg = kg_total / n_lots
                sid = f"collect:{vid}@{store}" + (f"#{k + 1}" if n_lots > 1 else "")
                node = _dup(node_sites, vid)
                stops.append(Stop(
                    id=sid, node=node, pickup_kg=int(round(kg)), service_s=service_s(kg),
                    tw_start_s=ready_s, tw_end_s=day_end_s,
                    ready_s=ready_s, wait_fen_per_h=value_fen * theta_amb * kg,
                    deadline_s=deadline_s,
                    drop_penalty_fen=int(round(value_fen * kg * lost_if_dropped)),
                    allowed_vehicles=tuple(i for i in cands if vehicles[i].capacity_kg >= kg),
                ))
                infos.append(StopInfo(sid, vid, "pickup", kg, store=store))

    # ---- matrices over problem nodes ---------------------------------------------------
    mats: dict[str, Matrix] = {}
    for vt in instance.vehicle_types:
        if vt.id not in {v.profile for v in vehicles}:
            continue
        tm = matrices[vt.id]
        idx = np.array([index[vt.id][s] for s in node_sites], dtype=np.int64)
        d = tm.distance_m[np.ix_(idx, idx)].astype(np.int64)
        t = tm.duration_s[np.ix_(idx, idx)].astype(np.int64)
        mats[vt.id] = Matrix(distance_m=np.minimum(d, Matrix.UNREACHABLE),
                             duration_s=np.minimum(t, Matrix.UNREACHABLE))
    problem = RoutingProblem(
        nodes=tuple(node_sites), matrices=mats, stops=tuple(stops), vehicles=tuple(vehicles),
        name=name,
    )
    return DayProblem(problem, tuple(infos), tuple(slot_types), tuple(slot_trip),
                      tuple(node_sites))


def _dup(node_sites: list[str], site: str) -> int:
    """Append a new node standing at ``site`` (stops never share a node) and return it."""
    node_sites.append(site)
    return len(node_sites) - 1


def to_day_plan(
    day: DayProblem,
    solution: RoutingSolution,
    breakdown: CostBreakdown,
    *,
    scenario: str,
    checked: bool,
) -> DayPlan:
    """Translate a checked matrix-level solution back into instance terms (min, km, yuan)."""
    prob = day.problem
    routes: list[PlannedRoute] = []
    for r in solution.routes:
        if not r.visits:
            continue
        veh = prob.vehicles[r.vehicle]
        mat = prob.matrices[veh.profile]
        path = [veh.start] + [prob.stops[v.stop].node for v in r.visits] + [veh.end]
        dist_m = float(sum(mat.distance_m[a, b] for a, b in zip(path, path[1:], strict=False)))
        load = float(sum(prob.stops[v.stop].delivery_kg for v in r.visits))
        stops: list[PlannedStop] = []
        for v in r.visits:
            st = prob.stops[v.stop]
            info = day.stops[v.stop]
            load += st.pickup_kg - st.delivery_kg
            stops.append(PlannedStop(
                stop_id=st.id, site_id=info.site_id, kind=info.kind,
                arrival_min=v.arrival_s / 60.0, start_min=v.start_s / 60.0,
                pickup_kg=float(st.pickup_kg), delivery_kg=float(st.delivery_kg),
                load_after_kg=load,
            ))
        cost_fen = (
            veh.fixed_fen + veh.fen_per_km * dist_m / 1000.0
            + veh.fen_per_h * (r.end_s - r.start_s) / 3600.0
        )
        routes.append(PlannedRoute(
            vehicle_id=veh.id, vehicle_type=veh.type_id, trip=day.vehicle_trip[r.vehicle],
            depot=prob.nodes[veh.start], start_min=r.start_s / 60.0, end_min=r.end_s / 60.0,
            distance_km=dist_m / 1000.0, stops=tuple(stops), cost_yuan=cost_fen / FEN_PER_YUAN,
        ))
    parts = {
        "fixed": breakdown.fixed, "distance": breakdown.distance,
        "refrigeration": breakdown.duration, "spoilage": breakdown.spoilage,
        "field_waiting": breakdown.waiting, "lateness": breakdown.lateness,
        "dropped": breakdown.dropped,
    }
    return DayPlan(
        scenario=scenario,
        routes=tuple(routes),
        dropped=tuple(prob.stops[i].id for i in solution.dropped),
        cost_yuan={k: v / FEN_PER_YUAN for k, v in parts.items()},
        objective_yuan=breakdown.total / FEN_PER_YUAN,
        solver_status=solution.status,
        engine=solution.engine,
        runtime_s=solution.runtime_s,
        checked=checked,
    )


# ----------------------------------------------------------------------------- a day


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
