"""Multi-season modular capacitated location of pre-cooling / cold-storage sites.

Sites are opened once (first stage). Each season ``t`` (and scenario ``s``) every open site
holds an integer number of container modules; changing the count between consecutive
seasons costs ``add_cost`` / ``remove_cost`` per module. Villages send produce only to sites
they reach within the pre-cooling deadline (``allowed`` mask). Produce that is not served is
lost at its value.

Units: supply in kg/day, module capacity in kg per turn (one size, or one per site), turns
per day, money in yuan: ``transport_cost`` and ``unserved_value`` in yuan/kg, ``module_cost``
in yuan per module per season, ``open_cost`` in yuan for the horizon (amortised). Daily flow
costs are multiplied by ``season_days`` (default 1, i.e. a "typical day" per season).

Model (f = served fraction, so single sourcing is just ``f`` binary)::

    min  sum_j F_j z_j + sum_s pi_s sum_t [ sum_j (M_tj n_tsj + A a+_tsj + R a-_tsj)
         + days_t sum_i q_tsi ( sum_j c_ij f_tsij + v_i (1 - sum_j f_tsij) ) ]
    s.t. sum_j f_tsij <= 1                                  (serve at most all produce)
         sum_i q_tsi f_tsij <= K_j turns_t n_tsj            (module capacity, K = module_kg)
         f_tsij <= z_j ; n_tsj <= N_j z_j                   (only at open sites)
         n_tsj - n_t-1,sj = a+_tsj - a-_tsj, n_-1 = initial  (module changes)
         f_tsij = 0 where travel time > pre-cooling deadline

Seasonal flexibility (each part optional, off by default):

* ``active_cost_yuan`` (T, J): an open site is active in a season (``u_tj = 1``, paying
  that) or idle (no module, paying ``standby_cost_yuan``): ``n_tsj <= N_j u_tj``,
  ``u_tj <= z_j``.
* ``lease_cost_yuan`` (T, J): modules in use are owned (``o``, paying ``module_cost_yuan``,
  e.g. power) or leased for the season (``l``, paying the lease): ``n = o + l`` and, in
  every season and scenario, ``sum_j o_tsj <= E + B`` where ``E`` is the owned modules
  today (``initial_modules``) and ``B`` the modules bought (integer, ``buy_cost_yuan``
  each, annualised by the caller). Moves (``a+``, ``a-``) then count owned modules only.
* ``cyclic=True``: module changes close the year (season 0 follows the last season)
  instead of starting from ``initial_modules``.
* ``budget_yuan``: ``sum_j F_j z_j + buy B + facility running cost <= budget_yuan +
  budget_base_yuan``, where the running cost is every module, lease, active, standby and
  move term (scenario-weighted) and ``budget_base_yuan`` what today's sites cost to run.
"""

from __future__ import annotations

import math
import time

import numpy as np

from optimizer.errors import InstanceError
from optimizer.location._mip import Backend, MipBuilder
from optimizer.location._result import LocationResult, as_matrix, rel_gap

__all__ = ["modular_location"]


