"""Absurd inputs are refused early (one line, exit 2, fast); solvers honour their time limits.

Time-limit tolerance: ``wall <= 1.1 x limit + OVERHEAD_S``. OVERHEAD_S covers model building
and the final check, measured on this machine at 0.05-0.2 s for a 200-stop routing problem
and 0.15 s for a 30 x 200 CFLP after a warm-up call (the first call in a process also pays
0.2-0.5 s of imports and solver start-up, which the warm-up fixture absorbs); 0.75 s leaves
room for a loaded CI machine.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from optimizer.errors import InputError, InstanceError, NetworkError
from optimizer.formats import instance_toml
from optimizer.formats.instance_toml import read_instance
from optimizer.formats.plan_json import read_plan_json
from optimizer.roads import load_network
from optimizer.routing.problem import Matrix, RoutingProblem, Stop, Vehicle
from tests.reliability._harness import assert_clean_failure, copy_tiny, run_cli

OVERHEAD_S = 0.75
TEN_GB = 10 * 2**30
FAST_S = 5.0  # a refusal must come long before a 10 GB file could be read


def _sparse(path: Path, size: int = TEN_GB) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)  # a hole: no disk space used
    return path


@pytest.fixture()
def inst(tmp_path: Path) -> Path:
    return copy_tiny(tmp_path / "tiny")


def _cli_refuses(argv: list[str], pattern: str) -> str:
    t0 = time.perf_counter()
    rc, _, err = run_cli(argv)
    line = assert_clean_failure(rc, err, codes=(2,))
    assert pattern in line, line
    assert time.perf_counter() - t0 < FAST_S
    return line


# ---- huge files ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["instance.toml", "villages.csv", "cold_store_sites.csv",
                                  "pickup_sites.csv"])
def test_10gb_instance_file_is_refused(inst: Path, name: str) -> None:
    _sparse(inst / name)
    with pytest.raises(InstanceError, match=r"file too large \(10,737 MB\)"):
        read_instance(inst)
    _cli_refuses(["validate", str(inst)], "file too large")


def test_10gb_network_is_refused(inst: Path) -> None:
    _sparse(inst / "network.geojson")
    t0 = time.perf_counter()
    with pytest.raises(NetworkError, match=r"network\.geojson: file too large \(10\.7 GB\)"):
        load_network(inst / "network.geojson")
    assert time.perf_counter() - t0 < 1.0
    _cli_refuses(["solve", str(inst), "--baseline-only", "--time-limit", "1"],
                 "file too large")


def test_10gb_plan_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="file too large"):
        read_plan_json(_sparse(tmp_path / "plan.json"))


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_devices_and_pipes_are_refused_not_read(inst: Path, target: str) -> None:
    """/dev/zero never ends and a pipe blocks: both are refused before reading."""
    if target == "fifo":
        os.mkfifo(inst / "pipe.csv")
        target = "pipe.csv"
    toml = inst / "instance.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('villages = "villages.csv"', f'villages = "{target}"'),
                    encoding="utf-8")
    _cli_refuses(["validate", str(inst)], "not a regular file")
    toml.write_text(text.replace('network = "network.geojson"', f'network = "{target}"'),
                    encoding="utf-8")
    _cli_refuses(["solve", str(inst), "--baseline-only", "--time-limit", "1"],
                 "not a regular file")


# ---- row caps ----------------------------------------------------------------------------------
_ROW = "v{i},V,106.5,27.0,1,1,1,1,1,1\n"
_HEADER = ("id,name,lon,lat,households,orders_per_day_off,orders_per_day_peak,"
           "produce_kg_per_day_off,produce_kg_per_day_peak,has_pickup_point\n")


def test_row_cap_refuses_while_streaming(inst: Path) -> None:
    """The real cap (200,000 rows): a 10^7-row table stops at row 200,001, so one just over
    the cap (4 MB here) shows the refusal; the reader never holds more than the cap."""
    cap = instance_toml.MAX_VILLAGES
    with (inst / "villages.csv").open("w", encoding="utf-8") as fh:
        fh.write(_HEADER)
        fh.writelines(_ROW.format(i=i) for i in range(cap + 1))
    t0 = time.perf_counter()
    with pytest.raises(InstanceError, match=rf"villages: more than {cap} rows"):
        read_instance(inst)
    assert time.perf_counter() - t0 < FAST_S


def test_row_cap_lower_cap_stops_reading_early(inst: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With a cap of 100 the reader stops at row 101 of 100,000: a defect further down
    (a broken row) is never reached."""
    monkeypatch.setattr(instance_toml, "MAX_VILLAGES", 100)
    with (inst / "villages.csv").open("w", encoding="utf-8") as fh:
        fh.write(_HEADER)
        fh.writelines(_ROW.format(i=i) for i in range(100_000))
        fh.write('"unterminated\n' * 10)
    line = _cli_refuses(["validate", str(inst)], "more than 100 rows")
    assert "villages.csv: villages: more than 100 rows" in line


