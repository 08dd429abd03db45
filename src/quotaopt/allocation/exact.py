"""The unit models with fixed totals, solved exactly without a MILP solver.

Once stage A has fixed a unit's pool total R, every free rep's fair quota
``y_i = a_i + b_i (R - locked)`` is a constant, and the unit's two-stage model
(formulation.build_problem) becomes:

1. minimise D subject to ``w_dn (y_i - q_i) <= D``, ``w_up (q_i - y_i) <= D``,
   ``q_i`` integer in ``[lo_i, hi_i]``, the reps' quotas summing to R and, in a unit
   with both roles, the ka reps' sum K in ``[ceil(a R), floor(b R)]`` (ka_share);
2. with D held at its optimum, minimise ``sum_i f_i(q_i)`` where
   ``f_i(q) = max(w_up (q - y_i), w_dn (y_i - q)) + c_i |q - last_i|``.

Both are solved exactly (docs/allocation.md, "Exact unit solver", has the proof):

1. For a given D every rep may take any integer of an interval; the intervals'
   sums per role are intervals too, so D is feasible iff a one-dimensional
   intersection is non-empty. Feasibility is monotone in D and changes only at
   *breakpoints* ``w (m - y_i)``; a bisection brackets the optimum and it is then
   snapped to the smallest breakpoint above the infeasible end: the exact optimum.
2. Each ``f_i`` is convex on the integers, so the model is a separable convex
   resource allocation: a threshold (Lagrange multiplier) lambda on the marginal
   costs ``f_i(q + 1) - f_i(q)`` gives every optimum, searched over the finitely many
   marginal values; the ka / longtail split is a convex function of K, so K is its
   unconstrained optimum clipped to what ka_share and the intervals allow.
   Ties (equal marginal costs) go to reps in their order: deterministic.

Everything is vectorised over all units of a block at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    from quotaopt.allocation.formulation import Block

# Slack inside floor / ceil: a quota within 1e-9 units of an interval end is inside it.
_EPS = 1e-9
# Stage two may not let a unit's largest deviation grow by more than this (relative, absolute).
_HOLD_REL, _HOLD_ABS = 1e-9, 1e-12
# ka_share rows are checked to this relative tolerance (as verify.py does, and solvers do).
_SHARE_TOL = 1e-7


class ExactInfeasible(Exception):
    """A unit cannot meet its fixed total (stage A should make this impossible)."""


@dataclass
class Units:
    """The free reps of every unit of a block as flat arrays (reps grouped by unit)."""

    n: int  # units
    g: np.ndarray  # unit of each free rep (sorted)
    lo: np.ndarray  # integer bounds
    hi: np.ndarray
    ka: np.ndarray
    y: np.ndarray  # fair quota (constant: the unit's total is fixed)
    wu: np.ndarray  # deviation weights above / below y
    wd: np.ndarray
    last: np.ndarray  # last quota that counts (0 = none)
    c: np.ndarray  # change penalty per unit of |q - last| (0 = none)
    S: np.ndarray  # per unit: free total
    k_lo: np.ndarray  # per unit: allowed free ka total (ka_share; very wide when unconstrained)
    k_hi: np.ndarray

    @classmethod
    def of(cls, blk: Block, change_penalty: float) -> Units:
        """Gather the arrays of ``blk`` (which must have fixed totals ``R``)."""
        assert blk.R is not None
        free, n = ~blk.locked, blk.n_units
        g = blk.rep_unit[free]
        R = np.asarray(blk.R, dtype=np.int64)
        last = blk.last[free]
        has = np.isfinite(last) & (last > 0)
        locked_q = np.where(blk.locked, blk.lo, 0)
        locked_ka = np.rint(np.bincount(blk.rep_unit, weights=np.where(blk.ka, locked_q, 0), minlength=n))
        big = np.iinfo(np.int64).max // 4
        k_lo, k_hi = np.full(n, -big), np.full(n, big)
        shared = blk.mixed & np.isfinite(blk.ka_bounds).all(axis=1)
        if shared.any():
            tol = _SHARE_TOL * np.maximum(R, 1)
            bounds = np.nan_to_num(blk.ka_bounds)
            share_lo = np.ceil(bounds[:, 0] * R - tol) - locked_ka
            share_hi = np.floor(bounds[:, 1] * R + tol) - locked_ka
            k_lo = np.where(shared, share_lo, k_lo).astype(np.int64)
            k_hi = np.where(shared, share_hi, k_hi).astype(np.int64)
        return cls(
            n=n, g=g, lo=blk.lo[free].astype(np.int64), hi=blk.hi[free].astype(np.int64), ka=blk.ka[free],
            y=blk.line.a + blk.line.b * (R - blk.locked_sum)[g], wu=blk.line.w_up, wd=blk.line.w_dn,
            last=np.where(has, last, 0.0), c=np.where(has, change_penalty / np.where(has, last, 1.0), 0.0),
            S=R - np.rint(np.bincount(blk.rep_unit, weights=locked_q, minlength=n)).astype(np.int64),
            k_lo=k_lo, k_hi=k_hi,
        )

    def take(self, order: np.ndarray) -> Units:
        """The same units with their reps reordered."""
        per_rep = ("g", "lo", "hi", "ka", "y", "wu", "wd", "last", "c")
        return replace(self, **{name: getattr(self, name)[order] for name in per_rep})

    def sums(self, values: np.ndarray, ka: bool) -> np.ndarray:
        """Per-unit sum of integer ``values`` over the ka (or longtail) reps."""
        mask = self.ka if ka else ~self.ka
        return np.rint(np.bincount(self.g, weights=np.where(mask, values, 0), minlength=self.n)).astype(np.int64)

    def intervals(self, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The integers each rep may take when its unit's largest deviation is ``D``."""
        Dg = D[self.g]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            low = np.ceil(self.y - Dg / self.wd - _EPS)
            up = np.floor(self.y + Dg / self.wu + _EPS)
        low = np.maximum(self.lo, np.nan_to_num(low, nan=-1e18, neginf=-1e18).clip(-1e18, 1e18).astype(np.int64))
        up = np.minimum(self.hi, np.nan_to_num(up, nan=1e18, posinf=1e18).clip(-1e18, 1e18).astype(np.int64))
        return low, up

    def ka_range(self, low: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per unit, the free ka totals that both roles' intervals and ka_share allow."""
        lo_ka, hi_ka = self.sums(low, True), self.sums(up, True)
        lo_lt, hi_lt = self.sums(low, False), self.sums(up, False)
        first = np.maximum.reduce([self.k_lo, lo_ka, self.S - hi_lt])
        last = np.minimum.reduce([self.k_hi, hi_ka, self.S - lo_lt])
        return first, last

    def feasible(self, D: np.ndarray) -> np.ndarray:
        """Per unit: can every rep stay within deviation ``D`` while the sums hold?"""
        low, up = self.intervals(D)
        empty = np.bincount(self.g, weights=(low > up).astype(float), minlength=self.n) > 0
        first, last = self.ka_range(low, up)
        return ~empty & (first <= last)


def min_max_deviation(u: Units) -> np.ndarray:
    """Stage one: each unit's least possible largest deviation (exact, see module docstring)."""
    zero = np.zeros(u.n)
    if u.g.size == 0:
        return zero
    top = np.zeros(u.n)
    np.maximum.at(top, u.g, np.maximum(u.wu * (u.hi - u.y), u.wd * (u.y - u.lo)))
    b = top + 1.0
    if not u.feasible(b).all():
        raise ExactInfeasible(f"{int((~u.feasible(b)).sum())} unit(s) cannot meet their fixed totals")
    done = u.feasible(zero)
    a, b = np.zeros(u.n), np.where(done, 0.0, b)
    for _ in range(64):
        mid = 0.5 * (a + b)
        ok = u.feasible(mid)
        a, b = np.where(ok, a, mid), np.where(ok, mid, b)
    # The optimum is the smallest breakpoint above the infeasible end a.
    ag = a[u.g]
    with np.errstate(divide="ignore", invalid="ignore"):
        m_up = np.floor(u.y + ag / u.wu + _EPS) + 1
        m_dn = np.ceil(u.y - ag / u.wd - _EPS) - 1
    # Half the slack, so that floor / ceil at the breakpoint land on the new integer.
    bp_up = np.where(m_up <= u.hi, u.wu * (m_up - u.y - _EPS / 2), np.inf)
    bp_dn = np.where(m_dn >= u.lo, u.wd * (u.y - m_dn - _EPS / 2), np.inf)
    snap = np.full(u.n, np.inf)
    np.minimum.at(snap, u.g, np.minimum(bp_up, bp_dn))
    snap = np.minimum(snap, b)
    return np.where(done, 0.0, np.where(u.feasible(snap), snap, b))


def _marginal(u: Units, q: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``f_i(q + 1) - f_i(q)`` for reps ``idx`` (exact per region, so equal slopes tie exactly)."""
    y, wu, wd, last, c = u.y[idx], u.wu[idx], u.wd[idx], u.last[idx], u.c[idx]
    dev = np.where(q + 1 <= y, -wd, np.where(q >= y, wu, wu * (q + 1 - y) - wd * (y - q)))
    chg = np.where(q + 1 <= last, -c, np.where(q >= last, c, c * (2 * q + 1 - 2 * last)))
    return cast("np.ndarray", dev + np.where(c > 0, chg, 0.0))


def _spread(group: np.ndarray, n_groups: int, amount: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Give each group's ``amount`` to its members in order, each taking at most its ``room``."""
    cum = np.cumsum(room)
    start = np.concatenate([[0], cum[:-1]])
    first = np.full(n_groups, 0, dtype=np.int64)
    seen = np.r_[True, group[1:] != group[:-1]] if group.size else np.zeros(0, bool)
    first[group[seen]] = start[seen]
    before = start - first[group]
    return cast("np.ndarray", np.clip(amount[group] - before, 0, room))


def separable_min(u: Units, group: np.ndarray, n_groups: int, total: np.ndarray, low: np.ndarray,
                  up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise ``sum f_i(q_i)`` with ``q_i`` in ``[low_i, up_i]`` and each group summing to ``total``.

    ``group`` must be sorted (members contiguous). Returns q (ties to members in order)
    and the per-rep ends ``a <= q <= b`` of the optimal box at the threshold.
    """
    n = group.size
    reps = np.arange(n)
    fy = np.floor(u.y)
    fl = np.floor(np.where(u.c > 0, u.last, low))
    pos = np.stack([low, fy, fy + 1, fl, fl + 1], 1).astype(np.int64)
    pos = np.clip(pos, low[:, None], np.maximum(up - 1, low)[:, None])
    movable = up > low
    marg = _marginal(u, pos, reps[:, None])
    marg = np.where(movable[:, None], marg, np.inf)

    def ends(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lam_r = lam[group][:, None]
        a = np.where(marg >= lam_r, pos, up[:, None]).min(1)
        b = np.where(marg > lam_r, pos, up[:, None]).min(1)
        return np.minimum(a, up), np.minimum(b, up)

    # Candidate thresholds: every finite marginal value, sorted within its group.
    vals = marg.ravel()
    owner = np.repeat(group, 5)
    keep = np.isfinite(vals)
    vals, owner = vals[keep], owner[keep]
    order = np.lexsort((vals, owner))
    vals, owner = vals[order], owner[order]
    count = np.bincount(owner, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    lo_k, hi_k = np.zeros(n_groups, dtype=np.int64), np.maximum(count - 1, 0)
    has = count > 0
    for _ in range(int(np.ceil(np.log2(max(int(count.max(initial=1)), 1)))) + 1):
        mid = (lo_k + hi_k) // 2
        lam = np.where(has, vals[np.minimum(start + mid, max(vals.size - 1, 0))] if vals.size else 0.0, np.inf)
        _, b = ends(lam)
        enough = np.bincount(group, weights=b, minlength=n_groups) >= total - 0.5
        hi_k = np.where(enough, mid, hi_k)
        lo_k = np.where(enough, lo_k, np.minimum(mid + 1, hi_k))
    lam = np.where(has, vals[np.minimum(start + lo_k, max(vals.size - 1, 0))] if vals.size else 0.0, np.inf)
    a, b = ends(lam)
    rest = total - np.rint(np.bincount(group, weights=a, minlength=n_groups)).astype(np.int64)
    q = a + _spread(group, n_groups, rest, b - a)
    return q, a, b


def solve_exact(blk: Block, change_penalty: float) -> tuple[np.ndarray, np.ndarray]:
    """Both stages for every unit of a block with fixed totals.

    Returns
    -------
    q : ndarray of int64
        Quota of every rep of the block (block order; locked reps keep theirs).
    D : ndarray
        Each unit's largest deviation at the returned quotas (stage one's optimum).

    Raises
    ------
    ExactInfeasible
        When a unit cannot meet its total (a stage-A inconsistency).
    """
    u = Units.of(blk, change_penalty)
    q = np.where(blk.locked, blk.lo, 0).astype(np.int64)
    if u.g.size == 0:
        if np.any(u.S != 0):
            raise ExactInfeasible("a unit without free reps has a total other than its locked quotas")
        return q, np.zeros(u.n)
    D = min_max_deviation(u)
    low, up = u.intervals(D * (1 + _HOLD_REL) + _HOLD_ABS)
    # The ka total: the unconstrained optimum's, clipped to what ka_share and the intervals allow.
    q_all, a, b = separable_min(u, u.g, u.n, u.S, low, up)
    f_lo, f_hi = u.ka_range(low, up)
    best_lo = np.maximum(u.sums(a, True), u.S - u.sums(b, False))
    best_hi = np.minimum(u.sums(b, True), u.S - u.sums(a, False))
    ka_total = np.clip(u.sums(q_all, True), np.maximum(best_lo, f_lo), np.minimum(best_hi, f_hi))
    ka_total = np.where(best_hi < f_lo, f_lo, np.where(best_lo > f_hi, f_hi, ka_total))
    # Each role then on its own: group = 2 x unit + role, members kept in rep order.
    role_group = 2 * u.g + (~u.ka).astype(np.int64)
    order = np.argsort(role_group, kind="stable")
    totals = np.stack([ka_total, u.S - ka_total], 1).ravel()
    q_sorted, _, _ = separable_min(u.take(order), role_group[order], 2 * u.n, totals, low[order], up[order])
    q_free = np.empty_like(q_sorted)
    q_free[order] = q_sorted
    q[~blk.locked] = q_free
    dev = np.maximum(u.wu * (q_free - u.y), u.wd * (u.y - q_free))
    largest = np.zeros(u.n)
    np.maximum.at(largest, u.g, dev)
    return q, largest
