"""Fuzzing every door but the instance (test_fuzz.py): classic benchmark files (Solomon,
VRPLIB classic and PyVRP's dialect, OR-Library cap/uncap/pmed, Prodhon), plan.json through
``coldchain check``, batch manifests (CSV and TOML), road networks through ``coldchain
network`` and the generator's options.

Every case must end in exit 0 with its result, exit 2 with one ``error:`` line, or exit 3;
exit 1 (internal error) or a traceback fails the test. The quick profile runs in CI
(derandomized); ``COLDCHAIN_FUZZ=long`` runs thousands of random cases and prints a tally
per door at the end (tests/reliability/conftest.py).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.reliability._doors import (
    DOORS,
    TALLY,
    Door,
    mutate_json,
    mutate_text,
    mutate_toml_doc,
    run_door,
)
from tests.reliability._harness import LONG, copy_tiny, fuzz_settings, run_cli
from tests.reliability._mutations import mutate_network

PLAN_TIME = ["--time-limit", "2", "--solution-limit", "20", "--iterations", "1",
             "--location-time", "1"]


def _case(door: Door, data: st.DataObject, file_name: str, seed_bytes: bytes,
          prepare: object = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if callable(prepare):
            prepare(work)
        f = work / file_name
        f.write_bytes(seed_bytes)
        mut = door.mutate(data, f)
        rc = run_door(door, f, work, f"{mut.kind}({mut.detail})")
        event(f"{door.name}: {mut.kind} -> exit {rc}")


# ---- classic benchmark files ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(DOORS))
@fuzz_settings(quick=12, long=700)
@given(data=st.data())
def test_classic_file_door_holds(name: str, data: st.DataObject) -> None:
    door = DOORS[name]
    if not door.seeds:
        pytest.skip(f"no seed file for {name}")
    seed = data.draw(st.sampled_from(door.seeds), label="seed file")
    _case(door, data, seed.name, seed.read_bytes())


@pytest.mark.parametrize("name", sorted(DOORS))
def test_seed_files_pass_their_door(name: str, tmp_path: Path) -> None:
    """The unmutated seeds are solved (a door that refuses everything would pass the fuzz)."""
    door = DOORS[name]
    for seed in door.seeds:
        f = tmp_path / seed.name
        shutil.copy(seed, f)
        assert run_door(door, f, tmp_path, "seed") == 0, seed


# ---- plan.json through coldchain check --------------------------------------------------------
@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    root = tmp_path_factory.mktemp("planned")
    inst = copy_tiny(root / "tiny")
    rc, _, err = run_cli(["solve", str(inst), *PLAN_TIME, "--out", str(root / "out")])
    assert rc == 0, err
    return inst, (root / "out" / "plan.json").read_bytes()


def _check_door(inst: Path) -> Door:
    return Door("plan.json", (), lambda f, w: ["check", str(inst), str(f)],
                mutate=mutate_json, many_lines_on=(3,))


def test_untouched_plan_passes_check(planned: tuple[Path, bytes], tmp_path: Path) -> None:
    inst, plan = planned
    (tmp_path / "plan.json").write_bytes(plan)
    assert run_door(_check_door(inst), tmp_path / "plan.json", tmp_path, "seed") == 0


@fuzz_settings(quick=25, long=1500)
@given(data=st.data())
def test_plan_json_door_holds(planned: tuple[Path, bytes], data: st.DataObject) -> None:
    inst, plan = planned
    _case(_check_door(inst), data, "plan.json", plan)


# ---- batch manifests (parsed and expanded: --dry-run) -------------------------------------
MANIFEST_CSV = ("instance,scenario,seed,time_limit,solution_limit,mode,timeout,iterations,"
                "location_time,family\ntiny,peak;rain,0;1,2,20,plan,60,1,1,county\n"
                "tiny,,,,,baseline,,,,\n")
MANIFEST_TOML = """[defaults]
time_limit = 2
solution_limit = 20

[[task]]
instance = "tiny"
scenario = ["peak", "rain"]
seed = [0, 1]
mode = "plan"
iterations = 1
location_time = 1.0
family = "county"

