"""Unit totals: top-down shares, flex bands, and the small MILP that fixes every unit's total.

Top-down: the root gets the company total; a unit's base is its fixed target if it
has one, else its share. Each unit's base, less its fixed child units' targets, is
split over its other child units and its own direct reps (the unit's *pool*) in
proportion to capacity P50. A unit without a fixed target may then move within
``[floor((1-flex) share), ceil((1+flex) share)]`` (whole units).

The unit-totals MILP (stage A) chooses integer totals T_u and, per unit, the ka and
longtail pool totals K_u, L_u, subject to the tree sums, the bands, what the reps can
carry and ka_share. It is feasible exactly when the whole allocation is, so both the
decomposed path and the infeasibility explanation start from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from quotaopt.allocation.fairness import quantile, sigmas, z_score
from quotaopt.allocation.inputs import Prepared
from quotaopt.allocation.problem import Builder, Problem

#: Penalty per relative unit of flex used (stage A and the monolithic level one).
FLEX_PENALTY = 0.01
#: Stage A's costs are small and near-ties between roundings are common: they are
#: multiplied by this and solved to a proven optimum, so every backend picks the same totals.
STAGE_A_SCALE = 1e4
_EPS = 1e-9
# Row families of stage A (what the elastic model may relax, and where to).
COMPANY, TARGET, FLEX, POOL_FLEX, CAP_KA, CAP_LT, KA_LO, KA_HI = range(8)


@dataclass
class Pools:
    """Per-unit sums over each unit's direct reps (scaled units)."""

    cap: np.ndarray  # p50 of all direct reps
    cap_free: np.ndarray  # p50 of direct reps without a locked quota
    locked: np.ndarray  # sum of locked quotas (int)
    lo_ka: np.ndarray  # least / most the ka and longtail reps can carry (int)
    hi_ka: np.ndarray
    lo_lt: np.ndarray
    hi_lt: np.ndarray
    mixed: np.ndarray  # has both roles
    n_reps: np.ndarray


@dataclass
class Shares:
    """Top-down shares and the allowed band of every unit and pool (scaled units)."""

    unit: np.ndarray  # share (fixed target for fixed units, company for the root)
    pool: np.ndarray  # share of the unit's own reps
    lo: np.ndarray  # allowed unit total (int)
    hi: np.ndarray
    pool_lo: np.ndarray
    pool_hi: np.ndarray
    cap_sub: np.ndarray  # subtree capacity p50
    has_children: np.ndarray


