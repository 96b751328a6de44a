"""Capacitated location-routing benchmark on Prodhon's instances.

Usage (from the project root)::

    python benchmarks/lrp.py --time-limit 60 --seeds 1
    python benchmarks/lrp.py --time-limit 10 --only coord50

Runs :func:`optimizer.lrp.solve_lrp` on every ``instances/*.dat`` of
``../shared/benchdata/lrp_prodhon`` (skips cleanly when the directory is absent), checks
every plan with :func:`optimizer.lrp.verify.verify_lrp` (arc cost ``ceil(100 x Euclid)``, the
convention of the published BKS; see ``optimizer/formats/prodhon.py``), and writes
``benchmarks/results/lrp.csv`` (instance, seed, feasible, objective, bks, gap_pct,
runtime_s) atomically after every run. Prints the mean gap at the end.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import BENCHDATA, RESULTS, read_bks, write_results  # noqa: E402
from optimizer.errors import ColdChainError  # noqa: E402
from optimizer.formats.prodhon import read_prodhon  # noqa: E402
from optimizer.lrp import solve_lrp  # noqa: E402
from optimizer.lrp.verify import verify_lrp  # noqa: E402

BENCH = BENCHDATA / "lrp_prodhon"
OUT = RESULTS / "lrp.csv"
COLUMNS = ["instance", "seed", "feasible", "objective", "bks", "gap_pct", "runtime_s"]


def size_key(p: Path) -> tuple[int, int, str]:
    parts = p.stem.replace("coord", "").split("-")
    return int(parts[0]), int(parts[1]), p.stem


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--only", default="", help="run instances whose name contains this")
    ap.add_argument("--seeds", type=int, default=1, help="seeds 1..N per instance")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes per run")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not (BENCH / "instances").is_dir():
        print(f"skipped: {BENCH} not found")
        return 0
    bks = read_bks(BENCH / "bks.csv")
    files = sorted((BENCH / "instances").glob("*.dat"), key=size_key)
    files = [f for f in files if args.only in f.stem]
    rows: list[dict[str, object]] = []
    gaps: list[float] = []
    for f in files:
        inst = read_prodhon(f)
        for seed in range(1, args.seeds + 1):
            t0 = time.perf_counter()
            try:
                sol = solve_lrp(inst, time_limit_s=args.time_limit, seed=seed, jobs=args.jobs)
                cost = verify_lrp(
                    inst, sol.open_depots, [(r.depot, r.customers) for r in sol.routes],
                    objective=sol.objective,
                )
                feasible, obj = True, cost.total
            except ColdChainError as exc:
                print(f"{f.stem} seed {seed}: {exc}")
                feasible, obj = False, float("nan")
            rt = time.perf_counter() - t0
            b = bks.get(f.stem)
            gap = 100.0 * (obj - b) / b if b and feasible else float("nan")
            if feasible and b:
                gaps.append(gap)
            rows.append({"instance": f.stem, "seed": seed, "feasible": feasible,
                         "objective": f"{obj:.0f}" if feasible else "", "bks": b or "",
                         "gap_pct": f"{gap:.3f}" if feasible and b else "",
                         "runtime_s": f"{rt:.2f}"})
            write_results(args.out, rows, COLUMNS)
            print(f"{f.stem:16s} seed {seed}: {obj:10.0f}  bks {b or float('nan'):10.0f}  "
                  f"gap {gap:6.2f}%  {rt:6.1f} s", flush=True)
    if gaps:
        print(f"mean gap {sum(gaps) / len(gaps):.2f}% over {len(gaps)} runs "
              f"({args.time_limit:g} s, {args.jobs} jobs); written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
