"""Covering models for village pickup points: LSCP, MCLP and their road-closure robust forms.

A cover matrix is boolean ``(clients, sites)``: ``cover[i, j]`` is true when site ``j`` is
within the service standard of client ``i`` (e.g. travel time <= 30 min on the road graph).
Robust variants take one cover matrix per road-closure scenario.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Literal

import numpy as np

from optimizer.errors import InfeasibleError, InstanceError
from optimizer.location._mip import Backend, MipBuilder, MipSolution
from optimizer.location._result import (
    LocationResult,
    as_bool_matrix,
    as_matrix,
    fmt_num,
    name_list,
    rel_gap,
)

__all__ = ["max_cover", "robust_max_cover", "robust_set_cover", "set_cover"]


def set_cover(
    cover: np.ndarray,
    *,
    site_cost: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    backend: Backend = "scip",
    client_names: list[str] | None = None,
) -> LocationResult:
    """Location set covering (LSCP, Toregas 1971): cheapest sites covering every client.

    Args:
        cover: (clients, sites) bool, site within the standard of the client.
        site_cost: (sites,) cost of each site (yuan); default 1 = minimise the number of sites.
        time_limit_s: solver wall-clock limit.

    Raises:
        InfeasibleError: naming the clients no site covers.
    """
    return robust_set_cover([cover], site_cost=site_cost, time_limit_s=time_limit_s,
                            backend=backend, client_names=client_names)


def robust_set_cover(
    covers: Sequence[np.ndarray],
    *,
    site_cost: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    backend: Backend = "scip",
    client_names: list[str] | None = None,
) -> LocationResult:
    """LSCP that must cover every client in every scenario (one cover matrix per scenario)."""
    t0 = time.perf_counter()
    mats = _stack(covers)
    s_count, n, m = mats.shape
    cost = _site_cost(site_cost, m)
    for s, mat in enumerate(mats):
        bad = np.flatnonzero(~mat.any(axis=1))
        if bad.size:
            where = f" in scenario {s}" if s_count > 1 else ""
            raise InfeasibleError(
                f"{bad.size} of {n} client(s) are covered by no site{where}: "
                f"{name_list(bad, client_names)}"
            )
    rows_mask = np.unique(mats.reshape(s_count * n, m), axis=0)  # each requirement once
    mb = MipBuilder()
    y = mb.add_vars(m, ub=1.0, cost=cost, integer=True)
    rr, jj = np.nonzero(rows_mask)
    mb.add_rows(rr, y[jj], 1.0, n_rows=rows_mask.shape[0], lb=1.0)
    sol = mb.solve(time_limit_s=time_limit_s, backend=backend)
    return _cover_result(sol, y, mats, t0)


def max_cover(
    cover: np.ndarray,
    weights: np.ndarray,
    *,
    p: int | None = None,
    budget: float | None = None,
    site_cost: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    backend: Backend = "scip",
) -> LocationResult:
    """Maximal covering (MCLP, Church & ReVelle 1974): max covered weight with p sites or a budget.

    Args:
        cover: (clients, sites) bool.
        weights: (clients,) weight of each client (households, orders/day, kg/day).
        p: number of sites to open (at most p).
        budget: spend limit on ``site_cost`` (yuan); give ``p`` or ``budget`` (or both).
        site_cost: (sites,) cost used by ``budget`` (default 1).

    Returns:
        ``LocationResult`` maximising: ``objective`` = covered weight, ``bound`` = proven upper
        bound, ``covered`` = bool per client, ``assignment`` = a covering open site or -1.
    """
    return robust_max_cover([cover], weights, p=p, budget=budget, site_cost=site_cost,
                            time_limit_s=time_limit_s, backend=backend)


def robust_max_cover(
    covers: Sequence[np.ndarray],
    weights: np.ndarray,
    *,
    p: int | None = None,
    budget: float | None = None,
    site_cost: np.ndarray | None = None,
    objective: Literal["worst", "expected"] = "worst",
    probabilities: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    backend: Backend = "scip",
) -> LocationResult:
    """MCLP over road-closure scenarios: one site set, coverage evaluated per scenario.

    ``objective="worst"`` maximises the covered weight of the worst scenario (max-min);
    ``"expected"`` maximises the probability-weighted covered weight. ``covered`` is
    (scenarios, clients) when more than one scenario is given.
    """
    t0 = time.perf_counter()
    mats = _stack(covers)
    s_count, n, m = mats.shape
    w = as_matrix(weights, "weights", ndim=1)
    if w.shape != (n,):
        raise InstanceError.at(None, "weights", f"must have shape ({n},)", got=w.shape)
    if p is None and budget is None:
        raise InstanceError.at(None, "p/budget", "give p (number of sites) or budget")
    if p is not None and not 0 <= p <= m:
        raise InstanceError.at(None, "p", f"must be in 0..{m}", got=p)
    if budget is not None and (not math.isfinite(budget) or budget < 0):
        raise InstanceError.at(None, "budget", "must be finite and >= 0", got=budget)
    cost = _site_cost(site_cost, m)
    if objective not in ("worst", "expected"):
        raise InstanceError.at(None, "objective", "must be 'worst' or 'expected'", got=objective)
    if probabilities is None:
        prob = np.full(s_count, 1.0 / s_count)
    else:
        prob = as_matrix(probabilities, "probabilities", ndim=1)
        if prob.shape != (s_count,) or abs(prob.sum() - 1.0) > 1e-9:
            raise InstanceError.at(None, "probabilities",
                                   f"must be {s_count} values summing to 1", got=prob.tolist())
    mb = MipBuilder(maximize=True)
    y = mb.add_vars(m, ub=1.0, integer=True)
    worst = objective == "worst" and s_count > 1
    zcost = np.zeros((s_count, n)) if worst else prob[:, None] * w[None, :]
    z = mb.add_vars((s_count, n), ub=1.0, cost=zcost)
    # z_si - sum_{j covers i in s} y_j <= 0
    ss, ii, jj = np.nonzero(mats)
    row_of = ss * n + ii
    k = s_count * n
    mb.add_rows(np.concatenate([np.arange(k), row_of]),
                np.concatenate([z.ravel(), y[jj]]),
                np.concatenate([np.ones(k), -np.ones(row_of.size)]), n_rows=k, ub=0.0)
    if p is not None:
        mb.add_row(y, 1.0, ub=p)
    if budget is not None:
        mb.add_row(y, cost, ub=budget)
    if worst:
        t = mb.add_vars(1, ub=float(w.sum()), cost=1.0)
        # t - sum_i w_i z_si <= 0 for every scenario
        rows = np.concatenate([np.arange(s_count), np.repeat(np.arange(s_count), n)])
        cols = np.concatenate([np.repeat(t, s_count), z.ravel()])
        vals = np.concatenate([np.ones(s_count), -np.tile(w, s_count)])
        mb.add_rows(rows, cols, vals, n_rows=s_count, ub=0.0)
    sol = mb.solve(time_limit_s=time_limit_s, backend=backend)
    res = _cover_result(sol, y, mats, t0, maximise=True)
    return res


def _stack(covers: Sequence[np.ndarray]) -> np.ndarray:
    if len(covers) == 0:
        raise InstanceError.at(None, "covers", "need at least one cover matrix")
    mats = [as_bool_matrix(c, f"covers[{k}]") for k, c in enumerate(covers)]
    if any(mt.shape != mats[0].shape for mt in mats):
        raise InstanceError.at(None, "covers", "all cover matrices must have the same shape",
                               got=[mt.shape for mt in mats])
    return np.stack(mats)


def _site_cost(site_cost: np.ndarray | None, m: int) -> np.ndarray:
    if site_cost is None:
        return np.ones(m)
    c = as_matrix(site_cost, "site_cost", ndim=1)
    if c.shape != (m,):
        raise InstanceError.at(None, "site_cost", f"must have shape ({m},)", got=c.shape)
    return c


def _cover_result(sol: MipSolution, y: np.ndarray, mats: np.ndarray, t0: float, *,
                  maximise: bool = False) -> LocationResult:
    if sol.status == "infeasible":
        raise InfeasibleError("covering model is infeasible")  # pragma: no cover
    if not sol.has_solution:
        return LocationResult(status="time_limit_no_solution", objective=math.nan,
                              bound=sol.bound, gap=math.inf, open=(), assignment=None,
                              seconds=time.perf_counter() - t0, message=sol.message)
    opened = np.flatnonzero(sol.values[y] > 0.5)
    sub = mats[:, :, opened]  # (S, n, k)
    covered: np.ndarray = np.asarray(sub.any(axis=2), dtype=bool)
    first = np.where(covered[0], opened[np.argmax(sub[0], axis=1)] if opened.size else -1, -1)
    obj = sol.objective
    msg = sol.message if not maximise else f"{sol.message}; covered weight {fmt_num(obj)}"
    return LocationResult(
        status=sol.status,  # type: ignore[arg-type]
        objective=obj, bound=sol.bound, gap=rel_gap(obj, sol.bound),
        open=tuple(int(j) for j in opened), assignment=first,
        covered=covered[0] if mats.shape[0] == 1 else covered,
        seconds=time.perf_counter() - t0, message=msg,
    )
