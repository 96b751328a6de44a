"""Snap sites (lon/lat points) to their nearest road-network node."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from optimizer.errors import NetworkError

from ._network import EARTH_RADIUS_M, RoadNetwork


@dataclass(frozen=True)
class Snap:
    """A site attached to a graph node; ``distance_m`` is the great-circle gap in metres."""

    site_id: str
    node: Any
    distance_m: float


def _unit_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def snap_sites(network: RoadNetwork, sites: Sequence[tuple[str, float, float]], *,
               max_snap_m: float, source: str | None = None) -> dict[str, Snap]:
    """Attach each ``(site_id, lon, lat)`` to the nearest node of ``network``.

    Nearest by great-circle distance (k-d tree on unit-sphere coordinates, exact). Every site
    farther than ``max_snap_m`` metres is named, with its distance, in one NetworkError;
    ``source`` (e.g. the instance file) prefixes error messages.
    """
    where = source if source is not None else network.source
    if not (math.isfinite(max_snap_m) and max_snap_m >= 0):
        raise NetworkError.at(where, "max_snap_m", "must be >= 0", got=max_snap_m)
    ids = [str(s[0]) for s in sites]
    dup = sorted(i for i, c in Counter(ids).items() if c > 1)
    if dup:
        raise NetworkError.at(where, "sites", "duplicate site id " + ", ".join(dup))
    if not sites:
        return {}
    lon = np.array([float(s[1]) for s in sites])
    lat = np.array([float(s[2]) for s in sites])
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        named = ", ".join(f"{ids[i]} ({lon[i]}, {lat[i]})" for i in np.flatnonzero(bad)[:10])
        raise NetworkError.at(where, "sites", "NaN or out-of-range lon/lat for " + named,
                              fix="give lon in [-180, 180] and lat in [-90, 90]")
    g = network.graph
    if g.number_of_nodes() == 0:
        raise NetworkError.at(where, "network", "has no nodes to snap to")
    keys = list(g.nodes)
    nlon = np.fromiter((g.nodes[k]["x"] for k in keys), float, len(keys))
    nlat = np.fromiter((g.nodes[k]["y"] for k in keys), float, len(keys))
    tree = cKDTree(_unit_xyz(nlon, nlat))
    chord, idx = tree.query(_unit_xyz(lon, lat))
    dist = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))
    far = np.flatnonzero(dist > max_snap_m)
    if far.size:
        named = ", ".join(f"{ids[i]} ({dist[i]:.0f} m)" for i in far)
        raise NetworkError.at(
            where, "sites",
            f"{far.size} site(s) farther than max_snap_m={max_snap_m:g} m from any road: {named}",
            fix="raise max_snap_m or add a road reaching them")
    return {ids[i]: Snap(ids[i], keys[int(idx[i])], float(dist[i])) for i in range(len(ids))}
