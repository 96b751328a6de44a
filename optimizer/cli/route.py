"""``coldchain route FILE``: solve a classic Solomon/VRPLIB instance and write a .sol file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from optimizer._io import atomic_path


class ClassicFormat(StrEnum):
    solomon = "solomon"
    vrplib = "vrplib"


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
        Path | None, typer.Option("--out", help="Write the solution (CVRPLIB .sol) here.")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="auto, ortools, ortools-plain or pyvrp.")
    ] = "auto",
) -> None:
    """Solve a classic VRP benchmark file; print cost, routes and engine on one line."""
    from optimizer.formats.classic import read_classic, write_solution
    from optimizer.routing import ENGINES, solve_routing

    if engine not in ENGINES:
        raise typer.BadParameter(f"must be one of {', '.join(ENGINES)}", param_hint="--engine")
    problem = read_classic(file, format.value if format is not None else None)
    sol = solve_routing(problem, time_limit_s=time_limit, seed=seed, engine=engine)
    if out is not None:
        with atomic_path(out) as tmp:
            write_solution(tmp, sol)
    where = f", written to {out}" if out is not None else ""
    typer.echo(
        f"{problem.name}: cost {sol.objective:.2f}, {len(sol.routes)} routes, "
        f"{len(sol.dropped)} dropped, engine {sol.engine}, {sol.runtime_s:.1f} s{where}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``route`` command to ``app``."""
    app.command("route")(route)


__all__ = ["register", "route"]