def test_errors_are_input_errors() -> None:
    assert issubclass(InstanceError, InputError) and issubclass(NetworkError, InputError)


# ---- time limits -----------------------------------------------------------------------------
def _routing_problem(n: int = 200, seed: int = 0) -> RoutingProblem:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 30, size=(n + 1, 2))
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)) * 1000
    mat = Matrix(np.rint(d).astype(np.int64), np.rint(d / 10).astype(np.int64))
    stops = tuple(Stop(f"s{i}", i + 1, delivery_kg=int(rng.integers(1, 30)), service_s=300,
                       tw_end_s=36000, deadline_s=40000) for i in range(n))
    veh = tuple(Vehicle(f"v{k}", "t", 0, 0, 200, "car", fixed_fen=1000, fen_per_km=100.0,
                        fen_per_h=360.0, shift_end_s=43200) for k in range(25))
    return RoutingProblem(tuple(str(i) for i in range(n + 1)), {"car": mat}, stops, veh)


@pytest.fixture(scope="module")
def warm() -> None:
    """Import and start every solver once (first-call cost is not the solver's overrun)."""
    from optimizer.location import capacitated_fl
    from optimizer.routing.solve import solve_routing

    solve_routing(_routing_problem(10), time_limit_s=0.2, seed=0)
    capacitated_fl(np.ones(2), np.full(2, 10.0), np.ones(3), np.ones((3, 2)), time_limit_s=0.5)


def _within(wall: float, limit: float) -> None:
    assert wall <= limit * 1.1 + OVERHEAD_S, f"{wall:.2f} s for a {limit:g} s limit"


def test_routing_honours_time_limit(warm: None) -> None:
    from optimizer.routing.solve import solve_routing

    limit = 2.0
    t0 = time.perf_counter()
    sol = solve_routing(_routing_problem(), time_limit_s=limit, seed=0)
    _within(time.perf_counter() - t0, limit)
    assert sol.status and sol.engine  # the status is reported
    assert sol.routes


def test_location_honours_time_limit(warm: None) -> None:
    from optimizer.location import capacitated_fl

    rng = np.random.default_rng(1)
    m, n = 30, 200
    limit = 2.0
    t0 = time.perf_counter()
    res = capacitated_fl(rng.uniform(5000, 20000, m), rng.uniform(50, 200, m),
                         rng.uniform(1, 20, n), rng.uniform(1, 100, (n, m)),
                         single_source=True, time_limit_s=limit)
    wall = time.perf_counter() - t0
    _within(wall, limit)
    assert res.status in ("optimal", "feasible", "time_limit_no_solution"), res.status
    assert res.seconds <= wall + 1e-6
    assert res.message


def test_solve_honours_time_limit(warm: None, tiny) -> None:
    from optimizer.facade import solve
    from optimizer.limits import Limits
    from optimizer.planning.matrices import load_instance_network

    net = load_instance_network(tiny)
    limit = 2.0
    t0 = time.perf_counter()
    res = solve(tiny, scenario="peak", network=net, limits=Limits(time_s=limit), seed=0)
    _within(time.perf_counter() - t0, limit)
    assert res.day.checked
    assert res.day.solver_status


# ---- every command honours --time-limit on a slow instance and writes its best plan -------
def _cli_within(argv: list[str], limit: float) -> float:
    """Run ``coldchain ARGV`` in-process; assert exit 0 within 1.1 x limit + 1 s (the
    issue's tolerance: the process start is not counted, reading the file and writing the
    result are). Returns the wall seconds."""
    t0 = time.perf_counter()
    rc, out, err = run_cli(argv)
    wall = time.perf_counter() - t0
    assert rc == 0, err
    assert wall <= limit * 1.1 + 1.0, f"{wall:.2f} s for a {limit:g} s limit: {out}"
    return wall


