"""Benchmark the location models on OR-Library CFLP (cap*, capa/b/c), UFLP and p-median.

Writes ``benchmarks/results/location.csv`` with columns
``instance, problem, status, objective, bks, gap_pct, runtime_s, spopt_runtime_s`` and prints a
summary: all optimal?, total time ours vs spopt's ``PMedian`` (classic assignment MIP, CBC via
PuLP) on the p-median set, and the time to proven optimality of each 100 x 1,000 capacitated
instance (OR-Library capa/capb/capc when present, and generated ones).

Usage (from the repository root)::

    python benchmarks/location.py [--time-limit 300] [--large-time-limit 60]
                                  [--spopt-time-limit 120] [--data DIR]
                                  [--only pmed1,cap41,capa8000,generated] [--no-spopt]
                                  [--no-generated] [--gen-ratios 3,5,10] [--gen-seeds 0,1]
                                  [--gen-capacities 5000,...,14000] [--gen-pmed 21-40]

Data are read from ``--data`` (default ``../shared/benchdata`` relative to the repository
root); the script skips cleanly what is absent. Instances are the rows of each folder's
``bks.csv``:

- ``orlib_cflp/bks.csv`` (``instance, bks[, capacity, file]``): one capacitated run per row;
  ``file`` (relative to the folder, default ``instances/<instance>.txt``) may be shared by
  several rows that substitute ``capacity`` for the literal word in capa/capb/capc. Every
  distinct file is also solved once as an uncapacitated problem, with the optimum from
  ``orlib_uflp/bks.csv`` (keyed by file stem) when that file exists.
- ``orlib_pmed/bks.csv``: every listed ``pmed*`` file (pmed1-pmed40).

Instances with 100 sites x 1,000 clients or more run with ``--large-time-limit`` (the
issue's target: proven optimal within 60 s each), the others with ``--time-limit``.
``gap_pct`` = 100 * (objective - bks) / bks; ``spopt_runtime_s`` is CBC's time limit
``--spopt-time-limit`` plus PuLP model building; a run that stops at the cap counts with its
measured time (>= cap) and is named in the summary.

Generated instances (``gen-cst-100x1000-r<ratio>-s<seed>``, ratios ``--gen-ratios``
default 3,5,10, seeds ``--gen-seeds`` default 0,1; split demand): the recipe of Cornuejols,
Sridharan & Thizy (1991), the usual generator for capa/capb/capc-sized CFLP test beds:
facilities and customers uniform in the unit square; demand U[5, 35]; capacity U[10, 160];
fixed cost U[0, 90] + U[100, 110] * sqrt(capacity); cost per unit demand 10 x Euclidean
distance; capacities then rescaled so total capacity / total demand = ratio.
``gen-eqcap-100x1000-c<capacity>-s<seed>`` (``--gen-capacities`` default: the ten distinct
capacities of the capa/capb/capc rows, 5000,5750,6000,6500,7000,7250,8000,10000,12000,14000):
shaped like capa/capb/capc (equal capacities, few sites open, capacities binding; see
``generate_eqcap``), a stand-in while the OR-Library files are not in benchdata.
``gen-pmed<k>-s<seed>`` (``--gen-pmed``, e.g. ``21-40``; off by default, no spopt run):
p-median instances of OR-Library pmed<k>'s size built the same way (a path through the
vertices, random edges, integer costs 1-100, all-pairs shortest paths; ``generate_pmed``),
with ``--time-limit``.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import BENCHDATA, RESULTS, gap_pct, write_results  # noqa: E402
from optimizer.formats.orlib import (  # noqa: E402
    all_pairs_shortest_paths,
    read_orlib_cap,
    read_orlib_pmed,
    read_orlib_uncap,
)
from optimizer.location import capacitated_fl, p_median, uncapacitated_fl  # noqa: E402

DATA = BENCHDATA
OUT = RESULTS / "location.csv"
FIELDS = ["instance", "problem", "status", "objective", "bks", "gap_pct", "runtime_s",
          "spopt_runtime_s"]


def generate_cflp(m: int = 100, n: int = 1000, *, ratio: float = 5.0, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cornuejols-Sridharan-Thizy CFLP instance: (open_cost, capacity, demand, unit_cost)."""
    rng = np.random.default_rng(seed)
    cust = rng.random((n, 2))
    fac = rng.random((m, 2))
    demand = rng.uniform(5, 35, n)
    cap = rng.uniform(10, 160, m)
    fixed = rng.uniform(0, 90, m) + rng.uniform(100, 110, m) * np.sqrt(cap)
    cap = cap * ratio * demand.sum() / cap.sum()
    unit = 10.0 * np.linalg.norm(cust[:, None, :] - fac[None, :, :], axis=2)
    return fixed, cap, demand, unit


