"""Value of spoilage-aware routing on the Xiuwen peak day (issue 3, item 7).

Usage (from the project root)::

    python benchmarks/coldchain_value.py --time-limit 60 --seeds 1

For the peak day with the baseline facilities, with the full fleet and with the baseline
fleet, three planners at the same time limit:

* ``spoilage-aware``: ``solve_routing`` (engine ``auto``) on the true day problem;
* ``distance-only``: the same engine on the same problem with ``spoil_fen_per_kg_h`` and
  ``wait_fen_per_h`` set to 0 (fixed, distance, refrigeration-hour and drop costs remain);
* ``pyvrp-relaxed``: PyVRP alone on the relaxation used as warm start (fixed, distance,
  duration and prizes; multi-trip as reloads), mapped onto the slots and repaired.

Every plan is re-evaluated by ``optimizer.routing.verify`` on the TRUE cost model (the unmodified
problem, same routes and departure times), and its KPIs (exact spoilage % with
``1 - exp(-theta t)``) by ``optimizer.planning.kpi.evaluate``. Writes
``benchmarks/results/coldchain_value.csv`` (atomically, after every run).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import RESULTS, write_results  # noqa: E402
from optimizer.facade import load_instance  # noqa: E402
from optimizer.planning.baseline import baseline_facilities  # noqa: E402
from optimizer.planning.day import build_day_problem, to_day_plan  # noqa: E402
from optimizer.planning.fleet import home_fleet  # noqa: E402
from optimizer.planning.kpi import evaluate  # noqa: E402
from optimizer.planning.matrices import build_matrices, load_instance_network  # noqa: E402
from optimizer.planning.scenario import day_volumes  # noqa: E402
from optimizer.routing import _pyvrp, solve_routing  # noqa: E402
from optimizer.routing import verify as check  # noqa: E402
from optimizer.routing._schedule import RawResult, assemble, to_raw  # noqa: E402
from optimizer.routing.problem import RoutingProblem, RoutingSolution  # noqa: E402

log = logging.getLogger("coldchain_value")

COLUMNS = [
    "fleet", "planner", "seed", "feasible", "routes", "stops_served", "stops_dropped",
    "orders", "cost_per_order_yuan", "total_cost_yuan", "routing_cost_yuan",
    "spoilage_cost_yuan", "field_waiting_cost_yuan", "dropped_cost_yuan",
    "spoilage_mass_pct", "spoilage_value_pct", "collected_t", "parcels_dropped",
    "distance_km", "runtime_s",
]


def spoilage_blind(problem: RoutingProblem) -> RoutingProblem:
    """The same problem with on-board spoilage and field-waiting weights set to 0."""
    return replace(
        problem,
        vehicles=tuple(replace(v, spoil_fen_per_kg_h=0.0) for v in problem.vehicles),
        stops=tuple(replace(s, wait_fen_per_h=0.0) for s in problem.stops),
    )


def recost(problem: RoutingProblem, sol: RoutingSolution, engine: str) -> RoutingSolution:
    """The same routes and departures, scheduled and costed on ``problem`` by the checker."""
    raw = RawResult(tuple(to_raw(sol)), sol.dropped, 0.0, sol.status)
    out = assemble(problem, raw, engine, sol.runtime_s)
    check.verify(problem, out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default=str(ROOT / "instances" / "xiuwen-kiwifruit"))
    ap.add_argument("--scenario", default="peak")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per plan")
    ap.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1")
    ap.add_argument("--fleets", default="full,baseline")
    ap.add_argument("--out", default=str(RESULTS / "coldchain_value.csv"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    inst = load_instance(args.instance)
    net = load_instance_network(inst)
    sc = inst.scenario(args.scenario)
    mats = build_matrices(inst, net)
    orders, produce = day_volumes(inst, sc)
    fac = baseline_facilities(inst, mats, produce)
    minutes_to = mats.minutes_to([v.id for v in inst.villages], list(fac.pickup_points))
    rows: list[dict[str, object]] = []
    for fleet_name in args.fleets.split(","):
        fleet = home_fleet(inst, baseline=fleet_name == "baseline")
        day = build_day_problem(inst, mats.by_vehicle_type, fac, orders, produce, fleet)
        true_p = day.problem
        blind_p = spoilage_blind(true_p)
        for seed in range(args.seeds):
            plans: dict[str, RoutingSolution] = {}
            t = time.perf_counter()
            plans["spoilage-aware"] = solve_routing(
                true_p, time_limit_s=args.time_limit, seed=seed
            )
            blind = solve_routing(blind_p, time_limit_s=args.time_limit, seed=seed)
            plans["distance-only"] = recost(true_p, blind, blind.engine)
            t = time.perf_counter()
            raw = _pyvrp.solve_relaxed(true_p, time_limit_s=args.time_limit, seed=seed)
            if raw is not None:
                plans["pyvrp-relaxed"] = assemble(
                    true_p, raw, "pyvrp-relaxed", time.perf_counter() - t
                )
            for name, sol in plans.items():
                bd, viol = check.evaluate(true_p, sol)
                plan = to_day_plan(day, sol, bd, scenario=sc.id, checked=not viol)
                k = evaluate(inst, sc, fac, plan, orders=orders, produce_kg=produce,
                             minutes_to=minutes_to)
                row: dict[str, object] = {
                    "fleet": fleet_name, "planner": name, "seed": seed,
                    "feasible": not viol, "routes": len(sol.routes),
                    "stops_served": sum(len(r.visits) for r in sol.routes),
                    "stops_dropped": len(sol.dropped), "orders": round(k.orders, 1),
                    "cost_per_order_yuan": round(k.cost_per_order_yuan, 3),
                    "total_cost_yuan": round(bd.total / 100.0, 2),
                    "routing_cost_yuan": round(
                        (bd.fixed + bd.distance + bd.duration) / 100.0, 2
                    ),
                    "spoilage_cost_yuan": round(bd.spoilage / 100.0, 2),
                    "field_waiting_cost_yuan": round(bd.waiting / 100.0, 2),
                    "dropped_cost_yuan": round(bd.dropped / 100.0, 2),
                    "spoilage_mass_pct": round(k.spoilage_mass_pct, 4),
                    "spoilage_value_pct": round(k.spoilage_value_pct, 4),
                    "collected_t": round(k.collected_kg / 1000.0, 2),
                    "parcels_dropped": round(k.parcels_dropped, 1),
                    "distance_km": round(k.distance_km, 1),
                    "runtime_s": round(sol.runtime_s, 1),
                }
                rows.append(row)
                log.info("%s", row)
                write_results(Path(args.out), rows, COLUMNS)
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
