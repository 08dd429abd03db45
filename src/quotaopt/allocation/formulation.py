"""The rep-level MILP: one ``define_*`` function per constraint family, built in bulk.

A *block* is a set of units with their direct reps. With unit totals fixed (the
decomposed path) a block is any group of units and blocks are independent; the
monolithic model (:mod:`~quotaopt.allocation.monolithic`) is one block spanning every
unit, tied to the tree rows of :mod:`quotaopt.allocation.targets`.

Columns (scaled units = currency / ``unit``):

- ``q``  integer quota of each rep, bounds from :mod:`~quotaopt.allocation.bounds`
- ``K``, ``L``  ka / longtail totals of each unit's direct reps
- ``d``  deviation of each free rep from its unit's fair level; ``D`` its unit's largest
- ``c_up``, ``c_dn``  year-on-year change of reps with a last quota (a full year's, see bounds)

Deviations are stretch (or probability) points, about 1e-3 for a one-unit rounding;
solvers' absolute tolerances (1e-6 to 1e-7) would be a thousandth of that. So ``d``
and ``D`` are modelled multiplied by ``Block.scale`` (the median P50 of the company,
the same for every block so that chunking cannot change a result): one unit of quota
off a typical rep is then a deviation of about 1. Objectives are divided back.

The builder's costs are the *second* stage (total deviation + small penalties);
:func:`stage_one_cost` gives the first (sum over units of the largest deviation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from quotaopt.allocation.fairness import FairLine, fair_line
from quotaopt.allocation.inputs import Prepared
from quotaopt.allocation.problem import Builder, Problem
from quotaopt.allocation.targets import Pools, define_ka_share_constraints

#: Penalty per relative unit of year-on-year change (a tie-breaker under total deviation).
CHANGE_PENALTY = 0.01


@dataclass
class Block:
    """Everything needed to build and solve the rep MILP of some units (picklable arrays)."""

    units: np.ndarray  # global unit indices, local order
    R: np.ndarray | None  # fixed pool totals K + L (decomposed path), else None
    K_lo: np.ndarray
    K_hi: np.ndarray
    L_lo: np.ndarray
    L_hi: np.ndarray
    locked_sum: np.ndarray
    mixed: np.ndarray
    reps: np.ndarray  # global rep indices, grouped by local unit
    rep_unit: np.ndarray  # local unit of each rep
    lo: np.ndarray  # integer bounds
    hi: np.ndarray
    ka: np.ndarray
    locked: np.ndarray  # bool
    last: np.ndarray  # scaled, NaN = none
    line: FairLine  # for the free reps, in order
    ka_bounds: np.ndarray  # per local unit [low, high] of ka_share, NaN = none
    scale: float = 1.0  # deviations are modelled times this (see module docstring)

    @property
    def n_units(self) -> int:
        """Number of units in the block."""
        return int(self.units.size)

    def split(self) -> list[Block]:
        """One block per unit (reps are grouped by unit, so each is a slice)."""
        starts = np.searchsorted(self.rep_unit, np.arange(self.n_units + 1))
        free_before = np.concatenate([[0], np.cumsum(~self.locked)])[starts]
        out = []
        for k in range(self.n_units):
            r, f = slice(starts[k], starts[k + 1]), slice(free_before[k], free_before[k + 1])
            u = slice(k, k + 1)
            line = FairLine(self.line.a[f], self.line.b[f], self.line.w_up[f], self.line.w_dn[f], self.line.level[u])
            out.append(Block(
                self.units[u], None if self.R is None else self.R[u], self.K_lo[u], self.K_hi[u], self.L_lo[u],
                self.L_hi[u], self.locked_sum[u], self.mixed[u], self.reps[r], self.rep_unit[r] - k, self.lo[r],
                self.hi[r], self.ka[r], self.locked[r], self.last[r], line, self.ka_bounds[u], self.scale,
            ))
        return out


def make_block(prep: Prepared, pool: Pools, units: np.ndarray, R: np.ndarray | None = None,
               around: np.ndarray | None = None) -> Block:
    """Gather the reps of ``units``; fix each unit's pool total ``R = K + L`` when given.

    ``around`` is the free total per unit at which chance fairness is linearised; it
    defaults to ``R - locked`` (exact when the totals are fixed).
    """
    local = np.full(prep.tree.n, -1, dtype=np.int64)
    local[units] = np.arange(units.size)
    member = local[prep.rep_unit] >= 0
    reps = np.flatnonzero(member)
    reps = reps[np.argsort(local[prep.rep_unit[reps]], kind="stable")]
    ru = local[prep.rep_unit[reps]]
    if around is None:
        if R is None:
            raise ValueError("make_block needs R or around")
        around = (np.asarray(R) - pool.locked[units]).astype(float)
    free = ~prep.is_locked[reps]
    fr = reps[free]
    b = prep.bounds
    line = fair_line(prep.config.fairness, ru[free], units.size, np.asarray(around, dtype=float),
                     prep.p10[fr], prep.p50[fr], prep.p90[fr], b.lo_int[fr].astype(float), b.hi_int[fr].astype(float))
    return Block(units, None if R is None else np.asarray(R, dtype=np.int64),
                 pool.lo_ka[units], pool.hi_ka[units], pool.lo_lt[units], pool.hi_lt[units], pool.locked[units], pool.mixed[units], reps, ru,
                 b.lo_int[reps], b.hi_int[reps], prep.ka[reps], prep.is_locked[reps], prep.last_ref[reps], line,
                 prep.ka_bounds[units], deviation_scale(prep))


def deviation_scale(prep: Prepared) -> float:
    """Factor on modelled deviations: the median P50 (scaled units), 1 without reps."""
    return float(np.median(prep.p50)) if prep.n_reps else 1.0


def define_unit_variables(b: Builder, blk: Block) -> np.ndarray:
    """``unit``: quotas are integers in scaled units, i.e. whole multiples of ``unit``.

    The stretch, max_change, ramp and locked families arrive here as the intersected
    bounds ``blk.lo`` / ``blk.hi`` (see :func:`quotaopt.allocation.bounds.rep_bounds`).
    """
    return b.add_vars("q", blk.reps.size, blk.lo, blk.hi, integer=True)


def define_pool_constraints(b: Builder, blk: Block, q: np.ndarray, K: np.ndarray, L: np.ndarray) -> None:
    """Each unit's ka and longtail totals are the sums of its reps' quotas."""
    u = blk.rep_unit
    rows = np.concatenate([np.arange(blk.n_units), u, blk.n_units + np.arange(blk.n_units), blk.n_units + u])
    cols = np.concatenate([K, q, L, q])
    vals = np.concatenate([np.ones(blk.n_units), -blk.ka.astype(float), np.ones(blk.n_units),
                           -(~blk.ka).astype(float)])
    keep = vals != 0
    b.add_rows("pool", 2 * blk.n_units, rows[keep], cols[keep], vals[keep], 0.0, 0.0)


def define_fairness_constraints(b: Builder, blk: Block, q: np.ndarray, K: np.ndarray,
                                L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``fairness``: d_i >= |deviation of rep i from its unit's fair quota|, D_u >= d_i.

    With fair quota y_i = a_i + b_i (K_u + L_u - locked_u), the two rows of a free rep are
    ``d_i - w_up (q_i - y_i) >= 0`` and ``d_i - w_dn (y_i - q_i) >= 0``.
    """
    free = np.flatnonzero(~blk.locked)
    u, line = blk.rep_unit[free], blk.line
    d = b.add_vars("d", free.size, 0.0, np.inf, cost=1.0)
    D = b.add_vars("D", blk.n_units, 0.0, np.inf)
    a = line.a - line.b * blk.locked_sum[u]
    # In stretch mode a is 0 up to float noise (~1e-14); noise as a row bound makes HiGHS warn.
    a = np.where(np.abs(a) < 1e-9, 0.0, a)
    local = np.repeat(np.arange(free.size), 4)
    cols = np.stack([d, q[free], K[u], L[u]], 1).ravel()
    for name, w, sign in (("dev_up", line.w_up * blk.scale, 1.0), ("dev_dn", line.w_dn * blk.scale, -1.0)):
        vals = np.stack([np.ones(free.size), -sign * w, sign * w * line.b, sign * w * line.b], 1).ravel()
        b.add_rows(name, free.size, local, cols, vals, -sign * w * a, np.inf)
    b.add_rows("dev_max", free.size, np.repeat(np.arange(free.size), 2), np.stack([D[u], d], 1).ravel(),
               np.tile([1.0, -1.0], free.size), 0.0, np.inf)
    return d, D


