"""Recompute every constraint from a solution and list what it breaks.

Never trust a solver's status alone: after every solve the plan is checked here,
from the raw inputs (capacities, last and locked quotas, the scenario), not from the
model's own rows. Quotas and totals are integers in scaled units, so sums are exact;
only ka_share (a ratio) needs a tolerance.
"""

from __future__ import annotations

import numpy as np

from quotaopt.allocation.bounds import CAPS, LOCKED
from quotaopt.allocation.inputs import Prepared
from quotaopt.allocation.targets import Shares

_TOL = 1e-9


def integrality(raw: np.ndarray, tol: float = 1e-6) -> tuple[np.ndarray, float]:
    """Round solver values to integers; returns them and the largest distance rounded away."""
    rounded = np.rint(raw)
    worst = float(np.max(np.abs(raw - rounded))) if raw.size else 0.0
    return rounded.astype(np.int64), worst


def verify_plan(prep: Prepared, share: Shares, q: np.ndarray, totals: np.ndarray | None = None) -> list[str]:
    """Every broken constraint of a plan, in words (empty when the plan is valid).

    Parameters
    ----------
    prep : Prepared
    share : Shares
    q : ndarray of int64
        Quotas in scaled units, one per rep.
    totals : ndarray of int64, optional
        Unit totals as the solver returned them; checked against the recomputed sums.
    """
    out: list[str] = []
    cfg, b, tree = prep.config, prep.bounds, prep.tree
    ids = prep.rep_ids

    def fail(mask: np.ndarray, text: str) -> None:
        bad = np.flatnonzero(mask)
        if bad.size:
            out.append(f"{text}: {bad.size} rep(s), e.g. {ids[bad[0]]} (quota {q[bad[0]]}, scaled units)")

    locked = prep.is_locked
    lim = prep.limits
    ramped_floor = np.isin(b.lo_src, CAPS)  # a cap lowered the floor to itself
    tol = _TOL * np.maximum(1.0, prep.p50)
    fail(q < 0, "negative quota")
    fail(locked & (q != np.rint(np.nan_to_num(prep.locked))), "locked quota changed")
    free = ~locked
    # The limits each rep was solved under: the scenario's, or the relaxed ones of an
    # elastic solve (exactly those; the exceptions say how far they moved).
    s_lo, s_hi = lim.stretch_lo * prep.p50, lim.stretch_hi * prep.p50
    fail(free & ~ramped_floor & (q < s_lo - tol), "stretch_min broken")
    fail(free & (q > s_hi + tol), "stretch_max broken")
    if cfg.max_change is not None:
        # Only a full year's last quota binds (see bounds.full_year_last).
        has = free & np.isfinite(prep.last_ref) & (prep.last_ref > 0)
        last = np.nan_to_num(prep.last_ref)
        # Where max_change gave way to stretch, the quota must be the whole multiple
        # inside the stretch band nearest the last quota; elsewhere max_change holds
        # (at its relaxed value where an elastic solve relaxed it).
        # A pool's relaxed max_change may still miss a rep's stretch band: there it gave way too.
        as_set = (lim.change_dn == cfg.max_change) & (lim.change_up == cfg.max_change)
        with np.errstate(invalid="ignore"):
            misses = ((1 + lim.change_up) * last < s_lo - tol) | ((1 - lim.change_dn) * last > s_hi + tol)
        gave_way = b.max_change_gave_way & (as_set | misses)
        yielded = free & gave_way
        nearest = np.clip(np.rint(last), np.ceil(s_lo - tol), np.floor(s_hi + tol))
        fail(yielded & (np.abs(q - nearest) > tol), "max_change gave way but the quota is not the nearest fair one")
        has &= ~gave_way
        with np.errstate(invalid="ignore"):
            fail(has & ~ramped_floor & (q < (1 - lim.change_dn) * last - tol), "max_change (decrease) broken")
            fail(has & (q > (1 + lim.change_up) * last + tol), "max_change (increase) broken")
    cap = np.where(prep.ramp < 1, prep.ramp * cfg.stretch[1] * prep.ramp_ref * prep.fte, np.inf)
    fail(free & (q > cap + tol), "ramp cap broken")
    if prep.max_quota is not None:
        fail(free & (q > np.where(np.isfinite(prep.max_quota), prep.max_quota, np.inf) + tol), "max_quota broken")
    fail(free & ((q < b.lo_int) | (q > b.hi_int)) & (b.lo_src != LOCKED), "rep bounds broken")

    direct = np.bincount(prep.rep_unit, weights=q.astype(float), minlength=tree.n)
    sums = np.rint(tree.subtree_sum(direct)).astype(np.int64)
    if totals is not None and not np.array_equal(sums, totals):
        u = int(np.flatnonzero(sums != totals)[0])
        out.append(f"unit {tree.ids[u]}: total {totals[u]} is not the sum of its reps and child units, {sums[u]}")
    if sums[0] != prep.company:
        out.append(f"company total {sums[0]} differs from the target {prep.company} (scaled units)")
    fixed = np.isfinite(tree.fixed)
    fixed[0] = False
    bad = np.flatnonzero(fixed & (sums != np.nan_to_num(tree.fixed)))
    if bad.size:
        out.append(f"team {tree.ids[bad[0]]}: fixed target not kept ({sums[bad[0]]} vs {tree.fixed[bad[0]]:g})")
    bad = np.flatnonzero((sums < share.lo) | (sums > share.hi))
    if bad.size:
        u = int(bad[0])
        out.append(f"team {tree.ids[u]}: total {sums[u]} outside its band [{share.lo[u]}, {share.hi[u]}]")
    has_kids = share.has_children & (np.bincount(prep.rep_unit, minlength=tree.n) > 0)
    bad = np.flatnonzero(has_kids & ((direct < share.pool_lo - _TOL) | (direct > share.pool_hi + _TOL)))
    if bad.size:
        out.append(f"team {tree.ids[bad[0]]}: its own reps' total {direct[bad[0]]:g} is outside their flex band")
    bounds = prep.ka_bounds
    if np.isfinite(bounds).any():
        ka = np.bincount(prep.rep_unit, weights=np.where(prep.ka, q, 0).astype(float), minlength=tree.n)
        n_ka = np.bincount(prep.rep_unit, weights=prep.ka.astype(float), minlength=tree.n)
        n_all = np.bincount(prep.rep_unit, minlength=tree.n)
        mixed = (n_ka > 0) & (n_ka < n_all) & np.isfinite(bounds).all(axis=1)
        lo, hi = np.nan_to_num(bounds[:, 0]), np.nan_to_num(bounds[:, 1])
        slack = 1e-6 * np.maximum(direct, 1.0)
        bad = np.flatnonzero(mixed & ((ka < lo * direct - slack) | (ka > hi * direct + slack)))
        if bad.size:
            u = int(bad[0])
            out.append(f"team {tree.ids[u]}: ka share {ka[u] / max(direct[u], 1):.4f} outside ka_share "
                       f"[{lo[u]:g}, {hi[u]:g}]")
    return out
