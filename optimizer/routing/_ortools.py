"""OR-Tools adapter: the only module importing ``pywrapcp`` / ``routing_enums_pb2``.

Builds a ``RoutingModel`` with every feature of :class:`RoutingProblem` and returns raw
routes (vehicle, stop indices, departure time); ``solve.py`` turns them into a checked
:class:`RoutingSolution`.

Model (nodes: one per stop, then one per distinct depot node; matrices are gathered so that
manager node k maps to matrix index ``mnode[k]``):

* arc costs: one registered transit matrix per distinct (profile, fen_per_km);
* capacity: without mixed pickups/deliveries one cumulative "load" dimension (start 0);
  with both (or with deliveries and spoilage) a "deliveries remaining" dimension
  (transit -delivery, end cumul 0) and an "onboard" dimension (transit pickup - delivery)
  whose start cumul equals the former's, so the on-board load is exact everywhere;
* "time": per-profile transit travel + service at the from-node, slack = waiting, hard
  windows, shift window on start/end cumuls, span cost (fen_per_h), span upper bound;
  lateness and field waiting as soft upper bounds (a mirror "time2" dimension, tied by
  equality to "time" at the stop, carries the second one when a stop has both);
* spoilage: a slack-free "travel" dimension (travel seconds only) and
  ``SetPathEnergyCostOfVehicle(force=onboard, distance=travel)``;
* deadlines: ``Element(end cumuls + [0], VehicleVar + 1) <= deadline`` (exact);
* multi-trip: start(v) >= end(after) + reload_s when v is used (big-M on ActiveVehicle(v))
  and ActiveVehicle(v) <= ActiveVehicle(after);
* release times: ``Element(start cumuls + [horizon], VehicleVar + 1) >= release`` (exact);
* maximum distance: a slack-free "distance" dimension with per-vehicle capacities;
* backhauls last: a "backhauls" count dimension (+1 leaving a backhaul) that must be 0 at
  every linehaul, and no backhaul right after a start;
* optional stops: disjunctions with their penalty; allowed vehicles.

All costs are integers in ``COST_SCALE`` units per fen (the one place where money is
scaled): per-hour rates become exact to 0.01 fen/h per second.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.routing._schedule import RawResult, RawRoute
from optimizer.routing.problem import Matrix, RoutingProblem

log = logging.getLogger(__name__)

# solver cost units per fen: a rate in fen/h becomes rate * COST_SCALE / 3600 per second
COST_SCALE = 360_000
# cap for the time horizon (s); values above are treated as "no limit"
_HORIZON_CAP = 10**9

_MIXED_FALLBACKS = ("path_cheapest_arc", "savings", "automatic")
FIRST_SOLUTION = {
    "path_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "parallel_cheapest_insertion": (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    ),
    "local_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "savings": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "christofides": routing_enums_pb2.FirstSolutionStrategy.CHRISTOFIDES,
    "automatic": routing_enums_pb2.FirstSolutionStrategy.AUTOMATIC,
}


def _scaled(rate: float, per: float) -> int:
    """Integer solver cost for a money rate (fen per ``per`` units) per single unit."""
    return int(round(rate * COST_SCALE / per))


class _Model:
    """Holds the manager, routing model and dimensions for one problem."""

    def __init__(self, problem: RoutingProblem) -> None:
        self.p = problem
        stops = problem.stops
        vehicles = problem.vehicles
        n_stops = len(stops)
        depots = sorted({v.start for v in vehicles} | {v.end for v in vehicles})
        self.depot_index = {d: n_stops + k for k, d in enumerate(depots)}
        self.mnode = np.array([s.node for s in stops] + depots, dtype=np.int64)
        n_nodes = len(self.mnode)
        starts = [self.depot_index[v.start] for v in vehicles]
        ends = [self.depot_index[v.end] for v in vehicles]
        self.manager = pywrapcp.RoutingIndexManager(n_nodes, len(vehicles), starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.solver = self.routing.solver()
        self.horizon = int(
            min(
                _HORIZON_CAP,
                max(
                    [v.shift_end_s for v in vehicles]
                    + [s.tw_end_s for s in stops if s.tw_end_s < _HORIZON_CAP]
                    + [1]
                ),
            )
        )
        self._build()

    # ---- matrices -------------------------------------------------------------------------
    def _gather(self, arr: np.ndarray) -> np.ndarray:
        return arr[np.ix_(self.mnode, self.mnode)].astype(np.int64)

    def _build(self) -> None:
        p, routing, manager = self.p, self.routing, self.manager
        stops, vehicles = p.stops, p.vehicles
        n_stops = len(stops)
        n_nodes = len(self.mnode)
        service = np.zeros(n_nodes, dtype=np.int64)
        service[:n_stops] = [s.service_s for s in stops]

        # arc costs: one callback per distinct (profile, fen_per_km)
        cost_cb: dict[tuple[str, float], int] = {}
        for v, veh in enumerate(vehicles):
            key = (veh.profile, float(veh.fen_per_km))
            if key not in cost_cb:
                dist = self._gather(p.matrices[veh.profile].distance_m)
                unreachable = dist >= Matrix.UNREACHABLE
                cost = np.rint(dist.astype(np.float64) * veh.fen_per_km * COST_SCALE / 1000.0)
                cost = cost.astype(np.int64)
                cost[unreachable] = 0  # infeasible through the time dimension instead
                cost_cb[key] = routing.RegisterTransitMatrix(cost.tolist())
            routing.SetArcCostEvaluatorOfVehicle(cost_cb[key], v)
            if veh.fixed_fen:
                routing.SetFixedCostOfVehicle(int(veh.fixed_fen) * COST_SCALE, v)

        # time: travel + service at the from-node, per profile
        big = self.horizon + 1
        time_cb: dict[str, int] = {}
        travel_cb: dict[str, int] = {}
        need_travel = any(v.spoil_fen_per_kg_h > 0 for v in vehicles)
        for veh in vehicles:
            if veh.profile in time_cb:
                continue
            mat = p.matrices[veh.profile]
            dur = self._gather(mat.duration_s)
            unreachable = (dur >= Matrix.UNREACHABLE) | (
                self._gather(mat.distance_m) >= Matrix.UNREACHABLE
            )
            dur = np.minimum(dur, big)
            trans = dur + service[:, None]
            trans[unreachable] = big
            time_cb[veh.profile] = routing.RegisterTransitMatrix(trans.tolist())
            if need_travel:
                trav = dur.copy()
                trav[unreachable] = big
                travel_cb[veh.profile] = routing.RegisterTransitMatrix(trav.tolist())
        routing.AddDimensionWithVehicleTransits(
            [time_cb[v.profile] for v in vehicles], self.horizon, self.horizon, False, "time"
        )
        tdim = routing.GetDimensionOrDie("time")
        self.time = tdim

        for v, veh in enumerate(vehicles):
            lo = max(0, veh.shift_start_s)
            hi = min(self.horizon, veh.shift_end_s)
            tdim.CumulVar(routing.Start(v)).SetRange(lo, hi)
            tdim.CumulVar(routing.End(v)).SetRange(lo, hi)
            if veh.max_duration_s is not None:
                tdim.SetSpanUpperBoundForVehicle(int(veh.max_duration_s), v)
            if veh.fen_per_h:
                tdim.SetSpanCostCoefficientForVehicle(_scaled(veh.fen_per_h, 3600.0), v)

        need_mirror = any(
            s.soft_tw_end_s is not None
            and s.late_fen_per_h > 0
            and s.ready_s is not None
            and s.wait_fen_per_h > 0
            for s in stops
        )
        t2dim = None
        if need_mirror:
            routing.AddDimensionWithVehicleTransits(
                [time_cb[v.profile] for v in vehicles], self.horizon, self.horizon, False, "time2"
            )
            t2dim = routing.GetDimensionOrDie("time2")

        for i, s in enumerate(stops):
            idx = manager.NodeToIndex(i)
            tdim.CumulVar(idx).SetRange(
                max(0, s.tw_start_s), max(0, min(self.horizon, s.tw_end_s))
            )
            late = s.soft_tw_end_s is not None and s.late_fen_per_h > 0
            if s.soft_tw_end_s is not None and late:
                tdim.SetCumulVarSoftUpperBound(
                    idx, max(0, int(s.soft_tw_end_s)), _scaled(s.late_fen_per_h, 3600.0)
                )
            if s.ready_s is not None and s.wait_fen_per_h > 0:
                dim = tdim
                if late:
                    assert t2dim is not None
                    dim = t2dim
                    self.solver.Add(t2dim.CumulVar(idx) == tdim.CumulVar(idx))
                dim.SetCumulVarSoftUpperBound(
                    idx, max(0, int(s.ready_s)), _scaled(s.wait_fen_per_h, 3600.0)
                )
            if s.drop_penalty_fen is not None:
                routing.AddDisjunction([idx], int(s.drop_penalty_fen) * COST_SCALE)
            if s.allowed_vehicles is not None:
                # SetAllowedVehiclesForIndex's span argument is not usable from Python 9.15;
                # restricting the vehicle variable is equivalent (-1 = unperformed)
                allowed = sorted({int(v) for v in s.allowed_vehicles})
                if s.drop_penalty_fen is not None:
                    allowed = [-1, *allowed]
                routing.VehicleVar(idx).SetValues(allowed)

        self._build_loads()
        self.side_constraints = (
            self.mixed
            or need_mirror
            or any(self._deadline_binds(i) for i in range(n_stops))
            or any(v.after is not None for v in vehicles)
            or any(s.release_s > 0 for s in stops)
            or p.backhauls_last
        )

        if need_travel:
            routing.AddDimensionWithVehicleTransits(
                [travel_cb[v.profile] for v in vehicles], 0, _HORIZON_CAP * 4, True, "travel"
            )
            for v, veh in enumerate(vehicles):
                if veh.spoil_fen_per_kg_h > 0:
                    unit = _scaled(veh.spoil_fen_per_kg_h, 3600.0)
                    routing.SetPathEnergyCostOfVehicle(self.force_dim, "travel", unit, v)

        # deadlines: end time of the serving vehicle <= deadline (skipped when redundant)
        deadlined = [i for i in range(n_stops) if self._deadline_binds(i)]
        if deadlined:
            zero = self.solver.IntVar(0, 0, "zero")
            end_vars = [zero] + [tdim.CumulVar(routing.End(v)) for v in range(len(vehicles))]
            for i in deadlined:
                s = stops[i]
                assert s.deadline_s is not None
                idx = manager.NodeToIndex(i)
                pos = (routing.VehicleVar(idx) + 1).Var()
                self.solver.Add(self.solver.Element(end_vars, pos) <= int(s.deadline_s))

        # release times: the serving vehicle departs at or after the release
        released = [i for i in range(n_stops) if stops[i].release_s > 0]
        if released:
            late = self.solver.IntVar(self.horizon, self.horizon, "late")
            start_vars = [late] + [tdim.CumulVar(routing.Start(v)) for v in range(len(vehicles))]
            for i in released:
                idx = manager.NodeToIndex(i)
                pos = (routing.VehicleVar(idx) + 1).Var()
                self.solver.Add(self.solver.Element(start_vars, pos) >= int(stops[i].release_s))

        if any(v.max_distance_m is not None for v in vehicles):
            dist_cb: dict[str, int] = {}
            for veh in vehicles:
                if veh.profile not in dist_cb:
                    d = np.minimum(self._gather(p.matrices[veh.profile].distance_m), _HORIZON_CAP)
                    dist_cb[veh.profile] = routing.RegisterTransitMatrix(d.tolist())
            caps = [min(_HORIZON_CAP, int(v.max_distance_m)) if v.max_distance_m is not None
                    else _HORIZON_CAP for v in vehicles]
            routing.AddDimensionWithVehicleTransitAndCapacity(
                [dist_cb[v.profile] for v in vehicles], 0, caps, True, "distance"
            )

        if p.backhauls_last:
            back = [i for i in range(n_stops) if stops[i].pickup_kg > 0]
            phase = np.zeros(n_nodes, dtype=np.int64)
            phase[back] = 1
            cb = routing.RegisterUnaryTransitVector(phase.tolist())
            routing.AddDimension(cb, 0, n_stops + 1, True, "backhauls")
            bdim = routing.GetDimensionOrDie("backhauls")
            for i in range(n_stops):
                if stops[i].delivery_kg > 0:
                    bdim.CumulVar(manager.NodeToIndex(i)).SetMax(0)
            back_idx = [manager.NodeToIndex(i) for i in back]
            for v in range(len(vehicles)):
                routing.NextVar(routing.Start(v)).RemoveValues(back_idx)

        # multi-trip chaining, only binding when slot v is used (as in the checker): an
        # unconditional Start(v) >= End(u) + reload would make every unused later slot
        # shorten its predecessors' day by reload_s each
        for v, veh in enumerate(vehicles):
            if veh.after is None:
                continue
            u = veh.after
            active = routing.ActiveVehicleVar(v)
            big_m = self.horizon + int(veh.reload_s)
            self.solver.Add(
                tdim.CumulVar(routing.Start(v)) + big_m
                >= tdim.CumulVar(routing.End(u)) + int(veh.reload_s) + active * big_m
            )
            self.solver.Add(active <= routing.ActiveVehicleVar(u))

    def _deadline_binds(self, i: int) -> bool:
        """Whether stop ``i``'s deadline can be violated: False when it has none or every
        vehicle allowed to serve it must end its shift by the deadline anyway."""
        s = self.p.stops[i]
        if s.deadline_s is None:
            return False
        allowed = (
            range(len(self.p.vehicles)) if s.allowed_vehicles is None else s.allowed_vehicles
        )
        return any(
            min(self.horizon, self.p.vehicles[v].shift_end_s) > s.deadline_s for v in allowed
        )

    def _build_loads(self) -> None:
        p, routing = self.p, self.routing
        stops, vehicles = p.stops, p.vehicles
        n_nodes = len(self.mnode)
        n_stops = len(stops)
        caps = [int(v.capacity_kg) for v in vehicles]
        deliv = np.zeros(n_nodes, dtype=np.int64)
        pick = np.zeros(n_nodes, dtype=np.int64)
        deliv[:n_stops] = [s.delivery_kg for s in stops]
        pick[:n_stops] = [s.pickup_kg for s in stops]
        any_del = bool(deliv.any())
        any_pick = bool(pick.any())
        spoil = any(v.spoil_fen_per_kg_h > 0 for v in vehicles)
        self.force_dim = "load"
        self.mixed = any_del and any_pick
        if any_del and spoil and not any_pick:
            # deliveries only: the on-board load is the deliveries still to drop
            cb_d = routing.RegisterUnaryTransitVector((-deliv).tolist())
            routing.AddDimensionWithVehicleCapacity(cb_d, 0, caps, False, "load")
            ldim = routing.GetDimensionOrDie("load")
            for v in range(len(vehicles)):
                ldim.CumulVar(routing.End(v)).SetValue(0)
        elif self.mixed:
            cb_d = routing.RegisterUnaryTransitVector((-deliv).tolist())
            routing.AddDimensionWithVehicleCapacity(cb_d, 0, caps, False, "deliveries")
            ddim = routing.GetDimensionOrDie("deliveries")
            cb_l = routing.RegisterUnaryTransitVector((pick - deliv).tolist())
            routing.AddDimensionWithVehicleCapacity(cb_l, 0, caps, False, "load")
            ldim = routing.GetDimensionOrDie("load")
            for v in range(len(vehicles)):
                ddim.CumulVar(routing.End(v)).SetValue(0)
                self.solver.Add(
                    ldim.CumulVar(routing.Start(v)) == ddim.CumulVar(routing.Start(v))
                )
        else:
            cb = routing.RegisterUnaryTransitVector((deliv + pick).tolist())
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "load")

    # ---- solving --------------------------------------------------------------------------
    def params(
        self,
        *,
        time_limit_s: float,
        solution_limit: int | None,
        first_solution: str,
        metaheuristic: str,
        log_search: bool,
    ) -> object:
        prm = pywrapcp.DefaultRoutingSearchParameters()
        prm.first_solution_strategy = FIRST_SOLUTION[first_solution]
        if metaheuristic == "gls":
            prm.local_search_metaheuristic = (
                routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
            )
        elif metaheuristic == "none":
            prm.local_search_metaheuristic = (
                routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
            )
        else:
            raise ValueError(f"unknown metaheuristic {metaheuristic!r}")
        prm.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
        if solution_limit is not None:
            prm.solution_limit = int(solution_limit)
        prm.log_search = log_search
        return prm

    def extract(self, assignment: object, status: str) -> RawResult:
        routing, manager, tdim = self.routing, self.manager, self.time
        n_stops = len(self.p.stops)
        routes: list[RawRoute] = []
        served: set[int] = set()
        for v in range(len(self.p.vehicles)):
            idx = routing.Start(v)
            start_s = int(assignment.Value(tdim.CumulVar(idx)))  # type: ignore[attr-defined]
            seq: list[int] = []
            idx = assignment.Value(routing.NextVar(idx))  # type: ignore[attr-defined]
            while not routing.IsEnd(idx):
                node = manager.IndexToNode(idx)
                seq.append(node)
                served.add(node)
                idx = assignment.Value(routing.NextVar(idx))  # type: ignore[attr-defined]
            if seq:
                routes.append(RawRoute(v, tuple(seq), start_s))
        dropped = tuple(i for i in range(n_stops) if i not in served)
        obj = float(assignment.ObjectiveValue()) / COST_SCALE  # type: ignore[attr-defined]
        return RawResult(tuple(routes), dropped, obj, status)


_STATUS = {
    0: "not_solved",
    1: "success",
    2: "partial_success_local_optimum_not_reached",
    3: "fail",
    4: "fail_timeout",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}


def solve_ortools(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    solution_limit: int | None = None,
    initial_routes: list[RawRoute] | None = None,
    first_solution: str = "parallel_cheapest_insertion",
    metaheuristic: str = "gls",
    log_search: bool = False,
) -> RawResult | None:
    """Solve with OR-Tools; return raw routes or None when no solution was found.

    ``initial_routes`` (vehicle, stops) warm-start the search through
    ``ReadAssignmentFromRoutes``; if they are not feasible for the model the search starts
    from ``first_solution`` instead (with fallbacks to other constructions when the model has
    side constraints). ``time_limit_s`` bounds model building plus search.
    """
    t0 = time.perf_counter()
    strategies = [first_solution]
    assignment = None
    k = 0
    while k < len(strategies):
        model = _Model(problem)
        if k == 0 and model.side_constraints:
            # side constraints (on-board load equality, deadlines, multi-trip, mirror time)
            # are CP constraints the insertion heuristics cannot see; fall back to other
            # constructions when the first one fails
            strategies += [s for s in _MIXED_FALLBACKS if s != first_solution]
        routing, manager = model.routing, model.manager
        remaining = max(0.05, time_limit_s - (time.perf_counter() - t0))
        prm = model.params(
            time_limit_s=remaining,
            solution_limit=solution_limit,
            first_solution=strategies[k],
            metaheuristic=metaheuristic,
            log_search=log_search,
        )
        if initial_routes and k == 0:
            routing.CloseModelWithParameters(prm)
            per_vehicle: list[list[int]] = [[] for _ in problem.vehicles]
            for r in initial_routes:
                per_vehicle[r.vehicle] = [manager.NodeToIndex(s) for s in r.stops]
            init = routing.ReadAssignmentFromRoutes(per_vehicle, True)
            if init is not None:
                assignment = routing.SolveFromAssignmentWithParameters(init, prm)
            else:
                log.info("warm start rejected by the OR-Tools model; solving from scratch")
        if assignment is None:
            assignment = routing.SolveWithParameters(prm)
        if assignment is not None or time.perf_counter() - t0 >= time_limit_s:
            break
        log.info("OR-Tools first solution %s failed", strategies[k])
        k += 1
    status = _STATUS.get(routing.status(), str(routing.status()))
    log.debug("OR-Tools status %s after %.2fs", status, time.perf_counter() - t0)
    if assignment is None:
        return None
    return model.extract(assignment, status)


__all__ = ["COST_SCALE", "FIRST_SOLUTION", "solve_ortools"]
