"""The size rule of optimizer/limits.py: routing seconds per scenario day from its stops,
location seconds per model solve from villages x candidate sites; and its use."""

from __future__ import annotations

import pytest

from optimizer.limits import (
    LOCATION_CAP_S,
    LOCATION_FLOOR_S,
    ROUTING_CAP_S,
    ROUTING_FLOOR_S,
    ROUTING_S_PER_DEPOT,
    ROUTING_S_PER_STOP,
    Limits,
    location_time_s,
    routing_time_s,
)


@pytest.mark.parametrize(("stops", "seconds"), [
    (0, 1.0), (1, 1.0), (15, 1.0), (40, 2.6), (95, 6.175), (150, 9.75), (154, 10.0),
    (195, 10.0), (3533, 10.0), (10**7, 10.0),
])
def test_routing_rule_floor_slope_cap(stops: int, seconds: float) -> None:
    assert routing_time_s(stops) == pytest.approx(seconds)


def test_routing_rule_is_monotone_and_bounded() -> None:
    values = [routing_time_s(n) for n in range(0, 2000, 7)]
    assert values == sorted(values)
    assert min(values) == ROUTING_FLOOR_S and max(values) == ROUTING_CAP_S
    assert routing_time_s(100) == pytest.approx(100 * ROUTING_S_PER_STOP)


@pytest.mark.parametrize(("stops", "depots", "seconds"), [
    (40, 1, 2.6), (700, 13, 10.0), (700, 50, 10.0), (3664, 61, 12.2), (13_000, 299, 59.8),
    (100, 60, 12.0),
])
def test_routing_rule_gives_every_depot_of_a_large_day_its_floor(stops: int, depots: int,
                                                               seconds: float) -> None:
    """Hundreds of depots in a day: 0.2 s each at least (10 s over 299 depots left each
    about 0.03 s, too little for a first solution)."""
    assert routing_time_s(stops, depots) == pytest.approx(seconds)
    assert routing_time_s(stops, depots) >= ROUTING_S_PER_DEPOT * depots
    assert routing_time_s(stops, depots) >= routing_time_s(stops)


@pytest.mark.parametrize(("villages", "candidates", "seconds"), [
    (0, 0, 2.0), (70, 11, 2.0), (126, 18, 2.268), (623, 20, 12.46), (1000, 20, 20.0),
    (3000, 20, 20.0),
])
def test_location_rule_floor_slope_cap(villages: int, candidates: int, seconds: float) -> None:
    assert location_time_s(villages, candidates) == pytest.approx(seconds)
    assert LOCATION_FLOOR_S <= location_time_s(villages, candidates) <= LOCATION_CAP_S


def test_a_given_time_overrides_the_rule() -> None:
    assert Limits().time_s is None
    assert Limits().routing_s(100) == routing_time_s(100)
    assert Limits(time_s=0.5).routing_s(10_000) == 0.5
    assert Limits(time_s=30).routing_s(10) == 30.0
    assert Limits().describe() == "size rule" and Limits(time_s=2.5).describe() == "2.5 s"


def test_a_day_gets_the_rule_time_split_over_its_depots(tiny, tiny_net, monkeypatch) -> None:
    """route_day hands its depots the rule's time for the day's stops, split by stops."""
    import optimizer.planning.day as day_mod
    from optimizer.facade import solve

    seen: list[tuple[int, float]] = []
    real = day_mod._solve_checked

    def spy(day, **kw):  # type: ignore[no-untyped-def]
        seen.append((len(day.problem.stops), kw["time_limit_s"]))
        return real(day, **kw)

    monkeypatch.setattr(day_mod, "_solve_checked", spy)
    solve(tiny, scenario="peak", network=tiny_net, limits=Limits(solution_limit=20), seed=0)
    stops = sum(n for n, _ in seen)
    assert stops > 0
    assert sum(t for _, t in seen) == pytest.approx(routing_time_s(stops, len(seen)))
    seen.clear()
    solve(tiny, scenario="peak", network=tiny_net, limits=Limits(time_s=2.0,
                                                                   solution_limit=20), seed=0)
    assert sum(t for _, t in seen) == pytest.approx(2.0)


def test_the_planner_takes_the_location_time_from_the_rule(tiny, tiny_net,
                                                           monkeypatch) -> None:
    import optimizer.planning.planner as planner
    from optimizer.planning.sites import candidate_sites

    seen: list[float] = []
    real = planner.locate_cold_stores

    def spy(*a, **kw):  # type: ignore[no-untyped-def]
        seen.append(kw["time_limit_s"])
        return real(*a, **kw)

    monkeypatch.setattr(planner, "locate_cold_stores", spy)
    res = planner.plan(tiny, network=tiny_net, scenarios=["peak"], iterations=1,
                       limits=Limits(solution_limit=20)).result
    expected = location_time_s(len(tiny.villages),
                               min(len(tiny.cold_store_sites),
                                   candidate_sites(len(tiny.villages))))
    assert seen == [expected] == [planner.location_time_s_for(tiny)]
    assert res.time_limit_s is None
