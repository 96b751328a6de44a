"""map.html: self-contained (Leaflet, its script and the plan inlined; nothing is fetched
unless an online tile layer is switched on), its data (the roads, one layer per scenario and
plan with routes and stops, the KPI panel), the Tianditu key, polyline encoding and
simplification, and the page drawn by headless Chromium with the network shut."""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import LineString, Point

from optimizer.report import route_coords, write_outputs
from optimizer.report.geometry import _simplify
from optimizer.report.map import (
    ROUTE_TOLERANCE_M,
    TIANDITU_KEY_ENV,
    _map_html,
    encode_polyline,
)
from optimizer.report.tables import _fmt, _reference
from optimizer.roads import ROAD_CLASSES, close_edges

from .conftest import SCENARIOS

#: the only URLs map.html may contain: the SVG namespace, link targets in attributions and
#: the templates of the optional online tile layers (off by default)
ALLOWED_URLS = ("http://www.w3.org/2000/svg", "https://leafletjs.com",
                "https://www.openstreetmap.org/copyright", "https://tile.openstreetmap.org/",
                "https://t{s}.tianditu.gov.cn/")
KEY = "0123456789abcdef0123456789abcdef"


def _html(outputs: tuple[Path, list[Path]]) -> str:
    out, _ = outputs
    return (out / "map.html").read_text(encoding="utf-8")


def _data(html: str) -> dict[str, Any]:
    start = html.index('<script id="coldchain-data" type="application/json">')
    blob = html[html.index(">", start) + 1:html.index("</script>", start)]
    data: dict[str, Any] = json.loads(blob)
    return data


def _decode(text: str) -> list[tuple[float, float]]:
    """Google's encoded polyline -> [(lat, lon)] (as the page's script decodes it)."""
    out, i, lat, lon = [], 0, 0, 0
    while i < len(text):
        vals = []
        for _ in range(2):
            shift = result = 0
            while True:
                b = ord(text[i]) - 63
                i += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20:
                    break
            vals.append(~(result >> 1) if result & 1 else result >> 1)
        lat, lon = lat + vals[0], lon + vals[1]
        out.append((lat / 1e5, lon / 1e5))
    return out


def _geoms(tiny, result, nets, mats):  # type: ignore[no-untyped-def]
    return {(i, j): route_coords(tiny, r, nets.get(o.scenario), mats.get(o.scenario))
            for i, o in enumerate(result.outcomes) for j, r in enumerate(o.day.routes)}


def test_encode_polyline() -> None:
    # the example of Google's format description, given as (lon, lat)
    pts = [(-120.2, 38.5), (-120.95, 40.7), (-126.453, 43.252)]
    assert encode_polyline(pts) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    pts = [(106.12345, 26.54321), (106.12346, 26.5432), (105.0, 27.0), (105.0, 27.0)]
    assert _decode(encode_polyline(pts)) == [(lat, lon) for lon, lat in pts]
    assert encode_polyline([]) == ""


def test_simplify_in_metres() -> None:
    lat0 = 26.8
    m_lon = 1.0 / (111_195.0 * math.cos(math.radians(lat0)))  # degrees of lon per metre
    straight = [(106.5 + k * 10 * m_lon, lat0) for k in range(101)]  # 1 km, every 10 m
    assert _simplify(straight, 10.0) == [(106.5, 26.8), (round(straight[-1][0], 5), 26.8)]
    zigzag = [(106.5 + k * 100 * m_lon, lat0 + (k % 2) * 50 / 111_195.0) for k in range(11)]
    assert len(_simplify(zigzag, 10.0)) == 11  # 50 m wiggles kept at 10 m
    assert len(_simplify(zigzag, 100.0)) == 2
    loop = [*straight, *reversed(straight)]  # out and back: both ends and the far point
    thin = _simplify(loop, ROUTE_TOLERANCE_M)
    assert thin[0] == thin[-1] and len(thin) == 3
    assert all(round(x, 5) == x and round(y, 5) == y for x, y in thin)
    assert _simplify([(1.0000049, 2.0), (1.0000051, 2.0)], 0.0) == [(1.0, 2.0), (1.00001, 2.0)]


