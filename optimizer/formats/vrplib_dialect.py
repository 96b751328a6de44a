"""VRPLIB files: classic CVRP/VRPTW and PyVRP's extended dialect (rich VRP variants).

One reader for every ``.vrp`` file. It scans the file itself (so that every error names a
line), checks every field against ``DIMENSION`` and ``VEHICLES``, honours every field of
PyVRP's dialect it can and refuses the others with an :class:`InstanceError` (exit 2);
no field is ignored silently (``NAME``, ``COMMENT`` and display data are descriptive).

Honoured: ``TYPE`` (``VRPB``: linehauls before backhauls, no backhaul-only route; other
known types add nothing beyond their sections), ``DIMENSION``, ``VEHICLES`` (default: one
per client, as ``pyvrp.read``), ``CAPACITY`` (one value or a section per vehicle),
``EDGE_WEIGHT_TYPE`` (``EUC_2D``, ``FLOOR_2D``, ``CEIL_2D``, ``EXACT_2D``, ``EXPLICIT``
with ``FULL_MATRIX`` or ``LOWER_ROW``), ``NODE_COORD``, ``DEMAND`` or ``LINEHAUL``,
``BACKHAUL``, ``DEPOT`` (several depots: nodes 1..k), ``SERVICE_TIME``, ``TIME_WINDOW``
(a depot's window is its vehicles' shift), ``RELEASE_TIME``, ``PRIZE`` (a client with
prize 0 is required, others optional: not visiting one costs its prize), and per vehicle
``VEHICLES_DEPOT``, ``VEHICLES_FIXED_COST``, ``VEHICLES_UNIT_DISTANCE_COST``,
``VEHICLES_MAX_DURATION``, ``VEHICLES_MAX_DISTANCE``, ``VEHICLES_RELOAD_DEPOT`` (at the
vehicle's own depot), ``VEHICLES_MAX_RELOADS`` and ``VEHICLES_ALLOWED_CLIENTS``.
Refused: ``MUTUALLY_EXCLUSIVE_GROUP``, ``PICKUP_AND_DELIVERY``, ``DISTANCE`` and any
other field; reloads at another depot, or combined with a maximum duration or distance
(PyVRP limits the whole route, this model each trip).

Rounding (``rounding``): the meanings of ``pyvrp.read``'s ``round_func``, applied to the
same values (distances, which are also the travel times, loads, capacities, service and
window times, release times, prizes, fixed costs, maximum durations and distances; not the
unit distance costs): ``none`` (values must already be integers), ``round`` (nearest,
half to even), ``trunc``, ``dimacs`` (x10, truncated), ``exact`` (x1000, rounded). The
default keeps what the file meant before this option existed: ``EUC_2D`` distances
``nint`` (floor(d + 0.5), TSPLIB; ``round`` but for exact .5 ties), everything else
``none``.

Two constructions:

* classic files (CVRP/VRPTW fields only, one depot, default or given rounding): today's
  problem, unchanged: stops numbered 1..n in file order without the depot, a fleet of
  ``VEHICLES`` or :func:`fleet_size` vehicles, costs in fen (``fen_per_km = 1000``);
* dialect files (anything else): depots are nodes 0..k-1 and client ``i`` is stop
  ``i - k`` (id = its location number ``i``, as in solution files); vehicle ``j`` of the
  file is one route slot, or a chain of slots (``Vehicle.after``) when it may reload, one
  per possible trip (at most its clients, its ``VEHICLES_MAX_RELOADS`` + 1, and the trips
  of its shortest round trip that fit in its shift); ``cost_unit = "vrplib"``: objective =
  fixed costs + unit distance cost x distance + prizes of unvisited clients, in the
  file's units after rounding, which is PyVRP's CostEvaluator cost of the same solution.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from vrplib.parse.parse_distances import parse_distances

from optimizer.errors import InstanceError
from optimizer.routing.problem import Matrix, RoutingProblem, RoutingSolution, Stop, Vehicle

#: rounding functions, as ``pyvrp.read``'s ``ROUND_FUNCS`` (``nint`` is the default for
#: EUC_2D distances of classic files)
ROUND_FUNCS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda a: a,
    "round": lambda a: np.round(a),
    "trunc": lambda a: np.trunc(a),
    "dimacs": lambda a: np.trunc(10 * a),
    "exact": lambda a: np.round(1000 * a),
    "nint": lambda a: np.floor(a + 0.5),
}
ROUNDINGS = ("none", "round", "trunc", "dimacs", "exact")
#: files above this size are refused before parsing (the largest CVRPLIB file is ~30 MB)
MAX_FILE_BYTES = 512 * 1024**2
#: time bound standing for "no window" (PyVRP's is the int64 maximum; this leaves room)
NO_LIMIT = 2**62
#: largest value accepted after rounding (PyVRP's costs and times are 64-bit integers)
MAX_VALUE = 10**12
#: most vehicles (route slots, trips included) a file may describe
MAX_SLOTS = 200_000
_PROFILE = "classic"

_DESCRIPTIVE = {"name", "comment", "node_coord_type", "display_data_type", "display_data"}
_CLASSIC = {"type", "dimension", "vehicles", "capacity", "edge_weight_type",
            "edge_weight_format", "node_coord", "demand", "depot", "service_time",
            "time_window", "edge_weight"}
_DIALECT = {"linehaul", "backhaul", "release_time", "prize", "vehicles_depot",
            "vehicles_fixed_cost", "vehicles_unit_distance_cost", "vehicles_max_duration",
            "vehicles_max_distance", "vehicles_reload_depot", "vehicles_max_reloads",
            "vehicles_allowed_clients"}
_REFUSED = {
    "mutually_exclusive_group": "client groups are not supported",
    "pickup_and_delivery": "pickup-and-delivery pairs (shipments) are not supported",
    "distance": "a maximum route length (DISTANCE) is not supported; use "
                "VEHICLES_MAX_DISTANCE",
}
#: problem types whose meaning is their sections (VRPB adds the backhaul order)
TYPES = ("CVRP", "VRPTW", "CVRPTW", "HFVRP", "HFVRPTW", "FSMVRP", "MDVRP", "MDVRPTW",
         "PCVRP", "PCVRPTW", "VRPB", "VRPSPD", "VRPSPDTW", "MTVRP", "MTVRPTW", "MTVRPTWR",
         "VRPTWR")
_CLASSIC_TYPES = ("", "CVRP", "VRPTW", "CVRPTW")
_EDGE_TYPES = ("EUC_2D", "FLOOR_2D", "CEIL_2D", "EXACT_2D", "EXPLICIT")
_FIX = "fix the file (see PyVRP's VRPLIB format page) or choose --format"


@dataclass
class _Section:
    name: str  # lower case, without _SECTION
    line: int  # 1-based line of the header
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, tokens)


@dataclass
class _Raw:
    path: Path
    specs: dict[str, tuple[int, str]]  # key -> (line, value)
    sections: dict[str, _Section]
    eof: bool


def _scan(path: Path) -> _Raw:
    """Split a VRPLIB file into specifications and sections, keeping line numbers."""
    if not path.is_file():
        what = "not a regular file" if path.exists() else "file not found"
        raise InstanceError.at(path, None, what, fix="check the path")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InstanceError.at(path, None, f"file too large ({size / 1e6:,.0f} MB)",
                               fix=f"vrplib files must be under {MAX_FILE_BYTES / 1e6:,.0f} MB")
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, OSError) as exc:
        raise InstanceError.at(path, None, f"cannot parse as a vrplib file: {exc}",
                               fix="pass a valid vrplib file or choose --format") from None
    specs: dict[str, tuple[int, str]] = {}
    sections: dict[str, _Section] = {}
    cur: _Section | None = None
    eof = False
    for ln, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "EOF" or line.startswith("EOF"):
            eof = True
            break
        head = (line.split(":", 1)[0].split() or [""])[0]
        if head.upper().endswith("_SECTION"):
            name = head.upper().removesuffix("_SECTION").lower()
            if name in sections or name in specs:
                raise InstanceError.at(path, f"{head.upper()} (line {ln})",
                                       "appears twice", fix="keep one")
            cur = _Section(name, ln)
            sections[name] = cur
            rest = line[len(head):].strip(" :\t")
            if rest:
                raise InstanceError.at(path, f"line {ln}", "data on a section header line",
                                       got=rest[:40], fix="start the data on the next line")
            continue
        if ":" in line and not _numeric(line.split(":", 1)[0].split()):
            key, value = (x.strip() for x in line.split(":", 1))
            k = key.lower()
            if not k:
                raise InstanceError.at(path, f"line {ln}", "a value without a key",
                                       got=line[:40], fix="write KEY : value")
            if k in specs or k in sections:
                raise InstanceError.at(path, f"{key.upper()} (line {ln})", "appears twice",
                                       fix="keep one")
            specs[k] = (ln, value)
            cur = None
            continue
        if cur is None:
            raise InstanceError.at(
                path, f"line {ln}",
                "cannot parse as a vrplib file: neither 'KEY: value', a section header nor "
                "data inside a section", got=line[:40],
                fix="pass a valid vrplib file or choose --format",
            )
        cur.rows.append((ln, line.split()))
    if not specs and not sections:
        raise InstanceError.at(path, None, "cannot parse as a vrplib file: it is empty",
                               fix="pass a valid vrplib file or choose --format")
    return _Raw(path, specs, sections, eof)


def _numeric(tokens: Sequence[str]) -> bool:
    try:
        [float(t) for t in tokens]
    except ValueError:
        return False
    return bool(tokens)


# ---- field access with one-line errors ----------------------------------------------------
class _File:
    """Typed access to the fields of a scanned file; every error names file, field, fix."""

    def __init__(self, raw: _Raw) -> None:
        self.raw = raw
        self.path = raw.path

    def has(self, key: str) -> bool:
        return key in self.raw.specs or key in self.raw.sections

    def error(self, where: str, problem: str, got: object = None, fix: str = _FIX
              ) -> InstanceError:
        if got is None:
            return InstanceError.at(self.path, where, problem, fix=fix)
        return InstanceError.at(self.path, where, problem, got=got, fix=fix)

    def spec_str(self, key: str) -> str | None:
        return self.raw.specs[key][1] if key in self.raw.specs else None

    def spec_num(self, key: str) -> float:
        ln, value = self.raw.specs[key]
        try:
            x = float(value)
        except ValueError:
            raise self.error(f"{key.upper()} (line {ln})", "is not a number", got=value,
                             fix=f"write a number after {key.upper()}:") from None
        if not math.isfinite(x):
            raise self.error(f"{key.upper()} (line {ln})", "must be finite", got=value)
        return x

    def spec_int(self, key: str, *, low: int) -> int:
        x = self.spec_num(key)
        ln = self.raw.specs[key][0]
        if x != int(x) or x < low:
            raise self.error(f"{key.upper()} (line {ln})", f"must be an integer >= {low}",
                             got=self.raw.specs[key][1])
        return int(x)

    def table(self, key: str, rows: int, cols: int, what: str, *, indexed: bool = True,
              ) -> np.ndarray:
        """Section ``key`` as a float array of ``rows`` x ``cols`` (index column checked
        and dropped when ``indexed``)."""
        sec = self.raw.sections[key]
        label = f"{key.upper()}_SECTION"
        if len(sec.rows) != rows:
            short = len(sec.rows) < rows
            raise self.error(
                f"{label} (line {sec.line})",
                f"has {len(sec.rows)} rows, {what} needs {rows}"
                + (" (is the file truncated?)" if short else ""),
                fix=f"give exactly one row per {what.split()[-1].rstrip('S').lower()}",
            )
        width = cols + (1 if indexed else 0)
        out = np.empty((rows, cols), dtype=np.float64)
        for k, (ln, toks) in enumerate(sec.rows):
            if len(toks) != width:
                raise self.error(f"{label} line {ln}", f"expected {width} values",
                                 got=" ".join(toks)[:40],
                                 fix="one row per entry: its number, then the values")
            if indexed and toks[0] != str(k + 1):
                raise self.error(f"{label} line {ln}", f"row number {k + 1} expected",
                                 got=toks[0], fix="number the rows 1, 2, ... in order")
            for c, tok in enumerate(toks[width - cols:]):
                out[k, c] = self._float(tok, label, ln)
        return out

    def lists(self, key: str, rows: int, what: str) -> list[list[int]]:
        """A section of variable-length integer rows (index column checked, dropped)."""
        sec = self.raw.sections[key]
        label = f"{key.upper()}_SECTION"
        if len(sec.rows) != rows:
            raise self.error(f"{label} (line {sec.line})",
                             f"has {len(sec.rows)} rows, {what} needs {rows}",
                             fix="give exactly one row per vehicle")
        out: list[list[int]] = []
        for k, (ln, toks) in enumerate(sec.rows):
            if toks[0] != str(k + 1):
                raise self.error(f"{label} line {ln}", f"row number {k + 1} expected",
                                 got=toks[0], fix="number the rows 1, 2, ... in order")
            vals = []
            for tok in toks[1:]:
                x = self._float(tok, label, ln)
                if x != int(x):
                    raise self.error(f"{label} line {ln}", "must be integers", got=tok)
                vals.append(int(x))
            out.append(vals)
        return out

    def _float(self, tok: str, label: str, ln: int) -> float:
        try:
            x = float(tok)
        except ValueError:
            raise self.error(f"{label} line {ln}", "is not a number", got=tok,
                             fix="write a number") from None
        if not math.isfinite(x):
            raise self.error(f"{label} line {ln}", "must be finite", got=tok)
        return x

    def node_values(self, key: str, n: int, *, default: float = 0.0) -> np.ndarray:
        """Per-node values from ``KEY_SECTION`` (n rows) or ``KEY: value`` (all nodes)."""
        if key in self.raw.sections:
            return self.table(key, n, 1, "DIMENSION")[:, 0]
        if key in self.raw.specs:
            return np.full(n, self.spec_num(key))
        return np.full(n, default)

    def vehicle_values(self, key: str, v: int) -> np.ndarray | None:
        """Per-vehicle values from ``KEY_SECTION`` (v rows) or ``KEY: value``; None if absent."""
        if key in self.raw.sections:
            return self.table(key, v, 1, "VEHICLES")[:, 0]
        if key in self.raw.specs:
            return np.full(v, self.spec_num(key))
        return None

    def where(self, key: str, row: int | None = None) -> str:
        """Field label for errors: ``KEY_SECTION line N`` (row ``row``) or ``KEY``."""
        if key in self.raw.sections:
            sec = self.raw.sections[key]
            if row is not None and row < len(sec.rows):
                return f"{key.upper()}_SECTION line {sec.rows[row][0]}"
            return f"{key.upper()}_SECTION"
        if key in self.raw.specs:
            return f"{key.upper()} (line {self.raw.specs[key][0]})"
        return key.upper()


# ---- rounding and value checks --------------------------------------------------------------
class _Rounder:
    def __init__(self, f: _File, rounding: str) -> None:
        self.f = f
        self.name = rounding
        self.func = ROUND_FUNCS[rounding]

    def ints(self, values: np.ndarray, key: str, *, low: float | None = 0,
             what: str = "values", rounded: bool = True) -> np.ndarray:
        """Round ``values`` (unless ``rounded`` is False), check they are integers >= low."""
        out = self.func(values) if rounded else values
        width = 1 if values.ndim == 1 else values.shape[1]
        bad = out != np.round(out)
        if bad.any():
            k = int(np.flatnonzero(bad.ravel())[0])
            raise self.f.error(
                self.f.where(key, k // width),
                f"{what} must be integers under --rounding {self.name}",
                got=float(values.ravel()[k]),
                fix="choose --rounding round, trunc, dimacs or exact",
            )
        if low is not None and (out < low).any():
            k = int(np.flatnonzero((out < low).ravel())[0])
            raise self.f.error(self.f.where(key, k // width), f"{what} must be >= {low:g}",
                               got=float(values.ravel()[k]), fix="fix the value")
        if np.abs(out).max(initial=0) > MAX_VALUE:
            k = int(np.argmax(np.abs(out).ravel()))
            raise self.f.error(self.f.where(key, k // width),
                               f"{what} above {MAX_VALUE:.0e} after rounding",
                               got=float(values.ravel()[k]),
                               fix="use smaller numbers or a smaller --rounding scale")
        return out.astype(np.int64)


# ---- the reader ---------------------------------------------------------------------------
def fleet_size(n_customers: int, total_demand: float, capacity: float) -> int:
    """Vehicles offered for an unlimited-fleet CVRP: 25% above the bin-packing bound + 3."""
    lb = math.ceil(total_demand / capacity) if capacity > 0 else n_customers
    return max(1, min(n_customers, math.ceil(1.25 * lb) + 3))


def read_vrplib(path: str | os.PathLike[str], rounding: str | None = None) -> RoutingProblem:
    """Read a VRPLIB file (classic CVRP/VRPTW or PyVRP's dialect); see the module docstring.

    ``rounding``: one of ``ROUNDINGS``, or None for the file's default. Raises
    :class:`InstanceError` naming the file, the field or line and the fix.
    """
    if rounding is not None and rounding not in ROUNDINGS:
        raise InstanceError.at(path, "--rounding", f"must be one of {', '.join(ROUNDINGS)}",
                               got=rounding)
    f = _File(_scan(Path(path)))
    for key in list(f.raw.specs) + list(f.raw.sections):
        if key in _REFUSED:
            raise f.error(f.where(key), _REFUSED[key], fix="remove it, or use another solver")
        if key not in _DESCRIPTIVE | _CLASSIC | _DIALECT:
            raise f.error(f.where(key), "unknown field: cannot honour it",
                          fix="remove it, or use a solver that supports it")
    typ = (f.spec_str("type") or "").upper()
    if typ and typ not in TYPES:
        raise f.error(f.where("type"), "problem type not supported", got=typ,
                      fix=f"one of {', '.join(TYPES)}")
    if not f.has("dimension"):
        raise f.error("DIMENSION", "missing field", fix="state the number of nodes")
    n = f.spec_int("dimension", low=2)
    edge = _edge_weights(f, n)
    depots = _depots(f, n)
    classic = (
        typ in _CLASSIC_TYPES
        and not any(f.has(k) for k in _DIALECT)
        and "capacity" not in f.raw.sections
        and len(depots) == 1
    )
    default = "nint" if (f.spec_str("edge_weight_type") or "").upper() == "EUC_2D" else "none"
    rnd = _Rounder(f, rounding or default)
    if classic:
        return _classic(f, n, edge, depots[0], rnd)
    return _dialect(f, n, edge, depots, rnd, typ)


def _edge_weights(f: _File, n: int) -> np.ndarray:
    """Unrounded distances (float n x n), as vrplib computes them for ``pyvrp.read``."""
    ewt = (f.spec_str("edge_weight_type") or "").upper()
    if not ewt:
        raise f.error("EDGE_WEIGHT_TYPE", "missing field",
                      fix="use EUC_2D coordinates or an EXPLICIT matrix")
    if ewt not in _EDGE_TYPES:
        raise f.error(f.where("edge_weight_type"), "not supported", got=ewt,
                      fix=f"use one of {', '.join(_EDGE_TYPES)}")
    if ewt == "EXPLICIT":
        fmt = (f.spec_str("edge_weight_format") or "").upper()
        if fmt not in ("FULL_MATRIX", "LOWER_ROW"):
            raise f.error(f.where("edge_weight_format"), "not supported", got=fmt or None,
                          fix="use FULL_MATRIX or LOWER_ROW")
        if "edge_weight" not in f.raw.sections:
            raise f.error("EDGE_WEIGHT_SECTION", "missing (EDGE_WEIGHT_TYPE is EXPLICIT)",
                          fix="add the matrix")
        sec = f.raw.sections["edge_weight"]
        vals = [f._float(t, "EDGE_WEIGHT_SECTION", ln) for ln, toks in sec.rows for t in toks]
        need = n * n if fmt == "FULL_MATRIX" else n * (n - 1) // 2
        if len(vals) != need:
            raise f.error(f"EDGE_WEIGHT_SECTION (line {sec.line})",
                          f"has {len(vals)} values, a {fmt} of DIMENSION {n} needs {need}",
                          fix="give the whole matrix (is the file truncated?)")
        if fmt == "FULL_MATRIX":
            ew = np.asarray(vals, dtype=np.float64).reshape(n, n)
        else:
            ew = np.zeros((n, n))
            ew[np.tril_indices(n, -1)] = vals
            ew = ew + ew.T
        if (ew < 0).any():
            raise f.error("EDGE_WEIGHT_SECTION", "distances must be >= 0",
                          got=float(ew.min()), fix="fix the matrix")
        if np.diag(ew).any():
            raise f.error("EDGE_WEIGHT_SECTION", "a node's distance to itself must be 0",
                          got=float(np.diag(ew)[np.flatnonzero(np.diag(ew))[0]]),
                          fix="fix the matrix's diagonal")
        return ew
    if "node_coord" not in f.raw.sections:
        raise f.error("NODE_COORD_SECTION", f"missing ({ewt} distances need coordinates)",
                      fix="add the coordinates")
    coords = f.table("node_coord", n, 2, "DIMENSION")
    return np.asarray(parse_distances([], ewt, node_coord=coords), dtype=np.float64)


def _depots(f: _File, n: int) -> list[int]:
    """0-based depot nodes from DEPOT_SECTION (default: node 1)."""
    if "depot" not in f.raw.sections:
        return [0]
    sec = f.raw.sections["depot"]
    out: list[int] = []
    for ln, toks in sec.rows:
        for tok in toks:
            x = f._float(tok, "DEPOT_SECTION", ln)
            if x == -1:
                break
            if x != int(x) or not 1 <= x <= n:
                raise f.error(f"DEPOT_SECTION line {ln}", f"depot must be a node 1..{n}",
                              got=tok, fix="list depot node numbers, then -1")
            if int(x) - 1 in out:
                raise f.error(f"DEPOT_SECTION line {ln}", "depot listed twice", got=tok,
                              fix="list each depot once")
            out.append(int(x) - 1)
    if not out:
        raise f.error(f"DEPOT_SECTION (line {sec.line})", "no depot", fix="list the depot")
    if out != list(range(len(out))) and len(out) > 1:
        raise f.error("DEPOT_SECTION", "several depots must be nodes 1..k", got=out[:5],
                      fix="renumber the nodes so that the depots come first")
    return out


def _capacity(f: _File, rnd: _Rounder, v: int) -> np.ndarray:
    if not f.has("capacity"):
        raise f.error("CAPACITY", "missing field", fix="state the vehicle capacity")
    if "capacity" in f.raw.sections:
        cap = f.table("capacity", v, 1, "VEHICLES")[:, 0]
    else:
        cap = np.full(v, f.spec_num("capacity"))
    return rnd.ints(cap, "capacity", what="capacity")


def _classic(f: _File, n: int, edge: np.ndarray, depot: int, rnd: _Rounder) -> RoutingProblem:
    """The classic CVRP/VRPTW construction (fen costs, ``fleet_size`` default fleet)."""
    dist = rnd.ints(edge, "edge_weight", what="distances")
    if not f.has("demand"):
        raise f.error("DEMAND_SECTION", "missing field", fix="give every node's demand")
    demand = rnd.ints(f.node_values("demand", n), "demand", what="demand")
    if demand[depot]:
        raise f.error(f.where("demand", depot), "the depot's demand must be 0",
                      got=int(demand[depot]), fix="set it to 0")
    capacity = int(_capacity(f, rnd, 1)[0])
    if capacity <= 0:
        raise f.error(f.where("capacity"), "must be > 0", got=capacity)
    tw = None
    if "time_window" in f.raw.sections:
        tw = rnd.ints(f.table("time_window", n, 2, "DIMENSION"), "time_window",
                      what="time windows")
        _check_windows(f, tw)
    service = rnd.ints(f.node_values("service_time", n), "service_time",
                       what="service times")
    if "service_time" in f.raw.specs:
        service[depot] = 0
    customers = [i for i in range(n) if i != depot]
    if f.has("vehicles"):
        n_veh = f.spec_int("vehicles", low=1)
    else:
        n_veh = fleet_size(len(customers), float(demand.sum()), capacity)
    stops = tuple(
        Stop(
            id=str(k + 1),
            node=i,
            delivery_kg=int(demand[i]),
            service_s=int(service[i]),
            tw_start_s=int(tw[i, 0]) if tw is not None else 0,
            tw_end_s=int(tw[i, 1]) if tw is not None else 10**9,
        )
        for k, i in enumerate(customers)
    )
    vehicles = tuple(
        Vehicle(
            id=f"v{k + 1}",
            type_id="classic",
            start=depot,
            end=depot,
            capacity_kg=capacity,
            profile=_PROFILE,
            fen_per_km=1000.0,
            shift_start_s=int(tw[depot, 0]) if tw is not None else 0,
            shift_end_s=int(tw[depot, 1]) if tw is not None else 10**9,
        )
        for k in range(n_veh)
    )
    return RoutingProblem(
        nodes=tuple(str(i) for i in range(n)),
        matrices={_PROFILE: Matrix(dist, dist.copy())},
        stops=stops,
        vehicles=vehicles,
        name=f.spec_str("name") or f.path.stem,
        distance_scale=1.0,
    )


def _check_windows(f: _File, tw: np.ndarray) -> None:
    bad = tw[:, 0] > tw[:, 1]
    if bad.any():
        i = int(np.argmax(bad))
        raise f.error(f.where("time_window", i), "window opens after it closes",
                      got=tw[i].tolist(), fix="swap or fix the two times")


def _dialect(f: _File, n: int, edge: np.ndarray, depots: list[int], rnd: _Rounder,
             typ: str) -> RoutingProblem:
    """The PyVRP-dialect construction (see the module docstring)."""
    n_dep = len(depots)
    n_cli = n - n_dep
    if n_cli < 1:
        raise f.error("DIMENSION", "no client nodes besides the depots", got=n,
                      fix="add clients")
    dist = rnd.ints(edge, "edge_weight", what="distances")
    v = f.spec_int("vehicles", low=1) if f.has("vehicles") else n_cli
    if v > MAX_SLOTS:
        raise f.error(f.where("vehicles"), f"too many vehicles (more than {MAX_SLOTS:,})",
                      got=v, fix="state the fleet that may be used")
    if f.has("demand") and f.has("linehaul"):
        raise f.error("LINEHAUL_SECTION", "given together with DEMAND_SECTION",
                      fix="keep one of the two")
    dkey = "linehaul" if f.has("linehaul") else "demand"
    delivery = rnd.ints(f.node_values(dkey, n), dkey, what="demands")
    pickup = rnd.ints(f.node_values("backhaul", n), "backhaul", what="backhauls")
    service = rnd.ints(f.node_values("service_time", n), "service_time",
                       what="service times")
    if "service_time" in f.raw.specs:
        service[:n_dep] = 0
    release = rnd.ints(f.node_values("release_time", n), "release_time",
                       what="release times")
    prize = rnd.ints(f.node_values("prize", n), "prize", what="prizes")
    if "time_window" in f.raw.sections:
        tw = rnd.ints(f.table("time_window", n, 2, "DIMENSION"), "time_window",
                      what="time windows")
        _check_windows(f, tw)
    else:
        tw = np.zeros((n, 2), dtype=np.int64)
        tw[:, 1] = NO_LIMIT
    late = np.flatnonzero(release[n_dep:] > tw[n_dep:, 1])
    if late.size:
        i = int(late[0]) + n_dep
        raise f.error(f.where("release_time", i),
                      f"release time after client {i + 1}'s window closes",
                      got=int(release[i]), fix="release it earlier or widen its window")
    for key, arr in (("demand" if dkey == "demand" else "linehaul", delivery),
                     ("backhaul", pickup), ("service_time", service),
                     ("release_time", release), ("prize", prize)):
        for d in range(n_dep):
            if arr[d]:
                raise f.error(f.where(key, d), f"depot {d + 1} must have 0 here",
                              got=int(arr[d]), fix="set the depot's value to 0")
    backhauls_last = typ == "VRPB"
    if backhauls_last:
        both = np.flatnonzero((delivery[n_dep:] > 0) & (pickup[n_dep:] > 0))
        none = np.flatnonzero((delivery[n_dep:] == 0) & (pickup[n_dep:] == 0))
        if both.size or none.size:
            i = int((both if both.size else none)[0]) + n_dep
            what = "both a linehaul and a backhaul" if both.size else "neither a linehaul " \
                "nor a backhaul"
            raise f.error(f.where("backhaul", i), f"VRPB client {i + 1} has {what}",
                          fix="give every client exactly one of the two")

    cap = _capacity(f, rnd, v)
    vdepot = np.full(v, depots[0], dtype=np.int64)
    if "vehicles_depot" in f.raw.sections:
        raw_dep = f.table("vehicles_depot", v, 1, "VEHICLES")[:, 0]
        for j, x in enumerate(raw_dep):
            if x != int(x) or not 1 <= x <= n_dep:
                raise f.error(f.where("vehicles_depot", j), f"must be a depot 1..{n_dep}",
                              got=x, fix="name one of the DEPOT_SECTION nodes")
        vdepot = raw_dep.astype(np.int64) - 1
    elif "vehicles_depot" in f.raw.specs:
        raise f.error(f.where("vehicles_depot"), "must be a section (one depot per vehicle)",
                      fix="write VEHICLES_DEPOT_SECTION")
    fixed = f.vehicle_values("vehicles_fixed_cost", v)
    fixed_i = (rnd.ints(fixed, "vehicles_fixed_cost", what="fixed costs")
               if fixed is not None else np.zeros(v, dtype=np.int64))
    unit = f.vehicle_values("vehicles_unit_distance_cost", v)
    unit_i = (_Rounder(f, "none").ints(unit, "vehicles_unit_distance_cost",
                                      what="unit distance costs (never rounded)")
              if unit is not None else np.ones(v, dtype=np.int64))
    if float(unit_i.max()) * float(dist.max(initial=0)) * n > 2**62:
        raise f.error(f.where("vehicles_unit_distance_cost"), "unit distance cost x "
                      "distances could overflow PyVRP's 64-bit costs",
                      got=int(unit_i.max()), fix="use smaller costs or a coarser --rounding")
    max_dur = f.vehicle_values("vehicles_max_duration", v)
    max_dur_i = (rnd.ints(max_dur, "vehicles_max_duration", what="maximum durations")
                 if max_dur is not None else None)
    max_dist = f.vehicle_values("vehicles_max_distance", v)
    max_dist_i = (rnd.ints(max_dist, "vehicles_max_distance", what="maximum distances")
                  if max_dist is not None else None)
    max_rel = f.vehicle_values("vehicles_max_reloads", v)
    max_rel_i = (_Rounder(f, "none").ints(max_rel, "vehicles_max_reloads",
                                          what="maximum reloads")
                 if max_rel is not None else None)
    reload_dep: list[list[int]] = [[] for _ in range(v)]
    if "vehicles_reload_depot" in f.raw.sections:
        reload_dep = f.lists("vehicles_reload_depot", v, "VEHICLES")
    elif "vehicles_reload_depot" in f.raw.specs:
        reload_dep = [[int(f.spec_int("vehicles_reload_depot", low=1))]] * v
    allowed: list[set[int]] | None = None
    if "vehicles_allowed_clients" in f.raw.sections:
        rows = f.lists("vehicles_allowed_clients", v, "VEHICLES")
        allowed = []
        for j, row in enumerate(rows):
            for x in row:
                if not n_dep < x <= n:
                    raise f.error(f.where("vehicles_allowed_clients", j),
                                  f"must be client nodes {n_dep + 1}..{n}", got=x,
                                  fix="list client node numbers")
            allowed.append({x - 1 for x in row})
    elif "vehicles_allowed_clients" in f.raw.specs:
        raise f.error(f.where("vehicles_allowed_clients"), "must be a section",
                      fix="write VEHICLES_ALLOWED_CLIENTS_SECTION")

    # vehicles: one slot, or a chain of slots when the vehicle reloads
    dur = dist  # PyVRP's VRPLIB reading: travel time = distance
    vehicles: list[Vehicle] = []
    slots_of: list[list[int]] = []
    kinds: dict[tuple[object, ...], str] = {}
    for j in range(v):
        d = int(vdepot[j])
        for r in reload_dep[j]:
            if r != d + 1:
                raise f.error(f.where("vehicles_reload_depot", j),
                              "reloads only at the vehicle's own depot are supported",
                              got=r, fix=f"use depot {d + 1} (its VEHICLES_DEPOT)")
        reloads = bool(reload_dep[j])
        if reloads and (max_dur_i is not None or max_dist_i is not None):
            key = "vehicles_max_duration" if max_dur_i is not None else "vehicles_max_distance"
            raise f.error(f.where(key), "cannot be combined with reloads (PyVRP limits the "
                          "whole route, this model each trip)",
                          fix="drop the limit or the reloads")
        clients = (range(n_dep, n) if allowed is None else sorted(allowed[j]))
        trips = 1
        if reloads:
            trips = len(clients)
            if max_rel_i is not None:
                trips = min(trips, int(max_rel_i[j]) + 1)
            # every trip leaves for a first client and returns from a last one within the
            # shift (no triangle inequality assumed: rounded distances may break it)
            span = int(tw[d, 1]) - int(tw[d, 0])
            cl = np.asarray(list(clients), dtype=np.int64)
            shortest = (int((dur[d, cl] + service[cl]).min()) + int(dur[cl, d].min())
                        if cl.size else 0)
            if shortest > 0 and span < NO_LIMIT // 2:
                trips = min(trips, max(1, span // shortest))
            trips = max(1, trips)
        if len(vehicles) + trips > MAX_SLOTS:
            raise f.error(f.where("vehicles"), f"too many vehicle trips (more than "
                          f"{MAX_SLOTS:,} in all)", got=v,
                          fix="state fewer vehicles or set VEHICLES_MAX_RELOADS")
        kind = (d, int(cap[j]), int(fixed_i[j]), int(unit_i[j]), trips,
                None if max_dur_i is None else int(max_dur_i[j]),
                None if max_dist_i is None else int(max_dist_i[j]),
                None if allowed is None else frozenset(allowed[j]))
        type_id = kinds.setdefault(kind, f"type{len(kinds) + 1}")
        chain: list[int] = []
        for t in range(trips):
            chain.append(len(vehicles))
            vehicles.append(Vehicle(
                id=f"v{j + 1}" if t == 0 else f"v{j + 1}.{t + 1}",
                type_id=type_id,
                start=d,
                end=d,
                capacity_kg=int(cap[j]),
                profile=_PROFILE,
                fixed_fen=int(fixed_i[j]) if t == 0 else 0,
                fen_per_km=1000.0 * int(unit_i[j]),
                shift_start_s=int(tw[d, 0]),
                shift_end_s=int(tw[d, 1]),
                max_duration_s=int(max_dur_i[j]) if max_dur_i is not None else None,
                max_distance_m=int(max_dist_i[j]) if max_dist_i is not None else None,
                after=chain[-2] if t > 0 else None,
            ))
        slots_of.append(chain)

    stops: list[Stop] = []
    for i in range(n_dep, n):
        allowed_v: tuple[int, ...] | None = None
        if allowed is not None and not all(i in a for a in allowed):
            allowed_v = tuple(s for j, a in enumerate(allowed) if i in a for s in slots_of[j])
        stops.append(Stop(
            id=str(i),
            node=i,
            delivery_kg=int(delivery[i]),
            pickup_kg=int(pickup[i]),
            service_s=int(service[i]),
            tw_start_s=int(tw[i, 0]),
            tw_end_s=int(tw[i, 1]),
            drop_penalty_fen=int(prize[i]) if prize[i] > 0 else None,
            allowed_vehicles=allowed_v,
            release_s=int(release[i]),
        ))
    return RoutingProblem(
        nodes=tuple(str(i) for i in range(n)),
        matrices={_PROFILE: Matrix(dist, dist)},
        stops=tuple(stops),
        vehicles=tuple(vehicles),
        name=f.spec_str("name") or f.path.stem,
        distance_scale=1.0,
        backhauls_last=backhauls_last,
        cost_unit="vrplib",
    )


# ---- solutions ------------------------------------------------------------------------------
def file_vehicles(problem: RoutingProblem) -> list[list[int]]:
    """The slots of each vehicle of a dialect file, in the file's order (one list per
    vehicle: its trips' slots in order)."""
    roots = [v for v, veh in enumerate(problem.vehicles) if veh.after is None]
    nxt = {veh.after: v for v, veh in enumerate(problem.vehicles) if veh.after is not None}
    out = []
    for r in roots:
        ch = [r]
        while ch[-1] in nxt:
            ch.append(nxt[ch[-1]])
        out.append(ch)
    return out


def solution_text(problem: RoutingProblem, solution: RoutingSolution) -> str:
    """A dialect solution as text: ``Route #k`` is the file's vehicle k (empty for an unused
    one); clients by location number; a reload is the depot's location number inside the
    route; then ``Cost``."""
    by_slot = {r.vehicle: r for r in solution.routes if r.visits}
    lines = []
    for k, chain in enumerate(file_vehicles(problem), 1):
        depot = problem.vehicles[chain[0]].start
        trips = [[problem.stops[vis.stop].node for vis in by_slot[s].visits]
                 for s in chain if s in by_slot]
        visits: list[int] = []
        for t, trip in enumerate(trips):
            if t:
                visits.append(depot)
            visits += trip
        lines.append(" ".join([f"Route #{k}:", *map(str, visits)]))
    obj = float(solution.objective)
    cost = str(int(obj)) if obj.is_integer() else f"{obj:.6f}"
    lines.append(f"Cost: {cost}")
    return "\n".join(lines) + "\n"


def read_solution_trips(path: str | os.PathLike[str], problem: RoutingProblem
                        ) -> dict[int, list[list[int]]]:
    """A dialect ``.sol`` file as trips (stop indices) per chain root slot.

    Route k is the file's vehicle k; a depot number inside a route starts a new trip.
    Raises :class:`InstanceError` for unknown numbers, more routes than vehicles or more
    trips than the vehicle may make.
    """
    p = Path(path)
    if not p.is_file():
        raise InstanceError.at(p, None, "file not found", fix="check the path")
    n_dep = min(s.node for s in problem.stops) if problem.stops else 0
    stop_of = {s.node: i for i, s in enumerate(problem.stops)}
    chains = file_vehicles(problem)
    out: dict[int, list[list[int]]] = {}
    k = 0
    for ln, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip().lower().startswith("route"):
            continue
        if k >= len(chains):
            raise InstanceError.at(p, f"line {ln}", f"more routes than the {len(chains)} "
                                   "vehicles", fix="one route line per vehicle")
        toks = line.split(":", 1)[1].split() if ":" in line else []
        trips: list[list[int]] = [[]]
        for tok in toks:
            try:
                x = int(tok)
            except ValueError:
                raise InstanceError.at(p, f"line {ln}", "not a location number", got=tok,
                                       fix="list location numbers") from None
            if x < n_dep:
                trips.append([])
            elif x in stop_of:
                trips[-1].append(stop_of[x])
            else:
                raise InstanceError.at(p, f"line {ln}", "unknown location", got=x,
                                       fix="use the instance's node numbers minus 1")
        trips = [t for t in trips if t]
        if len(trips) > len(chains[k]):
            raise InstanceError.at(p, f"line {ln}", f"{len(trips)} trips, vehicle {k + 1} "
                                   f"may make {len(chains[k])}", fix="fewer reloads")
        if trips:
            out[chains[k][0]] = trips
        k += 1
    return out


__all__ = ["NO_LIMIT", "ROUNDINGS", "ROUND_FUNCS", "TYPES", "file_vehicles", "fleet_size",
           "read_solution_trips", "read_vrplib", "solution_text"]
