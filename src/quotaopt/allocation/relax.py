"""The relaxed limits an elastic solve implies, as bounds the unit solvers and verification read.

The elastic model (:mod:`~quotaopt.allocation.elastic`) fixes every unit and pool total.
From them:

- a unit (or pool) total outside its flex band widens that band to the total;
- a ka share outside ka_share widens that unit's ka_share to it;
- a pool that must carry more than its reps can at their limits gets one relaxed limit
  for all its reps, the least that carries the total: first a higher ``max_change``
  (for reps held by their last quota, up to their stretch edge), then a higher
  ``stretch`` for everyone (up to each rep's hard limit); the same downwards. One value
  for the whole pool keeps the pool fair: its reps go to the same relaxed stretch, as
  they would share a stretch within the limits. Where the pool's ka_share cannot hold
  with one value for both roles, each role gets its own (from the elastic split).

Each relaxed value is the largest (smallest) ratio a rep actually gets, so bounds
recomputed from it are exactly the integers found: verification checks quotas against
these values, nothing looser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from quotaopt.allocation.bounds import (
    MAX_CHANGE,
    MAX_CHANGE_RELAXED,
    STRETCH_MAX_RELAXED,
    STRETCH_MIN_RELAXED,
    RepBounds,
)
from quotaopt.allocation.elastic import UNBOUNDED, ElasticTotals, Layers
from quotaopt.allocation.inputs import Prepared, RepLimits
from quotaopt.allocation.targets import Pools, Shares

_EPS = 1e-9
_STEPS = 64
_SHARE_TOL = 1e-7

Values = Callable[[np.ndarray], np.ndarray]  # a per-rep bound as a function of each rep's group value


def _floor(x: np.ndarray) -> np.ndarray:
    return cast("np.ndarray", np.floor(x + _EPS * np.maximum(1.0, np.abs(x))))


def _ceil(x: np.ndarray) -> np.ndarray:
    return cast("np.ndarray", np.ceil(x - _EPS * np.maximum(1.0, np.abs(x))))


def _search(group: np.ndarray, n: int, need: np.ndarray, f: Values, lo: np.ndarray, hi: np.ndarray,
            rising: bool) -> np.ndarray:
    """Per group, the smallest x in [lo, hi] with sum f(x) >= need (``rising``) or <= need.

    ``f`` is monotone in x (non-decreasing when rising, non-increasing otherwise); ``hi``
    must satisfy the condition. Returns the end of the bracket that satisfies it.
    """
    a, b = lo.astype(float).copy(), hi.astype(float).copy()
    for _ in range(_STEPS):
        mid = 0.5 * (a + b)
        total = np.bincount(group, weights=f(mid[group]).astype(float), minlength=n)
        ok = total >= need - 0.5 if rising else total <= need + 0.5
        a, b = np.where(ok, a, mid), np.where(ok, mid, b)
    return b


@dataclass
class _Side:
    """The relaxed bounds of one side for the reps of some groups."""

    bound: np.ndarray  # per rep (only meaningful for reps in relaxed groups)
    stretch: np.ndarray  # per group: relaxed stretch (NaN: not relaxed)
    change: np.ndarray  # per group: relaxed max_change (NaN: not relaxed; inf: given up)


@dataclass
class _Reps:
    """The reps being relaxed: their P50, counting last quota (0 = none) and layers."""

    p: np.ndarray
    last: np.ndarray
    lay: Layers

    @classmethod
    def of(cls, prep: Prepared, lay: Layers, idx: np.ndarray) -> _Reps:
        last = np.nan_to_num(prep.last_ref, nan=0.0)[idx]
        return cls(prep.p50[idx], last, Layers(*(getattr(lay, k)[idx] for k in
                                                ("hi0", "hi_mc", "hi_hard", "lo0", "lo_mc", "lo_hard"))))


def _raise(prep: Prepared, reps: _Reps, group: np.ndarray, n: int, need: np.ndarray) -> _Side:
    """Upper bounds of each group's reps so that they can carry ``need`` (least relaxation)."""
    p, last, lay = reps.p, reps.last, reps.lay
    has_last = last > 0
    hi0 = np.bincount(group, weights=lay.hi0.astype(float), minlength=n)
    hi_mc = np.bincount(group, weights=lay.hi_mc.astype(float), minlength=n)
    mc_layer = (need > hi0 + 0.5) & (need <= hi_mc + 0.5)
    s_layer = need > hi_mc + 0.5
    bound = lay.hi0.copy()
    stretch, change = np.full(n, np.nan), np.full(n, np.nan)
    cfg = prep.config
    if mc_layer.any():
        m0 = cfg.max_change or 0.0
        top = np.where(has_last, lay.hi_mc / np.where(has_last, last, 1.0) - 1.0, m0)
        m_hi = np.full(n, m0)
        np.maximum.at(m_hi, group, top + 1.0)

        def f_mc(m: np.ndarray) -> np.ndarray:
            raised = np.where(has_last, _floor((1.0 + m) * last), lay.hi0)
            return cast("np.ndarray", np.minimum(lay.hi_mc, np.maximum(lay.hi0, raised)))

        m = _search(group, n, need, f_mc, np.full(n, m0), m_hi, rising=True)
        in_layer = mc_layer[group]
        new = f_mc(m[group])
        bound = np.where(in_layer, new, bound)
        moved = in_layer & (new > lay.hi0) & has_last
        value = np.full(n, -np.inf)
        np.maximum.at(value, group[moved], new[moved] / last[moved] - 1.0)
        change = np.where(mc_layer, value, change)
    if s_layer.any():
        s0 = cfg.stretch[1]
        reach = np.where(lay.hi_hard >= UNBOUNDED, need[group], lay.hi_hard) / p
        s_hi = np.full(n, s0)
        np.maximum.at(s_hi, group, reach + 1.0)

        def f_s(s: np.ndarray) -> np.ndarray:
            return cast("np.ndarray", np.minimum(lay.hi_hard, np.maximum(lay.hi_mc, _floor(s * p))).astype(np.int64))

        s = _search(group, n, need, f_s, np.full(n, s0), s_hi, rising=True)
        in_layer = s_layer[group]
        new = f_s(s[group])
        bound = np.where(in_layer, new, bound)
        moved = in_layer & (new > lay.hi_mc)
        value = np.full(n, -np.inf)
        np.maximum.at(value, group[moved], new[moved] / p[moved])
        stretch = np.where(s_layer, np.maximum(value, s0), stretch)
        change = np.where(s_layer, np.inf, change)
    return _Side(bound.astype(np.int64), stretch, change)


