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
from typing import Any, cast

import numpy as np

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.bounds import define_max_quota_bounds, define_ramp_bounds
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
#: Relaxed stretch levels (above or below the limit) where a pool's stretch slack gets dearer:
#: every 0.04 up to 0.48, then in steps growing by half; beyond the last, one open segment.
SPREAD_LEVELS = (*(round(0.04 * k, 2) for k in range(1, 13)), *(0.48 * 1.5 ** j for j in range(1, 9)), np.inf)
#: Price step per segment: 72 steps stay below the gap between two families' weights (0.01).
SPREAD_STEP = 1e-4
#: A rep without a hard upper limit (scaled units).
UNBOUNDED = np.int64(1) << 40
_EPS = 1e-9


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
    # Hard caps: the ramp, and a caller's per-rep ceiling (a re-plan's no-ratchet rule).
    cap = np.minimum(define_ramp_bounds(prep.ramp, prep.ramp_ref, prep.fte, cfg.stretch[1]),
                     define_max_quota_bounds(prep.max_quota, prep.n_reps))
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
        return cast("np.ndarray", self.K + self.L)


@dataclass
class Slack:
    """The slack columns of an elastic model: per column its family, side and unit."""

    col: np.ndarray
    family: np.ndarray  # object: flex, ka_share, max_change, stretch, hard
    side: np.ndarray  # object: what gives, e.g. stretch_max, flex_below, ka_share_min, company_total
    unit: np.ndarray
    extra: np.ndarray  # price above the family's weight (stretch segments), per column
    row: np.ndarray  # the soft row each column relaxes


