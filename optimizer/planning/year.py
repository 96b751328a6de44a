"""A year in money: every plan and today's baseline rolled up from their scenario days.

Weights: a season counts for its ``days``; a scenario inside it for its share of the
season's days (:meth:`optimizer.instance.Instance.scenario_shares`, renormalised over the
scenarios planned). Every yearly figure is the weighted sum of the day figures
(:mod:`optimizer.planning.kpi`), so a season without a planned scenario is left out.

* operating cost (yuan/year): routes (fixed or hire, km, refrigeration) and cold stores
  (modules, staff, standby, moves); the pickup points' running cost; the one-off investment
  (new sites, bought modules, new pickup points, vehicles bought beyond today's: the most
  owned vehicles of a type any planned day uses, less today's) and its annualised cost
  (:func:`optimizer.planning.economics.investment`);
* cost per order = (operating + pickup points + annualised investment) / orders; operating
  cost per order without the last two; the per-order breakdown by leg as in the day KPIs;
* spoilage: kg lost, its value at the product's price, % of the produce;
* against today: net saving = today's (operating + pickup points + spoilage value) - the
  plan's;
  payback = investment / net saving (years; inf when nothing is saved); NPV = -investment
  + the net saving each year over ``economics.horizon_years`` at ``discount_rate``;
  budget use = the annualised facility investment + what running the cold stores and
  pickup points costs above today's (the quantity ``--budget`` caps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from optimizer.instance import Instance
from optimizer.planning.economics import FacilityDay, facility_day, investment
from optimizer.planning.rules import parse_vehicle_id
from optimizer.plans import ScenarioOutcome, YearFigures


def day_weights(instance: Instance, outcomes: Sequence[ScenarioOutcome]) -> list[float]:
    """Days a year each outcome stands for (its season's days x its share of them)."""
    shares = instance.scenario_shares()
    season_of = {sc.id: sc.season for sc in instance.scenarios}
    by_season: dict[str, list[int]] = {}
    for i, o in enumerate(outcomes):
        by_season.setdefault(season_of.get(o.scenario, o.scenario), []).append(i)
    weights = [0.0] * len(outcomes)
    days = {s.id: float(s.days) for s in instance.seasons}
    for season, idx in by_season.items():
        raw = [shares.get(outcomes[i].scenario, 0.0) for i in idx]
        total = sum(raw)
        for i, r in zip(idx, raw, strict=True):
            weights[i] = days.get(season, 0.0) * (r / total if total > 0 else 1.0 / len(idx))
    return weights


def vehicles_bought(instance: Instance, outcomes: Sequence[ScenarioOutcome]) -> dict[str, int]:
    """Vehicles of each type a plan owns beyond today's: the most owned vehicles of the type
    (``TYPE#N`` with ``N <= count``, counted once whatever their trips) any of its days
    uses, less ``baseline_count``."""
    vtypes = {vt.id: vt for vt in instance.vehicle_types}
    most: dict[str, int] = {}
    for o in outcomes:
        used: dict[str, set[int]] = {}
        for r in o.day.routes:
            parsed = parse_vehicle_id(r.vehicle_id)
            vt = vtypes.get(r.vehicle_type)
            if parsed is None or vt is None or parsed[1] > vt.count:
                continue
            used.setdefault(vt.id, set()).add(parsed[1])
        for t, numbers in used.items():
            most[t] = max(most.get(t, 0), len(numbers))
    return {t: n - vtypes[t].baseline_count for t, n in sorted(most.items())
            if n > vtypes[t].baseline_count}


def _roll(instance: Instance, kind: str, outcomes: Sequence[ScenarioOutcome]) -> YearFigures:
    w = day_weights(instance, outcomes)
    ks = [o.kpis for o in outcomes]

    def total(values: Sequence[float]) -> float:
        return float(sum(x * v for x, v in zip(w, values, strict=True)))

    orders = total([k.orders for k in ks])
    produce = total([k.produce_kg for k in ks])
    operating = total([k.operating_cost_yuan for k in ks])
    pickups = facility_running_yuan(instance, outcomes) - store_running_yuan(instance, outcomes)
    bought = vehicles_bought(instance, outcomes) if kind != "baseline" else {}
    inv = investment(instance, outcomes[0].facilities, vehicles_bought=bought)
    spoiled = total([k.spoilage_kg for k in ks])

    def per_order(field: str) -> float:
        yuan = total([getattr(k, field) * k.orders for k in ks])
        return yuan / orders if orders > 0 else math.inf

    days = sum(w)
    return YearFigures(
        plan=kind,
        days=days,
        orders=orders,
        produce_kg=produce,
        collected_kg=total([k.collected_kg for k in ks]),
        operating_cost_yuan=operating,
        pickup_running_yuan=pickups,
        annualised_investment_yuan=inv.annualised_yuan,
        cost_per_order_yuan=(operating + pickups + inv.annualised_yuan) / orders if orders > 0
        else math.inf,
        operating_cost_per_order_yuan=operating / orders if orders > 0 else math.inf,
        spoilage_kg=spoiled,
        spoilage_yuan=total([k.spoilage_yuan for k in ks]),
        spoilage_pct=100.0 * spoiled / produce if produce > 0 else 0.0,
        cold_chain_pct=(total([k.cold_chain_pct * k.produce_kg for k in ks]) / produce
                        if produce > 0 else 0.0),
        village_coverage_pct=total([k.village_coverage_pct for k in ks]) / days if days else 0.0,
        first_mile_yuan_per_order=per_order("first_mile_yuan_per_order"),
        cold_storage_yuan_per_order=per_order("cold_storage_yuan_per_order"),
        last_mile_yuan_per_order=per_order("last_mile_yuan_per_order"),
        line_haul_yuan_per_order=per_order("line_haul_yuan_per_order"),
        investment_sites_yuan=inv.sites_yuan,
        investment_modules_yuan=inv.modules_yuan,
        investment_pickups_yuan=inv.pickups_yuan,
        investment_vehicles_yuan=inv.vehicles_yuan,
        hired_vehicle_days=total([float(k.hired_vehicles) for k in ks]),
    )


def _facility_days(instance: Instance, outcomes: Sequence[ScenarioOutcome]
                   ) -> list[tuple[float, FacilityDay]]:
    season_of = {sc.id: sc.season for sc in instance.scenarios}
    w = day_weights(instance, outcomes)
    return [(x, facility_day(instance, o.facilities, season_of.get(o.scenario, o.scenario)))
            for x, o in zip(w, outcomes, strict=True)]


def store_running_yuan(instance: Instance, outcomes: Sequence[ScenarioOutcome]) -> float:
    """What running the cold stores of these outcomes costs a year (yuan)."""
    return float(sum(x * d.operating_yuan for x, d in _facility_days(instance, outcomes)))


def facility_running_yuan(instance: Instance, outcomes: Sequence[ScenarioOutcome]) -> float:
    """What running the cold stores and pickup points of these outcomes costs a year."""
    return float(sum(x * (d.operating_yuan + d.pickups_yuan)
                     for x, d in _facility_days(instance, outcomes)))


def year_rollup(instance: Instance, outcomes: Sequence[ScenarioOutcome]
                ) -> tuple[YearFigures, ...]:
    """Today's baseline and the plan rolled up to a year (see the module docstring); the
    plan's row compares it with the baseline. () when either has no outcome."""
    base_o = [o for o in outcomes if o.plan == "baseline"]
    plan_o = [o for o in outcomes if o.plan == "plan"]
    if not base_o or not plan_o:
        return ()
    base = _roll(instance, "baseline", base_o)
    plan = _roll(instance, "plan", plan_o)
    eco = instance.economics
    saving = (base.operating_cost_yuan + base.pickup_running_yuan + base.spoilage_yuan
              - plan.operating_cost_yuan - plan.pickup_running_yuan - plan.spoilage_yuan)
    inv = plan.investment_yuan
    payback = inv / saving if saving > 0 else math.inf
    if inv <= 0 and saving > 0:
        payback = 0.0
    facility_inv = investment(instance, plan_o[0].facilities)  # no vehicles
    use = (facility_inv.annualised_yuan + facility_running_yuan(instance, plan_o)
           - facility_running_yuan(instance, base_o))
    plan = replace(plan, saving_yuan=saving, payback_years=payback,
                   npv_yuan=-inv + eco.present_value(saving), budget_use_yuan=use)
    return base, plan


__all__ = ["day_weights", "facility_running_yuan", "store_running_yuan", "vehicles_bought",
           "year_rollup"]
