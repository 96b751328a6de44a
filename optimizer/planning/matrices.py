"""An instance's road network and travel matrices: one per vehicle type, one for coverage."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from optimizer.instance import Instance
from optimizer.roads import (
    DEFAULT_PROFILES,
    UNREACHABLE,
    RoadNetwork,
    TravelMatrix,
    check_reachable,
    load_network,
    snap_sites,
    travel_matrix,
)

#: the vehicle profile coverage (villages within N minutes of a pickup point) is measured in
COVERAGE_PROFILE = "van"


@dataclass(frozen=True, slots=True)
class Matrices:
    """Travel matrices over the instance's site ids: one per vehicle type, one for coverage."""

    by_vehicle_type: dict[str, TravelMatrix]
    coverage: TravelMatrix
    build_s: float

    def minutes_to(self, rows: list[str], cols: list[str]) -> dict[str, dict[str, float]]:
        """Coverage travel minutes from each id in ``rows`` to each id in ``cols``."""
        cov = self.coverage
        sub = cov.durations([cov.index(r) for r in rows], [cov.index(c) for c in cols])
        mins = np.where(sub < UNREACHABLE, sub / 60.0, math.inf).tolist()
        return {r: dict(zip(cols, row, strict=True)) for r, row in zip(rows, mins, strict=True)}


def load_instance_network(instance: Instance) -> RoadNetwork:
    """Load the road network an instance names."""
    return load_network(instance.network_path)


def build_matrices(instance: Instance, network: RoadNetwork, *, check: bool = True) -> Matrices:
    """Snap every site and build one travel matrix per vehicle type plus the coverage matrix.

    Raises :class:`NetworkError` naming every site too far from the road network or not
    connected to the others (with ``check``).
    """
    t0 = time.perf_counter()
    snaps = snap_sites(network, instance.site_points(), max_snap_m=instance.operations.max_snap_m,
                       source=str(instance.network_path))
    if check:
        check_reachable(network, snaps, source=str(instance.network_path))
    cache: dict[tuple[str, tuple[str, ...]], TravelMatrix] = {}
    by_type: dict[str, TravelMatrix] = {}
    for vt in instance.vehicle_types:
        key = (vt.profile, tuple(sorted(vt.forbidden_road_classes)))
        if key not in cache:
            cache[key] = travel_matrix(network, snaps, DEFAULT_PROFILES[vt.profile],
                                       forbidden_classes=key[1])
        by_type[vt.id] = cache[key]
    cov_key = (COVERAGE_PROFILE, ())
    if cov_key not in cache:
        cache[cov_key] = travel_matrix(network, snaps, DEFAULT_PROFILES[COVERAGE_PROFILE])
    return Matrices(by_type, cache[cov_key], time.perf_counter() - t0)


__all__ = ["COVERAGE_PROFILE", "Matrices", "build_matrices", "load_instance_network"]
