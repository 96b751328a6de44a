"""Location models against brute force on tiny random matrices, plus infeasibility messages."""

from __future__ import annotations

import functools
import itertools
import logging
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from optimizer.errors import InfeasibleError, InstanceError
from optimizer.formats.orlib import all_pairs_shortest_paths
from optimizer.location import (
    LocationResult,
    capacitated_fl,
    max_cover,
    modular_location,
    p_median,
    pmedian,
    robust_max_cover,
    robust_set_cover,
    set_cover,
    uncapacitated_fl,
)
from optimizer.location import _pmedian_bnb as pmedian_bnb
from optimizer.location._pmedian_bnb import branch_and_bound

FAST = settings(max_examples=15, deadline=None)


def _brute_pmedian(c: np.ndarray, p: int, w: np.ndarray) -> float:
    return min(float((w * c[:, list(s)].min(axis=1)).sum())
               for s in itertools.combinations(range(c.shape[1]), p))


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(2, 7), m=st.integers(1, 6),
       integral=st.booleans())
def test_p_median_matches_brute_force(seed: int, n: int, m: int, integral: bool) -> None:
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 50, (n, m)).astype(float) if integral else rng.random((n, m)) * 10
    w = rng.integers(1, 4, n).astype(float)
    p = int(rng.integers(1, m + 1))
    res = p_median(c, p, weights=w, time_limit_s=10)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(_brute_pmedian(c, p, w), rel=1e-9, abs=1e-9)
    assert len(res.open) == p and res.gap <= 1e-6
    assert res.bound <= res.objective + 1e-6
    # assignment = nearest open site
    assert np.allclose(c[np.arange(n), res.assignment], c[:, list(res.open)].min(axis=1))


def test_p_median_tiny_by_hand() -> None:
    # clients on a line at 0, 1, 10, 11; sites at the clients
    x = np.array([0.0, 1.0, 10.0, 11.0])
    c = np.abs(x[:, None] - x[None, :])
    res = p_median(c, 2, time_limit_s=5)
    assert res.objective == 2.0 and res.status == "optimal"
    assert isinstance(res, LocationResult)
    with pytest.raises(AttributeError):
        res.objective = 3.0  # type: ignore[misc]
    assert not res.assignment.flags.writeable  # type: ignore[union-attr]


def _gap_case() -> tuple[np.ndarray, float]:
    """25 points where the Lagrangian bound alone does not close the gap (LP gap > 0), with
    the optimum of p=4 by exhaustive search over 25 choose 4 = 12,650 subsets."""
    rng = np.random.default_rng(14)
    pts = rng.random((25, 2))
    c = np.round(100 * np.linalg.norm(pts[:, None] - pts[None], axis=2))
    best = min(c[:, list(s)].min(axis=1).sum() for s in itertools.combinations(range(25), 4))
    return c, float(best)


def test_p_median_branch_and_bound_path_is_exercised() -> None:
    c, best = _gap_case()
    res = p_median(c, 4, time_limit_s=20)
    assert res.status == "optimal" and "branch-and-bound" in res.message
    assert res.objective == pytest.approx(best, rel=1e-9)


def test_p_median_radius_mip_path_is_exercised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pmedian, "BNB_SHARE", 0.0)
    c, best = _gap_case()
    res = p_median(c, 4, time_limit_s=20)
    assert res.status == "optimal" and "radius MIP" in res.message
    assert res.objective == pytest.approx(best, rel=1e-9)


def test_p_median_branch_and_bound_stopped_early_keeps_a_valid_bound() -> None:
    c, best = _gap_case()
    lam, lb, open_, ub = pmedian._lagrangian(c, 4, *pmedian._greedy_interchange(c, 4),
                                             integral=True, deadline=time.perf_counter() + 5)
    closed = np.zeros(25, bool)
    out = branch_and_bound(c, 4, lam, closed, closed, open_, ub, integral=True,
                           deadline=time.perf_counter() - 1.0)
    _, ub2, bound, finished, nodes = out
    assert not finished and nodes == 0 and bound <= best <= ub2
    full = branch_and_bound(c, 4, lam, closed, closed, open_, ub, integral=False,
                            deadline=time.perf_counter() + 20)
    assert full[3] and full[1] == pytest.approx(best, rel=1e-9)


