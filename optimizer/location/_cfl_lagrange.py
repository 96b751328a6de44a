"""Lagrangian machinery for the split-demand capacitated facility location problem (CFLP).

Used by :func:`optimizer.location.facility.capacitated_fl` on large instances (e.g. the
100 x 1,000 OR-Library capa/capb/capc size) where the strong LP with ``n*m`` linking rows
``x_ij <= y_j`` is too slow for a direct MIP. Pure numpy/scipy; no OR-Tools here.

Notation (all costs in the caller's money unit, e.g. yuan): ``c[i, j]`` cost of serving the
*whole* demand of client ``i`` from site ``j``; ``d[i]`` demand and ``s[j]`` capacity in the
same demand unit (e.g. t/day); ``f[j]`` opening cost; ``x[i, j]`` fraction of ``d[i]`` served
by ``j``.

Relaxing ``sum_j x_ij = 1`` with multipliers ``lam`` leaves one continuous knapsack per site:
``v_j(lam) = f_j + min { sum_i (c_ij - lam_i) x_ij : sum_i d_i x_ij <= s_j, 0 <= x <= 1 }``
and ``L(lam) = sum_i lam_i + sum_j min(0, v_j)``. Its maximum equals the strong LP bound.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

from optimizer.location._mip import solve_milp, usable_cores

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LagrangeState:
    """Best multipliers found and what they prove.

    Attributes:
        lam: (n,) multipliers (money per client).
        lb: ``L(lam)``, a lower bound on the optimum (money).
        v: (m,) site values ``v_j(lam)`` (money): opening ``j`` changes the bound by ``v_j``.
        ub: cost of the best feasible plan found (money), ``inf`` if none.
        open: sites open in that plan (ascending indices).
        flow: (n, m) its fractions ``x_ij``, or ``None``.
        iterations: subgradient iterations run.
    """

    lam: np.ndarray
    lb: float
    v: np.ndarray
    ub: float
    open: np.ndarray
    flow: np.ndarray | None
    iterations: int


def min_open(s: np.ndarray, total_d: float) -> int:
    """Fewest sites whose capacities can hold ``total_d``: every feasible plan opens at least
    this many (``sum_j y_j >= K`` is a valid cut; with equal capacities it is the integer
    rounding of the aggregate capacity row, which the LP relaxation misses). 0 if no demand."""
    if total_d <= 0:
        return 0
    cum = np.cumsum(np.sort(np.asarray(s, float))[::-1])
    k = int(np.searchsorted(cum, total_d * (1 - 1e-9)))  # first k with cum[k] >= total_d
    return min(k + 1, int(np.asarray(s).size))


def choose_open(v: np.ndarray, k_min: int = 0, closed: np.ndarray | None = None,
                forced: np.ndarray | None = None, k_max: int | None = None
                ) -> np.ndarray | None:
    """Lagrangian site choice: minimise ``sum_j v_j y_j`` subject to
    ``k_min <= sum_j y_j <= k_max`` and the fixings: the ``forced`` sites, every other site
    with ``v_j < 0`` (the cheapest, if more than ``k_max`` in all), then the cheapest of the
    rest up to ``k_min`` sites. ``None`` if no choice respects the fixing and the counts."""
    m = v.size
    cl = np.zeros(m, bool) if closed is None else closed
    fo = np.zeros(m, bool) if forced is None else forced
    if (fo & cl).any():
        return None
    y = (fo | (v < 0)) & ~cl
    if k_max is not None and int(y.sum()) > k_max:
        room = k_max - int(fo.sum())
        if room < 0:
            return None
        extra = np.flatnonzero(y & ~fo)
        y = fo.copy()
        y[extra[np.argsort(v[extra], kind="stable")[:room]]] = True
    short = k_min - int(y.sum())
    if short > 0:
        rest = np.flatnonzero(~y & ~cl)
        if rest.size < short:
            return None
        y[rest[np.argsort(v[rest], kind="stable")[:short]]] = True
    return y


def flip_deltas(v: np.ndarray, y: np.ndarray, k_min: int = 0) -> np.ndarray:
    """(m,) exact change of the Lagrangian bound (at fixed multipliers, money) when a site is
    flipped against the choice ``y = choose_open(v, k_min)``: opening an unchosen site may
    drop the dearest site kept only to reach ``k_min``; shutting a chosen one may need the
    cheapest unchosen site instead. ``inf`` where the flip is impossible. All >= 0."""
    out = np.zeros(v.size)
    count = int(y.sum())
    fillers = y & (v >= 0)
    drop = float(v[fillers].max()) if count == k_min and fillers.any() else 0.0
    out[~y] = v[~y] - drop
    if count > k_min:
        out[y] = -v[y]
    else:
        rest = v[~y]
        out[y] = (float(rest.min()) - v[y]) if rest.size else math.inf
    return np.maximum(out, 0.0)


def site_values(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                lam: np.ndarray, allowed: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Solve every site's continuous knapsack at ``lam``.

    Only pairs with negative reduced cost ``c_ij - lam_i`` enter a knapsack; they are
    sorted by reduced cost per demand unit within each site (one ``lexsort``).

    Returns ``(v, x)``: (m,) values ``v_j`` and the (n, m) knapsack fractions (for an open
    site; the caller ignores the columns of sites it keeps closed).
    """
    n, m = c.shape
    red = c - lam[:, None]
    ii, jj = np.nonzero((red < 0) & allowed)
    x = np.zeros((n, m))
    v = f.astype(float).copy()
    if ii.size == 0:
        return v, x
    rv = red[ii, jj]
    order = np.lexsort((rv / d[ii], jj))
    ii, jj, rv = ii[order], jj[order], rv[order]
    w = d[ii]
    cs = np.cumsum(w)
    first = np.r_[True, jj[1:] != jj[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(ii.size), 0))
    before = cs - w - (cs[group_start] - w[group_start])
    frac = np.clip((s[jj] - before) / w, 0.0, 1.0)
    x[ii, jj] = frac
    v += np.bincount(jj, weights=rv * frac, minlength=m)
    return v, x


