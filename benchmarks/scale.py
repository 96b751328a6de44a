"""Scaling benchmark: time and peak memory against the number of villages, and the province.

Two parts (both write CSV under ``benchmarks/results/`` and print a summary):

1. **Size sweep** (``--sizes 100,300,1000,3000``). For each size N a synthetic instance with
   N villages is generated once (cached under ``--work``): the generator is run on a
   *merged county* whose villages are the NBS villages of the Bijie prefecture counties
   (520502, 520521, ... in code order, which hold the largest counties) truncated to N,
   spread over a square of N x 9.8 km2 (the generator's area per village, without its
   4,000 km2 cap) around the first county's seat; townships, terrain, roads, volumes,
   sites and fleet are the generator's seeded synthetic parts. Each stage then runs in a
   **fresh subprocess** (so that ``ru_maxrss`` is the stage's own peak resident memory,
   interpreter and imports included):

   * ``matrix``: load the road network, snap every site, build every travel matrix;
   * ``location``: matrices + robust pickup-point covering over the closure samples + the
     modular cold-store location model (``--location-time`` s, default the size rule);
   * ``routing``: matrices + today's facilities + one peak-day routing of the baseline
     (``--time-limit`` s, default the size rule; optionally ``--solution-limit``);
   * ``plan`` (with ``--plan``): the whole ``optimizer.planning.planner.plan`` with the
     given limits and 2 routing processes;
   * ``solve`` (with ``--solve``): ``coldchain solve INSTANCE --out DIR`` (the command
     line, its outputs written) under ``/usr/bin/time -v`` when the machine has it, then
     ``coldchain check`` on its ``plan.json``.

   Peak memory is reported twice: ``peak_rss_mb`` is ``ru_maxrss`` (the process, or for
   ``solve`` what ``/usr/bin/time -v`` says), and ``tree_peak_mb`` / ``tree_sum_mb`` the
   largest single process and the largest sum over the process tree (the routing worker
   processes included), sampled every 0.2 s with psutil.

   The growth exponent b of ``time = a * N**b`` (and of memory) is fitted by least squares
   on log-log values. Routing time is bounded by its time limit by construction (guided
   local search runs until the limit): its exponent only means something with a
   ``--solution-limit``; the sweep therefore also reports the routing model's stop count.

2. **Province batch** (``--province K``): K counties chosen evenly over the 88 sorted by
   village count are generated (``coldchain generate --counties``, into
   ``--work``/province-K) and run with ``coldchain batch --mode plan`` once with 1 worker
   and once with 2 (``--province-jobs``; fresh results files); wall times give the
   speed-up, and the 88-county time is extrapolated as ``wall_K x (villages of the 88) /
   (villages of the K)`` (exact with ``--province 88``).

Examples (the first is cheap; the machine is shared, so keep limits small while developing)::

    python benchmarks/scale.py --sizes 100,300,1000 --time-limit 5 --location-time 10
    python benchmarks/scale.py --sizes 100,300,1000,3000 --solve     # default limits
    python benchmarks/scale.py --sizes none --province 6             # 1 and 2 workers
    python benchmarks/scale.py --sizes none --province 88 --province-jobs 2

   The province part also states the national estimate: worker-hours for ~2,800 counties and
   ~490,000 villages at the measured worker-seconds per village of the K counties.

Targets (issue 18; reported, not asserted): Weining (623 villages) <= 90 s and 1.0 GB; a
3,000-village county <= 10 min and 3 GB; 88 counties in <= 30 min with 2 workers, no
county failing; speed-up with 2 workers >= 1.8x.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import RESULTS, write_results  # noqa: E402

BASE_COUNTIES_PREFIX = "5205"  # Bijie prefecture: the largest counties first in code order
#: about how many counties and villages a national run would plan (China's rural counties)
NATIONAL_COUNTIES = 2_800
NATIONAL_VILLAGES = 490_000


def _rss_mb() -> float:
    """Peak resident memory (MiB) of this process or of its largest finished child (the
    planner's routing worker processes)."""
    return max(resource.getrusage(who).ru_maxrss for who in
               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024.0


# ----------------------------------------------------------------------------- instances


def _village_counts() -> dict[str, int]:
    path = ROOT / "optimizer" / "synth" / "data" / "guizhou_villages_nbs2023.csv.gz"
    counts: dict[str, int] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            counts[row["county_code"]] = counts.get(row["county_code"], 0) + 1
    return counts


def synthetic_instance(n: int, work: Path, seed: int = 0) -> Path:
    """Generate (once) the merged-county instance with ``n`` villages; return its directory."""
    name = f"synthetic-{n}"
    inst_dir = work / "instances" / name
    if (inst_dir / "instance.toml").exists():
        return inst_dir
    import optimizer.synth._geo as geo
    import optimizer.synth.county as gen

    real_load = geo.load_places

    def merged_places(code: str):  # type: ignore[no-untyped-def]
        codes = [c for c in geo.county_codes() if c.startswith(BASE_COUNTIES_PREFIX)]
        codes += [c for c in geo.county_codes() if c not in codes]
        county, townships, villages = real_load(codes[0])
        for c in codes[1:]:
            if len(villages) >= n:
                break
            _, t2, v2 = real_load(c)
            townships += t2
            villages += v2
        villages = villages[:n]
        used = {v.township_code for v in villages}
        townships = [t for t in townships if t.code in used]
        area = n * geo.KM2_PER_VILLAGE
        half = math.sqrt(area) / 2 * 1000.0 * 1.1
        dlon = half / geo._m_per_deg_lon(county.seat_lat)
        dlat = half / geo._M_PER_DEG_LAT
        from dataclasses import replace

        county = replace(
            county, name=f"synthetic {n}", slug=f"synthetic{n}", area_km2=area,
            bbox=(county.seat_lon - dlon, county.seat_lat - dlat, county.seat_lon + dlon,
                  county.seat_lat + dlat), real_extent=False)
        return county, townships, villages

    gen.load_places = merged_places  # type: ignore[assignment]
    try:
        return gen.generate_county(codes_first(), seed=seed, name=name,
                                   instances_dir=work / "instances",
                                   networks_dir=work / "networks")
    finally:
        gen.load_places = real_load  # type: ignore[assignment]


def codes_first() -> str:
    """The county whose code seeds the merged instance's random streams."""
    import optimizer.synth._geo as geo

    return next(c for c in geo.county_codes() if c.startswith(BASE_COUNTIES_PREFIX))


# ----------------------------------------------------------------------------- stages


def measure(stage: str, inst_dir: str, time_limit: float | None, solution_limit: int | None,
            location_time: float | None) -> dict[str, object]:
    """Run one stage in this process; return seconds, peak RSS (MiB) and sizes."""
    from optimizer.facade import load_instance
    from optimizer.limits import Limits
    from optimizer.planning.matrices import build_matrices, load_instance_network

    inst = load_instance(inst_dir)
    net = load_instance_network(inst)
    rss0 = _rss_mb()
    out: dict[str, object] = {"villages": len(inst.villages),
                              "nodes": net.graph.number_of_nodes()}
    t0 = time.perf_counter()
    if stage == "matrix":
        m = build_matrices(inst, net)
        out["sites"] = len(m.coverage.ids)
    elif stage == "location":
        from optimizer.planning.planner import location_time_s_for
        from optimizer.planning.scenario import coverage_masks
        from optimizer.planning.sites import choose_pickup_points, haul_estimate, locate_cold_stores

        if location_time is None:
            location_time = location_time_s_for(inst)
        m = build_matrices(inst, net)
        t1 = time.perf_counter()
        scen = list(inst.scenarios)
        cov = coverage_masks(inst, net, scen)
        _, pstatus, _ = choose_pickup_points(inst, cov, time_limit_s=location_time)
        del cov  # the planner keeps only the chosen points' columns from here on
        haul, allowed = haul_estimate(inst, m)
        stores = locate_cold_stores(inst, scen, haul, allowed, time_limit_s=location_time)
        out.update(matrix_s=t1 - t0, pickup_status=pstatus, location_time_s=location_time,
                   location_status=stores.seasons[0].status,
                   location_gap=abs(stores.seasons[0].objective_yuan
                                    - stores.seasons[0].bound_yuan)
                   / max(1.0, abs(stores.seasons[0].objective_yuan)))
    elif stage == "routing":
        from optimizer.facade import solve

        res = solve(inst, scenario="peak", network=net,
                    limits=Limits(time_s=time_limit, solution_limit=solution_limit))
        out.update(stops=sum(len(r.stops) for r in res.day.routes) + len(res.day.dropped),
                   routes=len(res.day.routes), engine=res.day.engine,
                   routing_s=res.day.runtime_s)
    elif stage == "plan":
        from optimizer.planning.planner import plan

        planned = plan(inst, network=net, limits=Limits(time_s=time_limit,
                                                        solution_limit=solution_limit),
                       location_time_s=location_time, jobs=2).result
        o = (planned.outcome("peak", "plan")
             if any(x.scenario == "peak" for x in planned.outcomes) else planned.outcomes[-1])
        out.update(cost_per_order_yuan=o.kpis.cost_per_order_yuan)
    else:
        raise ValueError(stage)
    out.update(stage=stage, seconds=time.perf_counter() - t0, peak_rss_mb=_rss_mb(),
               rss_after_load_mb=rss0)
    return out


def _limit_args(args: argparse.Namespace) -> list[str]:
    """The limits given on this script's command line (none: the size rule)."""
    out: list[str] = []
    if args.time_limit is not None:
        out += ["--time-limit", str(args.time_limit)]
    if args.location_time is not None:
        out += ["--location-time", str(args.location_time)]
    if args.solution_limit:
        out += ["--solution-limit", str(args.solution_limit)]
    return out


def run_sampled(cmd: list[str], **kw: object) -> tuple[subprocess.CompletedProcess[str], float,
                                                       float, float]:
    """Run ``cmd``; return (result, wall s, largest process RSS MiB, largest sum of the RSS
    of the process tree MiB), the RSS sampled every 0.2 s (psutil; 0 without it). The
    outputs go to files, not pipes: a chatty child never blocks on a full pipe."""
    import tempfile

    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency of distributed
        psutil = None
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out_f, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as err_f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, text=True,
                                **kw)  # type: ignore[call-overload]
        peak = total = 0.0
        if psutil is not None:
            root = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    rss = []
                    for q in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            rss.append(q.memory_info().rss / 2**20)
                    peak, total = max(peak, max(rss, default=0.0)), max(total, sum(rss))
                except psutil.Error:
                    pass
                time.sleep(0.2)
        proc.wait()
        wall = time.perf_counter() - t0
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read(), err_f.read()
    return (subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), wall, peak,
            total)