@functools.lru_cache(maxsize=1)
def _gap_root() -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float]:
    c, best = _gap_case()
    lam, _, open_, ub = pmedian._lagrangian(c, 4, *pmedian._greedy_interchange(c, 4),
                                            integral=True, deadline=time.perf_counter() + 5)
    return c, best, lam, open_, ub


def _gap_tree(caplog: pytest.LogCaptureFixture, *, cores: int = 2, seconds: float = 60.0
              ) -> tuple[np.ndarray, float, float, bool, int]:
    """The tree search on ``_gap_case`` from its root, logging at DEBUG into ``caplog``."""
    c, _, lam, open_, ub = _gap_root()
    closed = np.zeros(25, bool)
    with caplog.at_level(logging.DEBUG, logger=pmedian_bnb.__name__):
        return branch_and_bound(c, 4, lam, closed, closed, open_, ub, integral=True,
                                cores=cores, deadline=time.perf_counter() + seconds)


def test_p_median_branch_and_bound_on_two_processes_matches_one(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # split after the root so that the worker process gets half of this small tree
    monkeypatch.setattr(pmedian_bnb, "SPLIT_NODES", 1)
    best = _gap_root()[1]
    runs = [_gap_tree(caplog, cores=k) for k in (1, 2, 2)]
    assert caplog.text.count("1 + 1 open nodes split between two processes") == 2
    assert caplog.text.count("the worker's half finished") == 2  # no failure, no fallback
    for sites, cost, bound, finished, nodes in runs:
        assert finished and cost == pytest.approx(best, rel=1e-9) and bound == cost
        assert list(sites) == list(runs[0][0]) and nodes >= 3
    assert runs[1][4] == runs[2][4]  # the same nodes, run after run


def test_p_median_branch_and_bound_deals_again_when_the_worker_is_done(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # a pmed-like graph whose tree has 341 nodes; this process is slowed down (20 ms a node)
    # so that the worker finishes its half first and gets half of what is left here
    rng = np.random.default_rng(10)
    n, p = 120, 8
    edges = {(i, i + 1): int(rng.integers(1, 101)) for i in range(n - 1)}
    for _ in range(4 * n):
        a, b = sorted(int(x) for x in rng.choice(n, 2, replace=False))
        edges[(a, b)] = int(rng.integers(1, 101))
    c = all_pairs_shortest_paths(n, np.array([(a, b, w) for (a, b), w in edges.items()],
                                             float))
    lam, _, open_, ub = pmedian._lagrangian(c, p, *pmedian._greedy_interchange(c, p),
                                            integral=True, deadline=time.perf_counter() + 5)
    closed = np.zeros(n, bool)
    one = branch_and_bound(c, p, lam, closed, closed, open_, ub, integral=True, cores=1,
                           deadline=time.perf_counter() + 60)
    assert one[3] and one[4] > 300
    slow = pmedian_bnb._Tree._node_bound

    def slowed(self: object, *args: object) -> object:
        time.sleep(0.02)
        return slow(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pmedian_bnb._Tree, "_node_bound", slowed)
    monkeypatch.setattr(pmedian_bnb, "SPLIT_NODES", 1)
    monkeypatch.setattr(pmedian_bnb, "SPLIT_MIN_S", 0.0)
    monkeypatch.setattr(pmedian_bnb, "POLL_S", 0.05)
    with caplog.at_level(logging.DEBUG, logger=pmedian_bnb.__name__):
        two = branch_and_bound(c, p, lam, closed, closed, open_, ub, integral=True, cores=2,
                               deadline=time.perf_counter() + 120)
    assert caplog.text.count("split between two processes") >= 2
    assert two[3] and two[1] == one[1] and list(two[0]) == list(one[0]) and two[2] == two[1]
    assert two[4] == one[4]  # the incumbent is optimal from the start: the same nodes


def test_p_median_branch_and_bound_does_not_split_with_little_time_left(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # the worker takes a second or more to start: with under SPLIT_MIN_S left, one process
    monkeypatch.setattr(pmedian_bnb, "SPLIT_NODES", 1)
    _, cost, bound, finished, _ = _gap_tree(caplog, seconds=0.5 * pmedian_bnb.SPLIT_MIN_S)
    assert "split" not in caplog.text
    assert finished and cost == pytest.approx(_gap_root()[1], rel=1e-9) and bound == cost


@pytest.mark.parametrize(("python", "why"), [("/nonexistent/python", "no worker process"),
                                             ("/bin/false", "worker failed")])
def test_p_median_branch_and_bound_survives_a_failed_worker(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, python: str,
        why: str) -> None:
    # no interpreter to start / a worker that exits 1: this process searches both halves
    monkeypatch.setattr(pmedian_bnb, "SPLIT_NODES", 1)
    monkeypatch.setattr(pmedian_bnb.sys, "executable", python)
    c, best = _gap_root()[:2]
    sites, cost, bound, finished, _ = _gap_tree(caplog)
    assert why in caplog.text
    assert finished and cost == pytest.approx(best, rel=1e-9) and bound == cost
    assert float(c[:, sites].min(axis=1).sum()) == cost


def test_p_median_branch_and_bound_stops_at_the_open_node_cap(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(pmedian_bnb, "MAX_OPEN_NODES", 1)
    c, best = _gap_root()[:2]
    sites, cost, bound, finished, nodes = _gap_tree(caplog, cores=1)
    assert not finished and nodes == 1 and bound <= best <= cost
    assert float(c[:, sites].min(axis=1).sum()) == cost


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12), k=st.integers(1, 12),
       scale=st.sampled_from([1.0, 0.37, 1000.0]))
def test_site_values_equal_the_dense_sum(seed: int, n: int, k: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 50, (n, k)).astype(float) * scale
    values = pmedian_bnb._SiteValues(c)
    # integer costs go through the table of prefix lengths, others through the search
    assert (values.table is not None) == bool(np.array_equal(c, np.round(c)))
    for it in range(6):
        lam = rng.normal(25, 40, n) * scale
        if it % 2:
            lam = np.round(lam)  # multipliers equal to costs: the strict "<" boundary
        dense = np.minimum(c - lam[:, None], 0.0).sum(axis=0)
        assert np.allclose(values(lam), dense, rtol=1e-12, atol=1e-9 * scale)


def test_p_median_unreachable_client_named() -> None:
    c = np.array([[1.0, 2.0], [np.inf, np.inf], [3.0, 1.0]])
    with pytest.raises(InfeasibleError, match=r"1 client\(s\) cannot reach any site: v1"):
        p_median(c, 1, time_limit_s=5, client_names=["v0", "v1", "v2"])


def test_p_median_bad_p() -> None:
    with pytest.raises(InstanceError, match=r"p: must be in 1..2 \(number of sites\) \(got 3\)"):
        p_median(np.ones((2, 2)), 3, time_limit_s=5)


# ------------------------------------------------------------------ UFL / CFL


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(1, 6), m=st.integers(1, 5),
       method=st.sampled_from(["mip", "lagrangian"]))
def test_ufl_matches_brute_force(seed: int, n: int, m: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 30, m).astype(float)
    c = rng.integers(0, 30, (n, m)).astype(float)
    best = min(f[list(s)].sum() + c[:, list(s)].min(axis=1).sum()
               for k in range(1, m + 1) for s in itertools.combinations(range(m), k))
    res = uncapacitated_fl(f, c, time_limit_s=10, method=method)  # type: ignore[arg-type]
    assert res.status == "optimal" and res.objective == pytest.approx(best)
    assert res.gap <= 1e-6
    assert set(res.assignment.tolist()) <= set(res.open)  # type: ignore[union-attr]
    plan = f[list(res.open)].sum() + c[np.arange(n), res.assignment].sum()
    assert plan == pytest.approx(res.objective)


def test_ufl_lagrangian_equals_mip_with_forbidden_pairs() -> None:
    """Mid-size UFL with forbidden pairs: the Lagrangian route (used from 20,000 pairs on)
    gives the direct MIP's optimum and a plan that uses allowed pairs only."""
    rng = np.random.default_rng(7)
    n, m = 300, 40
    cust, fac = rng.random((n, 2)), rng.random((m, 2))
    c = 100.0 * np.linalg.norm(cust[:, None, :] - fac[None, :, :], axis=2)
    c[rng.random((n, m)) < 0.3] = np.inf
    c[np.arange(n), rng.integers(0, m, n)] = 50.0  # every client reaches a site
    f = rng.uniform(200, 600, m)
    direct = uncapacitated_fl(f, c, time_limit_s=30, method="mip")
    lag = uncapacitated_fl(f, c, time_limit_s=30, method="lagrangian")
    assert direct.status == lag.status == "optimal"
    assert lag.objective == pytest.approx(direct.objective, rel=1e-7)
    a = lag.assignment
    assert a is not None and np.isfinite(c[np.arange(n), a]).all()
    assert set(a.tolist()) <= set(lag.open)


def _cfl_brute(f, s, d, uc, single):  # type: ignore[no-untyped-def]
    n, m = uc.shape
    best = np.inf
    for k in range(1, m + 1):
        for sub in itertools.combinations(range(m), k):
            sub = list(sub)
            if single:
                for a in itertools.product(sub, repeat=n):
                    load = np.bincount(a, weights=d, minlength=m)
                    if (load <= s + 1e-9).all():
                        best = min(best, f[sub].sum() + sum(uc[i, a[i]] * d[i] for i in range(n)))
            else:
                # transport LP over the open subset
                k_ = len(sub)
                cost = (uc[:, sub] * d[:, None]).ravel()
                a_eq = np.kron(np.eye(n), np.ones(k_))
                a_ub = np.zeros((k_, n * k_))
                for j in range(k_):
                    a_ub[j, j::k_] = d
                r = linprog(cost, A_ub=a_ub, b_ub=s[sub], A_eq=a_eq, b_eq=np.ones(n),
                            bounds=(0, 1), method="highs")
                if r.status == 0:
                    best = min(best, f[sub].sum() + r.fun)
    return best


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), m=st.integers(1, 4),
       single=st.booleans())
