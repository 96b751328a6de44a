"""CFLP Lagrangian pieces: fixed-site bounds, probing, dual-guided swaps, kernel MIP."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from optimizer.location import _cfl_lagrange as lag
from optimizer.location import capacitated_fl
from optimizer.location._mip import MilpOutcome, solve_milp

from .test_cfl_large import _cst


def _instance(n: int, m: int, ratio: float, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    f, s, d, uc = _cst(n, m, ratio, seed)
    return f, s, d, uc * d[:, None], np.ones((n, m), bool)


def _optimum(f: np.ndarray, s: np.ndarray, d: np.ndarray, c: np.ndarray
             ) -> tuple[float, tuple[int, ...]]:
    res = capacitated_fl(f, s, d, c / d[:, None], method="mip", time_limit_s=30)
    assert res.status == "optimal"
    return res.objective, res.open


@pytest.mark.parametrize(("ratio", "seed"), [(1.5, 0), (3.0, 1)])
def test_fixed_bound_never_exceeds_restricted_optimum(ratio: float, seed: int) -> None:
    f, s, d, c, ok = _instance(60, 12, ratio, seed)
    st = lag.subgradient(c, d, s, f, ok, deadline=time.perf_counter() + 10)
    opt, open_ = _optimum(f, s, d, c)
    assert st.lb <= opt + 1e-6
    none = np.zeros(12, bool)
    for j in range(4):
        closed, forced = none.copy(), none.copy()
        (forced if j in open_ else closed)[j] = True
        lb, _, _ = lag.fixed_bound(c, d, s, f, ok, st.lam, closed=closed, forced=forced,
                                   target=opt * 1.01, max_iter=40)
        assert lb <= opt + 1e-6  # the optimum respects this fixing


@pytest.mark.parametrize(("ratio", "seed"), [(1.5, 2), (3.0, 3), (5.0, 4)])
def test_probing_never_cuts_off_the_optimum(ratio: float, seed: int) -> None:
    f, s, d, c, ok = _instance(60, 12, ratio, seed)
    opt, open_ = _optimum(f, s, d, c)
    st = lag.subgradient(c, d, s, f, ok, deadline=time.perf_counter() + 10)
    none = np.zeros(12, bool)
    om = np.zeros(12, bool)
    om[list(open_)] = True
    pr = lag.probe_sites(c, d, s, f, ok, st.lam, st.v, closed=none, forced=none,
                         ub=opt, ub_open=om, ub_flow=None,
                         deadline=time.perf_counter() + 10)
    assert pr.ub == pytest.approx(opt, rel=1e-9)
    assert pr.threshold <= opt
    assert not (pr.closed & om).any() and not (pr.forced & ~om).any()


def test_swap_search_and_kernel_mip_plans_are_priced_exactly() -> None:
    f, s, d, c, ok = _instance(80, 15, 3.0, 5)
    opt, _ = _optimum(f, s, d, c)
    st = lag.subgradient(c, d, s, f, ok, deadline=time.perf_counter() + 10)
    start = lag.repair(st.v, s, float(d.sum()), st.v < 0)
    cost, mask, x = lag.swap_search(c, d, s, f, ok, start, deadline=time.perf_counter() + 10)
    assert x is not None and cost >= opt - 1e-6
    assert cost == pytest.approx(f[mask].sum() + (c * x).sum(), rel=1e-9)
    assert np.allclose(x.sum(axis=1), 1.0) and (x[:, ~mask] <= 1e-9).all()
    kc, kmask, kx = lag.kernel_mip(c, d, s, f, ok, st.lam, st.v, mask, n_sites=10,
                                   n_pairs=4, time_limit_s=10)
    assert kx is not None and math.isfinite(kc) and kc >= opt - 1e-6
    assert kc == pytest.approx(f[kmask].sum() + (c * kx).sum(), rel=1e-9)
    assert ((kx * d[:, None]).sum(axis=0) <= s + 1e-6).all()


def test_transport_duals_price_the_plan() -> None:
    f, s, d, c, ok = _instance(40, 8, 3.0, 6)
    sites = np.arange(8)
    u = np.zeros(40)
    cost, x = lag.transport(c, d, s, ok, sites, duals=u)
    assert x is not None
    v, _ = lag.site_values(c, d, s, np.zeros(8), u, ok)
    # LP duality: sum u + sum_j v_j(u) (no opening cost) equals the transport cost
    assert float(u.sum() + v.sum()) == pytest.approx(cost, rel=1e-6)


def test_solve_milp_cutoff_and_bound() -> None:
    from scipy.sparse import csr_matrix

    cost = np.array([3.0, 2.0, 4.0])
    a = csr_matrix(np.ones((1, 3)))
    def solve(cutoff: float | None) -> MilpOutcome:
        return solve_milp(cost, a, np.array([1.0]), np.array([np.inf]), np.zeros(3),
                              np.ones(3), np.ones(3), time_limit_s=5, cutoff=cutoff)

    free = solve(None)
    assert free.status == "optimal" and free.objective == pytest.approx(2.0)
    assert free.bound == pytest.approx(2.0) and free.x is not None
    assert solve(1.9).status == "infeasible"  # nothing below the cutoff


def test_lagrangian_honours_the_time_limit() -> None:
    """A hard instance stopped early still returns in time, with a valid bound."""
    f, s, d, uc = _cst(1000, 100, 3.0, 0)
    t = time.perf_counter()
    res = capacitated_fl(f, s, d, uc, method="lagrangian", time_limit_s=4.0)
    assert time.perf_counter() - t <= 5.0
    assert res.status in ("feasible", "optimal")
    assert res.bound <= res.objective * (1 + 1e-9)
    flows = res.assignment
    assert flows is not None and np.allclose(flows.sum(axis=1), d)
    assert (flows.sum(axis=0) <= s + 1e-6).all()
