"""Vehicle routing on matrices: problem types, ``solve_routing`` and engine selection.

Solver adapters (``_ortools``, ``_pyvrp``) are imported lazily by ``solve_routing`` so that
importing this package never loads a solver.
"""

from optimizer.routing._warm import solution_from_trips
from optimizer.routing.problem import (
    FEN_PER_YUAN,
    CostBreakdown,
    Matrix,
    RouteSolution,
    RoutingProblem,
    RoutingSolution,
    Stop,
    Vehicle,
    Visit,
)
from optimizer.routing.solve import ENGINES, solve_routing

__all__ = [
    "ENGINES",
    "FEN_PER_YUAN",
    "CostBreakdown",
    "Matrix",
    "RouteSolution",
    "RoutingProblem",
    "RoutingSolution",
    "Stop",
    "Vehicle",
    "Visit",
    "solution_from_trips",
    "solve_routing",
]
