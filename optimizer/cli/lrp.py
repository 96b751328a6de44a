"""``coldchain lrp FILE``: solve a capacitated location-routing instance, write plan JSON."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from optimizer._io import write_json
from optimizer.cli._common import progress


class LrpFormat(StrEnum):
    prodhon = "prodhon"


class Rounding(StrEnum):
    ceil = "ceil"
    floor = "floor"


def lrp(
    file: Annotated[Path, typer.Argument(help="Location-routing instance file (Prodhon .dat).")],
    format: Annotated[  # noqa: A002 - the option is called --format
        LrpFormat, typer.Option("--format", help="File format.")
    ] = LrpFormat.prodhon,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, help="Time limit in seconds.")
    ] = 60.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Worker processes.")] = 2,
    rounding: Annotated[
        Rounding,
        typer.Option("--rounding", help="Arc cost = 100 x Euclid rounded up (ceil, the "
                     "published BKS convention) or down (floor)."),
    ] = Rounding.ceil,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the plan as JSON here.")
    ] = None,
) -> None:
    """Open depots and route vehicles (capacitated location-routing); print a summary."""
    from optimizer.formats.prodhon import read_prodhon
    from optimizer.lrp import solve_lrp

    inst = read_prodhon(file, rounding=rounding.value)
    with progress(f"Location-routing {inst.name} ({time_limit:g} s limit)..."):
        sol = solve_lrp(inst, time_limit_s=time_limit, seed=seed, jobs=jobs)
    if out is not None:
        payload = {"instance": inst.name, "format": format.value, "rounding": inst.rounding,
                   **sol.to_dict()}
        write_json(out, payload)
    where = f", written to {out}" if out is not None else ""
    typer.echo(
        f"{inst.name}: cost {sol.objective:.0f} (opening {sol.opening_cost:.0f}, routes "
        f"{sol.route_fixed_cost:.0f}, distance {sol.distance_cost:.0f}), depots "
        f"{list(sol.open_depots)}, {len(sol.routes)} routes, {sol.seconds:.1f} s{where}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``lrp`` command to ``app``."""
    app.command("lrp")(lrp)


__all__ = ["lrp", "register"]
