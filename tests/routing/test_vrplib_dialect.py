"""PyVRP's VRPLIB dialect: reading every family, rounding, .sol output, scoring by PyVRP's
own evaluator and by our checker, and one-line errors (exit 2) on bad input."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
import pyvrp
import typer
from pyvrp.constants import MAX_VALUE
from typer.testing import CliRunner

from optimizer.cli.route import register
from optimizer.errors import InfeasibleError, InstanceError
from optimizer.formats.classic import read_classic, write_solution
from optimizer.formats.vrplib_dialect import (
    file_vehicles,
    read_solution_trips,
    read_vrplib,
    solution_text,
)
from optimizer.routing import solution_from_trips, solve_routing
from optimizer.routing import verify as check
from optimizer.routing._pyvrp import build_data
from optimizer.routing.solve import precheck

DATA = Path(__file__).parent / "data" / "rich"
RICH = Path(__file__).resolve().parents[2].parent / "shared" / "benchdata" / "rich_vrplib"
FAMILIES = {"hf": "HFVRP", "md": "MDVRPTW", "mt": "MTVRPTWR", "pc": "PCVRPTW", "b": "VRPB"}


def _pyvrp_score(vrp: Path, sol: Path, rounding: str) -> tuple[bool, int]:
    data = pyvrp.read(vrp, round_func=rounding)
    solution = pyvrp.read_solution(sol, data)
    cost = pyvrp.CostEvaluator([0] * data.num_load_dimensions, 0, 0).cost(solution)
    return solution.is_feasible() and solution.is_complete() and cost < MAX_VALUE, int(cost)


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def _other() -> None:  # a second command keeps "route" as a sub-command
        pass

    return app


# ---- the five families on tiny files ---------------------------------------------------
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_tiny_family_solved_and_scored_alike_by_pyvrp(name: str, tmp_path: Path) -> None:
    """The issue's five cases: each file is read whole, solved, written in the published
    convention, and PyVRP's evaluator and our checker agree on feasibility and cost."""
    vrp = DATA / f"{name}.vrp"
    problem = read_vrplib(vrp, "round")
    sol = solve_routing(problem, time_limit_s=1.0, seed=1)
    check.verify(problem, sol)
    out = tmp_path / f"{name}.sol"
    write_solution(out, sol, problem)
    feasible, cost = _pyvrp_score(vrp, out, "round")
    assert feasible and cost == sol.objective
    again = solution_from_trips(problem, read_solution_trips(out, problem))
    assert check.verify(problem, again).total == sol.objective


def test_cli_route_exit_0_on_every_family(tmp_path: Path) -> None:
    for name in FAMILIES:
        out = tmp_path / f"{name}.sol"
        res = CliRunner().invoke(_app(), ["route", str(DATA / f"{name}.vrp"), "--format",
                                          "vrplib", "--time-limit", "0.5", "--jobs", "1",
                                          "--rounding", "round", "--out", str(out)])
        assert res.exit_code == 0, (name, res.output, res.exception)
        assert _pyvrp_score(DATA / f"{name}.vrp", out, "round")[0]


def test_hfvrp_per_vehicle_capacity_and_costs() -> None:
    p = read_vrplib(DATA / "hf.vrp")
    assert [v.capacity_kg for v in p.vehicles] == [20, 10, 10]
    assert [v.fixed_fen for v in p.vehicles] == [100, 30, 30]
    assert [v.fen_per_km for v in p.vehicles] == [2000.0, 1000.0, 1000.0]
    assert p.cost_unit == "vrplib" and p.stops[0].id == "1"


def test_mdvrptw_depot_per_vehicle_and_max_duration() -> None:
    p = read_vrplib(DATA / "md.vrp")
    assert [v.start for v in p.vehicles] == [0, 0, 1, 1]
    assert all(v.max_duration_s == 90 for v in p.vehicles)
    assert [s.node for s in p.stops] == list(range(2, 8))
    assert p.stops[1].tw_start_s == 20 and p.stops[1].service_s == 10


def test_mtvrptwr_reloads_are_chained_slots_and_written_inside_the_route(
        tmp_path: Path) -> None:
    p = read_vrplib(DATA / "mt.vrp")
    assert [v.after for v in p.vehicles] == [None, 0, 1, 2, 3]  # 5 clients: 5 trips at most
    assert [s.release_s for s in p.stops] == [0, 0, 60, 60, 0]
    sol = solve_routing(p, time_limit_s=1.0)
    assert len(sol.routes) >= 2  # 18 units of demand, capacity 10
    for r in sol.routes:
        assert r.start_s >= max(p.stops[v.stop].release_s for v in r.visits)
    text = solution_text(p, sol)
    route = text.splitlines()[0].split(":")[1].split()
    assert "0" in route[1:-1] and text.endswith(f"Cost: {sol.objective:.0f}\n")


