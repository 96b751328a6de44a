"""write_outputs: every file, GeoPackage layers (sites, routes, stops, roads; clock times as
HH:MM beside minutes), CSV (scenario and year rows), Markdown (opens with the year in
money), charts; atomic writes. The map: test_map.py."""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import shutil
from dataclasses import fields, replace
from pathlib import Path

import pytest
from rich.console import Console

from optimizer.errors import InputError
from optimizer.formats.instance_toml import read_instance
from optimizer.formats.plan_json import dumps_plan, read_plan_json
from optimizer.plans import Kpis
from optimizer.report import (
    GPKG_LAYERS,
    OUTPUT_NAMES,
    kpi_rows,
    print_kpi_table,
    route_coords,
    write_outputs,
)
from optimizer.report.gpkg import ROAD_COLUMNS, STOP_COLUMNS, _gpkg_frames
from optimizer.report.tables import CSV_YEAR_COLUMNS, _csv_text, csv_columns
from optimizer.roads import ROAD_CLASSES, close_edges

from .conftest import BUDGET_YUAN, SCENARIOS

HHMM = re.compile(r"\d{2}:\d{2}")


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
                      "routes": "LineString", "stops": "Point", "roads": "LineString"}
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
    assert {"route_id", "scenario", "plan", "vehicle", "type", "trip", "km", "cost_yuan",
            "n_stops", "start_hhmm", "start_min", "end_hhmm", "end_min"} <= set(routes.columns)
    assert list(routes["route_id"]) == list(range(1, len(routes) + 1))
    assert set(routes["scenario"]) == set(SCENARIOS)
    planned = [r for o in result.outcomes for r in o.day.routes]
    for (_, r), p in zip(routes.iterrows(), planned, strict=True):
        # follows the roads: more vertices than depot + stops + depot
        assert len(r.geometry.coords) > r.n_stops + 2
        assert r.geometry.coords[0] == r.geometry.coords[-1]  # back to the depot
        assert HHMM.fullmatch(r.start_hhmm) and HHMM.fullmatch(r.end_hhmm)
        assert _minutes_of(r.start_hhmm) == round(p.start_min) == round(r.start_min)
        assert _minutes_of(r.end_hhmm) == round(p.end_min)


def test_geopackage_stops(tiny, outputs, setup) -> None:
    """One point per stop of the plan at its site, joined to its route by route_id, in order
    (seq from 1), with kind, kg, the load after it and arrival/start as HH:MM and minutes."""
    import geopandas as gpd

    out, _ = outputs
    result, _, _ = setup
    stops = gpd.read_file(out / "plan.gpkg", layer="stops")
    routes = gpd.read_file(out / "plan.gpkg", layer="routes").set_index("route_id")
    planned = [(o, r, s) for o in result.outcomes for r in o.day.routes for s in r.stops]
    assert len(stops) == len(planned) > 0
    assert stops.crs.to_epsg() == 4326
    assert list(stops.columns) == list(STOP_COLUMNS)
    xy = {sid: (lon, lat) for sid, lon, lat in tiny.site_points()}
    for (_, row), (o, r, s) in zip(stops.iterrows(), planned, strict=True):
        route = routes.loc[row.route_id]
        assert (row.scenario, row.plan, row.vehicle) == (o.scenario, o.plan, r.vehicle_id)
        assert (route.scenario, route.plan, route.vehicle) == (o.scenario, o.plan, r.vehicle_id)
        assert row.seq == r.stops.index(s) + 1
        assert (row.site_id, row.kind) == (s.site_id, s.kind)
        assert row.kg == pytest.approx(s.pickup_kg if s.kind == "pickup" else s.delivery_kg)
        assert row.load_after_kg == pytest.approx(s.load_after_kg)
        assert row.arrival_min == pytest.approx(s.arrival_min)
        assert row.wait_min == pytest.approx(s.start_min - s.arrival_min)
        for col in ("arrival_hhmm", "start_hhmm"):
            assert HHMM.fullmatch(row[col]), row[col]
        assert _minutes_of(row.arrival_hhmm) == round(s.arrival_min)
        assert _minutes_of(row.start_hhmm) == round(s.start_min)
        assert (row.geometry.x, row.geometry.y) == pytest.approx(xy[s.site_id])
    assert set(stops["kind"]) <= {"pickup", "delivery"}
    counts = stops.groupby("route_id").size()
    assert (counts == routes.loc[counts.index, "n_stops"]).all()
    assert names_of(tiny)[stops.iloc[0].site_id] == stops.iloc[0].site_name


def test_geopackage_roads(tiny_net, outputs) -> None:
    """Every road of the network once (both directions of a two-way road are one row),
    with its class, name and km."""
    import geopandas as gpd

    out, _ = outputs
    roads = gpd.read_file(out / "plan.gpkg", layer="roads")
    ids = {str(d["edge_id"]) for _, _, d in tiny_net.graph.edges(data=True)}
    assert sorted(roads["edge_id"]) == sorted(ids)
    assert list(roads.columns) == list(ROAD_COLUMNS)
    assert set(roads["road_class"]) <= set(ROAD_CLASSES)
    km = {str(d["edge_id"]): d["length"] / 1000.0 for _, _, d in tiny_net.graph.edges(data=True)}
    for _, r in roads.iterrows():
        assert r.km == pytest.approx(km[r.edge_id])
        assert r.closed_in == ""  # the fixture's networks close no road
        assert len(r.geometry.coords) >= 2


def test_geopackage_roads_closed_in(tiny, tiny_net, setup) -> None:
    """A road missing from one scenario's network is listed as closed there."""
    result, _, mats = setup
    eid = str(next(iter(tiny_net.graph.edges(data=True)))[2]["edge_id"])
    nets = {"peak": tiny_net, "rain": close_edges(tiny_net, [eid])}
    frames = _gpkg_frames(tiny, result, _geoms(tiny, result, nets, mats), mats, nets)
    roads = frames["roads"].set_index("edge_id")
    assert roads.loc[eid, "closed_in"] == "rain"
    assert set(roads.drop(index=eid)["closed_in"]) == {""}
    assert len(roads) == len({str(d["edge_id"]) for *_, d in tiny_net.graph.edges(data=True)})


def test_geopackage_empty_plan(tiny, setup) -> None:
    """A result without outcomes still has every layer, with its columns."""
    result, nets, mats = setup
    frames = _gpkg_frames(tiny, replace(result, outcomes=(), year=()), {}, mats, nets)
    assert set(frames) == set(GPKG_LAYERS)
    assert len(frames["routes"]) == len(frames["stops"]) == 0
    assert list(frames["stops"].columns) == list(STOP_COLUMNS)
    assert len(frames["roads"]) > 0


def _minutes_of(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def names_of(tiny) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.id: s.name for s in (*tiny.villages, *tiny.cold_store_sites, *tiny.pickup_sites)}


def _geoms(tiny, result, nets, mats):  # type: ignore[no-untyped-def]
    return {(i, j): route_coords(tiny, r, nets.get(o.scenario), mats.get(o.scenario))
            for i, o in enumerate(result.outcomes) for j, r in enumerate(o.day.routes)}


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
