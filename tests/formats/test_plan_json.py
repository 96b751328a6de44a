"""plan.json: round trip, byte identity, determinism, malformed files (one-line errors)."""

from __future__ import annotations

import errno
import json
import math
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from _tiny_plan import tiny_outcomes, tiny_result

from optimizer.errors import InputError, InstanceError
from optimizer.formats.plan_json import (
    FORMAT_VERSION,
    dumps_plan,
    plan_document,
    read_plan_json,
    write_plan_json,
)
from optimizer.plans import PlanningResult


@pytest.fixture(scope="module")
def result(tiny, tiny_net) -> PlanningResult:
    return tiny_result(tiny, tiny_net)


def _approx_equal(a: object, b: object, path: str = "") -> None:
    """Dataclasses/containers equal, floats within the file's rounding (1e-6)."""
    if isinstance(a, float) or isinstance(b, float):
        fa, fb = float(a), float(b)  # type: ignore[arg-type]
        if math.isnan(fa) or math.isinf(fa):
            assert (math.isnan(fa) and math.isnan(fb)) or fa == fb, path
        else:
            assert fb == pytest.approx(fa, abs=1e-6), path
    elif hasattr(a, "__dataclass_fields__"):
        assert type(a) is type(b), path
        for name in a.__dataclass_fields__:
            if name == "runtime_s":
                continue
            _approx_equal(getattr(a, name), getattr(b, name), f"{path}.{name}")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for k in a:
            _approx_equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _approx_equal(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def test_round_trip(tmp_path: Path, tiny, result: PlanningResult) -> None:
    p = tmp_path / "plan.json"
    write_plan_json(p, tiny, result)
    back = read_plan_json(p, instance=tiny)
    _approx_equal(result, back)
    assert back.runtime_s == 0.0 and all(o.day.runtime_s == 0.0 for o in back.outcomes)
    assert plan_document(back) == plan_document(result)
    # a second round trip is exact
    write_plan_json(tmp_path / "again.json", tiny, back)
    assert (tmp_path / "again.json").read_bytes() == p.read_bytes()


def test_size_rule_time_round_trips_as_null(tmp_path: Path, tiny, result) -> None:
    """A plan routed by the size rule (no fixed time) records ``"time_s": null``."""
    ruled = replace(result, time_limit_s=None)
    p = tmp_path / "plan.json"
    write_plan_json(p, tiny, ruled)
    doc = json.loads(p.read_text(encoding="utf-8"))
    assert doc["limits"]["time_s"] is None
    assert not any(e["path"] == "/limits/time_s" for e in doc.get("null_values", []))
    assert read_plan_json(p, instance=tiny).time_limit_s is None


def test_file_content(tmp_path: Path, tiny, result: PlanningResult) -> None:
    p = tmp_path / "plan.json"
    write_plan_json(p, tiny, result)
    text = p.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["instance"] == "tiny" and doc["seed"] == 0
    assert doc["limits"] == {"time_s": 5.0, "solution_limit": 50}
    assert "runtime" not in text  # wall-clock figures never enter plan.json
    assert list(doc) == sorted(doc)
    o = doc["outcomes"][0]
    assert set(o["facilities"]) >= {"produce_to_store", "village_pickup", "modules"}
    stop = o["day"]["routes"][0]["stops"][0]
    assert set(stop) == {"stop_id", "site_id", "kind", "arrival_min", "start_min",
                         "pickup_kg", "delivery_kg", "load_after_kg"}
    for num in re.findall(r"-?\d+\.\d+", text):
        assert len(num.split(".")[1]) <= 6, num
    assert os.stat(p).st_mode & 0o444  # ordinary permissions, not a 0600 temp file


def test_byte_identical_for_same_seed_and_limit(tmp_path: Path, tiny, tiny_net,
                                                result: PlanningResult) -> None:
    again = replace(result, outcomes=tuple(tiny_outcomes(tiny, tiny_net, "peak"))
                    + result.outcomes[2:], runtime_s=99.0)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_plan_json(a, tiny, result)
    write_plan_json(b, tiny, again)
    assert a.read_bytes() == b.read_bytes()


def test_non_finite_floats_are_null_with_a_reason(tmp_path: Path, tiny, result) -> None:
    o = result.outcomes[0]
    odd = replace(result, outcomes=(replace(o, kpis=replace(o.kpis,
                                                            cost_per_order_yuan=math.inf)),))
    p = tmp_path / "plan.json"
    write_plan_json(p, tiny, odd)
    doc = json.loads(p.read_text(), parse_constant=lambda c: pytest.fail(c))
    assert doc["outcomes"][0]["kpis"]["cost_per_order_yuan"] is None
    assert doc["null_values"] == [{"path": "/outcomes/0/kpis/cost_per_order_yuan",
                                   "value": "inf",
                                   "reason": "no orders, so there is no cost per order"}]
    assert read_plan_json(p).outcomes[0].kpis.cost_per_order_yuan == math.inf


def test_version_2_strings_still_read(tmp_path: Path, tiny, result) -> None:
    doc = plan_document(result)
    doc["format_version"] = 2
    del doc["null_values"]
    doc["outcomes"][0]["kpis"]["cost_per_order_yuan"] = "inf"
    doc["outcomes"][0]["kpis"]["spoilage_kg"] = "nan"
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    k = read_plan_json(p).outcomes[0].kpis
    assert k.cost_per_order_yuan == math.inf and math.isnan(k.spoilage_kg)


@pytest.mark.parametrize(("entry", "expected"), [
    ({"path": "/outcomes/0/kpis/orders", "value": "inf", "reason": "x"},
     r"null_values\[0\]\.path: does not point at a null"),
    ({"path": "/nowhere/0", "value": "nan", "reason": "x"},
     r"null_values\[0\]\.path: does not point at a null"),
    ({"path": "/outcomes/0/kpis/orders", "value": "huge", "reason": "x"},
     r"null_values\[0\]\.value: must be 'inf', '-inf' or 'nan'"),
    ({"path": "/outcomes/0/day/routes/0/stops/0/arrival_min", "value": "inf", "reason": "x"},
     r"arrival_min: must be a finite number"),
    ({"path": "/outcomes/0/kpis/orders"}, r"null_values\[0\]\.value: missing key"),
])
def test_bad_null_values(tmp_path: Path, result, entry: dict, expected: str) -> None:
    doc = plan_document(result)
    if "arrival_min" in entry["path"]:
        doc["outcomes"][0]["day"]["routes"][0]["stops"][0]["arrival_min"] = None
    doc["null_values"] = [entry]
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InstanceError, match=expected):
        read_plan_json(p)