def _time_v(stderr: str) -> dict[str, float]:
    """Wall seconds and maximum RSS (MiB) from ``/usr/bin/time -v`` output."""
    out: dict[str, float] = {}
    for line in stderr.splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size"):
            out["peak_rss_mb"] = float(line.rsplit(":", 1)[1]) / 1024.0
        elif line.startswith("Elapsed (wall clock) time"):
            parts = [float(x) for x in line.rsplit(" ", 1)[1].split(":")]
            out["seconds"] = sum(v * 60 ** k for k, v in enumerate(reversed(parts)))
    return out


def run_solve(inst_dir: Path, args: argparse.Namespace) -> dict[str, object]:
    """``coldchain solve INSTANCE --out DIR`` (under /usr/bin/time -v when present), then
    ``coldchain check INSTANCE DIR/plan.json``; wall, memory and the peak's KPIs."""
    out_dir = Path(args.work) / "solve" / inst_dir.name
    cmd = [sys.executable, "-m", "optimizer", "solve", str(inst_dir), "--out", str(out_dir),
           *_limit_args(args)]
    timer = Path("/usr/bin/time")
    if timer.exists():
        cmd = [str(timer), "-v", *cmd]
    res, wall, tree_peak, tree_sum = run_sampled(cmd, cwd=ROOT,
                                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
    row: dict[str, object] = {"stage": "solve", "seconds": wall, "tree_peak_mb": tree_peak,
                              "tree_sum_mb": tree_sum, "rss_after_load_mb": 0.0}
    row.update(_time_v(res.stderr))
    row.setdefault("peak_rss_mb", tree_peak)
    if res.returncode != 0:
        lines = [ln for ln in res.stderr.splitlines() if ln.lower().startswith("error")]
        row["error"] = (lines or res.stderr.strip().splitlines() or ["?"])[-1]
        return row
    check = subprocess.run([sys.executable, "-m", "optimizer", "check", str(inst_dir),
                            str(out_dir / "plan.json")], capture_output=True, text=True,
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    row["check_exit"] = check.returncode
    doc = json.loads((out_dir / "plan.json").read_text(encoding="utf-8"))
    from optimizer.facade import load_instance

    row["villages"] = len(load_instance(inst_dir).villages)
    for o in doc["outcomes"]:
        if o["scenario"] == "peak" and o["plan"] == "plan":
            k = o["kpis"]
            row.update(peak_cost_per_order_yuan=k["cost_per_order_yuan"],
                       peak_spoilage_pct=k["spoilage_mass_pct"],
                       peak_cold_chain_pct=k["cold_chain_pct"])
    return row


def run_stage(stage: str, inst_dir: Path, args: argparse.Namespace) -> dict[str, object]:
    """Run ``measure`` in a fresh interpreter (own peak RSS); ``solve``: :func:`run_solve`."""
    if stage == "solve":
        return run_solve(inst_dir, args)
    cmd = [sys.executable, __file__, "--_measure", stage, str(inst_dir), *_limit_args(args)]
    res, _, tree_peak, tree_sum = run_sampled(cmd, cwd=ROOT,
                                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode != 0:
        return {"stage": stage, "error": (res.stderr.strip().splitlines() or ["?"])[-1]}
    row: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    row.update(tree_peak_mb=tree_peak, tree_sum_mb=tree_sum)
    return row


def fit_exponent(ns: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) on log(n) (None with < 2 usable points)."""
    pts = [(math.log(n), math.log(y)) for n, y in zip(ns, ys, strict=True) if n > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx > 0 else None


# ----------------------------------------------------------------------------- province


def province(args: argparse.Namespace) -> list[dict[str, object]]:
    """Generate K counties, run the batch with 1 and 2 workers; rows of the CSV."""
    counts = _village_counts()
    order = sorted(counts, key=lambda c: (counts[c], c))
    if args.counties:
        pick = sorted(args.counties.split(","))
        k = len(pick)
    else:
        k = min(args.province, len(order))
        pick = sorted({order[round(i * (len(order) - 1) / max(k - 1, 1))] for i in range(k)})
    work = Path(args.work) / (f"province-{k}" if not args.counties else "counties-"
                              + "-".join(pick))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    gen = [sys.executable, "-m", "optimizer", "generate", "--counties", ",".join(pick),
           "--out-dir", str(work), "--jobs", "2"]
    subprocess.run(gen, check=True, cwd=ROOT, env=env, capture_output=True)
    rows = []
    total_all = sum(counts.values())
    total_k = sum(counts[c] for c in pick)
    for jobs in sorted({int(x) for x in args.province_jobs.split(",")}):
        out = work / f"results-j{jobs}.jsonl"
        out.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "optimizer", "batch", str(work / "instances"), "--out",
               str(out), "--jobs", str(jobs), "--mode", args.mode, *_limit_args(args)]
        res, wall, tree_peak, tree_sum = run_sampled(cmd, cwd=ROOT, env=env)
        recs = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
        task_s = sum(r.get("runtime_s") or 0 for r in recs)
        rows.append({
            "part": "province", "jobs": jobs, "counties": len(pick), "villages": total_k,
            "wall_s": wall, "exit": res.returncode,
            "ok": sum(r["status"] == "ok" for r in recs),
            "not_ok": ";".join(f"{Path(r['path']).name}:{r['status']}" for r in recs
                               if r["status"] != "ok"),
            "max_peak_rss_mb": max((r.get("peak_rss_mb") or 0 for r in recs), default=None),
            "tree_peak_mb": tree_peak, "tree_sum_mb": tree_sum,
            "sum_task_s": task_s, "max_task_s": max((r.get("runtime_s") or 0 for r in recs),
                                                    default=None),
            "extrapolated_88_s": wall * total_all / max(total_k, 1),
            # the country: worker-hours at the measured task seconds per village
            "national_worker_h": task_s / max(total_k, 1) * NATIONAL_VILLAGES / 3600.0,
        })
    by_jobs = {r["jobs"]: r for r in rows}
    if 1 in by_jobs and 2 in by_jobs and by_jobs[2]["wall_s"]:
        by_jobs[2]["speedup"] = (float(by_jobs[1]["wall_s"])  # type: ignore[arg-type]
                                 / float(by_jobs[2]["wall_s"]))  # type: ignore[arg-type]
    return rows


# ----------------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100,300,1000,3000",
                   help="Comma-separated village counts, or 'none'.")
    p.add_argument("--stages", default="matrix,location,routing")
    p.add_argument("--plan", action="store_true", help="Also time the whole planner.")
    p.add_argument("--solve", action="store_true",
                   help="Also time `coldchain solve` (outputs written, then checked).")
    p.add_argument("--time-limit", type=float, default=None,
                   help="Routing seconds per scenario day (default: the size rule).")
    p.add_argument("--solution-limit", type=int, default=None)
    p.add_argument("--location-time", type=float, default=None,
                   help="Seconds per location solve (default: the size rule).")
    p.add_argument("--province", type=int, default=0, metavar="K",
                   help="Run the province batch on K counties with 1 and 2 workers.")
    p.add_argument("--counties", default="",
                   help="Comma-separated county codes for the province part instead of K "
                   "chosen by size (e.g. the issue's sample 522635,520329,520424,522325,"
                   "520502,520524).")
    p.add_argument("--province-jobs", default="1,2",
                   help="Worker counts of the province batch runs (e.g. '2' for the whole "
                   "province with --province 88).")
    p.add_argument("--mode", default="plan", choices=("plan", "baseline"))
    p.add_argument("--work", default=str(ROOT / "benchmarks" / "results" / "scale-work"))
    p.add_argument("--out", default=str(RESULTS / "scale.csv"))
    p.add_argument("--_measure", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._measure:
        stage, inst = args._measure
        res = measure(stage, inst, args.time_limit, args.solution_limit, args.location_time)
        sys.stdout.write(json.dumps(res) + "\n")
        return
    rows: list[dict[str, object]] = []
    sizes = [] if args.sizes == "none" else [int(s) for s in args.sizes.split(",")]
    stages = [s for s in args.stages.split(",") if s] + (["plan"] if args.plan else []) \
        + (["solve"] if args.solve else [])
    for n in sizes:
        t0 = time.perf_counter()
        inst = synthetic_instance(n, Path(args.work))
        print(f"N={n}: instance {inst} ready ({time.perf_counter() - t0:.1f} s)", flush=True)
        for stage in stages:
            r = run_stage(stage, inst, args)
            r.update(part="sweep", size=n)
            rows.append(r)
            print(f"  {stage:9s} {r.get('seconds', float('nan')):8.2f} s  peak "
                  f"{r.get('peak_rss_mb', float('nan')):7.0f} MiB (tree: largest "
                  f"{r.get('tree_peak_mb', float('nan')):6.0f}, sum "
                  f"{r.get('tree_sum_mb', float('nan')):6.0f})  {r.get('error', '')}",
                  flush=True)
    for stage in stages:
        # memory: the growth of the peak above the RSS after imports and loading
        pts = [(float(r["villages"]), float(r["seconds"]),  # type: ignore[arg-type]
                max(float(r["peak_rss_mb"]) - float(r["rss_after_load_mb"]), 1.0))  # type: ignore[arg-type]
               for r in rows if r.get("stage") == stage and "seconds" in r and "villages" in r
               and "error" not in r]
        if len(pts) >= 2:
            bt = fit_exponent([x[0] for x in pts], [x[1] for x in pts])
            bm = fit_exponent([x[0] for x in pts], [x[2] for x in pts])
            rows.append({"part": "fit", "stage": stage, "time_exponent": bt,
                         "memory_exponent": bm})
            print(f"fit {stage:9s} time ~ N^{bt:.2f}, peak memory above imports ~ N^{bm:.2f}")
    if args.province or args.counties:
        for r in province(args):
            rows.append(r)
            print("province " + ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else
                                          f"{k}={v}" for k, v in r.items()), flush=True)
    out = write_results(Path(args.out), rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