def capacity_prices(c: np.ndarray, d: np.ndarray, s: np.ndarray, lam: np.ndarray,
                    allowed: np.ndarray) -> np.ndarray:
    """(m,) knapsack capacity prices ``mu_j >= 0`` (money per demand unit) at ``lam``:
    minus the reduced cost per unit of the first item that does not fit whole (0 if the
    knapsack is not full). ``c_ij - lam_i + mu_j d_i`` is then a lower bound on the rise of
    site ``j``'s knapsack value per unit of ``x_ij`` forced in."""
    n, m = c.shape
    red = c - lam[:, None]
    ii, jj = np.nonzero((red < 0) & allowed)
    mu = np.zeros(m)
    if ii.size == 0:
        return mu
    ratio = red[ii, jj] / d[ii]
    order = np.lexsort((ratio, jj))
    ii, jj, ratio = ii[order], jj[order], ratio[order]
    w = d[ii]
    cs = np.cumsum(w)
    first = np.r_[True, jj[1:] != jj[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(ii.size), 0))
    upto = cs - (cs[group_start] - w[group_start])  # capacity used including this item
    crit = upto > s[jj] * (1 + 1e-12)
    # first critical item per site
    k = np.flatnonzero(crit)
    if k.size:
        js, first_k = np.unique(jj[k], return_index=True)
        mu[js] = -ratio[k[first_k]]
    return mu


