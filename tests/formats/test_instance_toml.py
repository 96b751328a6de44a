"""Instance format: the tiny instance parses; every defect file gives one line and exit 2."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.errors import InstanceError
from optimizer.formats.instance_toml import read_instance

BAD = Path(__file__).parents[1] / "data" / "bad"

# defect file -> regex the one-line message must match (file, field, problem)
BAD_CASES = {
    "UnknownKey.toml": r"UnknownKey\.toml: product\.colour: unknown key",
    "WrongType.toml": r"WrongType\.toml: vehicles\[0\]\.capacity_kg: .*number.*\(got 'big'\)",
    "NegativeCapacity.toml": r"vehicles\[0\]\.capacity_kg: .*greater than 0 \(got -5\.0\)",
    "MissingFile.toml": r"no_such_villages\.csv: villages: file not found",
    "NaNValue.toml": r"product\.value_yuan_per_kg: .*finite.*\(got nan\)",
    "UnknownHub.toml": r"operations\.hub: must name a cold_store_sites id \(got 'cs-nowhere'\)",
    "MissingKey.toml": r"product\.value_yuan_per_kg: missing required key",
    "BadTime.toml": r"operations\.day_start: not a time of day \(got '25:99'\)",
    "UnknownRoadClass.toml": r"vehicles\[0\]\.forbidden_road_classes\[0\]: .*\(got 'motorway'\)",
    "UnknownSeason.toml": r"scenarios\[1\]\.season: unknown season \(got 'summer'\)",
    "MissingNetwork.toml": r"files\.network: network file not found",
    "NotToml.toml": r"NotToml\.toml: instance: not valid TOML",
    "NaNCoordinate.toml": r"NaNCoordinate\.villages\.csv: row 2\.lat: not a finite number",
    "OutOfRangeCoordinate.toml": r"row 2\.lon: must be <= 180 \(got 206\.52\)",
    "DuplicateVillageId.toml": r"villages: duplicate id \(got 'v1'\)",
    "NegativeProduce.toml": r"row 2\.produce_kg_per_day_peak: must be >= 0 \(got -6000\.0\)",
    "NearMissColumn.toml": r"NearMissColumn\.villages\.csv: housholds: unknown column; "
                           r"did you mean 'households'\?",
    "MissingSeasonColumn.toml": r"produce_kg_per_day_peak: missing column",
    "NotANumber.toml": r"row 2\.households: not a number \(got 'lots'\)",
    "DeviceFile.toml": r"/dev/zero: villages: not a regular file",
    "BadDiscountRate.toml": r"economics\.discount_rate: .*less than 1 \(got 1\.5\)",
    "NegativeLease.toml": r"cold_storage\.module_lease_yuan_per_day: .*greater than or equal "
                          r"to 0 \(got -10\.0\)",
    "SharesOverOne.toml": r"scenarios\[2\]\.probability: the probabilities of season 'off' "
                          r"add up to 1\.3, more than 1",
    "BadOutageHours.toml": r"scenarios\[2\]\.outage_h\.grid: must be hours in \[0, 24\] "
                           r"\(got 30\.0\)",
}


def test_tiny_instance_parses(tiny) -> None:
    assert [v.id for v in tiny.villages] == ["v1", "v2", "v3", "v4"]
    assert tiny.hub.id == "cs-hub"
    assert tiny.vehicle_types[0].forbidden_road_classes == ("track",)
    assert tiny.operations.day_start_min == 360
    assert tiny.villages[0].produce_kg_per_day["peak"] == 6000.0
    assert tiny.scenario("rain").rain_speed_factor["class4"] == 0.7


# files in tests/data/bad that are no longer refused: file -> the one warning they give
NOTED_CASES = {
    "UnknownColumn.toml": r"UnknownColumn\.villages\.csv: ignored columns colour "
                          r"\(not used by coldchain\)$",
}


def test_every_defect_file_has_a_case() -> None:
    assert sorted(BAD_CASES | NOTED_CASES) == sorted(p.name for p in BAD.glob("*.toml"))


@pytest.mark.parametrize(("name", "pattern"), sorted(NOTED_CASES.items()))
def test_unused_column_is_ignored_with_one_warning(name: str, pattern: str, tiny,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="optimizer.formats"):
        inst = read_instance(BAD / name)
    assert inst.villages == tiny.villages
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert re.search(pattern, warnings[0]), warnings


@pytest.mark.parametrize("name", sorted(NOTED_CASES))
def test_unused_column_cli_exit_0(name: str, caplog: pytest.LogCaptureFixture) -> None:
    assert main(["validate", str(BAD / name)]) == 0
    assert "ignored columns colour (not used by coldchain)" in caplog.text


@pytest.mark.parametrize(("name", "pattern"), sorted(BAD_CASES.items()))
def test_bad_input_raises_one_line(name: str, pattern: str) -> None:
    with pytest.raises(InstanceError, match=pattern) as info:
        read_instance(BAD / name)
    msg = str(info.value)
    assert "\n" not in msg
    assert "; " in msg, "the message names a fix"


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_input_cli_exit_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(BAD / name)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_decay_follows_q10(tiny) -> None:
    p = tiny.product
    assert p.decay_per_h(22.0) == pytest.approx(0.0019)
    assert p.decay_per_h(12.0) == pytest.approx(0.0019 / 3.0)
    assert p.loss_fraction(22.0, 360.0) == pytest.approx(1 - math.exp(-0.0019 * 360))


def test_directory_path_reads_instance_toml(tiny_path: Path) -> None:
    assert read_instance(tiny_path.parent).name == "tiny"


def test_instance_replace_revalidates(tiny) -> None:
    with pytest.raises(InstanceError, match="duplicate id"):
        tiny.replace(villages=tiny.villages + tiny.villages[:1])
