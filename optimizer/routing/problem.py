"""Matrix-level routing problem and solution types shared by every routing engine.

Everything here is in solver units: integers in metres, seconds, kg and fen
(0.01 yuan), except the few rates given as floats with their unit in the name.
Nodes are dense indices into the matrices; string ids exist for reporting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FEN_PER_YUAN = 100


@dataclass(frozen=True, slots=True)
class Matrix:
    """Travel distance (m) and duration (s) between all problem nodes for one vehicle profile.

    ``distance_m[i, j]`` and ``duration_s[i, j]`` are int64 arrays of shape (n, n) over the
    problem's nodes. Entries >= ``UNREACHABLE`` mean the profile cannot drive from i to j.
    """

    distance_m: np.ndarray
    duration_s: np.ndarray

    UNREACHABLE = 10**12


@dataclass(frozen=True, slots=True)
class Stop:
    """A node to visit (a village, a pickup point, a produce lot, a classic customer).

    Loads: ``delivery_kg`` is loaded at the route start and dropped here; ``pickup_kg`` is
    collected here and carried to the route end. Times are seconds from midnight of the day.
    """

    id: str
    node: int
    delivery_kg: int = 0
    pickup_kg: int = 0
    service_s: int = 0
    tw_start_s: int = 0
    tw_end_s: int = 10**9
    # soft end of the window: arriving after it costs late_fen_per_h per hour late
    soft_tw_end_s: int | None = None
    late_fen_per_h: float = 0.0
    # field waiting: from ready_s until arrival the picked-up produce waits unrefrigerated,
    # costing wait_fen_per_h per hour (value x ambient decay rate x pickup_kg)
    ready_s: int | None = None
    wait_fen_per_h: float = 0.0
    # the picked-up load must reach the route end (a cold store) by this time (pre-cooling)
    deadline_s: int | None = None
    # None: the stop must be served; otherwise it may be dropped at this cost (fen)
    drop_penalty_fen: int | None = None
    # vehicle indices allowed to serve it (None: any vehicle)
    allowed_vehicles: tuple[int, ...] | None = None
    # its goods are at the depot from this time: the route (trip) serving it departs then or
    # later (0: no constraint)
    release_s: int = 0


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One vehicle route slot (a vehicle-day, or one trip of a multi-trip vehicle)."""

    id: str
    type_id: str
    start: int
    end: int
    capacity_kg: int
    profile: str
    fixed_fen: int = 0
    fen_per_km: float = 0.0
    # cost per hour of route span (refrigeration unit running, driver time)
    fen_per_h: float = 0.0
    # spoilage on board: cost per (kg on board x hour) = value_fen_per_kg x decay_per_h
    spoil_fen_per_kg_h: float = 0.0
    shift_start_s: int = 0
    shift_end_s: int = 10**9
    max_duration_s: int | None = None
    # the route (this slot's trip) drives at most this many metres
    max_distance_m: int | None = None
    # multi-trip: this slot starts only after slot ``after`` has returned, plus reload_s
    after: int | None = None
    reload_s: int = 0


@dataclass(frozen=True, slots=True)
class RoutingProblem:
    """A rich VRP on matrices: multi-depot, mixed fleet, pickups and deliveries, windows.

    ``backhauls_last`` (VRP with backhauls): stops with a pickup (backhauls) come after
    every stop with a delivery (linehauls) on a route, and a route may not start with a
    backhaul (so no route serves backhauls only); no stop may have both.
    ``cost_unit``: ``"fen"`` (the default: money in fen, engines may scale it), or
    ``"vrplib"`` for benchmark files in PyVRP's VRPLIB dialect, whose costs (fixed, per
    metre = ``fen_per_km / 1000``, drop penalties) are integers in the file's own unit, so
    engines model them unscaled, as the benchmark's reference solver does.
    """

    nodes: tuple[str, ...]
    matrices: dict[str, Matrix]
    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicle, ...]
    name: str = ""
    # classic benchmarks: objective is distance only; values may be scaled for integrality
    distance_scale: float = 1.0
    backhauls_last: bool = False
    cost_unit: str = "fen"


@dataclass(frozen=True, slots=True)
class Visit:
    """A served stop on a route with its arrival and start of service (s)."""

    stop: int
    arrival_s: int
    start_s: int


@dataclass(frozen=True, slots=True)
class RouteSolution:
    vehicle: int
    visits: tuple[Visit, ...]
    start_s: int
    end_s: int


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Costs in fen (0.01 yuan), recomputed by the checker."""

    fixed: float = 0.0
    distance: float = 0.0
    duration: float = 0.0
    spoilage: float = 0.0
    waiting: float = 0.0
    lateness: float = 0.0
    dropped: float = 0.0

    @property
    def total(self) -> float:
        return (
            self.fixed
            + self.distance
            + self.duration
            + self.spoilage
            + self.waiting
            + self.lateness
            + self.dropped
        )


@dataclass(frozen=True, slots=True)
class RoutingSolution:
    routes: tuple[RouteSolution, ...]
    dropped: tuple[int, ...]
    objective: float
    status: str = "feasible"
    engine: str = ""
    runtime_s: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)
