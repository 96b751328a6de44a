"""write_outputs: every file, GeoPackage layers, CSV (scenario and year rows), Markdown (opens
with the year in money), charts, map; atomic writes."""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import shutil
import subprocess
from dataclasses import fields, replace
from pathlib import Path

import pytest
from rich.console import Console

from optimizer.errors import InputError
from optimizer.facade import solve
from optimizer.formats.instance_toml import read_instance
from optimizer.formats.plan_json import dumps_plan, read_plan_json
from optimizer.limits import Limits
from optimizer.planning.matrices import build_matrices
from optimizer.planning.scenario import apply_scenario
from optimizer.planning.year import year_rollup
from optimizer.plans import Kpis, PlanningResult, ScenarioOutcome, SeasonSites
from optimizer.report import GPKG_LAYERS, OUTPUT_NAMES, kpi_rows, print_kpi_table, write_outputs
from optimizer.report.tables import CSV_YEAR_COLUMNS, _csv_text, csv_columns
from optimizer.roads import load_network

LIMITS = Limits(time_s=5.0, solution_limit=50)
SCENARIOS = ("peak", "rain")
BUDGET_YUAN = 50_000.0
LOCAL_LEAFLET = Path("/usr/share/javascript/leaflet")  # Debian libjs-leaflet, if installed


@pytest.fixture(scope="module")
def setup(tiny):
    net = load_network(tiny.network_path)
    outs, nets, mats = [], {}, {}
    for sc in SCENARIOS:
        nets[sc] = apply_scenario(net, tiny.scenario(sc))
        mats[sc] = build_matrices(tiny, nets[sc], check=False)
        base = solve(tiny, scenario=sc, network=net, limits=LIMITS)
        full = solve(tiny, scenario=sc, network=net, limits=LIMITS, baseline=False)
        outs.append(ScenarioOutcome(sc, "baseline", base.facilities, base.day, base.kpis))
        outs.append(ScenarioOutcome(sc, "plan", replace(full.facilities, name="plan"),
                                    full.day, replace(full.kpis, plan="plan")))
    result = PlanningResult(
        instance="tiny", seed=0, time_limit_s=5.0, solution_limit=50,
        seasons=(SeasonSites("off", {"cs-hub": 1}, "optimal", 10.0, 10.0),
                 SeasonSites("peak", {"cs-hub": 2, "cs-east": 1}, "optimal", 20.0, 19.0)),
        pickup_points=("p1", "p3"), pickup_status="optimal", outcomes=tuple(outs),
        runtime_s=4.2, budget_yuan=BUDGET_YUAN, year=year_rollup(tiny, outs))
    assert result.year  # peak and rain (the off season's only scenario planned): both kinds
    return result, nets, mats


@pytest.fixture(scope="module")
def outputs(tiny, setup, tmp_path_factory) -> tuple[Path, list[Path]]:
    result, nets, mats = setup
    out = tmp_path_factory.mktemp("out") / "run"  # created by write_outputs
    return out, write_outputs(out, tiny, result, networks=nets, matrices=mats)


