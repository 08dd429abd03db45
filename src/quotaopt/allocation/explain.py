"""Business-language explanations: why a plan is infeasible, and which constraint set each quota.

Found without a solver: per-rep bound conflicts, and every unit's target or band
against the least and most its reps can carry. What must give when the model is
infeasible, and what would work, is :mod:`~quotaopt.allocation.diagnose`'s job.
"""

from __future__ import annotations

import numpy as np

from quotaopt.allocation.bounds import LABELS, LOCKED, MAX_CHANGE, RAMP, STRETCH_MAX, STRETCH_MIN
from quotaopt.allocation.inputs import Prepared, ka_bounds_of
from quotaopt.allocation.targets import (
    Pools,
    Shares,
)

MAX_REASONS = 10


def amount(value: float) -> str:
    """12300000 -> '12.3M', 850000 -> '850k', 1250 -> '1.25k'."""
    v = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            text = f"{v / size:.3g}" if abs(v) < 100 * size else f"{v / size:.0f}"
            return text + suffix
    return f"{v:.3g}"


def _noun(prep: Prepared, u: int) -> str:
    return f"company {prep.tree.ids[u]}" if u == 0 else f"team {prep.tree.ids[u]}"


def _limits(prep: Prepared, counts: dict[int, int], upper: bool) -> str:
    cfg = prep.config
    parts = []
    if counts.get(STRETCH_MAX if upper else STRETCH_MIN, 0):
        parts.append(f"stretch {'<=' if upper else '>='} {cfg.stretch[1 if upper else 0]:g}")
    if counts.get(MAX_CHANGE, 0) and cfg.max_change is not None:
        parts.append(f"max_change {cfg.max_change:.0%} for {counts[MAX_CHANGE]} rep(s)")
    if counts.get(RAMP, 0):
        parts.append(f"ramp for {counts[RAMP]} new hire(s)")
    if counts.get(LOCKED, 0):
        parts.append(f"{counts[LOCKED]} locked quota(s)")
    return "; ".join(parts) if parts else "no active reps"


def _family_counts(prep: Prepared, src: np.ndarray) -> dict[int, np.ndarray]:
    return {f: prep.tree.subtree_sum(np.bincount(prep.rep_unit, weights=(src == f).astype(float), minlength=prep.tree.n))
            for f in (STRETCH_MIN, STRETCH_MAX, MAX_CHANGE, RAMP, LOCKED)}


def _at(counts: dict[int, np.ndarray], u: int) -> dict[int, int]:
    return {f: int(round(c[u])) for f, c in counts.items()}


def _rep_side(prep: Prepared, i: int, upper: bool) -> str:
    b, cfg, unit = prep.bounds, prep.config, prep.unit
    src = int(b.hi_src[i] if upper else b.lo_src[i])
    value = (b.hi[i] if upper else b.lo[i]) * unit
    verb = "allows at most" if upper else "needs at least"
    if src in (STRETCH_MAX, STRETCH_MIN):
        s = cfg.stretch[1 if upper else 0]
        return f"stretch {'<=' if upper else '>='} {s:g} {verb} {amount(value)} (P50 {amount(prep.p50[i] * unit)})"
    if src == MAX_CHANGE:
        return f"max_change {cfg.max_change:.0%} {verb} {amount(value)} (last quota {amount(prep.last[i] * unit)})"
    if src == RAMP:
        return f"ramp {prep.ramp[i]:.2f} {verb} {amount(value)}"
    return f"{LABELS[src]} {verb} {amount(value)}"


def _limit(reasons: list[str]) -> list[str]:
    if len(reasons) > MAX_REASONS:
        return [*reasons[:MAX_REASONS], f"and {len(reasons) - MAX_REASONS} more"]
    return reasons


def max_change_notes(prep: Prepared, q: np.ndarray) -> list[str]:
    """One line per rep whose ``max_change`` gave way to stretch (at most MAX_REASONS, then a count)."""
    unit, cfg = prep.unit, prep.config
    notes = []
    for i in map(int, np.flatnonzero(prep.bounds.max_change_gave_way)):
        last, quota = prep.last[i] * unit, q[i] * unit
        side = "<=" if quota < last else ">="
        edge = cfg.stretch[1] if quota < last else cfg.stretch[0]
        notes.append(f"rep {prep.rep_ids[i]} (team {prep.tree.ids[prep.rep_unit[i]]}): quota {amount(quota)} is "
                     f"{quota / last - 1:+.0%} on last quota {amount(last)}, beyond max_change "
                     f"{cfg.max_change:.0%}, because stretch {side} {edge:g} against P50 "
                     f"{amount(prep.p50[i] * unit)} comes first")
    return _limit(notes)