def pools(prep: Prepared) -> Pools:
    """Aggregate reps onto their units."""
    n, u, b = prep.tree.n, prep.rep_unit, prep.bounds

    def total(weights: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        w = weights if mask is None else np.where(mask, weights, 0)
        return np.bincount(u, weights=w.astype(float), minlength=n)

    def itotal(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return cast("np.ndarray", np.rint(total(weights, mask)).astype(np.int64))

    lock = prep.is_locked
    n_ka = np.bincount(u, weights=prep.ka.astype(float), minlength=n)
    n_reps = np.bincount(u, minlength=n)
    return Pools(
        cap=total(prep.p50), cap_free=total(prep.p50, ~lock),
        locked=itotal(np.nan_to_num(prep.locked), lock),
        lo_ka=itotal(b.lo_int, prep.ka), hi_ka=itotal(b.hi_int, prep.ka),
        lo_lt=itotal(b.lo_int, ~prep.ka), hi_lt=itotal(b.hi_int, ~prep.ka),
        mixed=(n_ka > 0) & (n_ka < n_reps), n_reps=n_reps,
    )


def shares(prep: Prepared, pool: Pools) -> Shares:
    """Top-down shares, level by level, and the flex bands around them."""
    tree, flex = prep.tree, prep.config.flex
    cap_sub = tree.subtree_sum(pool.cap)
    fixed = np.isfinite(tree.fixed)
    unit_share = np.zeros(tree.n)
    unit_share[0] = prep.company
    pool_share = np.zeros(tree.n)
    has_children = tree.org.has_children
    for lvl in range(int(tree.level.max()) + 1):
        parents = np.flatnonzero(tree.level == lvl)
        base = np.where(fixed[parents], tree.fixed[parents], unit_share[parents])
        kids = np.flatnonzero(tree.level == lvl + 1)
        par = tree.parent[kids]
        fixed_sum = np.bincount(par, weights=np.where(fixed[kids], tree.fixed[kids], 0), minlength=tree.n)
        den = np.bincount(par, weights=np.where(fixed[kids], 0, cap_sub[kids]), minlength=tree.n) + pool.cap
        rest = np.maximum(base - fixed_sum[parents], 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            pool_share[parents] = np.where(den[parents] > 0, rest * pool.cap[parents] / den[parents], 0.0)
            ratio = np.zeros(tree.n)
            ratio[parents] = np.where(den[parents] > 0, rest / den[parents], 0.0)
        unit_share[kids] = np.where(fixed[kids], tree.fixed[kids], ratio[par] * cap_sub[kids])
    band_lo = np.floor((1 - flex) * unit_share + _EPS)
    band_hi = np.ceil((1 + flex) * unit_share - _EPS)
    lo = np.where(fixed, tree.fixed, band_lo).astype(np.int64)
    hi = np.where(fixed, tree.fixed, band_hi).astype(np.int64)
    lo[0] = hi[0] = prep.company
    pool_lo = np.floor((1 - flex) * pool_share + _EPS).astype(np.int64)
    pool_hi = np.ceil((1 + flex) * pool_share - _EPS).astype(np.int64)
    return Shares(unit_share, pool_share, lo, hi, pool_lo, pool_hi, cap_sub, has_children)


def fair_interval(prep: Prepared, pool: Pools) -> tuple[np.ndarray, np.ndarray]:
    """Pool totals (K + L) at which every free rep of a unit can sit exactly at the fair level."""
    n, free = prep.tree.n, ~prep.is_locked
    u = prep.rep_unit[free]
    b = prep.bounds
    lo, hi, p50 = b.lo[free], b.hi[free], prep.p50[free]
    if prep.config.fairness == "stretch":
        lvl_lo, lvl_hi = lo / p50, hi / p50
    else:
        s_lo, s_hi = sigmas(prep.p10[free], p50, prep.p90[free])
        lvl_lo, lvl_hi = z_score(lo, p50, s_lo, s_hi), z_score(hi, p50, s_lo, s_hi)
    top, bottom = np.full(n, -np.inf), np.full(n, np.inf)
    np.maximum.at(top, u, lvl_lo)
    np.minimum.at(bottom, u, lvl_hi)
    # Units without free reps give -inf / +inf here; they are masked by `empty` below.
    with np.errstate(invalid="ignore"):
        mid = np.where(top > bottom, 0.5 * (top + bottom), np.nan)
        top, bottom = np.where(np.isnan(mid), top, mid), np.where(np.isnan(mid), bottom, mid)
        top, bottom = np.where(np.isfinite(top), top, 0.0), np.where(np.isfinite(bottom), bottom, 0.0)
    if prep.config.fairness == "stretch":
        f_lo, f_hi = top * pool.cap_free, bottom * pool.cap_free
    else:
        s_lo, s_hi = sigmas(prep.p10[free], p50, prep.p90[free])
        f_lo = np.bincount(u, weights=quantile(np.full(u.size, 1.0) * top[u], p50, s_lo, s_hi), minlength=n)
        f_hi = np.bincount(u, weights=quantile(np.full(u.size, 1.0) * bottom[u], p50, s_lo, s_hi), minlength=n)
    empty = pool.cap_free <= 0
    f_lo = np.where(empty, 0.0, np.nan_to_num(f_lo, neginf=0.0)) + pool.locked
    f_hi = np.where(empty, 0.0, np.nan_to_num(f_hi, posinf=0.0)) + pool.locked
    return f_lo, f_hi


@dataclass
class SoftRows:
    """Stage-A rows an elastic re-solve may relax: row index, family and unit of each."""

    row: np.ndarray
    family: np.ndarray
    unit: np.ndarray


def define_tree_constraints(b: Builder, prep: Prepared, pool: Pools, share: Shares, *,
                            capacity_rows: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, SoftRows]:
    """Unit totals T, pool totals K (ka) and L (longtail), and the rows tying them to the tree.

    ``T_u = sum of child T + K_u + L_u``; ``T`` in its band (company total at the root,
    fixed target, or flex band); ``K + L`` in the pool's flex band for units that also
    have child units; with ``capacity_rows``, ``K`` and ``L`` within what the reps can
    carry; and ``ka_share`` in units with both roles.
    """
    tree, n = prep.tree, prep.tree.n
    T = b.add_vars("T", n, 0, np.inf, integer=True)
    # Without capacity rows (the monolithic model) the reps' bounds are the pools' bounds.
    K = b.add_vars("K", n, 0 if capacity_rows else pool.lo_ka, np.inf if capacity_rows else pool.hi_ka, integer=True)
    L = b.add_vars("L", n, 0 if capacity_rows else pool.lo_lt, np.inf if capacity_rows else pool.hi_lt, integer=True)
    u = np.arange(n)
    b.add_rows("tree", n, np.concatenate([u, tree.parent[1:], u, u]),
               np.concatenate([T, T[1:], K, L]),
               np.concatenate([np.ones(n), -np.ones(n - 1), -np.ones(n), -np.ones(n)]), 0.0, 0.0)
    soft: list[tuple[np.ndarray, int, np.ndarray]] = []
    rows = b.add_rows("target", n, u, T, 1.0, share.lo, share.hi)
    family = np.where(np.isfinite(tree.fixed), TARGET, FLEX)
    family[0] = COMPANY
    for fam in (COMPANY, TARGET, FLEX):
        soft.append((rows[family == fam], fam, u[family == fam]))
    inner = np.flatnonzero(share.has_children & (pool.n_reps > 0))
    rows = b.add_rows("pool_band", inner.size, np.repeat(np.arange(inner.size), 2),
                      np.stack([K[inner], L[inner]], 1).ravel(), 1.0, share.pool_lo[inner], share.pool_hi[inner])
    soft.append((rows, POOL_FLEX, inner))
    if capacity_rows:
        rows = b.add_rows("cap_ka", n, u, K, 1.0, pool.lo_ka, pool.hi_ka)
        soft.append((rows, CAP_KA, u))
        rows = b.add_rows("cap_lt", n, u, L, 1.0, pool.lo_lt, pool.hi_lt)
        soft.append((rows, CAP_LT, u))
        rows, fams, units = define_ka_share_constraints(b, prep.ka_bounds, K, L, np.flatnonzero(pool.mixed))
        soft.extend((rows[fams == f], f, units[fams == f]) for f in (KA_LO, KA_HI))
    soft_rows = SoftRows(np.concatenate([s[0] for s in soft]),
                         np.concatenate([np.full(s[0].size, s[1]) for s in soft]),
                         np.concatenate([s[2] for s in soft]))
    return T, K, L, soft_rows


def define_ka_share_constraints(b: Builder, bounds: np.ndarray, K: np.ndarray, L: np.ndarray,
                                mixed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``ka_share``: lo <= K / (K + L) <= hi in units with both roles, as two linear rows.

    ``bounds`` holds each unit's ``[lo, hi]`` (rows of ``prep.ka_bounds``, indexed like
    ``K``; NaN: no ka_share there); ``mixed`` the units with both roles. Returns the row
    indices, their family (KA_LO / KA_HI) and the unit (index into K) of each.
    """
    mixed = mixed[np.isfinite(bounds[mixed]).all(axis=1)] if mixed.size else mixed
    if mixed.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    lo, hi = bounds[mixed, 0], bounds[mixed, 1]
    local = np.repeat(np.arange(mixed.size), 2)
    cols = np.stack([K[mixed], L[mixed]], 1).ravel()
    lo_rows = b.add_rows("ka_share_lo", mixed.size, local, cols, np.stack([1 - lo, -lo], 1).ravel(), 0.0, np.inf)
    hi_rows = b.add_rows("ka_share_hi", mixed.size, local, cols, np.stack([1 - hi, -hi], 1).ravel(), -np.inf, 0.0)
    return (np.concatenate([lo_rows, hi_rows]),
            np.concatenate([np.full(mixed.size, KA_LO), np.full(mixed.size, KA_HI)]),
            np.concatenate([mixed, mixed]))


def unit_totals_problem(prep: Prepared, pool: Pools, share: Shares) -> tuple[Problem, SoftRows]:
    """Build the stage-A MILP over unit totals (the elastic one is in :mod:`~quotaopt.allocation.elastic`).

    It prices leaving each pool's fair interval (1 / free capacity per unit, so in
    stretch terms) and flex use (FLEX_PENALTY per relative unit).
    """
    b = Builder()
    T, K, L, soft_rows = define_tree_constraints(b, prep, pool, share)
    define_unit_total_costs(b, prep, pool, share, T, K, L)
    return b.build(), soft_rows


def define_unit_total_costs(b: Builder, prep: Prepared, pool: Pools, share: Shares, T: np.ndarray,
                            K: np.ndarray, L: np.ndarray, scale: float = 1.0) -> None:
    """Stage A's costs: leaving each pool's fair interval, then flex use (all times ``scale``)."""
    f_lo, f_hi = fair_interval(prep, pool)
    with_reps = np.flatnonzero(pool.cap_free > 0)
    weight = scale / pool.cap_free[with_reps]
    v_up = b.add_vars("v_up", with_reps.size, 0, np.inf, cost=weight)
    v_dn = b.add_vars("v_dn", with_reps.size, 0, np.inf, cost=weight)
    local = np.repeat(np.arange(with_reps.size), 3)
    b.add_rows("fair_hi", with_reps.size, local, np.stack([K[with_reps], L[with_reps], v_up], 1).ravel(),
               np.tile([1.0, 1.0, -1.0], with_reps.size), -np.inf, f_hi[with_reps])
    b.add_rows("fair_lo", with_reps.size, local, np.stack([K[with_reps], L[with_reps], v_dn], 1).ravel(),
               1.0, f_lo[with_reps], np.inf)
    # Chords (see define_flex_penalty): v_up >= (c - f)(R - floor f) with c = ceil f, and
    # v_dn >= (f - floor f)(floor f + 1 - R), exact at the integers around each end f.
    hi_end, lo_end = _near_integer(f_hi[with_reps]), _near_integer(f_lo[with_reps])
    up_frac, dn_frac = np.ceil(hi_end) - hi_end, lo_end - np.floor(lo_end)
    vals = np.stack([-up_frac, -up_frac, np.ones(with_reps.size)], 1).ravel()
    b.add_rows("fair_hi_chord", with_reps.size, local, np.stack([K[with_reps], L[with_reps], v_up], 1).ravel(),
               vals, -up_frac * np.floor(hi_end), np.inf)
    vals = np.stack([dn_frac, dn_frac, np.ones(with_reps.size)], 1).ravel()
    b.add_rows("fair_lo_chord", with_reps.size, local, np.stack([K[with_reps], L[with_reps], v_dn], 1).ravel(),
               vals, dn_frac * (np.floor(lo_end) + 1), np.inf)
    define_flex_penalty(b, T, share, np.isfinite(prep.tree.fixed), scale)


def _near_integer(values: np.ndarray) -> np.ndarray:
    """Snap values within 1e-9 of an integer onto it (a chord row would get ~1e-12 coefficients)."""
    nearest = np.rint(values)
    return np.where(np.abs(values - nearest) <= 1e-9 * np.maximum(1.0, np.abs(values)), nearest, values)


def define_flex_penalty(b: Builder, T: np.ndarray, share: Shares, fixed: np.ndarray, scale: float = 1.0) -> None:
    """``flex``: price each unit's move away from its top-down share (relative, FLEX_PENALTY).

    Shares are fractional and totals integers, so the LP relaxation would sit every
    total exactly on its share and branch and bound would have to round them all. A
    chord row makes the relaxation price the integers around the share exactly:
    ``e_up + e_dn >= f + (1 - 2f)(T - floor s)`` (f = s - floor s) holds with equality
    at floor s and ceil s and below |T - s| at every other integer, so no integer
    solution is cut off. (Stage A on 10,000 reps: 2.2 s of cut rounds before.)
    """
    free = np.flatnonzero(~fixed & (share.unit > 0))
    free = free[free != 0]
    weight = scale * FLEX_PENALTY / share.unit[free]
    e_up = b.add_vars("flex_up", free.size, 0, np.inf, cost=weight)
    e_dn = b.add_vars("flex_dn", free.size, 0, np.inf, cost=weight)
    local = np.arange(free.size)
    b.add_rows("flex", free.size, np.repeat(local, 3), np.stack([T[free], e_up, e_dn], 1).ravel(),
               np.tile([1.0, -1.0, 1.0], free.size), share.unit[free], share.unit[free])
    s = _near_integer(share.unit[free])
    frac = s - np.floor(s)
    b.add_rows("flex_chord", free.size, np.repeat(local, 3), np.stack([T[free], e_up, e_dn], 1).ravel(),
               np.stack([-(1 - 2 * frac), np.ones(free.size), np.ones(free.size)], 1).ravel(),
               frac - (1 - 2 * frac) * np.floor(s), np.inf)
