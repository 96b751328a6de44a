"""CFLP Lagrangian method (bound, heuristic, fixing, reduced MIP) and per-site module sizes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.errors import InstanceError
from optimizer.location import _cfl_lagrange as lag
from optimizer.location import capacitated_fl, modular_location
from optimizer.location._mip import MipBuilder

from .test_models import _cfl_brute

FAST = settings(max_examples=15, deadline=None)


def _cst(n: int, m: int, ratio: float, seed: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Small Cornuejols-Sridharan-Thizy instance (as benchmarks/location.py, smaller)."""
    rng = np.random.default_rng(seed)
    cust, fac = rng.random((n, 2)), rng.random((m, 2))
    demand = rng.uniform(5, 35, n)
    cap = rng.uniform(10, 160, m)
    fixed = rng.uniform(0, 90, m) + rng.uniform(100, 110, m) * np.sqrt(cap)
    cap = cap * ratio * demand.sum() / cap.sum()
    unit = 10.0 * np.linalg.norm(cust[:, None, :] - fac[None, :, :], axis=2)
    return fixed, cap, demand, unit


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), m=st.integers(1, 4))
def test_lagrangian_method_matches_brute_force(seed: int, n: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 40, m).astype(float)
    d = rng.integers(1, 10, n).astype(float)
    s = rng.integers(5, 20, m).astype(float)
    uc = rng.integers(1, 10, (n, m)).astype(float)
    if rng.random() < 0.3:  # some forbidden pairs
        uc[rng.random((n, m)) < 0.2] = np.inf
        uc[np.arange(n), rng.integers(0, m, n)] = 5.0
    best = _cfl_brute(f, s, d, np.where(np.isfinite(uc), uc, 1e6), False)
    if not best < 1e5:  # infeasible, or only with a forbidden pair
        return
    res = capacitated_fl(f, s, d, uc, method="lagrangian", time_limit_s=10)
    assert res.status == "optimal" and res.gap <= 1e-6
    assert res.objective == pytest.approx(best, rel=1e-7, abs=1e-6)
    flows = res.assignment
    assert flows is not None
    assert np.allclose(flows.sum(axis=1), d)
    assert (flows.sum(axis=0) <= s + 1e-6).all()
    assert not (flows[:, ~np.isin(np.arange(m), res.open)] > 1e-9).any()


@pytest.mark.parametrize(("ratio", "seed"), [(1.5, 0), (3.0, 3), (10.0, 2)])
def test_lagrangian_method_equals_direct_mip(ratio: float, seed: int) -> None:
    """Mid-size instances where the fixing and the flow bounds are active."""
    f, s, d, uc = _cst(80, 20, ratio, seed)
    direct = capacitated_fl(f, s, d, uc, method="mip", time_limit_s=30)
    dec = capacitated_fl(f, s, d, uc, method="lagrangian", time_limit_s=30)
    assert direct.status == dec.status == "optimal"
    assert dec.objective == pytest.approx(direct.objective, rel=1e-7)
    assert dec.bound <= dec.objective + 1e-6
    flows = dec.assignment
    assert flows is not None and np.allclose(flows.sum(axis=1), d)
    assert (flows.sum(axis=0) <= s * np.isin(np.arange(20), dec.open) + 1e-6).all()
    cost = f[list(dec.open)].sum() + (flows * uc).sum()
    assert cost == pytest.approx(dec.objective, rel=1e-7)


def test_lagrangian_method_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two-branch solves side by side (forced on) give the same plan run after run."""
    from optimizer.location import _mip

    monkeypatch.setattr(_mip, "usable_cores", lambda: 2)
    f, s, d, uc = _cst(120, 25, 3.0, 5)
    runs = [capacitated_fl(f, s, d, uc, method="lagrangian", time_limit_s=30)
            for _ in range(3)]
    assert all(r.status == "optimal" and "2 branches" in r.message for r in runs)
    assert len({(r.open, round(r.objective, 6)) for r in runs}) == 1
    flows = [r.assignment for r in runs]
    assert all(np.array_equal(flows[0], x) for x in flows[1:])


def test_site_values_match_lp_knapsack() -> None:
    from scipy.optimize import linprog

    f, s, d, uc = _cst(40, 6, 3.0, 4)
    c = uc * d[:, None]
    lam = c.min(axis=1) + np.random.default_rng(0).random(40) * 30
    ok = np.ones(c.shape, bool)
    v, x = lag.site_values(c, d, s, f, lam, ok)
    mu = lag.capacity_prices(c, d, s, lam, ok)
    for j in range(6):
        r = linprog(c[:, j] - lam, A_ub=d[None, :], b_ub=[s[j]], bounds=(0, 1), method="highs")
        assert v[j] == pytest.approx(f[j] + r.fun, abs=1e-7)
        assert mu[j] == pytest.approx(-r.ineqlin.marginals[0], abs=1e-9)
        assert d @ x[:, j] <= s[j] + 1e-9


def test_highs_cutoff_means_nothing_better() -> None:
    def solve(cutoff: float) -> str:
        mb = MipBuilder()
        y = mb.add_vars(3, ub=1.0, cost=np.array([3.0, 2.0, 4.0]), integer=True)
        mb.add_row(y, 1.0, lb=1.0)
        return mb.solve(time_limit_s=5, backend="highs", cutoff=cutoff).status

    assert solve(2.0) == "optimal" and solve(1.9) == "infeasible"


# ------------------------------------------------------------------ modular, per-site modules


def test_modular_per_site_module_size() -> None:
    """Site 0 has 100 kg modules, site 1 has 40 kg modules; one village reaches both.

    Village 0 (reaches only site 0) sends 150 kg -> 2 modules at site 0. Village 1 (only
    site 1) sends 90 kg -> 3 modules of 40 kg at site 1 (2 would hold only 80). Both sites
    exist; modules cost 10 each; haul 0.1/kg; unserved 5/kg. Cost 50 + 24 = 74.
    """
    q = np.array([[150.0, 90.0]])
    allowed = np.array([[True, False], [False, True]])
    res = modular_location(q, allowed, np.full((2, 2), 0.1), 5.0, np.zeros(2), 10.0,
                           np.array([100.0, 40.0]), 1.0, existing=np.array([True, True]),
                           time_limit_s=10)
    assert res.status == "optimal"
    assert res.modules is not None and res.modules.tolist() == [[2, 3]]
    assert res.objective == pytest.approx(50.0 + 24.0)
    # the scalar form still means "same size everywhere"
    same = modular_location(q, allowed, np.full((2, 2), 0.1), 5.0, np.zeros(2), 10.0,
                            100.0, 1.0, existing=np.array([True, True]), time_limit_s=10)
    assert same.modules is not None and same.modules.tolist() == [[2, 1]]


@pytest.mark.parametrize(("module_kg", "pattern"), [
    (np.array([100.0, 0.0]), r"module_kg\[1\]: must be > 0 \(got 0.0\)"),
    (np.array([100.0, 50.0, 20.0]), r"module_kg: must be a scalar or have shape \(2,\)"),
    (0.0, r"module_kg: must be > 0 \(got 0.0\)"),
])
def test_modular_module_kg_validation(module_kg: object, pattern: str) -> None:
    with pytest.raises(InstanceError, match=pattern):
        modular_location(np.ones((1, 2)), np.eye(2, dtype=bool), np.ones((2, 2)), 1.0,
                         np.ones(2), 1.0, module_kg, 1.0, time_limit_s=5)  # type: ignore[arg-type]
