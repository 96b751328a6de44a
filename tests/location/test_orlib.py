"""OR-Library readers: real files (skipped when benchdata is absent) and one file per defect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimizer.errors import InstanceError
from optimizer.formats.orlib import read_orlib_cap, read_orlib_pmed, read_orlib_uncap

DATA = Path(__file__).parent / "data"
BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchdata"


def _bench(rel: str) -> Path:
    p = BENCH / rel
    if not p.exists():
        pytest.skip(f"benchmark data absent: {p}")
    return p


def test_read_cap41() -> None:
    inst = read_orlib_cap(_bench("orlib_cflp/instances/cap41.txt"))
    assert (inst.n_facilities, inst.n_customers) == (16, 50)
    assert inst.capacity[0] == 5000 and inst.open_cost[10] == 0.0 and inst.open_cost[0] == 7500
    assert inst.demand[0] == 146
    assert inst.alloc_cost[0, 0] == pytest.approx(6739.725)
    assert inst.unit_cost[0, 0] == pytest.approx(6739.725 / 146)
    assert inst.alloc_cost[-1, -1] == pytest.approx(7448.1)


def test_read_uncap_ignores_capacity() -> None:
    inst = read_orlib_uncap(_bench("orlib_cflp/instances/cap41.txt"))
    assert np.isinf(inst.capacity).all()


def test_read_pmed1_shortest_paths() -> None:
    inst = read_orlib_pmed(_bench("orlib_pmed/instances/pmed1.txt"))
    assert (inst.n, inst.p) == (100, 5)
    assert inst.cost.shape == (100, 100)
    assert np.allclose(inst.cost, inst.cost.T)
    assert (np.diag(inst.cost) == 0).all() and np.isfinite(inst.cost).all()
    # triangle inequality holds for a shortest-path matrix
    c = inst.cost
    assert (c[:, None, :] <= c[:, :, None] + c[None, :, :] + 1e-9).all()


def test_tiny_cap_file() -> None:
    inst = read_orlib_cap(DATA / "cap_tiny.txt")
    assert inst.capacity.tolist() == [10, 10]
    assert inst.demand.tolist() == [4, 3]
    assert inst.unit_cost.tolist() == [[1, 2], [2, 1]]


def test_capacity_word_needs_value() -> None:
    with pytest.raises(InstanceError, match=r"cap_word_capacity.txt: line 2: facility 1 capacity"):
        read_orlib_cap(DATA / "cap_word_capacity.txt")
    inst = read_orlib_cap(DATA / "cap_word_capacity.txt", capacity=8000)
    assert inst.capacity.tolist() == [8000, 8000]


def test_pmed_last_edge_occurrence_wins() -> None:
    inst = read_orlib_pmed(DATA / "pmed_tiny.txt")
    # edge 1-2 given as 5 then 3: 3 counts; path 1-2-3-4 = 3 + 1 + 2
    assert inst.cost[0, 1] == 3 and inst.cost[0, 3] == 6
    assert len(inst.edges) == 3


@pytest.mark.parametrize(
    ("name", "reader", "pattern"),
    [
        ("cap_truncated.txt", read_orlib_cap, r"cap_truncated.txt: customer 2 cost to facility 1: "
                                              r"unexpected end of file after line 6"),
        ("cap_nonnumeric.txt", read_orlib_cap, r"cap_nonnumeric.txt: line 5: customer 1 cost to "
                                               r"facility 2: not a number \(got 'abc'\)"),
        ("cap_negative_capacity.txt", read_orlib_cap,
         r"cap_negative_capacity.txt: line 2: facility 1 capacity: must be >= 0 \(got -10.0\)"),
        ("pmed_truncated.txt", read_orlib_pmed, r"pmed_truncated.txt: edge 3 i: unexpected end"),
        ("pmed_bad_vertex.txt", read_orlib_pmed,
         r"pmed_bad_vertex.txt: line 2: edge 1 j: vertex must be in 1..4 \(got 9\)"),
        ("does_not_exist.txt", read_orlib_pmed, r"does_not_exist.txt: file not found"),
    ],
)
def test_malformed_files(name: str, reader, pattern: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InstanceError, match=pattern) as exc:
        reader(DATA / name)
    assert "\n" not in str(exc.value)
    assert exc.value.exit_code == 2
