"""Hypothesis strategies that break a copy of the tiny instance one defect at a time.

Each mutation is drawn with ``data.draw`` and applied to files in a directory holding a
copy of tests/data/tiny. It returns a :class:`Mutation` naming what was done and what the
tool must do with it:

* ``expect="reject"``: the input is wrong (NaN, binary garbage, a duplicate id...): the
  tool must refuse it (exit 2 or 3, one ``error:`` line); accepting it is a silent wrong
  answer;
* ``expect="same"``: the input means the same as the original (a BOM, CRLF line ends,
  reordered columns): the tool must accept it and give the same plan;
* ``expect="any"``: either a clean refusal or a valid, checked plan.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import strategies as st

TABLES = ("villages.csv", "cold_store_sites.csv", "pickup_sites.csv")
#: CSV columns read as numbers (NaN/inf there must be refused)
NUMERIC_COLUMNS = {
    "lon", "lat", "households", "orders_per_day_off", "orders_per_day_peak",
    "produce_kg_per_day_off", "produce_kg_per_day_peak", "module_capacity_t", "max_modules",
    "opening_cost_yuan", "module_cost_yuan_per_season", "existing_modules",
}
#: empty means the default (0 modules; the instance's module cost)
OPTIONAL_NUMERIC = {"existing_modules", "module_cost_yuan_per_season"}
FLAG_COLUMNS = {"has_pickup_point", "existing"}
ID_COLUMNS = {"id"}


@dataclass(frozen=True)
class Mutation:
    kind: str  # e.g. "toml.set", "csv.raw", "net.coords"
    detail: str
    expect: str = "any"  # "reject" | "same" | "any"


# ---- weird values --------------------------------------------------------------------------
NONFINITE = [math.nan, math.inf, -math.inf]
TOML_VALUES: list[Any] = [
    "", " ", "x", "06:00", "25:00", "-1", "1e400", "nan", "\u0000", "é" * 3, "x" * 5000,
    0, -1, 1, 2**63 - 1, -(2**63), 10**30, 0.0, -0.5, 1e-300, 1e308, -1e308,
    True, False, [], [1, "a"], {}, {"a": 1}, [{"id": "x"}],
]
CSV_CELLS = [
    "", " ", "nan", "NaN", "inf", "-inf", "Infinity", "-1", "0", "1e308", "1e309", "-1e308",
    "abc", "1,5", "1_000", "0x10", "١٢", "1e-320", "99999999999999999999", '"', "\x00",
    "2.5", "yes", "maybe", "x" * 10000, "v1", "cs-hub", "p1", "é",
]


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out: list[tuple] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append((*prefix, k))
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append((*prefix, i))
            out += _paths(v, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple) -> tuple[Any, Any]:
    cur = doc
    for p in path[:-1]:
        cur = cur[p]
    return cur, path[-1]


def _fmt(path: tuple) -> str:
    return ".".join(str(p) for p in path)


# ---- instance.toml -----------------------------------------------------------------------
def mutate_toml(data: st.DataObject, d: Path) -> Mutation:
    path = d / "instance.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    op = data.draw(st.sampled_from(["delete", "rename", "set", "nonfinite", "dup", "files",
                                    "raw"]), label="toml op")
    if op == "raw":
        return _raw(data, path, "toml")
    if op == "dup":
        key = data.draw(st.sampled_from(["vehicles", "seasons", "scenarios"]))
        doc[key].append(dict(doc[key][0]))
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        return Mutation("toml.dup", key, "reject")
    if op == "files":
        key = data.draw(st.sampled_from(sorted(doc["files"])))
        target = data.draw(st.sampled_from([
            "instance.toml", "villages.csv", "network.geojson", "pickup_sites.csv", ".", "..",
            "missing.csv", "/dev/zero", "/dev/null", "/", "sub/../villages.csv",
            "/proc/self/status", "x" * 5000,
        ]))
        same = target == doc["files"][key] or (key == "villages" and target ==
                                                "sub/../villages.csv")
        doc["files"][key] = target
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        expect = "any" if same or target == "sub/../villages.csv" else "reject"
        return Mutation("toml.files", f"{key}={target}", expect)
    paths = [p for p in _paths(doc) if not (op == "rename" and isinstance(p[-1], int))]
    where = data.draw(st.sampled_from(paths))
    parent, key = _parent(doc, where)
    if op == "delete":
        del parent[key]
        detail = _fmt(where)
    elif op == "rename":
        new = data.draw(st.sampled_from([key + "_x", key.upper(), key + " ", "", "é"]))
        parent[new] = parent.pop(key)
        detail = f"{_fmt(where)}->{new!r}"
    elif op == "nonfinite":
        parent[key] = data.draw(st.sampled_from(NONFINITE))
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        return Mutation("toml.nonfinite", _fmt(where), "reject")
    else:
        value = data.draw(st.sampled_from(TOML_VALUES))
        parent[key] = value
        detail = f"{_fmt(where)}={str(value)[:20]!r}"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return Mutation(f"toml.{op}", detail)


# ---- CSV tables ----------------------------------------------------------------------------
def _read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.reader(fh)]


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def mutate_csv(data: st.DataObject, d: Path) -> Mutation:
    name = data.draw(st.sampled_from(TABLES), label="table")
    path = d / name
    rows = _read_rows(path)
    header = rows[0]
    op = data.draw(st.sampled_from(["cell", "drop_col", "rename_col", "short_row", "long_row",
                                    "dup_row", "no_rows", "reorder", "raw"]), label="csv op")
    kind = f"csv.{op}"
    if op == "raw":
        return _raw(data, path, "csv")
    r = data.draw(st.integers(1, len(rows) - 1), label="row")
    c = data.draw(st.integers(0, len(header) - 1), label="col")
    col = header[c]
    expect = "any"
    if op == "cell":
        value = data.draw(st.sampled_from(CSV_CELLS), label="cell")
        rows[r][c] = value
        low = value.strip().lower()
        if col in NUMERIC_COLUMNS and (low in ("nan", "inf", "-inf", "infinity", "abc", "1e308",
                                               "1e309", "1,5", "0x10", "\x00", '"')
                                       or (low == "" and col not in OPTIONAL_NUMERIC)):
            expect = "reject"
        if col in ID_COLUMNS and not value.strip():
            expect = "reject"
        if col in FLAG_COLUMNS and low == "maybe":
            expect = "reject"
        detail = f"{name}[{r},{col}]={value[:12]!r}"
    elif op == "drop_col":
        for row in rows:
            del row[c]
        detail = f"{name}-{col}"
        expect = "reject" if col in ("id", "lon", "lat", "name") else "any"
    elif op == "rename_col":
        rows[0][c] = data.draw(st.sampled_from([col + "_x", col.upper(), "", " " + col,
                                                header[(c + 1) % len(header)]]))
        detail = f"{name}:{col}->{rows[0][c]!r}"
        expect = "any" if rows[0][c] == " " + col else "reject"
        if rows[0][c] == col.upper() and col in ("lon", "lat"):
            expect = "same"  # coordinate columns are read in any case (QGIS writes X/Y)
    elif op == "short_row":
        rows[r] = rows[r][:-1]
        detail, expect = f"{name} row {r} short", "reject"
    elif op == "long_row":
        rows[r] = [*rows[r], "extra"]
        detail, expect = f"{name} row {r} long", "reject"
    elif op == "dup_row":
        rows.append(list(rows[r]))
        detail, expect = f"{name} row {r} twice", "reject"
    elif op == "no_rows":
        rows = rows[:1]
        detail = f"{name} header only"
        expect = "reject" if name != "pickup_sites.csv" else "any"
    else:  # reorder columns: means the same
        perm = data.draw(st.permutations(range(len(header))))
        rows = [[row[i] for i in perm] for row in rows]
        detail, expect = f"{name} columns {perm}", "same"
    _write_rows(path, rows)
    return Mutation(kind, detail, expect)


# ---- raw bytes (any file) -------------------------------------------------------------------
def _raw(data: st.DataObject, path: Path, what: str) -> Mutation:
    text = path.read_text(encoding="utf-8")
    body = text.encode("utf-8")
    op = data.draw(st.sampled_from(["garbage", "bom", "crlf", "utf16", "latin1", "nul",
                                    "truncate", "empty", "flip", "other_format"]),
                   label=f"{what} raw op")
    expect = "reject"
    if op == "garbage":
        out = data.draw(st.binary(min_size=1, max_size=300), label="garbage")
        if out.strip() == b"" or (what != "csv" and out.isascii()):
            expect = "any"
        if what == "csv":
            expect = "any"  # a garbage header may still be rejected; must not crash
    elif op == "bom":
        out, expect = b"\xef\xbb\xbf" + body, "same"
    elif op == "crlf":
        out, expect = body.replace(b"\n", b"\r\n"), "same"
    elif op == "utf16":
        out = text.encode("utf-16")
    elif op == "latin1":
        out = (text.replace("Village One", "Villagé Oné").replace("Tiny", "Tinÿ")
               .encode("latin-1"))
        expect = "any" if out.isascii() else "reject"
        if what == "net":
            expect = "any"
    elif op == "nul":
        k = data.draw(st.integers(0, len(body)))
        out = body[:k] + b"\x00" + body[k:]
        if what == "net":  # GDAL's GeoJSON reader skips a NUL ("\x00Feature" is a Feature)
            expect = "any"
    elif op == "truncate":
        k = data.draw(st.integers(0, len(body) - 1))
        out, expect = body[:k], "any"
    elif op == "empty":
        out = b""
        expect = "reject"
    elif op == "flip":
        k = data.draw(st.integers(0, len(body) - 1))
        b = data.draw(st.integers(0, 255))
        out, expect = body[:k] + bytes([b]) + body[k + 1:], "any"
    else:  # the content of another kind of file under this name
        other = data.draw(st.sampled_from(["villages.csv", "instance.toml", "network.geojson",
                                           "pickup_sites.csv"]))
        out = (path.parent / other).read_bytes() if (path.parent / other).exists() else b""
        expect = "same" if other == path.name else "reject"
        if what == "csv" and other.endswith(".csv"):
            expect = "any"
        op = f"other_format:{other}"
    path.write_bytes(out)
    return Mutation(f"{what}.raw", op, expect)


# ---- road network (GeoJSON) -----------------------------------------------------------------
def mutate_network(data: st.DataObject, d: Path) -> Mutation:
    path = d / "network.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    feats = doc["features"]
    op = data.draw(st.sampled_from(["drop", "coords", "geometry", "prop", "raw", "suffix"]),
                   label="net op")
    if op == "raw":
        return _raw(data, path, "net")
    if op == "suffix":
        return _suffix(data, d)
    i = data.draw(st.integers(0, len(feats) - 1), label="feature")
    f = feats[i]
    expect = "any"
    if op == "drop":
        del feats[i]
        detail = f"feature {i} ({f['properties']['edge_id']}) dropped"
    elif op == "coords":
        choice = data.draw(st.sampled_from(["empty", "single", "nan", "inf", "strings",
                                            "huge", "same_point", "nested", "null_item"]))
        cs = f["geometry"]["coordinates"]
        new: Any = {
            "empty": [], "single": [cs[0]], "nan": [cs[0], [math.nan, 27.0]],
            "inf": [cs[0], [math.inf, 27.0]], "strings": [["a", "b"], cs[-1]],
            "huge": [cs[0], [1e10, 1e10]], "same_point": [cs[0], cs[0]],
            "nested": [[cs]], "null_item": [cs[0], None],
        }[choice]
        f["geometry"]["coordinates"] = new
        detail = f"feature {i} coordinates {choice}"
        expect = "reject" if choice in ("nan", "inf", "huge") else "any"
    elif op == "geometry":
        choice = data.draw(st.sampled_from(["null", "point", "polygon", "multi_empty",
                                            "collection", "no_type", "bad_type"]))
        cs = f["geometry"]["coordinates"]
        f["geometry"] = {
            "null": None, "point": {"type": "Point", "coordinates": cs[0]},
            "polygon": {"type": "Polygon", "coordinates": [[*cs, cs[0]]]},
            "multi_empty": {"type": "MultiLineString", "coordinates": [cs, []]},
            "collection": {"type": "GeometryCollection", "geometries": []},
            "no_type": {"coordinates": cs}, "bad_type": {"type": "Road", "coordinates": cs},
        }[choice]
        detail = f"feature {i} geometry {choice}"
    else:
        key = data.draw(st.sampled_from(["road_class", "edge_id", "speed_factor", "oneway",
                                         "name", "highway"]))
        value = data.draw(st.sampled_from([None, "", "motorway", "class9", -1, 0, 1e308,
                                           math.nan, "fast", True, [1], {"a": 1}, "e1",
                                           "x" * 5000, "-1", "yes"]))
        f["properties"][key] = value
        detail = f"feature {i} {key}={str(value)[:12]!r}"
        if key == "road_class" and value in ("class9", -1, 0, 1e308, "fast", True, "yes"):
            expect = "reject"
        if key == "speed_factor" and value in (-1, 0, "fast", "-1", True) or (
                key == "speed_factor" and isinstance(value, float) and math.isnan(value)):
            expect = "any"  # NaN/None may mean "missing" in a GeoDataFrame
            if value in (-1, 0, "fast", "-1"):
                expect = "reject"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return Mutation(f"net.{op}", detail, expect)


def _suffix(data: st.DataObject, d: Path) -> Mutation:
    """The network file named with another extension (content unchanged or garbage)."""
    suffix = data.draw(st.sampled_from([".graphml", ".osm", ".pbf", ".gpkg", ".shp", ".json",
                                        ".txt", ".csv", ".osm.bz2"]))
    content = data.draw(st.sampled_from(["geojson", "csv", "garbage", "empty"]))
    src = d / "network.geojson"
    raw = {"geojson": src.read_bytes(), "csv": (d / "villages.csv").read_bytes(),
           "garbage": bytes(range(256)) * 4, "empty": b""}[content]
    dest = d / f"roads{suffix}"
    dest.write_bytes(raw)
    toml = d / "instance.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'network = "network.geojson"', f'network = "{dest.name}"'), encoding="utf-8")
    same = suffix == ".json" and content == "geojson"
    # GDAL sniffs the content of line layers: GeoJSON named .gpkg/.shp is still read right
    sniffed = suffix in (".gpkg", ".shp") and content == "geojson"
    expect = "same" if same else "any" if sniffed else "reject"
    return Mutation("net.suffix", f"{content} as {suffix}", expect)


def mutate(data: st.DataObject, d: Path) -> list[Mutation]:
    """Apply 1-2 mutations to the instance copy in ``d``."""
    n = data.draw(st.integers(1, 2), label="mutations")
    out = []
    for _ in range(n):
        target = data.draw(st.sampled_from(["toml", "csv", "net"]), label="target")
        fn = {"toml": mutate_toml, "csv": mutate_csv, "net": mutate_network}[target]
        try:
            out.append(fn(data, d))
        except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError):
            # the file was already broken by the first mutation: keep it as it is
            out.append(Mutation(f"{target}.skipped", "already broken"))
    return out
