"""Shared fixtures: the tiny hand-made instance and paths to test data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
BENCHDATA = ROOT.parent / "shared" / "benchdata"


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    """A 4-village instance with a 6-road network (tests/data/tiny)."""
    return DATA / "tiny" / "instance.toml"


@pytest.fixture(scope="session")
def tiny(tiny_path: Path):
    """The tiny instance, parsed."""
    from optimizer.formats.instance_toml import read_instance

    return read_instance(tiny_path)


@pytest.fixture(scope="session")
def tiny_net(tiny):
    """The tiny instance's road network."""
    from optimizer.roads import load_network

    return load_network(tiny.network_path)


@pytest.fixture(autouse=True)
def _plans_match_the_published_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every plan.json document built during a test (written by ``solve --out``,
    ``write_outputs`` or ``write_plan_json`` in this process) validates against the
    published schema, optimizer/formats/plan.schema.json."""
    import json

    jsonschema = pytest.importorskip("jsonschema")
    from optimizer.formats import plan_json
    from optimizer.formats.plan_schema import SCHEMA_PATH

    validator = _schema_validator(jsonschema, SCHEMA_PATH)
    build = plan_json.plan_document

    def checked(result):  # type: ignore[no-untyped-def]
        doc = build(result)
        errors = sorted(validator.iter_errors(json.loads(json.dumps(doc))), key=str)
        assert not errors, f"plan.json breaks {SCHEMA_PATH.name}: {errors[0].message} at " \
            f"{'/'.join(map(str, errors[0].absolute_path))}"
        return doc

    monkeypatch.setattr(plan_json, "plan_document", checked)


_VALIDATORS: dict[Path, object] = {}


def _schema_validator(jsonschema, path: Path):  # type: ignore[no-untyped-def]
    import json

    if path not in _VALIDATORS:
        schema = json.loads(path.read_text(encoding="utf-8"))
        _VALIDATORS[path] = jsonschema.Draft202012Validator(schema)
    return _VALIDATORS[path]
