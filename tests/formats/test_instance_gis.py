"""GIS-friendly instance tables (issue 19): x/y columns in ``[files] crs``, QGIS CSV exports,
GeoPackage/GeoJSON/Shapefile point layers; each built in tmp_path from the tiny instance and
read to the same sites as the CSV original, or refused in one line naming the file."""

from __future__ import annotations

import csv
import dataclasses
import logging
import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from optimizer.cli import main
from optimizer.errors import InstanceError
from optimizer.formats.instance_toml import read_instance

TINY = Path(__file__).parents[1] / "data" / "tiny"
TABLES = ("villages", "cold_store_sites", "pickup_sites")
#: CGCS2000 / 3-degree Gauss-Kruger CM 108E, and CM 105E: Guizhou (~106.5E) lies between
GK108, GK105 = "EPSG:4545", "EPSG:4544"


def _county(tmp_path: Path, files: dict[str, str] | None = None, crs: str | None = None) -> Path:
    """A copy of the tiny instance in tmp_path whose ``[files]`` names ``files`` (TOML values
    by table; the others stay the CSV originals) and ``crs``; returns its instance.toml."""
    d = tmp_path / "county"
    shutil.copytree(TINY, d)
    values = {t: f'"{t}.csv"' for t in TABLES} | (files or {})
    block = "[files]\nnetwork = \"network.geojson\"\n"
    block += "".join(f"{t} = {values[t]}\n" for t in TABLES)
    if crs is not None:
        block += f'crs = "{crs}"\n'
    toml = d / "instance.toml"
    text, n = re.subn(r"\[files\]\n.*?\n\n", lambda _: block + "\n", toml.read_text(),
                      count=1, flags=re.S)
    assert n == 1
    toml.write_text(text)
    return toml


def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(TINY / f"{name}.csv", dtype={"id": str, "village_id": str})


def _layer(name: str, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """The tiny table ``name`` as points in ``crs``, without its lon/lat columns."""
    df = _table(name)
    gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]),
                           geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    return gdf.to_crs(crs)


def _xy_csv(name: str, dest: Path, crs: str | None, *, cols: tuple[str, str] = ("x", "y"),
            fid: bool = False) -> None:
    """Write the tiny table ``name`` to ``dest`` with its points as columns ``cols`` in
    ``crs`` (None: the lon/lat degrees), like a QGIS export (X, Y first) when ``fid``."""
    df = _table(name)
    x, y = df.pop("lon").to_numpy(), df.pop("lat").to_numpy()
    if crs is not None:
        x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(x, y)
    front = {cols[0]: x, cols[1]: y} | ({"fid": range(1, len(df) + 1)} if fid else {})
    out = pd.concat([pd.DataFrame(front), df], axis=1)
    out.to_csv(dest, index=False, float_format="%.10f", quoting=csv.QUOTE_MINIMAL)


