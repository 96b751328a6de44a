"""The one door to OR-Tools MIP solvers for the location models.

Models are assembled as sparse arrays (variable blocks + constraint rows in COO form) and
handed to OR-Tools' model builder in one call (``fill_model_from_sparse_data``), which is
fast for 10^5-10^6 variables. Backends: SCIP (default) and HiGHS, both shipped with
ortools 9.15. Solves are deterministic: one thread, no randomisation beyond the solver's
fixed default seed.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy.sparse import csr_matrix

logger = logging.getLogger(__name__)

Backend = Literal["scip", "highs", "glop"]
MipStatus = Literal["optimal", "feasible", "infeasible", "time_limit_no_solution", "unbounded"]

# Relative/absolute optimality tolerances asked of the backends (tighter than 1e-6).
REL_GAP = 1e-9
ABS_GAP = 1e-6

_OPTIMAL = 0  # SolveStatus values of model_builder (MPSolverResponseStatus)
_FEASIBLE = 1
_INFEASIBLE = 2
_UNBOUNDED = 3


@dataclass(frozen=True)
class MipSolution:
    """Outcome of one solve: status, objective/bound (in model units), values, wall seconds."""

    status: MipStatus
    objective: float
    bound: float
    values: np.ndarray
    seconds: float
    message: str

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


def relative_gap(objective: float, bound: float) -> float:
    """``|obj - bound| / max(1, |obj|)``; ``inf`` when either is missing."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(objective - bound) / max(1.0, abs(objective))