def test_cfl_matches_brute_force(seed: int, n: int, m: int, single: bool) -> None:
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 40, m).astype(float)
    d = rng.integers(1, 10, n).astype(float)
    s = rng.integers(5, 20, m).astype(float)
    uc = rng.integers(1, 10, (n, m)).astype(float)
    best = _cfl_brute(f, s, d, uc, single)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError):
            capacitated_fl(f, s, d, uc, single_source=single, time_limit_s=10)
        return
    res = capacitated_fl(f, s, d, uc, single_source=single, time_limit_s=10)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-7, abs=1e-6)
    if not single:
        flows = res.assignment
        assert flows is not None
        assert np.allclose(flows.sum(axis=1), d)
        assert (flows.sum(axis=0) <= s + 1e-6).all()


def test_cfl_total_capacity_message_has_numbers() -> None:
    with pytest.raises(InfeasibleError,
                       match=r"total demand 2,400 exceeds total capacity 1,800"):
        capacitated_fl(np.zeros(2), np.array([900.0, 900.0]), np.array([1200.0, 1200.0]),
                       np.ones((2, 2)), time_limit_s=5)


def test_cfl_single_source_too_big_client() -> None:
    with pytest.raises(InfeasibleError, match=r"1 client\(s\) exceed every reachable capacity.*"
                                              r"demand 12 > largest reachable capacity 10"):
        capacitated_fl(np.zeros(2), np.array([10.0, 10.0]), np.array([12.0, 1.0]),
                       np.ones((2, 2)), single_source=True, time_limit_s=5)


