"""plan.json's published JSON Schema: generated from the model, valid, strict, and met by
the plans the tool writes (every in-process test checks that: tests/conftest.py)."""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from pathlib import Path

import pytest
from _tiny_plan import tiny_result

from optimizer.formats.plan_json import plan_document, write_plan_json
from optimizer.formats.plan_schema import SCHEMA_PATH, plan_json_schema, schema_text
from optimizer.plans import Kpis, YearFigures

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def validator():  # type: ignore[no-untyped-def]
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_published_schema_is_the_generated_one() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "regenerate: python -m optimizer.formats.plan_schema > "
        "optimizer/formats/plan.schema.json")


def test_every_figure_of_the_model_is_in_the_schema() -> None:
    defs = plan_json_schema()["$defs"]
    assert set(defs["Kpis"]["properties"]) == {f.name for f in fields(Kpis)}
    assert set(defs["YearFigures"]["properties"]) == {f.name for f in fields(YearFigures)}
    assert defs["Kpis"]["additionalProperties"] is False


def _doc(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_written_plan_validates_and_nulls_are_explained(tmp_path: Path, tiny, tiny_net,
                                                        validator) -> None:
    result = tiny_result(tiny, tiny_net)
    o = result.outcomes[0]
    odd = replace(result, outcomes=(replace(o, kpis=replace(
        o.kpis, cost_per_order_yuan=math.inf, spoilage_kg=math.nan)), *result.outcomes[1:]))
    p = tmp_path / "plan.json"
    write_plan_json(p, tiny, odd)
    doc = _doc(p)
    validator.validate(doc)
    kpis = doc["outcomes"][0]["kpis"]
    assert kpis["cost_per_order_yuan"] is None and kpis["spoilage_kg"] is None
    why = {e["path"]: e for e in doc["null_values"]}
    cpo = why["/outcomes/0/kpis/cost_per_order_yuan"]
    assert cpo["value"] == "inf" and "no orders" in cpo["reason"]
    assert why["/outcomes/0/kpis/spoilage_kg"]["value"] == "nan"
    # every null in the file is explained, and every explanation points at a null
    nulls = _null_pointers(doc)
    assert nulls == set(why)


def _null_pointers(doc, path: str = "") -> set[str]:  # type: ignore[no-untyped-def]
    if doc is None:
        return {path}
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) \
        if isinstance(doc, list) else ()
    out: set[str] = set()
    for k, v in items:
        if path == "" and k == "null_values":
            continue
        if path == "" and k in ("budget_yuan",) or k in ("solution_limit",):
            continue  # null by meaning (no budget, no solution limit), not a missing figure
        if k == "robust_village_coverage_pct" and v is None:
            continue  # null by meaning: the scenario samples no closures
        out |= _null_pointers(v, f"{path}/{k}")
    return out


@pytest.mark.parametrize(("how", "where"), [
    ("string inf", "cost_per_order_yuan"),
    ("unknown key", "colour"),
    ("negative kg", "pickup_kg"),
    ("old version", "format_version"),
])
def test_schema_is_strict(how: str, where: str, tiny, tiny_net, validator) -> None:
    doc = json.loads(json.dumps(plan_document(tiny_result(tiny, tiny_net))))
    if how == "string inf":
        doc["outcomes"][0]["kpis"]["cost_per_order_yuan"] = "inf"
    elif how == "unknown key":
        doc["outcomes"][0]["colour"] = "red"
    elif how == "negative kg":
        doc["outcomes"][0]["day"]["routes"][0]["stops"][0]["pickup_kg"] = -1
    else:
        doc["format_version"] = 2
    errors = list(validator.iter_errors(doc))
    assert errors and any(where in (str(e.message) + "/".join(map(str, e.absolute_path)))
                          for e in errors)
