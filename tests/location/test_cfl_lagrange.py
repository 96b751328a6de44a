"""CFLP Lagrangian pieces: fixed-site bounds, probing, dual-guided swaps, kernel MIP."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.location import _cfl_lagrange as lag
from optimizer.location import _mip, capacitated_fl
from optimizer.location._mip import MilpOutcome, merge_branches, solve_milp

from .test_cfl_large import _cst


def _instance(n: int, m: int, ratio: float, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    f, s, d, uc = _cst(n, m, ratio, seed)
    return f, s, d, uc * d[:, None], np.ones((n, m), bool)


def _equal_cap(n: int, m: int, seed: int, fill: float = 0.97
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """capa/capb/capc-like: equal capacities, high fixed costs, so the cheapest plans open
    about ``min_open`` sites filled to ``fill`` (the LP alone rounds the site count down)."""
    rng = np.random.default_rng(seed)
    cust, fac = rng.random((n, 2)), rng.random((m, 2))
    d = rng.integers(1, 116, n).astype(float)
    k = max(2, m // 5)
    s = np.full(m, d.sum() / (fill * k))
    f = rng.uniform(3e4, 5e4, m)
    c = d[:, None] * 30.0 * np.linalg.norm(cust[:, None] - fac[None], axis=2)
    return f, s, d, c, np.ones((n, m), bool)


def _optimum(f: np.ndarray, s: np.ndarray, d: np.ndarray, c: np.ndarray
             ) -> tuple[float, tuple[int, ...]]:
    res = capacitated_fl(f, s, d, c / d[:, None], method="mip", time_limit_s=30)
    assert res.status == "optimal"
    return res.objective, res.open


@settings(max_examples=60, deadline=None)
@given(v=st.lists(st.integers(-5, 5), min_size=1, max_size=7), k=st.integers(0, 7))
def test_choice_and_flip_deltas_match_brute_force(v: list[int], k: int) -> None:
    va = np.array(v, float)
    m = va.size
    k = min(k, m)

    def best(fix: int, val: bool) -> float:
        return min((sum(va[list(sub)]) for r in range(k, m + 1)
                    for sub in itertools.combinations(range(m), r)
                    if (fix in sub) == val), default=math.inf)

    y = lag.choose_open(va, k)
    assert y is not None and y.sum() >= k
    base = float(va[y].sum())
    assert base == min(best(0, True), best(0, False))
    delta = lag.flip_deltas(va, y, k)
    for j in range(m):
        assert base + delta[j] == best(j, not y[j])
    assert lag.choose_open(va, k, closed=np.ones(m, bool)) is None or k == 0


def test_min_open() -> None:
    assert lag.min_open(np.array([5.0, 5.0, 5.0]), 10.0) == 2
    assert lag.min_open(np.array([5.0, 5.0, 5.0]), 10.5) == 3
    assert lag.min_open(np.array([1.0, 9.0, 2.0]), 10.0) == 2
    assert lag.min_open(np.array([4.0]), 0.0) == 0


def _instances() -> list[tuple[str, int]]:
    return [("cst1.5", 0), ("cst3", 1), ("equal", 5)]


def _make(kind: str, seed: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    if kind == "equal":
        f, s, d, c, ok = _equal_cap(60, 12, seed)
    else:
        f, s, d, c, ok = _instance(60, 12, float(kind[3:]), seed)
    return f, s, d, c, ok, lag.min_open(s, float(d.sum()))


@pytest.mark.parametrize(("kind", "seed"), _instances())
def test_fixed_bound_never_exceeds_restricted_optimum(kind: str, seed: int) -> None:
    f, s, d, c, ok, k_min = _make(kind, seed)
    st = lag.subgradient(c, d, s, f, ok, deadline=time.perf_counter() + 10, k_min=k_min)
    opt, open_ = _optimum(f, s, d, c)
    assert st.lb <= opt + 1e-6
    none = np.zeros(12, bool)
    for j in range(4):
        closed, forced = none.copy(), none.copy()
        (forced if j in open_ else closed)[j] = True
        lb, _, _ = lag.fixed_bound(c, d, s, f, ok, st.lam, closed=closed, forced=forced,
                                   target=opt * 1.01, max_iter=40, k_min=k_min)
        assert lb <= opt + 1e-6  # the optimum respects this fixing


@pytest.mark.parametrize(("kind", "seed"), [("cst1.5", 2), ("cst3", 3), ("cst5", 4),
                                            ("equal", 6), ("equal", 7)])
def test_probing_never_cuts_off_the_optimum(kind: str, seed: int) -> None:
    f, s, d, c, ok, k_min = _make(kind, seed)
    opt, open_ = _optimum(f, s, d, c)
    st = lag.subgradient(c, d, s, f, ok, deadline=time.perf_counter() + 10, k_min=k_min)
    none = np.zeros(12, bool)
    om = np.zeros(12, bool)
    om[list(open_)] = True
    pr = lag.probe_sites(c, d, s, f, ok, st.lam, st.v, closed=none, forced=none,
                         ub=opt, ub_open=om, ub_flow=None,
                         deadline=time.perf_counter() + 10, k_min=k_min)
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


def test_kernel_portfolio_keeps_the_better_of_its_two_kernels(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On two cores the second kernel (``alt_pairs``) runs alongside and the better plan is
    kept; on one core only the first runs. Both kernels are small enough to finish here."""
    f, s, d, c, ok = _equal_cap(120, 20, 3)
    st = lag.subgradient(c, d, s, f, ok, deadline=time.perf_counter() + 10)
    none = np.zeros(20, bool)

    def kernel(pairs: int, alt: int | None = None) -> tuple[float, tuple[int, ...]]:
        cost, mask, x = lag.kernel_mip(c, d, s, f, ok, st.lam, st.v, none, n_sites=12,
                                       n_pairs=pairs, alt_pairs=alt, time_limit_s=20)
        assert x is not None
        assert cost == pytest.approx(f[mask].sum() + (c * x).sum(), rel=1e-9)
        return cost, tuple(np.flatnonzero(mask))

    monkeypatch.setattr(lag, "usable_cores", lambda: 2)
    wide, narrow = kernel(4), kernel(1)
    assert wide[0] < narrow[0] - 1e-6  # one pair per client is too narrow here
    assert kernel(1, 4) == wide and kernel(4, 1) == wide
    monkeypatch.setattr(lag, "usable_cores", lambda: 1)
    assert kernel(1, 4) == narrow


