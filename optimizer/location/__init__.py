"""Facility-location models on matrices (p-median, UFL, CFL, covering, modular multi-season).

Every model takes numpy arrays, keyword-only options and an explicit ``time_limit_s``; it is
deterministic (single-threaded solver, fixed seed) and returns a frozen
:class:`LocationResult`. Infeasible inputs raise :class:`~optimizer.errors.InfeasibleError`
with the numbers. Every MIP solver (OR-Tools, HiGHS) is reached only through
:mod:`optimizer.location._mip`; :func:`solve_milp` is its door for other packages.
"""

from optimizer.location._mip import MilpOutcome, solve_milp
from optimizer.location._result import LocationResult
from optimizer.location.covering import max_cover, robust_max_cover, robust_set_cover, set_cover
from optimizer.location.facility import capacitated_fl, uncapacitated_fl
from optimizer.location.modular import modular_location
from optimizer.location.pmedian import p_median

__all__ = [
    "LocationResult",
    "MilpOutcome",
    "capacitated_fl",
    "max_cover",
    "modular_location",
    "p_median",
    "robust_max_cover",
    "robust_set_cover",
    "set_cover",
    "solve_milp",
    "uncapacitated_fl",
]
