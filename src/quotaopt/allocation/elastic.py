"""Soft limits that give way: the elastic unit-totals model.

When the unit totals cannot all hold (stage A is infeasible), ``stretch``, ``flex``,
``ka_share`` and ``max_change`` are *soft*: each soft row of stage A gets slack, priced
per scaled unit of money with a weight that grows in the documented order in which the
families give way (:data:`GIVE_WAY`). Two solves, lexicographic like the rest of the
allocation:

1. minimise the weighted money of all slack (the least relaxation that lets a plan exist);
2. hold that value and minimise stage A's own costs (fair intervals, flex use), so the
   totals are chosen as today's plan would choose them wherever the slack leaves a choice.

Hard, always: the company total, fixed unit targets, locked quotas, the ramp cap of new
hires, quotas >= 0 and whole multiples of ``unit``. The slack of a pool's capacity row
comes in two layers per side, each bounded by what the layer can give: first
``max_change`` (reps held by their last quota may move up to their stretch edge), then
``stretch`` (up to the hard limit of each rep: its lock, its ramp cap, or nothing above /
zero below). Infeasible here means no plan exists at the hard limits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.bounds import define_ramp_bounds
from quotaopt.allocation.decompose import Stats, checked
from quotaopt.allocation.inputs import Prepared
from quotaopt.allocation.problem import Builder, Problem, SolveOptions, Status
from quotaopt.allocation.targets import (
    CAP_KA,
    CAP_LT,
    COMPANY,
    FLEX,
    KA_HI,
    KA_LO,
    POOL_FLEX,
    STAGE_A_SCALE,
    TARGET,
    Pools,
    Shares,
    define_tree_constraints,
    define_unit_total_costs,
)

#: The soft families, in the order they give way (first = gives first).
GIVE_WAY = ("flex", "ka_share", "max_change", "stretch")
#: Price per scaled unit of money relaxed: money first, the order above only breaks ties.
WEIGHT = {"flex": 1.0, "ka_share": 1.01, "max_change": 1.02, "stretch": 1.03}
#: A rep without a hard upper limit (scaled units).
UNBOUNDED = np.int64(1) << 40
_EPS = 1e-9
# Phase two may not let the relaxation grow by more than this (absolute, relative).
_HOLD_ABS, _HOLD_REL = 1e-6, 1e-9


@dataclass
class Layers:
    """Per-rep integer bounds at each layer of give (scaled units).

    ``hi0``/``lo0``: the bounds at the scenario's limits; ``hi_mc``/``lo_mc``: with
    max_change given up (the stretch edges); ``hi_hard``/``lo_hard``: with stretch given
    up too (lock, ramp cap or :data:`UNBOUNDED` above; lock or 0 below).
    """

    hi0: np.ndarray
    hi_mc: np.ndarray
    hi_hard: np.ndarray
    lo0: np.ndarray
    lo_mc: np.ndarray
    lo_hard: np.ndarray


def layers(prep: Prepared) -> Layers:
    """The three layers of every rep's bounds (``prep`` must have no conflicting reps)."""
    b, cfg, p = prep.bounds, prep.config, prep.p50
    locked = prep.is_locked
    lock = np.rint(np.nan_to_num(prep.locked)).astype(np.int64)
    cap = define_ramp_bounds(prep.ramp, prep.ramp_ref, prep.fte, cfg.stretch[1])
    with np.errstate(invalid="ignore"):
        cap_int = np.where(np.isfinite(cap), np.floor(cap + _EPS * np.maximum(1.0, np.abs(cap))), UNBOUNDED)
    hi_hard = np.where(locked, lock, cap_int.astype(np.int64))
    s_hi = np.floor(cfg.stretch[1] * p + _EPS * np.maximum(1.0, cfg.stretch[1] * p)).astype(np.int64)
    s_lo = np.ceil(cfg.stretch[0] * p - _EPS * np.maximum(1.0, cfg.stretch[0] * p)).astype(np.int64)
    hi0, lo0 = b.hi_int.astype(np.int64), b.lo_int.astype(np.int64)
    hi_mc = np.where(locked, lock, np.minimum(hi_hard, np.maximum(hi0, s_hi)))
    lo_hard = np.where(locked, lock, 0)
    lo_mc = np.where(locked, lock, np.maximum(lo_hard, np.minimum(lo0, np.minimum(hi_hard, s_lo))))
    return Layers(hi0, hi_mc, hi_hard, lo0, lo_mc, lo_hard)


def _role_sums(prep: Prepared, values: np.ndarray, ka: bool) -> np.ndarray:
    mask = prep.ka if ka else ~prep.ka
    return np.bincount(prep.rep_unit, weights=np.where(mask, values, 0).astype(float), minlength=prep.tree.n)


@dataclass
class ElasticTotals:
    """What the elastic model chose: unit and pool totals, and the money each family gave."""

    T: np.ndarray  # per unit, scaled units
    K: np.ndarray
    L: np.ndarray
    given: dict[str, float]  # side (e.g. stretch_max, flex_below) -> money relaxed (scaled units)
    stats: Stats

    @property
    def R(self) -> np.ndarray:
        """Pool totals K + L."""
        return self.K + self.L