def modular_location(
    supply_kg_day: np.ndarray,
    allowed: np.ndarray,
    transport_yuan_per_kg: np.ndarray,
    unserved_yuan_per_kg: np.ndarray | float,
    open_cost_yuan: np.ndarray,
    module_cost_yuan: np.ndarray | float,
    module_kg: float | np.ndarray,
    turns_per_day: np.ndarray | float,
    *,
    season_days: np.ndarray | None = None,
    add_cost_yuan: float | np.ndarray = 0.0,
    remove_cost_yuan: float | np.ndarray = 0.0,
    initial_modules: np.ndarray | None = None,
    existing: np.ndarray | None = None,
    max_modules: np.ndarray | int = 10,
    scenario_prob: np.ndarray | None = None,
    single_source: bool = False,
    active_cost_yuan: np.ndarray | float | None = None,
    standby_cost_yuan: np.ndarray | float = 0.0,
    depot_cost_yuan: np.ndarray | float = 0.0,
    lease_cost_yuan: np.ndarray | float | None = None,
    buy_cost_yuan: float = 0.0,
    max_buy: int = 10_000,
    cyclic: bool = False,
    budget_yuan: float | None = None,
    budget_base_yuan: float = 0.0,
    intake_yuan_per_kg: np.ndarray | None = None,
    time_limit_s: float,
    backend: Backend = "scip",
    mip_rel_gap: float | None = None,
) -> LocationResult:
    """Open sites and size modules per season (and scenario) at minimum expected cost.

    Args:
        supply_kg_day: (T, I) or (T, S, I) produce to pre-cool per day, season first.
        allowed: (I, J) bool, travel time village -> site within the pre-cooling deadline.
        transport_yuan_per_kg: (I, J) haul cost (yuan/kg), spoilage surrogate included.
        unserved_yuan_per_kg: (I,) or scalar value lost per kg not pre-cooled.
        open_cost_yuan: (J,) cost of opening a site (ignored for ``existing`` sites).
        module_cost_yuan: scalar, (T,) or (T, J) cost per module held in a season.
        module_kg: capacity of one module per turn (kg): a scalar, or (J,) when sites use
            different module sizes.
        turns_per_day: scalar or (T,) turns per day (cool-down cycles).
        season_days: (T,) days represented by each season's daily flows (default 1).
        add_cost_yuan, remove_cost_yuan: per module added / removed between seasons
            (scalar or (J,)); season 0 compares with ``initial_modules``.
        initial_modules: (J,) modules in place before season 0 (default 0).
        existing: (J,) bool, sites already open: forced open, no opening cost.
        max_modules: scalar or (J,) upper bound on modules per site.
        scenario_prob: (S,) scenario probabilities, or (T, S) per season, each row adding
            up to 1 (default uniform).
        single_source: each village sends all its produce to one site (or none).
        active_cost_yuan, standby_cost_yuan: scalar or (T, J), per season (see the module
            docstring); None: no active/idle distinction.
        depot_cost_yuan: scalar or (T, J), a further cost of an active season that is not a
            facility cost (e.g. the vehicles a depot needs): in the objective, not the
            budget row.
        lease_cost_yuan: scalar or (T, J) per leased module per season; None: every module
            costs ``module_cost_yuan`` and there is no owned pool.
        buy_cost_yuan, max_buy: cost and bound of bought modules (with ``lease_cost_yuan``).
        cyclic: module changes close the yearly cycle.
        budget_yuan, budget_base_yuan: the budget row (None: no budget).
        intake_yuan_per_kg: (T, S, J) a further cost per kg a site takes in, by season and
            scenario (e.g. the value lost to the scenario's power outages there).
        time_limit_s: solver wall-clock limit (s), model building and start included.
        backend: MIP solver (``optimizer.location._mip``). With ``"scipy-highs"`` (and no
            ``single_source``) HiGHS starts from an LP-rounding solution (at most 3/4 of the
            time limit): the LP relaxation with modules, active seasons and open sites
            rounded up, flows re-solved.
        mip_rel_gap: relative optimality gap at which the search stops (``"scipy-highs"``;
            HiGHS's gap, on the objective without the constant value of all produce;
            default ``optimizer.location._mip.REL_GAP``, i.e. proven optimal).

    Returns:
        ``LocationResult`` with ``modules`` (T, J) or (T, S, J), ``assignment`` = flows
        (T, [S,] I, J) in kg/day, ``unserved`` (T, [S,] I) kg/day, objective in yuan;
        with the flexible parts also ``leased`` (as ``modules``), ``active`` (T, J) and
        ``bought``; ``facility_cost`` is the budget row's value (opening, modules, leases,
        active, standby, moves, bought modules). A budget that cannot be met gives status
        ``infeasible``.
    """
    t0 = time.perf_counter()
    q = as_matrix(supply_kg_day, "supply_kg_day", ndim=np.ndim(supply_kg_day))
    if q.ndim not in (2, 3):
        raise InstanceError.at(None, "supply_kg_day", "must be (T, I) or (T, S, I)",
                               got=q.shape)
    has_s = q.ndim == 3
    if not has_s:
        q = q[:, None, :]
    t_n, s_n, i_n = q.shape
    ok = np.asarray(allowed, bool)
    if ok.ndim != 2 or ok.shape[0] != i_n:
        raise InstanceError.at(None, "allowed", f"must be ({i_n}, J)", got=ok.shape)
    j_n = ok.shape[1]
    tc = as_matrix(transport_yuan_per_kg, "transport_yuan_per_kg", allow_inf=True)
    if tc.shape != (i_n, j_n):
        raise InstanceError.at(None, "transport_yuan_per_kg", f"must be ({i_n}, {j_n})",
                               got=tc.shape)
    ok = ok & np.isfinite(tc)
    v = _vec(unserved_yuan_per_kg, (i_n,), "unserved_yuan_per_kg")
    fo = _vec(open_cost_yuan, (j_n,), "open_cost_yuan")
    mc_in = np.asarray(module_cost_yuan, float)
    mc = _vec(mc_in[:, None] if mc_in.ndim == 1 else mc_in, (t_n, j_n), "module_cost_yuan")
    turns = _vec(turns_per_day, (t_n,), "turns_per_day")
    days = _vec(1.0 if season_days is None else season_days, (t_n,), "season_days")
    add_c = _vec(add_cost_yuan, (j_n,), "add_cost_yuan")
    rem_c = _vec(remove_cost_yuan, (j_n,), "remove_cost_yuan")
    init = _vec(0.0 if initial_modules is None else initial_modules, (j_n,), "initial_modules")
    nmax = _vec(max_modules, (j_n,), "max_modules")
    exist = np.zeros(j_n, bool) if existing is None else np.asarray(existing, bool)
    if exist.shape != (j_n,):
        raise InstanceError.at(None, "existing", f"must have shape ({j_n},)", got=exist.shape)
    mkg = _vec(module_kg, (j_n,), "module_kg")
    if not (np.isfinite(mkg).all() and (mkg > 0).all()):
        j = int(np.flatnonzero(~(np.isfinite(mkg) & (mkg > 0)))[0])
        raise InstanceError.at(None, "module_kg" if np.ndim(module_kg) == 0
                               else f"module_kg[{j}]", "must be > 0", got=float(mkg[j]))
    if scenario_prob is None:
        prob = np.full((t_n, s_n), 1.0 / s_n)
    elif np.ndim(scenario_prob) == 2:
        prob = _vec(scenario_prob, (t_n, s_n), "scenario_prob")
    else:
        prob = np.broadcast_to(_vec(scenario_prob, (s_n,), "scenario_prob"), (t_n, s_n))
    if np.abs(prob.sum(axis=1) - 1.0).max() > 1e-9:
        raise InstanceError.at(None, "scenario_prob", "must sum to 1 (in every season)",
                               got=prob.tolist())
    if (init > nmax).any():
        j = int(np.flatnonzero(init > nmax)[0])
        raise InstanceError.at(None, f"initial_modules[{j}]", f"exceeds max_modules "
                               f"{nmax[j]:g}", got=init[j])

    flexible = active_cost_yuan is not None
    pooled = lease_cost_yuan is not None
    act_c = _vec(0.0 if active_cost_yuan is None else active_cost_yuan, (t_n, j_n),
                 "active_cost_yuan")
    stand_c = _vec(standby_cost_yuan, (t_n, j_n), "standby_cost_yuan")
    depot_c = _vec(depot_cost_yuan, (t_n, j_n), "depot_cost_yuan")
    lease_c = _vec(0.0 if lease_cost_yuan is None else lease_cost_yuan, (t_n, j_n),
                   "lease_cost_yuan")
    pool = float(init.sum())

    mb = MipBuilder()
    # standby is paid by an open site in every season it is idle: z pays it for every
    # season and each active season u gives it back
    open_c = np.where(exist, 0.0, fo) + (stand_c.sum(axis=0) if flexible else 0.0)
    z = mb.add_vars(j_n, lb=exist.astype(float), ub=1.0, cost=open_c, integer=True)
    w = prob[:, :, None]  # (T, S, 1)
    budget_cols: list[np.ndarray] = [z]
    budget_vals: list[np.ndarray] = [np.where(exist, 0.0, fo) + (stand_c.sum(axis=0)
                                                                 if flexible else 0.0)]
    u = None
    if flexible:
        u = mb.add_vars((t_n, j_n), ub=1.0, cost=act_c + depot_c - stand_c, integer=True)
        budget_cols.append(u.ravel())
        budget_vals.append((act_c - stand_c).ravel())
    bound_n = np.broadcast_to(nmax, (t_n, s_n, j_n))
    n = mb.add_vars((t_n, s_n, j_n), ub=bound_n, cost=mc[:, None, :] * w, integer=True)
    budget_cols.append(n.ravel())
    budget_vals.append(np.broadcast_to(mc[:, None, :] * w, (t_n, s_n, j_n)).ravel())
    lease = bought = None
    if pooled:
        # n = owned + leased; the leased part pays the lease on top of the module cost
        lease = mb.add_vars((t_n, s_n, j_n), ub=bound_n, cost=(lease_c - mc)[:, None, :] * w,
                            integer=True)
        bought = mb.add_vars(1, ub=float(max_buy), cost=buy_cost_yuan, integer=True)
        budget_cols += [lease.ravel(), bought]
        budget_vals += [np.broadcast_to((lease_c - mc)[:, None, :] * w,
                                        (t_n, s_n, j_n)).ravel(), np.array([buy_cost_yuan])]
    a_plus = mb.add_vars((t_n, s_n, j_n), cost=np.broadcast_to(add_c, (t_n, s_n, j_n)) * w)
    a_minus = mb.add_vars((t_n, s_n, j_n), cost=np.broadcast_to(rem_c, (t_n, s_n, j_n)) * w)
    budget_cols += [a_plus.ravel(), a_minus.ravel()]
    budget_vals += [(np.broadcast_to(add_c, (t_n, s_n, j_n)) * w).ravel(),
                    (np.broadcast_to(rem_c, (t_n, s_n, j_n)) * w).ravel()]
    scale = days[:, None, None] * prob[:, :, None] * q  # (T, S, I) weight of one served kg
    # one flow variable per usable (season, scenario, village, site): allowed and supplied
    tt, ss, ii, jj = np.nonzero(ok[None, None] & (q[..., None] > 0))
    intake = (np.zeros((t_n, s_n, j_n)) if intake_yuan_per_kg is None
              else _vec(intake_yuan_per_kg, (t_n, s_n, j_n), "intake_yuan_per_kg"))
    f = mb.add_vars(tt.size, ub=1.0,
                    cost=scale[tt, ss, ii] * (tc[ii, jj] + intake[tt, ss, jj] - v[ii]),
                    integer=single_source)
    mb.objective_offset = float((scale * v[None, None, :]).sum())

    # sum_j f <= 1 per (t, s, i)
    mb.add_rows((tt * s_n + ss) * i_n + ii, f, 1.0, n_rows=t_n * s_n * i_n, ub=1.0)
    # capacity per (t, s, j)
    cap_row = (tt * s_n + ss) * j_n + jj
    k = t_n * s_n * j_n
    cap_coef = mkg[None, None, :] * turns[:, None, None] * np.ones((t_n, s_n, j_n))
    mb.add_rows(np.concatenate([cap_row, np.arange(k)]), np.concatenate([f, n.ravel()]),
                np.concatenate([q[tt, ss, ii], -cap_coef.ravel()]), n_rows=k, ub=0.0)
    # f <= u (an active site in that season; u <= z), or f <= z: disaggregated, the strong
    # linking of facility location (the LP then opens sites by the share they serve)
    r = np.arange(tt.size)
    gate_f = z[jj] if u is None else u[tt, jj]
    mb.add_rows(np.concatenate([r, r]), np.concatenate([f, gate_f]),
                np.concatenate([np.ones(r.size), -np.ones(r.size)]), n_rows=r.size, ub=0.0)
    # n <= N z, or n <= N u and u <= z
    nz = n.reshape(-1, j_n)
    rr = np.arange(nz.size)
    gate = np.tile(z, nz.shape[0]) if u is None else np.repeat(u, s_n, axis=0).ravel()
    mb.add_rows(np.concatenate([rr, rr]), np.concatenate([nz.ravel(), gate]),
                np.concatenate([np.ones(rr.size), -np.tile(nmax, nz.shape[0])]),
                n_rows=rr.size, ub=0.0)
    if u is not None:
        ru = np.arange(u.size)
        mb.add_rows(np.concatenate([ru, ru]), np.concatenate([u.ravel(), np.tile(z, t_n)]),
                    np.concatenate([np.ones(ru.size), -np.ones(ru.size)]), n_rows=ru.size,
                    ub=0.0)
    # the owned part: o = n - l (l <= n), and the pool per (t, s): sum_j o - B <= E
    moved = n
    if lease is not None and bought is not None:
        rl = np.arange(k)
        mb.add_rows(np.concatenate([rl, rl]), np.concatenate([lease.ravel(), n.ravel()]),
                    np.concatenate([np.ones(k), -np.ones(k)]), n_rows=k, ub=0.0)
        ts = np.repeat(np.arange(t_n * s_n), j_n)
        mb.add_rows(np.concatenate([ts, ts, np.arange(t_n * s_n)]),
                    np.concatenate([n.ravel(), lease.ravel(),
                                    np.repeat(bought, t_n * s_n)]),
                    np.concatenate([np.ones(k), -np.ones(k), -np.ones(t_n * s_n)]),
                    n_rows=t_n * s_n, ub=pool)
    # module changes of the moved modules (all, or the owned ones):
    # x_t - x_{t-1} - a+ + a- = 0 (x_{-1} = initial, or the last season when cyclic)
    rows, cols, vals = [], [], []
    rhs = np.zeros((t_n, s_n, j_n))
    idx = np.arange(k).reshape(t_n, s_n, j_n)
    rows += [idx.ravel()] * 3
    cols += [moved.ravel(), a_plus.ravel(), a_minus.ravel()]
    vals += [np.ones(k), -np.ones(k), np.ones(k)]
    if lease is not None:
        rows.append(idx.ravel())
        cols.append(lease.ravel())
        vals.append(-np.ones(k))
    prev_t = list(range(-1, t_n - 1))
    for t in range(t_n):
        before = prev_t[t]
        if before < 0 and not (cyclic and t_n > 1):
            rhs[t] = init[None, :]
            continue
        before %= t_n
        rows.append(idx[t].ravel())
        cols.append(moved[before].ravel())
        vals.append(-np.ones(s_n * j_n))
        if lease is not None:
            rows.append(idx[t].ravel())
            cols.append(lease[before].ravel())
            vals.append(np.ones(s_n * j_n))
    mb.add_rows(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), n_rows=k,
                lb=rhs.ravel(), ub=rhs.ravel())
    if budget_yuan is not None:
        mb.add_row(np.concatenate(budget_cols), np.concatenate(budget_vals),
                   ub=float(budget_yuan) + float(budget_base_yuan))

    start = None
    if backend == "scipy-highs" and not single_source:
        # LP rounding (modules, active seasons and sites rounded up, the flows re-solved)
        # gives HiGHS a good incumbent at once: large counties then get a plan within a
        # few % of the LP bound even when the time limit stops the search early
        start = mb.round_up_start(free=bought, time_limit_s=0.75 * time_limit_s)
    left = max(0.05, time_limit_s - (time.perf_counter() - t0))
    sol = mb.solve(time_limit_s=left, backend=backend, start=start,
                   options=None if mip_rel_gap is None else {"mip_rel_gap": float(mip_rel_gap)})
    if not sol.has_solution:
        return LocationResult(status="time_limit_no_solution" if sol.status != "infeasible"
                              else "infeasible", objective=math.nan, bound=sol.bound,
                              gap=math.inf, open=(), assignment=None,
                              seconds=time.perf_counter() - t0, message=sol.message)
    flows = np.zeros((t_n, s_n, i_n, j_n))
    flows[tt, ss, ii, jj] = np.clip(sol.values[f], 0.0, 1.0) * q[tt, ss, ii]
    unserved = np.maximum(q - flows.sum(axis=3), 0.0)
    modules = np.rint(sol.values[n]).astype(np.int64)
    leased = None if lease is None else np.rint(sol.values[lease]).astype(np.int64)
    active = None if u is None else np.rint(sol.values[u]).astype(bool)
    n_bought = 0 if bought is None else int(np.rint(sol.values[bought][0]))
    facility_cost = float(np.concatenate(budget_vals)
                          @ np.rint(sol.values[np.concatenate(budget_cols)]))
    opened = tuple(int(j) for j in np.flatnonzero(sol.values[z] > 0.5))
    if not has_s:
        flows, unserved, modules = flows[:, 0], unserved[:, 0], modules[:, 0]
        leased = None if leased is None else leased[:, 0]
    return LocationResult(
        status=sol.status,  # type: ignore[arg-type]
        objective=sol.objective, bound=sol.bound, gap=rel_gap(sol.objective, sol.bound),
        open=opened, assignment=flows, modules=modules, unserved=unserved,
        seconds=time.perf_counter() - t0, message=sol.message, leased=leased, active=active,
        bought=n_bought, facility_cost=facility_cost,
    )


def _vec(x: object, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    try:
        arr = np.broadcast_to(arr, shape).astype(float)
    except ValueError:
        raise InstanceError.at(None, name, f"must be a scalar or have shape {shape}",
                               got=np.asarray(x).shape) from None
    if np.isnan(arr).any() or (arr < 0).any():
        raise InstanceError.at(None, name, "must be >= 0 and not NaN")
    return arr
