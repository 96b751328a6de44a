"""Rich VRP benchmark: ours vs PyVRP alone on PyVRP's VRPLIB dialect (five families).

Usage (from the project root)::

    python benchmarks/rich_vrp.py --time-limit 60 --per-family 3
    python benchmarks/rich_vrp.py --families VRPB,HFVRP --only n5 --time-limit 20

Families (``../shared/benchdata/rich_vrplib/FAMILY``; see its SOURCE.md): HFVRP, MDVRPTW,
PCVRPTW, VRPB, MTVRPTWR, each read with the rounding its best-known costs were published
under (``bks.csv``). Solvers, at the same wall-clock limit per instance, one after the
other on each instance:

* ``ours``: ``coldchain route``'s path: ``read_vrplib(rounding)`` and
  ``solve_routing(engine="auto", jobs=--jobs)`` (PyVRP lanes on ``--jobs`` cores);
* ``pyvrp`` (skipped with ``--no-peers``): ``pyvrp.read(round_func)`` and ``pyvrp.solve``
  with its default parameters and ``MaxRuntime``, one core.

Every solution of both solvers is written as a ``.sol`` file (the published convention)
and scored twice: by PyVRP (``pyvrp.read_solution``, ``is_feasible()``, a cost below
PyVRP's forbidden-arc value, ``CostEvaluator`` cost) and by our checker
(``optimizer.routing.verify`` on the file read back); ``agree`` says both gave the same
verdict and cost. Gap = 100 x (cost / unit - bks) / bks, unit = 100,000 for HFVRP (its
published costs), else 1.

Writes ``benchmarks/results/rich_vrp.csv`` (after every run) with columns family,
instance, solver, seed, time_limit_s, feasible_pyvrp, feasible_ours, agree, cost, bks,
gap_pct, runtime_s, engine; the ``.sol`` files go to ``benchmarks/results/rich_vrp_sol/``.
Prints a summary per family. Skips cleanly when the data folder is absent.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import BENCHDATA, RESULTS, gap_pct, write_results  # noqa: E402
from optimizer._io import write_text  # noqa: E402
from optimizer.errors import ColdChainError  # noqa: E402
from optimizer.formats.classic import write_solution  # noqa: E402
from optimizer.formats.vrplib_dialect import read_solution_trips, read_vrplib  # noqa: E402
from optimizer.routing import RoutingProblem, solution_from_trips, solve_routing  # noqa: E402
from optimizer.routing import verify as check  # noqa: E402

FAMILIES = ("HFVRP", "MDVRPTW", "PCVRPTW", "VRPB", "MTVRPTWR")
#: published cost = PyVRP cost / UNIT
UNIT = {"HFVRP": 100_000.0}
COLUMNS = ["family", "instance", "solver", "seed", "time_limit_s", "feasible_pyvrp",
           "feasible_ours", "agree", "cost", "bks", "gap_pct", "runtime_s", "engine"]


def _bks(path: Path) -> dict[str, tuple[float, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["instance"]: (float(r["bks"]), r["rounding"]) for r in csv.DictReader(fh)}


def _pick(names: list[str], per_family: int | None) -> list[str]:
    """``per_family`` instances spread evenly over the sorted list (all when None)."""
    if per_family is None or per_family >= len(names):
        return names
    idx = np.unique(np.linspace(0, len(names) - 1, per_family).round().astype(int))
    return [names[i] for i in idx]


def score_pyvrp(vrp: Path, sol: Path, rounding: str) -> tuple[bool, float]:
    """PyVRP's verdict on a .sol file: (feasible, CostEvaluator cost)."""
    import pyvrp
    from pyvrp.constants import MAX_VALUE

    data = pyvrp.read(vrp, round_func=rounding)
    solution = pyvrp.read_solution(sol, data)
    cost = float(pyvrp.CostEvaluator([0] * data.num_load_dimensions, 0, 0).cost(solution))
    feasible = solution.is_feasible() and solution.is_complete() and cost < MAX_VALUE
    return feasible, cost


def score_ours(problem: RoutingProblem, sol: Path) -> tuple[bool, float]:
    """Our checker's verdict on a .sol file: (feasible, objective)."""
    try:
        solution = solution_from_trips(problem, read_solution_trips(sol, problem))
    except (ColdChainError, ValueError):
        return False, math.nan
    breakdown, violations = check.evaluate(problem, solution)
    return not violations, check.objective_of(problem, breakdown)


def run_ours(vrp: Path, rounding: str, limit: float, seed: int, jobs: int,
             sol: Path) -> tuple[str, float]:
    """Solve with our pipeline; write ``sol``; return (engine, wall-clock s)."""
    t0 = time.perf_counter()
    problem = read_vrplib(vrp, rounding)
    res = solve_routing(problem, time_limit_s=limit, seed=seed, jobs=jobs)
    write_solution(sol, res, problem)
    return res.engine, time.perf_counter() - t0