@dataclass
class Slack:
    """The slack columns of an elastic model: per column its family, side and unit."""

    col: np.ndarray
    family: np.ndarray  # object: flex, ka_share, max_change, stretch, hard
    side: np.ndarray  # object: what gives, e.g. stretch_max, flex_below, ka_share_min, company_total
    unit: np.ndarray
    open_p50: np.ndarray  # stretch columns: P50 of the reps that can give (scaled units); else 0


def elastic_problem(prep: Prepared, pool: Pools, share: Shares, lay: Layers, *,
                    hard_slack: float | None = None) -> tuple[Problem, np.ndarray, Slack]:
    """Stage A with priced slack on every soft row (see module docstring).

    Returns the problem (costs: stage A's own, times STAGE_A_SCALE), the slack costs
    (phase one's objective, per column) and the slack columns. ``hard_slack`` (a weight)
    also relaxes the hard rows (company total, fixed targets, what reps can carry at
    their hard limits): the diagnosis of a plan that cannot exist uses it to say which
    hard limit is in the way.
    """
    b = Builder()
    T, K, L, soft = define_tree_constraints(b, prep, pool, share)
    parts: list[tuple[np.ndarray, str, str, np.ndarray, np.ndarray]] = []

    def add(sel: np.ndarray, sign: float, family: str, side: str, hi: np.ndarray | float = np.inf,
            open_p50: np.ndarray | None = None) -> None:
        rows, units = soft.row[sel], soft.unit[sel]
        hi_arr = np.broadcast_to(np.asarray(hi, dtype=float), rows.shape)
        keep = hi_arr > 0
        if not keep.any():
            return
        cols = b.add_vars(f"slack_{side}_{len(parts)}", int(keep.sum()), 0.0, hi_arr[keep])
        b.add_terms(rows[keep], cols, sign)
        spread = np.zeros(int(keep.sum())) if open_p50 is None else open_p50[units[keep]]
        parts.append((cols, family, side, units[keep], spread))

    # A positive sign raises the row's value: the total may sit below its lower bound.
    for fam in (FLEX, POOL_FLEX):
        add(soft.family == fam, 1.0, "flex", "flex_below")
        add(soft.family == fam, -1.0, "flex", "flex_above")
    add(soft.family == KA_LO, 1.0, "ka_share", "ka_share_min")
    add(soft.family == KA_HI, -1.0, "ka_share", "ka_share_max")
    for fam, is_ka in ((CAP_KA, True), (CAP_LT, False)):
        sel = soft.family == fam
        units = soft.unit[sel]
        hi0, hi_mc = _role_sums(prep, lay.hi0, is_ka), _role_sums(prep, lay.hi_mc, is_ka)
        lo0, lo_mc = _role_sums(prep, lay.lo0, is_ka), _role_sums(prep, lay.lo_mc, is_ka)
        role = prep.ka if is_ka else ~prep.ka
        open_top = np.bincount(prep.rep_unit, weights=(role & (lay.hi_hard >= UNBOUNDED)).astype(float),
                               minlength=prep.tree.n) > 0
        hard_hi = np.where(open_top, np.inf, _role_sums(prep, np.minimum(lay.hi_hard, UNBOUNDED - 1), is_ka))
        hard_lo = _role_sums(prep, lay.lo_hard, is_ka)
        open_up = np.bincount(prep.rep_unit, weights=np.where(role & (lay.hi_hard > lay.hi_mc), prep.p50, 0.0),
                              minlength=prep.tree.n)
        open_dn = np.bincount(prep.rep_unit, weights=np.where(role & (lay.lo_mc > lay.lo_hard), prep.p50, 0.0),
                              minlength=prep.tree.n)
        add(sel, -1.0, "max_change", "max_change_up", (hi_mc - hi0)[units])
        add(sel, -1.0, "stretch", "stretch_max", (hard_hi - hi_mc)[units], open_up)
        add(sel, 1.0, "max_change", "max_change_down", (lo0 - lo_mc)[units])
        add(sel, 1.0, "stretch", "stretch_min", (lo_mc - hard_lo)[units], open_dn)
        if hard_slack is not None:
            add(sel, -1.0, "hard", "reps_cannot_carry")
            add(sel, 1.0, "hard", "reps_must_carry")
    if hard_slack is not None:
        for fam, name in ((COMPANY, "company_total"), (TARGET, "fixed_target")):
            add(soft.family == fam, 1.0, "hard", f"{name}_lower")
            add(soft.family == fam, -1.0, "hard", f"{name}_higher")
    define_unit_total_costs(b, prep, pool, share, T, K, L, scale=STAGE_A_SCALE)
    problem = b.build()
    weights = dict(WEIGHT, hard=hard_slack or 0.0)
    c1 = np.zeros(problem.n_vars)
    for cols, family, _, _, _ in parts:
        c1[cols] = weights[family]
    empty = np.zeros(0, dtype=np.int64)
    slack = Slack(np.concatenate([p[0] for p in parts]) if parts else empty,
                  np.concatenate([np.full(p[0].size, p[1], dtype=object) for p in parts]) if parts else empty,
                  np.concatenate([np.full(p[0].size, p[2], dtype=object) for p in parts]) if parts else empty,
                  np.concatenate([p[3] for p in parts]) if parts else empty,
                  np.concatenate([p[4] for p in parts]) if parts else np.zeros(0))
    return problem, c1, slack


