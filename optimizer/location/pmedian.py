"""p-median: Lagrangian bound + fast interchange, then branch-and-bound or a radius MIP.

Method (why not the textbook assignment MIP: on OR-Library pmed11 it takes SCIP ~34 s and
pmed16 is not solved in 300 s):

1. Fast interchange (Whitaker 1983, best-improvement Teitz-Bart with nearest/second-nearest
   bookkeeping, vectorised) from a greedy start -> upper bound ``UB``.
2. Lagrangian relaxation of the assignment constraints, subgradient optimisation
   (Beasley 1993); every subproblem's open set is also polished by (1). Gives ``LB``
   (= LP bound at convergence). With integral data, ``ceil(LB) >= UB`` proves optimality.
3. Reduced-cost fixing with the best multipliers: a site whose forced opening pushes the
   Lagrangian bound above ``UB`` is closed; for each client, distances whose forced use pushes
   it above ``UB`` are cut off.
4. Lagrangian branch-and-bound on the sites (:mod:`optimizer.location._pmedian_bnb`:
   best-first, node fixing; on two cores the open nodes are split with a worker process).
5. If the tree search runs out of its time share (``BNB_SHARE``), the reduced problem is
   solved with the radius (covering) formulation of Garcia, Labbe & Marin (2011,
   INFORMS J. Comput. 23(4)) in chained form: per client ``i``
   and sorted distinct distance ``D_i^k``, ``u_ik`` = "client i has an open site within
   ``D_i^k``"; ``u_ik <= u_i,k-1 + sum_{j: d_ij = D_i^k} y_j``; objective
   ``sum_i w_i (D_i^K_i - sum_k (D_i^k+1 - D_i^k) u_ik)``. Its LP equals the classic LP but
   it has O(n * levels) rows instead of n^2.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from optimizer.errors import InfeasibleError, InstanceError
from optimizer.location._mip import (
    PROOF_OPTIONS,
    Backend,
    MipBuilder,
    MipSolution,
    usable_cores,
)
from optimizer.location._pmedian_bnb import branch_and_bound, evaluate
from optimizer.location._result import LocationResult, as_matrix, name_list, rel_gap

logger = logging.getLogger(__name__)

__all__ = ["p_median"]

#: share of the time left after the fixing that the Lagrangian branch-and-bound may use
#: (``BNB_SHARE_LARGE_P`` when ``p > BNB_SMALL_P``: with many sites to choose the tree grows
#: fast and the radius MIP, which gets the rest, tends to be quicker: on a pmed24-sized
#: instance, n=500, p=100, 15,000 nodes in 73 s left the bound where it was and the radius
#: MIP then took 0.1 s; total 81.7 s with 0.25, 20.0 s with 0.05). With p <= 20 the tree
#: gets all the time: it proves what the radius MIP cannot (on a pmed39-sized instance,
#: n=900, p=10, the MIP left the bound at the root's for 120 s, while the tree raised it
#: from 10,092 to 10,280), and HiGHS, given a short remainder, overran it (a 0.3 s budget
#: took 5 s on a pmed36-sized instance).
BNB_SHARE = 1.0
BNB_SHARE_LARGE_P = 0.05
BNB_SMALL_P = 20
#: Let the tree search use a second process where the machine gives this one 2+ cores.
PARALLEL_BNB = True


def p_median(
    cost: np.ndarray,
    p: int,
    *,
    weights: np.ndarray | None = None,
    time_limit_s: float,
    backend: Backend = "scipy-highs",
    client_names: list[str] | None = None,
) -> LocationResult:
    """Open ``p`` sites minimising the weighted distance of each client to its nearest site.

    Args:
        cost: (clients, sites) distance or travel time (any non-negative unit, ``inf`` = not
            reachable).
        p: number of sites to open.
        weights: (clients,) demand weights (e.g. orders/day); default 1.
        time_limit_s: wall-clock limit for the whole call (heuristic + MIP).
        backend: MIP backend of the exact phase: ``"scipy-highs"`` (default; HiGHS with the
            heuristic's value as cutoff: on a pmed38-sized instance (n=900, p=5) about
            2x faster than SCIP), ``"highs"`` or ``"scip"``.
        client_names: optional names used in infeasibility messages.

    Returns:
        ``LocationResult`` with ``assignment`` = nearest open site per client; objective in
        ``weights x cost`` units.
    """
    t0 = time.perf_counter()
    d = as_matrix(cost, "cost", allow_inf=True)
    n, m = d.shape
    if not 1 <= p <= m:
        raise InstanceError.at(None, "p", f"must be in 1..{m} (number of sites)", got=p)
    w = np.ones(n) if weights is None else as_matrix(weights, "weights", ndim=1)
    if w.shape != (n,):
        raise InstanceError.at(None, "weights", f"must have shape ({n},)", got=w.shape)
    unreachable = np.flatnonzero(~np.isfinite(d).any(axis=1) & (w > 0))
    if unreachable.size:
        raise InfeasibleError(
            f"{unreachable.size} client(s) cannot reach any site: "
            f"{name_list(unreachable, client_names)}"
        )
    c = d * w[:, None]
    c[np.isnan(c)] = 0.0  # 0 * inf for zero-weight clients
    fin = c[np.isfinite(c)]
    integral = bool(np.array_equal(fin, np.round(fin)))
    finite_max = float(np.max(c[np.isfinite(c)])) if np.isfinite(c).any() else 0.0
    big = (finite_max + 1.0) * (n + 1)
    cb = np.where(np.isfinite(c), c, big)

    # 1-2: heuristic upper bound and Lagrangian lower bound.
    deadline = t0 + time_limit_s
    best_open, ub = _greedy_interchange(cb, p)
    lam, lb, best_open, ub = _lagrangian(cb, p, best_open, ub, integral=integral,
                                         deadline=t0 + 0.4 * time_limit_s)
    if ub >= big:
        # The heuristic found no assignment within reach; let the MIP decide.
        ub = math.inf
    proven_lb = math.ceil(lb - 1e-7) if integral else lb
    logger.debug("p-median n=%d m=%d p=%d: UB=%s LB=%s", n, m, p, ub, lb)
    if ub < math.inf and proven_lb >= ub - 1e-9 * max(1.0, abs(ub)):
        return _result("optimal", ub, ub, best_open, d, t0,
                       "optimal: Lagrangian bound meets the interchange heuristic")

    # 3: reduced-cost fixing, 4: Lagrangian branch-and-bound, 5: exact radius MIP on what
    # is left if the tree search runs out of its time share.
    site_closed, site_open, max_pos = _fixing(cb, p, lam, lb, ub)
    remaining = deadline - time.perf_counter()
    if remaining <= 0.05:
        status = "feasible" if ub < math.inf else "time_limit_no_solution"
        return _result(status, ub, lb, best_open, d, t0, "time limit reached in the heuristic")
    if ub < math.inf and BNB_SHARE > 0:
        best_open, ub, bb_bound, finished, nodes = branch_and_bound(
            cb, p, lam, site_closed, site_open, best_open, ub, integral=integral,
            cores=usable_cores() if PARALLEL_BNB else 1,
            deadline=time.perf_counter()
            + (BNB_SHARE if p <= BNB_SMALL_P else BNB_SHARE_LARGE_P) * remaining)
        logger.debug("p-median branch-and-bound: %d nodes, UB=%s bound=%s, %s", nodes, ub,
                     bb_bound, "finished" if finished else "stopped")
        if finished:
            return _result("optimal", ub, ub, best_open, d, t0,
                           f"optimal: Lagrangian branch-and-bound ({nodes} nodes) after "
                           f"fixing {int(site_closed.sum())} of {m} sites")
        lb = max(lb, bb_bound)
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            return _result("feasible", ub, lb, best_open, d, t0,
                           f"time limit reached in the branch-and-bound ({nodes} nodes)")
    # only plans strictly better than the heuristic are sought (integral: by at least 1)
    cutoff = None if ub == math.inf else (ub - 0.5 if integral else ub)
    sol, y_idx = _radius_mip(c, p, site_closed, site_open, max_pos, best_open,
                             time_limit_s=remaining, backend=backend, cutoff=cutoff)
    if sol.status == "infeasible":
        if ub < math.inf:  # fixing proved nothing better than UB exists
            return _result("optimal", ub, ub, best_open, d, t0,
                           "optimal: the radius MIP finds nothing better than the heuristic")
        raise InfeasibleError(
            f"no set of p={p} sites reaches all {int((w > 0).sum())} weighted clients "
            f"(some clients reach fewer sites than needed)"
        )
    if not sol.has_solution:
        status = "feasible" if ub < math.inf else "time_limit_no_solution"
        mip_bound = sol.bound if math.isfinite(sol.bound) else lb
        return _result(status, ub, min(ub, max(lb, mip_bound)), best_open, d, t0, sol.message)
    opened = np.flatnonzero(sol.values[y_idx] > 0.5)
    obj = evaluate(c, opened)
    if obj <= ub:
        best_open, ub = opened, obj
    bound = max(lb, min(sol.bound, ub)) if math.isfinite(sol.bound) else lb
    if integral:
        bound = max(bound, math.ceil(bound - 1e-7))
    bound = min(bound, ub)
    status = "optimal" if sol.status == "optimal" or rel_gap(ub, bound) <= 1e-9 else "feasible"
    if status == "optimal":
        bound = max(bound, min(ub, sol.bound)) if math.isfinite(sol.bound) else bound
    return _result(status, ub, bound, best_open, d, t0,
                   f"{sol.status} radius MIP after Lagrangian fixing ({sol.message})")


def _result(status: str, obj: float, bound: float, opened: np.ndarray, d: np.ndarray,
            t0: float, message: str) -> LocationResult:
    opened = np.sort(np.asarray(opened, int))
    assign = opened[np.argmin(d[:, opened], axis=1)] if opened.size else np.full(d.shape[0], -1)
    return LocationResult(status=status, objective=float(obj), bound=float(bound),  # type: ignore[arg-type]
                          gap=rel_gap(obj, bound), open=tuple(int(j) for j in opened),
                          assignment=assign, seconds=time.perf_counter() - t0, message=message)


# --------------------------------------------------------------------------- heuristic


def _greedy_interchange(c: np.ndarray, p: int) -> tuple[np.ndarray, float]:
    """Greedy add, then fast interchange. Returns (open sites, cost)."""
    n, m = c.shape
    cur = np.full(n, np.inf)
    opened: list[int] = []
    for _ in range(p):
        gain = np.minimum(c, cur[:, None]).sum(axis=0)
        gain[opened] = np.inf
        j = int(np.argmin(gain))
        opened.append(j)
        cur = np.minimum(cur, c[:, j])
    return _interchange(c, np.array(opened))


def _interchange(c: np.ndarray, opened: np.ndarray) -> tuple[np.ndarray, float]:
    """Best-improvement swap local search (Whitaker's fast interchange, vectorised)."""
    n, m = c.shape
    opened = np.array(opened, dtype=np.int64)
    p = opened.size
    if p == m:
        return opened, evaluate(c, opened)
    rows = np.arange(n)
    while True:
        sub = c[:, opened]
        if p == 1:
            near = np.zeros(n, np.int64)
            d1 = sub[:, 0]
            d2 = np.full(n, np.inf)
        else:
            part = np.argpartition(sub, 1, axis=1)[:, :2]
            a, b = sub[rows, part[:, 0]], sub[rows, part[:, 1]]
            swap = b < a
            near = np.where(swap, part[:, 1], part[:, 0])
            d1 = np.minimum(a, b)
            d2 = np.maximum(a, b)
        gain_add = np.minimum(c - d1[:, None], 0.0).sum(axis=0)  # (m,)
        # extra cost when removing open site r and adding j, for clients whose nearest is r
        extra = np.minimum(c, d2[:, None]) - np.minimum(c, d1[:, None])  # (n, m)
        onehot = np.zeros((n, p))
        onehot[rows, near] = 1.0
        loss = onehot.T @ np.where(np.isfinite(extra), extra, 0.0)  # (p, m)
        delta = gain_add[None, :] + loss
        delta[:, opened] = np.inf
        r, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if delta[r, j] >= -1e-9 * max(1.0, float(d1.sum())):
            return np.sort(opened), float(d1.sum())
        opened[r] = j


# --------------------------------------------------------------------------- Lagrangian


def _lagrangian(c: np.ndarray, p: int, best_open: np.ndarray, ub: float, *, integral: bool,
                deadline: float, max_iter: int = 3000,
                max_polish: int = 30) -> tuple[np.ndarray, float, np.ndarray, float]:
    """Subgradient optimisation of the relaxation of ``sum_j x_ij = 1``.

    Returns (best multipliers, best bound, best open set, its cost).
    """
    n, m = c.shape
    srt = np.sort(c, axis=1)
    lam = srt[:, min(1, m - 1)].copy()  # second-nearest distance: a decent start
    best_lam, best_lb = lam.copy(), -math.inf
    theta, stall = 2.0, 0
    seen: set[bytes] = set()
    for it in range(max_iter):
        red = np.minimum(c - lam[:, None], 0.0)
        rho = red.sum(axis=0)
        s = np.argpartition(rho, p - 1)[:p] if p < m else np.arange(m)
        lb = float(lam.sum() + rho[s].sum())
        if lb > best_lb + 1e-12 * max(1.0, abs(lb)):
            best_lb, best_lam, stall = lb, lam.copy(), 0
        else:
            stall += 1
            if stall >= 30:
                theta, stall = theta / 2.0, 0
        key = np.sort(s).tobytes()
        if key not in seen and len(seen) < max_polish:
            raw = evaluate(c, s)
            if raw < ub - 1e-12:
                best_open, ub = np.sort(s), raw
            if it % 10 == 0 or raw < ub * 1.005:
                seen.add(key)
                cand, val = _interchange(c, s)
                if val < ub - 1e-12:
                    best_open, ub = cand, val
        if ub - best_lb <= 1e-9 * max(1.0, abs(ub)) or theta < 1e-5:
            break
        if integral and math.ceil(best_lb - 1e-7) >= ub:
            break
        if it % 20 == 0 and time.perf_counter() > deadline:
            break
        g = 1.0 - (c[:, s] < lam[:, None]).sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break  # the relaxed solution is feasible, hence optimal
        target = ub if math.isfinite(ub) else best_lb + abs(best_lb) * 0.1 + 1.0
        lam = lam + theta * (target - lb) / norm * g
    return best_lam, best_lb, best_open, ub


def _fixing(c: np.ndarray, p: int, lam: np.ndarray, lb: float, ub: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduced-cost fixing at multipliers ``lam`` (bound ``lb``) against ``ub``.

    Returns (site closed mask, site forced-open mask, per client the number of sites, in
    sorted order of distance, that may still serve it).
    """
    n, m = c.shape
    if not math.isfinite(ub):
        return np.zeros(m, bool), np.zeros(m, bool), np.full(n, m)
    tol = 1e-9 * max(1.0, abs(ub))
    red = np.minimum(c - lam[:, None], 0.0)
    rho = red.sum(axis=0)
    order = np.argsort(rho, kind="stable")
    in_s = np.zeros(m, bool)
    in_s[order[:p]] = True
    base = float(lam.sum() + rho[order[:p]].sum())
    rho_p = rho[order[p - 1]]
    rho_next = rho[order[p]] if p < m else math.inf
    closed = ~in_s & (base + rho - rho_p > ub + tol)
    forced = in_s & (base + rho_next - rho > ub + tol)
    # forcing client i onto site j: bound + max(0, c_ij - lam_i) (+ swap-in price if j not in S)
    force = base + np.maximum(c - lam[:, None], 0.0) + np.where(in_s, 0.0, rho - rho_p)[None, :]
    force[:, closed] = np.inf
    srt = np.argsort(c, axis=1, kind="stable")
    f_sorted = np.take_along_axis(force, srt, axis=1)
    suffix_min = np.minimum.accumulate(f_sorted[:, ::-1], axis=1)[:, ::-1]
    ok = suffix_min <= ub + tol  # position k still usable if some later one (incl.) is usable
    max_pos = ok.sum(axis=1)  # usable prefix length in sorted order
    return closed, forced, np.maximum(max_pos, 1)


# --------------------------------------------------------------------------- exact MIP


def _radius_mip(c: np.ndarray, p: int, closed: np.ndarray, forced: np.ndarray,
                max_pos: np.ndarray, hint_open: np.ndarray, *, time_limit_s: float,
                backend: Backend, cutoff: float | None = None
                ) -> tuple[MipSolution, np.ndarray]:
    """Radius formulation restricted by the fixing; returns (MipSolution, y indices).

    ``cutoff`` (HiGHS backends): seek only plans below it; SCIP gets the hint instead.
    """
    n, m = c.shape
    mb = MipBuilder()
    y = mb.add_vars(m, ub=np.where(closed, 0.0, 1.0), lb=np.where(forced, 1.0, 0.0),
                    integer=True)
    mb.add_row(y, 1.0, lb=p, ub=p)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    nrow = 0
    offset = 0.0
    open_mask = np.zeros(m, bool)
    open_mask[hint_open] = True
    hint_idx: list[int] = []
    hint_val: list[float] = []
    for i in range(n):
        ci = c[i]
        order = np.argsort(ci, kind="stable")
        order = order[~closed[order]]
        usable = order[np.isfinite(ci[order])]
        # max_pos counts positions in the full sorted order; keep sites within that distance
        limit = np.sort(ci)[min(int(max_pos[i]), m) - 1]
        usable = usable[ci[usable] <= limit]
        if usable.size == 0:
            # nothing can serve i in a solution better than the heuristic
            mb.add_row(np.array([], np.int64), 0.0, lb=1.0)
            continue
        dist = ci[usable]
        levels, start = np.unique(dist, return_index=True)
        stop = np.append(start[1:], usable.size)
        # Among any m - p + 1 unclosed... coverage is certain once
        # (#usable within level) >= (#candidate sites) - p + 1.
        n_cand = int((~closed).sum())
        sure = np.flatnonzero(stop >= n_cand - p + 1)
        k_max = int(sure[0]) if sure.size else levels.size - 1
        levels, start, stop = levels[: k_max + 1], start[: k_max + 1], stop[: k_max + 1]
        kk = levels.size
        offset += float(levels[-1])
        # the last kept level must be covered (either by certainty or by the fixing)
        u_lb = np.zeros(kk)
        u_lb[-1] = 1.0
        u = mb.add_vars(kk, lb=u_lb, ub=1.0, cost=-np.append(np.diff(levels), 0.0))
        covered_at = None
        for k in range(kk):
            sites = usable[start[k]: stop[k]]
            r_cols = [np.array([u[k]]), y[sites]]
            r_vals = [np.array([1.0]), -np.ones(sites.size)]
            if k > 0:
                r_cols.append(np.array([u[k - 1]]))
                r_vals.append(np.array([-1.0]))
            cc = np.concatenate(r_cols)
            rows.append(np.full(cc.size, nrow))
            cols.append(cc)
            vals.append(np.concatenate(r_vals))
            nrow += 1
            if covered_at is None and open_mask[sites].any():
                covered_at = k
        if covered_at is not None:
            hint_idx.extend(u.tolist())
            hint_val.extend([1.0 if k >= covered_at else 0.0 for k in range(kk)])
    if rows:
        mb.add_rows(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                    n_rows=nrow, ub=0.0)
    mb.objective_offset = offset
    mb.hint(y, open_mask.astype(float))
    if hint_idx:
        mb.hint(np.array(hint_idx), np.array(hint_val))
    logger.debug("radius MIP: %d vars, %d rows, %d sites closed, %d forced",
                 mb.num_vars, mb.num_rows, int(closed.sum()), int(forced.sum()))
    if backend == "scip":
        cutoff = None
    options = PROOF_OPTIONS if backend == "scipy-highs" and cutoff is not None else None
    return mb.solve(time_limit_s=time_limit_s, backend=backend, cutoff=cutoff,
                    options=options), y
