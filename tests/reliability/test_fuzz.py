"""Fuzzing: mutated copies of the tiny instance either solve to a checked plan or are refused
with exit 2/3 and one ``error:`` line (never a traceback or an internal error).

Quick profile in CI (derandomized); ``COLDCHAIN_FUZZ=long`` runs thousands of random cases.
Run with ``--hypothesis-show-statistics`` to see the tally of mutations and outcomes.
"""

from __future__ import annotations

import re
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import event, given
from hypothesis import strategies as st

from tests.reliability._doors import TALLY
from tests.reliability._harness import assert_clean_failure, copy_tiny, fuzz_settings, run_cli
from tests.reliability._mutations import Mutation, mutate, mutate_csv, mutate_network, mutate_toml

SOLVE = ["--baseline-only", "--time-limit", "2", "--solution-limit", "20"]


def _figures(stdout: str) -> str:
    """The solve output without the run time (which varies)."""
    return re.sub(r"\d+\.\d+ s, seed", "<t> s, seed", stdout)


@cache
def _reference() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        d = copy_tiny(Path(tmp) / "tiny")
        rc, out, err = run_cli(["solve", str(d), *SOLVE])
        assert rc == 0, err
        return _figures(out)


def _expectation(muts: list[Mutation]) -> str:
    if len(muts) == 1:
        return muts[0].expect
    return "same" if all(m.expect == "same" for m in muts) else "any"


def _check_case(d: Path, muts: list[Mutation]) -> None:
    expect = _expectation(muts)
    label = " + ".join(f"{m.kind}({m.detail})" for m in muts)
    rc, _, err = run_cli(["validate", str(d)])
    door = f"instance ({muts[0].kind.split('.')[0]})"
    if rc != 0:
        TALLY[(door, f"exit {rc}")] += 1
        assert_clean_failure(rc, err, codes=(2,))
        assert expect != "same", f"{label}: refused an equivalent input: {err}"
        event(f"{muts[0].kind}: refused by validate")
        return
    rc, out, err = run_cli(["solve", str(d), *SOLVE])
    TALLY[(door, f"exit {rc}")] += 1
    if rc != 0:
        assert_clean_failure(rc, err)
        assert expect != "same", f"{label}: refused an equivalent input: {err}"
        event(f"{muts[0].kind}: refused by solve (exit {rc})")
        return
    assert expect != "reject", f"{label}: accepted a wrong input (silent wrong answer)"
    assert "checked: True" in out, out
    if expect == "same":
        assert _figures(out) == _reference(), f"{label}: an equivalent input changed the plan"
    event(f"{muts[0].kind}: accepted, checked plan")


@fuzz_settings(quick=30, long=3000)
@given(st.data())
def test_mutated_instance_solves_or_fails_cleanly(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = copy_tiny(Path(tmp) / "inst")
        muts = mutate(data, d)
        _check_case(d, muts)


@fuzz_settings(quick=15, long=1500)
@given(st.data())
def test_mutated_toml(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = copy_tiny(Path(tmp) / "inst")
        _check_case(d, [mutate_toml(data, d)])


@fuzz_settings(quick=15, long=1500)
@given(st.data())
def test_mutated_csv(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = copy_tiny(Path(tmp) / "inst")
        _check_case(d, [mutate_csv(data, d)])


@fuzz_settings(quick=15, long=1500)
@given(st.data())
def test_mutated_network(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = copy_tiny(Path(tmp) / "inst")
        _check_case(d, [mutate_network(data, d)])