def generate_eqcap(m: int = 100, n: int = 1000, *, capacity: float = 5000.0, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """capa/capb/capc-shaped instance: (open_cost, capacity, demand, unit_cost).

    Equal capacities (the capa/b/c rows use 5,000-14,000), integer demand U[1, 115] (total
    about 58,000), fixed cost U[3e6, 5e6], cost per demand unit 3,000 x Euclidean distance in
    the unit square: the uncapacitated optimum opens 4-5 sites, so the capacities bind.
    """
    rng = np.random.default_rng(10_000 + seed)
    fac, cust = rng.random((m, 2)), rng.random((n, 2))
    demand = rng.integers(1, 116, n).astype(float)
    fixed = rng.uniform(3e6, 5e6, m)
    unit = 3000.0 * np.linalg.norm(cust[:, None, :] - fac[None, :, :], axis=2)
    return fixed, np.full(m, float(capacity)), demand, unit


#: the distinct capacities of the OR-Library capa/capb/capc rows.
CAPA_CAPACITIES = "5000,5750,6000,6500,7000,7250,8000,10000,12000,14000"

#: OR-Library pmed21-pmed40 sizes: number -> (vertices, edges, p).
PMED_SPECS: dict[int, tuple[int, int, int]] = {
    21: (500, 5000, 5), 22: (500, 5000, 10), 23: (500, 5000, 50), 24: (500, 5000, 100),
    25: (500, 5000, 167), 26: (600, 7200, 5), 27: (600, 7200, 10), 28: (600, 7200, 60),
    29: (600, 7200, 120), 30: (600, 7200, 200), 31: (700, 9800, 5), 32: (700, 9800, 10),
    33: (700, 9800, 70), 34: (700, 9800, 140), 35: (800, 12800, 5), 36: (800, 12800, 10),
    37: (800, 12800, 80), 38: (900, 16200, 5), 39: (900, 16200, 10), 40: (900, 16200, 90)}


def generate_pmed(number: int, seed: int = 0) -> tuple[np.ndarray, int]:
    """A p-median instance of OR-Library pmed<number>'s size: (cost, p).

    Like the OR-Library files: a path through all vertices, then random edges (a repeated
    pair keeps its last cost), integer costs U{1..100}; cost = all-pairs shortest paths.
    """
    n, n_edges, p = PMED_SPECS[number]
    rng = np.random.default_rng(1000 * number + seed)
    edges: dict[tuple[int, int], int] = {}
    for i in range(n - 1):
        edges[(i, i + 1)] = int(rng.integers(1, 101))
    for _ in range(n_edges - (n - 1)):
        a, b = (int(x) for x in rng.choice(n, 2, replace=False))
        edges[(min(a, b), max(a, b))] = int(rng.integers(1, 101))
    arr = np.array([(a, b, w) for (a, b), w in edges.items()], dtype=float)
    return all_pairs_shortest_paths(n, arr), p


def _rows(folder: Path) -> list[dict[str, str]]:
    """Rows of ``folder/bks.csv`` (empty when the file is absent)."""
    path = folder / "bks.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in
                csv.DictReader(fh)]