def _lower(prep: Prepared, reps: _Reps, group: np.ndarray, n: int, need: np.ndarray) -> _Side:
    """Lower bounds of each group's reps so that they carry no more than ``need``."""
    p, last, lay = reps.p, reps.last, reps.lay
    has_last = last > 0
    lo0 = np.bincount(group, weights=lay.lo0.astype(float), minlength=n)
    lo_mc = np.bincount(group, weights=lay.lo_mc.astype(float), minlength=n)
    mc_layer = (need < lo0 - 0.5) & (need >= lo_mc - 0.5)
    s_layer = need < lo_mc - 0.5
    bound = lay.lo0.copy()
    stretch, change = np.full(n, np.nan), np.full(n, np.nan)
    cfg = prep.config
    if mc_layer.any():
        m0 = cfg.max_change or 0.0

        def f_mc(m: np.ndarray) -> np.ndarray:
            lowered = np.where(has_last, _ceil((1.0 - m) * last), lay.lo0)
            return cast("np.ndarray", np.maximum(lay.lo_mc, np.minimum(lay.lo0, lowered)))

        m = _search(group, n, need, f_mc, np.full(n, m0), np.full(n, 1.0), rising=False)
        in_layer = mc_layer[group]
        new = f_mc(m[group])
        bound = np.where(in_layer, new, bound)
        moved = in_layer & (new < lay.lo0) & has_last
        value = np.full(n, -np.inf)
        np.maximum.at(value, group[moved], 1.0 - new[moved] / last[moved])
        change = np.where(mc_layer, value, change)
    if s_layer.any():
        s0 = cfg.stretch[0]

        def f_s(s: np.ndarray) -> np.ndarray:
            # s counts down from the stretch floor: the floor is (s0 - s) x P50.
            return cast("np.ndarray", np.maximum(lay.lo_hard, np.minimum(lay.lo_mc, _ceil((s0 - s) * p))).astype(np.int64))

        s = _search(group, n, need, f_s, np.zeros(n), np.full(n, s0 + 1.0), rising=False)
        in_layer = s_layer[group]
        new = f_s(s[group])
        bound = np.where(in_layer, new, bound)
        moved = in_layer & (new < lay.lo_mc)
        value = np.full(n, np.inf)
        np.minimum.at(value, group[moved], new[moved] / p[moved])
        stretch = np.where(s_layer, np.minimum(value, s0), stretch)
        change = np.where(s_layer, np.inf, change)
    return _Side(bound.astype(np.int64), stretch, change)


@dataclass
class _Rep:
    """Relaxed per-rep bounds and limits being assembled."""

    lo: np.ndarray
    hi: np.ndarray
    limits: RepLimits