def test_write_failure_is_input_error_and_leaves_nothing(tmp_path: Path, tiny, result,
                                                         monkeypatch) -> None:
    def full(src, dst):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(InputError, match=r"plan\.json: cannot write the file \(No space left"):
        write_plan_json(tmp_path / "plan.json", tiny, result)
    assert list(tmp_path.iterdir()) == []


def test_wrong_instance_refused(tmp_path: Path, tiny, result) -> None:
    with pytest.raises(InputError, match="result is for instance 'other'"):
        write_plan_json(tmp_path / "plan.json", tiny, replace(result, instance="other"))


def _edit(doc: dict, how: str) -> str:
    o = doc["outcomes"][0]
    if how == "missing":
        del doc["seed"]
    elif how == "wrong_type":
        o["day"]["routes"][0]["start_min"] = "early"
    elif how == "unknown_key":
        o["day"]["routes"][0]["colour"] = "red"
    elif how == "bad_kind":
        o["day"]["routes"][0]["stops"][0]["kind"] = "teleport"
    elif how == "version":
        doc["format_version"] = 99
    elif how == "unknown_site":
        o["day"]["routes"][0]["stops"][0]["site_id"] = "v99"
    elif how == "unknown_store":
        o["facilities"]["cold_stores"] = ["cs-nowhere"]
    elif how == "unknown_vehicle":
        o["day"]["routes"][0]["vehicle_type"] = "rocket"
    elif how == "negative_kg":
        o["day"]["routes"][0]["stops"][0]["delivery_kg"] = -5
    elif how == "not_list":
        o["day"]["routes"] = {"a": 1}
    return json.dumps(doc)


@pytest.mark.parametrize(("how", "expected"), [
    ("missing", r"plan\.json: seed: missing key"),
    ("wrong_type", r"outcomes\[0\]\.day\.routes\[0\]\.start_min: must be a number \(got 'early'\)"),
    ("unknown_key", r"routes\[0\]\.colour: unknown key"),
    ("bad_kind", r"stops\[0\]\.kind: must be 'pickup' .* \(got 'teleport'\)"),
    ("version", r"format_version: unsupported version .* \(got 99\)"),
    ("unknown_site", r"stops\[0\]\.site_id: unknown (village|pickup site) id \(got 'v99'\)"),
    ("unknown_store", r"facilities\.cold_stores\[0\]: unknown cold-store site id"),
    ("unknown_vehicle", r"vehicle_type: unknown vehicle type id \(got 'rocket'\)"),
    ("negative_kg", r"delivery_kg: must be >= 0 \(got -5\)"),
    ("not_list", r"day\.routes: must be a list \(got 'dict'\)"),
])
def test_malformed_plan_json(tmp_path: Path, tiny, result, how: str, expected: str) -> None:
    doc = json.loads(dumps_plan(result))
    p = tmp_path / "plan.json"
    p.write_text(_edit(doc, how), encoding="utf-8")
    with pytest.raises(InstanceError, match=expected) as exc:
        read_plan_json(p, instance=tiny)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(str(p)) and "; " in msg
    assert exc.value.exit_code == 2


@pytest.mark.parametrize(("content", "expected"), [
    ("{not json", r"line 1 column 2: not valid JSON"),
    ("[1, 2]", r"must be an object \(got 'list'\)"),
    ('{"x": NaN}', r"non-standard JSON constant NaN"),
    ("", r"not valid JSON"),
])
def test_not_json(tmp_path: Path, content: str, expected: str) -> None:
    p = tmp_path / "plan.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InstanceError, match=expected):
        read_plan_json(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="file not found"):
        read_plan_json(tmp_path / "nope.json")
