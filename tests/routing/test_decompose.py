"""Decomposition of large single-depot problems into parts (optimizer.routing._decompose)."""

from __future__ import annotations

import pytest

from optimizer.routing import _decompose, solve_routing
from optimizer.routing import verify as check
from optimizer.routing._warm import chains

from .test_rich import rich_problem


def test_split_covers_every_stop_once_and_keeps_slot_chains_whole() -> None:
    p = rich_problem(3, n_stops=150, fleet=4)
    parts = _decompose.split(p, part_stops=40)
    assert parts is not None and len(parts) >= 4
    assert sorted(i for part in parts for i in part.stops) == list(range(len(p.stops)))
    assert sorted(v for part in parts for v in part.vehicles) == list(range(len(p.vehicles)))
    for part in parts:
        assert len(part.stops) <= 40
        # a slot chain (one physical vehicle) never straddles two parts
        for chain in chains(p):
            inside = [v in part.vehicles for v in chain]
            assert all(inside) or not any(inside)
        # the sub-problem's chains and restrictions point at its own vehicles
        for k, v in enumerate(part.problem.vehicles):
            orig = p.vehicles[part.vehicles[k]]
            assert v.id == orig.id
            if v.after is not None:
                assert part.problem.vehicles[v.after].id == p.vehicles[orig.after].id
        for k, s in enumerate(part.problem.stops):
            orig = p.stops[part.stops[k]]
            if orig.allowed_vehicles is not None:
                assert {part.problem.vehicles[v].id for v in s.allowed_vehicles} == {
                    p.vehicles[v].id for v in orig.allowed_vehicles if v in part.vehicles}


def test_split_is_deterministic_and_declines_multi_depot() -> None:
    p = rich_problem(4, n_stops=120, fleet=3)
    a = _decompose.split(p, part_stops=40)
    b = _decompose.split(p, part_stops=40)
    assert a is not None and b is not None
    assert [x.stops for x in a] == [x.stops for x in b]
    assert _decompose.split(p, part_stops=500) is None  # fits in one part
    from dataclasses import replace
    other = replace(p, vehicles=(replace(p.vehicles[0], start=1, end=1), *p.vehicles[1:]))
    assert _decompose.split(other, part_stops=40) is None


def test_large_problem_is_solved_in_parts_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_decompose, "DECOMPOSE_ABOVE", 60)
    monkeypatch.setattr(_decompose, "PART_STOPS", 40)
    p = rich_problem(5, n_stops=120, fleet=3)
    sol = solve_routing(p, time_limit_s=4.0, seed=0, solution_limit=30)
    assert sol.extra.get("parts", 0) >= 3
    check.verify(p, sol)  # raises on any violation of the whole problem
    served = {v.stop for r in sol.routes for v in r.visits}
    assert served.isdisjoint(sol.dropped)
    assert served | set(sol.dropped) == set(range(len(p.stops)))
    assert len(served) > len(p.stops) // 2


def test_parts_that_cannot_carry_a_mandatory_stop_are_refused() -> None:
    from dataclasses import replace

    p = rich_problem(6, n_stops=120, fleet=3)
    parts = _decompose.split(p, part_stops=40)
    assert parts is not None
    assert not _decompose.mandatory_unserved(parts)  # every stop is optional here
    big = max(v.capacity_kg for v in p.vehicles)
    first = parts[0]
    heavy = replace(first.problem.stops[0], drop_penalty_fen=None, allowed_vehicles=None,
                    pickup_kg=big + 1)
    bad = replace(first, problem=replace(first.problem,
                                         stops=(heavy, *first.problem.stops[1:])))
    assert _decompose.mandatory_unserved([bad, *parts[1:]])
    empty = replace(first, problem=replace(first.problem, vehicles=()))
    mand = replace(empty, problem=replace(empty.problem, stops=tuple(
        replace(s, drop_penalty_fen=None, allowed_vehicles=None) for s in
        empty.problem.stops)))
    assert _decompose.mandatory_unserved([mand])