def _apply(prep: Prepared, lay: Layers, group: np.ndarray, n: int, need: np.ndarray, reps: np.ndarray,
           out: _Rep) -> None:
    """Relax the bounds of ``reps`` (grouped by ``group``, one need per group) into ``out``."""
    subset = _Reps.of(prep, lay, reps)
    up, down = _raise(prep, subset, group, n, need), _lower(prep, subset, group, n, need)
    lim = out.limits
    out.hi[reps] = up.bound
    out.lo[reps] = down.bound
    for side, attr_s, attr_c in ((up, "stretch_hi", "change_up"), (down, "stretch_lo", "change_dn")):
        s = side.stretch[group]
        c = side.change[group]
        cur_s, cur_c = getattr(lim, attr_s), getattr(lim, attr_c)
        # A relaxed limit only loosens: a rep widened on its own (widen_conflicts) keeps its wider band.
        cur_s[reps] = np.fmin(cur_s[reps], s) if attr_s == "stretch_lo" else np.fmax(cur_s[reps], s)
        cur_c[reps] = np.where(np.isnan(c), cur_c[reps], c)


def _ka_range_ok(prep: Prepared, lo: np.ndarray, hi: np.ndarray, R: np.ndarray, ka_bounds: np.ndarray,
                 mixed: np.ndarray) -> np.ndarray:
    """Per unit: is there a ka total the relaxed bounds and ka_share allow at pool total R?"""
    n = prep.tree.n
    ka = prep.ka
    lo_ka = np.bincount(prep.rep_unit, weights=np.where(ka, lo, 0).astype(float), minlength=n)
    hi_ka = np.bincount(prep.rep_unit, weights=np.where(ka, hi, 0).astype(float), minlength=n)
    lo_lt = np.bincount(prep.rep_unit, weights=np.where(ka, 0, lo).astype(float), minlength=n)
    hi_lt = np.bincount(prep.rep_unit, weights=np.where(ka, 0, hi).astype(float), minlength=n)
    tol = _SHARE_TOL * np.maximum(R, 1)
    shared = mixed & np.isfinite(ka_bounds).all(axis=1)
    bounds = np.nan_to_num(ka_bounds)
    k_lo = np.where(shared, np.ceil(bounds[:, 0] * R - tol), -np.inf)
    k_hi = np.where(shared, np.floor(bounds[:, 1] * R + tol), np.inf)
    first = np.maximum.reduce([k_lo, lo_ka, R - hi_lt])
    last = np.minimum.reduce([k_hi, hi_ka, R - lo_lt])
    return cast("np.ndarray", first <= last)


def relax(prep: Prepared, pool: Pools, share: Shares, lay: Layers, totals: ElasticTotals) -> tuple[Prepared, Shares]:
    """The relaxed problem whose limits hold the elastic totals (see module docstring).

    Returns
    -------
    (Prepared, Shares)
        ``bounds``, ``limits`` and ``ka_bounds`` relaxed where the totals need it; the flex
        bands of ``Shares`` widened to the totals.
    """
    tree, n = prep.tree, prep.tree.n
    T, K, L, R = totals.T, totals.K, totals.L, totals.R
    fixed = np.isfinite(tree.fixed)
    fixed[0] = True
    lo_band = np.where(fixed, share.lo, np.minimum(share.lo, T))
    hi_band = np.where(fixed, share.hi, np.maximum(share.hi, T))
    inner = share.has_children & (pool.n_reps > 0)
    pool_lo = np.where(inner, np.minimum(share.pool_lo, R), share.pool_lo)
    pool_hi = np.where(inner, np.maximum(share.pool_hi, R), share.pool_hi)
    share_r = replace(share, lo=lo_band.astype(np.int64), hi=hi_band.astype(np.int64),
                      pool_lo=pool_lo.astype(np.int64), pool_hi=pool_hi.astype(np.int64))

    ka_bounds = prep.ka_bounds.copy()
    has = pool.mixed & np.isfinite(ka_bounds).all(axis=1) & (R > 0)
    frac = np.divide(K, R, out=np.zeros(n), where=R > 0)
    tol = _SHARE_TOL
    below = has & (frac < ka_bounds[:, 0] - tol)
    above = has & (frac > ka_bounds[:, 1] + tol)
    ka_bounds[below, 0] = frac[below]
    ka_bounds[above, 1] = frac[above]

    lim = prep.limits
    out = _Rep(lay.lo0.copy(), lay.hi0.copy(),
               RepLimits(lim.stretch_lo.copy(), lim.stretch_hi.copy(), lim.change_dn.copy(), lim.change_up.copy()))
    reps = np.arange(prep.n_reps)
    # One relaxed value per pool first; per role where ka_share cannot hold with it.
    _apply(prep, lay, prep.rep_unit, n, R.astype(float), reps, out)
    per_role = pool.mixed & ~_ka_range_ok(prep, out.lo, out.hi, R.astype(float), ka_bounds, pool.mixed)
    if per_role.any():
        sel = np.flatnonzero(per_role[prep.rep_unit])
        out.lo[sel], out.hi[sel] = lay.lo0[sel], lay.hi0[sel]
        for arr, src in ((out.limits.stretch_lo, lim.stretch_lo), (out.limits.stretch_hi, lim.stretch_hi),
                         (out.limits.change_dn, lim.change_dn), (out.limits.change_up, lim.change_up)):
            arr[sel] = src[sel]
        group = 2 * prep.rep_unit[sel] + (~prep.ka[sel]).astype(np.int64)
        need = np.stack([K, L], 1).ravel().astype(float)
        _apply(prep, lay, group, 2 * n, need, sel, out)
    return replace(prep, bounds=_bounds(prep, lay, out), limits=out.limits, ka_bounds=ka_bounds), share_r