def test_transport_duals_price_the_plan() -> None:
    f, s, d, c, ok = _instance(40, 8, 3.0, 6)
    sites = np.arange(8)
    u = np.zeros(40)
    cost, x = lag.transport(c, d, s, ok, sites, duals=u)
    assert x is not None
    v, _ = lag.site_values(c, d, s, np.zeros(8), u, ok)
    # LP duality: sum u + sum_j v_j(u) (no opening cost) equals the transport cost
    assert float(u.sum() + v.sum()) == pytest.approx(cost, rel=1e-6)


@pytest.mark.parametrize("engine", ["scipy", "highspy"])
def test_solve_milp_cutoff_and_bound(engine: _mip.Engine) -> None:
    from scipy.sparse import csr_matrix

    cost = np.array([3.0, 2.0, 4.0])
    a = csr_matrix(np.ones((1, 3)))
    def solve(cutoff: float | None) -> MilpOutcome:
        return solve_milp(cost, a, np.array([1.0]), np.array([np.inf]), np.zeros(3),
                          np.ones(3), np.ones(3), time_limit_s=5, cutoff=cutoff,
                          engine=engine)

    free = solve(None)
    assert free.status == "optimal" and free.objective == pytest.approx(2.0)
    assert free.bound == pytest.approx(2.0) and free.x is not None
    below = solve(1.9)  # nothing below the cutoff, which is then the bound
    assert below.status == "infeasible" and below.bound == 1.9 and below.x is None


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cutoff", [None, "below", "above"])
@pytest.mark.parametrize("engine", ["scipy", "highspy"])
def test_split_solve_equals_plain_solve(seed: int, cutoff: str | None, engine: _mip.Engine,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Solving both branches of one binary side by side gives the plain MIP's answer (and
    both HiGHS builds give the same optimum)."""
    from scipy.sparse import csr_matrix

    monkeypatch.setattr(_mip, "usable_cores", lambda: 2)
    rng = np.random.default_rng(seed)
    n = 12  # covering knapsack: min c x, w x >= W, x binary
    cost = rng.integers(1, 30, n).astype(float)
    w = rng.integers(1, 20, n).astype(float)
    a = csr_matrix(w[None, :])
    rlb, rub = np.array([w.sum() / 2]), np.array([np.inf])
    plain = solve_milp(cost, a, rlb, rub, np.zeros(n), np.ones(n), np.ones(n),
                       time_limit_s=10)
    assert solve_milp(cost, a, rlb, rub, np.zeros(n), np.ones(n), np.ones(n), time_limit_s=10,
                      engine=engine).objective == pytest.approx(plain.objective)
    cut = {None: None, "below": plain.objective - 0.5, "above": plain.objective + 1}[cutoff]
    for j in range(n):
        split = solve_milp(cost, a, rlb, rub, np.zeros(n), np.ones(n), np.ones(n),
                           time_limit_s=10, split_on=j, cutoff=cut, engine=engine)
        if cutoff == "below":  # nothing below the cutoff
            assert split.status == "infeasible"
            continue
        assert split.status == "optimal"
        assert split.objective == pytest.approx(plain.objective)
        assert split.bound == pytest.approx(plain.objective)
        assert split.x is not None and cost @ split.x == pytest.approx(plain.objective)
        assert w @ split.x >= rlb[0] - 1e-9


def test_highspy_engine_keeps_stdout_clean() -> None:
    """The first highspy solver of a process prints HiGHS's banner to file descriptor 1;
    it must reach stderr, not a library caller's stdout."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import numpy as np\n"
        "from scipy.sparse import csr_matrix\n"
        "from optimizer.location._mip import solve_milp\n"
        "out = solve_milp(np.array([1.0, 2.0]), csr_matrix(np.ones((1, 2))), np.array([1.0]),\n"
        "                 np.array([np.inf]), np.zeros(2), np.ones(2), np.ones(2),\n"
        "                 time_limit_s=5, engine='highspy')\n"
        "print(out.status, out.objective)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], check=True)
    assert res.stdout == "optimal 1.0\n"


