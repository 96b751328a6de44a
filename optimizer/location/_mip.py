"""The one door to OR-Tools MIP solvers for the location models.

Models are assembled as sparse arrays (variable blocks + constraint rows in COO form) and
handed to OR-Tools' model builder in one call (``fill_model_from_sparse_data``), which is
fast for 10^5-10^6 variables. Backends: SCIP (default) and HiGHS, both shipped with
ortools 9.15, and ``"scipy-highs"``: HiGHS through ``scipy.optimize.milp`` or, with
``engine="highspy"``, through the newer ``highspy`` package (:func:`solve_milp`); both
keep the incumbent and dual bound when the time limit stops them. Solves are
deterministic: one thread each, no randomisation beyond the solver's fixed
default seed (a split solve runs two such solves side by side and merges them in a fixed
order).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy.sparse import csc_matrix, csr_matrix

from optimizer._parallel import usable_cores
from optimizer._stdio import fd1_to_stderr

logger = logging.getLogger(__name__)

Backend = Literal["scip", "highs", "glop", "scipy-highs"]
#: which HiGHS build :func:`solve_milp` uses.
Engine = Literal["scipy", "highspy"]
MipStatus = Literal["optimal", "feasible", "infeasible", "time_limit_no_solution", "unbounded"]

# Relative/absolute optimality tolerances asked of the backends (tighter than 1e-6).
REL_GAP = 1e-9
ABS_GAP = 1e-6

#: HiGHS options (``"scipy-highs"``) for a proof run that already has its incumbent as the
#: cutoff: the primal heuristics (sub-MIPs) then mostly burn time the proof needs, and the
#: feasibility jump, run before the root LP, does not look at the time limit (seen: 2 s
#: on a 100 x 1,000 CFLP).
PROOF_OPTIONS: dict[str, object] = {
    "mip_heuristic_effort": 0.0, "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False, "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False}

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

    def round_up_start(self, *, free: np.ndarray | None = None,
                       time_limit_s: float) -> np.ndarray | None:
        """A starting solution by LP rounding: the LP relaxation (HiGHS), every integer
        variable but ``free`` rounded up (within its bounds) and fixed, the rest re-solved.

        Meant for models where raising an integer variable keeps every row satisfiable
        (opening sites, adding modules); returns None when the fixed model is infeasible or
        ``time_limit_s`` (s, shared by both solves) runs out first.
        """
        t0 = time.perf_counter()
        lp = self.solve(time_limit_s=time_limit_s, backend="scipy-highs", relax=True)
        if lp.status != "optimal":
            return None
        integ = np.concatenate(self._int) if self._int else np.zeros(0, bool)
        if free is not None:
            integ[np.asarray(free, np.int64)] = False
        idx = np.flatnonzero(integ)
        lb = np.concatenate(self._lb)[idx]
        ub = np.concatenate(self._ub)[idx]
        values = np.clip(np.ceil(lp.values[idx] - 1e-6), lb, ub)
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0:
            return None
        fixed = self.solve(time_limit_s=left, backend="scipy-highs", fixed=(idx, values))
        return fixed.values if fixed.has_solution else None

    def hint(self, idx: np.ndarray, values: np.ndarray) -> None:
        """Give the solver a (partial) starting solution."""
        self._hint_idx.append(np.asarray(idx, np.int64).ravel())
        self._hint_val.append(np.asarray(values, float).ravel())

    def solve(
        self, *, time_limit_s: float, backend: Backend = "scip", log: bool = False,
        relax: bool = False, cutoff: float | None = None,
        options: dict[str, object] | None = None, split_on: int | None = None,
        engine: Engine = "scipy", start: np.ndarray | None = None,
        fixed: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> MipSolution:
        """Solve with a wall-clock limit; status mapped to the location vocabulary.

        ``relax=True`` drops integrality (LP relaxation), e.g. with ``backend="glop"``.
        ``cutoff`` (HiGHS backends only, minimisation): only solutions with objective below
        it are sought (nodes whose bound reaches it are pruned); if none exists the status is
        ``"infeasible"``, which then means "nothing better than the cutoff". ``options``:
        further HiGHS options for ``"scipy-highs"`` (hints are ignored there).
        ``split_on`` (``"scipy-highs"`` only): a binary variable whose two branches are
        solved side by side on two cores (see :func:`solve_milp`); ``engine`` too.
        ``start`` (``"scipy-highs"`` only): a complete feasible solution the search starts
        from (its incumbent; runs on ``highspy``, as scipy's ``milp`` takes no start).
        ``fixed = (indices, values)``: those variables fixed to the values for this solve.
        """
        t0 = time.perf_counter()
        lb = np.concatenate(self._lb) if self._lb else np.zeros(0)
        ub = np.concatenate(self._ub) if self._ub else np.zeros(0)
        if fixed is not None:
            lb, ub = lb.copy(), ub.copy()
            lb[fixed[0]] = ub[fixed[0]] = fixed[1]
        obj = np.concatenate(self._obj) if self._obj else np.zeros(0)
        integ = np.concatenate(self._int) if self._int else np.zeros(0, bool)
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, np.int64)
        cols = np.concatenate(self._cols) if self._cols else np.zeros(0, np.int64)
        vals = np.concatenate(self._vals) if self._vals else np.zeros(0)
        rlb = np.concatenate(self._rlb) if self._rlb else np.zeros(0)
        rub = np.concatenate(self._rub) if self._rub else np.zeros(0)
        mat = csr_matrix((vals, (rows, cols)), shape=(self._nrow, self._nvar))
        mat.sum_duplicates()
        if backend == "scipy-highs":
            return self._solve_scipy(t0, mat, lb, ub, obj, integ & (not relax), rlb, rub,
                                     time_limit_s=time_limit_s, log=log, cutoff=cutoff,
                                     options=options, split_on=split_on,
                                     engine="highspy" if start is not None else engine,
                                     start=start)
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


    def _solve_scipy(self, t0: float, mat: csr_matrix, lb: np.ndarray, ub: np.ndarray,
                     obj: np.ndarray, integ: np.ndarray, rlb: np.ndarray, rub: np.ndarray, *,
                     time_limit_s: float, log: bool, cutoff: float | None,
                     options: dict[str, object] | None,
                     split_on: int | None = None, engine: Engine = "scipy",
                     start: np.ndarray | None = None) -> MipSolution:
        """The ``"scipy-highs"`` backend of :meth:`solve` (minimisation)."""
        if self.maximize:
            raise ValueError("backend 'scipy-highs' minimises only")
        off = self.objective_offset
        out = solve_milp(obj, mat, rlb, rub, lb, ub, integ.astype(float),
                         time_limit_s=time_limit_s, log=log,
                         cutoff=None if cutoff is None else cutoff - off, options=options,
                         split_on=split_on, engine=engine, start=start)
        values = out.x if out.x is not None else np.zeros(0)
        return MipSolution(out.status, out.objective + off,  # type: ignore[arg-type]
                           out.bound + off, values, time.perf_counter() - t0, out.message)


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


@dataclass(frozen=True)
class MilpOutcome:
    """Outcome of :func:`solve_milp`.

    Attributes:
        status: ``"optimal"`` (proven), ``"feasible"`` (stopped with a solution),
            ``"infeasible"`` (no solution below the cutoff, or none at all) or
            ``"time_limit_no_solution"``.
        objective: objective of the solution found (money), ``nan`` if none.
        bound: HiGHS's dual bound (money; ``-inf`` if none reported).
        x: solution values, or ``None``.
        message: HiGHS's message.
    """

    status: str
    objective: float
    bound: float
    x: np.ndarray | None
    message: str


def solve_milp(cost: np.ndarray, a: csr_matrix, row_lb: np.ndarray, row_ub: np.ndarray,
               lb: np.ndarray, ub: np.ndarray, integrality: np.ndarray, *,
               time_limit_s: float, cutoff: float | None = None, log: bool = False,
               options: dict[str, object] | None = None,
               split_on: int | None = None, engine: Engine = "scipy",
               start: np.ndarray | None = None) -> MilpOutcome:
    """Minimise ``cost @ x`` s.t. ``row_lb <= a @ x <= row_ub``, ``lb <= x <= ub`` with HiGHS
    (scipy's ``milp`` or ``highspy``, see ``engine``; one thread, seed 0, relative gap 1e-9,
    absolute gap 1e-6).

    Unlike OR-Tools' HiGHS bridge, scipy returns the incumbent and the dual bound when the
    time limit ``time_limit_s`` (s) stops the search. ``cutoff`` (money) is HiGHS's
    ``objective_bound``: only solutions below it are sought, and ``"infeasible"`` then means
    "nothing below the cutoff". ``options``: further HiGHS options (passed verbatim).

    ``split_on``: index of a binary variable; when the machine has two cores, the two
    branches (it fixed to 0 and to 1) are solved side by side, one thread each (HiGHS
    releases the GIL), and merged (:func:`merge_branches`). The result does not depend on
    which branch finishes first.

    ``engine``: ``"scipy"`` (the HiGHS inside scipy) or ``"highspy"`` (the HiGHS package,
    a newer release with more options, e.g. ``mip_allow_restart``); same options, same
    outcome vocabulary. ``start``: a feasible solution the search starts from
    (``"highspy"`` only).
    """
    if split_on is not None and usable_cores() >= 2 and lb[split_on] < ub[split_on]:
        from concurrent.futures import ThreadPoolExecutor

        def branch(value: float) -> MilpOutcome:
            lo, hi = lb.copy(), ub.copy()
            lo[split_on] = hi[split_on] = value
            t0 = time.perf_counter()
            out = solve_milp(cost, a, row_lb, row_ub, lo, hi, integrality,
                             time_limit_s=time_limit_s, cutoff=cutoff, log=log,
                             options=options, engine=engine,
                             start=start if start is not None and start[split_on] == value
                             else None)
            logger.debug("branch x[%d] = %g: %s obj=%s bound=%s (%.1fs)", split_on, value,
                         out.status, out.objective, out.bound, time.perf_counter() - t0)
            return out

        with ThreadPoolExecutor(2) as ex:
            down, up = ex.map(branch, (0.0, 1.0))
        return merge_branches(down, up)
    import warnings

    from scipy.optimize import Bounds, LinearConstraint, milp

    opts: dict[str, object] = {"time_limit": max(0.05, float(time_limit_s)), "disp": log,
                               "mip_rel_gap": 1e-9, "mip_abs_gap": 1e-6, "threads": 1,
                               "random_seed": 0}
    if cutoff is not None and math.isfinite(cutoff):
        opts["objective_bound"] = float(cutoff)
    opts.update(options or {})
    if engine == "highspy":
        code, fun, x, db, message = _run_highspy(cost, a, row_lb, row_ub, lb, ub,
                                                 integrality, opts, start=start)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "passed to HiGHS verbatim"
            res = milp(cost, constraints=[LinearConstraint(a, row_lb, row_ub)],
                       integrality=integrality, bounds=Bounds(lb, ub), options=opts)
        code, fun, message = int(res.status), res.fun, str(res.message)
        x = None if res.x is None else np.asarray(res.x, float)
        db = res.get("mip_dual_bound")
    bound = float(db) if db is not None and math.isfinite(float(db)) else -math.inf
    # "infeasible" bounds nothing without a cutoff, and the cutoff itself with one
    nothing_below = math.inf if cutoff is None or not math.isfinite(cutoff) else float(cutoff)
    if (code == 0 and x is not None
            and float(fun) > nothing_below + 1e-9 * max(1.0, abs(nothing_below))):
        # HiGHS may report a plan above the cutoff as "optimal": nothing below it exists
        return MilpOutcome("infeasible", math.nan, nothing_below, None,
                           "nothing below the cutoff")
    if code == 0 and x is not None:
        return MilpOutcome("optimal", float(fun),
                           bound if math.isfinite(bound) else float(fun), x,
                           "proven optimal")
    if code == 2:
        return MilpOutcome("infeasible", math.nan, nothing_below, None, message)
    if x is not None:
        return MilpOutcome("feasible", float(fun), bound, x, message)
    return MilpOutcome("time_limit_no_solution", math.nan, bound, None, message)


def newest_engine() -> Engine:
    """``"highspy"`` when that package is installed (a dependency: a newer HiGHS than
    scipy's), else ``"scipy"``."""
    try:
        import highspy  # noqa: F401
    except ImportError:  # pragma: no cover - highspy is a dependency
        return "scipy"
    return "highspy"


_HIGHS_FIRST = threading.Lock()
_highs_made = False


def _new_highs() -> Any:
    """A ``highspy.Highs``. The first one in a process prints HiGHS's banner to file
    descriptor 1 before any option can silence it; it is sent to stderr instead, so that a
    library caller's stdout stays clean (fd 1 points at stderr for that instant only)."""
    global _highs_made
    import highspy

    with _HIGHS_FIRST:
        if _highs_made:
            return highspy.Highs()
        _highs_made = True
        try:
            with fd1_to_stderr():
                return highspy.Highs()
        except OSError:  # no usable stdout: nothing to keep clean
            return highspy.Highs()


def _run_highspy(cost: np.ndarray, a: csr_matrix, row_lb: np.ndarray, row_ub: np.ndarray,
                 lb: np.ndarray, ub: np.ndarray, integrality: np.ndarray,
                 opts: dict[str, object], start: np.ndarray | None = None
                 ) -> tuple[int, float, np.ndarray | None, float | None, str]:
    """Solve with the ``highspy`` package; returns scipy ``milp``'s vocabulary:
    ``(status 0 optimal / 1 limit / 2 infeasible / 4 other, objective, x or None,
    dual bound or None, message)``. ``opts`` as for scipy (``disp`` = solver log);
    ``start``: a feasible solution to start from (HiGHS checks it)."""
    import highspy

    h = _new_highs()
    h.setOptionValue("output_flag", bool(opts.get("disp", False)))
    csc = csc_matrix(a)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_, lp.col_upper_ = np.asarray(lb, float), np.asarray(ub, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lb, float), np.asarray(row_ub, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr
    lp.a_matrix_.index_ = csc.indices
    lp.a_matrix_.value_ = csc.data
    lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
                       for v in np.asarray(integrality)]
    h.passModel(lp)
    for key, value in opts.items():
        if key != "disp":
            h.setOptionValue(key, value)  # type: ignore[arg-type]
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, float).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    st = highspy.HighsModelStatus
    # (an exhausted search below the cutoff is "infeasible"; kObjectiveBound says the same)
    code = (0 if ms == st.kOptimal else 2 if ms in (st.kInfeasible, st.kObjectiveBound)
            else 1 if ms in (st.kTimeLimit, st.kInterrupt, st.kSolutionLimit,
                             st.kIterationLimit) else 4)
    has_x = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, float) if has_x else None
    return (code, float(info.objective_function_value), x, float(info.mip_dual_bound),
            h.modelStatusToString(ms))


