"""The ``coldchain`` command line: parse arguments, call the library, print, map errors.

Exit codes: 0 ok, 1 internal error, 2 input error, 3 infeasible.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from optimizer._stdio import fd1_to_stderr
from optimizer.errors import ColdChainError, InputError

app = typer.Typer(
    name="coldchain",
    help="Plan cold-chain and last-mile logistics for mountain townships "
    "(facility location and vehicle routing on road networks with OR-Tools).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_INSTANCE = Path("instances/xiuwen-kiwifruit")

InstanceArg = Annotated[
    Path | None,
    typer.Argument(help="Instance TOML file or its directory (default: the Xiuwen kiwifruit "
                   "instance).", show_default=False),
]


def _default_instance(path: Path | None) -> Path:
    if path is not None:
        return path
    here = Path.cwd() / DEFAULT_INSTANCE
    if here.exists():
        return here
    repo = Path(__file__).resolve().parent.parent / DEFAULT_INSTANCE
    if repo.exists():
        return repo
    raise InputError.at(DEFAULT_INSTANCE, "INSTANCE", "default instance not found",
                        fix="run from the repository root or pass an instance path")


out = Console(soft_wrap=True)


@app.command()
def validate(instance: InstanceArg = None) -> None:
    """Check an instance's files (TOML, CSV tables, network reference) and summarise it."""
    from optimizer.formats.instance_toml import read_instance

    inst = read_instance(_default_instance(instance))
    peak = {s.id: sum(v.produce_kg_per_day[s.id] for v in inst.villages) for s in inst.seasons}
    orders = {s.id: sum(v.orders_per_day[s.id] for v in inst.villages) for s in inst.seasons}
    out.print(f"[bold]{inst.name}[/bold]: {inst.title}")
    out.print(f"  villages {len(inst.villages)}, cold-store sites {len(inst.cold_store_sites)} "
              f"({sum(s.existing for s in inst.cold_store_sites)} existing), pickup sites "
              f"{len(inst.pickup_sites)} ({sum(p.existing for p in inst.pickup_sites)} existing), "
              f"vehicle types {len(inst.vehicle_types)}, scenarios "
              f"{', '.join(s.id for s in inst.scenarios)}")
    for s in inst.seasons:
        out.print(f"  season {s.id} ({s.days} d): produce {peak[s.id] / 1000:,.1f} t/day, "
                  f"parcels {orders[s.id]:,.0f}/day")
    out.print("  valid")


@app.command()
def network(instance: InstanceArg = None) -> None:
    """Describe an instance's road network: size, km by road class, components, reachability."""
    from optimizer.planning.matrices import build_matrices, load_instance_network
    from optimizer.roads import network_stats
    from optimizer.solve import load_instance

    inst = load_instance(_default_instance(instance))
    net = load_instance_network(inst)
    st = network_stats(net)
    out.print(f"[bold]{net.name}[/bold] ({inst.network_path})")
    out.print(f"  nodes {st.nodes:,}, directed edges {st.edges:,}, weakly connected components "
              f"{st.components} (largest {st.largest_component_nodes:,} nodes)")
    table = Table("road class", "km")
    for cls, km in st.km_by_class.items():
        table.add_row(cls, f"{km:,.1f}")
    out.print(table)
    m = build_matrices(inst, net)
    n = len(m.coverage.ids)
    out.print(f"  sites {n}: all snapped within {inst.operations.max_snap_m:,.0f} m and mutually "
              f"reachable; unreachable sites: none")
    out.print(f"  matrices: {len(set(map(id, m.by_vehicle_type.values()))) + 1} profiles x "
              f"{n} x {n} built in {m.build_s:.2f} s")


