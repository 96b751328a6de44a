"""Classic VRP benchmark files (Solomon VRPTW, VRPLIB CVRP/VRPTW) via the ``vrplib`` package.

Readers return a :class:`RoutingProblem` whose objective is the total distance:

* Solomon: Euclidean distances and travel times in double precision, stored as integers
  scaled by ``SOLOMON_SCALE`` (1000): distance rounded, travel time **ceiled**, windows and
  service times scaled exactly, so a route feasible for the integer model is feasible under
  exact unrounded times. ``distance_scale = 1000``; the fleet is the file's vehicle count.
* VRPLIB (:mod:`optimizer.formats.vrplib_dialect`, which also reads PyVRP's dialect of
  rich variants): by default EUC_2D distances are TSPLIB ``nint`` (floor(d + 0.5)) and
  explicit matrices are used as given; ``rounding`` picks ``pyvrp.read``'s rounding
  instead. ``distance_scale = 1``. The X set has an unlimited fleet: the reader provides
  ``fleet_size(n, demand, capacity)`` vehicles unless the file states ``VEHICLES``.

Every vehicle of a classic file has ``fen_per_km = 1000`` so that one cost unit is one
(scaled) distance unit. Customers are the non-depot nodes in file order; in solution files
they are numbered 1..n and the depot is 0 (CVRPLIB convention).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import vrplib

from optimizer._io import write_text
from optimizer.errors import InstanceError
from optimizer.formats import vrplib_dialect
from optimizer.formats.vrplib_dialect import fleet_size
from optimizer.routing.problem import Matrix, RoutingProblem, RoutingSolution, Stop, Vehicle

SOLOMON_SCALE = 1000
FORMATS = ("solomon", "vrplib")
_PROFILE = "classic"
#: files above this size are refused before parsing (the largest CVRPLIB file is ~30 MB)
MAX_FILE_BYTES = 512 * 1024**2


def infer_format(path: str | os.PathLike[str]) -> str:
    """``solomon`` for ``.txt`` files, ``vrplib`` otherwise."""
    return "solomon" if Path(path).suffix.lower() == ".txt" else "vrplib"


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


def read_vrplib(path: str | os.PathLike[str], rounding: str | None = None) -> RoutingProblem:
    """Read a VRPLIB file: classic CVRP/VRPTW or PyVRP's dialect (see
    :mod:`optimizer.formats.vrplib_dialect`; ``rounding`` as ``pyvrp.read``'s)."""
    return vrplib_dialect.read_vrplib(path, rounding)


def read_classic(path: str | os.PathLike[str], fmt: str | None = None,
                 rounding: str | None = None) -> RoutingProblem:
    """Read a Solomon or VRPLIB file (``fmt`` None: inferred from the extension);
    ``rounding`` (VRPLIB only) as ``pyvrp.read``'s ``round_func``, None: the file's default."""
    fmt = fmt or infer_format(path)
    if fmt == "solomon":
        if rounding is not None:
            raise InstanceError.at(path, "--rounding", "applies to --format vrplib only",
                                   got=rounding, fix="drop --rounding for Solomon files")
        return read_solomon(path)
    if fmt == "vrplib":
        return read_vrplib(path, rounding)
    raise InstanceError.at(path, "format", f"must be one of {', '.join(FORMATS)}", got=fmt)


def solution_routes(solution: RoutingSolution) -> list[list[int]]:
    """Routes as customer numbers 1..n (stop index + 1), depot 0 implicit."""
    return [[v.stop + 1 for v in r.visits] for r in solution.routes if r.visits]


def write_solution(path: str | os.PathLike[str], solution: RoutingSolution,
                   problem: RoutingProblem | None = None) -> None:
    """Write a .sol file atomically: for a VRPLIB-dialect ``problem``, one ``Route #k`` per
    vehicle of the file (see :func:`vrplib_dialect.solution_text`); otherwise the CVRPLIB
    convention (used routes only, customers 1..n) and ``Cost <objective>``."""
    if problem is not None and problem.cost_unit == "vrplib":
        write_text(path, vrplib_dialect.solution_text(problem, solution))
        return
    obj = float(solution.objective)
    cost: float | int = int(obj) if obj.is_integer() else round(obj, 6)
    lines = [" ".join([f"Route #{k}:", *map(str, r)])
             for k, r in enumerate(solution_routes(solution), 1)]
    write_text(path, "\n".join([*lines, f"Cost: {cost}"]) + "\n")


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