def test_pcvrptw_prizes_required_clients_and_dropped_cost() -> None:
    p = read_vrplib(DATA / "pc.vrp")
    assert [s.drop_penalty_fen for s in p.stops] == [None, 40, None, 35, 30, 25]
    sol = solve_routing(p, time_limit_s=1.0)
    assert 5 in sol.dropped  # the far client's prize (25) is below the detour
    assert check.verify(p, sol).dropped == 25


def test_vrpb_linehauls_first_in_every_route() -> None:
    p = read_vrplib(DATA / "b.vrp")
    assert p.backhauls_last and len(p.vehicles) == 6  # no VEHICLES: one per client
    sol = solve_routing(p, time_limit_s=1.0)
    for r in sol.routes:
        kinds = ["B" if p.stops[v.stop].pickup_kg else "L" for v in r.visits]
        assert kinds[0] == "L" and "".join(kinds) == "".join(sorted(kinds, reverse=True))


def test_written_sol_has_one_route_line_per_vehicle(tmp_path: Path) -> None:
    p = read_vrplib(DATA / "hf.vrp")
    sol = solve_routing(p, time_limit_s=0.5)
    lines = solution_text(p, sol).splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["Route #1", "Route #2", "Route #3", "Cost"]
    assert len(file_vehicles(p)) == 3


# ---- rounding ---------------------------------------------------------------------------
@pytest.mark.parametrize("rounding", ["round", "trunc", "dimacs", "exact"])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_rounding_gives_pyvrp_read_data(name: str, rounding: str) -> None:
    vrp = DATA / f"{name}.vrp"
    ref = pyvrp.read(vrp, round_func=rounding)
    ours, _, _ = build_data(read_vrplib(vrp, rounding))
    assert np.array_equal(ours.distance_matrix(0), ref.distance_matrix(0))
    for a, b in zip(ours.clients(), ref.clients(), strict=True):
        assert (a.delivery, a.pickup, a.service_duration, a.tw_early, a.release_time,
                a.prize, a.required) == (b.delivery, b.pickup, b.service_duration,
                                         b.tw_early, b.release_time, b.prize, b.required)
        assert a.tw_late == b.tw_late or (a.tw_late >= 2**62 and b.tw_late >= 2**62)
    caps = sorted(c for vt in ref.vehicle_types() for c in vt.capacity * vt.num_available)
    assert sorted(c for vt in ours.vehicle_types()
                  for c in vt.capacity * vt.num_available) == caps


def test_default_rounding_keeps_classic_nint_and_none_refuses_fractions() -> None:
    p = read_classic(Path(__file__).parent / "data" / "tiny.vrp")
    assert p.matrices["classic"].distance_m[0, 2] == 14 and p.cost_unit == "fen"
    with pytest.raises(InstanceError, match="must be integers under --rounding none"):
        read_vrplib(DATA / "hf.vrp", "none")
    with pytest.raises(InstanceError, match="--rounding: must be one of"):
        read_vrplib(DATA / "hf.vrp", "ceil")


# ---- best-known solutions of the real sets ----------------------------------------------
@pytest.mark.skipif(not RICH.exists(), reason="benchdata absent")
@pytest.mark.parametrize("family", ["HFVRP", "MDVRPTW", "PCVRPTW", "VRPB", "MTVRPTWR"])
def test_best_known_solution_costs_agree_with_pyvrp(family: str) -> None:
    with (RICH / family / "bks.csv").open(newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["dimension"]))
    row = rows[0]
    vrp = RICH / family / "instances" / f"{row['instance']}.vrp"
    sol = RICH / family / "solutions" / f"{row['instance']}.sol"
    problem = read_vrplib(vrp, row["rounding"])
    ours = solution_from_trips(problem, read_solution_trips(sol, problem))
    total = check.verify(problem, ours).total
    feasible, cost = _pyvrp_score(vrp, sol, row["rounding"])
    assert feasible and total == cost == ours.objective
    unit = 100_000 if family == "HFVRP" else 1
    assert cost / unit == pytest.approx(float(row["bks"]), abs=1e-5)