@app.command()
def solve(
    instance: InstanceArg = None,
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", "-s", help="Scenario id to plan; repeat for several (default: all).")
    ] = None,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=0.1,
        help="Routing seconds per scenario and plan (split over depots).")] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed (deterministic per seed and "
                                      "--solution-limit).")] = 0,
    solution_limit: Annotated[int | None, typer.Option(
        "--solution-limit", min=1,
        help="Stop each routing search after this many improving solutions "
        "(deterministic runs).")] = None,
    iterations: Annotated[int, typer.Option(
        min=1, max=10, help="Location-routing rounds (route costs fed back into location).")
    ] = 2,
    location_time: Annotated[float, typer.Option(
        "--location-time", min=0.1,
        help="Seconds per location model solve (pickup points, then cold stores in every "
        "round).")] = 20.0,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Write plan.json, plan.gpkg, kpis.csv, report.md, charts and map.html "
        "into this directory.")] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, max=64,
        help="Worker processes for routing the scenario days (same plan for any value).")
    ] = 2,
    baseline_only: Annotated[bool, typer.Option(
        "--baseline-only", help="Only route today's sites and fleet for one scenario "
        "(quick look; --scenario picks it, default peak).")] = False,
) -> None:
    """Plan sites, modules, pickup points and routes for every scenario; print KPIs vs today."""
    from optimizer.limits import Limits
    from optimizer.solve import load_instance

    inst = load_instance(_default_instance(instance))
    limits = Limits(time_s=time_limit, solution_limit=solution_limit)
    if baseline_only:
        _solve_baseline(inst, (scenario or ["peak"])[0], limits, seed)
        return
    from optimizer.planning.planner import plan
    from optimizer.report import print_kpi_table, write_outputs

    if out_dir is not None:
        _check_out_dir(inst, out_dir)
    with out.status(f"Planning {inst.name}...") as status:
        planning = plan(inst, scenarios=scenario, limits=limits, seed=seed,
                        iterations=iterations, location_time_s=location_time, jobs=jobs,
                        progress=lambda msg: status.update(f"Planning {inst.name}: {msg}..."))
    res = planning.result
    _print_sites(inst, res)
    print_kpi_table(res, out)
    checked = all(o.day.checked for o in res.outcomes)
    out.print(f"every routed day passed the independent checker: {checked}; "
              f"{res.runtime_s:.0f} s, seed {res.seed}, routing {time_limit:g} s per scenario "
              "and plan")
    if out_dir is not None:
        paths = write_outputs(out_dir, inst, res, networks=planning.networks,
                              matrices=planning.matrices)
        out.print(f"wrote {len(paths)} files to {out_dir}: "
                  + ", ".join(p.name for p in paths))