def _bounds(prep: Prepared, lay: Layers, out: _Rep) -> RepBounds:
    """The relaxed RepBounds: relaxed sides carry the *_RELAXED family codes."""
    b = prep.bounds
    cfg, p = prep.config, prep.p50
    s_hi = np.floor(cfg.stretch[1] * p + _EPS * np.maximum(1.0, cfg.stretch[1] * p))
    s_lo = np.ceil(cfg.stretch[0] * p - _EPS * np.maximum(1.0, cfg.stretch[0] * p))
    raised = out.hi > lay.hi0
    hi_src = np.where(raised & (out.hi > s_hi), STRETCH_MAX_RELAXED,
                      np.where(raised, MAX_CHANGE_RELAXED, b.hi_src)).astype(np.int8)
    lo_src = np.where((out.lo < s_lo) & (out.lo < lay.lo0), STRETCH_MIN_RELAXED,
                      np.where(out.lo < lay.lo0, MAX_CHANGE_RELAXED, b.lo_src)).astype(np.int8)
    changed_hi, changed_lo = out.hi != lay.hi0, out.lo != lay.lo0
    hi = np.where(changed_hi, out.hi, b.hi)
    lo = np.where(changed_lo, out.lo, b.lo)
    return RepBounds(lo, hi, out.lo.astype(np.int64), out.hi.astype(np.int64), lo_src, hi_src,
                     out.lo > out.hi, b.max_change_gave_way)


def widen_conflicts(prep: Prepared) -> tuple[Prepared, np.ndarray]:
    """Give each rep whose own limits admit no whole multiple of ``unit`` the nearest one.

    Such a rep (a stretch band narrower than one ``unit``) cannot hold its limits
    whatever the rest of the plan does; the least relaxation is the whole multiple
    nearest its band. Conflicts between max_change and stretch under
    ``max_change_conflict: error`` are left alone: the user asked for them to stop the plan.

    Returns
    -------
    (Prepared, ndarray)
        The problem with those reps' bounds and limits widened, and the reps' indices.
    """
    b = prep.bounds
    mc = (b.lo_src == MAX_CHANGE) | (b.hi_src == MAX_CHANGE)
    idx = np.flatnonzero(b.conflict & ~prep.is_locked & ~(mc & (b.lo > b.hi)))
    if idx.size == 0:
        return prep, idx
    lo, hi = b.lo[idx], b.hi[idx]
    down, up = np.maximum(np.floor(hi), 0), np.ceil(lo)
    pick = np.where(lo - down <= up - hi, down, up).astype(np.int64)
    lo_int, hi_int = b.lo_int.copy(), b.hi_int.copy()
    lo_int[idx], hi_int[idx] = pick, pick
    lo_src, hi_src = b.lo_src.copy(), b.hi_src.copy()
    lowered = pick < lo
    lo_src[idx[lowered]] = STRETCH_MIN_RELAXED
    hi_src[idx[~lowered]] = STRETCH_MAX_RELAXED
    mask = np.zeros(b.lo.size, dtype=bool)
    mask[idx] = True
    bounds = replace(b, lo=np.where(mask, lo_int, b.lo), hi=np.where(mask, hi_int, b.hi), lo_int=lo_int,
                     hi_int=hi_int, lo_src=lo_src, hi_src=hi_src, conflict=b.conflict & ~mask)
    lim = prep.limits
    ratio = pick / prep.p50[idx]
    stretch_lo, stretch_hi = lim.stretch_lo.copy(), lim.stretch_hi.copy()
    stretch_lo[idx] = np.minimum(stretch_lo[idx], ratio)
    stretch_hi[idx] = np.maximum(stretch_hi[idx], ratio)
    last = prep.last_ref[idx]
    change_dn, change_up = lim.change_dn.copy(), lim.change_up.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        move = np.where(last > 0, pick / last - 1.0, 0.0)
    change_dn[idx] = np.maximum(change_dn[idx], -move)
    change_up[idx] = np.maximum(change_up[idx], move)
    limits = RepLimits(stretch_lo, stretch_hi, change_dn, change_up)
    return replace(prep, bounds=bounds, limits=limits), idx
