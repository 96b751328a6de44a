"""VRP quality benchmark: ours vs plain OR-Tools vs PyVRP on Solomon (VRPTW) and X (CVRP).

Usage (from the project root)::

    python benchmarks/vrp_quality.py --time-limit 30 --seeds 1 --families solomon,x
    python benchmarks/vrp_quality.py --time-limit 10 --every 3 --only R1
    python benchmarks/vrp_quality.py --families x --jobs 2    # ours on both cores

Solvers, all at the same time limit, single-threaded:

* ``ours``: ``solve_routing(engine="auto")`` (PyVRP, then OR-Tools GLS warm-started);
  with ``--jobs N`` it runs N PyVRP trajectories in parallel processes (seeds SEED..SEED+N-1,
  the cheapest kept), as ``coldchain route --jobs N`` does: the wall clock is the same, the
  cores are N (the peers stay on one);
* ``ortools``: plain OR-Tools, PATH_CHEAPEST_ARC + guided local search;
* ``pyvrp`` (peer, skipped with ``--no-peers``): PyVRP alone.

Every solution is checked by ``optimizer.routing.verify``. Gaps:

* Solomon: cost = total Euclidean distance in double precision (recomputed here from the
  coordinates), routes re-checked under exact unrounded travel times; gap against
  ``bks_distance_only.csv`` (proven optima under the DIMACS 1-decimal truncation, so a
  double-precision cost carries a small positive bias; the summary prints that bias as the
  gap of the optimal routes in ``solutions/`` re-costed in double precision);
* X: cost = sum of nint(Euclidean); gap against ``bks.csv``.

Writes ``benchmarks/results/vrp_quality.csv`` (atomically, after every run) with columns
instance, family, solver, seed, jobs, feasible, objective, bks, gap_pct, runtime_s.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import BENCHDATA, read_bks, write_results  # noqa: E402
from optimizer.errors import ColdChainError  # noqa: E402
from optimizer.formats.classic import read_classic  # noqa: E402
from optimizer.routing import solve_routing  # noqa: E402
from optimizer.routing import verify as check  # noqa: E402
from optimizer.routing.problem import RoutingProblem, RoutingSolution  # noqa: E402

BENCH = BENCHDATA
COLUMNS = ["instance", "family", "solver", "seed", "jobs", "feasible", "objective", "bks",
           "gap_pct", "runtime_s"]
SOLVERS = {"ours": "auto", "ortools": "ortools-plain", "pyvrp": "pyvrp"}


def solomon_exact(path: Path, routes: list[list[int]]) -> tuple[float, bool]:
    """Double-precision distance and feasibility under exact travel times (customers 1..n)."""
    rows = []
    in_cust = False
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts[:2] == ["CUST", "NO."]:
            in_cust = True
            continue
        if in_cust and len(parts) == 7:
            rows.append([float(x) for x in parts])
    cap = None
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("NUMBER"):
            cap = float(lines[i + 1].split()[1])
    a = np.array(rows)
    xy, dem, ready, due, serv = a[:, 1:3], a[:, 3], a[:, 4], a[:, 5], a[:, 6]
    total = 0.0
    ok = True
    for r in routes:
        t = 0.0
        load = 0.0
        prev = 0
        for c in [*r, 0]:
            d = math.dist(xy[prev], xy[c])
            total += d
            t = max(t + d, ready[c])
            ok = ok and t <= due[c] + 1e-9
            t += serv[c]
            load += dem[c]
            prev = c
        ok = ok and (cap is None or load <= cap)
    return total, ok


def bks_routes(sol_path: Path) -> list[list[int]]:
    routes = []
    for line in sol_path.read_text().splitlines():
        if line.startswith("Route"):
            routes.append([int(x) for x in line.split(":", 1)[1].split()])
    return routes


def objective_for(family: str, inst: Path, problem: RoutingProblem,
                  sol: RoutingSolution) -> tuple[float, bool]:
    _, viol = check.evaluate(problem, sol)
    feasible = not viol and not sol.dropped
    if family == "solomon":
        routes = [[v.stop + 1 for v in r.visits] for r in sol.routes]
        cost, ok = solomon_exact(inst, routes)
        return cost, feasible and ok
    return sol.objective, feasible


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds per run")
    ap.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1")
    ap.add_argument("--only", default=None, help="regex on instance names")
    ap.add_argument("--every", type=int, default=1, help="take every k-th instance per family")
    ap.add_argument("--families", default="solomon,x")
    ap.add_argument("--no-peers", action="store_true", help="skip PyVRP alone")
    ap.add_argument("--jobs", type=int, default=1,
                    help="ours: parallel PyVRP trajectories (processes); peers use one core")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/vrp_quality.csv")
    ap.add_argument("--bench-dir", type=Path, default=BENCH)
    args = ap.parse_args(argv)

    fams: list[tuple[str, list[Path], dict[str, float]]] = []
    for fam in args.families.split(","):
        fam = fam.strip()
        if fam == "solomon":
            d = args.bench_dir / "solomon"
            files = sorted((d / "instances").glob("*.txt"))
            bks = read_bks(d / "bks_distance_only.csv") if d.exists() else {}
        elif fam == "x":
            d = args.bench_dir / "cvrp_x"
            files = sorted((d / "instances").glob("*.vrp"),
                           key=lambda p: int(re.findall(r"n(\d+)", p.name)[0]))
            bks = read_bks(d / "bks.csv") if d.exists() else {}
        else:
            ap.error(f"unknown family {fam!r}")
        if args.only:
            files = [f for f in files if re.search(args.only, f.stem)]
        files = files[:: max(1, args.every)]
        if not files:
            print(f"[{fam}] no instances (missing {d}?)", file=sys.stderr)
        fams.append((fam, files, bks))

    solvers = [s for s in SOLVERS if not (args.no_peers and s == "pyvrp")]
    rows: list[dict[str, object]] = []
    bias: dict[str, float] = {}
    for fam, files, bks_map in fams:
        for inst in files:
            name = inst.stem
            problem = read_classic(inst)
            best = bks_map.get(name, float("nan"))
            if fam == "solomon":
                sol_file = inst.parent.parent / "solutions" / f"{name}.sol"
                if sol_file.exists():
                    ref, _ = solomon_exact(inst, bks_routes(sol_file))
                    bias[name] = 100.0 * (ref - best) / best
            for seed in range(args.seeds):
                for solver in solvers:
                    t0 = time.perf_counter()
                    jobs = max(1, args.jobs) if solver == "ours" else 1
                    try:
                        sol = solve_routing(problem, time_limit_s=args.time_limit, seed=seed,
                                            engine=SOLVERS[solver], jobs=jobs)
                        obj, feas = objective_for(fam, inst, problem, sol)
                    except ColdChainError as exc:
                        print(f"{name} {solver}: {exc}", file=sys.stderr)
                        obj, feas = float("nan"), False
                    rt = time.perf_counter() - t0
                    gap = 100.0 * (obj - best) / best if feas else float("nan")
                    rows.append({
                        "instance": name, "family": fam, "solver": solver, "seed": seed,
                        "jobs": jobs, "feasible": feas, "objective": round(obj, 4), "bks": best,
                        "gap_pct": round(gap, 4), "runtime_s": round(rt, 2),
                    })
                    print(f"{fam:8s} {name:12s} {solver:8s} seed={seed} feasible={feas} "
                          f"obj={obj:.2f} bks={best} gap={gap:.2f}% t={rt:.1f}s", flush=True)
                    write_results(args.out, rows, COLUMNS)

    # summary
    print(f"\nmean gap % (time limit {args.time_limit:g} s, {args.seeds} seed(s)); "
          f"CSV: {args.out}")
    print(f"{'family':8s} {'solver':8s} {'n':>3s} {'feasible':>8s} {'mean gap':>9s} "
          f"{'max gap':>8s}")
    means: dict[tuple[str, str], float] = {}
    for fam, _files, _ in fams:
        for solver in solvers:
            sel = [r for r in rows if r["family"] == fam and r["solver"] == solver]
            if not sel:
                continue
            gaps = [float(str(r["gap_pct"])) for r in sel if r["feasible"]]
            nfeas = sum(1 for r in sel if r["feasible"])
            mean = float(np.mean(gaps)) if gaps else float("nan")
            means[(fam, solver)] = mean
            mx = max(gaps) if gaps else float("nan")
            print(f"{fam:8s} {solver:8s} {len(sel):3d} {nfeas:8d} {mean:9.3f} {mx:8.3f}")
        if (fam, "ours") in means and (fam, "ortools") in means:
            o, p = means[(fam, "ours")], means[(fam, "ortools")]
            ratio = o / p if p else float("nan")
            print(f"{fam:8s} gap ratio ours / plain OR-Tools = {ratio:.3f}")
    if bias:
        print(f"solomon: the proven-optimal routes re-costed in double precision are "
              f"{np.mean(list(bias.values())):.3f}% above the truncated BKS on average "
              f"(the floor of the Solomon gaps above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
