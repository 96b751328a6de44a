"""Speed profiles: grade, curvature and speed-factor penalties."""

from __future__ import annotations

import pytest

from optimizer.errors import NetworkError
from optimizer.roads import DEFAULT_PROFILES, ROAD_CLASSES, SpeedProfile, edge_speed_kph

TRUCK, VAN, TRICYCLE = (DEFAULT_PROFILES[k] for k in ("truck", "van", "tricycle"))


def edge(cls: str = "class3", grade: float = 0.0, sinuosity: float = 1.0,
         speed_factor: float = 1.0) -> dict:
    return {"road_class": cls, "grade": grade, "sinuosity": sinuosity,
            "speed_factor": speed_factor, "length": 1000.0}


def test_flat_straight_is_base_speed() -> None:
    for p in DEFAULT_PROFILES.values():
        for cls in ROAD_CLASSES:
            assert edge_speed_kph(edge(cls), p) == min(p.speed_kph[cls], p.max_speed_kph)


def test_uphill_penalties() -> None:
    flat = edge_speed_kph(edge(), TRUCK)
    assert edge_speed_kph(edge(grade=0.03), TRUCK) == flat
    assert edge_speed_kph(edge(grade=0.05), TRUCK) == pytest.approx(flat * 0.85)
    assert edge_speed_kph(edge(grade=0.08), TRUCK) == pytest.approx(flat * 0.7)


def test_downhill_penalty_is_milder() -> None:
    flat = edge_speed_kph(edge(), TRUCK)
    down = edge_speed_kph(edge(grade=-0.08), TRUCK)
    up = edge_speed_kph(edge(grade=0.08), TRUCK)
    assert up < down < flat


def test_curvature_slows() -> None:
    straight = edge_speed_kph(edge(), VAN)
    winding = edge_speed_kph(edge(sinuosity=1.5), VAN)
    assert winding == pytest.approx(straight / (1 + VAN.curve_k * 0.5))
    assert edge_speed_kph(edge(sinuosity=3.0), VAN) < winding


def test_tricycle_slower_than_truck_on_steep_track() -> None:
    steep = edge("track", grade=0.09)
    assert edge_speed_kph(steep, TRICYCLE) < edge_speed_kph(steep, TRUCK)
    assert edge_speed_kph(steep, TRICYCLE) == pytest.approx(12.0 * 0.6)
    assert edge_speed_kph(edge("class1"), TRICYCLE) <= 30.0
    assert "expressway" in TRICYCLE.forbidden


def test_speed_factor_and_floor() -> None:
    base = edge_speed_kph(edge("class2"), TRUCK)
    assert edge_speed_kph(edge("class2", speed_factor=0.5), TRUCK) == pytest.approx(base / 2)
    assert edge_speed_kph(edge("track", grade=0.2, speed_factor=0.01), TRUCK) == TRUCK.min_speed_kph


def test_missing_attributes_default() -> None:
    assert edge_speed_kph({"road_class": "class4"}, TRUCK) == 20.0


def test_profile_validation() -> None:
    speeds = dict.fromkeys(ROAD_CLASSES, 30.0)
    with pytest.raises(NetworkError, match="needs exactly the road classes"):
        SpeedProfile("x", {"class1": 30.0}, max_speed_kph=50)
    with pytest.raises(NetworkError, match=r"speed_kph.track: must be > 0"):
        SpeedProfile("x", {**speeds, "track": 0.0}, max_speed_kph=50)
    with pytest.raises(NetworkError, match="0 < factor <= 1"):
        SpeedProfile("x", speeds, max_speed_kph=50, grade_factors=((0.05, 1.5),))
    with pytest.raises(NetworkError, match="forbidden"):
        SpeedProfile("x", speeds, max_speed_kph=50, forbidden=frozenset({"dirt"}))
