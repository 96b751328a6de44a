"""``coldchain check INSTANCE PLAN_JSON``: re-verify a (hand-edited) plan against its instance.

Exit codes: 0 valid (the recomputed year in money, when the plan has both the baseline and
the plan, and the recomputed KPI table are printed), 3 violations (one line each on
stderr), 2 malformed instance or plan file (one line from the error tree).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optimizer.errors import CheckError

__all__ = ["check", "register"]


def check(
    instance: Annotated[Path, typer.Argument(help="Instance TOML file or its directory.")],
    plan_json: Annotated[Path, typer.Argument(
        help="plan.json written by `coldchain solve --out DIR` (possibly edited by hand).")],
) -> None:
    """Recompute every route, load, time window, capacity and KPI of PLAN_JSON from scratch."""
    from rich.console import Console

    from optimizer.formats.instance_toml import read_instance
    from optimizer.planning.verify import check_plan
    from optimizer.report import print_kpi_table, print_year_table

    inst = read_instance(instance)
    result, violations = check_plan(inst, plan_json)
    if violations:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for line in violations:
            err.print(line, markup=False)
        # CheckError (exit 3) rather than typer.Exit(3): the CLI runs click with
        # standalone_mode=False, where an Exit's code is returned by app() and lost
        raise CheckError([f"{plan_json}: {len(violations)} violation"
                          f"{'s' if len(violations) != 1 else ''}; edit the plan and check "
                          "again"])
    out = Console(soft_wrap=True)
    print_year_table(result, out, instance=inst)  # nothing without both kinds
    print_kpi_table(result, out)
    n = sum(len(o.day.routes) for o in result.outcomes)
    out.print(f"{plan_json}: valid ({len(result.outcomes)} scenario plans, {n} routes "
              "recomputed)", markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to ``app``."""
    app.command("check")(check)