def _same_sites(got, want, tol: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    """``got`` and ``want`` have the same villages, cold-store and pickup sites; positions
    within ``tol`` degrees (exactly equal for 0)."""
    for table in ("villages", "cold_store_sites", "pickup_sites"):
        a, b = getattr(got, table), getattr(want, table)
        if tol == 0.0:
            assert a == b, table
            continue
        assert len(a) == len(b)
        for s, t in zip(a, b, strict=True):
            assert abs(s.lon - t.lon) < tol and abs(s.lat - t.lat) < tol, (table, s.id)
            assert dataclasses.replace(s, lon=t.lon, lat=t.lat) == t, (table, s.id)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# ---- tables that load ------------------------------------------------------------------


@pytest.mark.parametrize("crs", [GK108, GK105])
def test_xy_columns_in_projected_crs_give_the_same_lonlat(tmp_path: Path, tiny, crs: str,
                                                          caplog) -> None:
    toml = _county(tmp_path, crs=crs)
    for t in TABLES:
        _xy_csv(t, toml.parent / f"{t}.csv", crs)
    with caplog.at_level(logging.WARNING):
        inst = read_instance(toml)
    _same_sites(inst, tiny, tol=1e-6)
    assert _warnings(caplog) == []
    assert main(["validate", str(toml)]) == 0


def test_qgis_csv_export_loads_with_one_warning(tmp_path: Path, tiny, caplog) -> None:
    """QGIS "Save Features As... CSV, GEOMETRY=AS_XY": X, Y first, then fid and the fields."""
    toml = _county(tmp_path, crs=GK108)
    for t in TABLES:
        _xy_csv(t, toml.parent / f"{t}.csv", GK108, cols=("X", "Y"), fid=t == "villages")
    assert next(csv.reader((toml.parent / "villages.csv").open()))[:3] == ["X", "Y", "fid"]
    with caplog.at_level(logging.WARNING):
        inst = read_instance(toml)
    _same_sites(inst, tiny, tol=1e-6)
    logged = _warnings(caplog)
    assert len(logged) == 1, logged
    assert re.fullmatch(r".*villages\.csv: ignored columns fid \(not used by coldchain\)",
                        logged[0]), logged


def test_xy_degrees_without_crs_are_lonlat(tmp_path: Path, tiny) -> None:
    toml = _county(tmp_path)
    _xy_csv("villages", toml.parent / "villages.csv", None, cols=("X", "Y"))
    _same_sites(read_instance(toml), tiny, tol=1e-9)


def test_geopackage_layers_chosen_by_layer(tmp_path: Path, tiny, caplog) -> None:
    toml = _county(tmp_path, {
        "villages": '{ path = "sites.gpkg", layer = "villages" }',
        "cold_store_sites": '{ path = "sites.gpkg", layer = "cold_store_sites" }',
    })
    gpkg = toml.parent / "sites.gpkg"
    _layer("villages").to_file(gpkg, layer="villages", driver="GPKG")
    _layer("cold_store_sites").to_file(gpkg, layer="cold_store_sites", driver="GPKG")
    with caplog.at_level(logging.WARNING):
        inst = read_instance(toml)
    _same_sites(inst, tiny)  # EPSG:4326 points: exactly the CSV's numbers
    assert _warnings(caplog) == []


@pytest.mark.parametrize("suffix", [".geojson", ".json"])
def test_geojson_point_file(tmp_path: Path, tiny, suffix: str) -> None:
    toml = _county(tmp_path, {"pickup_sites": f'"pickups{suffix}"'})
    _layer("pickup_sites").to_file(toml.parent / f"pickups{suffix}", driver="GeoJSON")
    _same_sites(read_instance(toml), tiny)


def test_one_point_multipoint_is_a_point(tmp_path: Path, tiny) -> None:
    toml = _county(tmp_path, {"villages": '"villages.geojson"'})
    gdf = _layer("villages")
    gdf.geometry = [shapely.MultiPoint([p]) for p in gdf.geometry]
    gdf.to_file(toml.parent / "villages.geojson", driver="GeoJSON")
    _same_sites(read_instance(toml), tiny)


def test_projected_layer_crs_wins_over_files_crs(tmp_path: Path, tiny) -> None:
    """The layer is in CM 108E, the CSV tables' x/y in CM 105E (files.crs): the layer's own
    CRS converts its points (files.crs would put them ~3 degrees off)."""
    toml = _county(tmp_path, {"villages": '"villages.gpkg"'}, crs=GK105)
    _layer("villages", GK108).to_file(toml.parent / "villages.gpkg", driver="GPKG")
    for t in ("cold_store_sites", "pickup_sites"):
        _xy_csv(t, toml.parent / f"{t}.csv", GK105)
    _same_sites(read_instance(toml), tiny, tol=1e-6)


def test_whole_instance_is_the_same(tmp_path: Path, tiny) -> None:
    """Equal to the CSV original apart from where it was read, so every plan is the same."""
    toml = _county(tmp_path, {"villages": '"v.gpkg"', "pickup_sites": '"p.geojson"'})
    _layer("villages").to_file(toml.parent / "v.gpkg", driver="GPKG")
    _layer("pickup_sites").to_file(toml.parent / "p.geojson", driver="GeoJSON")
    inst = read_instance(toml)
    assert inst.villages == tiny.villages
    assert dataclasses.replace(inst, network_path=tiny.network_path,
                               source=tiny.source) == tiny


# ---- tables that are refused: one line naming the file, exit code 2 ---------------------

Case = Callable[[Path], tuple[Path, Path, str]]  # tmp_path -> (toml, file named, pattern)


def _two_layers_unnamed(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path, {"villages": '"sites.gpkg"'})
    gpkg = toml.parent / "sites.gpkg"
    _layer("villages").to_file(gpkg, layer="villages", driver="GPKG")
    _layer("cold_store_sites").to_file(gpkg, layer="cold_store_sites", driver="GPKG")
    return toml, gpkg, (r"villages: 2 layers and none chosen \(got 'villages, "
                        r"cold_store_sites'\); name one in instance\.toml: villages = "
                        r"\{ path = \"sites\.gpkg\", layer = \"villages\" \}")


def _unknown_layer(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path, {"villages": '{ path = "sites.gpkg", layer = "village" }'})
    gpkg = toml.parent / "sites.gpkg"
    _layer("villages").to_file(gpkg, layer="villages", driver="GPKG")
    return toml, gpkg, r"villages\.layer: no such layer .*did you mean 'villages'\?"


def _layer_of_a_csv(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path, {"villages": '{ path = "villages.csv", layer = "villages" }'})
    return toml, toml.parent / "villages.csv", r"villages\.layer: a CSV file has no layers"


def _geometry(kind: str) -> Case:
    def build(tmp_path: Path) -> tuple[Path, Path, str]:
        toml = _county(tmp_path, {"villages": '"villages.geojson"'})
        gdf = _layer("villages")
        p = gdf.geometry.iloc[1]
        geoms = list(gdf.geometry)
        geoms[1] = {
            "line": shapely.LineString([(p.x, p.y), (p.x + 0.01, p.y)]),
            "polygon": shapely.box(p.x, p.y, p.x + 0.01, p.y + 0.01),
            "multipoint": shapely.MultiPoint([(p.x, p.y), (p.x + 0.01, p.y)]),
        }[kind]
        gdf.geometry = geoms
        path = toml.parent / "villages.geojson"
        gdf.to_file(path, driver="GeoJSON")
        got = {"line": "LineString", "polygon": "Polygon",
               "multipoint": "MultiPoint of 2 points"}[kind]
        return toml, path, rf"feature 1\.geometry: must be a Point \(got '{got}'\); .*Centroids"
    return build


def _lonlat_with_projected_crs(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path, crs=GK108)
    return toml, toml.parent / "villages.csv", (
        r"villages\.csv: lon: lon/lat columns hold degrees, but files\.crs is a projected CRS "
        r"\(got 'EPSG:4545'\); name the columns x and y")


def _xy_without_crs(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path)
    _xy_csv("villages", toml.parent / "villages.csv", GK108)
    return toml, toml.parent / "villages.csv", (
        r"villages\.csv: row 2\.x: x/y are not lon/lat degrees and \[files\] names no crs "
        r"\(got 3\d{5}\.\d+\); add crs = \"EPSG:\.\.\.\.\" under \[files\]")


def _unknown_crs(text: str) -> Case:
    def build(tmp_path: Path) -> tuple[Path, Path, str]:
        toml = _county(tmp_path, crs=text)
        return toml, toml, (rf"instance\.toml: files\.crs: not a CRS pyproj knows \(.*\) "
                            rf"\(got '{re.escape(text)}'\); write an EPSG code")
    return build


def _near_miss_in_layer(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path, {"villages": '"villages.gpkg"'})
    path = toml.parent / "villages.gpkg"
    _layer("villages").rename(columns={"households": "Households"}).to_file(path, driver="GPKG")
    return toml, path, (r"villages\.gpkg \(layer 'villages'\): Households: unknown column; "
                        r"did you mean 'households'\?")


def _near_miss_in_csv(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path)
    path = toml.parent / "villages.csv"
    _table("villages").rename(columns={"households": "houshold"}).to_csv(path, index=False)
    return toml, path, r"villages\.csv: houshold: unknown column; did you mean 'households'\?"


def _shapefile_names_cut(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path, {"pickup_sites": '"pickups.shp"'})
    path = toml.parent / "pickups.shp"
    with warnings.catch_warnings():  # GDAL: names cut to 10 characters (the defect)
        warnings.simplefilter("ignore")
        _layer("pickup_sites").to_file(path, driver="ESRI Shapefile")
    return toml, path, (r"pickups\.shp \(layer 'pickups'\): opening_cost_yuan: missing column"
                        r"; .*cut to 10 characters: use a GeoPackage")


def _layer_without_crs(tmp_path: Path) -> tuple[Path, Path, str]:
    toml = _county(tmp_path, {"villages": '"villages.gpkg"'})
    path = toml.parent / "villages.gpkg"
    with warnings.catch_warnings():  # geopandas: no CRS (the defect)
        warnings.simplefilter("ignore")
        _layer("villages").set_crs(None, allow_override=True).to_file(path, driver="GPKG")
    return toml, path, r"villages\.gpkg \(layer 'villages'\): villages: the layer has no CRS"


REFUSED: dict[str, Case] = {
    "two layers, no layer named": _two_layers_unnamed,
    "unknown layer": _unknown_layer,
    "layer of a CSV": _layer_of_a_csv,
    "line geometry": _geometry("line"),
    "polygon geometry": _geometry("polygon"),
    "MultiPoint of two": _geometry("multipoint"),
    "lon/lat with projected crs": _lonlat_with_projected_crs,
    "x/y without crs, not degrees": _xy_without_crs,
    "unknown EPSG code": _unknown_crs("EPSG:999999"),
    "not a crs": _unknown_crs("Gauss-Kruger 108"),
    "near-miss column in a layer": _near_miss_in_layer,
    "near-miss column in a CSV": _near_miss_in_csv,
    "Shapefile cuts column names": _shapefile_names_cut,
    "layer without a CRS": _layer_without_crs,
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_in_one_line_naming_the_file(case: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    toml, named, pattern = REFUSED[case](tmp_path)
    with pytest.raises(InstanceError, match=pattern) as info:
        read_instance(toml)
    assert "\n" not in str(info.value)
    capsys.readouterr()
    assert main(["validate", str(toml)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: {named}"), err
    assert re.search(pattern, err), err
    assert "Traceback" not in err
