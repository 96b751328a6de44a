"""Independent checker of capacitated location-routing plans (Prodhon CLRP; no solver).

``verify_lrp(instance, open_depots, routes)`` recomputes a plan from the coordinates:
coverage, vehicle and depot capacities, routes only from open depots, and the cost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.errors import CheckError
from optimizer.formats.prodhon import LrpInstance
from optimizer.routing.verify import OBJECTIVE_ABS_TOL, OBJECTIVE_REL_TOL


@dataclass(frozen=True, slots=True)
class LrpCost:
    """Recomputed CLRP cost parts (the instance's cost unit, e.g. 0.01 distance units)."""

    opening: float
    route_fixed: float
    distance: float

    @property
    def total(self) -> float:
        return self.opening + self.route_fixed + self.distance


def _lrp_arc(inst: LrpInstance, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Arc cost: 100 x Euclid rounded up (``ceil``) or down (``floor``), or Euclid (``real``)."""
    d = math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2)
    if inst.rounding == "ceil":
        return float(math.ceil(d * 100.0))
    if inst.rounding == "floor":
        return float(math.floor(d * 100.0))
    return d


def evaluate_lrp(
    inst: LrpInstance,
    open_depots: Sequence[int],
    routes: Sequence[tuple[int, Sequence[int]]],
    *,
    objective: float | None = None,
) -> tuple[LrpCost, list[str]]:
    """Recompute a CLRP plan's cost from the coordinates and list its violations.

    ``routes`` are ``(depot, customers)`` pairs, 0-based in file order; each route leaves
    its depot, visits the customers in order and returns. Checks: indices in range, every
    customer served exactly once, no empty route, vehicle capacity per route, routes only
    from open depots, depot capacity per open depot, and (if given) the reported
    ``objective`` against the recomputed total (arcs ``ceil`` or ``floor(100 x Euclid)``
    for integer files, per ``inst.rounding``). Open depots without routes are allowed
    (they still pay their opening cost).
    """
    m, n = int(inst.depot_xy.shape[0]), int(inst.customer_xy.shape[0])
    violations: list[str] = []
    opened: set[int] = set()
    for d in open_depots:
        if not 0 <= int(d) < m:
            violations.append(f"open_depots: depot {d} out of range 0..{m - 1}")
        elif int(d) in opened:
            violations.append(f"open_depots: depot {d} listed twice")
        else:
            opened.add(int(d))
    depot_xy = [(float(x), float(y)) for x, y in inst.depot_xy]
    cust_xy = [(float(x), float(y)) for x, y in inst.customer_xy]
    demand = [float(q) for q in inst.demand]
    seen = [0] * n
    load_at = dict.fromkeys(opened, 0.0)
    distance = 0.0
    n_routes = 0
    for k, (d, custs) in enumerate(routes):
        d = int(d)
        if not 0 <= d < m:
            violations.append(f"routes[{k}]: depot {d} out of range 0..{m - 1}")
            continue
        if d not in opened:
            violations.append(f"routes[{k}]: depot {d} is not open")
        if len(custs) == 0:
            violations.append(f"routes[{k}]: empty route")
            continue
        n_routes += 1
        load = 0.0
        prev = depot_xy[d]
        ok = True
        for c in custs:
            c = int(c)
            if not 0 <= c < n:
                violations.append(f"routes[{k}]: customer {c} out of range 0..{n - 1}")
                ok = False
                continue
            seen[c] += 1
            load += demand[c]
            distance += _lrp_arc(inst, prev, cust_xy[c])
            prev = cust_xy[c]
        if ok:
            distance += _lrp_arc(inst, prev, depot_xy[d])
        if load > float(inst.vehicle_capacity) + 1e-9:
            violations.append(
                f"routes[{k}]: load {load:g} exceeds the vehicle capacity "
                f"{float(inst.vehicle_capacity):g}"
            )
        if d in load_at:
            load_at[d] += load
    for c in range(n):
        if seen[c] == 0:
            violations.append(f"customer {c}: not served")
        elif seen[c] > 1:
            violations.append(f"customer {c}: served {seen[c]} times")
    for d in sorted(load_at):
        cap = float(inst.depot_capacity[d])
        if load_at[d] > cap + 1e-9:
            violations.append(f"depot {d}: load {load_at[d]:g} exceeds its capacity {cap:g}")
    cost = LrpCost(
        opening=float(sum(float(inst.opening_cost[d]) for d in opened)),
        route_fixed=float(inst.route_cost) * n_routes,
        distance=distance,
    )
    if objective is not None:
        tol = OBJECTIVE_ABS_TOL + OBJECTIVE_REL_TOL * abs(cost.total)
        if abs(float(objective) - cost.total) > tol:
            violations.append(
                f"objective: reported {float(objective):.6f} differs from recomputed "
                f"{cost.total:.6f}"
            )
    return cost, violations


def verify_lrp(
    inst: LrpInstance,
    open_depots: Sequence[int],
    routes: Sequence[tuple[int, Sequence[int]]],
    *,
    objective: float | None = None,
) -> LrpCost:
    """Return the recomputed CLRP cost parts; raise CheckError on any violation."""
    cost, violations = evaluate_lrp(inst, open_depots, routes, objective=objective)
    if violations:
        raise CheckError(violations)
    return cost


__all__ = ["LrpCost", "evaluate_lrp", "verify_lrp"]