def transport(c: np.ndarray, d: np.ndarray, s: np.ndarray, allowed: np.ndarray,
              open_sites: np.ndarray, *, nearest: int | None = None,
              duals: np.ndarray | None = None) -> tuple[float, np.ndarray | None]:
    """Cheapest split assignment to the ``open_sites`` (transportation LP, HiGHS).

    ``nearest`` restricts each client to its that many cheapest open sites (a heuristic
    shortcut: the LP is then an upper bound; ``inf`` if that restriction is infeasible).
    ``duals``: optional (n,) array that receives the client prices ``u_i`` (money per
    client, the LP duals of the assignment rows) when the LP is solved.

    Returns ``(cost, x)`` with ``x`` the (n, m) fractions; ``(inf, None)`` if infeasible.
    The cost excludes opening costs.
    """
    n, m = c.shape
    k = open_sites.size
    if k == 0:
        return math.inf, None
    sub = allowed[:, open_sites]
    if nearest is not None and nearest < k:
        cs = np.where(sub, c[:, open_sites], np.inf)
        kth = np.partition(cs, nearest - 1, axis=1)[:, nearest - 1]
        sub = sub & (cs <= kth[:, None])
    ii, kk = np.nonzero(sub)
    if np.unique(ii).size < n:
        return math.inf, None
    nv = ii.size
    cols = np.arange(nv)
    a_eq = coo_matrix((np.ones(nv), (ii, cols)), shape=(n, nv)).tocsr()
    a_ub = coo_matrix((d[ii], (kk, cols)), shape=(k, nv)).tocsr()
    res = linprog(c[ii, open_sites[kk]], A_ub=a_ub, b_ub=s[open_sites], A_eq=a_eq,
                  b_eq=np.ones(n), bounds=(0.0, 1.0), method="highs")
    if res.status != 0:
        return math.inf, None
    x = np.zeros((n, m))
    x[ii, open_sites[kk]] = np.clip(res.x, 0.0, 1.0)
    if duals is not None:
        duals[:] = res.eqlin.marginals
    return float(res.fun), x


def repair(v: np.ndarray, s: np.ndarray, total_d: float,
            open_mask: np.ndarray) -> np.ndarray:
    """Add the cheapest closed sites (by ``v_j`` per capacity) until capacity covers demand."""
    out = open_mask.copy()
    short = total_d - float(s[out].sum())
    if short <= 0:
        return out
    closed = np.flatnonzero(~out)
    key = np.maximum(v[closed], 0.0) / np.maximum(s[closed], 1e-12)
    for j in closed[np.argsort(key, kind="stable")]:
        out[j] = True
        short -= s[j]
        if short <= 0:
            break
    return out


