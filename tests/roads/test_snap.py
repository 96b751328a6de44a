"""Snapping sites to road nodes."""

from __future__ import annotations

import math

import pytest

from optimizer.errors import NetworkError
from optimizer.roads import load_network, snap_sites

from ._helpers import TINY


def test_snaps_to_nearest_node() -> None:
    net = load_network(TINY)
    g = net.graph
    snaps = snap_sites(net, [("farm", 106.6101, 26.8401), ("store", 106.6399, 26.8449)],
                       max_snap_m=100)
    farm = g.nodes[snaps["farm"].node]
    assert (farm["x"], farm["y"]) == (106.61, 26.84)
    assert 10 < snaps["farm"].distance_m < 20
    store = g.nodes[snaps["store"].node]
    assert (store["x"], store["y"]) == (106.64, 26.845)
    assert list(snaps) == ["farm", "store"]


def test_too_far_sites_all_named_in_one_error() -> None:
    net = load_network(TINY)
    sites = [("ok", 106.61, 26.84), ("far1", 106.70, 26.84), ("far2", 106.60, 26.90)]
    with pytest.raises(NetworkError, match=r"2 site\(s\) farther than max_snap_m=500 m") as info:
        snap_sites(net, sites, max_snap_m=500, source="instances/x.toml")
    msg = str(info.value)
    assert msg.startswith("instances/x.toml: sites:")
    assert "far1 (5" in msg and "far2 (" in msg and "ok" not in msg.split("road:")[1]
    assert "raise max_snap_m or add a road" in msg


def test_nan_and_duplicate_sites() -> None:
    net = load_network(TINY)
    with pytest.raises(NetworkError, match=r"NaN or out-of-range lon/lat for v1"):
        snap_sites(net, [("v1", math.nan, 26.84)], max_snap_m=100)
    with pytest.raises(NetworkError, match="duplicate site id a"):
        snap_sites(net, [("a", 106.61, 26.84), ("a", 106.61, 26.84)], max_snap_m=100)


def test_exact_on_node_is_zero() -> None:
    net = load_network(TINY)
    snap = snap_sites(net, [("a", 106.62, 26.84)], max_snap_m=0)["a"]
    assert snap.distance_m == pytest.approx(0.0, abs=1e-6)