def fixed_fair_quota(blk: Block) -> np.ndarray:
    """Fair quota of every free rep when the pool totals are fixed (``blk.R``)."""
    assert blk.R is not None
    u = blk.rep_unit[~blk.locked]
    return cast("np.ndarray", blk.line.a + blk.line.b * (np.asarray(blk.R, dtype=float) - blk.locked_sum)[u])


def define_rounding_cuts(b: Builder, blk: Block, q: np.ndarray, d: np.ndarray) -> None:
    """Valid inequalities for fixed totals: the deviation's chord between floor(y) and ceil(y).

    With y fixed, f(q) = max(w_up (q - y), w_dn (y - q)) is convex, so for every
    *integer* q it lies above the line through (floor y, f(floor y)) and (ceil y,
    f(ceil y)). The LP relaxation then knows a quota cannot sit exactly on a
    fractional fair level (its bound rises from 0 to near the rounding optimum) and
    branch and bound has little left to prove. No integer solution is cut off.
    """
    free = np.flatnonzero(~blk.locked)
    y = fixed_fair_quota(blk)
    fy = np.floor(y)
    frac = (y - fy > 1e-9) & (y - fy < 1 - 1e-9)
    k = np.flatnonzero(frac)
    w_up, w_dn = blk.line.w_up[k] * blk.scale, blk.line.w_dn[k] * blk.scale
    at_floor, at_ceil = w_dn * (y[k] - fy[k]), w_up * (fy[k] + 1 - y[k])
    slope = at_ceil - at_floor
    rows = np.repeat(np.arange(k.size), 2)
    b.add_rows("rounding", k.size, rows, np.stack([d[k], q[free[k]]], 1).ravel(),
               np.stack([np.ones(k.size), -slope], 1).ravel(), at_floor - slope * fy[k], np.inf)


