"""Result type shared by every location model, and small validation helpers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from optimizer.errors import InstanceError

Status = Literal["optimal", "feasible", "infeasible", "time_limit_no_solution"]


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class LocationResult:
    """Outcome of a location model (immutable; arrays are read-only).

    Attributes:
        status: ``optimal`` (proven within 1e-6 relative gap), ``feasible`` (time limit hit
            with a solution), ``infeasible`` or ``time_limit_no_solution``.
        objective: objective value in the caller's cost unit (yuan, or distance x weight).
        bound: proven lower bound (upper bound for maximisation models).
        gap: ``|objective - bound| / max(1, |objective|)``.
        open: 0-based indices of the open sites, ascending.
        assignment: 1-D int array client -> site (``-1`` = not assigned / not covered) for
            single-assignment models; for split demand a float array of flows
            ``(..., clients, sites)`` in demand units per day.
        modules: modules per site (and season/scenario) for modular models, else ``None``.
        unserved: unserved demand per client (same leading axes as the flows) or ``None``.
        covered: bool array of covered clients (covering models) or ``None``.
        leased: leased modules (same shape as ``modules``) of the flexible modular model.
        active: (seasons, sites) bool, sites running modules per season (flexible model).
        bought: modules bought (flexible modular model with an owned pool), else 0.
        facility_cost: the modular model's facility cost (opening, modules, leases,
            active, standby, moves, bought modules; the budget row), else NaN.
        seconds: wall-clock time of the whole call.
        message: one line on how the status was reached.
    """

    status: Status
    objective: float
    bound: float
    gap: float
    open: tuple[int, ...]
    assignment: np.ndarray | None
    seconds: float
    message: str
    modules: np.ndarray | None = None
    unserved: np.ndarray | None = None
    covered: np.ndarray | None = None
    leased: np.ndarray | None = None
    active: np.ndarray | None = None
    bought: int = 0
    facility_cost: float = math.nan

    def __post_init__(self) -> None:
        for name in ("assignment", "modules", "unserved", "covered", "leased", "active"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def is_optimal(self) -> bool:
        return self.status == "optimal"


def rel_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / max(1, |objective|)`` (``inf`` if either is not finite)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(objective - bound) / max(1.0, abs(objective))


def as_matrix(a: object, name: str, *, ndim: int = 2, allow_inf: bool = False) -> np.ndarray:
    """Validate a numeric array: shape rank, no NaN, non-negative, finite unless allowed."""
    arr = np.asarray(a, dtype=float)
    if arr.ndim != ndim:
        raise InstanceError.at(None, name, f"must be a {ndim}-D array", got=arr.shape)
    if np.isnan(arr).any():
        raise InstanceError.at(None, name, "contains NaN")
    if not allow_inf and np.isinf(arr).any():
        raise InstanceError.at(None, name, "contains inf")
    if (arr < 0).any():
        bad = np.argwhere(arr < 0)[0]
        raise InstanceError.at(None, f"{name}{list(map(int, bad))}", "must be >= 0",
                               got=float(arr[tuple(bad)]))
    return arr


def as_bool_matrix(a: object, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise InstanceError.at(None, name, "must be a 2-D array", got=arr.shape)
    return arr.astype(bool)


def fmt_num(x: float) -> str:
    """Readable number for messages: thousands separators, at most 3 decimals."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.3f}".rstrip("0").rstrip(".")


def name_list(idx: np.ndarray | list[int], names: list[str] | None, limit: int = 10) -> str:
    """``"3, 7, 12 (+4 more)"`` using names when given, else 0-based indices."""
    items = [names[i] if names is not None else str(i) for i in list(map(int, idx))]
    head = ", ".join(items[:limit])
    return head + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