[[task]]
instance = "tiny/instance.toml"
mode = "baseline"
timeout = 60
"""


def _batch_door(suffix: str) -> Door:
    return Door(f"manifest{suffix}", (), lambda f, w: ["batch", str(f), "--dry-run",
                                                      "--out", str(w / "results.jsonl")],
                mutate=mutate_toml_doc if suffix == ".toml" else mutate_text)


@pytest.mark.parametrize(("suffix", "text"), [(".csv", MANIFEST_CSV), (".toml", MANIFEST_TOML)])
def test_seed_manifests_expand(suffix: str, text: str, tmp_path: Path) -> None:
    copy_tiny(tmp_path / "tiny")
    (tmp_path / f"tasks{suffix}").write_text(text)
    rc, out, err = run_cli(["batch", str(tmp_path / f"tasks{suffix}"), "--dry-run",
                            "--out", str(tmp_path / "r.jsonl")])
    assert rc == 0, err
    assert len([ln for ln in out.splitlines() if "tiny" in ln]) == 5, out


@pytest.mark.parametrize(("suffix", "text"), [(".csv", MANIFEST_CSV), (".toml", MANIFEST_TOML)])
@fuzz_settings(quick=15, long=1000)
@given(data=st.data())
def test_manifest_door_holds(suffix: str, text: str, data: st.DataObject) -> None:
    _case(_batch_door(suffix), data, f"tasks{suffix}", text.encode(),
          prepare=lambda w: copy_tiny(w / "tiny"))


# ---- road networks through coldchain network ----------------------------------------------
@fuzz_settings(quick=15, long=1000)
@given(data=st.data())
def test_network_door_holds(data: st.DataObject) -> None:
    door = Door("network", (), lambda f, w: ["network", str(w)])
    with tempfile.TemporaryDirectory() as tmp:
        work = copy_tiny(Path(tmp) / "tiny")
        mut = mutate_network(data, work)
        rc = run_door(door, work / "network.geojson", work, f"{mut.kind}({mut.detail})")
        event(f"network: {mut.kind} -> exit {rc}")


# ---- the generator's options ------------------------------------------------------------------
COUNTIES = ["520123", "522732", "520402", "", " 520123", "52012", "5201230", "999999",
            "abc", "520123,520402", "-1", "1e400", "\u0035\u0032\u0030\u0031\u0032\u0033"]
SEEDS = ["0", "7", "-1", "9223372036854775808", "99999999999999999999999", "x", "1.5", ""]
PRODUCTS = ["kiwifruit", "tea", "sweet-potato", "", "banana", "KIWIFRUIT", "tea "]
NAMES = [None, "x", "", ".", "..", "a/b", "x" * 300, "\u00e9t\u00e9", "-", "con"]


@fuzz_settings(quick=6, long=120)
@given(county=st.sampled_from(COUNTIES), seed=st.sampled_from(SEEDS),
       product=st.sampled_from(PRODUCTS), name=st.sampled_from(NAMES),
       out_is_file=st.booleans(), many=st.sampled_from([None, "province-like", "counties"]))
def test_generator_options_hold(county: str, seed: str, product: str, name: str | None,
                                out_is_file: bool, many: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        out = work / "out"
        if out_is_file:
            out.write_text("a file where a folder is wanted")
        argv = ["generate", "--seed", seed, "--product", product, "--out-dir", str(out)]
        if many == "counties":
            argv += ["--counties", f"{county},520402"]
        else:  # --province would build 88 counties: the fuzzer keeps to one or two
            argv += ["--county", county]
        if name is not None:
            argv += ["--name", name]
        rc, _, err = run_cli(argv)
        TALLY[("generate", f"exit {rc}")] += 1
        assert rc in (0, 2, 4), (argv, rc, err)
        assert "Traceback" not in err and "internal error" not in err, (argv, err)
        if rc == 0:
            made = sorted(p.name for p in (out / "instances").iterdir())
            assert made, argv
            rc, _, err = run_cli(["validate", str(out / "instances" / made[0])])
            assert rc == 0, (argv, err)
        event(f"generate -> exit {rc}")


def test_long_mode_runs_at_least_ten_thousand_cases() -> None:
    """The long profile's example counts add up to >= 10,000 cases across the doors."""
    per_test = {"instance (test_fuzz.py)": 0}
    from tests.reliability import test_fuzz

    for fn in (test_fuzz.test_mutated_instance_solves_or_fails_cleanly,
               test_fuzz.test_mutated_toml, test_fuzz.test_mutated_csv,
               test_fuzz.test_mutated_network):
        per_test["instance (test_fuzz.py)"] += _long_examples(fn)
    per_test["classic files"] = _long_examples(test_classic_file_door_holds) * len(DOORS)
    per_test["plan.json"] = _long_examples(test_plan_json_door_holds)
    per_test["manifests"] = _long_examples(test_manifest_door_holds) * 2
    per_test["network"] = _long_examples(test_network_door_holds)
    per_test["generate"] = _long_examples(test_generator_options_hold)
    assert sum(per_test.values()) >= 10_000, per_test
    if LONG:
        assert sum(per_test.values()) >= 10_000


def _long_examples(test: object) -> int:
    """The example count the long profile gives ``test`` (its fuzz_settings' ``long``)."""
    return int(test._long_examples)
