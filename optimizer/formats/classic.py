"""Classic VRP benchmark files (Solomon VRPTW, VRPLIB CVRP/VRPTW) via the ``vrplib`` package.

Readers return a :class:`RoutingProblem` whose objective is the total distance:

* Solomon: Euclidean distances and travel times in double precision, stored as integers
  scaled by ``SOLOMON_SCALE`` (1000): distance rounded, travel time **ceiled**, windows and
  service times scaled exactly, so a route feasible for the integer model is feasible under
  exact unrounded times. ``distance_scale = 1000``; the fleet is the file's vehicle count.
* VRPLIB: EUC_2D distances are TSPLIB ``nint`` (floor(d + 0.5)); explicit matrices are used
  as given. ``distance_scale = 1``. The X set has an unlimited fleet: the reader provides
  ``fleet_size(n, demand, capacity)`` vehicles unless the file states ``VEHICLES``.

Every vehicle has ``fen_per_km = 1000`` so that one cost unit is one (scaled) distance unit.
Customers are the non-depot nodes in file order; in solution files they are numbered 1..n
and the depot is 0 (CVRPLIB convention).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import vrplib

from optimizer.errors import InstanceError
from optimizer.routing.problem import Matrix, RoutingProblem, RoutingSolution, Stop, Vehicle

SOLOMON_SCALE = 1000
FORMATS = ("solomon", "vrplib")
_PROFILE = "classic"
#: files above this size are refused before parsing (the largest CVRPLIB file is ~30 MB)
MAX_FILE_BYTES = 512 * 1024**2


def infer_format(path: str | os.PathLike[str]) -> str:
    """``solomon`` for ``.txt`` files, ``vrplib`` otherwise."""
    return "solomon" if Path(path).suffix.lower() == ".txt" else "vrplib"


def fleet_size(n_customers: int, total_demand: float, capacity: float) -> int:
    """Vehicles offered for an unlimited-fleet CVRP: 25% above the bin-packing bound + 3."""
    lb = math.ceil(total_demand / capacity) if capacity > 0 else n_customers
    return max(1, min(n_customers, math.ceil(1.25 * lb) + 3))


def _read(path: str | os.PathLike[str], fmt: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        what = "not a regular file" if p.exists() else "file not found"
        raise InstanceError.at(p, None, what, fix="check the path")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise InstanceError.at(p, None, f"file too large ({p.stat().st_size / 1e6:,.0f} MB)",
                               fix=f"{fmt} files must be under {MAX_FILE_BYTES / 1e6:,.0f} MB")
    try:
        return vrplib.read_instance(p, instance_format=fmt)
    except Exception as exc:  # vrplib raises many types on malformed input
        first = (str(exc).splitlines() or [""])[0][:200]
        raise InstanceError.at(
            p, None, f"cannot parse as a {fmt} file: {type(exc).__name__}: {first}",
            fix=f"pass a valid {fmt} file or choose --format",
        ) from exc


def _field(data: dict[str, Any], key: str, path: object) -> Any:
    if key not in data:
        raise InstanceError.at(path, key, "missing field", fix="the file is incomplete")
    return data[key]


def _array(data: dict[str, Any], key: str, path: object, shape0: int | None = None) -> np.ndarray:
    arr = np.asarray(_field(data, key, path), dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise InstanceError.at(path, key, "must be finite numbers", got=arr.tolist()[:5])
    if shape0 is not None and arr.shape[0] != shape0:
        raise InstanceError.at(path, key, f"must have {shape0} rows", got=arr.shape[0])
    return arr


def _check_demand(demand: np.ndarray, path: object) -> None:
    if np.any(demand < 0) or np.any(demand != np.round(demand)):
        bad = demand[(demand < 0) | (demand != np.round(demand))][0]
        raise InstanceError.at(path, "demand", "must be non-negative integers", got=float(bad))


def read_solomon(path: str | os.PathLike[str]) -> RoutingProblem:
    """Read a Solomon VRPTW text file (depot = node 0)."""
    data = _read(path, "solomon")
    coords = _array(data, "node_coord", path)
    n = coords.shape[0]
    if coords.ndim != 2 or coords.shape[1] != 2 or n < 2:
        raise InstanceError.at(path, "node_coord", "need a depot and customers with x, y")
    demand = _array(data, "demand", path, n)
    _check_demand(demand, path)
    tw = _array(data, "time_window", path, n)
    service = _array(data, "service_time", path, n)
    capacity = float(_field(data, "capacity", path))
    n_veh = int(_field(data, "vehicles", path))
    if capacity <= 0:
        raise InstanceError.at(path, "capacity", "must be > 0", got=capacity)
    if n_veh <= 0:
        raise InstanceError.at(path, "vehicles", "must be > 0", got=n_veh)
    if np.any(tw[:, 0] > tw[:, 1]):
        i = int(np.argmax(tw[:, 0] > tw[:, 1]))
        raise InstanceError.at(path, f"time_window[{i}]", "ready time > due date",
                               got=tw[i].tolist())
    diff = coords[:, None, :] - coords[None, :, :]
    euclid = np.sqrt((diff**2).sum(axis=2))
    s = SOLOMON_SCALE
    dist = np.rint(euclid * s).astype(np.int64)
    dur = np.ceil(euclid * s).astype(np.int64)
    scaled = lambda x: int(round(float(x) * s))  # noqa: E731
    stops = tuple(
        Stop(
            id=str(i),
            node=i,
            delivery_kg=int(demand[i]),
            service_s=scaled(service[i]),
            tw_start_s=scaled(tw[i, 0]),
            tw_end_s=scaled(tw[i, 1]),
        )
        for i in range(1, n)
    )
    vehicles = tuple(
        Vehicle(
            id=f"v{k + 1}",
            type_id="classic",
            start=0,
            end=0,
            capacity_kg=int(capacity),
            profile=_PROFILE,
            fen_per_km=1000.0,
            shift_start_s=scaled(tw[0, 0]),
            shift_end_s=scaled(tw[0, 1]),
        )
        for k in range(n_veh)
    )
    return RoutingProblem(
        nodes=tuple(str(i) for i in range(n)),
        matrices={_PROFILE: Matrix(dist, dur)},
        stops=stops,
        vehicles=vehicles,
        name=str(data.get("name", Path(path).stem)),
        distance_scale=float(s),
    )


def read_vrplib(path: str | os.PathLike[str]) -> RoutingProblem:
    """Read a VRPLIB CVRP (optionally with time windows / service times) file."""
    data = _read(path, "vrplib")
    p = Path(path)
    if "edge_weight" not in data:
        raise InstanceError.at(p, "EDGE_WEIGHT_TYPE", "no distances could be computed",
                               fix="use EUC_2D coordinates or an EXPLICIT matrix")
    ew = _array(data, "edge_weight", p)
    n = ew.shape[0]
    if ew.ndim != 2 or ew.shape != (n, n) or n < 2:
        raise InstanceError.at(p, "edge_weight", "must be a square matrix", got=ew.shape)
    if str(data.get("edge_weight_type", "")).upper() == "EUC_2D":
        ew = np.floor(ew + 0.5)
    dist = ew.astype(np.int64)
    demand = _array(data, "demand", p, n)
    _check_demand(demand, p)
    capacity = float(_field(data, "capacity", p))
    if capacity <= 0:
        raise InstanceError.at(p, "capacity", "must be > 0", got=capacity)
    depots = np.atleast_1d(np.asarray(data.get("depot", [0]), dtype=np.int64))
    if depots.size != 1 or not 0 <= int(depots[0]) < n:
        raise InstanceError.at(p, "DEPOT_SECTION", "exactly one depot index in range expected",
                               got=depots.tolist())
    depot = int(depots[0])
    tw = np.asarray(data["time_window"], dtype=np.float64) if "time_window" in data else None
    service = (
        np.asarray(data["service_time"], dtype=np.float64) * np.ones(n)
        if "service_time" in data
        else np.zeros(n)
    )
    customers = [i for i in range(n) if i != depot]
    if "vehicles" in data:
        n_veh = int(data["vehicles"])
    else:
        n_veh = fleet_size(len(customers), float(demand.sum()), capacity)
    stops = tuple(
        Stop(
            id=str(k + 1),
            node=i,
            delivery_kg=int(demand[i]),
            service_s=int(round(service[i])),
            tw_start_s=int(tw[i, 0]) if tw is not None else 0,
            tw_end_s=int(tw[i, 1]) if tw is not None else 10**9,
        )
        for k, i in enumerate(customers)
    )
    shift_lo = int(tw[depot, 0]) if tw is not None else 0
    shift_hi = int(tw[depot, 1]) if tw is not None else 10**9
    vehicles = tuple(
        Vehicle(
            id=f"v{k + 1}",
            type_id="classic",
            start=depot,
            end=depot,
            capacity_kg=int(capacity),
            profile=_PROFILE,
            fen_per_km=1000.0,
            shift_start_s=shift_lo,
            shift_end_s=shift_hi,
        )
        for k in range(n_veh)
    )
    return RoutingProblem(
        nodes=tuple(str(i) for i in range(n)),
        matrices={_PROFILE: Matrix(dist, dist.copy())},
        stops=stops,
        vehicles=vehicles,
        name=str(data.get("name", p.stem)),
        distance_scale=1.0,
    )


def read_classic(path: str | os.PathLike[str], fmt: str | None = None) -> RoutingProblem:
    """Read a Solomon or VRPLIB file (``fmt`` None: inferred from the extension)."""
    fmt = fmt or infer_format(path)
    if fmt == "solomon":
        return read_solomon(path)
    if fmt == "vrplib":
        return read_vrplib(path)
    raise InstanceError.at(path, "format", f"must be one of {', '.join(FORMATS)}", got=fmt)


def solution_routes(solution: RoutingSolution) -> list[list[int]]:
    """Routes as customer numbers 1..n (stop index + 1), depot 0 implicit."""
    return [[v.stop + 1 for v in r.visits] for r in solution.routes if r.visits]


def write_solution(path: str | os.PathLike[str], solution: RoutingSolution) -> None:
    """Write ``Route #k: ...`` lines and ``Cost <objective>`` (CVRPLIB .sol format)."""
    obj = float(solution.objective)
    cost: float | int = int(obj) if obj.is_integer() else round(obj, 6)
    vrplib.write_solution(path, solution_routes(solution), {"Cost": cost})


__all__ = [
    "FORMATS",
    "SOLOMON_SCALE",
    "fleet_size",
    "infer_format",
    "read_classic",
    "read_solomon",
    "read_vrplib",
    "solution_routes",
    "write_solution",
]