def test_cfl_unreachable_client_named() -> None:
    uc = np.array([[1.0, np.inf], [np.inf, np.inf]])
    with pytest.raises(InfeasibleError, match=r"1 client\(s\) can reach no site: b"):
        capacitated_fl(np.zeros(2), np.array([10.0, 10.0]), np.array([1.0, 1.0]), uc,
                       time_limit_s=5, client_names=["a", "b"])


# ------------------------------------------------------------------ covering


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(1, 7), m=st.integers(1, 6))
def test_set_cover_matches_brute_force(seed: int, n: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    cover = rng.random((n, m)) < 0.4
    cost = rng.integers(1, 9, m).astype(float)
    feas = [(cost[list(s)].sum(), s) for k in range(1, m + 1)
            for s in itertools.combinations(range(m), k) if cover[:, list(s)].any(axis=1).all()]
    if not feas:
        with pytest.raises(InfeasibleError, match=r"covered by no site"):
            set_cover(cover, site_cost=cost)
        return
    res = set_cover(cover, site_cost=cost)
    assert res.status == "optimal" and res.objective == pytest.approx(min(feas)[0])
    assert res.covered is not None and res.covered.all()


def test_set_cover_names_uncoverable() -> None:
    cover = np.array([[1, 0], [0, 0], [0, 1], [0, 0]], bool)
    with pytest.raises(InfeasibleError,
                       match=r"2 of 4 client\(s\) are covered by no site: Baima, Liuchang"):
        set_cover(cover, client_names=["Jiuchang", "Baima", "Xiaoqiao", "Liuchang"])


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(1, 7), m=st.integers(1, 6))
def test_max_cover_matches_brute_force(seed: int, n: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    cover = rng.random((n, m)) < 0.4
    w = rng.integers(1, 9, n).astype(float)
    p = int(rng.integers(0, m + 1))
    best = max(w[cover[:, list(s)].any(axis=1)].sum() if s else 0.0
               for s in itertools.combinations(range(m), p))
    res = max_cover(cover, w, p=p)
    assert res.status == "optimal" and res.objective == pytest.approx(best)
    assert res.bound >= res.objective - 1e-6


def test_max_cover_budget() -> None:
    cover = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], bool)
    w = np.array([1.0, 1.0, 5.0, 4.0])
    res = max_cover(cover, w, budget=4.0, site_cost=np.array([1.0, 3.0, 2.0]))
    # options within 4: {0,1} -> 7, {0,2} -> 6, {2} -> 4 ... best {0,1}
    assert res.objective == 7.0 and res.open == (0, 1)


