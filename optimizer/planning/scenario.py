"""Scenarios: a scenario's road network (rain speeds, closures), its closure samples and the
coverage minutes in each, and the instance's daily volumes in it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from optimizer.errors import InstanceError
from optimizer.instance import Instance, Scenario
from optimizer.planning.matrices import COVERAGE_PROFILE
from optimizer.roads import (
    DEFAULT_PROFILES,
    RoadNetwork,
    close_edges,
    scale_speeds,
    snap_sites,
    travel_minutes,
)

log = logging.getLogger(__name__)


def sample_closures(network: RoadNetwork, scenario: Scenario, sample: int) -> tuple[str, ...]:
    """Edge ids closed in closure sample ``sample`` (0-based) of ``scenario``.

    Each road (edge id, both directions together) closes independently with the probability
    given for its class in ``scenario.closure_probability``. Seeded by ``scenario.seed`` and
    ``sample``, so the same scenario always closes the same roads.
    """
    if not scenario.closure_probability:
        return ()
    by_id: dict[str, str] = {}
    for _, _, data in network.graph.edges(data=True):
        eid = str(data.get("edge_id", ""))
        if eid and eid not in by_id:
            by_id[eid] = str(data.get("road_class", ""))
    ids = sorted(by_id)
    rng = np.random.default_rng([scenario.seed, sample, 0xC105ED])
    draws = rng.random(len(ids))
    return tuple(
        eid for eid, u in zip(ids, draws, strict=True)
        if u < scenario.closure_probability.get(by_id[eid], 0.0)
    )


def apply_scenario(
    network: RoadNetwork, scenario: Scenario, *, sample: int | None = None
) -> RoadNetwork:
    """Return the network as it is in ``scenario``: rain speeds, listed and sampled closures.

    ``sample`` selects a closure sample (0 .. closure_samples-1); None applies only the
    explicitly listed ``closed_edges`` and the speed factors.
    """
    net = network
    if scenario.rain_speed_factor:
        net = scale_speeds(net, scenario.rain_speed_factor)
    closed = set(scenario.closed_edges)
    if sample is not None and scenario.closure_samples > 0:
        closed |= set(sample_closures(network, scenario, sample))
    if closed:
        net = close_edges(net, sorted(closed))
        log.info("scenario %s: %d roads closed", scenario.id, len(closed))
    return net


def day_volumes(
    instance: Instance, scenario: Scenario
) -> tuple[dict[str, float], dict[str, float]]:
    """Parcels per day and produce kg per day by village id in ``scenario``."""
    season = scenario.season
    if season not in {s.id for s in instance.seasons}:
        raise InstanceError.at(instance.source, f"scenarios.{scenario.id}.season",
                               "unknown season", got=season)
    orders = {
        v.id: v.orders_per_day[season] * scenario.order_multiplier for v in instance.villages
    }
    produce = {
        v.id: v.produce_kg_per_day[season] * scenario.produce_multiplier for v in instance.villages
    }
    return orders, produce


def scenario_network(base: RoadNetwork, scenario: Scenario) -> tuple[RoadNetwork,
                                                                     tuple[str, ...]]:
    """The road network a day of ``scenario`` is routed on (rain speeds, the listed closed
    roads and closure sample 0) and its closed roads (sorted edge ids)."""
    sample = 0 if scenario.closure_samples > 0 else None
    shut = set(scenario.closed_edges)
    if sample is not None:
        shut |= set(sample_closures(base, scenario, sample))
    return apply_scenario(base, scenario, sample=sample), tuple(sorted(shut))


def scenario_networks(
    base: RoadNetwork, scenarios: Sequence[Scenario]
) -> tuple[dict[str, RoadNetwork], dict[str, tuple[str, ...]]]:
    """The routed road network of each scenario (:func:`scenario_network`) and its closed
    roads, keyed by scenario id."""
    nets: dict[str, RoadNetwork] = {}
    closed: dict[str, tuple[str, ...]] = {}
    for sc in scenarios:
        nets[sc.id], closed[sc.id] = scenario_network(base, sc)
    return nets, closed


def coverage_samples(
    instance: Instance, base: RoadNetwork, scenarios: Sequence[Scenario]
) -> dict[str, list[np.ndarray]]:
    """Per scenario, van travel minutes village x pickup site for every closure sample."""
    snaps = snap_sites(base, instance.site_points(), max_snap_m=instance.operations.max_snap_m,
                       source=str(instance.network_path))
    villages = {v.id: snaps[v.id] for v in instance.villages}
    pickups = {p.id: snaps[p.id] for p in instance.pickup_sites}
    out: dict[str, list[np.ndarray]] = {}
    for sc in scenarios:
        mats = []
        for k in range(max(sc.closure_samples, 1)):
            net = apply_scenario(base, sc, sample=k if sc.closure_samples > 0 else None)
            mats.append(travel_minutes(net, villages, pickups,
                                       DEFAULT_PROFILES[COVERAGE_PROFILE]))
        out[sc.id] = mats
    return out


def coverage_masks(
    instance: Instance, base: RoadNetwork, scenarios: Sequence[Scenario]
) -> dict[str, list[np.ndarray]]:
    """Per scenario, for every closure sample, the boolean village x pickup site array
    "within ``operations.coverage_radius_min`` van minutes": what the pickup-point models
    and the robust coverage use of :func:`coverage_samples`, at 1 byte per pair instead of 8
    (each sample's minutes are dropped as soon as they are compared)."""
    snaps = snap_sites(base, instance.site_points(), max_snap_m=instance.operations.max_snap_m,
                       source=str(instance.network_path))
    villages = {v.id: snaps[v.id] for v in instance.villages}
    pickups = {p.id: snaps[p.id] for p in instance.pickup_sites}
    radius = instance.operations.coverage_radius_min
    out: dict[str, list[np.ndarray]] = {}
    for sc in scenarios:
        masks = []
        for k in range(max(sc.closure_samples, 1)):
            net = apply_scenario(base, sc, sample=k if sc.closure_samples > 0 else None)
            masks.append(travel_minutes(net, villages, pickups,
                                        DEFAULT_PROFILES[COVERAGE_PROFILE]) <= radius)
        out[sc.id] = masks
    return out


__all__ = ["apply_scenario", "coverage_masks", "coverage_samples", "day_volumes",
           "sample_closures",
           "scenario_network", "scenario_networks"]
