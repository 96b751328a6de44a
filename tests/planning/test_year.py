"""The year roll-up against a hand computation on the tiny instance.

Tiny: seasons off (323 days) and peak (42); scenarios off and rain in the off-season
(no probabilities: half of its days each), peak in the peak season. Every figure below is
computed by hand from the hand-made day figures.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

import pytest

from optimizer.planning.year import day_weights, vehicles_bought, year_rollup
from optimizer.plans import DayPlan, FacilityPlan, Kpis, PlannedRoute, ScenarioOutcome

ANNUITY = {life: 0.06 / (1 - 1.06 ** -life) for life in (5, 8, 10, 15)}


def _kpis(scenario: str, plan: str, **values: float) -> Kpis:
    base = {f.name: 0.0 for f in fields(Kpis) if f.name not in ("scenario", "plan", "extra")}
    base.update(vehicles_used=0, hired_vehicles=0)
    base.update(values)
    return Kpis(scenario=scenario, plan=plan, **base)  # type: ignore[arg-type]


def _facilities(name: str, *, new: bool) -> FacilityPlan:
    return FacilityPlan(
        name=name,
        cold_stores=("cs-hub", "cs-east") if new else ("cs-hub",),
        modules={"off": {"cs-hub": 1}, "peak": {"cs-hub": 1, "cs-east": 2} if new
                 else {"cs-hub": 1}},
        pickup_points=("p1", "p2", "p3") if new else ("p1", "p3"),
        produce_to_store={},
        village_pickup={},
        bought_modules=1 if new else 0,
    )


def _route(vehicle: str) -> PlannedRoute:
    return PlannedRoute(vehicle, vehicle.split("#")[0], 0, "cs-hub", 400.0, 500.0, 10.0, (),
                        100.0)


# per scenario: orders, operating cost, spoilage kg, produce kg, cold chain %, coverage %
DAYS = {
    "baseline": {"off": (100, 1000, 10, 1000, 100, 90), "rain": (80, 1200, 20, 1000, 90, 80),
                 "peak": (500, 3000, 500, 5000, 40, 90)},
    "plan": {"off": (110, 1100, 5, 1000, 100, 100), "rain": (90, 1300, 10, 1000, 95, 100),
             "peak": (900, 4000, 100, 5000, 95, 100)},
}


def _outcomes() -> list[ScenarioOutcome]:
    out = []
    for plan, rows in DAYS.items():
        for sc, (orders, op, spoiled, produce, cold, cov) in rows.items():
            k = _kpis(sc, plan, orders=orders, operating_cost_yuan=op, spoilage_kg=spoiled,
                      spoilage_yuan=12.0 * spoiled, produce_kg=produce, cold_chain_pct=cold,
                      village_coverage_pct=cov, first_mile_yuan_per_order=1.0,
                      hired_vehicles=3 if (plan, sc) == ("plan", "peak") else 0)
            routes = (_route("reefer#2"),) if plan == "plan" else (_route("reefer#1"),)
            day = DayPlan(sc, routes, (), {}, 0.0, "test", "test", checked=True)
            out.append(ScenarioOutcome(sc, plan, _facilities(plan, new=plan == "plan"), day, k))
    return out


def test_weights_are_season_days_split_by_shares(tiny) -> None:
    outcomes = [o for o in _outcomes() if o.plan == "plan"]
    w = dict(zip([o.scenario for o in outcomes], day_weights(tiny, outcomes), strict=True))
    assert w["off"] == w["rain"] == pytest.approx(323 / 2)
    assert w["peak"] == pytest.approx(42)
    # with a probability the rain days are its share of the season
    tiny2 = tiny.replace(scenarios=tuple(replace(sc, probability=0.2) if sc.id == "rain"
                                         else sc for sc in tiny.scenarios))
    w2 = day_weights(tiny2, outcomes[:3])
    assert w2 == pytest.approx([0.8 * 323, 0.2 * 323, 42])


def test_year_rollup_by_hand(tiny) -> None:
    base, plan = year_rollup(tiny, _outcomes())
    off, peak = 323 / 2, 42.0
    # baseline
    assert base.orders == pytest.approx(off * 100 + off * 80 + peak * 500)
    assert base.operating_cost_yuan == pytest.approx(off * 1000 + off * 1200 + peak * 3000)
    assert base.pickup_running_yuan == pytest.approx(2 * 4000)  # p1 and p3, all year
    assert base.annualised_investment_yuan == 0.0
    assert base.spoilage_kg == pytest.approx(off * 10 + off * 20 + peak * 500)
    assert base.spoilage_yuan == pytest.approx(12.0 * base.spoilage_kg)
    produce = off * 1000 * 2 + peak * 5000
    assert base.spoilage_pct == pytest.approx(100 * base.spoilage_kg / produce)
    assert base.cold_chain_pct == pytest.approx(
        (off * 1000 * 100 + off * 1000 * 90 + peak * 5000 * 40) / produce)
    assert base.village_coverage_pct == pytest.approx((off * 90 + off * 80 + peak * 90) / 365)
    assert base.cost_per_order_yuan == pytest.approx(
        (base.operating_cost_yuan + 8000) / base.orders)
    assert base.first_mile_yuan_per_order == pytest.approx(1.0)
    # the plan: cs-east (50,000, 15 y), 1 bought module (120,000, 10 y), p2 (3,000, 5 y);
    # one owned reefer a day, as today: none bought
    assert plan.investment_sites_yuan == 50_000
    assert plan.investment_modules_yuan == 120_000
    assert plan.investment_pickups_yuan == 3_000
    assert plan.investment_vehicles_yuan == 0
    annual = 50_000 * ANNUITY[15] + 120_000 * ANNUITY[10] + 3_000 * ANNUITY[5]
    assert plan.annualised_investment_yuan == pytest.approx(annual)
    assert plan.pickup_running_yuan == pytest.approx(3 * 4000)
    assert plan.operating_cost_yuan == pytest.approx(off * 1100 + off * 1300 + peak * 4000)
    assert plan.cost_per_order_yuan == pytest.approx(
        (plan.operating_cost_yuan + 12_000 + annual) / plan.orders)
    assert plan.operating_cost_per_order_yuan == pytest.approx(
        plan.operating_cost_yuan / plan.orders)
    assert plan.hired_vehicle_days == pytest.approx(peak * 3)
    # against today: saving, payback, NPV over 10 years at 6 %
    saving = (base.operating_cost_yuan + 8000 + base.spoilage_yuan
              - plan.operating_cost_yuan - 12_000 - plan.spoilage_yuan)
    assert plan.saving_yuan == pytest.approx(saving)
    assert plan.payback_years == pytest.approx(173_000 / saving)
    assert plan.npv_yuan == pytest.approx(-173_000 + saving * (1 - 1.06 ** -10) / 0.06)
    assert math.isnan(base.saving_yuan) and math.isnan(base.payback_years)


def test_vehicles_bought_counts_the_most_owned_vehicles_a_day_uses(tiny) -> None:
    """One owned reefer a day is within today's one: nothing bought, whatever its number;
    two on one day (and a hired one, #3 > count 2, which is not owned) buy one."""
    outcomes = _outcomes()
    assert vehicles_bought(tiny, [o for o in outcomes if o.plan == "plan"]) == {}
    busy = replace(outcomes[-1], day=replace(outcomes[-1].day, routes=(
        _route("reefer#1"), _route("reefer#2"), _route("reefer#3"))))
    assert vehicles_bought(tiny, [busy]) == {"reefer": 1}
    assert vehicles_bought(tiny, [o for o in outcomes if o.plan == "baseline"]) == {}


def test_payback_is_never_without_a_saving(tiny) -> None:
    outcomes = [replace(o, kpis=replace(o.kpis, operating_cost_yuan=o.kpis.operating_cost_yuan
                                        * (10 if o.plan == "plan" else 1)))
                for o in _outcomes()]
    _, plan = year_rollup(tiny, outcomes)
    assert plan.saving_yuan < 0
    assert math.isinf(plan.payback_years)
    assert plan.npv_yuan < -173_000