def test_robust_covering() -> None:
    dry = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], bool)
    rain = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 1]], bool)  # site 1 loses client 0
    res = robust_set_cover([dry, rain])
    assert res.objective == 2 and res.covered is not None and res.covered.all()
    assert set_cover(dry).objective == 2
    w = np.array([3.0, 1.0, 1.0])
    worst = robust_max_cover([dry, rain], w, p=1, objective="worst")
    # one site: site 0 covers {0,2} dry but {0} rain -> worst 3; site 2 -> worst 2
    assert worst.objective == 3.0 and worst.open == (0,)
    exp = robust_max_cover([dry, rain], w, p=1, objective="expected")
    assert exp.objective == pytest.approx(3.5)  # site 0: (4 + 3) / 2


def test_robust_set_cover_infeasible_scenario_named() -> None:
    ok = np.eye(2, dtype=bool)
    cut = np.array([[1, 0], [0, 0]], bool)
    with pytest.raises(InfeasibleError, match=r"covered by no site in scenario 1: 1"):
        robust_set_cover([ok, cut])


# ------------------------------------------------------------------ modular


def test_modular_by_hand() -> None:
    """Two seasons, two villages, two sites; figures computable by hand.

    Site 0 existing (free), site 1 costs 100 to open. Module = 100 kg x 1 turn, 10 yuan per
    season; adding costs 1, removing 2. Village 0 reaches only site 0, village 1 only site 1.
    Off-season 50 / 0 kg, peak 250 / 80 kg; unserved worth 1 yuan/kg; haul 0.1 yuan/kg.
    Optimal: do not open site 1 (80 kg x 1 = 80 < 100 + 10 + 1); site 0 holds 1 then 3 modules.
    Cost: modules 10 + 30, adds 1 + 2, haul 0.1 x (50 + 250) = 30, lost 80 -> 153.
    """
    q = np.array([[50.0, 0.0], [250.0, 80.0]])
    allowed = np.array([[True, False], [False, True]])
    res = modular_location(q, allowed, np.full((2, 2), 0.1), 1.0, np.array([500.0, 100.0]),
                           10.0, 100.0, 1.0, add_cost_yuan=1.0, remove_cost_yuan=2.0,
                           existing=np.array([True, False]), time_limit_s=10)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(153.0)
    assert res.open == (0,)
    assert res.modules is not None and res.modules.tolist() == [[1, 0], [3, 0]]
    assert res.unserved is not None and res.unserved.tolist() == [[0.0, 0.0], [0.0, 80.0]]
    assert res.assignment is not None and res.assignment.shape == (2, 2, 2)