def _hold(problem: Problem, cost: np.ndarray, value: float) -> Problem:
    nz = np.flatnonzero(cost)
    row = sp.csr_matrix((cost[nz], (np.zeros(nz.size, dtype=np.int64), nz)), shape=(1, problem.n_vars))
    return problem.with_rows(row, np.array([-np.inf]), np.array([value + _HOLD_ABS + _HOLD_REL * abs(value)]))


def _spread_rows(problem: Problem, slack: Slack) -> tuple[Problem, np.ndarray]:
    """Add t_up, t_dn >= 0 with ``stretch slack <= t x open P50`` per pool and role.

    Minimising t spreads the stretch a plan must give evenly over every pool that can
    give it (one relaxed stretch for the company, as far as flex bands and hard limits
    allow), instead of wherever a vertex of the LP happens to put it.
    """
    m = problem.n_rows
    n = problem.n_vars
    t_cols = np.array([n, n + 1])
    rows, cols, vals = [], [], []
    k = 0
    for side, t in (("stretch_max", t_cols[0]), ("stretch_min", t_cols[1])):
        sel = np.flatnonzero((slack.side == side) & (slack.open_p50 > 0))
        for j in sel:
            rows += [k, k]
            cols += [int(slack.col[j]), int(t)]
            vals += [1.0, -float(slack.open_p50[j])]
            k += 1
    wide = replace(problem, A=sp.hstack([problem.A, sp.csr_matrix((m, 2))]).tocsr(),
                   c=np.concatenate([problem.c, np.zeros(2)]), col_lo=np.concatenate([problem.col_lo, np.zeros(2)]),
                   col_hi=np.concatenate([problem.col_hi, np.full(2, np.inf)]),
                   integer=np.concatenate([problem.integer, np.zeros(2, dtype=bool)]))
    if k:
        block = sp.csr_matrix((vals, (rows, cols)), shape=(k, n + 2))
        wide = wide.with_rows(block, np.full(k, -np.inf), np.zeros(k))
    return wide, t_cols


def solve_elastic(prep: Prepared, pool: Pools, share: Shares, lay: Layers, backend: str,
                  options: SolveOptions) -> ElasticTotals:
    """The least relaxation, spread evenly, then stage A's own costs (three lexicographic solves).

    1. minimise the weighted money of all slack;
    2. with it held, minimise the relaxed stretch (above and below) of the pools that give;
    3. with both held, minimise stage A's costs (fair intervals, flex use).

    Raises
    ------
    StageInfeasible
        No plan exists at the hard limits.
    SolverError
        The backend stopped without a usable solution.
    """
    solve = get_backend(backend)
    exact = replace(options, mip_gap=0.0)
    problem, c1, slack = elastic_problem(prep, pool, share, lay)
    first = checked(solve(problem.with_objective(c1), exact), "the unit totals with soft limits", backend)
    assert first.x is not None
    held = _hold(problem, c1, float(c1 @ first.x))
    x, solutions = first.x, [first]
    if "stretch" in slack.family:
        wide, t = _spread_rows(held, slack)
        c2 = np.zeros(wide.n_vars)
        c2[t] = 1.0
        second = solve(wide.with_objective(c2), exact)
        solutions.append(second)
        if second.usable and second.x is not None:
            hi = wide.col_hi.copy()
            hi[t] = second.x[t] * (1 + _HOLD_REL) + _HOLD_ABS
            third = solve(wide.with_col_bounds(wide.col_lo, hi), exact)
            solutions.append(third)
            x = (third.x if third.usable and third.x is not None else second.x)[:problem.n_vars]
    else:
        third = solve(held, exact)
        solutions.append(third)
        if third.usable and third.x is not None:
            x = third.x
    status: Status = "optimal" if all(s.status == "optimal" for s in solutions) else "feasible"
    stats = Stats(status, 0.0, 0.0, sum(s.time_s for s in solutions), 0.0, problem.n_vars, problem.n_rows + 1,
                  len(solutions), [s.message for s in solutions])
    T, K, L = (np.rint(x[problem.names[k]]).astype(np.int64) for k in ("T", "K", "L"))
    return ElasticTotals(T, K, L, given(x, slack), stats)


def given(x: np.ndarray, slack: Slack) -> dict[str, float]:
    """Money (scaled units) each side gave, from a solution; solver noise below 1e-4 units dropped."""
    values = x[slack.col] if slack.col.size else np.zeros(0)
    out: dict[str, float] = {}
    for side in dict.fromkeys(slack.side.tolist()):
        total = float(values[slack.side == side].sum())
        if total > 1e-4:
            out[str(side)] = total
    return out
