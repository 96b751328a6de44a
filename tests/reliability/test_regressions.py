"""Regressions for defects the fuzzer found (one test per fix)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.errors import InstanceError
from optimizer.formats.instance_toml import read_instance
from optimizer.roads import load_network
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