def define_change_penalty(b: Builder, blk: Block, q: np.ndarray) -> None:
    """Year-on-year change: price |q - last_quota| / last_quota (CHANGE_PENALTY).

    Only a full year's last quota counts (``blk.last`` is NaN otherwise). Weighted by
    ``blk.scale`` like the deviations it is added to.
    """
    has = np.flatnonzero(~blk.locked & np.isfinite(blk.last) & (blk.last > 0))
    last = blk.last[has]
    weight = blk.scale * CHANGE_PENALTY / last
    c_up = b.add_vars("c_up", has.size, 0.0, np.inf, cost=weight)
    c_dn = b.add_vars("c_dn", has.size, 0.0, np.inf, cost=weight)
    b.add_rows("change", has.size, np.repeat(np.arange(has.size), 3), np.stack([q[has], c_up, c_dn], 1).ravel(),
               np.tile([1.0, -1.0, 1.0], has.size), last, last)


def define_rep_part(b: Builder, blk: Block, K: np.ndarray, L: np.ndarray) -> dict[str, np.ndarray]:
    """Every rep-level family for the units of ``blk``: q, pool sums, ka_share, fairness, change."""
    q = define_unit_variables(b, blk)
    define_pool_constraints(b, blk, q, K, L)
    define_ka_share_constraints(b, blk.ka_bounds, K, L, np.flatnonzero(blk.mixed))
    d, D = define_fairness_constraints(b, blk, q, K, L)
    define_change_penalty(b, blk, q)
    return {"q": q, "d": d, "D": D, "K": K, "L": L}


def build_problem(blk: Block) -> tuple[Problem, dict[str, np.ndarray]]:
    """The rep MILP of one block, with each unit's pool total fixed to ``blk.R`` when set.

    Returns
    -------
    Problem
        With stage-two costs; see :func:`stage_one_cost`.
    dict
        Column indices of ``q``, ``d``, ``D``, ``K`` and ``L``.
    """
    b = Builder()
    K = b.add_vars("K", blk.n_units, blk.K_lo, blk.K_hi, integer=True)
    L = b.add_vars("L", blk.n_units, blk.L_lo, blk.L_hi, integer=True)
    if blk.R is not None:
        local = np.arange(blk.n_units)
        b.add_rows("pool_total", blk.n_units, np.concatenate([local, local]), np.concatenate([K, L]), 1.0,
                   blk.R, blk.R)
    cols = define_rep_part(b, blk, K, L)
    if blk.R is not None:
        define_rounding_cuts(b, blk, cols["q"], cols["d"])
    return b.build(), cols


def unit_max(blk: Block, cols: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Each unit's largest deviation (modelled, i.e. times ``scale``) at ``x`` rounded.

    Recomputed from the integer values rather than read from ``x``: a solver's
    continuous values meet the rows only to its tolerance, and holding D below its
    own slightly-too-small value made stage two infeasible (1 unit in 8,381).
    """
    free = ~blk.locked
    u = blk.rep_unit[free]
    q = np.rint(x[cols["q"]])[free]
    R = np.rint(x[cols["K"]]) + np.rint(x[cols["L"]])
    y = blk.line.a + blk.line.b * (R - blk.locked_sum)[u]
    dev = blk.scale * np.maximum(blk.line.w_up * (q - y), blk.line.w_dn * (y - q))
    largest = np.zeros(blk.n_units)
    np.maximum.at(largest, u, dev)
    return largest


def stage_one_cost(problem: Problem, D: np.ndarray) -> np.ndarray:
    """First-stage objective: the sum over units of each unit's largest deviation."""
    c = np.zeros(problem.n_vars)
    c[D] = 1.0
    return c