def test_map_is_self_contained(outputs) -> None:
    """No script, style, image or frame is loaded from anywhere: Leaflet is inlined, and the
    only URLs are attribution links and the optional tile layers' templates."""
    html = _html(outputs)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", html, re.I)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "sourceMappingURL" not in html
    assert "Leaflet 1.9.4" in html and "BSD-2-Clause" in html
    for url in re.findall(r"https?://[^\s\"'<>)\\]+", html):
        assert url.startswith(ALLOWED_URLS), url
    assert len(html.encode()) < 400_000  # Leaflet ~160 kB, the tiny plan a few kB


def test_map_layers_and_data(tiny, tiny_net, outputs, setup) -> None:
    """One layer per scenario and plan (plans first), the peak's plan shown; every route and
    stop with times in minutes; the roads by class; the KPI panel; only OSM tiles."""
    result, _, _ = setup
    data = _data(_html(outputs))
    plans = [o for o in result.outcomes if o.plan == "plan"]
    bases = [o for o in result.outcomes if o.plan == "baseline"]
    assert [ly["name"] for ly in data["layers"]] == [
        f"{o.scenario}: {o.plan}" for o in plans + bases]
    shown = [ly["name"] for ly in data["layers"] if ly["show"]]
    ref = _reference(result)
    assert ref is not None and shown == [f"{ref.scenario}: plan"] and ref.scenario == "peak"
    sites = data["sites"]
    types = [t for t, _ in data["types"]]
    for ly, o in zip(data["layers"], plans + bases, strict=True):
        assert len(ly["villages"]) == len(tiny.villages)
        assert len(ly["routes"]) == len(o.day.routes)
        for rd, r in zip(ly["routes"], o.day.routes, strict=True):
            assert types[rd[0]] == r.vehicle_type and rd[1] == r.vehicle_id
            assert rd[2] == r.trip + 1 and sites[rd[3]][0] == r.depot
            assert (rd[4], rd[5]) == (round(r.start_min), round(r.end_min))
            assert [(sites[s[0]][0], s[1], s[2], s[3]) for s in rd[9]] == [
                (s.site_id, s.kind, round(s.arrival_min), round(s.start_min)) for s in r.stops]
            assert [s[5] for s in rd[9]] == [round(s.load_after_kg, 1) for s in r.stops]
            line = _decode(rd[8])
            depot = sites[rd[3]]
            assert line[0] == pytest.approx((depot[3], depot[4]), abs=1e-5)
            assert line[0] == line[-1] and len(line) >= 3
            # simplified: every stop within the tolerance of the line drawn
            drawn = LineString([(lon, lat) for lat, lon in line])
            for s in rd[9]:
                at = Point(sites[s[0]][4], sites[s[0]][3])
                assert drawn.distance(at) * 111_195.0 < ROUTE_TOLERANCE_M + 2.0
    roads = {r[0]: r[4] for r in data["roads"]}
    assert set(roads) <= set(ROAD_CLASSES)
    edges = {str(d["edge_id"]) for *_, d in tiny_net.graph.edges(data=True)}
    assert sum(len(lines) for lines in roads.values()) == len(edges)
    assert [t["name"] for t in data["tiles"]] == ["OpenStreetMap (online)"]
    panel = data["panel"]
    year = {row[0]: row[1:] for row in panel["year"]}
    y = result.year_of("plan")
    assert y is not None
    assert year["cost per order (yuan)"][1] == _fmt(y.cost_per_order_yuan, ",.2f")
    assert len(panel["rows"]) == len(result.outcomes)
    assert {row[0] for row in panel["rows"]} == set(SCENARIOS)
    assert panel["summary"].startswith("net saving")


def test_map_is_deterministic(tiny, setup) -> None:
    """The same plan gives the same page, byte for byte (no random ids or timestamps)."""
    result, nets, mats = setup
    geoms = _geoms(tiny, result, nets, mats)
    assert _map_html(tiny, result, geoms, mats, nets) == _map_html(tiny, result, geoms, mats,
                                                                   nets)