def merge_branches(*parts: MilpOutcome) -> MilpOutcome:
    """One outcome from the outcomes of a partition of the search space (minimisation).

    The best solution wins (the first on ties); the bound is the smallest branch bound (an
    ``"infeasible"`` branch bounds by its cutoff, see :func:`solve_milp`); the result is
    ``"optimal"`` only when every branch is optimal or infeasible.
    """
    with_x = [p for p in parts if p.x is not None and math.isfinite(p.objective)]
    bound = min(p.bound for p in parts)
    if not with_x:
        if all(p.status == "infeasible" for p in parts):
            return MilpOutcome("infeasible", math.nan, bound, None,
                               "every branch is infeasible")
        return MilpOutcome("time_limit_no_solution", math.nan, bound, None,
                           "; ".join(p.message for p in parts))
    best = min(with_x, key=lambda p: p.objective)
    done = all(p.status in ("optimal", "infeasible") for p in parts)
    status: Literal["optimal", "feasible"] = "optimal" if done else "feasible"
    bound = min(bound, best.objective)
    finished = sum(p.status in ("optimal", "infeasible") for p in parts)
    message = (f"proven optimal ({len(parts)} branches)" if done else
               f"{finished} of {len(parts)} branches finished; "
               + "; ".join(p.message for p in parts if p.status not in ("optimal", "infeasible")))
    return MilpOutcome(status, best.objective, best.objective if done else bound, best.x,
                       message)