def test_modular_scenarios_and_single_source() -> None:
    rng = np.random.default_rng(3)
    t, s, i, j = 2, 2, 5, 3
    q = rng.uniform(100, 400, (t, s, i))
    allowed = rng.random((i, j)) < 0.8
    allowed[:, 0] = True
    res = modular_location(q, allowed, rng.uniform(0.05, 0.2, (i, j)), 3.0,
                           np.array([200.0, 300.0, 250.0]), np.array([40.0, 60.0]), 250.0,
                           np.array([1.0, 2.0]), max_modules=4, single_source=True,
                           scenario_prob=np.array([0.7, 0.3]), time_limit_s=20)
    assert res.status == "optimal"
    assert res.modules is not None and res.modules.shape == (t, s, j)
    flows = res.assignment
    assert flows is not None and flows.shape == (t, s, i, j)
    # single source: at most one site per village, season and scenario
    assert ((flows > 1e-6).sum(axis=3) <= 1).all()
    # capacity respected
    cap = 250.0 * np.array([1.0, 2.0])[:, None, None] * res.modules
    assert (flows.sum(axis=2) <= cap + 1e-6).all()
    # served + unserved = supply
    assert res.unserved is not None
    assert np.allclose(flows.sum(axis=3) + res.unserved, q)
    assert (res.modules <= 4).all()


def test_modular_bad_shapes() -> None:
    with pytest.raises(InstanceError, match=r"allowed: must be \(2, J\)"):
        modular_location(np.ones((1, 2)), np.ones((3, 1), bool), np.ones((2, 1)), 1.0,
                         np.ones(1), 1.0, 10.0, 1.0, time_limit_s=5)


def _flexible(**kw):  # type: ignore[no-untyped-def]
    """Two seasons (off 300 days, peak 60), hub 0 with 2 owned modules (100 kg each), a
    candidate site 1 (annualised opening 100); village 0 reaches only site 0, village 1
    only site 1; produce off 50 / 10 kg/day, peak 150 / 200; unserved 1 yuan/kg, haul 0.
    Per season: owned module power 30 / 6, lease 40 in both, active site 3,300 / 600,
    standby 50."""
    q = np.array([[50.0, 10.0], [150.0, 200.0]])
    allowed = np.array([[True, False], [False, True]])
    args = dict(season_days=np.array([300.0, 60.0]), existing=np.array([True, False]),
                initial_modules=np.array([2.0, 0.0]),
                active_cost_yuan=np.array([[3300.0, 3300.0], [600.0, 600.0]]),
                standby_cost_yuan=50.0, lease_cost_yuan=40.0, buy_cost_yuan=1000.0,
                cyclic=True, time_limit_s=10)
    args.update(kw)
    return modular_location(q, allowed, np.zeros((2, 2)), 1.0, np.array([0.0, 100.0]),
                            np.array([[30.0, 30.0], [6.0, 6.0]]), 100.0, 1.0, **args)