class MipBuilder:
    """Collect variables and linear rows as arrays; solve with a time limit.

    Variables are created in blocks (``add_vars`` returns their global indices as an array of
    any shape); rows are added in COO form (``add_rows``) with per-row bounds.
    """

    def __init__(self, *, maximize: bool = False) -> None:
        self.maximize = maximize
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._obj: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._nvar = 0
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._rlb: list[np.ndarray] = []
        self._rub: list[np.ndarray] = []
        self._nrow = 0
        self._hint_idx: list[np.ndarray] = []
        self._hint_val: list[np.ndarray] = []
        self.objective_offset = 0.0

    @property
    def num_vars(self) -> int:
        return self._nvar

    @property
    def num_rows(self) -> int:
        return self._nrow

    def add_vars(
        self,
        shape: int | tuple[int, ...],
        *,
        lb: float | np.ndarray = 0.0,
        ub: float | np.ndarray = math.inf,
        cost: float | np.ndarray = 0.0,
        integer: bool = False,
    ) -> np.ndarray:
        """Add a block of variables; return their indices with the given shape."""
        shp = (shape,) if isinstance(shape, int) else tuple(shape)
        size = int(np.prod(shp)) if shp else 1
        idx = np.arange(self._nvar, self._nvar + size, dtype=np.int64).reshape(shp)
        self._lb.append(np.broadcast_to(np.asarray(lb, float), shp).ravel().copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, float), shp).ravel().copy())
        self._obj.append(np.broadcast_to(np.asarray(cost, float), shp).ravel().copy())
        self._int.append(np.full(size, integer))
        self._nvar += size
        return idx

    def add_rows(
        self,
        row: np.ndarray,
        col: np.ndarray,
        val: np.ndarray | float,
        *,
        n_rows: int,
        lb: float | np.ndarray = -math.inf,
        ub: float | np.ndarray = math.inf,
    ) -> np.ndarray:
        """Add ``n_rows`` rows ``lb <= sum val*x[col] <= ub``; ``row`` is local (0..n_rows-1)."""
        row = np.asarray(row, np.int64).ravel()
        col = np.asarray(col, np.int64).ravel()
        vals = np.broadcast_to(np.asarray(val, float), row.shape).ravel()
        if row.shape != col.shape:
            raise ValueError("row and col must have the same size")
        self._rows.append(row + self._nrow)
        self._cols.append(col)
        self._vals.append(vals.copy())
        self._rlb.append(np.broadcast_to(np.asarray(lb, float), (n_rows,)).copy())
        self._rub.append(np.broadcast_to(np.asarray(ub, float), (n_rows,)).copy())
        out = np.arange(self._nrow, self._nrow + n_rows)
        self._nrow += n_rows
        return out

    def add_row(
        self, cols: np.ndarray, vals: np.ndarray | float, *, lb: float = -math.inf,
        ub: float = math.inf,
    ) -> int:
        """Add one row ``lb <= sum vals*x[cols] <= ub``."""
        cols = np.asarray(cols, np.int64).ravel()
        return int(self.add_rows(np.zeros_like(cols), cols, vals, n_rows=1, lb=lb, ub=ub)[0])

    def hint(self, idx: np.ndarray, values: np.ndarray) -> None:
        """Give the solver a (partial) starting solution."""
        self._hint_idx.append(np.asarray(idx, np.int64).ravel())
        self._hint_val.append(np.asarray(values, float).ravel())

    def solve(
        self, *, time_limit_s: float, backend: Backend = "scip", log: bool = False,
        relax: bool = False, cutoff: float | None = None,
    ) -> MipSolution:
        """Solve with a wall-clock limit; status mapped to the location vocabulary.

        ``relax=True`` drops integrality (LP relaxation), e.g. with ``backend="glop"``.
        ``cutoff`` (HiGHS only, minimisation): only solutions with objective below it are
        sought (nodes whose bound reaches it are pruned); if none exists the status is
        ``"infeasible"``, which then means "nothing better than the cutoff".
        """
        t0 = time.perf_counter()
        lb = np.concatenate(self._lb) if self._lb else np.zeros(0)
        ub = np.concatenate(self._ub) if self._ub else np.zeros(0)
        obj = np.concatenate(self._obj) if self._obj else np.zeros(0)
        integ = np.concatenate(self._int) if self._int else np.zeros(0, bool)
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, np.int64)
        cols = np.concatenate(self._cols) if self._cols else np.zeros(0, np.int64)
        vals = np.concatenate(self._vals) if self._vals else np.zeros(0)
        rlb = np.concatenate(self._rlb) if self._rlb else np.zeros(0)
        rub = np.concatenate(self._rub) if self._rub else np.zeros(0)
        mat = csr_matrix((vals, (rows, cols)), shape=(self._nrow, self._nvar))
        mat.sum_duplicates()
        model = mbh.ModelBuilderHelper()
        model.fill_model_from_sparse_data(lb, ub, obj, rlb, rub, mat)  # type: ignore[arg-type]
        for j in np.flatnonzero(integ) if not relax else ():
            model.set_var_integrality(int(j), True)
        model.set_maximize(self.maximize)
        if self.objective_offset:
            model.set_objective_offset(self.objective_offset)
        # Hints only for SCIP: ortools 9.15's HiGHS bridge segfaults on partial hints.
        hints = zip(self._hint_idx, self._hint_val, strict=True) if backend == "scip" else ()
        for hi, hv in hints:
            for j, v in zip(hi.tolist(), hv.tolist(), strict=True):
                model.add_hint(j, v)
        solver = mbh.ModelSolverHelper(backend)
        if not solver.solver_is_supported():  # pragma: no cover - depends on the wheel
            raise RuntimeError(f"OR-Tools backend {backend!r} is not available")
        solver.set_time_limit_in_seconds(max(0.01, float(time_limit_s)))
        params = _params(backend)
        if cutoff is not None and backend == "highs" and not self.maximize:
            params += f"objective_bound = {float(cutoff)!r}\n"
        solver.set_solver_specific_parameters(params)
        solver.enable_output(log)
        build_s = time.perf_counter() - t0
        solver.solve(model)
        seconds = time.perf_counter() - t0
        code = int(solver.status())
        has = bool(solver.has_solution())
        sense = -1.0 if self.maximize else 1.0
        if code == _INFEASIBLE:
            return MipSolution("infeasible", math.nan, math.nan, np.zeros(0), seconds,
                               "model is infeasible")
        if code == _UNBOUNDED:
            return MipSolution("unbounded", sense * -math.inf, sense * -math.inf, np.zeros(0),
                               seconds, "model is unbounded")
        if not has:
            return MipSolution("time_limit_no_solution", math.nan,
                               _bound(solver, sense), np.zeros(0), seconds,
                               f"no solution within {time_limit_s:g} s")
        objective = float(solver.objective_value())
        values = np.asarray(solver.variable_values(), float)
        bound = _bound(solver, sense)
        if code == _OPTIMAL:
            if not math.isfinite(bound):  # pure LPs report no MIP bound
                bound = objective
            status: MipStatus = "optimal"
        else:
            status = "feasible"
        logger.debug("MIP %s: %d vars, %d rows, build %.2fs, solve %.2fs, %s obj=%s bound=%s",
                     backend, self._nvar, self._nrow, build_s, seconds - build_s, status,
                     objective, bound)
        return MipSolution(status, objective, bound, values, seconds,
                           "proven optimal" if status == "optimal"
                           else f"time limit {time_limit_s:g} s reached")


def _bound(solver: mbh.ModelSolverHelper, sense: float) -> float:
    try:
        b = float(solver.best_objective_bound())
    except Exception:  # pragma: no cover - backend without bound
        return math.nan
    return b if math.isfinite(b) else math.nan


def _params(backend: Backend) -> str:
    if backend == "glop":
        return ""
    if backend == "scip":
        return (f"limits/gap = {REL_GAP}\nlimits/absgap = {ABS_GAP}\n"
                "randomization/randomseedshift = 0\n")
    return f"mip_rel_gap = {REL_GAP}\nmip_abs_gap = {ABS_GAP}\nthreads = 1\nrandom_seed = 0\n"
