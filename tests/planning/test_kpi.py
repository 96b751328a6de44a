"""KPIs recomputed by hand on a hand-made day plan of the tiny instance."""

from __future__ import annotations

import math

import pytest

from optimizer.planning.kpi import coverage, evaluate, facility_cost_per_day
from optimizer.plans import DayPlan, FacilityPlan, PlannedRoute, PlannedStop


@pytest.fixture()
def facilities() -> FacilityPlan:
    return FacilityPlan(
        name="hand",
        cold_stores=("cs-hub", "cs-east"),
        modules={"peak": {"cs-hub": 1, "cs-east": 2}, "off": {"cs-hub": 1, "cs-east": 0}},
        pickup_points=("p1", "p3"),
        produce_to_store={"v1": (("cs-hub", 5000.0),)},
        village_pickup={"v1": "p1", "v2": "p1", "v3": "p3", "v4": "p3"},
    )


def _day(end_min: float) -> DayPlan:
    stops = (
        PlannedStop("deliver:p1", "p1", "delivery", 420.0, 420.0, 0.0, 100.0, 0.0),
        PlannedStop("collect:v1", "v1", "pickup", 540.0, 540.0, 2000.0, 0.0, 2000.0),
    )
    route = PlannedRoute("reefer#1", "reefer", 0, "cs-hub", 400.0, end_min, 30.0, stops, 300.0)
    return DayPlan("peak", (route,), (), {}, 0.0, "feasible", "test", 0.0, checked=True)


def test_facility_cost_per_day(tiny, facilities) -> None:
    """By hand: v1's 5,000 kg need one 5 t module at the hub, so 1 owned module runs
    (72 yuan/day of power; cs-east's 2 stand unused); both sites hold modules at the peak
    (staff 2 x 150); cs-east's 2 modules move in for the peak (2 x 5,000) and out after it
    (2 x 2,000) every year: 14,000 / 365; pickups p1 and p3 run at 4,000/year each; cs-east
    is new: 50,000 annualised over 15 years at 6 % (0.102963) / 365."""
    from optimizer.planning.economics import facility_day

    annuity = 0.06 / (1 - 1.06 ** -15)
    expect = 72 + 2 * 150 + 14_000 / 365 + 2 * 4000 / 365 + 50_000 * annuity / 365
    assert facility_cost_per_day(tiny, facilities, "peak") == pytest.approx(expect)
    day = facility_day(tiny, facilities, "peak")
    assert day.operating_yuan == pytest.approx(72 + 300 + 14_000 / 365)
    assert day.pickups_yuan == pytest.approx(8000 / 365)
    assert day.investment_yuan == pytest.approx(50_000 * annuity / 365)


def test_evaluate_by_hand(tiny, facilities) -> None:
    sc = tiny.scenario("peak")
    produce = {"v1": 6000.0, "v2": 0.0, "v3": 0.0, "v4": 0.0}
    orders = {"v1": 30.0, "v2": 0.0, "v3": 0.0, "v4": 0.0}
    minutes = {"v1": {"p1": 0.0, "p3": 50.0}, "v2": {"p1": 12.0, "p3": 40.0},
               "v3": {"p1": 45.0, "p3": 0.0}, "v4": {"p1": 70.0, "p3": 35.0}}
    k = evaluate(tiny, sc, facilities, _day(600.0), orders=orders, produce_kg=produce,
                 minutes_to=minutes)
    p = tiny.product
    th_a, th_v = p.decay_per_h(22.0), p.decay_per_h(2.0)
    # the lot waited 1 h in the field (ready 08:00, picked 09:00), rode 1 h at 2 C
    lost = 2000 * (1 - math.exp(-(th_a * 1.0 + th_v * 1.0)))
    # 4000 kg left behind: ambient for 72 h
    lost += 4000 * (1 - math.exp(-th_a * 72.0))
    assert k.spoilage_mass_pct == pytest.approx(100 * lost / 6000)
    assert k.collected_kg == 2000.0
    assert k.cold_chain_pct == pytest.approx(100 * 2000 / 6000)
    orders_handled = 100.0 / 5.0 + 2000.0 / 5.0
    assert k.orders == pytest.approx(orders_handled)
    fac = facility_cost_per_day(tiny, facilities, "peak")
    assert k.cost_per_order_yuan == pytest.approx((300.0 + fac) / orders_handled)
    assert k.parcels_dropped == pytest.approx(30.0 - 20.0)
    assert k.village_coverage_pct == pytest.approx(75.0)  # v1, v2, v3 within 30 min
    assert k.household_coverage_pct == pytest.approx(100 * 900 / 1050)
    assert k.vehicles_used == 1
    assert k.cold_room_utilisation_pct == pytest.approx(100 * 2000 / 15000)


