"""The one-call facade: ``solve(instance, scenario=...) -> Result``, a checked day with KPIs.

Everything it calls lives in :mod:`optimizer.planning`; this module only wires the stages
for the simple question "how does today's network run on a day of this scenario?". The
whole plan (sites, modules, pickup points and routes for every scenario) is
:func:`optimizer.plan` (:func:`optimizer.planning.planner.plan`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from optimizer.formats.instance_toml import read_instance
from optimizer.instance import Instance
from optimizer.limits import Limits
from optimizer.planning.baseline import baseline_facilities
from optimizer.planning.day import plan_day
from optimizer.planning.fleet import home_fleet
from optimizer.planning.matrices import build_matrices, load_instance_network
from optimizer.planning.scenario import day_volumes, scenario_network
from optimizer.plans import DayPlan, FacilityPlan, Kpis
from optimizer.roads import RoadNetwork


@dataclass(frozen=True, slots=True)
class Result:
    """A solved scenario day: facilities, checked routes, KPIs and how they were obtained."""

    instance: str
    scenario: str
    facilities: FacilityPlan
    day: DayPlan
    kpis: Kpis
    runtime_s: float
    seed: int
    limits: Limits
    notes: tuple[str, ...] = field(default=())
    #: roads closed on the day (edge ids): listed by the scenario and its closure sample 0
    closed_edges: tuple[str, ...] = ()


def load_instance(path: str | Path) -> Instance:
    """Read and validate an instance (TOML file or its directory)."""
    return read_instance(path)


def solve(
    instance: Instance,
    *,
    scenario: str = "peak",
    network: RoadNetwork | None = None,
    baseline: bool = True,
    limits: Limits | None = None,
    seed: int = 0,
) -> Result:
    """Route one representative day of ``scenario`` on today's sites; return it with KPIs.

    Today's cold stores, modules and pickup points (:func:`baseline_facilities`) with
    today's fleet at its home depots (or the full fleet with ``baseline=False``), on the
    scenario's roads (closure sample 0), routed exactly as :func:`optimizer.plan` routes
    the baseline (:func:`optimizer.planning.day.route_day`); every route passes
    :func:`optimizer.routing.verify.verify` before it is returned.
    """
    t0 = time.perf_counter()
    limits = limits or Limits()
    sc = instance.scenario(scenario)
    base_net = network if network is not None else load_instance_network(instance)
    matrices = build_matrices(instance, base_net)  # validates snapping and reachability
    net, closed = scenario_network(base_net, sc)
    if net is not base_net:
        matrices = build_matrices(instance, net, check=False)
    _, produce = day_volumes(instance, sc)
    facilities = baseline_facilities(instance, matrices, produce)
    fleet = home_fleet(instance, baseline=baseline)
    day, kpis = plan_day(instance, sc, facilities, matrices, fleet, limits=limits, seed=seed)
    return Result(
        instance=instance.name, scenario=sc.id, facilities=facilities, day=day, kpis=kpis,
        runtime_s=time.perf_counter() - t0, seed=seed, limits=limits, closed_edges=closed,
    )


__all__ = ["Result", "load_instance", "solve"]
