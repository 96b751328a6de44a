"""Capacitated location-routing (CLRP): ``solve_lrp(instance, ...) -> LrpSolution``.

Method (location-routing heuristic with a route-pool recombination):

1. **Screen** every depot set whose capacity covers the total demand with a cheap estimate:
   opening costs + a capacitated regret assignment of customers to the set's depots + the
   line-haul routing bound ``2 x cost(depot, customer) x demand / Q`` + the route fixed cost
   per ``ceil(load / Q)`` routes. Beyond ``MAX_ENUM_DEPOTS`` depots the sets are searched
   (greedy drop, then add/drop/swap local search on the estimate) within 10% of the limit.
2. **Evaluate** the best-estimated sets (and then the add/drop/swap neighbours of the two
   best evaluated ones) with short runs of step 3 (one worker process per set).
3. **Route a set** (``_solve_set``): PyVRP multi-depot runs in chunks on a Lagrangian
   relaxation of the depot capacities, which PyVRP cannot express (depot ``j``'s vehicles
   pay ``lambda_j`` per unit of load through a per-depot distance profile; the multipliers
   follow the overloads). Each chunk's plan is made depot-feasible three ways, keeping the
   cheapest: a greedy repair (move customers out of overloaded depots at the least
   insertion cost), a generalized-assignment MIP of customers to depots priced by
   insertion detours, and a set-partitioning MIP over every route met so far; the best plan
   is then polished by PyVRP with the customer-to-depot assignment fixed (arcs to other
   depots' customers cost ``LRP_BIG``).
4. **Iterate location and routing**: every route met goes into a pool; a set-partitioning
   MIP over the pool chooses the depots to open and the routes (each route priced at its
   three cheapest depots, depot capacities enforced). Then ``rounds`` intensification
   rounds run step 3 on the incumbent's depot set (and on other sets within 3% of it, one
   per worker), each followed by the pool MIP. The MIPs go through
   :func:`optimizer.location.solve_milp` (HiGHS), the package's one door to MIP solvers.

Every reported plan is recomputed and accepted by :func:`optimizer.lrp.verify.verify_lrp`.
Costs inside PyVRP are integers: the instance's integer arc costs (``ceil`` or
``floor(100 x Euclid)``) as they are, real-valued files scaled by ``_REAL_SCALE``.

Determinism: with ``max_iterations`` set, each PyVRP run stops after a fixed number of
iterations and the result depends only on the seed, provided the time limit is generous
enough that no PyVRP run, MIP or chunk is cut short by the clock (small instances).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse import vstack as sp_vstack

from optimizer._parallel import process_pool, usable_cores
from optimizer.errors import InfeasibleError
from optimizer.formats.prodhon import LrpInstance, arc_costs
from optimizer.location import solve_milp
from optimizer.lrp.verify import verify_lrp
from optimizer.routing import multidepot

log = logging.getLogger(__name__)

_REAL_SCALE = 1000  # cost scale for real-valued (flag 1) files inside PyVRP
SCREEN_SHARE = 0.35  # share of the time budget spent evaluating depot sets
MAX_ENUM_DEPOTS = 10  # up to this many depots every depot set is screened (1,023 sets)
MAX_EVALS = 24  # depot sets evaluated with PyVRP at most (screening + neighbourhood)

Routes = multidepot.Routes  # (depot, customers) pairs, 0-based
#: HiGHS's own default gaps for the heuristic's MIPs (solve_milp's default asks for 1e-9)
_MIP_OPTIONS: dict[str, object] = {"mip_rel_gap": 1e-4}


@dataclass(frozen=True, slots=True)
class LrpRoute:
    """One vehicle route: leaves ``depot``, serves ``customers`` in order, returns."""

    depot: int
    customers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LrpSolution:
    """A checked CLRP plan; costs in the instance's cost unit, time in seconds."""

    objective: float
    open_depots: tuple[int, ...]
    routes: tuple[LrpRoute, ...]
    opening_cost: float
    route_fixed_cost: float
    distance_cost: float
    seconds: float
    feasible: bool = True
    seed: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (0-based depot and customer indices in file order)."""
        return {
            "objective": self.objective,
            "feasible": self.feasible,
            "open_depots": list(self.open_depots),
            "routes": [{"depot": r.depot, "customers": list(r.customers)} for r in self.routes],
            "opening_cost": self.opening_cost,
            "route_fixed_cost": self.route_fixed_cost,
            "distance_cost": self.distance_cost,
            "n_routes": len(self.routes),
            "seconds": self.seconds,
            "seed": self.seed,
            **self.extra,
        }


# ---- shared context (built once, copied to the workers) ---------------------------------
@dataclass(frozen=True, slots=True)
class _Ctx:
    """Integer model: node d < m is depot d, node m + i is customer i."""

    m: int
    n: int
    cost: np.ndarray  # (m + n, m + n) int64
    demand: np.ndarray  # (n,) int64
    capacity: int  # vehicle
    depot_capacity: np.ndarray  # (m,) int64
    opening: np.ndarray  # (m,) int64
    route_cost: int


def _make_ctx(inst: LrpInstance) -> _Ctx:
    c = arc_costs(inst)
    scale = 1 if inst.integer_costs else _REAL_SCALE
    cost = np.asarray(c if inst.integer_costs else np.rint(c * scale), dtype=np.int64)
    loads = np.concatenate([inst.demand, inst.depot_capacity, [inst.vehicle_capacity]])
    if not np.all(loads == np.round(loads)):
        raise InfeasibleError(
            f"{inst.name}: demands and capacities must be integers for the solver; scale them"
        )
    return _Ctx(
        m=inst.n_depots,
        n=inst.n_customers,
        cost=cost,
        demand=np.asarray(inst.demand, dtype=np.int64),
        capacity=int(inst.vehicle_capacity),
        depot_capacity=np.asarray(inst.depot_capacity, dtype=np.int64),
        opening=np.asarray(np.rint(inst.opening_cost * scale), dtype=np.int64),
        route_cost=int(round(inst.route_cost * scale)),
    )


def _plan_cost(ctx: _Ctx, depots: Sequence[int], routes: Routes) -> int:
    """Integer objective of a plan (opening + route fixed + arcs)."""
    total = int(ctx.opening[list(depots)].sum()) + ctx.route_cost * len(routes)
    c, m = ctx.cost, ctx.m
    for d, custs in routes:
        prev = d
        for i in custs:
            total += int(c[prev, m + i])
            prev = m + i
        total += int(c[prev, d])
    return total


def _depot_loads(ctx: _Ctx, routes: Routes) -> dict[int, int]:
    loads: dict[int, int] = {}
    for d, custs in routes:
        loads[d] = loads.get(d, 0) + int(ctx.demand[list(custs)].sum())
    return loads


# ---- screening ---------------------------------------------------------------------------
def _estimate(ctx: _Ctx, depots: Sequence[int]) -> float:
    """Cheap cost estimate of opening ``depots``: opening costs + line-haul bound
    ``2 x cost x demand / Q`` + route fixed costs, over a regret assignment of customers
    to the nearest depot with spare capacity (split across depots when none has room, so
    the estimate exists whenever the capacity covers the demand)."""
    ds = np.asarray(depots, dtype=np.int64)
    cd = ctx.cost[np.ix_(ds, ctx.m + np.arange(ctx.n))].astype(np.float64)  # (k, n)
    spare = ctx.depot_capacity[ds].astype(np.float64)
    if spare.sum() < ctx.demand.sum():
        return math.inf
    if len(ds) == 1:
        regret = np.zeros(ctx.n)
    else:
        part = np.partition(cd, 1, axis=0)
        regret = part[1] - part[0]
    order = np.argsort(-regret * ctx.demand, kind="stable")
    load = np.zeros(len(ds))
    radial = 0.0
    for i in order:
        q = float(ctx.demand[i])
        near = np.argsort(cd[:, i], kind="stable")
        for k in near:
            if spare[k] >= q:
                spare[k] -= q
                load[k] += q
                radial += cd[k, i] * q
                break
        else:
            for k in near:
                part_q = min(q, spare[k])
                spare[k] -= part_q
                load[k] += part_q
                radial += cd[k, i] * part_q
                q -= part_q
    routes = int(np.ceil(load / ctx.capacity - 1e-9).sum())
    return (float(ctx.opening[ds].sum()) + ctx.route_cost * routes
            + 2.0 * radial / ctx.capacity)


def _feasible_sets(ctx: _Ctx) -> list[tuple[int, ...]]:
    """Every depot set whose capacity covers the demand (``2^m - 1`` sets looked at)."""
    total = int(ctx.demand.sum())
    out = []
    for k in range(1, ctx.m + 1):
        for s in itertools.combinations(range(ctx.m), k):
            if int(ctx.depot_capacity[list(s)].sum()) >= total:
                out.append(s)
    return out


def _covers(ctx: _Ctx, s: Sequence[int]) -> bool:
    return int(ctx.depot_capacity[list(s)].sum()) >= int(ctx.demand.sum())


def _screen(ctx: _Ctx, seconds: float) -> dict[tuple[int, ...], float]:
    """Estimated cost (:func:`_estimate`) of the depot sets worth evaluating.

    Up to ``MAX_ENUM_DEPOTS`` depots every set that covers the demand is estimated. Beyond
    (``2^m`` sets: a million at 20 depots, about 20 minutes of estimates) the sets are
    searched instead, within ``seconds``: a greedy drop from all depots (remove the depot
    whose removal lowers the estimate most, while the rest covers the demand), then a
    first-improvement local search (add, drop, swap one depot) from the best sets found.
    Every set met is returned with its estimate (inf where the capacity falls short).
    """
    if ctx.m <= MAX_ENUM_DEPOTS:
        return {s: _estimate(ctx, s) for s in _feasible_sets(ctx)}
    deadline = time.perf_counter() + seconds
    est: dict[tuple[int, ...], float] = {}

    def value(s: tuple[int, ...]) -> float:
        if s not in est:
            est[s] = _estimate(ctx, s) if _covers(ctx, s) else math.inf
        return est[s]

    cur = tuple(range(ctx.m))
    value(cur)
    while len(cur) > 1 and time.perf_counter() < deadline:
        drops = [tuple(d for d in cur if d != x) for x in cur]
        nxt = min(drops, key=lambda s: (value(s), s))
        if value(nxt) == math.inf or value(nxt) > value(cur):
            break
        cur = nxt
    starts = sorted((s for s in est if est[s] < math.inf), key=lambda s: (est[s], s))[:3]
    for start in starts:
        cur = start
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            for nb in _neighbours(cur, ctx.m):
                if time.perf_counter() >= deadline:
                    break
                if value(nb) < value(cur):
                    cur, improved = nb, True
                    break
    return est


# ---- multi-depot runs (executed in worker processes): optimizer.routing.multidepot ----


@dataclass(slots=True)
class _MRoute:
    """A mutable route used by the repairs."""

    depot: int
    custs: list[int]


def _repair(ctx: _Ctx, depots: tuple[int, ...], routes: Routes) -> Routes | None:
    """Move customers out of overloaded depots (least insertion cost first) until every
    open depot is within capacity; None if stuck."""
    c, m, q, cap = ctx.cost, ctx.m, ctx.demand, ctx.capacity
    rts = [_MRoute(d, list(cs)) for d, cs in routes]
    loads = {d: 0 for d in depots}
    for mr in rts:
        loads[mr.depot] += int(q[mr.custs].sum())
    for _ in range(ctx.n * 2):
        over = [d for d in depots if loads[d] > ctx.depot_capacity[d]]
        if not over:
            return [(mr.depot, tuple(mr.custs)) for mr in rts if mr.custs]
        best: tuple[float, int, int, int, int] | None = None  # delta, route, pos, to, to_pos
        rloads = [int(q[mr.custs].sum()) for mr in rts]
        for r, mr in enumerate(rts):
            d, cs = mr.depot, mr.custs
            if d not in over or not cs:
                continue
            for p, i in enumerate(cs):
                prev = d if p == 0 else m + cs[p - 1]
                nxt = d if p == len(cs) - 1 else m + cs[p + 1]
                save = int(c[prev, m + i] + c[m + i, nxt] - c[prev, nxt])
                if len(cs) == 1:
                    save = int(c[d, m + i] + c[m + i, d]) + ctx.route_cost
                for e in depots:
                    if e == d or loads[e] + q[i] > ctx.depot_capacity[e]:
                        continue
                    # new route from e
                    ins = int(c[e, m + i] + c[m + i, e]) + ctx.route_cost
                    cand: tuple[int, int, int, int, int] = (ins - save, r, p, e, -1)
                    for r2, mr2 in enumerate(rts):
                        d2, cs2 = mr2.depot, mr2.custs
                        if d2 != e or rloads[r2] + q[i] > cap or not cs2:
                            continue
                        seq = [e] + [m + x for x in cs2] + [e]
                        a = np.array(seq[:-1])
                        b = np.array(seq[1:])
                        deltas = c[a, m + i] + c[m + i, b] - c[a, b]
                        t = int(np.argmin(deltas))
                        if int(deltas[t]) - save < cand[0]:
                            cand = (int(deltas[t]) - save, r, p, r2, t)
                    # encode destination: (to depot e, route -1) or route index r2 >= 0
                    cand_full = (
                        float(cand[0]) / max(1, int(q[i])),
                        cand[1],
                        cand[2],
                        e if cand[4] == -1 else -2 - cand[3],
                        cand[4],
                    )
                    if best is None or cand_full < best:
                        best = cand_full
        if best is None:
            return None
        _, r, p, to, t = best
        d = rts[r].depot
        i = rts[r].custs.pop(p)
        loads[d] -= int(q[i])
        if to >= 0:
            rts.append(_MRoute(to, [i]))
            loads[to] += int(q[i])
        else:
            r2 = -2 - to
            rts[r2].custs.insert(t, i)
            loads[rts[r2].depot] += int(q[i])
        rts = [x for x in rts if x.custs]
    return None


def _gap_repair(
    ctx: _Ctx, depots: tuple[int, ...], routes: Routes, *, seconds: float
) -> Routes | None:
    """Depot-feasible plan from ``routes``: reassign customers to depots by a generalized
    assignment MIP (cost: cheapest insertion detour into the depot's current routes, or a
    new route), then move the reassigned customers by cheapest feasible insertion."""
    c, m, n, q = ctx.cost, ctx.m, ctx.n, ctx.demand
    k = len(depots)
    cur = np.full(n, -1)
    prev_n = np.zeros(n, dtype=np.int64)
    next_n = np.zeros(n, dtype=np.int64)
    edges: dict[int, list[tuple[int, int]]] = {d: [] for d in depots}
    for d, cs in routes:
        seq = [d] + [m + i for i in cs] + [d]
        edges[d].extend(zip(seq[:-1], seq[1:], strict=True))
        for p, i in enumerate(cs):
            cur[i] = d
            prev_n[i], next_n[i] = seq[p], seq[p + 2]
    if np.any(cur < 0):
        return None
    ci = m + np.arange(n)
    cost = np.empty((n, k))
    for j, d in enumerate(depots):
        new_route = c[d, ci] + c[ci, d] + ctx.route_cost * q / ctx.capacity
        best = new_route.astype(np.float64)
        if edges[d]:
            a = np.array([e[0] for e in edges[d]])
            b = np.array([e[1] for e in edges[d]])
            delta = (c[np.ix_(a, ci)] + c[np.ix_(ci, b)].T - c[a, b][:, None]).astype(float)
            delta[(a[:, None] == ci[None, :]) | (b[:, None] == ci[None, :])] = np.inf
            best = np.minimum(best, delta.min(axis=0))
        own = cur == d
        bridge = c[prev_n, ci] + c[ci, next_n] - c[prev_n, next_n]
        best[own] = np.minimum(best[own], bridge[own])
        cost[:, j] = best
    nv = n * k
    rows = np.repeat(np.arange(n), k)
    a_one = coo_matrix((np.ones(nv), (rows, np.arange(nv))), shape=(n, nv))
    a_cap = coo_matrix((np.repeat(q, k).astype(float),
                        (np.tile(np.arange(k), n), np.arange(nv))), shape=(k, nv))
    cap = ctx.depot_capacity[list(depots)].astype(float)
    res = solve_milp(
        cost.ravel(), sp_vstack([a_one, a_cap]).tocsr(),
        np.concatenate([np.ones(n), np.full(k, -np.inf)]), np.concatenate([np.ones(n), cap]),
        np.zeros(nv), np.ones(nv), np.ones(nv),
        time_limit_s=max(0.05, seconds), options=_MIP_OPTIONS,
    )
    if res.x is None:
        return None
    target = np.array(depots)[np.rint(res.x).reshape(n, k).argmax(axis=1)]
    rts = [_MRoute(d, [i for i in cs if target[i] == d]) for d, cs in routes]
    movers = sorted(np.flatnonzero(target != cur).tolist(), key=lambda i: (-int(q[i]), i))
    for i in movers:
        d = int(target[i])
        best_ins: tuple[int, int, int] | None = None  # delta, route, position
        for r, mr in enumerate(rts):
            d2, mcs = mr.depot, mr.custs
            if d2 != d or not mcs or int(q[mcs].sum()) + q[i] > ctx.capacity:
                continue
            nodes = np.array([d] + [m + x for x in mcs] + [d])
            dl = c[nodes[:-1], m + i] + c[m + i, nodes[1:]] - c[nodes[:-1], nodes[1:]]
            t = int(np.argmin(dl))
            if best_ins is None or int(dl[t]) < best_ins[0]:
                best_ins = (int(dl[t]), r, t)
        if best_ins is None or best_ins[0] > int(c[d, m + i] + c[m + i, d]) + ctx.route_cost:
            rts.append(_MRoute(d, [i]))
        else:
            rts[best_ins[1]].custs.insert(best_ins[2], i)
    return [(mr.depot, tuple(mr.custs)) for mr in rts if mr.custs]


# arguments of _solve_set: depots, seconds, seed, iterations, chunks, initial routes
_Task = tuple[tuple[int, ...], float, int, int | None, int, Routes | None]

# worker globals (set by the pool initializer, or directly when running inline)
_CTX: _Ctx | None = None


def _init_worker(ctx: _Ctx) -> None:
    global _CTX
    _CTX = ctx
    multidepot.preload()  # load the solver once per worker
    logging.getLogger("pyvrp").setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class _SetResult:
    depots: tuple[int, ...]
    cost: float  # math.inf when no feasible plan was found
    routes: Routes
    runs: int
    pool: frozenset[tuple[int, ...]] = frozenset()  # every route met (customer sequences)


def _solve_set(
    depots: tuple[int, ...],
    seconds: float,
    seed: int,
    iterations: int | None,
    chunks: int,
    init: Routes | None = None,
) -> _SetResult:
    """Route one depot set for ``seconds``: ``chunks`` Lagrangian PyVRP runs, each repaired
    to depot capacities and (after the first) polished with the assignment fixed."""
    ctx = _CTX
    assert ctx is not None
    t_end = time.perf_counter() + seconds
    lam = [0.0] * len(depots)
    # price step per unit of overload: the typical extra line-haul per unit of load of
    # serving a customer from its second-nearest open depot (2 x regret / Q)
    cd = ctx.cost[np.ix_(np.asarray(depots, dtype=np.int64), ctx.m + np.arange(ctx.n))]
    if len(depots) > 1:
        part = np.partition(cd, 1, axis=0)
        regret = float(np.median(part[1] - part[0]))
    else:
        regret = 0.0
    unit = 2.0 * regret / ctx.capacity
    best: tuple[float, Routes] = (math.inf, [])
    cur = init
    runs = 0
    pool: set[tuple[int, ...]] = set()
    for chunk in range(chunks):
        left = t_end - time.perf_counter()
        if left <= 0.02 and runs > 0:
            break
        share = left / (chunks - chunk)
        polish = chunk > 0 and best[0] < math.inf
        free_s = share * (0.6 if polish else 1.0)
        data = multidepot.build_data(ctx, depots, lam=lam if any(lam) else None)
        sol = multidepot.run(data, depots, seconds=free_s, seed=seed + chunk, iterations=iterations,
                         init=cur)
        runs += 1
        if sol is None:
            continue
        pool.update(cs for _, cs in sol)
        cur = sol
        loads = _depot_loads(ctx, sol)
        fixed = _repair(ctx, depots, sol)
        # subgradient step on the multipliers (kept >= 0)
        for j, d in enumerate(depots):
            excess = loads.get(d, 0) - int(ctx.depot_capacity[d])
            if excess > 0:
                lam[j] = lam[j] * 1.2 + unit * excess / max(1, int(ctx.depot_capacity[d]))
            elif lam[j] > 0 and excess < -int(ctx.demand.max()):
                lam[j] *= 0.7
        # the repairs' MIPs get 0.3-1 s, never more than the set has left (tight limits)
        gap = _gap_repair(ctx, depots, sol, seconds=_mip_s(share, t_end))
        for plan in (fixed, gap):
            if plan is not None:
                pool.update(cs for _, cs in plan)
                cost = _plan_cost(ctx, depots, plan)
                if cost < best[0]:
                    best = (cost, plan)
        # exact recombination of this worker's routes on the open depots
        sp = _set_partition(ctx, sorted(pool), seconds=_mip_s(share, t_end),
                            per_route=len(depots), allowed=depots)
        if sp is not None:
            spc = _plan_cost(ctx, depots, sp[2])
            if spc < best[0]:
                best = (spc, sp[2])
        if best[0] == math.inf:
            continue
        if polish or (chunk == chunks - 1 and fixed != sol):
            left = t_end - time.perf_counter()
            if left > 0.02:
                assign = {i: d for d, cs in best[1] for i in cs}
                pdata = multidepot.build_data(ctx, depots, assign=assign)
                pol = multidepot.run(pdata, depots, seconds=left if chunk == chunks - 1 else
                                 share * 0.4, seed=seed + 1000 + chunk, iterations=iterations,
                                 init=best[1])
                runs += 1
                if pol is not None:
                    pool.update(cs for _, cs in pol)
                if pol is not None and all(
                    load <= ctx.depot_capacity[d] for d, load in _depot_loads(ctx, pol).items()
                ):
                    pc = _plan_cost(ctx, depots, pol)
                    if pc < best[0]:
                        best = (pc, pol)
    return _SetResult(depots, best[0], best[1], runs, frozenset(pool))


def _mip_s(share: float, t_end: float) -> float:
    """Seconds for one of a set's repair MIPs: a tenth of the chunk's share within 0.3-1 s,
    but at most what is left before ``t_end`` (at least 0.05 s)."""
    return min(1.0, max(0.3, share * 0.1), max(0.05, t_end - time.perf_counter()))


# ---- route pool: set partitioning with depot choice -----------------------------------
def _route_at_depots(ctx: _Ctx, seq: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Cost (arcs only) of serving the cycle of ``seq`` from each candidate depot, with the
    depot inserted at its cheapest edge, and that edge's index per depot."""
    m, c = ctx.m, ctx.cost
    a = m + np.asarray(seq, dtype=np.int64)
    b = np.roll(a, -1)
    cyc = int(c[a, b].sum())
    delta = c[a][:, :m] + c[:m][:, b].T - c[a, b][:, None]  # (k, m)
    t = np.argmin(delta, axis=0)
    return cyc + delta[t, np.arange(m)], t