def _bks(folder: Path) -> dict[str, float]:
    return {r["instance"]: float(r["bks"]) for r in _rows(folder) if r.get("bks")}


def _instance_file(folder: Path, row: dict[str, str]) -> Path:
    return folder / (row.get("file") or f"instances/{row['instance']}.txt")


def _num_key(name: str) -> tuple[int, str]:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 10**9, name)


def _spopt_pmedian(cost: np.ndarray, p: int, cap_s: float) -> tuple[float, float, str]:
    """spopt PMedian (CBC via PuLP): (objective, seconds, status)."""
    import pulp
    from spopt.locate import PMedian

    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(cost, np.ones(cost.shape[0]), p_facilities=p)
    try:
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=cap_s, threads=1))
    except RuntimeError:  # spopt raises when CBC stops at the cap without a solution
        return math.nan, max(cap_s, time.perf_counter() - t0), "capped"
    secs = time.perf_counter() - t0
    status = pulp.LpStatus[model.problem.status]
    obj = float(pulp.value(model.problem.objective))
    capped = secs >= cap_s * 0.98 or status != "Optimal"
    return obj, (max(secs, cap_s) if capped else secs), ("capped" if capped else "optimal")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--time-limit", type=float, default=300.0, help="ours, per instance (s)")
    ap.add_argument("--large-time-limit", type=float, default=60.0,
                    help="ours, per instance of >= 100 sites x 1,000 clients (s)")
    ap.add_argument("--data", type=Path, default=DATA, help="benchmark data folder")
    ap.add_argument("--out", type=Path, default=OUT, help="result CSV")
    ap.add_argument("--spopt-time-limit", type=float, default=120.0,
                    help="cap for spopt/CBC per p-median instance (s)")
    ap.add_argument("--only", default="", help="comma-separated instance names")
    ap.add_argument("--no-spopt", action="store_true", help="skip the spopt comparison")
    ap.add_argument("--no-generated", action="store_true",
                    help="skip the generated 100x1000 instances")
    ap.add_argument("--gen-ratios", default="3,5,10",
                    help="comma-separated total capacity / total demand ratios")
    ap.add_argument("--gen-seeds", default="0,1", help="comma-separated generator seeds")
    ap.add_argument("--gen-capacities", default=CAPA_CAPACITIES,
                    help="comma-separated equal capacities of the capa-shaped instances")
    ap.add_argument("--gen-ufl", action="store_true",
                    help="also solve each capa-shaped instance uncapacitated (as the capa "
                         "files' UFL rows)")
    ap.add_argument("--gen-pmed", default="",
                    help="comma-separated pmed numbers (21-40) to generate at that size "
                         "(seeds --gen-seeds), e.g. 21-40 for all")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    only = {s.strip() for s in args.only.split(",") if s.strip()}

    data: Path = args.data
    if not data.is_dir():
        print(f"skip: benchmark data not found at {data}")
        return 0
    rows: list[dict[str, object]] = []
    spopt_rows: list[tuple[str, float, float, str]] = []
    missing: list[str] = []
    large: list[tuple[str, str, float, float]] = []

    def emit(row: dict[str, object]) -> None:
        rows.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)

    def limit(n_clients: int, n_sites: int) -> float:
        big = n_clients >= 1000 and n_sites >= 100
        return args.large_time_limit if big else args.time_limit

    cflp = data / "orlib_cflp"
    if cflp.is_dir():
        uflp_bks = _bks(data / "orlib_uflp")
        cap_rows = sorted(_rows(cflp), key=lambda r: _num_key(r["instance"]))
        done_files: set[Path] = set()
        for r in cap_rows:
            name, f = r["instance"], _instance_file(cflp, r)
            if only and name not in only and f.stem not in only:
                continue
            if not f.is_file():
                missing.append(name)
                continue
            cap = float(r["capacity"]) if r.get("capacity") else None
            inst = read_orlib_cap(f, capacity=cap)
            n, m = inst.unit_cost.shape
            res = capacitated_fl(inst.open_cost, inst.capacity, inst.demand, inst.unit_cost,
                                 time_limit_s=limit(n, m))
            b = float(r["bks"]) if r.get("bks") else None
            emit(dict(instance=name, problem="cflp", status=res.status,
                      objective=round(res.objective, 4), bks=b,
                      gap_pct=_fmt(gap_pct(res.objective, b)), runtime_s=round(res.seconds, 3),
                      spopt_runtime_s=""))
            if n >= 1000 and m >= 100:
                large.append((name, res.status, res.seconds, res.gap))
            if f in done_files:
                continue
            done_files.add(f)
            u = read_orlib_uncap(f)
            ru = uncapacitated_fl(u.open_cost, u.alloc_cost, time_limit_s=limit(n, m))
            ub = uflp_bks.get(f.stem)
            emit(dict(instance=f.stem, problem="uflp", status=ru.status,
                      objective=round(ru.objective, 4), bks=ub if ub is not None else "",
                      gap_pct=_fmt(gap_pct(ru.objective, ub)), runtime_s=round(ru.seconds, 3),
                      spopt_runtime_s=""))
    else:
        print(f"skip: {cflp} not found")

    pmed = data / "orlib_pmed"
    if pmed.is_dir():
        for r in sorted(_rows(pmed), key=lambda r: _num_key(r["instance"])):
            name, f = r["instance"], _instance_file(pmed, r)
            if only and name not in only:
                continue
            if not f.is_file():
                missing.append(name)
                continue
            pm = read_orlib_pmed(f)
            res = p_median(pm.cost, pm.p, time_limit_s=args.time_limit)
            sp: float | str = ""
            if not args.no_spopt:
                sobj, ssec, sstat = _spopt_pmedian(pm.cost, pm.p, args.spopt_time_limit)
                spopt_rows.append((name, ssec, sobj, sstat))
                sp = round(ssec, 3)
            b = float(r["bks"]) if r.get("bks") else None
            emit(dict(instance=name, problem="p-median", status=res.status,
                      objective=round(res.objective, 4), bks=b,
                      gap_pct=_fmt(gap_pct(res.objective, b)), runtime_s=round(res.seconds, 3),
                      spopt_runtime_s=sp))
    else:
        print(f"skip: {pmed} not found")

    if not args.no_generated and (not only or "generated" in only):
        seeds = [int(x) for x in args.gen_seeds.split(",") if x.strip()]
        generated = [(f"gen-cst-100x1000-r{ratio:g}-s{seed}",
                      partial(generate_cflp, ratio=ratio, seed=seed))
                     for ratio in _floats(args.gen_ratios) for seed in seeds]
        generated += [(f"gen-eqcap-100x1000-c{c:g}-s{seed}",
                       partial(generate_eqcap, capacity=c, seed=seed))
                      for c in _floats(args.gen_capacities) for seed in seeds]
        for name, make in generated:
            fixed, caps, dem, unit = make()
            res = capacitated_fl(fixed, caps, dem, unit, time_limit_s=args.large_time_limit)
            emit(dict(instance=name, problem="cflp", status=res.status,
                      objective=round(res.objective, 4), bks="",
                      gap_pct="", runtime_s=round(res.seconds, 3), spopt_runtime_s=""))
            print(f"  {name}: bound {res.bound:.4f}, proven gap {100 * res.gap:.4f}%; "
                  f"{res.message}", flush=True)
            large.append((name, res.status, res.seconds, res.gap))
            if name.startswith("gen-eqcap") and args.gen_ufl:  # as the capa files' UFL rows
                ru = uncapacitated_fl(fixed, unit * dem[:, None],
                                      time_limit_s=args.large_time_limit)
                emit(dict(instance=f"{name}-ufl", problem="uflp", status=ru.status,
                          objective=round(ru.objective, 4), bks="", gap_pct="",
                          runtime_s=round(ru.seconds, 3), spopt_runtime_s=""))

    for number in _numbers(args.gen_pmed):
        for seed in (int(x) for x in args.gen_seeds.split(",") if x.strip()):
            cost, p = generate_pmed(number, seed)
            name = f"gen-pmed{number}-s{seed}"
            res = p_median(cost, p, time_limit_s=args.time_limit)
            emit(dict(instance=name, problem="p-median", status=res.status,
                      objective=round(res.objective, 4), bks="", gap_pct="",
                      runtime_s=round(res.seconds, 3), spopt_runtime_s=""))
            print(f"  {name}: n={cost.shape[0]} p={p}, bound {res.bound:.4f}; "
                  f"{res.message}", flush=True)

    write_results(args.out, rows, FIELDS)
    _summary(rows, spopt_rows, args)
    if missing:
        print(f"listed in bks.csv but no file (skipped): {', '.join(missing)}")
    if large:
        print(f"100 x 1,000 capacitated (limit {args.large_time_limit:g}s each):")
    for name, status, secs, gap in large:
        print(f"  {name}: {status} in {secs:.1f}s (proven gap {100 * gap:.4f}%)")
    # per family: the OR-Library rows, capa-shaped (the target class) and CST instances
    families = {"capa/capb/capc": lambda nm: not nm.startswith("gen-"),
                "capa-shaped": lambda nm: nm.startswith("gen-eqcap"),
                "Cornuejols-Sridharan-Thizy": lambda nm: nm.startswith("gen-cst")}
    for family, member in families.items():
        part = [(st, secs) for nm, st, secs, _ in large if member(nm)]
        if part:
            n_ok = sum(st == "optimal" and secs <= 60.0 for st, secs in part)
            print(f"  {family}: proven optimal within 60 s: {n_ok}/{len(part)}")
    return 0