def test_every_file_written(outputs) -> None:
    out, written = outputs
    assert [p.name for p in written] == list(OUTPUT_NAMES)
    for p in written:
        assert p.is_file() and p.stat().st_size > 0, p
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_geopackage_layers(tiny, outputs, setup) -> None:
    import geopandas as gpd
    import pyogrio

    out, _ = outputs
    result, _, _ = setup
    gpkg = out / "plan.gpkg"
    layers = {name: kind for name, kind in pyogrio.list_layers(gpkg)}
    assert layers == {"cold_stores": "Point", "pickup_points": "Point", "villages": "Point",
                      "routes": "LineString"}
    frames = {name: gpd.read_file(gpkg, layer=name) for name in GPKG_LAYERS}
    for g in frames.values():
        assert g.crs.to_epsg() == 4326
    cs = frames["cold_stores"].set_index("id")
    assert set(cs.index) == {"cs-hub", "cs-east"}
    assert {"name", "existing", "modules_off", "modules_peak", "open"} <= set(cs.columns)
    assert cs.loc["cs-hub", "modules_peak"] == 2 and bool(cs.loc["cs-east", "open"])
    pp = frames["pickup_points"].set_index("id")
    assert bool(pp.loc["p1", "open"]) and not bool(pp.loc["p2", "open"])
    v = frames["villages"].set_index("id")
    assert len(v) == 4
    assert {"name", "township", "households", "pickup_point", "pickup_min", "covered",
            "cold_store"} <= set(v.columns)
    assert v.loc["v1", "cold_store"] == "cs-hub" and bool(v["covered"].all())
    assert v.loc["v2", "pickup_point"] == "p1" and v.loc["v2", "pickup_min"] > 0
    routes = frames["routes"]
    assert len(routes) == sum(len(o.day.routes) for o in result.outcomes)
    assert {"scenario", "plan", "vehicle", "type", "trip", "km", "cost_yuan",
            "n_stops"} <= set(routes.columns)
    assert set(routes["scenario"]) == set(SCENARIOS)
    for _, r in routes.iterrows():
        # follows the roads: more vertices than depot + stops + depot
        assert len(r.geometry.coords) > r.n_stops + 2
        assert r.geometry.coords[0] == r.geometry.coords[-1]  # back to the depot


def test_kpis_csv(outputs, setup) -> None:
    out, _ = outputs
    result, _, _ = setup
    rows = [r for r in csv.DictReader((out / "kpis.csv").open(encoding="utf-8"))
            if r["scenario"] != "year"]
    assert len(rows) == len(result.outcomes)
    names = [f.name for f in fields(Kpis) if f.name != "extra"]
    assert set(names) <= set(rows[0])
    assert "extra.spoiled_kg" in rows[0]
    assert [(r["scenario"], r["plan"]) for r in rows] == [
        (o.scenario, o.plan) for o in result.outcomes]
    assert float(rows[0]["cost_per_order_yuan"]) == pytest.approx(
        result.outcomes[0].kpis.cost_per_order_yuan, abs=1e-6)
    assert kpi_rows(result)[0]["scenario"] == rows[0]["scenario"]


def test_kpis_csv_year_rows(outputs, setup) -> None:
    """Two rows scenario=year after the scenario rows, with the year's figures; the
    comparison with today empty on the baseline's row; the year-only columns empty on the
    scenario rows."""
    out, _ = outputs
    result, _, _ = setup
    rows = list(csv.DictReader((out / "kpis.csv").open(encoding="utf-8")))
    n = len(result.outcomes)
    assert [r["scenario"] for r in rows[n:]] == ["year", "year"]
    year = {r["plan"]: r for r in rows[n:]}
    assert set(year) == {"baseline", "plan"}
    for kind in ("baseline", "plan"):
        y, r = result.year_of(kind), year[kind]
        assert y is not None
        expect = {
            "orders": y.orders, "cost_per_order_yuan": y.cost_per_order_yuan,
            "operating_cost_per_order_yuan": y.operating_cost_per_order_yuan,
            "logistics_cost_yuan": y.logistics_cost_yuan,
            "operating_cost_yuan": y.operating_cost_yuan,
            "spoilage_mass_pct": y.spoilage_pct, "spoilage_kg": y.spoilage_kg,
            "spoilage_yuan": y.spoilage_yuan, "cold_chain_pct": y.cold_chain_pct,
            "village_coverage_pct": y.village_coverage_pct, "produce_kg": y.produce_kg,
            "collected_kg": y.collected_kg,
            "first_mile_yuan_per_order": y.first_mile_yuan_per_order,
            "cold_storage_yuan_per_order": y.cold_storage_yuan_per_order,
            "last_mile_yuan_per_order": y.last_mile_yuan_per_order,
            "line_haul_yuan_per_order": y.line_haul_yuan_per_order,
            "annualised_investment_yuan": y.annualised_investment_yuan,
            "investment_yuan": y.investment_yuan, "pickup_running_yuan": y.pickup_running_yuan,
            "year_days": y.days, "hired_vehicle_days": y.hired_vehicle_days,
        }
        for col, value in expect.items():
            assert float(r[col]) == pytest.approx(value, rel=1e-9, abs=1e-6), (kind, col)
        # day-only figures stay empty on the year rows
        for col in ("routing_cost_yuan", "distance_km", "vehicles_used", "hired_vehicles",
                    "investment_yuan_per_day", "extra.spoiled_kg"):
            assert r[col] == "", (kind, col)
    p = result.year_of("plan")
    assert p is not None
    for col, value in (("saving_yuan", p.saving_yuan), ("payback_years", p.payback_years),
                       ("npv_yuan", p.npv_yuan), ("budget_use_yuan", p.budget_use_yuan)):
        assert float(year["plan"][col]) == pytest.approx(value, rel=1e-9, abs=1e-6), col
        assert year["baseline"][col] == ""  # NaN: no comparison on today's own row
    for r in rows[:n]:
        assert all(r[col] == "" for col in CSV_YEAR_COLUMNS)
    assert "nan" not in (out / "kpis.csv").read_text(encoding="utf-8").lower()


