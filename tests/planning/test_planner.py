"""Integrated planning on the tiny instance: covering, modular location, fleet, routing, KPIs."""

from __future__ import annotations

import time

import pytest

from optimizer.limits import Limits
from optimizer.planning.fleet import place_fleet
from optimizer.planning.planner import plan
from optimizer.roads import load_network

LIMITS = Limits(time_s=30.0, solution_limit=100)  # the solution limit stops first


@pytest.fixture(scope="module")
def planning(tiny):
    return plan(tiny, network=load_network(tiny.network_path), limits=LIMITS, iterations=2,
                location_time_s=20.0)


def test_every_scenario_has_baseline_and_plan(planning, tiny) -> None:
    r = planning.result
    got = {(o.scenario, o.plan) for o in r.outcomes}
    assert got == {(s.id, p) for s in tiny.scenarios for p in ("baseline", "plan")}
    assert all(o.day.checked for o in r.outcomes)


def test_pickup_points_cover_every_village(planning) -> None:
    r = planning.result
    assert set(r.pickup_points) >= {"p1", "p3"}  # today's points are kept
    for o in r.outcomes:
        if o.plan == "plan":
            assert o.kpis.village_coverage_pct == pytest.approx(100.0)
    rain = r.outcome("rain", "plan")
    assert rain.robust_village_coverage_pct == pytest.approx(100.0)
    assert r.outcome("peak", "plan").robust_village_coverage_pct is None


def test_peak_plan_adds_modules_and_cools_more(planning, tiny) -> None:
    r = planning.result
    peak = next(s for s in r.seasons if s.season == "peak")
    assert peak.status == "optimal"
    assert sum(peak.modules.values()) > 1  # today one 5 t module at the hub
    base, opt = r.outcome("peak", "baseline").kpis, r.outcome("peak", "plan").kpis
    assert opt.cold_chain_pct > base.cold_chain_pct
    assert opt.spoilage_mass_pct < base.spoilage_mass_pct


def test_modules_respect_site_limits(planning, tiny) -> None:
    limits = {s.id: s.max_modules for s in tiny.cold_store_sites}
    for season in planning.result.seasons:
        for sid, n in season.modules.items():
            assert 0 <= n <= limits[sid]


def test_deterministic(planning, tiny) -> None:
    again = plan(tiny, network=load_network(tiny.network_path), limits=LIMITS, iterations=2,
                 location_time_s=20.0)
    assert again.result.outcomes == planning.result.outcomes


def test_place_fleet_keeps_counts(planning, tiny) -> None:
    fac = planning.result.outcome("peak", "plan").facilities
    fleet = place_fleet(tiny, fac, {"v1": 10.0})
    for vt in tiny.vehicle_types:
        assert sum(fleet[vt.id].values()) == vt.count
        assert fleet[vt.id].get(tiny.operations.hub, 0) >= 1


def test_parallel_jobs_give_the_same_plan(planning, tiny) -> None:
    par = plan(tiny, network=load_network(tiny.network_path), limits=LIMITS, iterations=2,
               location_time_s=20.0, jobs=2)
    assert par.result.outcomes == planning.result.outcomes


@pytest.mark.parametrize(("limit", "stops"), [(10.0, [87, 3, 20, 0]), (1.0, [5] * 30),
                                              (0.5, [1])])
def test_routing_time_is_split_over_depots_within_the_day_limit(limit, stops) -> None:
    from optimizer.routing.solve import MIN_PART_TIME_S, time_shares

    shares = time_shares(limit, stops)
    assert len(shares) == len(stops)
    assert sum(shares) == pytest.approx(limit)
    assert min(shares) >= min(MIN_PART_TIME_S, limit / len(stops)) - 1e-12
    # more stops never get less time
    pairs = sorted(zip(stops, shares, strict=True))
    assert all(a[1] <= b[1] + 1e-12 for a, b in zip(pairs, pairs[1:], strict=False))


def test_cheapest_sites_keeps_k_allowed_sites_per_village() -> None:
    import numpy as np

    from optimizer.planning.sites import cheapest_sites

    cost = np.array([[5.0, 1.0, 3.0, 2.0], [1.0, 1.0, 1.0, 9.0]])
    allowed = np.array([[True, False, True, True], [True, True, True, True]])
    got = cheapest_sites(cost, allowed, 2)
    assert got.tolist() == [[False, False, True, True], [True, True, False, False]]
    assert cheapest_sites(cost, allowed, 4).tolist() == allowed.tolist()


def _timed_job(job: tuple, limits, seed: int):  # type: ignore[no-untyped-def]
    """A stand-in routing job for the queue test: (start, end) wall times of a short nap."""
    start = time.time()
    time.sleep(job[0])
    return (start, time.time())


def test_routing_queue_runs_at_most_width_jobs_until_widened() -> None:
    """Today's days run jobs - 1 at a time while the planner works, then all at once."""
    from optimizer.planning.planner import _RoutingQueue

    queue = _RoutingQueue(2, Limits(), 0, width=1, fn=_timed_job)
    try:
        queue.add({("a", "baseline"): (0.5,), ("b", "baseline"): (0.5,)})
        queue.futures[("a", "baseline")].result()  # the planner works meanwhile
        queue.add({("c", "plan"): (0.5,)})
        out = queue.results()
    finally:
        queue.close()
    assert sorted(out) == [("a", "baseline"), ("b", "baseline"), ("c", "plan")]
    a_end, b_start = out[("a", "baseline")][1], out[("b", "baseline")][0]
    assert b_start >= a_end - 0.05  # one at a time before results() widened the queue


def test_routing_queue_in_this_process_with_one_job() -> None:
    from optimizer.planning.planner import _RoutingQueue

    queue = _RoutingQueue(1, Limits(), 0, width=1, fn=_timed_job)
    queue.add({("b", "plan"): (0.0,), ("a", "plan"): (0.0,)})
    out = queue.results()
    queue.close()
    assert queue.pool is None and list(out) == [("a", "plan"), ("b", "plan")]


def test_coverage_masks_are_the_samples_within_the_radius(tiny, tiny_net) -> None:
    """The planner's boolean coverage (1 byte per pair) says what the minutes say, and the
    pickup-point model chooses the same points from either."""
    import numpy as np

    from optimizer.planning.scenario import coverage_masks, coverage_samples
    from optimizer.planning.sites import choose_pickup_points

    minutes = coverage_samples(tiny, tiny_net, list(tiny.scenarios))
    masks = coverage_masks(tiny, tiny_net, list(tiny.scenarios))
    radius = tiny.operations.coverage_radius_min
    assert minutes.keys() == masks.keys()
    for sc in minutes:
        assert len(minutes[sc]) == len(masks[sc])
        for m, b in zip(minutes[sc], masks[sc], strict=True):
            assert b.dtype == bool and np.array_equal(b, m <= radius)
    assert choose_pickup_points(tiny, masks, time_limit_s=5) == \
        choose_pickup_points(tiny, minutes, time_limit_s=5)


@pytest.mark.parametrize(("villages", "k"), [(1, 20), (126, 20), (623, 20), (1200, 20),
                                              (1500, 16), (2000, 12), (3000, 8), (50_000, 8)])
def test_candidate_sites_shrink_only_in_very_large_counties(villages: int, k: int) -> None:
    from optimizer.planning.sites import candidate_sites

    assert candidate_sites(villages) == k
