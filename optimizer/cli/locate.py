"""``coldchain locate``: solve an OR-Library location file and write the result as JSON."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from optimizer._io import write_json
from optimizer.cli._common import progress
from optimizer.errors import InstanceError
from optimizer.formats.orlib import read_orlib_cap, read_orlib_pmed, read_orlib_uncap
from optimizer.location import LocationResult, capacitated_fl, p_median, uncapacitated_fl

__all__ = ["locate", "register", "solve_orlib_file"]


class OrlibFormat(StrEnum):
    cap = "orlib-cap"
    uncap = "orlib-uncap"
    pmed = "orlib-pmed"


def solve_orlib_file(path: Path, fmt: str, *, time_limit_s: float,
                     capacity: float | None = None) -> tuple[str, LocationResult]:
    """Read ``path`` in format ``fmt`` and solve it; returns (problem name, result)."""
    if fmt == OrlibFormat.pmed.value:
        pm = read_orlib_pmed(path)
        return "p-median", p_median(pm.cost, pm.p, time_limit_s=time_limit_s)
    if fmt == OrlibFormat.uncap.value:
        u = read_orlib_uncap(path)
        return "uncapacitated-fl", uncapacitated_fl(u.open_cost, u.alloc_cost,
                                                    time_limit_s=time_limit_s)
    if fmt == OrlibFormat.cap.value:
        c = read_orlib_cap(path, capacity=capacity)
        return "capacitated-fl", capacitated_fl(c.open_cost, c.capacity, c.demand, c.unit_cost,
                                                time_limit_s=time_limit_s)
    raise InstanceError.at(None, "--format", "unknown format", got=fmt,
                           fix="use orlib-cap, orlib-uncap or orlib-pmed")


def result_to_json(problem: str, path: Path, res: LocationResult) -> dict[str, Any]:
    """JSON-ready dict; facility numbers are 1-based as in the OR-Library files."""
    def num(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    out: dict[str, Any] = {
        "instance": path.stem,
        "problem": problem,
        "status": res.status,
        "objective": num(res.objective),
        "bound": num(res.bound),
        "gap": num(res.gap),
        "open": [j + 1 for j in res.open],
        "seconds": round(res.seconds, 4),
        "message": res.message,
    }
    if res.assignment is not None and res.assignment.ndim == 1:
        out["assignment"] = [int(j) + 1 if j >= 0 else None for j in res.assignment]
    return out


def locate(
    file: Annotated[Path, typer.Argument(help="Instance file (OR-Library format).")],
    format: Annotated[OrlibFormat, typer.Option("--format", help="Input file format.")],
    out: Annotated[Path, typer.Option("--out", help="Result JSON path (written atomically).")],
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.01,
                                              help="Solver time limit, seconds.")] = 60.0,
    capacity: Annotated[float | None, typer.Option(
        "--capacity", help="Capacity for capa/capb/capc files (literal 'capacity').")] = None,
) -> None:
    """Solve a facility-location file (p-median, UFL or CFL) and write a JSON result."""
    with progress(f"Solving {file.name} ({format.value}, {time_limit:g} s limit)..."):
        problem, res = solve_orlib_file(file, format.value, time_limit_s=time_limit,
                                        capacity=capacity)
    write_json(out, result_to_json(problem, file, res))
    typer.echo(f"{file.name}: {problem} {res.status} objective {res.objective:.6g} "
               f"gap {res.gap:.2e} in {res.seconds:.2f}s -> {out}")


def register(app: typer.Typer) -> None:
    """Add the ``locate`` command to the main CLI app."""
    app.command("locate")(locate)
