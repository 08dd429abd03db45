"""Business-language explanations: why a plan is infeasible, and which constraint set each quota.

Three layers, cheapest first: (1) per-rep bound conflicts, (2) every unit's target or
band against the least and most its reps can carry, and (3) when the model is still
infeasible, an elastic re-solve of the unit-totals MILP with priced slack on every
soft row (per family and unit), reporting what must give and by how much.
"""

from __future__ import annotations

import numpy as np

from quotaopt.allocation.bounds import (
    LABELS,
    LOCKED,
    MAX_CHANGE,
    MAX_QUOTA,
    RAMP,
    STRETCH_MAX,
    STRETCH_MIN,
)
from quotaopt.allocation.inputs import Prepared
from quotaopt.allocation.problem import SolveOptions
from quotaopt.allocation.targets import (
    CAP_KA,
    CAP_LT,
    COMPANY,
    FLEX,
    KA_LO,
    POOL_FLEX,
    TARGET,
    Pools,
    Shares,
    unit_totals_problem,
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
    if upper and counts.get(MAX_QUOTA, 0):
        parts.append(f"max_quota for {counts[MAX_QUOTA]} rep(s)")
    return "; ".join(parts) if parts else "no active reps"


def _family_counts(prep: Prepared, src: np.ndarray) -> dict[int, np.ndarray]:
    return {f: prep.tree.subtree_sum(np.bincount(prep.rep_unit, weights=(src == f).astype(float), minlength=prep.tree.n))
            for f in (STRETCH_MIN, STRETCH_MAX, MAX_CHANGE, RAMP, LOCKED, MAX_QUOTA)}


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


def precheck(prep: Prepared, pool: Pools, share: Shares) -> list[str]:
    """Reasons the plan cannot exist, found without a solver (empty when none are found)."""
    reasons: list[str] = []
    b, tree, unit = prep.bounds, prep.tree, prep.unit
    for i in map(int, np.flatnonzero(b.conflict)):
        who = f"rep {prep.rep_ids[i]} (team {tree.ids[prep.rep_unit[i]]})"
        if b.lo[i] <= b.hi[i]:
            reasons.append(f"{who}: no whole multiple of {amount(unit)} lies between {amount(b.lo[i] * unit)} "
                           f"and {amount(b.hi[i] * unit)}")
        else:
            reasons.append(f"{who}: {_rep_side(prep, i, False)} but {_rep_side(prep, i, True)}")
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


def explain_infeasible(prep: Prepared, pool: Pools, share: Shares, backend: str,
                       options: SolveOptions) -> list[str]:
    """Re-solve the unit-totals MILP with priced slack and say what must give, largest first."""
    from quotaopt.allocation.backends import get_backend

    problem, soft = unit_totals_problem(prep, pool, share, elastic=True)
    solution = get_backend(backend)(problem, options)
    if not solution.usable or solution.x is None:
        return ["the allocation problem is infeasible, and the elastic re-solve found no explanation "
                f"({solution.message})"]
    x = solution.x
    up = x[problem.names["slack_up"]]
    dn = x[problem.names["slack_dn"]]
    K, L = np.rint(x[problem.names["K"]]), np.rint(x[problem.names["L"]])
    T = np.rint(x[problem.names["T"]])
    unit, cfg = prep.unit, prep.config
    hi_counts, lo_counts = _family_counts(prep, prep.bounds.hi_src), _family_counts(prep, prep.bounds.lo_src)
    found: list[tuple[float, str]] = []
    for k in np.flatnonzero((up > 0.5) | (dn > 0.5)):
        fam, u = int(soft.family[k]), int(soft.unit[k])
        s = float(max(up[k], dn[k])) * unit
        raise_it = up[k] > dn[k]  # the row's value had to be raised to reach its lower bound
        who = _noun(prep, u)
        if fam == COMPANY:
            text = f"{who}: total {amount(prep.company * unit)} must {'drop' if raise_it else 'rise'} by {amount(s)}"
        elif fam == TARGET:
            text = f"{who}: fixed target {amount(prep.tree.fixed[u] * unit)} must {'drop' if raise_it else 'rise'} by {amount(s)}"
        elif fam in (FLEX, POOL_FLEX):
            base = share.unit[u] if fam == FLEX else share.pool[u]
            got = (T[u] if fam == FLEX else K[u] + L[u]) * unit
            whose = "" if fam == FLEX else " own reps'"
            text = (f"{who}:{whose} total must be {amount(got)}, {abs(got / unit - base) / max(base, 1e-9):.1%} "
                    f"from its top-down share {amount(base * unit)}, beyond flex {cfg.flex:.0%} (by {amount(s)})")
        elif fam in (CAP_KA, CAP_LT):
            role = "ka" if fam == CAP_KA else "longtail"
            value = (K[u] if fam == CAP_KA else L[u]) * unit
            if raise_it:
                least = (pool.lo_ka[u] if fam == CAP_KA else pool.lo_lt[u]) * unit
                text = (f"{who}: its {role} reps would carry {amount(value)}, {amount(s)} less than the least they must, "
                        f"{amount(least)} ({_limits(prep, _at(lo_counts, u), False)})")
            else:
                most = (pool.hi_ka[u] if fam == CAP_KA else pool.hi_lt[u]) * unit
                text = (f"{who}: its {role} reps must carry {amount(value)}, {amount(s)} more than the most they can, "
                        f"{amount(most)} ({_limits(prep, _at(hi_counts, u), True)})")
        else:
            assert cfg.ka_share is not None
            frac = K[u] / max(K[u] + L[u], 1e-9)
            bound = cfg.ka_share[0] if fam == KA_LO else cfg.ka_share[1]
            side = "below" if fam == KA_LO else "above"
            verb = "can only carry" if fam == KA_LO else "must carry at least"
            text = (f"{who}: its ka reps {verb} {frac:.0%} of its quota, {side} ka_share "
                    f"{'>=' if fam == KA_LO else '<='} {bound:.0%} (by {amount(s)})")
        found.append((s, text))
    found.sort(key=lambda item: -item[0])
    reasons = list(dict.fromkeys(text for _, text in found))
    return _limit(reasons) or ["the allocation problem is infeasible (no single constraint family explains it)"]


def binding(prep: Prepared, pool: Pools, q: np.ndarray) -> np.ndarray:
    """Which constraint set each rep's quota: a bound family, ka_share, or fairness."""
    b = prep.bounds
    labels = np.array(LABELS, dtype=object)
    out = np.full(q.shape, "fairness", dtype=object)
    ka_share = prep.config.ka_share
    if ka_share is not None:
        n = prep.tree.n
        K = np.bincount(prep.rep_unit, weights=np.where(prep.ka, q, 0).astype(float), minlength=n)
        R = np.bincount(prep.rep_unit, weights=q.astype(float), minlength=n)
        # Tight: moving one unit of quota between the roles would break ka_share.
        tight = pool.mixed & ((K - ka_share[0] * R < 1 - 1e-9) | (ka_share[1] * R - K < 1 - 1e-9))
        out[tight[prep.rep_unit]] = "ka_share"
    at_lo, at_hi = q == b.lo_int, q == b.hi_int
    out[at_lo] = labels[b.lo_src[at_lo]]
    out[at_hi] = labels[b.hi_src[at_hi]]
    out[prep.is_locked] = "locked"
    return out
