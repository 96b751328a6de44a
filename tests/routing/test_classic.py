"""Solomon / VRPLIB readers, .sol writing and the ``route`` command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
import vrplib
from typer.testing import CliRunner

from optimizer.cli.route import register
from optimizer.errors import InfeasibleError, InstanceError
from optimizer.formats.classic import (
    fleet_size,
    read_classic,
    read_solomon,
    read_vrplib,
    write_solution,
)
from optimizer.routing import RouteSolution, RoutingSolution, Visit, solve_routing
from optimizer.routing import verify as check
from optimizer.routing._schedule import best_start, route_times

DATA = Path(__file__).parent / "data"
BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchdata"
SOLOMON = BENCH / "solomon"
XSET = BENCH / "cvrp_x"


def _from_routes(p, routes: list[list[int]]) -> RoutingSolution:
    """Solution from CVRPLIB customer numbers (1..n), earliest schedules."""
    out = []
    for v, r in enumerate(routes):
        seq = tuple(c - 1 for c in r)
        start = best_start(p, v, seq)
        visits, end, _, _ = route_times(p, v, seq, start)
        out.append(RouteSolution(v, visits, start, end))
    sol = RoutingSolution(tuple(out), (), 0.0)
    bd, _ = check.evaluate(p, sol)
    return RoutingSolution(sol.routes, (), bd.total / p.distance_scale)


def test_tiny_solomon_scaling() -> None:
    p = read_solomon(DATA / "tiny_solomon.txt")
    assert p.distance_scale == 1000 and len(p.stops) == 5 and len(p.vehicles) == 3
    assert p.stops[1].tw_start_s == 50_000 and p.stops[1].service_s == 10_000
    assert p.vehicles[0].shift_end_s == 400_000 and p.vehicles[0].capacity_kg == 30
    m = p.matrices["classic"]
    exact = np.hypot(45 - 40, 68 - 50) * 1000
    assert m.duration_s[0, 1] == int(np.ceil(exact)) and m.distance_m[0, 1] == round(exact)
    sol = solve_routing(p, time_limit_s=1.0)
    check.verify(p, sol)


def test_tiny_vrplib_nint_and_fleet() -> None:
    p = read_vrplib(DATA / "tiny.vrp")
    assert p.distance_scale == 1 and p.matrices["classic"].distance_m[0, 2] == 14  # nint(14.14)
    assert len(p.vehicles) == fleet_size(5, 40, 20) == 5
    sol = solve_routing(p, time_limit_s=1.0)
    assert len(sol.routes) == 3 and float(sol.objective).is_integer()


@pytest.mark.skipif(not SOLOMON.exists(), reason="benchdata absent")
def test_solomon_c101_known_optimum_routes() -> None:
    p = read_classic(SOLOMON / "instances" / "C101.txt")
    assert len(p.stops) == 100 and len(p.vehicles) == 25
    sol = _from_routes(p, vrplib.read_solution(SOLOMON / "solutions" / "C101.sol")["routes"])
    check.verify(p, sol)  # feasible under the conservative (ceil) travel times
    assert sol.objective == pytest.approx(828.94, abs=0.01)  # double-precision distance


@pytest.mark.skipif(not XSET.exists(), reason="benchdata absent")
def test_x_bks_routes_reproduce_bks() -> None:
    p = read_classic(XSET / "instances" / "X-n101-k25.vrp")
    assert len(p.stops) == 100 and p.vehicles[0].capacity_kg == 206
    sol = _from_routes(p, vrplib.read_solution(XSET / "solutions" / "X-n101-k25.sol")["routes"])
    check.verify(p, sol)
    assert sol.objective == 27591


@pytest.mark.parametrize(
    ("name", "fmt", "match"),
    [
        ("missing.vrp", None, "file not found"),
        ("garbage.vrp", None, "cannot parse as a vrplib file"),
        ("tiny.vrp", "solomon", "cannot parse as a solomon file: expected a name line"),
        ("tiny_solomon.txt", "vrplib", "cannot parse as a vrplib file"),
        ("negative_demand.vrp", None, "DEMAND_SECTION line 16: demand must be >= 0"),
        ("no_capacity.vrp", None, "CAPACITY: missing field"),
        ("tiny.vrp", "csv", "format: must be one of"),
    ],
)
def test_malformed_files(name: str, fmt: str | None, match: str) -> None:
    with pytest.raises(InstanceError, match=match) as exc:
        read_classic(DATA / name, fmt)
    assert exc.value.exit_code == 2 and "\n" not in str(exc.value)


def test_demand_above_capacity_is_infeasible(tmp_path: Path) -> None:
    f = tmp_path / "big.vrp"
    f.write_text((DATA / "tiny.vrp").read_text().replace("3 8\n", "3 25\n"))
    with pytest.raises(InfeasibleError, match="25 kg exceeds .* 20 kg") as exc:
        solve_routing(read_classic(f), time_limit_s=1.0)
    assert exc.value.exit_code == 3


def test_write_solution_roundtrip(tmp_path: Path) -> None:
    sol = RoutingSolution(
        (RouteSolution(0, (Visit(2, 0, 0), Visit(0, 0, 0)), 0, 0),
         RouteSolution(3, (Visit(1, 0, 0),), 0, 0)),
        (),
        123.5,
    )
    out = tmp_path / "x.sol"
    write_solution(out, sol)
    back = vrplib.read_solution(out)
    assert back["routes"] == [[3, 1], [2]] and back["cost"] == 123.5


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def _other() -> None:  # a second command keeps "route" as a sub-command
        pass

    return app


def test_route_cli_writes_valid_sol(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "tiny.sol"
    res = CliRunner().invoke(
        _app(),
        ["route", str(DATA / "tiny.vrp"), "--format", "vrplib", "--time-limit", "1",
         "--seed", "1", "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert "cost" in res.output and len(res.output.strip().splitlines()) == 1
    sol = vrplib.read_solution(out)
    served = sorted(c for r in sol["routes"] for c in r)
    assert served == [1, 2, 3, 4, 5]
    assert not list(out.parent.glob(".*tmp"))  # temp file renamed away


def test_route_cli_solomon_inferred_format(tmp_path: Path) -> None:
    res = CliRunner().invoke(_app(), ["route", str(DATA / "tiny_solomon.txt"),
                                      "--time-limit", "1"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("TINY5: cost")


def test_route_cli_bad_file_raises_instance_error() -> None:
    res = CliRunner().invoke(_app(), ["route", str(DATA / "garbage.vrp"), "--time-limit", "1"])
    assert isinstance(res.exception, InstanceError)
