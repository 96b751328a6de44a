"""Time and shape of ``coldchain frontier`` (issue: five budgets in under 10 minutes on 2
cores, a monotone curve).

Runs the frontier of an instance (default: the Xiuwen instance, the command's default
budgets and limits) in this process, and writes ``benchmarks/results/frontier.csv``: one
row per budget (the figures of ``frontier.csv``) plus ``wall_s`` (the whole run),
``peak_rss_mb`` and ``monotone`` (1 when no budget's plan costs more a year, cost + value of
produce lost, than a smaller budget's). Prints a summary. Usage::

    python benchmarks/frontier.py                       # default instance and budgets
    python benchmarks/frontier.py --budgets 0,inf --time-limit 2 --location-time 5
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import RESULTS, write_results  # noqa: E402
from optimizer.cli.frontier import DEFAULT_BUDGETS  # noqa: E402
from optimizer.facade import load_instance  # noqa: E402
from optimizer.limits import Limits  # noqa: E402
from optimizer.planning.frontier import frontier, frontier_rows, parse_budgets  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default=str(ROOT / "instances" / "xiuwen-kiwifruit"))
    ap.add_argument("--budgets", default=DEFAULT_BUDGETS)
    ap.add_argument("--time-limit", type=float, default=5.0, help="routing s per scenario/plan")
    ap.add_argument("--location-time", type=float, default=20.0, help="s per location solve")
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS / "frontier.csv")
    args = ap.parse_args(argv)

    inst = load_instance(args.instance)
    t0 = time.perf_counter()
    points = frontier(inst, parse_budgets(args.budgets),
                      limits=Limits(time_s=args.time_limit), seed=args.seed,
                      iterations=args.iterations, location_time_s=args.location_time,
                      jobs=args.jobs, progress=lambda m: print(f"  {m}", flush=True))
    wall = time.perf_counter() - t0
    rss = max(resource.getrusage(w).ru_maxrss for w in
              (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024.0
    totals = [p.plan.total_cost_yuan for p in points]
    monotone = all(b <= a + 1e-6 for a, b in zip(totals, totals[1:], strict=False))
    rows = frontier_rows(points)
    for r in rows:
        r.update(wall_s=round(wall, 1), peak_rss_mb=round(rss, 1), monotone=int(monotone))
    write_results(args.out, rows)
    print(f"{inst.name}: {len(points)} budgets in {wall:.1f} s, peak RSS {rss:,.0f} MiB, "
          f"monotone: {monotone}; written to {args.out}")
    for r in rows:
        print(f"  budget {r['budget_yuan']}: cost/order {float(r['cost_per_order_yuan']):.3f} "
              f"spoilage {float(r['spoilage_pct']):.2f} % cold chain "
              f"{float(r['cold_chain_pct']):.1f} % villages {float(r['village_coverage_pct']):.1f}"
              f" % investment {float(r['investment_yuan']):,.0f} reused "
              f"{r['reused_from_budget_yuan'] or '-'}")
    return 0 if monotone else 1


if __name__ == "__main__":
    sys.exit(main())