def rep_conflicts(prep: Prepared) -> list[str]:
    """One reason per rep whose own bounds admit no quota (every one, not limited)."""
    reasons: list[str] = []
    b, tree, unit = prep.bounds, prep.tree, prep.unit
    for i in map(int, np.flatnonzero(b.conflict)):
        who = f"rep {prep.rep_ids[i]} (team {tree.ids[prep.rep_unit[i]]})"
        if b.lo[i] <= b.hi[i]:
            reasons.append(f"{who}: no whole multiple of {amount(unit)} lies between {amount(b.lo[i] * unit)} "
                           f"and {amount(b.hi[i] * unit)}")
        else:
            reasons.append(f"{who}: {_rep_side(prep, i, False)} but {_rep_side(prep, i, True)}")
    return reasons


def precheck(prep: Prepared, pool: Pools, share: Shares) -> list[str]:
    """Reasons the plan cannot exist, found without a solver (empty when none are found)."""
    reasons = rep_conflicts(prep)
    b, tree, unit = prep.bounds, prep.tree, prep.unit
    least = tree.subtree_sum((pool.lo_ka + pool.lo_lt).astype(float))
    most = tree.subtree_sum((pool.hi_ka + pool.hi_lt).astype(float))
    hi_counts, lo_counts = _family_counts(prep, b.hi_src), _family_counts(prep, b.lo_src)
    fixed = np.isfinite(tree.fixed)
    for u in range(tree.n):
        if u == 0:
            what_lo = what_hi = f"total {amount(prep.company * unit)}"
        elif fixed[u]:
            what_lo = what_hi = f"target {amount(tree.fixed[u] * unit)}"
        else:
            pct = f"{prep.config.flex:.0%}"
            what_lo = f"top-down share {amount(share.unit[u] * unit)} less flex {pct}, {amount(share.lo[u] * unit)},"
            what_hi = f"top-down share {amount(share.unit[u] * unit)} plus flex {pct}, {amount(share.hi[u] * unit)},"
        if share.lo[u] > most[u] + 1e-9:
            reasons.append(f"{_noun(prep, u)}: {what_lo} exceeds the most its reps can carry, "
                           f"{amount(most[u] * unit)} ({_limits(prep, _at(hi_counts, u), True)})")
        elif share.hi[u] < least[u] - 1e-9:
            reasons.append(f"{_noun(prep, u)}: {what_hi} is below the least its reps must carry, "
                           f"{amount(least[u] * unit)} ({_limits(prep, _at(lo_counts, u), False)})")
    kids = np.arange(1, tree.n)
    fixed_kids = np.bincount(tree.parent[kids], weights=np.where(fixed[kids], tree.fixed[kids], 0), minlength=tree.n)
    for u in map(int, np.flatnonzero(fixed_kids > share.hi + 1e-9)):
        reasons.append(f"{_noun(prep, u)}: the fixed targets of its child units add up to "
                       f"{amount(fixed_kids[u] * unit)}, more than its own total can be, {amount(share.hi[u] * unit)}")
    return _limit(reasons)


def binding(prep: Prepared, pool: Pools, q: np.ndarray) -> np.ndarray:
    """Which constraint set each rep's quota: a bound family, ka_share, or fairness."""
    b = prep.bounds
    labels = np.array(LABELS, dtype=object)
    out = np.full(q.shape, "fairness", dtype=object)
    bounds = prep.ka_bounds
    if np.isfinite(bounds).any():
        n = prep.tree.n
        K = np.bincount(prep.rep_unit, weights=np.where(prep.ka, q, 0).astype(float), minlength=n)
        R = np.bincount(prep.rep_unit, weights=q.astype(float), minlength=n)
        with np.errstate(invalid="ignore"):
            # Tight: moving one unit of quota between the roles would break ka_share.
            tight = pool.mixed & ((K - bounds[:, 0] * R < 1 - 1e-9) | (bounds[:, 1] * R - K < 1 - 1e-9))
        as_set = ka_bounds_of(prep.config, n)
        relaxed = ~np.all((bounds == as_set) | (np.isnan(bounds) & np.isnan(as_set)), axis=1)
        out[tight[prep.rep_unit]] = "ka_share"
        out[(tight & relaxed)[prep.rep_unit]] = "ka_share_relaxed"
    at_lo, at_hi = q == b.lo_int, q == b.hi_int
    out[at_lo] = labels[b.lo_src[at_lo]]
    out[at_hi] = labels[b.hi_src[at_hi]]
    out[prep.is_locked] = "locked"
    return out
