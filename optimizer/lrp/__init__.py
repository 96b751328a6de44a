"""Capacitated location-routing (Prodhon CLRP) on classic instance files.

:func:`solve_lrp` opens depots and routes vehicles (:mod:`optimizer.lrp.solve`);
:func:`verify_lrp` recomputes a plan from the coordinates (:mod:`optimizer.lrp.verify`,
which imports no solver: the solver side is loaded on first use of its names).
"""

from typing import TYPE_CHECKING, Any

from optimizer.lrp.verify import LrpCost, evaluate_lrp, verify_lrp

if TYPE_CHECKING:  # pragma: no cover
    from optimizer.lrp.solve import LrpRoute, LrpSolution, solve_lrp

_SOLVER_NAMES = ("LrpRoute", "LrpSolution", "solve_lrp")


def __getattr__(name: str) -> Any:
    if name in _SOLVER_NAMES:
        from optimizer.lrp import solve

        return getattr(solve, name)
    raise AttributeError(f"module 'optimizer.lrp' has no attribute {name!r}")


__all__ = ["LrpCost", "LrpRoute", "LrpSolution", "evaluate_lrp", "solve_lrp", "verify_lrp"]