def elastic_problem(prep: Prepared, pool: Pools, share: Shares, lay: Layers, *,
                    hard_slack: float | None = None, spread: tuple[str, ...] = (),
                    near: np.ndarray | None = None) -> tuple[Problem, np.ndarray, Slack]:
    """Stage A with priced slack on every soft row (see module docstring).

    Returns the problem (costs: stage A's own, times STAGE_A_SCALE), the slack costs
    (phase one's objective, per column) and the slack columns. ``hard_slack`` (a weight)
    also relaxes the hard rows (company total, fixed targets, what reps can carry at
    their hard limits): the diagnosis of a plan that cannot exist uses it to say which
    hard limit is in the way. ``spread`` names the stretch sides (``stretch_max``,
    ``stretch_min``) whose slack is cut into segments of rising price per pool
    (:data:`SPREAD_LEVELS`), so that the least money is given evenly; with ``near`` (a
    target value per row, e.g. the spread LP's) those sides instead get two segments
    per row: up to floor(near) at the family's price, then up to two units more a
    step dearer (the least money as close to ``near`` as whole units allow).
    """
    b = Builder()
    T, K, L, soft = define_tree_constraints(b, prep, pool, share)
    parts: list[tuple[np.ndarray, str, str, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(sel: np.ndarray, sign: float, family: str, side: str, hi: np.ndarray | float = np.inf,
            open_p50: np.ndarray | None = None) -> None:
        rows, units = soft.row[sel], soft.unit[sel]
        room = np.broadcast_to(np.asarray(hi, dtype=float), rows.shape).copy()
        keep = room > 0
        if not keep.any():
            return
        rows, units, room = rows[keep], units[keep], room[keep]
        if open_p50 is None or side not in spread:
            cols = b.add_vars(f"slack_{side}_{len(parts)}", rows.size, 0.0, room)
            b.add_terms(rows, cols, sign)
            parts.append((cols, family, side, units, np.zeros(rows.size), rows))
            return
        if near is not None:
            base = np.minimum(room, np.floor(near[rows] + 1e-9))
            for cap, extra in ((base, 0.0), (np.minimum(room - base, 2.0), SPREAD_STEP)):
                live = cap > 0
                if live.any():
                    cols = b.add_vars(f"slack_{side}_{len(parts)}", int(live.sum()), 0.0, cap[live])
                    b.add_terms(rows[live], cols, sign)
                    parts.append((cols, family, side, units[live], np.full(int(live.sum()), extra), rows[live]))
            return
        # Segments of relaxed stretch, each dearer by SPREAD_STEP: the cheapest way to give
        # a stretch is to give it evenly (every pool one level up before any goes two).
        width = open_p50[units]
        low = 0.0
        for k, level in enumerate(SPREAD_LEVELS):
            cap = np.minimum(room, width * (level - low)) if np.isfinite(level) else room
            live = cap > 0
            if not live.any():
                break
            cols = b.add_vars(f"slack_{side}_{len(parts)}", int(live.sum()), 0.0, cap[live])
            b.add_terms(rows[live], cols, sign)
            parts.append((cols, family, side, units[live], np.full(int(live.sum()), SPREAD_STEP * k), rows[live]))
            if not np.isfinite(level):
                break
            room = room - cap
            low = level

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
    for cols, family, _, _, extra, _ in parts:
        c1[cols] = weights[family] + extra
    empty = np.zeros(0, dtype=np.int64)
    slack = Slack(np.concatenate([p[0] for p in parts]) if parts else empty,
                  np.concatenate([np.full(p[0].size, p[1], dtype=object) for p in parts]) if parts else empty,
                  np.concatenate([np.full(p[0].size, p[2], dtype=object) for p in parts]) if parts else empty,
                  np.concatenate([p[3] for p in parts]) if parts else empty,
                  np.concatenate([p[4] for p in parts]) if parts else np.zeros(0),
                  np.concatenate([p[5] for p in parts]) if parts else empty)
    return problem, c1, slack


def solve_elastic(prep: Prepared, pool: Pools, share: Shares, lay: Layers, backend: str,
                  options: SolveOptions) -> ElasticTotals:
    """The least relaxation, spread evenly, then stage A's own costs within it.

    1. minimise the weighted money of all slack (a MILP as small as stage A);
    2. where stretch must give, spread it: the same model with each pool's stretch slack
       in segments of rising price is solved as an LP (the evenly spread money, with
       fractional totals); then step 1 again with each pool's stretch slack at its
       family's price up to floor(LP value) and a step dearer for up to two units more
       (whole units as near the even spread as they go); its money must equal step 1's
       (else step 1's solution is kept). The segmented model as a MILP took 17 s at
       10,000 reps, the LP 2 s and the second MILP about 1 s;
    3. with every slack fixed at that solution (the soft bands widened by exactly it),
       minimise stage A's costs (fair intervals, flex use): no coupling row, so this is
       as quick as stage A itself.

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
    least, solutions = first.x, [first]
    sides = tuple(side for side in given(least, slack) if side.startswith("stretch"))
    if sides:
        even, runs = _spread(prep, pool, share, lay, problem, sides, float(c1 @ least), solve, exact)
        solutions += runs
        if even is not None:
            problem, slack, least = even
    lo, hi = problem.col_lo.copy(), problem.col_hi.copy()
    lo[slack.col] = hi[slack.col] = least[slack.col]
    second = solve(problem.with_col_bounds(lo, hi), exact)
    solutions.append(second)
    x = second.x if second.usable and second.x is not None else least
    status: Status = "optimal" if all(s.status == "optimal" for s in solutions) else "feasible"
    stats = Stats(status, 0.0, 0.0, sum(s.time_s for s in solutions), 0.0, problem.n_vars, problem.n_rows,
                  len(solutions), [s.message for s in solutions])
    T, K, L = (np.rint(x[problem.names[k]]).astype(np.int64) for k in ("T", "K", "L"))
    return ElasticTotals(T, K, L, given(x, slack), stats)


def _spread(prep: Prepared, pool: Pools, share: Shares, lay: Layers, problem: Problem, sides: tuple[str, ...],
            money: float, solve: Any, exact: SolveOptions
            ) -> tuple[tuple[Problem, Slack, np.ndarray] | None, list[Any]]:
    """Step 2 of :func:`solve_elastic`: the least money again, its stretch spread evenly.

    Returns the model, its slack columns and its solution (None: keep step 1's), and the
    solutions of the solves made.
    """
    segmented, c_seg, seg = elastic_problem(prep, pool, share, lay, spread=sides)
    lp = replace(segmented, integer=np.zeros(segmented.n_vars, dtype=bool))
    relaxed = solve(lp.with_objective(c_seg), exact)
    if not relaxed.usable or relaxed.x is None:
        return None, [relaxed]
    per_row = np.bincount(seg.row, weights=relaxed.x[seg.col], minlength=problem.n_rows)
    close, c_close, kept = elastic_problem(prep, pool, share, lay, spread=sides, near=per_row)
    capped = solve(close.with_objective(c_close), exact)
    if not capped.usable or capped.x is None:
        return None, [relaxed, capped]
    # The same money as step 1 (the margins' step price aside), or step 1 stands.
    plain = np.zeros(close.n_vars)
    plain[kept.col] = c_close[kept.col] - kept.extra
    if float(plain @ capped.x) > money + 1e-6 + 1e-9 * abs(money):
        return None, [relaxed, capped]
    return (close, kept, capped.x), [relaxed, capped]


def given(x: np.ndarray, slack: Slack) -> dict[str, float]:
    """Money (scaled units) each side gave, from a solution; solver noise below 1e-4 units dropped."""
    values = x[slack.col] if slack.col.size else np.zeros(0)
    out: dict[str, float] = {}
    for side in dict.fromkeys(slack.side.tolist()):
        total = float(values[slack.side == side].sum())
        if total > 1e-4:
            out[str(side)] = total
    return out