def test_modular_flexible_idle_season_and_leases_by_hand() -> None:
    """Hub active all year: 1 owned module off, 2 at peak: 3,300 + 600 + 30 + 2 x 6.
    Site 1 opens (100), idle off (standby 50; serving 10 kg/day would cost 3,300 + 30 for
    3,000 yuan of produce), active at peak (600) with 2 modules; the owned pool (2) covers
    only half the peak's 4, so 2 are leased (80). Village 1's off-season produce is lost
    (3,000). Total 3,942 + 830 + 3,000 = 7,772."""
    res = _flexible()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(7772.0)
    assert res.open == (0, 1)
    assert res.active is not None and res.active.tolist() == [[True, False], [True, True]]
    assert res.modules is not None and res.modules.tolist() == [[1, 0], [2, 2]]
    assert res.leased is not None and res.leased.sum(axis=1).tolist() == [0, 2]
    assert res.bought == 0


def test_modular_flexible_buys_when_cheaper_than_leasing() -> None:
    """Leases at 700 per peak: buying 2 modules (500 each, annualised) and powering them
    (2 x 6) beats leasing them (1,400): 3,942 + 100 + 50 + 600 + 1,012 + 3,000 = 8,704."""
    res = _flexible(lease_cost_yuan=np.array([[40.0, 40.0], [700.0, 700.0]]),
                    buy_cost_yuan=500.0)
    assert res.status == "optimal"
    assert res.bought == 2
    assert res.leased is not None and int(res.leased.sum()) == 0
    assert res.objective == pytest.approx(8704.0)


def _running_and_investment(res) -> float:  # type: ignore[no-untyped-def]
    """What ``_flexible``'s result costs a year outside the produce: opening, standby,
    active seasons, owned modules' power and leases (the budget row, recomputed)."""
    power, lease, active = [30.0, 6.0], 40.0, [3300.0, 600.0]
    total = 100.0 if 1 in res.open else 0.0
    for t in range(2):
        for j in res.open:
            on = bool(res.active[t, j])
            total += active[t] if on else 50.0
            leased = int(res.leased[t, j])
            total += power[t] * (int(res.modules[t, j]) - leased) + lease * leased
    return total + 1000.0 * res.bought


@pytest.mark.parametrize("budget", [830.0, 829.0, 790.0, 789.0, 100.0, 0.0])
def test_modular_budget_binds(budget: float) -> None:
    """Today's hub runs for 3,942 a year (the budget's base); the budget caps what the plan
    adds to it (investment and running cost): the plan keeps within it, the whole of
    site 1 (830 more) fits only in 830, and a smaller budget never gives a better plan."""
    free = _flexible()
    res = _flexible(budget_yuan=budget, budget_base_yuan=3942.0)
    assert res.status == "optimal"
    assert _running_and_investment(res) <= 3942.0 + budget + 1e-6
    if budget >= 830.0:
        assert res.objective == pytest.approx(free.objective)
    else:
        assert res.objective > free.objective + 1.0
    looser = _flexible(budget_yuan=budget + 1.0, budget_base_yuan=3942.0)
    assert looser.objective <= res.objective + 1e-6


def test_modular_budget_below_what_today_costs_is_infeasible() -> None:
    """The hub exists: even idle all year it pays standby (2 x 50 > 50 + 0)."""
    res = _flexible(budget_yuan=0.0, budget_base_yuan=50.0)
    assert res.status == "infeasible"


def test_modular_intake_cost_moves_produce_away_from_a_dark_site() -> None:
    """A cost of 100 yuan per kg taken in at site 1 at the peak (e.g. an outage there)
    makes losing village 1's peak produce (1 yuan/kg) cheaper: site 1 stays closed."""
    intake = np.zeros((2, 1, 2))
    intake[1, 0, 1] = 100.0
    res = _flexible(intake_yuan_per_kg=intake)
    assert res.status == "optimal"
    assert res.open == (0,)
    assert res.objective == pytest.approx(3942.0 + 3000.0 + 12000.0)


@pytest.mark.parametrize("kw", [{}, {"lease_cost_yuan": np.array([[40.0, 40.0], [700.0, 700.0]]),
                                     "buy_cost_yuan": 500.0}])