def test_kpis_csv_header_is_stable(outputs, setup) -> None:
    """Same columns in the same order whatever the result: with or without the year, the
    robust coverage or any outcome."""
    out, _ = outputs
    result, _, _ = setup
    header = (out / "kpis.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == csv_columns(result)
    one = tuple(o for o in result.outcomes if o.scenario == "peak")
    for other in (replace(result, year=()), replace(result, outcomes=one, year=()),
                  replace(result, outcomes=(), year=(), budget_yuan=None)):
        assert _csv_text(other).splitlines()[0] == header
    assert _csv_text(replace(result, outcomes=(), year=())).splitlines() == [header]


def test_kpis_csv_is_deterministic(tiny, setup, tmp_path: Path) -> None:
    """The same result gives a byte-identical kpis.csv, also once read back from plan.json."""
    result, _, _ = setup
    text = _csv_text(result)
    assert _csv_text(replace(result, runtime_s=99.0)) == text
    (tmp_path / "plan.json").write_text(dumps_plan(result), encoding="utf-8")
    again = read_plan_json(tmp_path / "plan.json", instance=tiny)
    assert _csv_text(again) == text


def test_report_md_opens_with_the_year(outputs, setup) -> None:
    out, _ = outputs
    result, _, _ = setup
    md = (out / "report.md").read_text(encoding="utf-8")
    lines = md.splitlines()
    assert lines[0].startswith("# Cold-chain plan: tiny")
    headings = [ln for ln in lines if ln.startswith("## ")]
    assert headings[0] == "## A year in money"
    assert headings.index("## A year in money") < headings.index("## Key figures per scenario")
    assert next(ln for ln in lines[1:] if ln.strip()) == "## A year in money"
    year = md.split("## A year in money", 1)[1].split("\n## ", 1)[0]
    assert "| figure | baseline | plan | change |" in year
    for label in ("orders (per year)", "cost per order (yuan)", "first mile (yuan/order)",
                  "spoilage value (million yuan/year)", "investment, total (yuan, one-off)",
                  "hired vehicle-days (per year)"):
        assert f"| {label} |" in year, label
    p = result.year_of("plan")
    assert p is not None
    assert f"Net saving {p.saving_yuan:,.0f} yuan/year" in year
    assert "payback " in year and "NPV over 10 years at 6%: " in year
    assert f"budget {BUDGET_YUAN:,.0f} yuan/year, used {p.budget_use_yuan:,.0f}" in year
    assert "`economics.line_haul_yuan_per_kg`" in year and "8.5 yuan per parcel" in year
    assert "nan" not in year.lower()


def test_report_md_and_charts(outputs) -> None:
    out, _ = outputs
    md = (out / "report.md").read_text(encoding="utf-8")
    for sc in SCENARIOS:
        assert f"### Scenario `{sc}`" in md
    assert "| KPI | baseline | plan | change |" in md
    assert "![Cost per order" in md and "(cost_per_order.png)" in md
    assert "(spoilage.png)" in md
    assert "modules peak" in md and "cs-east" in md
    assert "## Pickup points" in md and "Wall-clock runtime: 4.2 s" in md
    for png in ("cost_per_order.png", "spoilage.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_map_has_one_layer_per_scenario(outputs) -> None:
    out, _ = outputs
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "L.control.layers" in html and "OpenStreetMap" in html
    for sc in SCENARIOS:
        assert f'"{sc}: plan"' in html and f'"{sc}: baseline"' in html
    assert html.count("L.featureGroup(") == 2 * len(SCENARIOS)
    assert "L.polyline(" in html


def test_print_kpi_table(setup) -> None:
    result, _, _ = setup
    buf = io.StringIO()
    print_kpi_table(result, Console(file=buf, width=250, color_system=None))
    text = buf.getvalue()
    assert "cost per order (yuan)" in text and "spoilage (% of produce mass)" in text
    for label in ("operating cost per order (yuan)", "first mile (yuan/order)",
                  "cold storage (yuan/order)", "last mile (yuan/order)",
                  "spoilage value (yuan/day)", "hired vehicles"):
        assert label in text
    assert "% of produce value" not in text  # equals the mass row (one price per kg)
    for sc in SCENARIOS:
        assert sc in text
    narrow = io.StringIO()
    print_kpi_table(result, Console(file=narrow, width=80, color_system=None))
    assert "…" not in narrow.getvalue()  # one table per scenario rather than truncation


def test_refuses_to_overwrite_instance_input(tmp_path: Path, tiny, setup) -> None:
    result, nets, mats = setup
    src = Path(tiny.source).parent
    for f in src.iterdir():
        shutil.copy(f, tmp_path / f.name)
    shutil.move(tmp_path / "villages.csv", tmp_path / "kpis.csv")
    toml = tmp_path / "instance.toml"
    toml.write_text(toml.read_text().replace('"villages.csv"', '"kpis.csv"'))
    inst = read_instance(toml)
    before = (tmp_path / "kpis.csv").read_bytes()
    with pytest.raises(InputError, match=r"kpis\.csv: would overwrite an input file"):
        write_outputs(tmp_path, inst, result, networks=nets, matrices=mats)
    assert (tmp_path / "kpis.csv").read_bytes() == before
    assert not (tmp_path / "plan.json").exists()


def test_disk_full_leaves_no_partial_file(tmp_path: Path, tiny, setup, monkeypatch) -> None:
    result, nets, mats = setup
    real = os.replace

    def replace_(src, dst):  # type: ignore[no-untyped-def]
        if str(dst).endswith(".gpkg"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace_)
    with pytest.raises(InputError, match=r"plan\.gpkg: cannot write the file \(No space left"
                       r" on device\); choose a writable"):
        write_outputs(tmp_path / "o", tiny, result, networks=nets, matrices=mats)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["plan.json"]


def test_read_only_directory(tmp_path: Path, tiny, setup) -> None:
    result, nets, mats = setup
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: chmod does not make a directory read-only")
        with pytest.raises(InputError, match=r"ro/plan\.json: cannot write the file"):
            write_outputs(ro, tiny, result, networks=nets, matrices=mats)
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_map_in_headless_chromium(tmp_path: Path, outputs) -> None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("no chromium binary on PATH (apt-get install chromium to run this test)")
    out, _ = outputs
    html = (out / "map.html").read_text(encoding="utf-8")
    if (LOCAL_LEAFLET / "leaflet.js").is_file():  # work offline with Debian's libjs-leaflet
        html = re.sub(r"https://[^\"']*/leaflet(@[\d.]+)?/dist/leaflet\.(js|css)",
                      lambda m: (LOCAL_LEAFLET / f"leaflet.{m.group(2)}").as_uri(), html)
    page = tmp_path / "map.html"
    page.write_text(html, encoding="utf-8")
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False)
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    if "leaflet-control-layers" not in dom:
        pytest.skip("Leaflet did not load (no network for the CDN and no local libjs-leaflet)")
    overlays = dom.split("leaflet-control-layers-overlays", 1)[1]
    for sc in SCENARIOS:
        assert f"{sc}: plan</span>" in overlays and f"{sc}: baseline</span>" in overlays
    assert "leaflet-control-layers-base" in dom and "OpenStreetMap</span>" in dom
    assert dom.count("leaflet-interactive") >= 4  # routes and markers of the shown layer
