"""Vehicle speed profiles on mountain roads: base speed by road class, grade and curve penalties.

Edge speed (km/h), following research/domain.md section 4.1::

    v = min(speed_kph[class], max_speed_kph) * f_grade * f_curve * speed_factor
    v = max(v, min_speed_kph)

- ``f_grade``: for an uphill grade g >= threshold, the factor of the largest matching threshold
  in ``grade_factors``; for a downhill grade, the same with ``downhill_factors`` on ``|g|``
  (loaded vehicles brake on steep descents); 1 otherwise. Grades are rise/run (0.06 = 6 %).
- ``f_curve = 1 / (1 + curve_k * (sinuosity - 1))``: a winding road (sinuosity = length over
  straight-line distance) is slower; sinuosity 1.4 with ``curve_k`` 0.5 gives x0.83.
- ``speed_factor``: per-edge multiplier carried by the network (rainy season, see
  :func:`optimizer.roads.scale_speeds`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from optimizer.errors import NetworkError

from ._network import ROAD_CLASSES


@dataclass(frozen=True)
class SpeedProfile:
    """Speeds of one vehicle type (all speeds km/h, grades rise/run).

    ``speed_kph`` gives the base speed for every road class in ``ROAD_CLASSES``.
    ``grade_factors``/``downhill_factors`` are ``(grade, factor)`` pairs: a grade at least
    ``grade`` (uphill / downhill respectively) multiplies the speed by ``factor`` (largest
    matching grade wins). ``forbidden`` lists road classes the vehicle may not use at all
    (e.g. farm tricycles on expressways); :func:`optimizer.roads.travel_matrix` drops them.
    """

    name: str
    speed_kph: Mapping[str, float]
    max_speed_kph: float
    grade_factors: tuple[tuple[float, float], ...] = ((0.04, 0.85), (0.06, 0.7))
    downhill_factors: tuple[tuple[float, float], ...] = ((0.06, 0.9),)
    curve_k: float = 0.5
    min_speed_kph: float = 5.0
    forbidden: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        where = f"speed profile {self.name!r}"
        missing = [c for c in ROAD_CLASSES if c not in self.speed_kph]
        unknown = [c for c in self.speed_kph if c not in ROAD_CLASSES]
        if missing or unknown:
            raise NetworkError.at(None, f"{where}.speed_kph",
                                  "needs exactly the road classes " + ", ".join(ROAD_CLASSES),
                                  got={"missing": missing, "unknown": unknown})
        for c, v in self.speed_kph.items():
            if not (math.isfinite(v) and v > 0):
                raise NetworkError.at(None, f"{where}.speed_kph.{c}", "must be > 0", got=v)
        for label, v in (("max_speed_kph", self.max_speed_kph),
                         ("min_speed_kph", self.min_speed_kph)):
            if not (math.isfinite(v) and v > 0):
                raise NetworkError.at(None, f"{where}.{label}", "must be > 0", got=v)
        if not (math.isfinite(self.curve_k) and self.curve_k >= 0):
            raise NetworkError.at(None, f"{where}.curve_k", "must be >= 0", got=self.curve_k)
        for label, pairs in (("grade_factors", self.grade_factors),
                             ("downhill_factors", self.downhill_factors)):
            for g, f in pairs:
                if not (g >= 0 and 0 < f <= 1):
                    raise NetworkError.at(None, f"{where}.{label}",
                                          "needs grade >= 0 and 0 < factor <= 1", got=(g, f))
        bad = sorted(set(self.forbidden) - set(ROAD_CLASSES))
        if bad:
            raise NetworkError.at(None, f"{where}.forbidden", "unknown road class", got=bad,
                                  fix="use " + ", ".join(ROAD_CLASSES))
        object.__setattr__(self, "speed_kph", MappingProxyType(dict(self.speed_kph)))
        object.__setattr__(self, "forbidden", frozenset(self.forbidden))
        object.__setattr__(self, "grade_factors", tuple(sorted(map(tuple, self.grade_factors))))
        object.__setattr__(self, "downhill_factors",
                           tuple(sorted(map(tuple, self.downhill_factors))))


def _factor(grade: float, pairs: tuple[tuple[float, float], ...]) -> float:
    f = 1.0
    for threshold, factor in pairs:  # sorted by threshold: the largest match wins
        if grade >= threshold:
            f = factor
    return f


def edge_speed_kph(data: Mapping[str, Any], profile: SpeedProfile) -> float:
    """Speed in km/h of ``profile`` on one edge given its attribute dict.

    Uses ``road_class``, ``grade`` (default 0), ``sinuosity`` (default 1) and
    ``speed_factor`` (default 1); see the module docstring for the formula.
    """
    v = min(float(profile.speed_kph[data["road_class"]]), profile.max_speed_kph)
    grade = float(data.get("grade", 0.0) or 0.0)
    if grade > 0:
        v *= _factor(grade, profile.grade_factors)
    elif grade < 0:
        v *= _factor(-grade, profile.downhill_factors)
    sinuosity = max(1.0, float(data.get("sinuosity", 1.0) or 1.0))
    v /= 1.0 + profile.curve_k * (sinuosity - 1.0)
    v *= float(data.get("speed_factor", 1.0))
    return max(v, profile.min_speed_kph)


# Base speeds: OSRM car profile (motorway 90 ... residential 25, service 15 km/h) and China's
# JTG B01 design speeds for mountainous terrain (expressway 80, class I 60, class II 40,
# class III 30, class IV 20 km/h), research/domain.md section 4.1; tracks at OSRM's service-road
# 15 km/h (18 for vans). All are ASSUMPTIONS to calibrate against GPS traces. Grade factors are the
# domain.md ASSUMPTION defaults (x0.85 at 4-6 %, x0.7 above 6 %; tricycles x0.6 above 6 %).
DEFAULT_PROFILES: dict[str, SpeedProfile] = {
    "truck": SpeedProfile(  # refrigerated medium truck (4.2 m reefer), loaded
        name="truck",
        speed_kph={"expressway": 80.0, "class1": 60.0, "class2": 45.0, "class3": 30.0,
                   "class4": 20.0, "track": 15.0},
        max_speed_kph=90.0,
        grade_factors=((0.04, 0.85), (0.06, 0.7)),
        downhill_factors=((0.06, 0.85),),
        curve_k=0.5,
    ),
    "van": SpeedProfile(  # light van / light reefer (1-3 t)
        name="van",
        speed_kph={"expressway": 90.0, "class1": 70.0, "class2": 55.0, "class3": 35.0,
                   "class4": 25.0, "track": 18.0},
        max_speed_kph=100.0,
        grade_factors=((0.04, 0.9), (0.06, 0.8)),
        downhill_factors=((0.06, 0.9),),
        curve_k=0.4,
    ),
    "tricycle": SpeedProfile(  # farm motor tricycle (0.3-0.5 t), barred from expressways
        name="tricycle",
        speed_kph={"expressway": 30.0, "class1": 30.0, "class2": 30.0, "class3": 25.0,
                   "class4": 20.0, "track": 12.0},
        max_speed_kph=30.0,
        grade_factors=((0.04, 0.8), (0.06, 0.6)),
        downhill_factors=((0.06, 0.8),),
        curve_k=0.3,
        forbidden=frozenset({"expressway"}),
    ),
}
