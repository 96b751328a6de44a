"""Classic VRP benchmark files: Solomon VRPTW (parsed here) and VRPLIB (the dialect reader).

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


#: the largest magnitude of a Solomon number (scaled x1000 and summed, far inside int64)
SOLOMON_MAX_ABS = 1e9
SOLOMON_MAX_CUSTOMERS = 20_000


def _parse_solomon(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a Solomon VRPTW file into ``vrplib.read_instance``'s keys, checking every value.

    Layout: a name line; ``VEHICLE``, a header, ``NUMBER CAPACITY``; ``CUSTOMER``, a header,
    then one row per node (depot first): ``number x y demand ready due service``. Raises
    :class:`InstanceError` naming the line and column of the first bad value.
    """
    p = Path(path)
    if not p.is_file():
        what = "not a regular file" if p.exists() else "file not found"
        raise InstanceError.at(p, None, what, fix="check the path")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise InstanceError.at(p, None, f"file too large ({p.stat().st_size / 1e6:,.0f} MB)",
                               fix=f"solomon files must be under {MAX_FILE_BYTES / 1e6:,.0f} MB")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstanceError.at(p, None, f"not UTF-8 text (byte {exc.start})",
                               fix="pass a Solomon .txt file or choose --format") from None
    except OSError as exc:
        raise InstanceError.at(p, None, f"cannot read: {exc.strerror}") from None
    lines = [(i, ln.split()) for i, ln in enumerate(text.splitlines(), start=1)]
    lines = [(i, t) for i, t in lines if t]
    fix = "pass a valid solomon file or choose --format"
    heads = [k for k, (_, t) in enumerate(lines) if t[0].upper() in ("VEHICLE", "CUSTOMER")]
    names = [lines[k][1][0].upper() for k in heads]
    if names != ["VEHICLE", "CUSTOMER"] or heads[0] == 0:
        raise InstanceError.at(p, None, "cannot parse as a solomon file: expected a name "
                               "line, then VEHICLE and CUSTOMER sections", fix=fix)

    def number(lineno: int, tok: str, field: str) -> float:
        try:
            v = float(tok)
        except ValueError:
            raise InstanceError.at(p, f"line {lineno}: {field}", "not a number",
                                   got=tok, fix=fix) from None
        if not np.isfinite(v) or abs(v) > SOLOMON_MAX_ABS:
            raise InstanceError.at(p, f"line {lineno}: {field}", "must be a finite number "
                                   f"at most {SOLOMON_MAX_ABS:.0e} in size", got=tok, fix=fix)
        return v

    def rows(start: int, stop: int) -> list[tuple[int, list[str]]]:
        # skip the section's header lines (text), keep the numeric rows
        out = lines[start + 1:stop]
        while out and not _numeric(out[0][1][0]):
            out = out[1:]
        return out

    veh = rows(heads[0], heads[1])
    if len(veh) != 1 or len(veh[0][1]) != 2:
        where = veh[0][0] if veh else lines[heads[0]][0]
        raise InstanceError.at(p, f"line {where}: VEHICLE", "expected one line NUMBER "
                               "CAPACITY", got=" ".join(veh[0][1]) if veh else None, fix=fix)
    n_veh = number(veh[0][0], veh[0][1][0], "vehicle number")
    cap = number(veh[0][0], veh[0][1][1], "capacity")
    cols = ("customer number", "x", "y", "demand", "ready time", "due date", "service time")
    body = rows(heads[1], len(lines))
    if len(body) > SOLOMON_MAX_CUSTOMERS + 1:
        raise InstanceError.at(p, "CUSTOMER", f"more than {SOLOMON_MAX_CUSTOMERS} customers",
                               got=len(body) - 1, fix="split the instance")
    table = np.empty((len(body), 7))
    for r, (lineno, toks) in enumerate(body):
        if len(toks) != 7:
            raise InstanceError.at(p, f"line {lineno}", f"expected 7 values ({', '.join(cols)})",
                                   got=" ".join(toks)[:80], fix=fix)
        table[r] = [number(lineno, t, c) for t, c in zip(toks, cols, strict=True)]
        if table[r, 0] != r:
            raise InstanceError.at(p, f"line {lineno}: customer number", f"must be {r} (nodes "
                                   "numbered 0, 1, 2, ... from the depot)", got=toks[0], fix=fix)
        for c in (3, 4, 5, 6):
            if table[r, c] < 0:
                raise InstanceError.at(p, f"line {lineno}: {cols[c]}", "must be >= 0",
                                       got=toks[c], fix=fix)
    if len(body) < 2:
        raise InstanceError.at(p, "CUSTOMER", "need a depot row and customer rows", fix=fix)
    return {"name": lines[0][1][0], "vehicles": n_veh, "capacity": cap,
            "node_coord": table[:, 1:3], "demand": table[:, 3],
            "time_window": table[:, 4:6], "service_time": table[:, 6]}


def _numeric(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


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
    data = _parse_solomon(path)
    coords = _array(data, "node_coord", path)
    n = coords.shape[0]
    if coords.ndim != 2 or coords.shape[1] != 2 or n < 2:
        raise InstanceError.at(path, "node_coord", "need a depot and customers with x, y")
    demand = _array(data, "demand", path, n)
    _check_demand(demand, path)
    tw = _array(data, "time_window", path, n)
    service = _array(data, "service_time", path, n)
    capacity = float(_field(data, "capacity", path))
    n_veh = float(_field(data, "vehicles", path))
    if capacity <= 0 or capacity != int(capacity):
        raise InstanceError.at(path, "capacity", "must be a whole number > 0", got=capacity)
    if not 0 < n_veh <= 10 * n or n_veh != int(n_veh):
        raise InstanceError.at(path, "vehicles", f"must be a whole number in 1..{10 * n}",
                               got=n_veh)
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
        for k in range(int(n_veh))
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