def _floats(spec: str) -> list[float]:
    return [float(x) for x in spec.split(",") if x.strip()]


def _numbers(spec: str) -> list[int]:
    """``"21-23,30"`` -> [21, 22, 23, 30] (pmed numbers outside 21-40 are dropped)."""
    out: list[int] = []
    for part in (x.strip() for x in spec.split(",") if x.strip()):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return [k for k in out if k in PMED_SPECS]


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.6f}"


def _summary(rows: list[dict[str, object]], spopt_rows: list[tuple[str, float, float, str]],
             args: argparse.Namespace) -> None:
    print("\n== summary ==")
    for prob in ("cflp", "uflp", "p-median"):
        sel = [r for r in rows if r["problem"] == prob and not str(r["instance"]).startswith("gen")]
        if not sel:
            continue
        opt = sum(r["status"] == "optimal" for r in sel)
        with_bks = [r for r in sel if r["gap_pct"] != ""]
        worst = max((abs(float(str(r["gap_pct"]))) for r in with_bks), default=0.0)
        tot = sum(float(str(r["runtime_s"])) for r in sel)
        print(f"{prob:9s}: {opt}/{len(sel)} proven optimal; max |gap to BKS| {worst:.2e}%; "
              f"total {tot:.1f}s, max {max(float(str(r['runtime_s'])) for r in sel):.1f}s")
    if spopt_rows:
        ours = {r["instance"]: float(str(r["runtime_s"])) for r in rows
                if r["problem"] == "p-median"}
        t_ours = sum(ours[n] for n, *_ in spopt_rows)
        t_sp = sum(s for _, s, _, _ in spopt_rows)
        capped = [n for n, _, _, st in spopt_rows if st == "capped"]
        print(f"p-median time: ours {t_ours:.1f}s vs spopt PMedian+CBC {t_sp:.1f}s "
              f"-> ratio {t_sp / max(t_ours, 1e-9):.1f}x"
              + (f"; spopt hit the {args.spopt_time_limit:g}s cap on {len(capped)} instance(s) "
                 f"({', '.join(capped)}); their measured time (>= cap, incl. PuLP model build) "
                 f"is counted, a lower bound on the time to optimality" if capped else ""))


if __name__ == "__main__":
    raise SystemExit(main())
