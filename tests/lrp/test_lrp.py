"""Capacitated location-routing: Prodhon reader, verify_lrp, solve_lrp, ``coldchain lrp``."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from optimizer.errors import CheckError, InfeasibleError, InstanceError
from optimizer.formats.prodhon import LrpInstance, arc_costs, read_prodhon
from optimizer.lrp import solve_lrp
from optimizer.lrp.verify import evaluate_lrp, verify_lrp

DATA = Path(__file__).parents[1] / "data" / "lrp"
PRODHON = Path(__file__).resolve().parents[2].parent / "shared" / "benchdata" / "lrp_prodhon"


def _arc(a: np.ndarray, b: np.ndarray, rounding: str) -> float:
    d = math.dist(a, b) * 100.0
    return float(math.ceil(d) if rounding == "ceil" else math.floor(d))


def brute_force(inst: LrpInstance) -> float:
    """Optimum by enumeration: every set partition of the customers into routes, every
    order inside a route, every depot per route (tiny instances only)."""
    n, m = inst.n_customers, inst.n_depots

    def partitions(items: list[int]):  # type: ignore[no-untyped-def]
        if not items:
            yield []
            return
        head, rest = items[0], items[1:]
        for part in partitions(rest):
            for k in range(len(part)):
                yield part[:k] + [[head, *part[k]]] + part[k + 1 :]
            yield [[head], *part]

    def route_cost(d: int, seq: tuple[int, ...]) -> float:
        pts = [inst.depot_xy[d], *(inst.customer_xy[i] for i in seq), inst.depot_xy[d]]
        return sum(_arc(a, b, inst.rounding) for a, b in itertools.pairwise(pts))

    best = math.inf
    for part in partitions(list(range(n))):
        loads = [sum(inst.demand[i] for i in blk) for blk in part]
        if max(loads) > inst.vehicle_capacity:
            continue
        # cheapest order of each block from each depot
        blk_cost = [
            [min(route_cost(d, p) for p in itertools.permutations(blk)) for d in range(m)]
            for blk in part
        ]
        for deps in itertools.product(range(m), repeat=len(part)):
            dl = [0.0] * m
            for blk_load, d in zip(loads, deps, strict=True):
                dl[d] += blk_load
            if any(dl[d] > inst.depot_capacity[d] for d in range(m)):
                continue
            cost = sum(inst.opening_cost[d] for d in set(deps)) + inst.route_cost * len(part)
            cost += sum(blk_cost[k][d] for k, d in enumerate(deps))
            best = min(best, cost)
    return best


# ---- reader ------------------------------------------------------------------------------
def test_read_tiny() -> None:
    inst = read_prodhon(DATA / "tiny4.dat")
    assert (inst.n_customers, inst.n_depots) == (4, 2)
    assert inst.vehicle_capacity == 10 and inst.route_cost == 50
    assert inst.demand.tolist() == [3, 4, 5, 2]
    assert inst.opening_cost.tolist() == [100, 120]
    assert inst.rounding == "ceil"
    c = arc_costs(inst)
    # depot 0 (0,0) -> customer 0 (1,1): ceil(141.42...) = 142; floor gives 141
    assert c[0, 2] == 142
    assert arc_costs(read_prodhon(DATA / "tiny4.dat", rounding="floor"))[0, 2] == 141


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "n_customers"),
        ("2 1 0 0 1 1 2 2 10 20 3 x 100 50 0", "demand[1]"),
        ("2 1 0 0 1 1 2 2 10 20 3 4 100 50 0 7", "end of file"),
        ("2 1 0 0 1 1 2 2 10 20 3 -4 100 50 0", "demand[1]"),
        ("2 1 0 0 1 1 2 2 10 20 3 11 100 50 0", "demand[1]"),
        ("2 1 0 0 1 1 2 2 10 5 3 4 100 50 0", "depot_capacity"),
        ("2 1 0 0 1 1 2 2 0 20 3 4 100 50 0", "vehicle_capacity"),
        ("2 1 0 0 1 1 2 2 10 20 3 4 100 50 2", "cost_type"),
        ("0 1 0 0 10 20 100 50 0", "n_customers"),
        ("2.5 1", "n_customers"),
        ("2 1 0 0 1 nan 2 2 10 20 3 4 100 50 0", "customer[0].y"),
    ],
)
def test_malformed(tmp_path: Path, text: str, field: str) -> None:
    p = tmp_path / "bad.dat"
    p.write_text(text)
    with pytest.raises(InstanceError) as ei:
        read_prodhon(p)
    msg = str(ei.value)
    assert msg.startswith(f"{p}: {field}: ") and "\n" not in msg


def test_truncated_file_and_missing_file() -> None:
    with pytest.raises(InstanceError, match=r"truncated\.dat: customer\[3\]\.x: missing value"):
        read_prodhon(DATA / "truncated.dat")
    with pytest.raises(InstanceError, match="file not found"):
        read_prodhon(DATA / "nope.dat")


# ---- checker -------------------------------------------------------------------------------
@pytest.fixture()
def tiny() -> LrpInstance:
    return read_prodhon(DATA / "tiny4.dat")


def _good_plan() -> tuple[list[int], list[tuple[int, list[int]]]]:
    return [0, 1], [(0, [0, 1]), (1, [2, 3])]


def test_verify_accepts_and_recomputes(tiny: LrpInstance) -> None:
    depots, routes = _good_plan()
    cost = verify_lrp(tiny, depots, routes)
    c = arc_costs(tiny)  # nodes: depots 0..1, customers 2..5
    dist = c[0, 2] + c[2, 3] + c[3, 0] + c[1, 4] + c[4, 5] + c[5, 1]
    assert cost.opening == 220 and cost.route_fixed == 100
    assert cost.distance == dist and cost.total == 320 + dist
    verify_lrp(tiny, depots, routes, objective=320 + dist)


@pytest.mark.parametrize(
    ("depots", "routes", "objective", "needle"),
    [
        ([0, 1], [(0, [0, 1, 2]), (1, [3])], None, "exceeds the vehicle capacity"),
        ([1], [(1, [0, 1]), (1, [2, 3])], None, None),  # valid: depot 1 serves all (14 <= 20)
        ([0], [(0, [0, 1]), (1, [2, 3])], None, "depot 1 is not open"),
        ([0, 1], [(0, [0, 1]), (1, [2])], None, "customer 3: not served"),
        ([0, 1], [(0, [0, 1]), (1, [2, 3, 1])], None, "customer 1: served 2 times"),
        ([0, 1], [(0, [0, 1]), (1, [2, 3])], 1.0, "objective: reported"),
        ([0, 1], [(0, [0, 1]), (1, [2, 3]), (1, [])], None, "empty route"),
        ([0, 5], [(0, [0, 1]), (1, [2, 3])], None, "out of range"),
        ([0, 1], [(0, [0, 1]), (1, [2, 9])], None, "customer 9 out of range"),
    ],
)
def test_verify_rejects(
    tiny: LrpInstance,
    depots: list[int],
    routes: list[tuple[int, list[int]]],
    objective: float | None,
    needle: str | None,
) -> None:
    _, viol = evaluate_lrp(tiny, depots, routes, objective=objective)
    if needle is None:
        assert viol == []
        return
    assert any(needle in v for v in viol), viol
    with pytest.raises(CheckError):
        verify_lrp(tiny, depots, routes, objective=objective)


def test_verify_rejects_depot_capacity() -> None:
    inst = read_prodhon(DATA / "tight5.dat")  # depot capacities 8, 12, 9
    # depot 0 carries 3 + 4 + 2 = 9 > 8
    _, viol = evaluate_lrp(inst, [0, 2], [(0, [0, 1, 3]), (2, [2]), (2, [4])])
    assert any("depot 0: load 9 exceeds its capacity 8" in v for v in viol)


# ---- solver ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tiny4.dat", "tight5.dat"])
@pytest.mark.parametrize("rounding", ["ceil", "floor"])
def test_solve_matches_brute_force(name: str, rounding: str) -> None:
    inst = read_prodhon(DATA / name, rounding=rounding)
    sol = solve_lrp(inst, time_limit_s=3.0, seed=1, jobs=1, max_iterations=200)
    assert sol.feasible
    verify_lrp(inst, sol.open_depots, [(r.depot, r.customers) for r in sol.routes],
               objective=sol.objective)
    assert sol.objective == pytest.approx(brute_force(inst))
    assert sol.objective == sol.opening_cost + sol.route_fixed_cost + sol.distance_cost


def test_solve_deterministic_with_iteration_limit() -> None:
    inst = read_prodhon(DATA / "tight5.dat")
    a = solve_lrp(inst, time_limit_s=5.0, seed=3, jobs=1, max_iterations=100)
    b = solve_lrp(inst, time_limit_s=5.0, seed=3, jobs=1, max_iterations=100)
    assert a.routes == b.routes and a.objective == b.objective


def test_solve_infeasible_and_bad_limit(tiny: LrpInstance) -> None:
    from dataclasses import replace

    starved = replace(tiny, depot_capacity=np.array([5.0, 5.0]))
    with pytest.raises(InfeasibleError, match="below the total demand"):
        solve_lrp(starved, time_limit_s=1.0, jobs=1)
    with pytest.raises(ValueError, match="time_limit_s"):
        solve_lrp(tiny, time_limit_s=0)


@pytest.mark.skipif(not PRODHON.exists(), reason="benchdata absent")
def test_prodhon_20_customers() -> None:
    inst = read_prodhon(PRODHON / "instances" / "coord20-5-1b.dat")
    assert (inst.n_customers, inst.n_depots, inst.vehicle_capacity) == (20, 5, 150)
    assert inst.route_cost == 1000
    sol = solve_lrp(inst, time_limit_s=8.0, seed=1, jobs=2)
    verify_lrp(inst, sol.open_depots, [(r.depot, r.customers) for r in sol.routes],
               objective=sol.objective)
    assert sol.objective <= 39104 * 1.01  # BKS (optimal) 39104 under the ceil convention
    assert sol.seconds <= 8.0 * 1.1


# ---- CLI ---------------------------------------------------------------------------------
def test_cli_lrp_writes_json(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from optimizer.cli.lrp import register

    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer from collapsing to a single one
        pass

    out = tmp_path / "sub" / "plan.json"
    res = CliRunner().invoke(
        app, ["lrp", str(DATA / "tiny4.dat"), "--format", "prodhon", "--time-limit", "2",
              "--seed", "1", "--jobs", "1", "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert "cost" in res.output
    plan = json.loads(out.read_text())
    for key in ("objective", "open_depots", "routes", "seconds", "feasible", "opening_cost",
                "route_fixed_cost", "distance_cost"):
        assert key in plan
    inst = read_prodhon(DATA / "tiny4.dat")
    verify_lrp(inst, plan["open_depots"], [(r["depot"], r["customers"]) for r in plan["routes"]],
               objective=plan["objective"])
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
