"""The whole tree as one MILP (``decompose=False``), solved lexicographically in three solves.

The decomposed path optimises, in this order: (1) stage A's unit-total costs (leaving
a pool's fair interval, flex use), (2) the sum over units of each unit's largest
deviation, (3) total deviation plus the year-on-year change penalty. The monolithic
model optimises *the same three levels* in one model where unit totals stay variables
throughout; each level's optimum is held (a bound on its objective) while the next is
minimised. The two paths therefore agree whenever level (1) has a unique optimum in
the pool totals, and the monolithic model can only do better by choosing among tied
totals: it is a check on the decomposition and the benchmark of "one model".

Why not "minimise the sum of unit maxima over free unit totals" (the earlier
monolithic objective)? With water-filling fairness every unit can be exactly fair
*before rounding*, so that objective is pure rounding noise (under one unit of quota
per rep) and choosing totals to shrink it is a simultaneous Diophantine approximation:
the LP bound is 0, and no MILP closed the gap (HiGHS, CBC and SCIP stopped at 61-86%
at 100 reps). Holding level (1) pins the totals, the fairness line is linearised at
them (exact in stretch mode), and level (2) only has the rounding left to prove.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.decompose import Stats, checked, worst
from quotaopt.allocation.formulation import (
    Block,
    define_rep_part,
    make_block,
    stage_one_cost,
    unit_max,
)
from quotaopt.allocation.inputs import Prepared
from quotaopt.allocation.problem import Builder, Problem, SolveOptions
from quotaopt.allocation.targets import (
    STAGE_A_SCALE,
    Pools,
    Shares,
    define_tree_constraints,
    define_unit_total_costs,
)

#: Names of the columns that carry level-one (unit-total) costs.
LEVEL_ONE = ("v_up", "v_dn", "flex_up", "flex_dn")
# A held level may worsen by this much (absolute, in its own scaled cost; and relative).
_HOLD_ABS, _HOLD_REL = 1e-6, 1e-9


def build_monolithic(prep: Prepared, pool: Pools, share: Shares,
                     around: np.ndarray | None = None) -> tuple[Problem, dict[str, np.ndarray], Block, np.ndarray]:
    """One model over the whole tree: unit totals and every rep's quota together.

    Parameters
    ----------
    around : ndarray, optional
        Free total per unit with reps at which the fairness line is linearised;
        defaults to each pool's top-down share (clipped to what its reps can carry).

    Returns
    -------
    Problem
        Costs of levels one and three; see :func:`level_costs`.
    dict
        Column indices (``q``, ``d``, ``D``, ``K``, ``L`` per unit with reps, ``T`` per unit).
    Block
        The reps, in the order of ``q``.
    ndarray of bool
        True on level-one (unit-total) columns.
    """
    b = Builder()
    T, K, L, _ = define_tree_constraints(b, prep, pool, share, capacity_rows=False)
    define_unit_total_costs(b, prep, pool, share, T, K, L, scale=STAGE_A_SCALE)
    units = np.flatnonzero(pool.n_reps > 0)
    if around is None:
        free_lo = pool.lo_ka + pool.lo_lt - pool.locked
        free_hi = pool.hi_ka + pool.hi_lt - pool.locked
        pool_target = np.where(share.has_children, share.pool, share.unit)
        around = np.clip(pool_target - pool.locked, free_lo, free_hi)[units]
    blk = make_block(prep, pool, units, around=np.asarray(around, dtype=float))
    cols = define_rep_part(b, blk, K[units], L[units])
    cols["T"] = T
    problem = b.build()
    level_one = np.zeros(problem.n_vars, dtype=bool)
    for name in LEVEL_ONE:
        level_one[problem.names[name]] = True
    return problem, cols, blk, level_one


def _hold(problem: Problem, cost: np.ndarray, value: float) -> Problem:
    """``problem`` with ``cost @ x <= value`` (plus a small tolerance) as an extra row."""
    slack = _HOLD_ABS + _HOLD_REL * abs(value)
    nz = np.flatnonzero(cost)
    row = sp.csr_matrix((cost[nz], (np.zeros(nz.size, dtype=np.int64), nz)), shape=(1, problem.n_vars))
    return problem.with_rows(row, np.array([-np.inf]), np.array([value + slack]))


def solve_monolithic(prep: Prepared, pool: Pools, share: Shares, backend: str,
                     options: SolveOptions) -> tuple[np.ndarray, np.ndarray, Stats]:
    """Levels one, two and three on the one model (see module docstring).

    Returns
    -------
    q_raw : ndarray
        Quotas per rep (caller's order) as the solver returned them.
    t_raw : ndarray
        Unit totals as the solver returned them.
    Stats
        Objective, bound and gap of level two (the sum of unit maxima, in points).

    Raises
    ------
    StageInfeasible, SolverError
        As :func:`~quotaopt.allocation.decompose.checked`.
    """
    solve = get_backend(backend)
    start = time.perf_counter()
    problem, cols, blk, level_one = build_monolithic(prep, pool, share)
    built = time.perf_counter() - start
    c1 = np.where(level_one, problem.c, 0.0)
    # Level one: the unit totals' costs, to a proven optimum like stage A.
    first = checked(solve(problem.with_objective(c1), replace(options, mip_gap=0.0)), "the whole company", backend)
    assert first.x is not None
    units = np.flatnonzero(pool.n_reps > 0)
    R = np.rint(first.x[cols["K"]]) + np.rint(first.x[cols["L"]])
    # Rebuild with the fairness line linearised at level one's totals (exact there).
    start = time.perf_counter()
    problem, cols, blk, level_one = build_monolithic(prep, pool, share, around=R - pool.locked[units])
    built += time.perf_counter() - start
    c1 = np.where(level_one, problem.c, 0.0)
    held = _hold(problem, c1, c1 @ first.x)
    second = checked(solve(held.with_objective(stage_one_cost(held, cols["D"])), options), "the whole company",
                     backend)
    assert second.x is not None
    # Level three holds both earlier levels at the values level two's solution actually has:
    # solvers meet rows only to their tolerance (SCIP's is relative: level two exceeded the
    # level-one hold by 0.035 on 10,591), and a hold below that made level three infeasible.
    D = cols["D"]
    top = np.maximum(unit_max(blk, cols, second.x), second.x[D])
    hi = problem.col_hi.copy()
    hi[D] = np.minimum(hi[D], top + 1e-7 + 1e-6 * top)
    held = _hold(problem, c1, max(c1 @ first.x, c1 @ second.x))
    c3 = np.where(level_one, 0.0, held.c)
    third = solve(held.with_objective(c3).with_col_bounds(held.col_lo, hi), options)
    x = third.x if third.usable and third.x is not None else second.x
    status = worst(worst(first.status, second.status), third.status if third.usable else "feasible")
    stats = Stats(status, second.objective / blk.scale, second.bound / blk.scale,
                  first.time_s + second.time_s + third.time_s, built, problem.n_vars, problem.n_rows + 1, 3,
                  [first.message, second.message, third.message])
    q_raw = np.zeros(prep.n_reps)
    q_raw[blk.reps] = x[cols["q"]]
    return q_raw, x[cols["T"]], stats
