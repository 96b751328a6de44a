"""Regressions for defects the fuzzer found (one test per fix)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.errors import InstanceError
from optimizer.formats.instance_toml import read_instance
from optimizer.roads import load_network
from tests.reliability._harness import TINY as TINY_DIR
from tests.reliability._harness import assert_clean_failure, copy_tiny, run_cli


def test_multilinestring_with_an_empty_part_loads(tmp_path: Path) -> None:
    """Was: IndexError (internal error) from misaligned coordinates of an empty part."""
    d = copy_tiny(tmp_path / "t")
    doc = json.loads((d / "network.geojson").read_text())
    g = doc["features"][5]["geometry"]
    doc["features"][5]["geometry"] = {"type": "MultiLineString",
                                      "coordinates": [g["coordinates"], []]}
    doc["features"].append({"type": "Feature", "properties": {"road_class": "class4"},
                            "geometry": {"type": "LineString", "coordinates": []}})
    (d / "network.geojson").write_text(json.dumps(doc))
    net = load_network(d / "network.geojson")
    ref = load_network(copy_tiny(tmp_path / "ref") / "network.geojson")
    assert net.graph.number_of_edges() == ref.graph.number_of_edges()
    rc, out, err = run_cli(["solve", str(d), "--baseline-only", "--time-limit", "2",
                            "--solution-limit", "20"])
    assert rc == 0, err
    assert "checked: True" in out


def test_toml_with_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """Was: 'not valid TOML (Invalid statement (at line 1, column 1))' for a BOM."""
    d = copy_tiny(tmp_path / "t")
    p = d / "instance.toml"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert read_instance(d).name == "tiny"


def test_device_as_network_is_refused(tmp_path: Path) -> None:
    """Was: load_network('/dev/zero') read forever."""
    d = copy_tiny(tmp_path / "t")
    p = d / "instance.toml"
    p.write_text(p.read_text().replace('"network.geojson"', '"/dev/zero"'))
    rc, _, err = run_cli(["solve", str(d), "--baseline-only", "--time-limit", "1"])
    assert "/dev/zero: not a regular file" in assert_clean_failure(rc, err, codes=(2,))


def test_classic_parse_error_is_one_line(tmp_path: Path) -> None:
    """vrplib errors may span lines; the message keeps the first."""
    from optimizer.formats.classic import read_classic

    p = tmp_path / "x.vrp"
    p.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InstanceError) as info:
        read_classic(p, "vrplib")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("key", ["villages", "network"])
def test_file_name_too_long_is_one_line(tmp_path: Path, key: str) -> None:
    """Was: internal error OSError ENAMETOOLONG from Path.exists()."""
    d = copy_tiny(tmp_path / "t")
    p = d / "instance.toml"
    old = '"network.geojson"' if key == "network" else '"villages.csv"'
    p.write_text(p.read_text().replace(old, '"' + "x" * 5000 + '"'))
    rc, _, err = run_cli(["validate", str(d)])
    assert "File name too long" in assert_clean_failure(rc, err, codes=(2,))


def test_huge_money_value_is_refused_not_overflowed(tmp_path: Path) -> None:
    """Was: internal error OverflowError (int64) inside OR-Tools for 2**63 - 1 yuan/kg."""
    d = copy_tiny(tmp_path / "t")
    p = d / "instance.toml"
    p.write_text(p.read_text().replace("value_yuan_per_kg = 12.0",
                                       "value_yuan_per_kg = 9223372036854775807"))
    rc, _, err = run_cli(["validate", str(d)])
    assert "product.value_yuan_per_kg: input should be less than or equal to" in \
        assert_clean_failure(rc, err, codes=(2,))


def test_speed_factor_text_is_one_line(tmp_path: Path) -> None:
    """Was: internal error ValueError from float('motorway')."""
    d = copy_tiny(tmp_path / "t")
    doc = json.loads((d / "network.geojson").read_text())
    doc["features"][0]["properties"]["speed_factor"] = "motorway"
    (d / "network.geojson").write_text(json.dumps(doc))
    rc, _, err = run_cli(["solve", str(d), "--baseline-only", "--time-limit", "1"])
    assert "feature 0.speed_factor: not a number" in assert_clean_failure(rc, err, codes=(2,))


# ---- classic-file doors (issue 20): each was exit 1 "internal error" or a silent answer ----
ROUTING_DATA = Path(__file__).resolve().parents[1] / "routing" / "data"
LRP_DATA = Path(__file__).resolve().parents[1] / "data" / "lrp"
PMED = Path(__file__).resolve().parents[1] / "location" / "data" / "pmed_tiny.txt"


def _edit(src: Path, dest: Path, line: int, old: str, new: str) -> Path:
    lines = src.read_text().splitlines(keepends=True)
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    dest.write_text("".join(lines))
    return dest


def _refused(argv: list[str], pattern: str) -> None:
    rc, _, err = run_cli(argv)
    assert pattern in assert_clean_failure(rc, err, codes=(2,)), err


def test_huge_number_in_a_prodhon_file_is_refused(tmp_path: Path) -> None:
    """Was: a cost of 8e25 printed with exit 0 (int64 overflow of 100 x Euclid)."""
    f = _edit(LRP_DATA / "tiny4.dat", tmp_path / "huge.dat", 5, "10", "99999999999999999999999")
    _refused(["lrp", str(f), "--time-limit", "0.2", "--jobs", "1"],
             "depot[1].x: must be between -1e+09 and 1e+09")


def test_huge_number_in_a_vrplib_file_is_refused(tmp_path: Path) -> None:
    """Was: internal error OverflowError."""
    f = _edit(ROUTING_DATA / "tiny.vrp", tmp_path / "huge.vrp", 5, "20", "1e400")
    rc, _, err = run_cli(["route", str(f), "--time-limit", "0.1", "--jobs", "1"])
    assert "CAPACITY" in assert_clean_failure(rc, err, codes=(2,))


def test_vrplib_section_line_missing_a_value_is_refused(tmp_path: Path) -> None:
    """Was: internal error ValueError 'inhomogeneous shape'."""
    f = _edit(ROUTING_DATA / "tiny.vrp", tmp_path / "short.vrp", 17, "4 8", "4")
    _refused(["route", str(f), "--time-limit", "0.1", "--jobs", "1"],
             "DEMAND_SECTION line 17: expected 2 values")


def test_vrplib_line_without_a_key_is_refused(tmp_path: Path) -> None:
    """Was: internal error IndexError for a line ': tiny'."""
    f = _edit(ROUTING_DATA / "tiny.vrp", tmp_path / "nokey.vrp", 1, "NAME : tiny", ": tiny")
    _refused(["route", str(f), "--time-limit", "0.1", "--jobs", "1"], "a value without a key")


@pytest.mark.parametrize(("old", "new", "pattern"), [
    ("20        120", "-20        120", "line 14: ready time: must be >= 0"),
    ("30         50", "nan         50", "line 14: x: must be a finite number"),
])
def test_solomon_negative_or_nan_values_are_refused(tmp_path: Path, old: str, new: str,
                                                   pattern: str) -> None:
    """Was: internal error 'tw_early must be >= 0' (PyVRP), and NaN read as -1 by vrplib
    (a silently different instance)."""
    f = _edit(ROUTING_DATA / "tiny_solomon.txt", tmp_path / "bad.txt", 14, old, new)
    _refused(["route", str(f), "--time-limit", "0.1", "--jobs", "1"], pattern)


def test_hfvrp_per_type_capacity_is_solved(tmp_path: Path) -> None:
    """Was: internal error TypeError for a per-type CAPACITY_SECTION (PyVRP's dialect)."""
    rc, out, err = run_cli(["route", str(ROUTING_DATA / "rich" / "hf.vrp"), "--time-limit",
                            "0.5", "--jobs", "1", "--out", str(tmp_path / "hf.sol")])
    assert rc == 0, err
    assert "cost" in out and (tmp_path / "hf.sol").read_text().strip()


def test_huge_number_in_a_pmed_file_is_refused(tmp_path: Path) -> None:
    """Was: internal error OverflowError (int of a 23-digit vertex count)."""
    f = _edit(PMED, tmp_path / "pmed.txt", 1, "4", "99999999999999999999999")
    _refused(["locate", str(f), "--format", "orlib-pmed", "--out", str(tmp_path / "r.json")],
             "must be at most 1e+12 in size")


def _solved_plan(inst: Path, out: Path) -> dict:
    """plan.json (as a dict) of a quick ``coldchain solve INST --out OUT``."""
    rc, _, err = run_cli(["solve", str(inst), "--time-limit", "2", "--solution-limit", "20",
                          "--iterations", "1", "--location-time", "1", "--out", str(out)])
    assert rc == 0, err
    return json.loads((out / "plan.json").read_text())


def test_huge_time_in_plan_json_is_refused(tmp_path: Path) -> None:
    """Was: internal error OverflowError in the checker for start_min = 1e308."""
    d = copy_tiny(tmp_path / "tiny")
    doc = _solved_plan(d, tmp_path / "out")
    route = next(o["day"]["routes"][0] for o in doc["outcomes"] if o["day"]["routes"])
    route["start_min"] = 1e308
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    _refused(["check", str(d), str(tmp_path / "bad.json")], "start_min: must be at most 1e+15")


@pytest.mark.parametrize(("text", "pattern"), [
    ("instance,solution_limit\ntiny,inf\n", "must be a whole number in 1..2147483647"),
    ("instance,family\n" + "x" * 5000 + ",county\n", "instance: cannot read"),
    ("instance,s\x1cenario\ntiny,peak\n", "s\\x1cenario: unknown manifest key"),
])
def test_manifest_defects_are_one_line(tmp_path: Path, text: str, pattern: str) -> None:
    """Were: OverflowError (int of inf), OSError (name too long), and an error line split in
    two by a file-separator character echoed from the file."""
    copy_tiny(tmp_path / "tiny")
    (tmp_path / "m.csv").write_text(text)
    _refused(["batch", str(tmp_path / "m.csv"), "--dry-run", "--out", str(tmp_path / "r")],
             pattern)


def test_generate_refuses_a_name_that_is_not_a_folder(tmp_path: Path) -> None:
    """Was: --name . wrote the instance's files straight into instances/."""
    _refused(["generate", "--name", ".", "--out-dir", str(tmp_path)], "--name: not a plain "
             "folder name")
    assert not (tmp_path / "instances").exists()


def test_control_character_in_a_csv_cell_is_refused(tmp_path: Path) -> None:
    """Was: an id '\\x00cs-east' accepted (found by the long fuzz run)."""
    d = copy_tiny(tmp_path / "t")
    p = d / "cold_store_sites.csv"
    p.write_text(p.read_text().replace("cs-east", "\x00cs-east", 1))
    rc, _, err = run_cli(["validate", str(d)])
    assert "line 3: a control character '\\x00' in a cell" in \
        assert_clean_failure(rc, err, codes=(2,))


def test_nul_in_a_file_name_is_refused(tmp_path: Path) -> None:
    """Was: internal error ValueError 'embedded null byte' for files.network = "\\u0000"."""
    d = copy_tiny(tmp_path / "t")
    p = d / "instance.toml"
    p.write_text(p.read_text().replace('"network.geojson"', '"\\u0000"'))
    rc, _, err = run_cli(["validate", str(d)])
    assert "files.network: cannot access the network file (embedded null byte)" in \
        assert_clean_failure(rc, err, codes=(2,))


def test_prodhon_depot_of_zero_capacity_is_solved(tmp_path: Path) -> None:
    """Was: internal error ZeroDivisionError (the depot's price step divided by 0)."""
    f = _edit(LRP_DATA / "tiny4.dat", tmp_path / "zero.dat", 14, "20", "0")
    rc, out, err = run_cli(["lrp", str(f), "--time-limit", "0.3", "--jobs", "1"])
    assert rc == 0, err
    assert "depots [1]" in out


def test_plan_json_leased_modules_at_an_unknown_site_are_refused(tmp_path: Path) -> None:
    """Was: internal error KeyError in the checker for a renamed site under 'leased'."""
    d = copy_tiny(tmp_path / "tiny")
    doc = _solved_plan(d, tmp_path / "out")
    fac = next(o["facilities"] for o in doc["outcomes"] if o["facilities"].get("leased"))
    season = next(iter(fac["leased"]))
    fac["leased"][season] = {"nowhere": 1}
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    _refused(["check", str(d), str(tmp_path / "bad.json")],
             f"facilities.leased.{season}.nowhere: unknown cold-store site id")


def test_csv_with_two_byte_order_marks_is_read(tmp_path: Path) -> None:
    """Was: '\\ufeffid: unknown column' for a table saved twice with a BOM (long fuzz run)."""
    d = copy_tiny(tmp_path / "t")
    p = d / "villages.csv"
    p.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + p.read_bytes())
    assert read_instance(d).villages == read_instance(TINY_DIR).villages


def test_plan_json_null_value_of_a_wrong_type_is_refused(tmp_path: Path) -> None:
    """Was: internal error TypeError (unhashable list) for null_values[i].value = []."""
    from optimizer.errors import InstanceError
    from optimizer.formats.plan_json import read_plan_json

    d = copy_tiny(tmp_path / "tiny")
    doc = _solved_plan(d, tmp_path / "out")
    assert doc["null_values"], "the tiny plan has figures that do not exist (payback...)"
    doc["null_values"][0]["value"] = []
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(InstanceError, match=r"null_values\[0\]\.value: must be 'inf'"):
        read_plan_json(tmp_path / "bad.json")


def test_manifest_path_of_an_unknown_users_home_is_one_line(tmp_path: Path) -> None:
    """Was: internal error RuntimeError 'Could not determine home directory' for '~iny'."""
    (tmp_path / "m.csv").write_text("instance\n~nosuchuser-coldchain/tiny\n")
    _refused(["batch", str(tmp_path / "m.csv"), "--dry-run", "--out", str(tmp_path / "r")],
             "instance: no such user's home folder")