# ---- bad input: one line naming file, field or line, and the fix; exit 2 ------------------
def _mutated(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (DATA / name).read_text()
    assert old in text, old
    f = tmp_path / name
    f.write_text(text.replace(old, new, 1))
    return f


@pytest.mark.parametrize(("name", "old", "new", "match"), [
    ("pc.vrp", "PRIZE_SECTION\n1 0\n2 0\n3 40", "PRIZE_SECTION\n1 0\n2 0\n3 forty",
     r"PRIZE_SECTION line 35: is not a number \(got 'forty'\); write a number"),
    ("hf.vrp", "VEHICLES: 3", "VEHICLES: 0", r"VEHICLES \(line 5\): must be an integer >= 1"),
    ("hf.vrp", "3 10\nVEHICLES_FIXED", "VEHICLES_FIXED",
     r"CAPACITY_SECTION \(line 23\): has 2 rows, VEHICLES needs 3"),
    ("md.vrp", "8 5\nSERVICE", "SERVICE",
     r"DEMAND_SECTION \(line 18\): has 7 rows, DIMENSION needs 8"),
    ("b.vrp", "TYPE: VRPB", "TYPE: SDVRP", "TYPE .*problem type not supported"),
    ("b.vrp", "DEPOT_SECTION", "MUTUALLY_EXCLUSIVE_GROUP_SECTION\n1 2\nDEPOT_SECTION",
     "client groups are not supported"),
    ("b.vrp", "CAPACITY: 10", "CAPACITY: 10\nFOO_BAR: 3", r"FOO_BAR \(line 6\): unknown field"),
    ("b.vrp", "7 0\nDEPOT", "7 3\nDEPOT", "VRPB client 7 has both a linehaul and a backhaul"),
    ("mt.vrp", "CAPACITY: 10", "CAPACITY: 10\nVEHICLES_MAX_DURATION: 300",
     "cannot be combined with reloads"),
    ("mt.vrp", "1 1\nDEPOT", "1 2\nDEPOT", "reloads only at the vehicle's own depot"),
    ("md.vrp", "3 2\n4 2\nDEPOT", "3 2\n4 3\nDEPOT", "must be a depot 1..2"),
    ("md.vrp", "4 20 100", "4 120 100", "window opens after it closes"),
    ("hf.vrp", "4 0 10\n", "5 0 10\n", "NODE_COORD_SECTION line 11: row number 4 expected"),
    ("pc.vrp", "7 0 1000", "7 0 -1000", "TIME_WINDOW_SECTION line 31: time windows must be"),
    ("mt.vrp", "5 60", "5 600", "RELEASE_TIME_SECTION line 35: release time after"),
    ("pc.vrp", "VEHICLES : 2", "VEHICLES : 99999999", "VEHICLES .*too many"),
    ("pc.vrp", "7 300 300", "7 300", "expected 3 values"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, name: str, old: str, new: str,
                                      match: str) -> None:
    f = _mutated(tmp_path, name, old, new)
    with pytest.raises(InstanceError, match=match) as exc:
        read_vrplib(f)
    msg = str(exc.value)
    assert exc.value.exit_code == 2 and "\n" not in msg and msg.startswith(str(f))
    assert "; " in msg  # a fix follows


def test_truncated_file_names_the_short_section(tmp_path: Path) -> None:
    text = (DATA / "pc.vrp").read_text()
    f = tmp_path / "cut.vrp"
    f.write_text(text[: text.index("PRIZE_SECTION") + 30])
    with pytest.raises(InstanceError, match=r"PRIZE_SECTION .*is the file truncated"):
        read_vrplib(f)


def test_cli_bad_file_exit_2_one_line(tmp_path: Path) -> None:
    from optimizer.cli import main

    f = _mutated(tmp_path, "pc.vrp", "3 40", "3 forty")
    with pytest.raises(SystemExit) as exc:
        import sys
        argv = sys.argv
        sys.argv = ["coldchain", "route", str(f), "--time-limit", "0.5"]
        try:
            raise SystemExit(main())
        finally:
            sys.argv = argv
    assert exc.value.code == 2


def _mutations(text: str, rng: random.Random, n: int) -> list[str]:
    lines = text.splitlines()
    out = []
    for _ in range(n):
        ls = list(lines)
        k = rng.randrange(len(ls))
        op = rng.randrange(6)
        if op == 0:
            del ls[k]
        elif op == 1:
            ls.insert(k, ls[rng.randrange(len(ls))])
        elif op == 2:
            ls = ls[:k]
        else:
            toks = ls[k].split()
            if toks:
                j = rng.randrange(len(toks))
                toks[j] = rng.choice(["-5", "abc", "1e30", "0", "2.5", "nan", "99999999",
                                      "-1"])
                ls[k] = " ".join(toks)
        out.append("\n".join(ls) + "\n")
    return out


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_mutated_files_never_crash(tmp_path: Path, name: str) -> None:
    """Random line deletions, duplications, truncations and bad numbers: the reader and
    PyVRP's data validation raise nothing but InstanceError / InfeasibleError."""
    rng = random.Random(name)
    f = tmp_path / f"{name}.vrp"
    for text in _mutations((DATA / f"{name}.vrp").read_text(), rng, 60):
        f.write_text(text)
        for rounding in (None, "round", "dimacs"):
            try:
                p = read_vrplib(f, rounding)
                precheck(p)
                build_data(p)
            except (InstanceError, InfeasibleError):
                pass


@pytest.mark.skipif(not RICH.exists(), reason="benchdata absent")
def test_mutated_benchmark_files_never_crash(tmp_path: Path) -> None:
    rng = random.Random(7)
    f = tmp_path / "x.vrp"
    for family, inst in (("HFVRP", "X101-FSMFD"), ("MTVRPTWR", "C201R0.5"),
                         ("MDVRPTW", "PR11A")):
        for text in _mutations((RICH / family / "instances" / f"{inst}.vrp").read_text(),
                               rng, 15):
            f.write_text(text)
            try:
                p = read_vrplib(f, "dimacs")
                precheck(p)
                build_data(p)
            except (InstanceError, InfeasibleError):
                pass