def test_late_arrival_is_not_cold_chain(tiny, facilities) -> None:
    sc = tiny.scenario("peak")
    produce = {"v1": 2000.0}
    # route ends at 21:00 > 08:00 + 12 h deadline
    k = evaluate(tiny, sc, facilities, _day(21 * 60.0), orders={}, produce_kg=produce,
                 minutes_to={})
    assert k.cold_chain_pct == 0.0


def test_coverage_counts_radius(tiny) -> None:
    minutes = {v.id: {"p1": 31.0} for v in tiny.villages}
    minutes["v4"] = {"p1": 30.0}
    assert coverage(tiny, ("p1",), minutes) == pytest.approx((25.0, 100 * 150 / 1050))
    assert coverage(tiny, (), minutes) == (0.0, 0.0)


def test_power_outage_delays_cooling_by_hand(tiny, facilities) -> None:
    """The hub on a rural line cut for 2 h: the 2,000 kg lot reaching it at 10:00 waits
    2 h more at ambient before cooling; it still counts as pre-cooled in time (12:00 is
    before the 20:00 deadline), but not when the route ends at 18:30 (18:30 + 2 h > 20:00)."""
    from dataclasses import replace

    sites = tuple(replace(s, power="rural") if s.id == "cs-hub" else s
                  for s in tiny.cold_store_sites)
    inst = tiny.replace(cold_store_sites=sites)
    sc = replace(inst.scenario("peak"), outage_h={"rural": 2.0})
    produce = {"v1": 2000.0}
    k = evaluate(inst, sc, facilities, _day(600.0), orders={}, produce_kg=produce,
                 minutes_to={})
    p = inst.product
    th_a, th_v = p.decay_per_h(22.0), p.decay_per_h(2.0)
    lost = 2000 * (1 - math.exp(-(th_a * (1.0 + 2.0) + th_v * 1.0)))
    assert k.spoilage_kg == pytest.approx(lost)
    assert k.cold_chain_pct == pytest.approx(100.0)
    assert k.extra["outage_kg"] == pytest.approx(2000.0)
    late = evaluate(inst, sc, facilities, _day(18.5 * 60), orders={}, produce_kg=produce,
                    minutes_to={})
    assert late.cold_chain_pct == 0.0


def test_outage_of_an_unknown_power_class_is_refused(tiny) -> None:
    from dataclasses import replace

    from optimizer.errors import InstanceError

    bad = tuple(replace(sc, outage_h={"solar": 3.0}) if sc.id == "rain" else sc
                for sc in tiny.scenarios)
    with pytest.raises(InstanceError, match=r"scenarios\[2\]\.outage_h\.solar: no cold-store "
                       r"site has this power class"):
        tiny.replace(scenarios=bad)


def test_cold_chain_share_never_passes_100(tiny, facilities) -> None:
    """Whole-kg lots may collect a fraction of a kg more than the day's produce (2,000 kg
    collected of 1,999.6): the share pre-cooled in time stops at 100 %."""
    sc = tiny.scenario("peak")
    k = evaluate(tiny, sc, facilities, _day(600.0), orders={}, produce_kg={"v1": 1999.6},
                 minutes_to={})
    assert k.cold_chain_pct == 100.0
