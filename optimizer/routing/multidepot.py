"""Multi-depot CVRP runs on an integer cost matrix, for location-routing heuristics.

The public door to the PyVRP adapter's multi-depot runs (:mod:`optimizer.lrp` uses it);
PyVRP is imported on the first call, never at import time. Nodes ``d < m`` are depots and
``m + i`` is customer ``i``; costs and loads are integers in the instance's own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

#: arc cost standing for a forbidden customer-depot pair
FORBIDDEN = 10**9

Routes = list[tuple[int, tuple[int, ...]]]  # (depot, customers) pairs, 0-based


class CostModel(Protocol):
    """What a multi-depot run needs to know of an instance (integer units)."""

    @property
    def m(self) -> int: ...  # depots
    @property
    def n(self) -> int: ...  # customers
    @property
    def cost(self) -> np.ndarray: ...  # (m + n, m + n) int64 arc costs
    @property
    def demand(self) -> np.ndarray: ...  # (n,) int64
    @property
    def capacity(self) -> int: ...  # vehicle capacity
    @property
    def depot_capacity(self) -> np.ndarray: ...  # (m,) int64
    @property
    def route_cost(self) -> int: ...  # fixed cost per route


def build_data(
    model: CostModel,
    depots: tuple[int, ...],
    lam: Sequence[float] | None = None,
    assign: dict[int, int] | None = None,
) -> Any:
    """Solver data for the open ``depots``; ``lam``: per-depot price per unit of load;
    ``assign``: customer -> depot, forbidding the other depots (arc cost ``FORBIDDEN``)."""
    from optimizer.routing import _pyvrp

    return _pyvrp.lrp_build_data(model, depots, lam=lam, assign=assign, forbidden=FORBIDDEN)


def run(
    data: Any,
    depots: tuple[int, ...],
    *,
    seconds: float,
    seed: int,
    iterations: int | None,
    init: Routes | None,
) -> Routes | None:
    """One solver run from ``init`` (optional); (depot, customers) routes, or None if it
    found no feasible plan."""
    from optimizer.routing import _pyvrp

    return _pyvrp.lrp_run(data, depots, seconds=seconds, seed=seed, iterations=iterations,
                          init=init)


def preload() -> None:
    """Import the solver now (worker initialisers: pay the import once, not per run)."""
    from optimizer.routing import _pyvrp  # noqa: F401


__all__ = ["FORBIDDEN", "CostModel", "Routes", "build_data", "preload", "run"]
