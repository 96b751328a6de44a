"""``locate`` command: JSON fields, 1-based facility numbers, atomic write, error types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from optimizer.cli.locate import register
from optimizer.errors import InstanceError

DATA = Path(__file__).parent / "data"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def _other() -> None:  # a second command keeps "locate" as a sub-command
        pass

    return app


def test_locate_cap_json(tmp_path: Path) -> None:
    out = tmp_path / "res.json"
    r = CliRunner().invoke(_app(), ["locate", str(DATA / "cap_tiny.txt"), "--format",
                                    "orlib-cap", "--time-limit", "5", "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    for key in ("objective", "status", "bound", "gap", "open", "seconds"):
        assert key in data
    # open site 1 (5) + demand 4 x 1 + 3 x 2 = 15, or site 2 (7) + 4x2 + 3x1 = 18, or both:
    # 12 + 4 + 3 = 19 -> site 1 alone
    assert data["status"] == "optimal" and data["objective"] == pytest.approx(15.0)
    assert data["open"] == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["res.json"]  # no temp file left


def test_locate_pmed_json(tmp_path: Path) -> None:
    out = tmp_path / "pm.json"
    r = CliRunner().invoke(_app(), ["locate", str(DATA / "pmed_tiny.txt"), "--format",
                                    "orlib-pmed", "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    # line 1 -3- 2 -1- 3 -2- 4 (edge 1-2 last cost 3); p = 2: {2, 4} or {1, 3} ... best 1 + 2 = 3
    assert data["objective"] == 3.0 and data["status"] == "optimal"
    assert all(1 <= j <= 4 for j in data["open"])


def test_locate_uncap(tmp_path: Path) -> None:
    out = tmp_path / "u.json"
    r = CliRunner().invoke(_app(), ["locate", str(DATA / "cap_tiny.txt"), "--format",
                                    "orlib-uncap", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["objective"] == pytest.approx(15.0)


def test_locate_malformed_raises_instance_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(_app(), ["locate", str(DATA / "cap_nonnumeric.txt"), "--format",
                                    "orlib-cap", "--out", str(tmp_path / "x.json")])
    assert r.exit_code != 0
    assert isinstance(r.exception, InstanceError)
    assert not (tmp_path / "x.json").exists()
