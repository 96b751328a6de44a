"""Uncapacitated and capacitated facility location (strong formulations, exact MIP).

Both use the "strong" linking ``x_ij <= y_j`` (the LP bound of the weak aggregated form is
far too loose for OR-Library cap*). Capacitated adds the aggregate cover cut
``sum_j capacity_j y_j >= total demand``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from optimizer.errors import InfeasibleError, InstanceError
from optimizer.location._mip import Backend, MipBuilder, MipSolution
from optimizer.location._result import (
    LocationResult,
    as_matrix,
    fmt_num,
    name_list,
    rel_gap,
)

__all__ = ["capacitated_fl", "uncapacitated_fl"]


def uncapacitated_fl(
    open_cost: np.ndarray,
    assign_cost: np.ndarray,
    *,
    time_limit_s: float,
    backend: Backend = "scip",
    client_names: list[str] | None = None,
) -> LocationResult:
    """Uncapacitated facility location: min fixed + assignment cost, each client to one site.

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
    client_names: list[str] | None = None,
) -> LocationResult:
    """Capacitated facility location (CFLP).

    Args:
        open_cost: (sites,) opening cost (yuan).
        capacity: (sites,) capacity in demand units (e.g. t/day).
        demand: (clients,) demand (same unit as capacity).
        unit_cost: (clients, sites) cost per unit of demand served (yuan per t); ``inf`` = not
            allowed. OR-Library files give the cost of the *whole* demand: use
            ``CapInstance.unit_cost``.
        single_source: every client served by exactly one site (else demand may be split).
        time_limit_s: solver wall-clock limit.

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