def test_map_closed_roads(tiny, tiny_net, setup) -> None:
    """A road closed in a scenario is drawn in that scenario's layers, named."""
    result, _, mats = setup
    eid = str(next(iter(tiny_net.graph.edges(data=True)))[2]["edge_id"])
    nets = {"peak": tiny_net, "rain": close_edges(tiny_net, [eid])}
    outs = tuple(replace(o, closed_edges=(eid,)) if o.scenario == "rain" else o
                 for o in result.outcomes)
    res = replace(result, outcomes=outs)
    data = _data(_map_html(tiny, res, _geoms(tiny, res, nets, mats), mats, nets))
    for ly in data["layers"]:
        assert [c[0] for c in ly["closed"]] == ([eid] if ly["scenario"] == "rain" else [])


def test_map_tianditu_key(tiny, setup, tmp_path: Path, monkeypatch, caplog) -> None:
    """A key in TIANDITU_KEY adds Tianditu's map and satellite tiles (not shown by default);
    anything but a key is left out with a warning."""
    result, nets, mats = setup
    monkeypatch.setenv(TIANDITU_KEY_ENV, KEY)
    write_outputs(tmp_path / "out", tiny, result, networks=nets, matrices=mats)
    data = _data((tmp_path / "out" / "map.html").read_text(encoding="utf-8"))
    tiles = {t["name"]: t for t in data["tiles"]}
    assert list(tiles) == ["OpenStreetMap (online)", "Tianditu map (online)",
                           "Tianditu satellite (online)"]
    for t in list(tiles.values())[1:]:
        assert all(u.startswith("https://t{s}.tianditu.gov.cn/") and u.endswith("&tk=" + KEY)
                   for u in t["urls"])
    geoms = _geoms(tiny, result, nets, mats)
    with caplog.at_level(logging.WARNING, logger="optimizer.report.map"):
        html = _map_html(tiny, result, geoms, mats, nets, tianditu_key='x"</script><b>')
    assert [t["name"] for t in _data(html)["tiles"]] == ["OpenStreetMap (online)"]
    assert "</script><b>" not in html and "not a Tianditu key" in caplog.text


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("no chromium binary on PATH (apt-get install chromium to run this test)")
    return exe


def _run_chromium(exe: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Headless Chromium on ``page`` with every fetch sent to a proxy that is not there."""
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",
         "--window-size=1200,900", "--virtual-time-budget=5000", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def test_map_in_headless_chromium(tmp_path: Path, outputs, setup) -> None:
    """With the network shut, the page draws the roads (one path per road class), every
    route of the peak's plan and every village, and the pixels show roads and routes."""
    exe = _chromium()
    from PIL import Image

    result, _, _ = setup
    html = _html(outputs)
    data = _data(html)
    page = tmp_path / "map.html"
    page.write_text(html, encoding="utf-8")
    dom = _run_chromium(exe, page, tmp_path / "profile-dom", "--dump-dom").stdout

    def paths(cls: str) -> int:
        return len(re.findall(rf'<path\b[^>]*class="[^"]*\b{cls}\b', dom))

    ref = _reference(result)
    assert ref is not None
    assert paths("cc-road") == len(data["roads"]) > 0
    assert paths("cc-route") == len(ref.day.routes) > 0
    assert paths("cc-village") == len(data["layers"][0]["villages"])
    assert paths("cc-store") == len(ref.facilities.cold_stores)
    assert dom.count('class="leaflet-marker-icon cc-pickup') == len(ref.facilities.pickup_points)
    assert "<img" not in dom  # no tile requested
    overlays = dom.split("leaflet-control-layers-overlays", 1)[1]
    for sc in SCENARIOS:
        assert f"{sc}: plan</span>" in overlays and f"{sc}: baseline</span>" in overlays
    assert "No tiles (offline)</span>" in dom and "A year in money" in dom

    # the pixels, without the controls: grey roads and coloured routes and sites
    bare = tmp_path / "bare.html"
    bare.write_text(html.replace("</head>", "<style>.leaflet-control-container{display:none}"
                                 "</style></head>"), encoding="utf-8")
    png = tmp_path / "map.png"
    _run_chromium(exe, bare, tmp_path / "profile-png", f"--screenshot={png}",
                  "--hide-scrollbars")
    with Image.open(png) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=int)
    hi, lo = rgb.max(axis=2), rgb.min(axis=2)
    grey = int(((hi - lo < 12) & (hi > 90) & (hi < 200)).sum())
    colour = int((hi - lo > 60).sum())
    assert grey > 500, f"{grey} road pixels"
    assert colour > 1000, f"{colour} route and site pixels"