def _check_out_dir(inst: object, out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError.at(out_dir, "--out", "exists and is not a directory",
                            fix="give a directory path")


def _print_sites(inst, res) -> None:  # type: ignore[no-untyped-def]
    stores = {s.id: s for s in inst.cold_store_sites}
    today = {s.id: s.existing_modules for s in inst.cold_store_sites if s.existing}
    t = Table("season", "cold stores open (modules)", "modules", "today", "status",
              title="Cold storage per season (location model)")
    for ss in res.seasons:
        sites = ", ".join(f"{stores[sid].name} ({n})" for sid, n in sorted(ss.modules.items())
                          if n > 0)
        gap = abs(ss.objective_yuan - ss.bound_yuan) / max(1.0, abs(ss.objective_yuan))
        t.add_row(ss.season, sites or "-", str(sum(ss.modules.values())),
                  str(sum(today.values())), f"{ss.status} (gap {gap:.1e})")
    out.print(t)
    existing = {p.id for p in inst.pickup_sites if p.existing}
    new = [p for p in res.pickup_points if p not in existing]
    base = next((o for o in res.outcomes if o.plan == "baseline"), None)
    plan_o = next((o for o in res.outcomes if o.plan == "plan"), None)
    line = (f"pickup points: {len(res.pickup_points)} ({len(existing)} today + {len(new)} new, "
            f"{res.pickup_status})")
    if base is not None and plan_o is not None:
        line += (f"; villages within {inst.operations.coverage_radius_min:g} min: "
                 f"{plan_o.kpis.village_coverage_pct:.1f}% (today "
                 f"{base.kpis.village_coverage_pct:.1f}%)")
    out.print(line)


def _solve_baseline(inst, scenario: str, limits, seed: int) -> None:  # type: ignore[no-untyped-def]
    from optimizer.solve import solve as solve_fn

    with out.status(f"Routing {inst.name} / {scenario} ({limits.time_s:g} s limit)..."):
        res = solve_fn(inst, scenario=scenario, limits=limits, seed=seed)
    k = res.kpis
    out.print(f"[bold]{inst.name}[/bold], scenario [bold]{res.scenario}[/bold], "
              "today's sites and fleet")
    t = Table("figure", "value")
    t.add_row("cost per order (yuan)", f"{k.cost_per_order_yuan:.2f}")
    t.add_row("spoilage (% of produce mass)", f"{k.spoilage_mass_pct:.2f}")
    t.add_row("villages within "
              f"{inst.operations.coverage_radius_min:g} min of a pickup point (%)",
              f"{k.village_coverage_pct:.1f}")
    t.add_row("households covered (%)", f"{k.household_coverage_pct:.1f}")
    t.add_row("cold-chain coverage (% pre-cooled in time)", f"{k.cold_chain_pct:.1f}")
    t.add_row("orders handled", f"{k.orders:,.0f}")
    t.add_row("produce collected / ready (t)", f"{k.collected_kg / 1000:,.1f} / "
              f"{k.produce_kg / 1000:,.1f}")
    t.add_row("parcels not delivered", f"{k.parcels_dropped:,.0f}")
    t.add_row("logistics cost (yuan/day)", f"{k.logistics_cost_yuan:,.0f}")
    t.add_row("km driven", f"{k.distance_km:,.1f}")
    t.add_row("vehicles used", f"{k.vehicles_used}")
    out.print(t)
    out.print(f"routes {len(res.day.routes)}, checked: {res.day.checked}, "
              f"engine {res.day.engine} ({res.day.solver_status}), "
              f"{res.runtime_s:.1f} s, seed {res.seed}")


def _register_optional() -> None:
    import importlib

    for mod in (
        "optimizer._cli_generate",
        "optimizer._cli_route",
        "optimizer._cli_locate",
        "optimizer._cli_lrp",
        "optimizer._cli_check",
        "optimizer._cli_batch",
    ):
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name == mod:
                continue
            raise
        module.register(app)


_register_optional()


def _usage_error(exc: BaseException) -> tuple[str, int] | None:
    """(message, exit code) for a command-line usage error (click's or typer's vendored
    ``ClickException``: unknown option, bad value, missing argument), else None."""
    fmt = getattr(exc, "format_message", None)
    code = getattr(exc, "exit_code", None)
    if not callable(fmt) or not isinstance(code, int):
        return None
    if type(exc).__name__ == "NoArgsIsHelpError":
        return "", 0
    return " ".join(str(fmt()).split()), code if code else 2


@contextmanager
def c_stdout_to_stderr() -> Iterator[None]:
    """While inside: writes by C libraries to file descriptor 1 (a stray HiGHS debug line
    such as ``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``)
    go to stderr, and Python's ``sys.stdout`` keeps writing to the original stdout, so
    stdout carries the tool's own output only (safe to pipe). A no-op when ``sys.stdout``
    is not file descriptor 1 (e.g. captured by a test harness)."""
    try:
        is_fd1 = sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        is_fd1 = False
    if not is_fd1:
        yield
        return
    old = sys.stdout
    with fd1_to_stderr() as saved:
        new = io.TextIOWrapper(io.FileIO(saved, "w", closefd=False), encoding=old.encoding,
                               errors=old.errors,
                               line_buffering=bool(getattr(old, "line_buffering", False)))
        sys.stdout = new
        try:
            yield
        finally:
            try:
                new.flush()
            finally:
                sys.stdout = old


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 internal, 2 input, 3 infeasible)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if not (sys.argv[1:] if argv is None else argv):
        argv = ["--help"]
    try:
        with c_stdout_to_stderr():
            rc = app(args=argv, prog_name="coldchain", standalone_mode=False)
    except ColdChainError as exc:
        err.print(f"error: {exc}", markup=False)
        return exc.exit_code
    except typer.Abort:
        err.print("error: aborted", markup=False)
        return 1
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except KeyboardInterrupt:
        err.print("error: interrupted", markup=False)
        return 1
    except MemoryError:
        err.print("error: out of memory; reduce the instance size or the limits", markup=False)
        return 1
    except Exception as exc:
        usage = _usage_error(exc)
        if usage is not None:
            message, code = usage
            if message:
                err.print(f"error: {message}; see coldchain --help", markup=False)
            return code
        if os.environ.get("COLDCHAIN_DEBUG"):  # an internal bug: one line unless asked
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} (please report it; set "
                  "COLDCHAIN_DEBUG=1 to see the traceback)", markup=False)
        return 1
    return int(rc) if isinstance(rc, int) else 0


def run() -> None:  # pragma: no cover - console entry point
    """Console entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