def evaluate_open(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                  allowed: np.ndarray, open_mask: np.ndarray, *, nearest: int | None = 12
                  ) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Cost of opening ``open_mask`` (transport LP), then drop sites left without flow.

    ``nearest``: see :func:`transport` (falls back to the full LP when infeasible).

    Returns ``(cost, open_mask, x)``; ``cost = inf`` if infeasible.
    """
    sites = np.flatnonzero(open_mask)
    tc, x = transport(c, d, s, allowed, sites, nearest=nearest)
    if x is None and nearest is not None:
        tc, x = transport(c, d, s, allowed, sites)
    if x is None:
        return math.inf, open_mask, None
    used = x.sum(axis=0) > 1e-9
    mask = open_mask & used
    return tc + float(f[mask].sum()), mask, x


def subgradient(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                allowed: np.ndarray, *, deadline: float, max_iter: int = 1500,
                heuristic_every: int = 50, max_heuristics: int = 10,
                target_share: float = 0.05, k_min: int = 0) -> LagrangeState:
    """Maximise ``L(lam)`` by subgradient steps (Held-Wolfe-Crowder, step halving on stalls)
    with a Lagrangian heuristic (open the relaxed sites, repair capacity, transport LP).

    Args:
        c, d, s, f, allowed: see the module docstring; ``allowed`` (n, m) bool.
        deadline: ``time.perf_counter()`` value after which to stop (s).
        max_iter: subgradient iteration cap.
        heuristic_every: run the heuristic every this many iterations.
        max_heuristics: cap on transport-LP solves.
        target_share: Polyak step target ``min(UB, best LB * (1 + target_share))``.
        k_min: at least this many sites open in the relaxation (:func:`min_open`).
    """
    n, m = c.shape
    total_d = float(d.sum())
    cm = np.where(allowed, c, np.inf)
    # start: cheapest cost plus the site's opening cost spread over a full load
    lam = np.min(cm + f[None, :] * d[:, None] / np.maximum(s[None, :], 1e-12), axis=1)
    lam = np.where(np.isfinite(lam), lam, 0.0)
    best = (lam.copy(), -math.inf, np.zeros(m))
    ub, ub_open, ub_x = math.inf, np.zeros(0, np.int64), None
    theta, stall, n_heur = 2.0, 0, 0
    seen: set[bytes] = set()
    it = 0
    for it in range(1, max_iter + 1):
        v, x = site_values(c, d, s, f, lam, allowed)
        is_open = choose_open(v, k_min)
        assert is_open is not None  # k_min <= m
        lb = float(lam.sum() + v[is_open].sum())
        improved = lb > best[1] + 1e-12 * max(1.0, abs(lb))
        if improved:
            best, stall = (lam.copy(), lb, v.copy()), 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2.0, 0
        if n_heur < max_heuristics and it % heuristic_every == 0:
            mask = repair(v, s, total_d, is_open)
            key = mask.tobytes()
            if key not in seen:
                seen.add(key)
                n_heur += 1
                cost, used, hx = evaluate_open(c, d, s, f, allowed, mask)
                if cost < ub:
                    ub, ub_open, ub_x = cost, np.flatnonzero(used), hx
        if it % 50 == 0:
            logger.debug("subgradient it=%d lb=%.4f best=%.4f ub=%.4f theta=%.2e heur=%d",
                         it, lb, best[1], ub, theta, n_heur)
        if (math.isfinite(ub) and ub - best[1] <= 1e-9 * max(1.0, abs(ub))) or theta < 1e-4:
            break
        if time.perf_counter() > deadline:
            break
        g = 1.0 - x[:, is_open].sum(axis=1)
        norm = float(g @ g)
        if norm <= 1e-18:
            break  # relaxed solution satisfies the relaxed rows: L = LP optimum here
        target = min(ub, best[1] + target_share * abs(best[1]) + 1.0)
        lam = lam + theta * max(target - lb, 1e-9 * abs(target)) / norm * g
    return LagrangeState(lam=best[0], lb=best[1], v=best[2], ub=ub, open=ub_open, flow=ub_x,
                         iterations=it)


def local_search(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                 allowed: np.ndarray, open_mask: np.ndarray, order_key: np.ndarray, *,
                 deadline: float, max_evals: int = 200,
                 site_xy_cost: np.ndarray | None = None, swap_width: int = 3
                 ) -> tuple[float, np.ndarray, np.ndarray | None]:
    """First-improvement drop / add / swap search over open sets (transport LP per move).

    Args:
        open_mask: (m,) starting open set.
        order_key: (m,) attractiveness of each site (lower first), e.g. ``v_j(lam)``.
        deadline: ``time.perf_counter()`` value after which to stop (s).
        max_evals: cap on transport-LP solves.
        site_xy_cost: (m, m) dissimilarity of sites (e.g. distance between their cost
            columns); enables swap moves to the ``swap_width`` most similar closed sites.

    Returns ``(cost, open_mask, x)`` of the best plan (``inf`` if none found).
    """
    total_d = float(d.sum())
    best, mask, bx = evaluate_open(c, d, s, f, allowed, open_mask)
    evals = 1

    def out_of_budget() -> bool:
        return evals >= max_evals or time.perf_counter() > deadline

    def accept(trial: np.ndarray) -> bool:
        """Evaluate the open set ``trial`` (if it has the capacity); keep it if better."""
        nonlocal best, mask, bx, evals
        if float(s[trial].sum()) < total_d:
            return False
        cost, used, x = evaluate_open(c, d, s, f, allowed, trial)
        evals += 1
        if cost < best - 1e-9 * max(1.0, abs(best)):
            best, mask, bx = cost, used, x
            return True
        return False

    improved = True
    while improved and evals < max_evals and time.perf_counter() < deadline:
        improved = False
        # drop: least-loaded open sites first
        load = (bx * d[:, None]).sum(axis=0) if bx is not None else np.zeros(c.shape[1])
        for j in np.flatnonzero(mask)[np.argsort(load[mask] / np.maximum(f[mask], 1e-9))]:
            if out_of_budget():
                break
            trial = mask.copy()
            trial[j] = False
            if accept(trial):
                improved = True
                break
        if improved:
            continue
        # swap: close an open site, open one of the closed sites nearest to it
        if site_xy_cost is not None:
            for j in np.flatnonzero(mask)[np.argsort(load[mask] / np.maximum(f[mask], 1e-9))]:
                if improved or out_of_budget():
                    break
                closed = np.flatnonzero(~mask)
                near = closed[np.argsort(site_xy_cost[j, closed], kind="stable")][:swap_width]
                for k in near:
                    if out_of_budget():
                        break
                    trial = mask.copy()
                    trial[j], trial[k] = False, True
                    if accept(trial):
                        improved = True
                        break
        if improved:
            continue
        # add: most attractive closed sites first
        closed = np.flatnonzero(~mask)
        for j in closed[np.argsort(order_key[closed], kind="stable")][:15]:
            if out_of_budget():
                break
            trial = mask.copy()
            trial[j] = True
            if accept(trial):
                improved = True
                break
    return best, mask, bx


def fixed_bound(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                allowed: np.ndarray, lam: np.ndarray, *, closed: np.ndarray,
                forced: np.ndarray, target: float, max_iter: int = 60,
                theta: float = 1.0, patience: int = 5, k_min: int = 0,
                k_max: int | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Lagrangian bound with some sites fixed, warm-started at ``lam`` (a few subgradient steps).

    With ``closed`` sites kept shut and ``forced`` sites open, ``L(lam) = sum_i lam_i +
    sum_{j forced} v_j + sum_{j free, v_j < 0} v_j`` is a lower bound (money) on every plan
    respecting the fixing (with ``k_min``/``k_max``: the cheapest choice of between
    ``k_min`` and ``k_max`` sites, :func:`choose_open`; ``inf`` if none). Polyak steps towards
    ``target`` (e.g. the incumbent cost); stops as soon as the bound reaches it, after
    ``max_iter`` steps, or when the step factor (halved after ``patience`` steps without
    progress) falls below 1e-3. Deterministic.

    Returns ``(lb, lam, y)``: the best bound, its multipliers and its (m,) open sites.
    """
    m = c.shape[1]
    best_lb, best_lam, best_y = -math.inf, lam, np.zeros(m, bool)
    stall = 0
    for _ in range(max_iter):
        v, x = site_values(c, d, s, f, lam, allowed)
        yk = choose_open(v, k_min, closed, forced, k_max)
        if yk is None:
            return math.inf, lam, np.zeros(m, bool)
        y = yk
        lb = float(lam.sum() + v[y].sum())
        if lb > best_lb + 1e-9 * max(1.0, abs(lb)):
            best_lb, best_lam, best_y, stall = lb, lam, y, 0
        else:
            stall += 1
            if stall >= patience:
                theta, stall = theta / 2.0, 0
        if best_lb >= target or theta < 1e-3:
            break
        g = 1.0 - x[:, y].sum(axis=1)
        norm = float(g @ g)
        if norm <= 1e-18:
            break
        lam = lam + theta * max(target - lb, 1e-9 * abs(target)) / norm * g
    return best_lb, best_lam, best_y