def run_pyvrp(vrp: Path, rounding: str, limit: float, seed: int, sol: Path) -> float:
    """Solve with PyVRP alone (defaults, one core); write ``sol``; return wall-clock s."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    t0 = time.perf_counter()
    data = pyvrp.read(vrp, round_func=rounding)
    res = pyvrp.solve(data, stop=MaxRuntime(limit), seed=seed, collect_stats=False,
                      display=False)
    lines = []
    types = [list(map(int, vt.name.split(","))) for vt in data.vehicle_types()]
    by_vehicle: dict[int, list[int]] = {}
    free = [list(t) for t in types]
    for route in res.best.routes():
        vis = [int(a.idx) + data.num_depots if a.is_client() else int(a.idx)
               for a in route][1:-1]
        by_vehicle[free[route.vehicle_type()].pop(0)] = vis
    for k in range(data.num_vehicles):
        lines.append(" ".join([f"Route #{k + 1}:", *map(str, by_vehicle.get(k, []))]))
    lines.append(f"Cost: {res.cost():.0f}" if math.isfinite(res.cost()) else "Cost: inf")
    write_text(sol, "\n".join(lines) + "\n")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--only", default=None, help="regex on instance names")
    ap.add_argument("--per-family", type=int, default=None,
                    help="N instances per family, spread over its sorted list")
    ap.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1")
    ap.add_argument("--jobs", type=int, default=2, help="our parallel PyVRP lanes")
    ap.add_argument("--no-peers", action="store_true", help="skip PyVRP alone")
    ap.add_argument("--out", type=Path, default=RESULTS / "rich_vrp.csv")
    ap.add_argument("--bench-dir", type=Path, default=BENCHDATA / "rich_vrplib")
    args = ap.parse_args(argv)

    if not args.bench_dir.is_dir():
        print(f"skipped: {args.bench_dir} is absent", file=sys.stderr)
        return 0
    fams = [f.strip() for f in args.families.split(",") if f.strip()]
    for fam in fams:
        if fam not in FAMILIES:
            ap.error(f"unknown family {fam!r} (one of {', '.join(FAMILIES)})")
    sol_dir = args.out.parent / "rich_vrp_sol"
    solvers = ["ours"] + ([] if args.no_peers else ["pyvrp"])
    rows: list[dict[str, object]] = []
    for fam in fams:
        d = args.bench_dir / fam
        if not (d / "bks.csv").exists():
            print(f"[{fam}] skipped: no {d / 'bks.csv'}", file=sys.stderr)
            continue
        bks = _bks(d / "bks.csv")
        names = sorted(n for n in bks if (d / "instances" / f"{n}.vrp").exists())
        if args.only:
            names = [n for n in names if re.search(args.only, n)]
        for name in _pick(names, args.per_family):
            best, rounding = bks[name]
            vrp = d / "instances" / f"{name}.vrp"
            problem = read_vrplib(vrp, rounding)
            for seed in range(args.seeds):
                for solver in solvers:
                    sol = sol_dir / fam / f"{name}.{solver}.{seed}.sol"
                    engine = "pyvrp-alone"
                    try:
                        if solver == "ours":
                            engine, rt = run_ours(vrp, rounding, args.time_limit, seed,
                                                  args.jobs, sol)
                        else:
                            rt = run_pyvrp(vrp, rounding, args.time_limit, seed, sol)
                        feas_p, cost_p = score_pyvrp(vrp, sol, rounding)
                        feas_o, cost_o = score_ours(problem, sol)
                    except ColdChainError as exc:
                        print(f"{name} {solver}: {exc}", file=sys.stderr)
                        rt, feas_p, feas_o, cost_p, cost_o = math.nan, False, False, \
                            math.nan, math.nan
                    agree = feas_p == feas_o and (not feas_p or cost_p == cost_o)
                    unit = UNIT.get(fam, 1.0)
                    gap = gap_pct(cost_p / unit, best) if feas_p and feas_o else None
                    rows.append({
                        "family": fam, "instance": name, "solver": solver, "seed": seed,
                        "time_limit_s": args.time_limit, "feasible_pyvrp": feas_p,
                        "feasible_ours": feas_o, "agree": agree, "cost": cost_p, "bks": best,
                        "gap_pct": None if gap is None else round(gap, 4),
                        "runtime_s": round(rt, 2), "engine": engine,
                    })
                    shown = "nan" if gap is None else f"{gap:.3f}%"
                    print(f"{fam:9s} {name:16s} {solver:6s} seed={seed} feasible={feas_p}/"
                          f"{feas_o} agree={agree} cost={cost_p:.0f} gap={shown} "
                          f"t={rt:.1f}s", flush=True)
                    write_results(args.out, rows, COLUMNS)

    print(f"\nper family, time limit {args.time_limit:g} s, ours on {args.jobs} lane(s); "
          f"CSV: {args.out}")
    print(f"{'family':9s} {'solver':6s} {'runs':>4s} {'feasible':>8s} {'agree':>5s} "
          f"{'mean gap %':>10s} {'max gap %':>9s} {'mean s':>7s}")
    for fam in fams:
        for solver in solvers:
            sel = [r for r in rows if r["family"] == fam and r["solver"] == solver]
            if not sel:
                continue
            gaps = [float(str(r["gap_pct"])) for r in sel if r["gap_pct"] is not None]
            feas = sum(1 for r in sel if r["feasible_pyvrp"] and r["feasible_ours"])
            n_agree = sum(1 for r in sel if r["agree"])
            mean = float(np.mean(gaps)) if len(gaps) == len(sel) else math.nan
            mx = max(gaps) if gaps else math.nan
            secs = float(np.mean([float(str(r["runtime_s"])) for r in sel]))
            print(f"{fam:9s} {solver:6s} {len(sel):4d} {feas:8d} {n_agree:5d} {mean:10.3f} "
                  f"{mx:9.3f} {secs:7.1f}")
        pairs: dict[tuple[object, object], dict[object, object]] = {}
        for r in rows:
            if r["family"] == fam and r["gap_pct"] is not None:
                pairs.setdefault((r["instance"], r["seed"]), {})[r["solver"]] = r["gap_pct"]
        both = [p for p in pairs.values() if "ours" in p and "pyvrp" in p]
        if both:
            wins = sum(1 for p in both if float(str(p["ours"])) < float(str(p["pyvrp"])))
            ties = sum(1 for p in both if float(str(p["ours"])) == float(str(p["pyvrp"])))
            print(f"{fam:9s} ours better on {wins}, equal on {ties}, worse on "
                  f"{len(both) - wins - ties} of {len(both)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