def test_merge_branches() -> None:
    x = np.zeros(1)
    opt = MilpOutcome("optimal", 10.0, 10.0, x, "a")
    worse = MilpOutcome("optimal", 12.0, 12.0, x + 1, "b")
    none = MilpOutcome("infeasible", math.nan, math.inf, None, "c")
    stopped = MilpOutcome("feasible", 11.0, 8.0, x + 2, "d")
    lost = MilpOutcome("time_limit_no_solution", math.nan, 7.0, None, "e")
    m = merge_branches(worse, opt)
    assert (m.status, m.objective, m.bound, m.x) == ("optimal", 10.0, 10.0, x)
    m = merge_branches(none, opt)
    assert (m.status, m.objective, m.bound) == ("optimal", 10.0, 10.0)
    assert merge_branches(none, none).status == "infeasible"
    m = merge_branches(opt, stopped)  # the stopped side may still hide a cheaper plan
    assert (m.status, m.objective, m.bound) == ("feasible", 10.0, 8.0)
    assert m.message == "1 of 2 branches finished; d"
    m = merge_branches(lost, none)
    assert (m.status, m.bound, m.x) == ("time_limit_no_solution", 7.0, None)
    m = merge_branches(MilpOutcome("optimal", 10.0, 10.0, x + 5, "f"), opt)
    assert m.x is not None and m.x[0] == 5.0  # ties: the first branch


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


@pytest.mark.parametrize("seed", [8, 9])
def test_equal_capacity_lagrangian_matches_mip(seed: int) -> None:
    """The site-count cut (``min_open``) binds here: the relaxation with it is stronger
    than the LP, and the whole method still finds the MIP optimum."""
    f, s, d, c, _ = _equal_cap(80, 15, seed)
    k_min = lag.min_open(s, float(d.sum()))
    opt, open_ = _optimum(f, s, d, c)
    assert len(open_) == k_min  # the cut is tight at the optimum
    plain = lag.subgradient(c, d, s, f, np.ones(c.shape, bool),
                            deadline=time.perf_counter() + 10)
    card = lag.subgradient(c, d, s, f, np.ones(c.shape, bool),
                           deadline=time.perf_counter() + 10, k_min=k_min)
    assert plain.lb < card.lb <= opt + 1e-6
    res = capacitated_fl(f, s, d, c / d[:, None], method="lagrangian", time_limit_s=30)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(opt, rel=1e-7)


@pytest.mark.parametrize(("kind", "seed"), [("equal", 10), ("equal", 11), ("cst3", 12)])
def test_count_range_keeps_the_optimum_count(kind: str, seed: int) -> None:
    f, s, d, c, ok, k_min = _make(kind, seed)
    opt, open_ = _optimum(f, s, d, c)
    st = lag.subgradient(c, d, s, f, ok, deadline=time.perf_counter() + 10, k_min=k_min)
    lo, hi = lag.count_range(c, d, s, f, ok, st.lam, k_min=k_min, ub=opt * 1.002,
                             deadline=time.perf_counter() + 10, hi_from=len(open_))
    assert k_min <= lo <= len(open_) <= hi


def test_zero_demand_clients_stay_on_the_lagrangian_method() -> None:
    """Clients without demand are left out of the relaxation (not a fallback to the plain
    MIP): same optimum as the MIP, zero flow rows for them."""
    f, s, d, c, _ = _equal_cap(60, 12, 13)
    d = d.copy()
    d[[3, 17, 40]] = 0.0
    uc = c / np.where(d > 0, d, 1.0)[:, None]
    opt = capacitated_fl(f, s, d, uc, method="mip", time_limit_s=30)
    res = capacitated_fl(f, s, d, uc, method="lagrangian", time_limit_s=30)
    assert res.status == "optimal" and res.objective == pytest.approx(opt.objective, rel=1e-7)
    assert "reduced MIP" in res.message or "Lagrangian" in res.message
    flows = res.assignment
    assert flows is not None and flows.shape == c.shape
    assert np.allclose(flows.sum(axis=1), d) and (flows[[3, 17, 40]] == 0).all()
