"""``coldchain route FILE``: solve a Solomon/VRPLIB instance (classic or PyVRP's dialect of
rich variants) and write a .sol file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from optimizer.cli._common import progress

if TYPE_CHECKING:
    from optimizer.routing.problem import RoutingProblem


class ClassicFormat(StrEnum):
    solomon = "solomon"
    vrplib = "vrplib"


class Rounding(StrEnum):
    none = "none"
    round = "round"
    trunc = "trunc"
    dimacs = "dimacs"
    exact = "exact"


def route(
    file: Annotated[Path, typer.Argument(help="Solomon (.txt) or VRPLIB (.vrp) instance file.")],
    format: Annotated[  # noqa: A002 - the option is called --format
        ClassicFormat | None,
        typer.Option("--format", help="File format (default: from the extension)."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Solver time limit in seconds.")
    ] = 30.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    out: Annotated[
        Path | None, typer.Option(
            "--out", help="Write the solution (.sol) here: CVRPLIB routes for classic files; "
            "for PyVRP-dialect files route k is the file's vehicle k (empty when unused), a "
            "reload is the depot's number inside the route.")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="auto, ortools, ortools-plain or pyvrp.")
    ] = "auto",
    rounding: Annotated[
        Rounding | None, typer.Option(
            "--rounding", help="VRPLIB values as pyvrp.read's round_func: none (integers "
            "as given), round, trunc, dimacs (x10, truncated), exact (x1000, rounded). "
            "Default: nint distances for EUC_2D, none otherwise.")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(
            "--jobs", "-j", min=1, max=64, help="Parallel PyVRP searches (seeds SEED, "
            "SEED+1, ...; the cheapest is kept) where PyVRP solves the file exactly. "
            "Default: 2, or 1 on a one-core machine.")
    ] = None,
) -> None:
    """Solve a classic VRP benchmark file or one in PyVRP's VRPLIB dialect (heterogeneous
    fleets, several depots, prizes, backhauls, reloads, release times); print cost, routes
    and engine on one line."""
    from optimizer._parallel import usable_cores
    from optimizer.formats.classic import read_classic, write_solution
    from optimizer.routing import ENGINES, solve_routing

    if engine not in ENGINES:
        raise typer.BadParameter(f"must be one of {', '.join(ENGINES)}", param_hint="--engine")
    problem = read_classic(file, format.value if format is not None else None,
                           rounding.value if rounding is not None else None)
    n_jobs = jobs if jobs is not None else min(2, usable_cores())
    with progress(f"Routing {problem.name} ({time_limit:g} s limit)..."):
        sol = solve_routing(problem, time_limit_s=time_limit, seed=seed, engine=engine,
                            jobs=n_jobs)
    if out is not None:
        write_solution(out, sol, problem)
    where = f", written to {out}" if out is not None else ""
    cost = (f"{sol.objective:.0f}" if problem.cost_unit == "vrplib"
            else f"{sol.objective:.2f}")
    used = {_first_trip(problem, r.vehicle) for r in sol.routes}
    trips = f" ({len(sol.routes)} trips)" if len(sol.routes) > len(used) else ""
    typer.echo(
        f"{problem.name}: cost {cost}, {len(used)} routes{trips}, "
        f"{len(sol.dropped)} dropped, engine {sol.engine}, {sol.runtime_s:.1f} s{where}"
    )


def _first_trip(problem: RoutingProblem, v: int) -> int:
    """The slot of a vehicle's first trip (multi-trip slots follow ``after`` links)."""
    while problem.vehicles[v].after is not None:
        v = int(problem.vehicles[v].after)  # type: ignore[arg-type]
    return v


def register(app: typer.Typer) -> None:
    """Add the ``route`` command to ``app``."""
    app.command("route")(route)


__all__ = ["register", "route"]