def test_modular_highs_from_its_lp_rounding_start_matches_scip(kw) -> None:  # type: ignore[no-untyped-def]
    """The planner's backend (HiGHS from an LP-rounding start) finds SCIP's optimum."""
    scip = _flexible(**kw)
    highs = _flexible(backend="scipy-highs", **kw)
    assert highs.status == scip.status == "optimal"
    assert highs.objective == pytest.approx(scip.objective)
    assert highs.modules is not None and scip.modules is not None
    assert highs.modules.tolist() == scip.modules.tolist()


@pytest.mark.parametrize("seed", range(4))
def test_modular_highs_matches_scip_on_random_seasons(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, s, i, j = 2, 2, 12, 4
    q = rng.uniform(50, 400, (t, s, i))
    allowed = rng.random((i, j)) < 0.7
    allowed[:, 0] = True
    args = dict(season_days=np.array([300.0, 60.0]), existing=np.array([True, False, False,
                                                                          False]),
                initial_modules=np.array([2.0, 0.0, 0.0, 0.0]),
                active_cost_yuan=rng.uniform(200, 3000, (t, j)), standby_cost_yuan=50.0,
                lease_cost_yuan=40.0, buy_cost_yuan=800.0, cyclic=True, max_modules=6,
                scenario_prob=np.array([0.7, 0.3]), time_limit_s=20)
    costs = (q, allowed, rng.uniform(0.01, 0.3, (i, j)), 1.5, rng.uniform(50, 500, j),
             np.array([[30.0] * j, [6.0] * j]), 250.0, 1.0)
    scip = modular_location(*costs, **args)  # type: ignore[arg-type]
    highs = modular_location(*costs, backend="scipy-highs", **args)  # type: ignore[arg-type]
    assert scip.status == highs.status == "optimal"
    assert highs.objective == pytest.approx(scip.objective, rel=1e-7)


def test_round_up_start_is_feasible_and_bounded_by_the_optimum() -> None:
    """Facility location: LP rounding opens every site the LP uses a little; the start is
    feasible (the search accepts it) and no better than the proven optimum."""
    from optimizer.location._mip import MipBuilder

    rng = np.random.default_rng(7)
    n, m = 15, 5
    cost = rng.uniform(1, 10, (n, m))
    mb = MipBuilder()
    y = mb.add_vars(m, ub=1.0, cost=rng.uniform(5, 20, m), integer=True)
    x = mb.add_vars((n, m), ub=1.0, cost=cost)
    mb.add_rows(np.repeat(np.arange(n), m), x.ravel(), 1.0, n_rows=n, lb=1.0)
    r = np.arange(n * m)
    mb.add_rows(np.concatenate([r, r]), np.concatenate([x.ravel(), np.tile(y, n)]),
                np.concatenate([np.ones(n * m), -np.ones(n * m)]), n_rows=n * m, ub=0.0)
    start = mb.round_up_start(time_limit_s=10)
    assert start is not None
    assert set(np.unique(np.round(start[y], 9))) <= {0.0, 1.0}
    assert np.allclose(start[x].sum(axis=1), 1.0)
    assert (start[x] <= start[y][None, :] + 1e-9).all()
    best = mb.solve(time_limit_s=10, backend="scipy-highs")
    warm = mb.solve(time_limit_s=10, backend="scipy-highs", start=start)
    assert warm.status == best.status == "optimal"
    assert warm.objective == pytest.approx(best.objective)
    assert float(mb_objective(mb, start)) >= best.objective - 1e-6


def mb_objective(mb, values: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    """Objective of ``values`` in the model built by ``mb`` (test helper)."""
    return float(np.concatenate(mb._obj) @ values) + mb.objective_offset


def test_round_up_start_gives_up_when_rounding_up_breaks_a_row() -> None:
    """x + y <= 1 with both wanted: the LP takes halves, rounding both up breaks the row."""
    from optimizer.location._mip import MipBuilder

    mb = MipBuilder()
    v = mb.add_vars(2, ub=1.0, cost=np.array([-1.0, -1.0]), integer=True)
    mb.add_row(v, 1.0, ub=1.5)
    assert mb.round_up_start(time_limit_s=5) is None