def _rotate(seq: tuple[int, ...], t: int) -> tuple[int, ...]:
    """The customer order when the depot sits between ``seq[t]`` and ``seq[t + 1]``."""
    return seq[t + 1 :] + seq[: t + 1]


def _set_partition(
    ctx: _Ctx,
    pool: Sequence[tuple[int, ...]],
    *,
    seconds: float,
    per_route: int = 3,
    allowed: Sequence[int] | None = None,
) -> tuple[int, tuple[int, ...], Routes] | None:
    """Best plan made of pool routes: choose depots to open and, for each customer, one
    route served from an open depot (each route priced at its ``per_route`` cheapest
    depots among ``allowed``, default all), within depot capacities. HiGHS MIP via scipy;
    None if nothing was found."""
    m, n = ctx.m, ctx.n
    if not pool:
        return None
    rows_cov: list[int] = []
    cols_cov: list[int] = []
    rows_cap: list[int] = []
    cols_cap: list[int] = []
    vals_cap: list[float] = []
    cost: list[float] = []
    var: list[tuple[int, int, int]] = []  # (route, depot, edge)
    for r, seq in enumerate(pool):
        dc, t = _route_at_depots(ctx, seq)
        if allowed is not None:
            mask = np.full(m, True)
            mask[list(allowed)] = False
            dc = np.where(mask, np.iinfo(np.int64).max // 4, dc)
        load = float(ctx.demand[list(seq)].sum())
        for j in np.argsort(dc, kind="stable")[:per_route]:
            if allowed is not None and mask[j]:
                continue
            if load > ctx.depot_capacity[j]:
                continue
            v = len(var)
            var.append((r, int(j), int(t[j])))
            cost.append(float(dc[j] + ctx.route_cost))
            rows_cov.extend(seq)
            cols_cov.extend([v] * len(seq))
            rows_cap.append(int(j))
            cols_cap.append(v)
            vals_cap.append(load)
    nx = len(var)
    for j in range(m):  # y_j: -W_j in its capacity row
        rows_cap.append(j)
        cols_cap.append(nx + j)
        vals_cap.append(-float(ctx.depot_capacity[j]))
    c = np.concatenate([np.array(cost), ctx.opening.astype(np.float64)])
    a_cov = coo_matrix((np.ones(len(rows_cov)), (rows_cov, cols_cov)), shape=(n, nx + m))
    a_cap = coo_matrix((vals_cap, (rows_cap, cols_cap)), shape=(m, nx + m))
    upper = np.ones(nx + m)
    if allowed is not None:
        upper[nx:] = 0
        upper[nx + np.asarray(list(allowed))] = 1
    res = solve_milp(
        c, sp_vstack([a_cov, a_cap]).tocsr(),
        np.concatenate([np.ones(n), np.full(m, -np.inf)]),
        np.concatenate([np.ones(n), np.zeros(m)]),
        np.zeros(nx + m), upper, np.ones(nx + m),
        time_limit_s=max(0.1, seconds), options=_MIP_OPTIONS,
    )
    if res.x is None:
        return None
    x = np.rint(res.x).astype(int)
    routes: Routes = []
    for v in np.flatnonzero(x[:nx]).tolist():
        vr, vj, vt = var[int(v)]
        routes.append((vj, _rotate(pool[vr], vt)))
    depots = tuple(j for j in range(m) if x[nx + j] and any(d == j for d, _ in routes))
    return _plan_cost(ctx, depots, routes), depots, routes


# ---- driver ------------------------------------------------------------------------------
def _neighbours(s: tuple[int, ...], m: int) -> list[tuple[int, ...]]:
    out: set[tuple[int, ...]] = set()
    ss = set(s)
    for d in range(m):
        if d in ss:
            if len(s) > 1:
                out.add(tuple(sorted(ss - {d})))
        else:
            out.add(tuple(sorted(ss | {d})))
            for e in s:
                out.add(tuple(sorted((ss - {e}) | {d})))
    return sorted(out)


def solve_lrp(
    inst: LrpInstance,
    *,
    time_limit_s: float,
    seed: int = 0,
    jobs: int = 2,
    max_iterations: int | None = None,
    rounds: int = 3,
) -> LrpSolution:
    """Solve a capacitated location-routing instance within about ``time_limit_s`` seconds.

    ``jobs``: worker processes (1 runs inline). ``max_iterations``: cap on each PyVRP run's
    iterations (deterministic results for a seed when the time limit does not bind).
    ``rounds``: intensification rounds, each followed by a set-partitioning recombination.
    Raises InfeasibleError if no depot set can serve the demand. The returned plan has been
    accepted by :func:`optimizer.lrp.verify.verify_lrp`.
    """
    if time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be > 0 (got {time_limit_s})")
    t0 = time.perf_counter()
    ctx = _make_ctx(inst)
    if not _covers(ctx, range(ctx.m)):
        raise InfeasibleError(
            f"{inst.name}: total depot capacity {int(ctx.depot_capacity.sum())} is below the "
            f"total demand {int(ctx.demand.sum())}"
        )
    est = _screen(ctx, 0.1 * time_limit_s)
    ranked = sorted((s for s in est if est[s] < math.inf), key=lambda s: (est[s], s))
    if not ranked:
        raise InfeasibleError(f"{inst.name}: no depot set admits a capacitated assignment")
    jobs = max(1, min(int(jobs), usable_cores()))
    n_first = min(len(ranked), max(2 * jobs, 6), MAX_EVALS)
    n_more = min(len(ranked), MAX_EVALS) - n_first
    n_eval = n_first + n_more
    sp_s = min(10.0, 0.04 * time_limit_s)  # per set-partitioning solve
    budget = time_limit_s - (time.perf_counter() - t0)
    eval_s = max(0.05, budget * SCREEN_SHARE * jobs / max(1, n_eval))
    eval_iters = None if max_iterations is None else max(1, max_iterations // 4)

    def left() -> float:
        return time_limit_s - (time.perf_counter() - t0)

    executor: Executor | None = None
    if jobs > 1:
        executor = process_pool(jobs, preload=("optimizer.lrp.solve",),
                                initializer=_init_worker, initargs=(ctx,))
    else:
        _init_worker(ctx)

    def run_many(tasks: list[_Task]) -> list[_SetResult]:
        if executor is None:
            return [_solve_set(*t) for t in tasks]
        futs: list[Future[_SetResult]] = [executor.submit(_solve_set, *t) for t in tasks]
        return [f.result() for f in futs]

    results: dict[tuple[int, ...], _SetResult] = {}
    pool: set[tuple[int, ...]] = set()
    best: tuple[float, tuple[int, ...], Routes] = (math.inf, (), [])
    n_sp = 0

    def absorb(rs: list[_SetResult]) -> None:
        nonlocal best
        for r in rs:
            pool.update(r.pool)
            if r.depots not in results or r.cost < results[r.depots].cost:
                results[r.depots] = r
            if r.cost < best[0]:
                best = (r.cost, r.depots, r.routes)

    def recombine(seconds: float) -> None:
        nonlocal best, n_sp
        if seconds <= 0.05:
            return
        sp = _set_partition(ctx, sorted(pool), seconds=seconds)
        n_sp += 1
        if sp is not None and sp[0] < best[0]:
            log.debug("set partitioning improved %.0f -> %.0f", best[0], sp[0])
            best = (float(sp[0]), sp[1], sp[2])

    def evaluate(sets: list[tuple[int, ...]]) -> None:
        # in waves of `jobs` sets; a new wave only while more than the intensification's
        # share of the limit is left (a set's run can outlast eval_s by its repair MIPs)
        for i in range(0, len(sets), jobs):
            if results and left() < (1.0 - SCREEN_SHARE) * time_limit_s:
                log.debug("screening stopped after %d sets (%.1f s left)", len(results), left())
                return
            absorb(run_many([(s, eval_s, seed, eval_iters, 2, None) for s in sets[i:i + jobs]]))

    try:
        evaluate(ranked[:n_first])
        # neighbourhood of the two best evaluated sets, best estimates first
        if n_more > 0:
            top = sorted(results.values(), key=lambda r: (r.cost, r.depots))[:2]
            for r in top:  # beyond MAX_ENUM_DEPOTS a neighbour may not be estimated yet
                for s in _neighbours(r.depots, ctx.m):
                    if s not in est:
                        est[s] = _estimate(ctx, s) if _covers(ctx, s) else math.inf
            cand = {s for r in top for s in _neighbours(r.depots, ctx.m)
                    if est[s] < math.inf and s not in results}
            more = sorted(cand, key=lambda s: (est[s], s))[:n_more]
            if more:
                evaluate(more)
        recombine(min(sp_s, left() * 0.1))
        if best[0] == math.inf:
            raise InfeasibleError(f"{inst.name}: no feasible plan found in {time_limit_s:g} s")
        # intensify around the incumbent; worker w > 0 takes the w-th best other set when
        # it is within 3% of the incumbent, else the incumbent's set with another seed
        for rnd in range(rounds):
            round_s = (left() - 0.1) / (rounds - rnd) - sp_s
            if round_s <= 0.1:
                break
            others = [r for r in sorted(results.values(), key=lambda r: (r.cost, r.depots))
                      if r.depots != best[1] and r.cost <= best[0] * 1.03]
            tasks: list[_Task] = []
            for w in range(jobs):
                if w == 0 or w > len(others):
                    tasks.append((best[1], round_s, seed + 7919 * (w + 1) + 31 * rnd,
                                  max_iterations, 3, best[2]))
                else:
                    o = others[w - 1]
                    tasks.append((o.depots, round_s, seed + 7919 * (w + 1) + 31 * rnd,
                                  max_iterations, 3, o.routes))
            absorb(run_many(tasks))
            recombine(min(sp_s, left() - 0.1))
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    routes = sorted(best[2], key=lambda dc: (dc[0], dc[1]))
    used = {d for d, _ in routes}
    # an open depot without routes only costs money: close it
    open_depots = tuple(d for d in sorted(best[1]) if d in used)
    cost = verify_lrp(inst, open_depots, routes)
    seconds = time.perf_counter() - t0
    log.info("%s: %d depot sets evaluated, pool %d routes, best %s cost %.1f in %.1f s",
             inst.name, len(results), len(pool), open_depots, cost.total, seconds)
    return LrpSolution(
        objective=cost.total,
        open_depots=open_depots,
        routes=tuple(LrpRoute(int(d), tuple(int(i) for i in cs)) for d, cs in routes),
        opening_cost=cost.opening,
        route_fixed_cost=cost.route_fixed,
        distance_cost=cost.distance,
        seconds=seconds,
        feasible=True,
        seed=seed,
        extra={"sets_evaluated": len(results), "sets_screened": len(est),
               "route_pool": len(pool), "set_partitioning_solves": n_sp},
    )


__all__ = ["LrpRoute", "LrpSolution", "solve_lrp"]
