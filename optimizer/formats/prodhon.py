"""Prodhon capacitated location-routing (CLRP) instance files.

Layout (whitespace-separated numbers, CRLF line endings in the distributed files):
number of customers n, number of candidate depots m, m depot coordinates (x y), n customer
coordinates (x y), vehicle capacity, m depot capacities, n customer demands, m depot
opening costs, the fixed cost of a route, and a cost-type flag (0: integer costs, 1: real).

Cost convention. A plan costs the opening costs of its open depots plus the route fixed
cost per route plus the arc costs. For integer-cost files (flag 0, every published
instance) the arc cost is ``100 x Euclidean distance`` made integer; how is a choice
(``rounding``):

* ``"ceil"`` (default): rounded up. This is the convention of the published best-known
  values: re-costing our plans for coord20-5-1b, coord50-5-1, -1b, -3 and -3b reproduces
  their BKS (39104, 90111, 63242, 86203, 61830) exactly under ``ceil`` and lands 20-50 below
  them under ``floor`` (the exact-method papers state "multiplied by 100 and rounded up").
* ``"floor"``: truncated, the literal wording of the set's ``format.txt``.

With flag 1 (or ``rounding="real"``) the arc cost is the Euclidean distance itself.
:func:`arc_costs` implements all three; :func:`optimizer.lrp.verify.verify_lrp` recomputes them.

Depots and customers are 0-based indices in file order.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimizer.errors import InstanceError

ROUNDINGS = ("ceil", "floor", "real")
#: the largest magnitude of any number in a file: 100 x the longest arc, summed over every
#: arc of a plan and scaled for the integer solver, stays far inside int64
MAX_ABS = 1e9
#: the most customers plus depots (the dense arc-cost matrix: 800 MB at 10,000 nodes)
MAX_NODES = 10_000


@dataclass(frozen=True, slots=True)
class LrpInstance:
    """A capacitated location-routing instance (units as in the file: abstract cost units).

    ``depot_xy`` (m, 2) and ``customer_xy`` (n, 2) are float coordinates; capacities and
    demands are in the same (abstract) load unit; costs in the file's cost unit.
    """

    name: str
    depot_xy: np.ndarray
    customer_xy: np.ndarray
    vehicle_capacity: float
    depot_capacity: np.ndarray
    demand: np.ndarray
    opening_cost: np.ndarray
    route_cost: float
    rounding: str = "ceil"

    def __post_init__(self) -> None:
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {ROUNDINGS} (got {self.rounding!r})")
        m, n = self.n_depots, self.n_customers
        if self.depot_xy.shape != (m, 2) or self.customer_xy.shape != (n, 2):
            raise ValueError("coordinates must have shape (count, 2)")
        for name, arr, size in (
            ("depot_capacity", self.depot_capacity, m),
            ("opening_cost", self.opening_cost, m),
            ("demand", self.demand, n),
        ):
            if arr.shape != (size,):
                raise ValueError(f"{name} must have shape ({size},) (got {arr.shape})")

    @property
    def n_depots(self) -> int:
        return int(self.depot_xy.shape[0])

    @property
    def n_customers(self) -> int:
        return int(self.customer_xy.shape[0])

    @property
    def integer_costs(self) -> bool:
        """True when arc costs are integers (``rounding`` is ceil or floor)."""
        return self.rounding != "real"

    @property
    def total_demand(self) -> float:
        return float(self.demand.sum())


def arc_costs(inst: LrpInstance) -> np.ndarray:
    """Cost matrix over nodes ``[depots..., customers...]`` (depot d is node d, customer i is
    node m + i): ``ceil``/``floor(100 x Euclid)`` as int64 for integer costs, else the float
    Euclidean distance (double precision, as the C reference code)."""
    xy = np.vstack([inst.depot_xy, inst.customer_xy])
    diff = xy[:, None, :] - xy[None, :, :]
    euclid = np.sqrt((diff**2).sum(axis=2))
    if inst.rounding == "ceil":
        return np.ceil(euclid * 100.0).astype(np.int64)
    if inst.rounding == "floor":
        return np.floor(euclid * 100.0).astype(np.int64)
    return euclid


def _tokens(path: Path) -> list[str]:
    if not path.is_file():
        raise InstanceError.at(path, None, "file not found", fix="check the path")
    try:
        text = path.read_bytes().decode("latin-1")
    except OSError as exc:
        raise InstanceError.at(path, None, f"cannot read: {exc}", fix="check permissions") from exc
    return text.split()


def read_prodhon(path: str | os.PathLike[str], *, rounding: str = "ceil") -> LrpInstance:
    """Read a Prodhon CLRP ``.dat`` file; raises InstanceError naming the bad field.

    ``rounding`` ("ceil" or "floor") applies to integer-cost files; flag-1 files are real.
    """
    p = Path(path)
    if rounding not in ("ceil", "floor"):
        raise ValueError(f"rounding must be 'ceil' or 'floor' (got {rounding!r})")
    toks = _tokens(p)
    pos = 0

    def take(field: str, integer: bool = False) -> float:
        nonlocal pos
        if pos >= len(toks):
            raise InstanceError.at(p, field, "missing value (file ends early)",
                                   fix="the file is truncated; re-download it")
        tok = toks[pos]
        pos += 1
        try:
            val = float(tok)
        except ValueError:
            raise InstanceError.at(p, field, "must be a number", got=tok) from None
        if not math.isfinite(val):
            raise InstanceError.at(p, field, "must be finite", got=tok)
        if abs(val) > MAX_ABS:
            raise InstanceError.at(p, field, f"must be between -{MAX_ABS:.0e} and "
                                   f"{MAX_ABS:.0e}", got=tok,
                                   fix="rescale the file's coordinates, loads or costs")
        if integer and val != int(val):
            raise InstanceError.at(p, field, "must be an integer", got=tok)
        return val

    n = int(take("n_customers", integer=True))
    m = int(take("n_depots", integer=True))
    if n < 1:
        raise InstanceError.at(p, "n_customers", "must be >= 1", got=n)
    if m < 1:
        raise InstanceError.at(p, "n_depots", "must be >= 1", got=m)
    if n + m > MAX_NODES:
        raise InstanceError.at(p, "n_customers", f"with n_depots, must be <= {MAX_NODES}",
                               got=n + m, fix="split the instance")
    depot_xy = np.array([[take(f"depot[{j}].{c}") for c in "xy"] for j in range(m)])
    cust_xy = np.array([[take(f"customer[{i}].{c}") for c in "xy"] for i in range(n)])
    q = take("vehicle_capacity")
    if q <= 0:
        raise InstanceError.at(p, "vehicle_capacity", "must be > 0", got=q)
    cap = np.array([take(f"depot_capacity[{j}]") for j in range(m)])
    dem = np.array([take(f"demand[{i}]") for i in range(n)])
    opening = np.array([take(f"opening_cost[{j}]") for j in range(m)])
    route_cost = take("route_cost")
    flag = take("cost_type")
    for name, arr in (("depot_capacity", cap), ("demand", dem), ("opening_cost", opening)):
        bad = np.flatnonzero(arr < 0)
        if bad.size:
            raise InstanceError.at(p, f"{name}[{int(bad[0])}]", "must be >= 0",
                                   got=float(arr[bad[0]]))
    if route_cost < 0:
        raise InstanceError.at(p, "route_cost", "must be >= 0", got=route_cost)
    if flag not in (0.0, 1.0):
        raise InstanceError.at(p, "cost_type", "must be 0 (integer) or 1 (real)", got=flag)
    if pos != len(toks):
        raise InstanceError.at(p, "end of file", f"{len(toks) - pos} unexpected extra values",
                               got=toks[pos], fix=f"header says {n} customers and {m} depots")
    big = np.flatnonzero(dem > q)
    if big.size:
        i = int(big[0])
        raise InstanceError.at(p, f"demand[{i}]", f"exceeds the vehicle capacity {q:g}",
                               got=float(dem[i]), fix="no vehicle can serve this customer")
    if dem.sum() > cap.sum():
        raise InstanceError.at(p, "depot_capacity", f"total {cap.sum():g} is below the total "
                               f"demand {dem.sum():g}", fix="no depot set can serve everyone")
    return LrpInstance(
        name=p.stem,
        depot_xy=depot_xy,
        customer_xy=cust_xy,
        vehicle_capacity=q,
        depot_capacity=cap,
        demand=dem,
        opening_cost=opening,
        route_cost=route_cost,
        rounding=rounding if flag == 0.0 else "real",
    )


__all__ = ["ROUNDINGS", "LrpInstance", "arc_costs", "read_prodhon"]