def count_range(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                allowed: np.ndarray, lam: np.ndarray, *, k_min: int, ub: float,
                deadline: float, rel_tol: float = 1e-7, max_iter: int = 120,
                max_steps: int = 12, hi_from: int = 0, hi_steps: int = 4
                ) -> tuple[int, int]:
    """Site counts ``(lo, hi)`` that a plan cheaper than ``ub * (1 - rel_tol)`` can have.

    Raises ``lo`` from ``k_min`` while the Lagrangian bound with exactly ``lo`` sites open
    reaches the threshold (at most ``max_steps`` times), then tries ``hi = max(lo, hi_from)``
    (e.g. the incumbent's count) and up to ``hi_steps`` larger values, keeping the first
    whose bound with at least ``hi + 1`` sites reaches it (:func:`fixed_bound` warm-started
    at ``lam``; until ``deadline``). With few, nearly full sites (capa)
    this pins the count to one or two values. ``hi`` is ``m`` when nothing is proven.
    """
    m = c.shape[1]
    thr = ub * (1 - rel_tol)
    none = np.zeros(m, bool)
    lo, hi = k_min, m
    if not math.isfinite(ub):
        return lo, hi

    def reaches(k1: int, k2: int | None) -> bool:
        lb, _, _ = fixed_bound(c, d, s, f, allowed, lam, closed=none, forced=none,
                               target=thr, max_iter=max_iter, k_min=k1, k_max=k2)
        return lb >= thr

    for _ in range(max_steps):
        if lo >= m or time.perf_counter() > deadline or not reaches(lo, lo):
            break
        lo += 1
    k = max(lo, hi_from)
    for _ in range(hi_steps):
        if k >= m or time.perf_counter() > deadline:
            break
        if reaches(k + 1, None):
            hi = k
            break
        k += 1
    return lo, hi


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of :func:`probe_sites`.

    Attributes:
        closed: (m,) sites proven shut in every plan cheaper than ``ub``.
        forced: (m,) sites proven open in every plan cheaper than ``ub``.
        ub: best plan cost found (money; the given one if nothing better).
        open: (m,) its open sites.
        flow: its (n, m) fractions (``None`` if no plan known).
        threshold: the fixing used ``bound >= threshold`` (money); every plan cheaper than
            ``threshold`` respects the fixing.
        probes: number of probes run.
    """

    closed: np.ndarray
    forced: np.ndarray
    ub: float
    open: np.ndarray
    flow: np.ndarray | None
    threshold: float
    probes: int


def probe_sites(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                allowed: np.ndarray, lam: np.ndarray, v: np.ndarray, *,
                closed: np.ndarray, forced: np.ndarray, ub: float,
                ub_open: np.ndarray, ub_flow: np.ndarray | None, deadline: float,
                max_iter: int = 60, rel_tol: float = 1e-7,
                max_fails: int | None = None, k_min: int = 0,
                k_max: int | None = None) -> ProbeResult:
    """Probing on the free sites: for each, fix it the other way than the relaxation wants
    (open if :func:`choose_open` leaves it shut, else shut), re-optimise the Lagrangian a little
    (:func:`fixed_bound`); if the bound reaches ``ub * (1 - rel_tol)`` the site is fixed the
    relaxation's way. Each probe's relaxed plan is repaired and priced (transport LP) as a
    heuristic; a better plan lowers ``ub`` for the following probes.

    Sites are probed by decreasing :func:`flip_deltas` (likeliest fixings first); stops at
    ``deadline`` (``time.perf_counter()`` value, s), or after ``max_fails`` probes in a row
    that fix nothing (later probes have smaller ``|v_j|`` and rarely succeed then; the
    time goes to the exact MIP instead). Deterministic apart from the deadline.
    """
    closed, forced = closed.copy(), forced.copy()
    total_d = float(d.sum())
    seen: set[bytes] = set()
    free = np.flatnonzero(~closed & ~forced)
    want = choose_open(v, k_min)
    assert want is not None  # k_min <= m
    delta = flip_deltas(v, want, k_min)
    order = free[np.argsort(-delta[free], kind="stable")]
    thr = ub * (1 - rel_tol) if math.isfinite(ub) else math.inf
    probes = 0
    fixed_at: list[int] = []
    for j in order:
        if time.perf_counter() > deadline or not math.isfinite(ub):
            break
        if max_fails is not None and probes - (fixed_at[-1] if fixed_at else 0) >= max_fails:
            break
        cl, fo = closed.copy(), forced.copy()
        if not want[j]:
            fo[j] = True
        else:
            cl[j] = True
        lb, _, y = fixed_bound(c, d, s, f, allowed, lam, closed=cl, forced=fo,
                               target=ub * (1 - rel_tol), max_iter=max_iter, k_min=k_min,
                               k_max=k_max)
        probes += 1
        if lb >= ub * (1 - rel_tol):
            if not want[j]:
                closed[j] = True
            else:
                forced[j] = True
            thr = min(thr, ub * (1 - rel_tol))
            fixed_at.append(probes)
            continue
        mask = repair(v, s, total_d, y & ~closed | forced)
        key = mask.tobytes()
        if key in seen:
            continue
        seen.add(key)
        cost, used, x = evaluate_open(c, d, s, f, allowed, mask)
        if cost < ub - 1e-9 * max(1.0, abs(ub)):
            logger.debug("probe %d: better plan %.4f (was %.4f)", probes, cost, ub)
            ub, ub_open, ub_flow = cost, used, x
    logger.debug("probing: %d probes, fixings at probes %s", probes, fixed_at)
    return ProbeResult(closed=closed, forced=forced, ub=ub, open=ub_open, flow=ub_flow,
                       threshold=thr, probes=probes)


def swap_search(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                allowed: np.ndarray, open_mask: np.ndarray, *, deadline: float,
                max_evals: int = 150, tries_per_round: int = 12
                ) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Drop / add / swap search guided by transportation-LP duals.

    With client prices ``u`` (duals of the current plan's transport LP, all clients may use
    all open sites), ``sum_i u_i + sum_{j in Y} v_j(u)`` is a lower bound on the cost of any
    open set ``Y`` (``v_j`` as in :func:`site_values`); for the current set it equals the
    plan's cost. Moves are ranked by that bound (``-v_j`` for closing ``j``, ``+v_k`` for
    opening ``k``, both for a swap) and only moves whose bound is below the current cost are
    priced exactly (best first, first improvement, at most ``tries_per_round`` per round).
    Stops at a local optimum (no move can improve), after ``max_evals`` LPs or at
    ``deadline`` (``time.perf_counter()`` value, s).

    Returns ``(cost, open_mask, x)`` (``inf`` cost if the start is infeasible).
    """
    n, m = c.shape
    total_d = float(d.sum())
    u = np.zeros(n)
    mask = open_mask.copy()
    tc, bx = transport(c, d, s, allowed, np.flatnonzero(mask), duals=u)
    if bx is None:
        return math.inf, mask, None
    best = tc + float(f[mask].sum())
    evals = 1
    tol = 1e-9 * max(1.0, abs(best))
    while evals < max_evals and time.perf_counter() < deadline:
        v, _ = site_values(c, d, s, f, u, allowed)
        base = float(u.sum() + v[mask].sum())  # == best up to LP tolerances
        op, cl = np.flatnonzero(mask), np.flatnonzero(~mask)
        cap = float(s[mask].sum())
        # candidate moves: (bound, kind, j_out, k_in); kind orders ties deterministically
        cands: list[tuple[float, int, int, int]] = []
        for j in op.tolist():
            if cap - s[j] >= total_d:
                cands.append((base - v[j], 0, j, -1))
        for k in cl.tolist():
            cands.append((base + v[k], 1, -1, k))
        # swaps: only the most promising closed sites (v_k < 0 ones and a few more)
        kk = cl[np.argsort(v[cl], kind="stable")[:max(10, int((v[cl] < 0).sum()))]]
        for j in op.tolist():
            for k in kk.tolist():
                if cap - s[j] + s[k] >= total_d:
                    cands.append((base - v[j] + v[k], 2, j, k))
        cands = [cd for cd in cands if cd[0] < best - tol]
        cands.sort()
        improved = False
        for _bound, _, j, k in cands[:tries_per_round]:
            if evals >= max_evals or time.perf_counter() > deadline:
                break
            trial = mask.copy()
            if j >= 0:
                trial[j] = False
            if k >= 0:
                trial[k] = True
            u_new = np.zeros(n)
            tc, x = transport(c, d, s, allowed, np.flatnonzero(trial), duals=u_new)
            evals += 1
            if x is None:
                continue
            cost = tc + float(f[trial].sum())
            if cost < best - tol:
                used = x.sum(axis=0) > 1e-9
                trial &= used
                best, mask, bx, u = tc + float(f[trial].sum()), trial, x, u_new
                improved = True
                break
        if not improved:
            break
    return best, mask, bx