def _prodhon_200_20(path: Path) -> Path:
    """A 200-customer, 20-depot CLRP in the Prodhon layout with real-valued costs (flag 1):
    the shape on which --time-limit 30 used to run past 300 s (2^20 depot sets screened)."""
    rng = np.random.default_rng(20)
    n, m = 200, 20
    rows = [str(n), str(m), ""]
    rows += [f"{x:.3f}\t{y:.3f}" for x, y in rng.uniform(0, 50, (m, 2))] + [""]
    rows += [f"{x:.3f}\t{y:.3f}" for x, y in rng.uniform(0, 50, (n, 2))] + ["", "70", ""]
    rows += [str(c) for c in rng.integers(400, 800, m)] + [""]
    rows += [str(d) for d in rng.integers(11, 21, n)] + [""]
    rows += [str(c) for c in rng.integers(5000, 15000, m)] + ["", "1000", "", "1"]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_lrp_200_customers_20_depots_honours_its_limit(tmp_path: Path) -> None:
    from optimizer.formats.prodhon import read_prodhon
    from optimizer.lrp.verify import verify_lrp

    f = _prodhon_200_20(tmp_path / "c200-20.dat")
    out = tmp_path / "plan.json"
    _cli_within(["lrp", str(f), "--time-limit", "6", "--jobs", "2", "--out", str(out)], 6)
    plan = json.loads(out.read_text())
    routes = [(r["depot"], r["customers"]) for r in plan["routes"]]
    cost = verify_lrp(read_prodhon(f), plan["open_depots"], routes)
    assert cost.total == pytest.approx(plan["objective"])


def _random_cvrp(path: Path, n: int = 400) -> Path:
    rng = np.random.default_rng(4)
    xy = rng.integers(0, 1000, (n + 1, 2))
    rows = [f"NAME : r{n}", "TYPE : CVRP", f"DIMENSION : {n + 1}",
            "EDGE_WEIGHT_TYPE : EUC_2D", "CAPACITY : 100", "NODE_COORD_SECTION"]
    rows += [f"{i + 1} {x} {y}" for i, (x, y) in enumerate(xy)]
    rows += ["DEMAND_SECTION", "1 0"] + [f"{i + 2} {d}" for i, d in
                                         enumerate(rng.integers(1, 21, n))]
    rows += ["DEPOT_SECTION", "1", "-1", "EOF"]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_route_honours_its_limit_and_writes_the_best_found(tmp_path: Path) -> None:
    f = _random_cvrp(tmp_path / "r400.vrp")
    sol = tmp_path / "r400.sol"
    _cli_within(["route", str(f), "--time-limit", "3", "--out", str(sol)], 3)
    text = sol.read_text()
    served = sorted(int(c) for ln in text.splitlines() if ln.startswith("Route")
                    for c in ln.split(":", 1)[1].split())
    assert served == list(range(1, 401))
    assert re.search(r"^Cost:? \d+", text, re.M)


def _random_cap(path: Path, m: int = 50, n: int = 500) -> Path:
    rng = np.random.default_rng(5)
    demand = rng.integers(5, 50, n)
    rows = [f"{m} {n}"] + [f"{c} {f}" for c, f in zip(rng.integers(600, 1500, m),
                                                      rng.integers(5000, 20000, m),
                                                      strict=True)]
    for d in demand:
        rows += [str(d), " ".join(f"{c:.2f}" for c in rng.uniform(1, 100, m) * d)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_locate_honours_its_limit_and_writes_the_best_found(tmp_path: Path) -> None:
    f = _random_cap(tmp_path / "capr.txt")
    out = tmp_path / "capr.json"
    _cli_within(["locate", str(f), "--format", "orlib-cap", "--time-limit", "3",
                 "--out", str(out)], 3)
    res = json.loads(out.read_text())
    assert res["objective"] is not None and res["open"], res


def test_solve_honours_its_limits_stage_by_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    """``coldchain solve`` on the Xiuwen instance: each routing solve stays within its share
    of ``--time-limit`` and each location solve within ``--location-time`` (1.1 x + 1 s;
    building a location model for 126 villages is part of its stage)."""
    from optimizer.formats.instance_toml import read_instance
    from optimizer.instance import default_instance_dir
    from optimizer.limits import Limits
    from optimizer.planning import day, planner

    stages: list[tuple[str, float, float]] = []

    def timed(name: str, fn: object, limit_of: object) -> object:
        def run(*args: object, **kwargs: object) -> object:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)  # type: ignore[operator]
            finally:
                stages.append((name, time.perf_counter() - t0,
                               limit_of(kwargs)))  # type: ignore[operator]
        return run

    monkeypatch.setattr(day, "solve_routing", timed(
        "routing", day.solve_routing, lambda kw: kw["time_limit_s"]))
    for name in ("locate_cold_stores", "choose_pickup_points"):
        monkeypatch.setattr(planner, name, timed(name, getattr(planner, name),
                                                 lambda kw: kw["time_limit_s"]))
    inst = read_instance(default_instance_dir())
    res = planner.plan(inst, limits=Limits(time_s=2.0), location_time_s=2.0, iterations=1,
                       jobs=1)
    assert res.result.outcomes  # re-checked by the plan-level checker inside plan()
    kinds = {name for name, _, _ in stages}
    assert kinds >= {"routing", "locate_cold_stores", "choose_pickup_points"}, kinds
    late = [(n, round(w, 2), lim) for n, w, lim in stages if w > 1.1 * lim + 1.0]
    assert not late, late
