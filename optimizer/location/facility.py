"""Uncapacitated and capacitated facility location (strong formulations, exact MIP).

Both use the "strong" linking ``x_ij <= y_j`` (the LP bound of the weak aggregated form is
far too loose for OR-Library cap*). Capacitated adds the aggregate cover cut
``sum_j capacity_j y_j >= total demand``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from typing import Literal

import numpy as np

from optimizer.errors import InfeasibleError, InstanceError
from optimizer.location import _cfl_lagrange as lag
from optimizer.location._mip import (
    PROOF_OPTIONS,
    Backend,
    MipBuilder,
    MipSolution,
    newest_engine,
)
from optimizer.location._result import (
    LocationResult,
    as_matrix,
    fmt_num,
    name_list,
    rel_gap,
)

__all__ = ["capacitated_fl", "uncapacitated_fl"]

logger = logging.getLogger(__name__)

#: ``method="auto"`` uses the Lagrangian decomposition from this many client-site pairs on.
LAGRANGE_MIN_PAIRS = 20_000


def uncapacitated_fl(
    open_cost: np.ndarray,
    assign_cost: np.ndarray,
    *,
    time_limit_s: float,
    backend: Backend = "scip",
    method: Literal["auto", "mip", "lagrangian"] = "auto",
    client_names: list[str] | None = None,
) -> LocationResult:
    """Uncapacitated facility location: min fixed + assignment cost, each client to one site.

    Methods: ``"mip"`` solves the strong formulation with ``backend``; ``"lagrangian"``
    solves it as a capacitated problem whose every site can hold all clients (the Lagrangian
    method of :func:`capacitated_fl`: bound, heuristic, fixing, reduced MIP), then sends each
    client to its cheapest open site. ``"auto"`` picks ``"lagrangian"`` from
    ``LAGRANGE_MIN_PAIRS`` client-site pairs on (two 100 x 1,000 capa-shaped instances:
    43.5 s and 13.1 s with SCIP, 9-10 s and 4-5 s this way).

    Args:
        open_cost: (sites,) cost of opening each site (yuan).
        assign_cost: (clients, sites) cost of serving the client's whole demand from the site
            (yuan); ``inf`` = not allowed.
        time_limit_s: solver wall-clock limit.

    Returns:
        ``LocationResult`` with ``assignment`` = site index per client.
    """
    t0 = time.perf_counter()
    f = as_matrix(open_cost, "open_cost", ndim=1)
    c = as_matrix(assign_cost, "assign_cost", allow_inf=True)
    n, m = c.shape
    if f.shape != (m,):
        raise InstanceError.at(None, "open_cost", f"must have shape ({m},)", got=f.shape)
    allowed = np.isfinite(c)
    _check_reachable(allowed, client_names)
    if method == "lagrangian" or (method == "auto" and n * m >= LAGRANGE_MIN_PAIRS):
        res = _cfl_lagrangian(f, np.full(m, float(n)), np.ones(n), np.where(allowed, c, 0.0),
                              allowed, t0=t0, time_limit_s=time_limit_s, backend=backend)
        if not res.open:
            return replace(res, assignment=None)
        sites = np.array(res.open)
        near = sites[np.argmin(np.where(allowed[:, sites], c[:, sites], np.inf), axis=1)]
        # the plan's own cost (the split flows of the relaxation cost the same, up to ties)
        obj = float(f[sites].sum() + c[np.arange(n), near].sum())
        return replace(res, objective=obj, gap=rel_gap(obj, res.bound), assignment=near,
                       seconds=time.perf_counter() - t0)
    mb = MipBuilder()
    y = mb.add_vars(m, ub=1.0, cost=f, integer=True)
    x = mb.add_vars((n, m), ub=np.where(allowed, 1.0, 0.0), cost=np.where(allowed, c, 0.0))
    _assign_rows(mb, x, allowed)
    _link_rows(mb, x, y, allowed)
    # With y integral, some optimal x is integral: keep x continuous (much faster).
    sol = mb.solve(time_limit_s=time_limit_s, backend=backend)
    return _fl_result(sol, x, y, None, t0, single=True, c=c)


def capacitated_fl(
    open_cost: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    unit_cost: np.ndarray,
    *,
    single_source: bool = False,
    time_limit_s: float,
    backend: Backend = "scip",
    method: Literal["auto", "mip", "lagrangian"] = "auto",
    client_names: list[str] | None = None,
) -> LocationResult:
    """Capacitated facility location (CFLP).

    Methods: ``"mip"`` solves the strong formulation directly with ``backend``.
    ``"lagrangian"`` (split demand, finite capacities; clients without demand are left out;
    else it falls back to ``"mip"``) is for large instances such as the 100 x 1,000 OR-Library
    capa/capb/capc size, where the strong LP alone takes the MIP solver close to a minute:
    Lagrangian relaxation of the demand rows (subgradient) gives the strong LP bound and
    multipliers; a Lagrangian heuristic plus drop/add local search (transportation LPs,
    scipy/HiGHS) gives an incumbent; reduced-cost tests close or open sites that cannot
    differ in any better plan and bound each flow ``x_ij``; a final MIP on the reduced
    problem (linking rows ``x_ij <= y_j`` only for free sites and pairs with negative
    reduced cost: they are valid cuts, the capacity rows already forbid flow to closed
    sites), with the incumbent as cutoff, proves optimality; on two cores its two branches
    on the free site the relaxation is least sure of run side by side (``SPLIT_MIP``; the
    merged answer does not depend on which finishes first). Both the relaxation and the
    MIPs know that at least ``min_open`` sites (the fewest whose capacities hold the total
    demand) must open: with equal capacities (capa/capb/capc) the LP rounds that count
    down and the Lagrangian bound is far weaker without it. ``"auto"`` picks
    ``"lagrangian"`` from ``LAGRANGE_MIN_PAIRS`` client-site pairs on.

    Args:
        open_cost: (sites,) opening cost (yuan).
        capacity: (sites,) capacity in demand units (e.g. t/day).
        demand: (clients,) demand (same unit as capacity).
        unit_cost: (clients, sites) cost per unit of demand served (yuan per t); ``inf`` = not
            allowed. OR-Library files give the cost of the *whole* demand: use
            ``CapInstance.unit_cost``.
        single_source: every client served by exactly one site (else demand may be split).
        time_limit_s: wall-clock limit for the whole call (s).
        backend: MIP backend (``"scip"`` or ``"highs"``); the final MIP of the
            ``"lagrangian"`` method uses ``REDUCED_MIP_BACKEND`` (HiGHS) unless that is set
            to ``None``. Note: with ortools 9.15 a HiGHS run stopped by the time
            limit returns no solution (the incumbent and Lagrangian bound are kept).
        method: ``"auto"``, ``"mip"`` or ``"lagrangian"`` (see above).

    Returns:
        ``LocationResult``; ``assignment`` is the (clients, sites) flow matrix (demand units)
        for split demand, or the site index per client for single sourcing.

    Raises:
        InfeasibleError: total demand above total capacity, a client reaching no site, a client
            larger than every reachable capacity (single source), or an infeasible MIP.
    """
    t0 = time.perf_counter()
    f = as_matrix(open_cost, "open_cost", ndim=1)
    s = as_matrix(capacity, "capacity", ndim=1, allow_inf=True)
    d = as_matrix(demand, "demand", ndim=1)
    uc = as_matrix(unit_cost, "unit_cost", allow_inf=True)
    n, m = uc.shape
    for name, arr, size in (("open_cost", f, m), ("capacity", s, m), ("demand", d, n)):
        if arr.shape != (size,):
            raise InstanceError.at(None, name, f"must have shape ({size},)", got=arr.shape)
    allowed = np.isfinite(uc) & (s[None, :] > 0)
    served = d > 0
    _check_reachable(allowed[served], client_names, idx=np.flatnonzero(served))
    total_d, total_s = float(d.sum()), float(s.sum())
    if total_d > total_s * (1 + 1e-12):
        raise InfeasibleError(
            f"total demand {fmt_num(total_d)} exceeds total capacity {fmt_num(total_s)}"
        )
    if single_source:
        reach_cap = np.where(allowed, s[None, :], 0.0).max(axis=1)
        too_big = np.flatnonzero(d > reach_cap)
        if too_big.size:
            i = int(too_big[0])
            raise InfeasibleError(
                f"{too_big.size} client(s) exceed every reachable capacity (single source): "
                f"{name_list(too_big, client_names)}; e.g. demand {fmt_num(d[i])} > largest "
                f"reachable capacity {fmt_num(reach_cap[i])}"
            )
    c = np.where(allowed, uc * d[:, None], 0.0)  # cost of the whole demand
    use_lagrange = method == "lagrangian" or (
        method == "auto" and n * m >= LAGRANGE_MIN_PAIRS)
    if use_lagrange and not single_source and np.isfinite(s).all() and served.any():
        if served.all():
            return _cfl_lagrangian(f, s, d, c, allowed, t0=t0, time_limit_s=time_limit_s,
                                   backend=backend)
        # clients without demand take no part; their rows of the flows are zero
        res = _cfl_lagrangian(f, s, d[served], c[served], allowed[served], t0=t0,
                              time_limit_s=time_limit_s, backend=backend)
        flows = None
        if res.assignment is not None:
            flows = np.zeros((n, m))
            flows[served] = res.assignment
        return replace(res, assignment=flows, seconds=time.perf_counter() - t0)
    mb = MipBuilder()
    y = mb.add_vars(m, ub=1.0, cost=f, integer=True)
    x = mb.add_vars((n, m), ub=np.where(allowed, 1.0, 0.0), cost=c, integer=single_source)
    _assign_rows(mb, x, allowed)
    # capacity: sum_i d_i x_ij - s_j y_j <= 0 (skip infinite capacities)
    finite = np.flatnonzero(np.isfinite(s))
    if finite.size:
        ii, jj = np.nonzero(allowed[:, finite])
        rows = np.concatenate([jj, np.arange(finite.size)])
        cols = np.concatenate([x[ii, finite[jj]], y[finite]])
        vals = np.concatenate([d[ii], -s[finite]])
        mb.add_rows(rows, cols, vals, n_rows=finite.size, ub=0.0)
        if np.isfinite(s).all() and total_d > 0:
            mb.add_row(y, s, lb=total_d)
            mb.add_row(y, 1.0, lb=float(lag.min_open(s, total_d)))
    _link_rows(mb, x, y, allowed & served[:, None])
    sol = mb.solve(time_limit_s=max(0.01, time_limit_s - (time.perf_counter() - t0)),
                   backend=backend)
    if sol.status == "infeasible":
        raise InfeasibleError(
            f"no {'single-source ' if single_source else ''}assignment of total demand "
            f"{fmt_num(total_d)} fits the capacities (total {fmt_num(total_s)}, "
            f"largest {fmt_num(float(s.max()))})"
        )
    return _fl_result(sol, x, y, d, t0, single=single_source, c=uc)


def _check_reachable(allowed: np.ndarray, names: list[str] | None,
                     idx: np.ndarray | None = None) -> None:
    bad = np.flatnonzero(~allowed.any(axis=1))
    if bad.size:
        if idx is not None:
            bad = idx[bad]
        raise InfeasibleError(
            f"{bad.size} client(s) can reach no site: {name_list(bad, names)}"
        )


def _assign_rows(mb: MipBuilder, x: np.ndarray, allowed: np.ndarray) -> None:
    """sum_j x_ij = 1 for every client."""
    ii, jj = np.nonzero(allowed)
    n = x.shape[0]
    mb.add_rows(ii, x[ii, jj], 1.0, n_rows=n, lb=1.0, ub=1.0)


def _link_rows(mb: MipBuilder, x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> None:
    """x_ij - y_j <= 0 where allowed."""
    ii, jj = np.nonzero(mask)
    k = ii.size
    r = np.arange(k)
    mb.add_rows(np.concatenate([r, r]), np.concatenate([x[ii, jj], y[jj]]),
                np.concatenate([np.ones(k), -np.ones(k)]), n_rows=k, ub=0.0)


def _fl_result(sol: MipSolution, x: np.ndarray, y: np.ndarray, d: np.ndarray | None,
               t0: float, *, single: bool, c: np.ndarray) -> LocationResult:
    if sol.status == "infeasible":  # pragma: no cover - callers raise first
        raise InfeasibleError("facility location model is infeasible")
    if not sol.has_solution:
        return LocationResult(status="time_limit_no_solution", objective=math.nan,
                              bound=sol.bound, gap=math.inf, open=(), assignment=None,
                              seconds=time.perf_counter() - t0, message=sol.message)
    yv = sol.values[y] > 0.5
    xv = np.clip(sol.values[x], 0.0, 1.0)
    if single:
        assignment = np.where(xv.max(axis=1) > 0, np.argmax(xv, axis=1), -1)
    else:
        assert d is not None
        assignment = xv * d[:, None]
    bound = sol.bound if math.isfinite(sol.bound) else -math.inf
    return LocationResult(
        status=sol.status,  # type: ignore[arg-type]
        objective=sol.objective, bound=bound, gap=rel_gap(sol.objective, bound),
        open=tuple(int(j) for j in np.flatnonzero(yv)), assignment=assignment,
        seconds=time.perf_counter() - t0, message=sol.message,
    )


def _cfl_lagrangian(f: np.ndarray, s: np.ndarray, d: np.ndarray, c: np.ndarray,
                    allowed: np.ndarray, *, t0: float, time_limit_s: float,
                    backend: Backend) -> LocationResult:
    """Split-demand CFLP by Lagrangian bound + heuristic + fixing + reduced exact MIP.

    ``c`` is the (n, m) cost of each client's whole demand (money); ``t0`` the
    ``time.perf_counter()`` start of the call (s); other arguments as in ``capacitated_fl``.
    Time split: subgradient up to 20 % of the limit, local search / kernel MIP / swaps up to
    40 %, the range of site counts a better plan can have (``count_range``, up to 10 %; a
    raised floor re-optimises the multipliers), probing up to 60 % (or until
    ``PROBE_MAX_FAILS`` probes in a row fix nothing), the rest to the MIP (SCIP gets the
    incumbent as a hint, HiGHS as an objective cutoff). With
    ``REDUCED_MIP_BACKEND == "highs"`` the reduced MIP goes through ``highspy``'s HiGHS
    (scipy's if that package is missing), without restarts, which keeps its incumbent and
    dual bound at the time limit (the bound reported is then the larger
    of the Lagrangian and the MIP bound). The solver stops ``max(MIP_MARGIN_S, 2 %)`` before
    the deadline so the call returns within ``time_limit_s``.
    """
    n, m = c.shape
    deadline = t0 + time_limit_s
    k_min = lag.min_open(s, float(d.sum()))
    st = lag.subgradient(c, d, s, f, allowed, deadline=t0 + 0.2 * time_limit_s, k_min=k_min)
    lb = st.lb
    ub, ub_mask, ub_x = st.ub, np.zeros(m, bool), st.flow
    ub_mask[st.open] = True
    # local search from the incumbent and from the sites the relaxation likes
    cf = np.where(allowed, c, float(c[allowed].max(initial=0.0)))
    sq = (cf * cf).sum(axis=0)
    site_dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (cf.T @ cf), 0.0))
    for start in (ub_mask, st.v < 0.5 * max(1e-9, ub - lb) if math.isfinite(ub) else st.v < 0):
        if time.perf_counter() > t0 + LS_SHARE * time_limit_s:
            break
        cost, mask, x = lag.local_search(c, d, s, f, allowed,
                                         lag.repair(st.v, s, float(d.sum()), start), st.v,
                                         deadline=t0 + LS_SHARE * time_limit_s,
                                         site_xy_cost=site_dist)
        if cost < ub:
            ub, ub_mask, ub_x = cost, mask, x
    kernel_s = KERNEL_SHARE * time_limit_s
    if time.perf_counter() + 0.5 * kernel_s < t0 + SWAP_SHARE * time_limit_s:
        n_open = max(1, int(ub_mask.sum()), k_min)
        n_kernel = max(KERNEL_MIN_SITES, math.ceil(KERNEL_OPEN_FACTOR * n_open),
                       min(KERNEL_SITES, math.ceil(KERNEL_FEW_FACTOR * n_open)))
        # each client may use about KERNEL_REACH of the sites a kernel plan opens
        n_pairs = max(KERNEL_MIN_PAIRS, math.ceil(KERNEL_REACH * n_kernel / n_open))
        cost, mask, x = lag.kernel_mip(c, d, s, f, allowed, st.lam, st.v, ub_mask,
                                       n_sites=n_kernel, n_pairs=n_pairs,
                                       time_limit_s=kernel_s,
                                       alt_pairs=KERNEL_ALT_PAIRS or None)
        logger.debug("CFLP kernel MIP (%d sites, %d per client): %.6f (%.1fs)", n_kernel,
                     n_pairs, cost, time.perf_counter() - t0)
        if cost < ub:
            ub, ub_mask, ub_x = cost, mask, x
    if math.isfinite(ub) and time.perf_counter() < t0 + SWAP_SHARE * time_limit_s:
        cost, mask, x = lag.swap_search(c, d, s, f, allowed, ub_mask,
                                        deadline=t0 + SWAP_SHARE * time_limit_s)
        if cost < ub:
            ub, ub_mask, ub_x = cost, mask, x
    logger.debug("CFLP lagrangian: n=%d m=%d it=%d LB=%.6f UB=%.6f (%.1fs)", n, m,
                 st.iterations, lb, ub, time.perf_counter() - t0)
    tol = 1e-9 * max(1.0, abs(ub))
    if math.isfinite(ub) and lb >= ub - 1e-7 * max(1.0, abs(ub)):
        return _flows_result("optimal", ub, lb, ub_mask, ub_x, d, t0,
                             "optimal: Lagrangian bound meets the heuristic")
    v, lam = st.v, st.lam
    # every plan cheaper than fix_floor respects the fixing (probing fixes up to a 1e-7 share)
    fix_floor = ub
    # site counts a better plan can have; a higher floor re-optimises the relaxation
    k_max: int | None = None
    if math.isfinite(ub):
        lo, hi = lag.count_range(c, d, s, f, allowed, lam, k_min=k_min, ub=ub,
                                 deadline=time.perf_counter() + COUNT_SHARE * time_limit_s,
                                 hi_from=int(ub_mask.sum()))
        logger.debug("CFLP site count in [%d, %d] (floor %d) (%.1fs)", lo, hi, k_min,
                     time.perf_counter() - t0)
        if lo > k_min or hi < m:
            fix_floor = ub * (1 - 1e-7)
        k_max = hi if hi < m else None
        if lo > k_min:
            k_min = lo
            lb_k, lam_k, _ = lag.fixed_bound(c, d, s, f, allowed, lam, closed=np.zeros(m, bool),
                                             forced=np.zeros(m, bool), target=ub,
                                             max_iter=300, k_min=k_min, k_max=k_max)
            lam = lam_k
            v, _ = lag.site_values(c, d, s, f, lam, allowed)
            # plans with fewer sites cost at least fix_floor
            lb = max(lb, min(lb_k, fix_floor))
    # the relaxation at lam (site floor k_min only) and the exact bound change when a site
    # is flipped against its choice: the reduced-cost tests and flow bounds below use these
    want = lag.choose_open(v, k_min)
    assert want is not None  # k_min <= m
    lb_lam = float(lam.sum() + v[want].sum())
    delta = lag.flip_deltas(v, want, k_min)
    if math.isfinite(ub):
        closed = ~want & (lb_lam + delta > ub + tol)
        forced = want & (lb_lam + delta > ub + tol)
    else:
        closed = forced = np.zeros(m, bool)
    if math.isfinite(ub) and PROBE_SHARE > 0:
        pr = lag.probe_sites(c, d, s, f, allowed, lam, v, closed=closed, forced=forced,
                             ub=ub, ub_open=ub_mask, ub_flow=ub_x,
                             deadline=t0 + PROBE_SHARE * time_limit_s,
                             max_fails=PROBE_MAX_FAILS, k_min=k_min, k_max=k_max)
        n_before = int(closed.sum() + forced.sum())
        closed, forced, fix_floor = pr.closed, pr.forced, min(fix_floor, pr.threshold)
        if pr.ub < ub:
            ub, ub_mask, ub_x = pr.ub, pr.open, pr.flow
            tol = 1e-9 * max(1.0, abs(ub))
            closed = closed | (~want & (lb_lam + delta > ub + tol))
            forced = forced | (want & (lb_lam + delta > ub + tol))
        logger.debug("CFLP probing: %d probes, %d -> %d sites fixed, UB=%.6f (%.1fs)",
                     pr.probes, n_before, int(closed.sum() + forced.sum()), ub,
                     time.perf_counter() - t0)
    keep = np.flatnonzero(~closed)
    free = ~closed & ~forced
    red = np.where(allowed, c - lam[:, None], np.inf)
    gap = ub - lb if math.isfinite(ub) else math.inf
    link = allowed & free[None, :] & (red <= LINK_GAP_SHARE * gap)
    logger.debug("CFLP fixing: %d closed, %d forced open, %d free; %d linking rows",
                 int(closed.sum()), int(forced.sum()), int(free.sum()), int(link.sum()))

    ok = allowed[:, keep]
    ii, kk = np.nonzero(ok)
    # x_ij = t costs at least LB + t (c_ij - lam_i + mu_j d_i) + (cost of opening j if the
    # relaxation keeps it shut): bound t
    xub = np.ones(ii.size)
    if math.isfinite(ub):
        mu = lag.capacity_prices(c, d, s, lam, allowed)
        jk = keep[kk]
        rise = red[ii, jk] + mu[jk] * d[ii]
        room = ub - lb_lam - np.where(want[jk], 0.0, delta[jk]) + tol
        pos = rise > 0
        xub[pos] = np.clip(room[pos] / rise[pos], 0.0, 1.0)
        if ub_x is not None:  # never cut off the incumbent through rounding
            xub = np.maximum(xub, ub_x[ii, jk])
    sel = np.flatnonzero(link[ii, keep[kk]])
    remaining = deadline - time.perf_counter()
    # leave room for building the model and the result after the solver stops
    mip_s = remaining - max(MIP_MARGIN_S, 0.02 * time_limit_s)
    if mip_s <= 0.05:
        return _flows_result("feasible" if math.isfinite(ub) else "time_limit_no_solution",
                             ub, lb, ub_mask, ub_x, d, t0, "time limit reached in the heuristic")
    cutoff = ub if math.isfinite(ub) else None
    mb = MipBuilder()
    yk = mb.add_vars(keep.size, lb=forced[keep].astype(float), ub=1.0, cost=f[keep],
                     integer=True)
    xk = mb.add_vars(ii.size, ub=xub, cost=c[ii, keep[kk]])
    mb.add_rows(ii, xk, 1.0, n_rows=n, lb=1.0, ub=1.0)
    mb.add_rows(np.concatenate([kk, np.arange(keep.size)]), np.concatenate([xk, yk]),
                np.concatenate([d[ii], -s[keep]]), n_rows=keep.size, ub=0.0)
    mb.add_row(yk, s[keep], lb=float(d.sum()))
    mb.add_row(yk, 1.0, lb=float(k_min), ub=float(k_max) if k_max is not None else math.inf)
    r = np.arange(sel.size)
    mb.add_rows(np.concatenate([r, r]), np.concatenate([xk[sel], yk[kk[sel]]]),
                np.concatenate([np.ones(sel.size), -np.ones(sel.size)]),
                n_rows=sel.size, ub=0.0)
    if REDUCED_MIP_BACKEND == "highs":  # through scipy: keeps incumbent and bound at the limit
        # two cores: branch on the free site the relaxation is least sure of, both sides at once
        free_keep = np.flatnonzero(free[keep])
        split_on = (int(yk[free_keep[np.argmin(delta[keep[free_keep]])]])
                    if SPLIT_MIP and free_keep.size >= 2 else None)
        engine = newest_engine()
        sol = mb.solve(time_limit_s=mip_s, backend="scipy-highs", cutoff=cutoff,
                       log=_LOG_MIP, split_on=split_on, engine=engine,
                       options={**REDUCED_MIP_OPTIONS,
                                **(REDUCED_MIP_HIGHSPY_OPTIONS if engine == "highspy" else {})})
    else:
        if ub_x is not None:
            mb.hint(yk, ub_mask[keep].astype(float))
            mb.hint(xk, ub_x[ii, keep[kk]])
        sol = mb.solve(time_limit_s=mip_s, backend=REDUCED_MIP_BACKEND or backend,
                       cutoff=cutoff, log=_LOG_MIP)
    logger.debug("CFLP reduced MIP: %s obj=%s bound=%s (%.1fs)", sol.status, sol.objective,
                 sol.bound, time.perf_counter() - t0)
    if sol.status == "infeasible":
        if math.isfinite(ub):  # nothing strictly better than the incumbent
            return _flows_result("optimal", ub, max(lb, min(ub, fix_floor)), ub_mask, ub_x,
                                 d, t0,
                                 "optimal: reduced MIP finds nothing better than the "
                                 "Lagrangian heuristic")
        raise InfeasibleError(
            f"no split assignment of total demand {fmt_num(float(d.sum()))} fits the "
            f"capacities (total {fmt_num(float(s.sum()))})")
    mip_bound = sol.bound if math.isfinite(sol.bound) else -math.inf
    bound = max(lb, min(ub, mip_bound, fix_floor))
    if sol.has_solution and sol.objective < ub:
        mask = np.zeros(m, bool)
        mask[keep] = sol.values[yk] > 0.5
        x = np.zeros((n, m))
        x[ii, keep[kk]] = np.clip(sol.values[xk], 0.0, 1.0)
        ub, ub_mask, ub_x = sol.objective, mask, x
    status = "optimal" if (sol.status == "optimal"
                           or rel_gap(ub, bound) <= 1e-6) else "feasible"
    if not math.isfinite(ub):
        status = "time_limit_no_solution"
    if status == "optimal":
        bound = max(bound, min(ub, mip_bound, fix_floor))
    return _flows_result(status, ub, bound, ub_mask, ub_x, d, t0,  # type: ignore[arg-type]
                         sol.message + f" (reduced MIP: {keep.size} sites, "
                         f"{int(forced.sum())} forced open)")


_LOG_MIP = False  # solver log of the reduced MIP (debugging)

#: linking rows are kept for pairs whose reduced cost is below this share of UB - LB.
LINK_GAP_SHARE = 0.0
#: time kept back after the reduced MIP (building/reading the model), at least (s).
MIP_MARGIN_S = 0.5
#: the kernel MIP keeps max(KERNEL_MIN_SITES, ceil(KERNEL_OPEN_FACTOR * open sites of the
#: incumbent)) sites ...
KERNEL_MIN_SITES = 12
KERNEL_OPEN_FACTOR = 1.6
#: ... and at least min(KERNEL_SITES, ceil(KERNEL_FEW_FACTOR * open sites)): a roomy kernel
#: when a dozen sites open, a tight one (12-13 sites) when five do (capa-like instances).
KERNEL_SITES = 30
KERNEL_FEW_FACTOR = 2.5
#: each client may use its KERNEL_MIN_PAIRS, or ceil(KERNEL_REACH * kernel sites / open
#: sites) if more, kernel sites of smallest reduced cost (few, full sites need more).
KERNEL_MIN_PAIRS = 6
KERNEL_REACH = 3.0
#: on two cores a second kernel MIP with this many pairs per client runs alongside (0: none;
#: the two branches of one site instead).
KERNEL_ALT_PAIRS = 5
#: time limit of the kernel (restricted) MIP heuristic as a share of the time limit.
KERNEL_SHARE = 0.15
#: drop/add/swap local search runs until this share of the time limit.
LS_SHARE = 0.05
#: backend of the reduced MIP (``None``: the caller's ``backend``). HiGHS's cuts close the
#: gap of the 100 x 1,000 CST instances far faster than SCIP here; "highs" is solved through
#: ``highspy`` (else scipy's ``milp``; incumbent and bound survive the time limit), not
#: OR-Tools.
REDUCED_MIP_BACKEND: Backend | None = "highs"
#: extra HiGHS options of the reduced MIP (scipy backend): the incumbent is the cutoff, and
#: branching trusts pseudo-costs from the first observation (strong branching took two thirds
#: of the LP iterations: 100 x 1,000 capa-shaped c5000-s1 24.7 s -> 16.9 s, CST r5-s0 53.6 s
#: -> 38.3 s).
REDUCED_MIP_OPTIONS: dict[str, object] = {**PROOF_OPTIONS, "mip_pscost_minreliable": 0}
#: HiGHS options for the reduced MIP when it runs on the ``highspy`` package (a newer HiGHS
#: than scipy's): no restarts. Each restart re-solves the root LP from scratch; on a
#: capa-shaped branch (c5750-s2, y_15 = 0, optimum as cutoff) 29.8 s -> 16.6 s, on the
#: whole CST r5-s1 reduced MIP (one thread) 63.4 s -> 39.1 s.
REDUCED_MIP_HIGHSPY_OPTIONS: dict[str, object] = {"mip_allow_restart": False}
#: on two cores, solve the reduced MIP's two branches of one site side by side.
SPLIT_MIP = True
#: dual-guided swap search runs until this share of the time limit.
SWAP_SHARE = 0.4
#: time for bounding the number of open sites (:func:`count_range`), share of the limit.
COUNT_SHARE = 0.1
#: probing stops after this many probes in a row that fix no site.
PROBE_MAX_FAILS = 12
#: probing (site fixing by re-optimised Lagrangian bounds) runs until this share.
PROBE_SHARE = 0.6


def _flows_result(status: str, objective: float, bound: float, mask: np.ndarray,
                  x: np.ndarray | None, d: np.ndarray, t0: float, message: str
                  ) -> LocationResult:
    return LocationResult(
        status=status,  # type: ignore[arg-type]
        objective=objective, bound=bound, gap=rel_gap(objective, bound),
        open=tuple(int(j) for j in np.flatnonzero(mask)),
        assignment=None if x is None else x * d[:, None],
        seconds=time.perf_counter() - t0, message=message,
    )