#: on two cores, :func:`kernel_mip` solves its two kernels (``n_pairs`` and ``alt_pairs``
#: pairs per client) side by side; with one kernel, the two branches of one site.
KERNEL_SPLIT = True


def kernel_mip(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
               allowed: np.ndarray, lam: np.ndarray, v: np.ndarray, incumbent: np.ndarray, *,
               n_sites: int = 30, n_pairs: int = 6, time_limit_s: float = 10.0,
               alt_pairs: int | None = None
               ) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Heuristic: restricted MIP ("kernel") over the ``n_sites`` sites with the smallest
    ``v_j`` (plus the ``incumbent`` open sites), each client limited to its ``n_pairs``
    kernel sites of smallest reduced cost ``c_ij - lam_i``; strong formulation solved by
    HiGHS through :func:`~optimizer.location._mip.solve_milp` (which keeps its incumbent at
    the time limit ``time_limit_s``, s; relative gap 1e-4).

    On two cores (``KERNEL_SPLIT``) with ``alt_pairs`` set, a second kernel with
    ``alt_pairs`` pairs per client is solved side by side and the better plan kept: few pairs
    make a small MIP that HiGHS finishes, many keep plans the few exclude (neither wins on
    every capa-shaped instance). Without ``alt_pairs``, the two branches of the kernel site
    with the smallest ``|v_j|`` run side by side. The chosen open set is then priced with
    the full transport LP.

    Returns ``(cost, open_mask, x)``; ``inf`` cost if nothing was found.
    """
    n, m = c.shape
    sel = np.zeros(m, bool)
    sel[np.argsort(v, kind="stable")[:n_sites]] = True
    keep = np.flatnonzero(sel | incumbent)
    k = keep.size
    if float(s[keep].sum()) < float(d.sum()):
        return math.inf, incumbent, None
    red = np.where(allowed[:, keep], c[:, keep] - lam[:, None], np.inf)
    two = KERNEL_SPLIT and usable_cores() >= 2
    runs = [n_pairs] + ([alt_pairs] if two and alt_pairs and alt_pairs != n_pairs else [])
    models = [m_ for m_ in (_kernel_model(c, d, s, f, red, keep, p) for p in runs)
              if m_ is not None]
    if not models:
        return math.inf, incumbent, None
    # two cores, one kernel: the branches of the site the relaxation is least sure of
    split_on = (int(np.argmin(np.abs(v[keep]))) if two and len(models) == 1 and k >= 2
                else None)

    def run(model: tuple[np.ndarray, ...]) -> np.ndarray | None:
        cost, a, rlb, rub, integ = model
        res = solve_milp(cost, a, rlb, rub, np.zeros(cost.size), np.ones(cost.size), integ,
                         time_limit_s=max(0.1, time_limit_s),
                         options={"mip_rel_gap": 1e-4}, split_on=split_on)
        return None if res.x is None else res.x[:k]

    if len(models) == 2:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as ex:
            found = list(ex.map(run, models))
    else:
        found = [run(models[0])]
    best: tuple[float, np.ndarray, np.ndarray | None] = (math.inf, incumbent, None)
    for y in found:  # in run order: ties keep the first
        if y is None:
            continue
        mask = np.zeros(m, bool)
        mask[keep] = y > 0.5
        out = evaluate_open(c, d, s, f, allowed, mask, nearest=None)
        if out[0] < best[0]:
            best = out
    return best


def _kernel_model(c: np.ndarray, d: np.ndarray, s: np.ndarray, f: np.ndarray,
                  red: np.ndarray, keep: np.ndarray, n_pairs: int
                  ) -> tuple[np.ndarray, ...] | None:
    """The kernel MIP of :func:`kernel_mip` as ``(cost, A, row_lb, row_ub, integrality)``
    (the ``keep`` site columns first), each client limited to its ``n_pairs`` kernel sites
    of smallest reduced cost ``red`` (n, k); ``None`` if a client has none."""
    n = c.shape[0]
    k = keep.size
    p = min(n_pairs, k)
    kth = np.partition(red, p - 1, axis=1)[:, p - 1]
    ii, kk = np.nonzero((red <= kth[:, None]) & np.isfinite(red))
    if np.unique(ii).size < n:
        return None
    q = ii.size
    xs = k + np.arange(q)
    a_assign = coo_matrix((np.ones(q), (ii, xs)), shape=(n, k + q)).tocsr()
    a_cap = coo_matrix((np.r_[d[ii], -s[keep]], (np.r_[kk, np.arange(k)], np.r_[xs, np.arange(k)])),
                       shape=(k, k + q)).tocsr()
    a_tot = coo_matrix((s[keep], (np.zeros(k, np.int64), np.arange(k))), shape=(1, k + q)).tocsr()
    r = np.arange(q)
    a_link = coo_matrix((np.r_[np.ones(q), -np.ones(q)], (np.r_[r, r], np.r_[xs, kk])),
                        shape=(q, k + q)).tocsr()
    a = vstack([a_assign, a_cap, a_tot, a_link], format="csr")
    rlb = np.r_[np.ones(n), np.full(k, -np.inf), float(d.sum()), np.full(q, -np.inf)]
    rub = np.r_[np.ones(n), np.zeros(k), np.inf, np.zeros(q)]
    return (np.r_[f[keep], c[ii, keep[kk]]], a, rlb, rub, np.r_[np.ones(k), np.zeros(q)])
