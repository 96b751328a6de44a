"""One day of a county: the routing problems of a day and the one way a day is routed.

:func:`route_day` routes every day the tool plans, today's network and the plan alike: one
routing problem per depot (the depot's vehicles, the produce lots assigned to it, and at
the hub the parcels), each solved by :func:`optimizer.routing.solve_routing` within its
share of the time, checked by :func:`optimizer.routing.verify.verify`, and merged.
:func:`plan_day` adds the day's KPIs. Depots share nothing (a lot goes to the cold store
it is assigned to; parcels leave the hub), so routing them apart loses no plan.

:func:`build_day_problem` states a day as a matrix-level :class:`RoutingProblem` by the
rules of :mod:`optimizer.planning.rules`: each produce lot is an optional pickup stop (its
drop penalty the value lost on the ambient channel), each parcel lot an optional delivery
stop from the hub, each vehicle ``max_trips`` chained route slots. :func:`to_day_plan`
reads a solution back in instance terms (minutes, kg, km, yuan) and
:func:`to_routing_solution` does the reverse, so that both checkers can judge one plan.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import numpy as np

from optimizer.errors import InfeasibleError
from optimizer.instance import Instance, Scenario, VehicleType
from optimizer.limits import Limits
from optimizer.planning.fleet import hired_numbers, vehicle_numbers
from optimizer.planning.kpi import evaluate
from optimizer.planning.matrices import Matrices
from optimizer.planning.rules import DayRules, parse_vehicle_id, split_kg, vehicle_id
from optimizer.planning.scenario import day_volumes
from optimizer.plans import DayPlan, FacilityPlan, Kpis, PlannedRoute, PlannedStop
from optimizer.roads import UNREACHABLE, TravelMatrix
from optimizer.routing import solve_routing
from optimizer.routing.problem import (
    FEN_PER_YUAN,
    CostBreakdown,
    Matrix,
    RouteSolution,
    RoutingProblem,
    RoutingSolution,
    Stop,
    Vehicle,
    Visit,
)
from optimizer.routing.solve import time_shares
from optimizer.routing.verify import evaluate as evaluate_routes
from optimizer.routing.verify import verify

Fleet = Mapping[str, Mapping[str, int]]  # vehicle type id -> depot id -> vehicles


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
    fleet: Fleet,
    *,
    hired: Fleet | None = None,
    depots: Collection[str] | None = None,
    name: str = "",
) -> DayProblem:
    """Build the day's RoutingProblem (rules: :mod:`optimizer.planning.rules`).

    ``matrices`` maps vehicle-type id -> travel matrix over the instance's site ids;
    ``orders`` and ``produce_kg`` are per village per day; ``fleet`` gives the owned
    vehicles of each type at each depot (numbered across depots, :func:`vehicle_numbers`),
    ``hired`` the hired ones (numbered after the type's ``count``, at its day rate). With
    ``depots``, only those depots' vehicles and work are in the problem: the produce lots
    assigned to them, and the parcels when the hub is among them.
    """
    rules = DayRules.of(instance)
    hub = rules.hub
    wanted = None if depots is None else set(depots)

    # ---- vehicle slots -------------------------------------------------------------
    node_sites: list[str] = []
    node_of: dict[str, int] = {}

    def depot_node(site: str) -> int:
        if site not in node_of:
            node_of[site] = len(node_sites)
            node_sites.append(site)
        return node_of[site]

    owned = vehicle_numbers(fleet)
    extra = hired_numbers(instance, hired or {})
    numbers = {key: tuple((n, False) for n in owned.get(key, ()))
               + tuple((n, True) for n in extra.get(key, ())) for key in {*owned, *extra}}
    vehicles: list[Vehicle] = []
    slot_types: list[VehicleType] = []
    slot_trip: list[int] = []
    for vt in instance.vehicle_types:
        for depot in sorted({d for t, d in numbers if t == vt.id}):
            if wanted is not None and depot not in wanted:
                continue
            for number, is_hired in numbers[(vt.id, depot)]:
                prev: int | None = None
                for trip in range(vt.max_trips):
                    dn = depot_node(depot)
                    vehicles.append(Vehicle(
                        id=vehicle_id(vt.id, number, trip, vt.max_trips),
                        type_id=vt.id,
                        start=dn,
                        end=dn,
                        capacity_kg=int(vt.capacity_kg),
                        profile=vt.id,
                        fixed_fen=int(round(rules.fixed_yuan(vt, trip, hired=is_hired)
                                            * FEN_PER_YUAN)),
                        fen_per_km=vt.cost_yuan_per_km * FEN_PER_YUAN,
                        fen_per_h=vt.refrigeration_yuan_per_h * FEN_PER_YUAN,
                        spoil_fen_per_kg_h=rules.ride_yuan_per_kg_h(vt) * FEN_PER_YUAN,
                        shift_start_s=rules.day_start_s,
                        shift_end_s=rules.day_end_s,
                        after=prev,
                        reload_s=rules.reload_s,
                    ))
                    slot_types.append(vt)
                    slot_trip.append(trip)
                    prev = len(vehicles) - 1

    # ---- stops -----------------------------------------------------------------------
    stops: list[Stop] = []
    infos: list[StopInfo] = []
    reach: dict[tuple[str, str, str], bool] = {}

    def reachable(vi: int, site: str, depot: str) -> bool:
        key = (slot_types[vi].id, site, depot)
        ok = reach.get(key)
        if ok is None:
            m = matrices[key[0]]
            a, b = m.index(site), m.index(depot)
            ok = m.pair(b, a)[1] < UNREACHABLE and m.pair(a, b)[1] < UNREACHABLE
            reach[key] = ok
        return ok

    # last mile: parcels per pickup point, from the hub
    parcels_at: dict[str, float] = {}
    if wanted is None or hub in wanted:
        for vid, pp in facilities.village_pickup.items():
            parcels_at[pp] = parcels_at.get(pp, 0.0) + orders.get(vid, 0.0)
    hub_capacities = [v.capacity_kg for v in vehicles if node_sites[v.start] == hub]
    tw_start, tw_end = rules.window_s("delivery")
    for pp in sorted(parcels_at):
        cands = [
            i for i, v in enumerate(vehicles)
            if node_sites[v.start] == hub and reachable(i, pp, hub)
        ]
        cap = max((vehicles[i].capacity_kg for i in cands), default=max(hub_capacities, default=1))
        lots = split_kg(parcels_at[pp] * rules.order_kg, min(rules.lot_kg, cap))
        for k, kg in enumerate(lots):
            sid = f"deliver:{pp}" + (f"#{k + 1}" if len(lots) > 1 else "")
            stops.append(Stop(
                id=sid, node=_dup(node_sites, pp), delivery_kg=kg,
                service_s=rules.service_s(kg), tw_start_s=tw_start, tw_end_s=tw_end,
                drop_penalty_fen=int(round(rules.parcel_drop_yuan(kg) * FEN_PER_YUAN)),
                allowed_vehicles=tuple(i for i in cands if vehicles[i].capacity_kg >= kg),
            ))
            infos.append(StopInfo(sid, pp, "delivery", float(kg), parcels=kg / rules.order_kg))

    # first mile: produce lots to their assigned cold store
    tw_start, tw_end = rules.window_s("pickup")
    for vid in sorted(facilities.produce_to_store):
        for store, kg_total in facilities.produce_to_store[vid]:
            if wanted is not None and store not in wanted:
                continue
            cands = [
                i for i, v in enumerate(vehicles)
                if node_sites[v.end] == store and rules.may_collect(slot_types[i])
                and reachable(i, vid, store)
            ]
            cap = max((vehicles[i].capacity_kg for i in cands), default=0)
            lots = split_kg(min(kg_total, produce_kg.get(vid, 0.0)),
                            min(rules.lot_kg, cap) if cap > 0 else rules.lot_kg)
            for k, kg in enumerate(lots):
                sid = f"collect:{vid}@{store}" + (f"#{k + 1}" if len(lots) > 1 else "")
                stops.append(Stop(
                    id=sid, node=_dup(node_sites, vid), pickup_kg=kg,
                    service_s=rules.service_s(kg), tw_start_s=tw_start, tw_end_s=tw_end,
                    ready_s=rules.ready_s, wait_fen_per_h=rules.wait_yuan_per_kg_h() * kg
                    * FEN_PER_YUAN,
                    deadline_s=rules.deadline_s,
                    drop_penalty_fen=int(round(rules.produce_drop_yuan(kg) * FEN_PER_YUAN)),
                    allowed_vehicles=tuple(i for i in cands if vehicles[i].capacity_kg >= kg),
                ))
                infos.append(StopInfo(sid, vid, "pickup", float(kg), store=store))

    # ---- matrices over problem nodes ---------------------------------------------------
    mats: dict[str, Matrix] = {}
    for vt in instance.vehicle_types:
        if vt.id not in {v.profile for v in vehicles}:
            continue
        tm = matrices[vt.id]
        idx = np.array([tm.index(s) for s in node_sites], dtype=np.int64)
        d = tm.distances(idx, idx)
        t = tm.durations(idx, idx)
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


def to_routing_solution(day: DayProblem, plan: DayPlan) -> RoutingSolution:
    """The matrix-level solution of ``day`` that ``plan`` (one of its days, possibly edited)
    stands for: routes by vehicle slot id, stops by stop id, times in whole seconds. The
    objective is the plan's (fen). Raises KeyError for a vehicle or stop id ``day`` lacks."""
    slot = {v.id: i for i, v in enumerate(day.problem.vehicles)}
    stop = {s.id: i for i, s in enumerate(day.problem.stops)}
    routes = []
    for r in plan.routes:
        visits = tuple(Visit(stop[s.stop_id], int(round(s.arrival_min * 60)),
                             int(round(s.start_min * 60))) for s in r.stops)
        routes.append(RouteSolution(slot[r.vehicle_id], visits, int(round(r.start_min * 60)),
                                    int(round(r.end_min * 60))))
    return RoutingSolution(tuple(routes), tuple(stop[d] for d in plan.dropped),
                           plan.objective_yuan * FEN_PER_YUAN)


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


def _solve_checked(day: DayProblem, *, scenario: str, time_limit_s: float,
                   solution_limit: int | None, seed: int) -> DayPlan:
    """Solve one depot's problem (all its work dropped when it has no vehicle), check it."""
    if day.problem.vehicles:
        sol = solve_routing(day.problem, time_limit_s=time_limit_s, seed=seed,
                            solution_limit=solution_limit)
    else:
        idle = RoutingSolution((), tuple(range(len(day.problem.stops))), 0.0, "no vehicle")
        parts, _ = evaluate_routes(day.problem, idle)
        sol = RoutingSolution((), idle.dropped, parts.total, "no vehicle", "none")
    breakdown = verify(day.problem, sol)
    return to_day_plan(day, sol, breakdown, scenario=scenario, checked=True)


def route_day(
    instance: Instance,
    scenario: Scenario,
    facilities: FacilityPlan,
    matrices: Matrices,
    fleet: Fleet,
    *,
    hired: Fleet | None = None,
    limits: Limits,
    seed: int = 0,
) -> DayPlan:
    """Route one day of ``scenario``: one checked routing problem per depot, merged.

    ``fleet`` and ``hired`` are the owned and hired vehicles per type and depot. The depots
    are those with vehicles, with produce assigned, and the hub when parcels go out;
    the whole day's search time (``limits.time_s``, or by the size rule from the day's
    stops and depots: :meth:`optimizer.limits.Limits.routing_s`) is split over the depots in
    proportion to their stops (:func:`optimizer.routing.solve.time_shares`). Raises
    :class:`InfeasibleError` when the fleet has no vehicle at all.
    """
    both = [*fleet.values(), *(hired or {}).values()]
    if not any(n > 0 for per in both for n in per.values()):
        raise InfeasibleError(f"{instance.source}: vehicles: the {facilities.name} fleet has no "
                              "vehicle; set count/baseline_count > 0 for a vehicle type")
    orders, produce = day_volumes(instance, scenario)
    depots = {d for per in both for d, n in per.items() if n > 0}
    depots |= {store for shares in facilities.produce_to_store.values() for store, _ in shares}
    if facilities.village_pickup:
        depots.add(instance.operations.hub)
    jobs = []
    for depot in sorted(depots):
        day = build_day_problem(instance, matrices.by_vehicle_type, facilities, orders, produce,
                                fleet, hired=hired, depots=(depot,),
                                name=f"{instance.name}/{scenario.id}/{facilities.name}/{depot}")
        if day.problem.stops:
            jobs.append(day)
    stops = [len(d.problem.stops) for d in jobs]
    shares = time_shares(limits.routing_s(sum(stops), len(stops)), stops)
    parts = [_solve_checked(day, scenario=scenario.id, time_limit_s=share,
                            solution_limit=limits.solution_limit, seed=seed)
             for day, share in zip(jobs, shares, strict=True)]
    return owned_before_hired(instance, _merge(scenario.id, parts), fleet)


def owned_before_hired(instance: Instance, day: DayPlan, fleet: Fleet) -> DayPlan:
    """Drive a hired vehicle's routes with an owned vehicle of its type that stays idle.

    Depots are routed apart, each with the owned vehicles the fleet placement gave it, so a
    depot may hire a vehicle while an owned one of the same type stands unused at another
    depot. The owned one is based where the hire was for the day instead: same type, so
    the same routes and times; only the fixed cost changes (its day cost instead of the
    hire rate). Pairs are taken in vehicle-number order (deterministic); routes, the
    ``fixed`` cost and the objective are updated, yuan in whole fen.
    """
    if not day.routes:
        return day
    owned_numbers = vehicle_numbers(fleet)
    rules = DayRules.of(instance)
    types = {vt.id: vt for vt in instance.vehicle_types}
    used: dict[str, set[int]] = {}
    for r in day.routes:
        parsed = parse_vehicle_id(r.vehicle_id)
        if parsed is not None:
            used.setdefault(parsed[0], set()).add(parsed[1])
    swap: dict[tuple[str, int], int] = {}
    for type_id, numbers in sorted(used.items()):
        vt = types.get(type_id)
        if vt is None:
            continue
        owned = sorted({n for (t, _), ns in owned_numbers.items() if t == type_id for n in ns})
        idle = [n for n in owned if n not in numbers]
        hired = sorted(n for n in numbers if n > vt.count)
        for h, o in zip(hired, idle, strict=False):
            swap[(type_id, h)] = o
    if not swap:
        return day
    routes = []
    delta = 0.0
    for r in day.routes:
        parsed = parse_vehicle_id(r.vehicle_id)
        if parsed is None or (parsed[0], parsed[1]) not in swap:
            routes.append(r)
            continue
        vt = types[parsed[0]]
        change = rules.fixed_yuan(vt, r.trip) - rules.fixed_yuan(vt, r.trip, hired=True)
        delta += change
        routes.append(replace(r, vehicle_id=vehicle_id(vt.id, swap[(vt.id, parsed[1])], r.trip,
                                                       vt.max_trips),
                              cost_yuan=r.cost_yuan + change))
    cost = dict(day.cost_yuan)
    cost["fixed"] = cost.get("fixed", 0.0) + delta
    return replace(day, routes=tuple(routes), cost_yuan=cost,
                   objective_yuan=day.objective_yuan + delta)


def plan_day(
    instance: Instance,
    scenario: Scenario,
    facilities: FacilityPlan,
    matrices: Matrices,
    fleet: Fleet,
    *,
    hired: Fleet | None = None,
    limits: Limits,
    seed: int = 0,
) -> tuple[DayPlan, Kpis]:
    """Route one representative day of ``scenario`` (:func:`route_day`) and compute its
    KPIs (:func:`optimizer.planning.kpi.evaluate`)."""
    day = route_day(instance, scenario, facilities, matrices, fleet, hired=hired, limits=limits,
                    seed=seed)
    return day, day_kpis(instance, scenario, facilities, day, matrices)


def day_kpis(instance: Instance, scenario: Scenario, facilities: FacilityPlan, day: DayPlan,
             matrices: Matrices) -> Kpis:
    """KPIs of a routed day (coverage on the scenario's travel matrices)."""
    orders, produce = day_volumes(instance, scenario)
    minutes_to = matrices.minutes_to([v.id for v in instance.villages],
                                     list(facilities.pickup_points))
    return evaluate(instance, scenario, facilities, day, orders=orders, produce_kg=produce,
                    minutes_to=minutes_to)


__all__ = [
    "DayProblem",
    "Fleet",
    "StopInfo",
    "build_day_problem",
    "day_kpis",
    "owned_before_hired",
    "plan_day",
    "route_day",
    "to_day_plan",
    "to_routing_solution",
]
