"""Per-rep quota bounds, one ``define_*`` function per family, each remembering its source.

Every family is a pair of arrays (lower, upper) in scaled units (currency / ``unit``);
:func:`rep_bounds` intersects them in a fixed precedence and records which family set
each side, so that explanations and the ``binding`` column can name it.

Precedence (documented in docs/allocation.md): ``locked`` replaces everything;
``ramp`` and a caller's ``max_quota`` (e.g. a re-plan's "no higher than before" for a
rep ahead of pace) are caps that also lower any floor above them (they outrank
``stretch_min`` and ``max_change``); ``stretch`` outranks ``max_change`` where
a rep's two bands do not overlap (:func:`yield_to_stretch`; with
``max_change_conflict: error`` such a rep makes the plan infeasible instead). Last
quotas set from one lucky or unlucky year are common, and refusing a whole plan for a
few of them, or keeping a quota 1.5 times a rep's capacity, serves nobody; the reps
are reported. ``max_change`` only binds reps who were
fully ramped for the whole previous year (see :func:`full_year_last`): anyone else's
last quota was a ramped share of a year and says nothing about a full one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.calendar import full_quarters, ramp_share
from quotaopt.scenario import AllocationConfig

NONE, STRETCH_MIN, STRETCH_MAX, MAX_CHANGE, RAMP, LOCKED = range(6)
# Sides an elastic solve relaxed (see allocation/relax.py): the family that gave way.
STRETCH_MIN_RELAXED, STRETCH_MAX_RELAXED, MAX_CHANGE_RELAXED = range(6, 9)
#: A re-plan's ceiling on a rep ahead of pace (replan.ratchet: none): a hard cap.
MAX_QUOTA = 9
#: Family code -> the word used in ``binding`` and in explanations.
LABELS = ("none", "stretch_min", "stretch_max", "max_change", "ramp", "locked",
          "stretch_min_relaxed", "stretch_max_relaxed", "max_change_relaxed", "max_quota")
#: Caps that also lower any floor above them (the rep gets the cap).
CAPS = (RAMP, MAX_QUOTA)
_EPS = 1e-9


@dataclass
class RepBounds:
    """Intersected bounds of every rep (scaled units) and the family behind each side."""

    lo: np.ndarray  # float, exact
    hi: np.ndarray
    lo_int: np.ndarray  # int64: smallest whole multiple allowed
    hi_int: np.ndarray
    lo_src: np.ndarray  # int8 family codes
    hi_src: np.ndarray
    conflict: np.ndarray  # bool: no whole multiple of unit fits
    max_change_gave_way: np.ndarray  # bool: max_change widened to reach the stretch band


def _dates(hire_date: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    dates = pd.to_datetime(hire_date)
    year = dates.dt.year.to_numpy(dtype=float)
    return year, dates.dt.month.to_numpy(dtype=float), dates.dt.day.to_numpy(dtype=float), ~np.isnan(year)


def full_year_last(hire_date: pd.Series, plan_year: int, n_quarters: int) -> np.ndarray:
    """True for reps fully ramped for the whole year before ``plan_year``.

    That is, at least ``n_quarters`` (= ``len(ramp)``) full quarters of tenure on
    January 1 of ``plan_year - 1``. Only for them is ``last_quota`` a full year's quota,
    comparable with this year's; a rep who ramped during the previous year carries a
    ramped share there (e.g. 76k against a fully ramped capacity of 595k), so
    ``max_change`` and the year-on-year change penalty ignore it.

    Parameters
    ----------
    hire_date : Series of datetime64
        NaT counts as fully ramped (an established rep whose date is unknown).
    plan_year : int
    n_quarters : int

    Returns
    -------
    ndarray of bool
    """
    year, month, day, known = _dates(hire_date)
    k = full_quarters(year, month, day, plan_year - 1, 1)
    return ~known | (np.nan_to_num(k, nan=0.0) >= n_quarters)


def ramp_factor(hire_date: pd.Series, plan_year: int, ramp: tuple[float, ...]) -> np.ndarray:
    """Mean ramp share over the four quarters of ``plan_year``.

    For each quarter, k = full quarters of tenure at the quarter's first day; the share
    is ``ramp[k]`` (1.0 beyond the list) and 0 when the rep is hired after that day.

    Parameters
    ----------
    hire_date : Series of datetime64
    plan_year : int
    ramp : tuple of float

    Returns
    -------
    ndarray
        r in [0, 1] per rep; NaT hire dates count as fully ramped.
    """
    year, month, day, known = _dates(hire_date)
    shares = np.ones((year.size, 4))
    table = np.asarray(ramp, dtype=float)
    for quarter in range(4):
        q_month = 3 * quarter + 1
        hired_after = (year > plan_year) | ((year == plan_year) & ((month > q_month) | ((month == q_month) & (day > 1))))
        k = np.where(known, full_quarters(year, month, day, plan_year, q_month), 1e9).astype(np.int64)
        share = ramp_share(k, table, after=1.0)
        shares[:, quarter] = np.where(known & hired_after, 0.0, share)
    return shares.mean(axis=1)


def ramp_reference(p50: np.ndarray, fte: np.ndarray, ka: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per-rep reference capacity: median of p50 / fte over fully ramped reps of its role.

    Falls back to all fully ramped reps, then to all reps of the role, then to all reps.
    """
    per_fte = p50 / fte
    ref = np.empty_like(p50)
    for role in (True, False):
        pools = (per_fte[(ka == role) & (r >= 1.0)], per_fte[r >= 1.0], per_fte[ka == role], per_fte)
        pool = next(p for p in pools if p.size)
        ref[ka == role] = np.median(pool)
    return ref


def define_stretch_bounds(p50: np.ndarray, stretch: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """``stretch``: stretch_low x p50 <= quota <= stretch_high x p50."""
    return stretch[0] * p50, stretch[1] * p50


def define_max_change_bounds(last: np.ndarray, max_change: float | None,
                             full_year: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``max_change``: |quota - last_quota| <= max_change x last_quota.

    Not prorated by fte. A missing or non-positive last_quota sets no bound (a rep back
    from leave with last_quota 0 is not pinned to 0), nor does the last quota of a rep
    who was not fully ramped for the whole previous year (``full_year`` False; see
    :func:`full_year_last`).
    """
    has = np.isfinite(last) & (last > 0) & (max_change is not None)
    if full_year is not None:
        has &= full_year
    mc = 0.0 if max_change is None else max_change
    lo = np.where(has, np.maximum(0.0, (1 - mc) * np.nan_to_num(last)), -np.inf)
    hi = np.where(has, (1 + mc) * np.nan_to_num(last), np.inf)
    return lo, hi


def yield_to_stretch(m_lo: np.ndarray, m_hi: np.ndarray, s_lo: np.ndarray, s_hi: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Widen ``max_change`` bands that miss the stretch band just enough to reach it.

    A rep whose last quota needs more than stretch allows gets the largest whole
    multiple inside the stretch band (and one who needs less, the smallest): the quota
    closest to last year's that is still fair against capacity. "Needs more" is
    counted in whole multiples of ``unit`` (all arrays are scaled): bands that overlap
    by less than one unit, with no whole multiple in common, miss each other too.

    Returns
    -------
    (m_lo, m_hi, gave_way)
        The widened bands and which reps were widened.
    """
    nearest_hi = np.floor(s_hi + _EPS * np.maximum(1.0, np.abs(s_hi)))
    nearest_lo = np.ceil(s_lo - _EPS * np.maximum(1.0, np.abs(s_lo)))
    with np.errstate(invalid="ignore"):  # infinite bands (no last quota) never miss
        above = np.ceil(m_lo - _EPS * np.maximum(1.0, np.abs(m_lo))) > nearest_hi
        below = np.floor(m_hi + _EPS * np.maximum(1.0, np.abs(m_hi))) < nearest_lo
    return np.where(above, nearest_hi, m_lo), np.where(below, nearest_lo, m_hi), above | below


def define_ramp_bounds(r: np.ndarray, ref: np.ndarray, fte: np.ndarray, stretch_high: float) -> np.ndarray:
    """``ramp``: for reps with r < 1, quota <= r x stretch_high x ref x fte (a cap)."""
    return np.where(r < 1.0, r * stretch_high * ref * fte, np.inf)


def define_max_quota_bounds(max_quota: np.ndarray | None, n: int) -> np.ndarray:
    """``max_quota``: a ceiling given by the caller per rep (NaN or None = none)."""
    if max_quota is None:
        return np.full(n, np.inf)
    return np.where(np.isfinite(max_quota), max_quota, np.inf)


def define_locked_bounds(locked: np.ndarray) -> np.ndarray:
    """``locked_quota``: honoured exactly (NaN = not locked)."""
    return locked


def rep_bounds(
    p50: np.ndarray,
    fte: np.ndarray,
    last: np.ndarray,
    locked: np.ndarray,
    r: np.ndarray,
    ref: np.ndarray,
    config: AllocationConfig,
    full_year: np.ndarray | None = None,
    max_quota: np.ndarray | None = None,
) -> RepBounds:
    """Intersect every family of rep bounds (all arrays in scaled units).

    ``full_year`` marks the reps whose last quota counts for ``max_change`` (all when None);
    ``max_quota`` is a per-rep ceiling (NaN = none).

    Returns
    -------
    RepBounds
    """
    s_lo, s_hi = define_stretch_bounds(p50, config.stretch)
    m_lo, m_hi = define_max_change_bounds(last, config.max_change, full_year)
    gave_way = np.zeros(p50.shape, dtype=bool)
    if config.max_change_conflict == "stretch":
        m_lo, m_hi, gave_way = yield_to_stretch(m_lo, m_hi, s_lo, s_hi)
    cap = define_ramp_bounds(r, ref, fte, config.stretch[1])
    lock = define_locked_bounds(locked)

    lo, lo_src = s_lo.copy(), np.full(p50.shape, STRETCH_MIN, dtype=np.int8)
    hi, hi_src = s_hi.copy(), np.full(p50.shape, STRETCH_MAX, dtype=np.int8)
    # Ties go to the more specific family (max_change over stretch).
    take = m_lo >= lo - _EPS
    lo, lo_src = np.where(take, m_lo, lo), np.where(take, MAX_CHANGE, lo_src).astype(np.int8)
    take = m_hi <= hi + _EPS
    hi, hi_src = np.where(take, m_hi, hi), np.where(take, MAX_CHANGE, hi_src).astype(np.int8)
    # Where max_change gave way, the stretch edge it was widened to is what sets the quota.
    lo_src = np.where(gave_way & (lo_src == MAX_CHANGE), STRETCH_MAX, lo_src).astype(np.int8)
    hi_src = np.where(gave_way & (hi_src == MAX_CHANGE), STRETCH_MIN, hi_src).astype(np.int8)
    take = cap <= hi + _EPS
    hi, hi_src = np.where(take, cap, hi), np.where(take, RAMP, hi_src).astype(np.int8)
    ceiling = define_max_quota_bounds(max_quota, p50.size)
    take = ceiling <= hi + _EPS
    hi, hi_src = np.where(take, ceiling, hi), np.where(take, MAX_QUOTA, hi_src).astype(np.int8)
    lo_int = np.ceil(lo - _EPS * np.maximum(1.0, np.abs(lo))).astype(np.int64)
    hi_int = np.floor(hi + _EPS * np.maximum(1.0, np.abs(hi))).astype(np.int64)
    # A cap (ramp, max_quota) outranks any floor above it: such a rep gets the cap.
    ramped = np.isin(hi_src, CAPS) & (lo_int > hi_int)
    lo = np.where(ramped, hi_int, lo)
    lo_int = np.where(ramped, hi_int, lo_int)
    lo_src = np.where(ramped, hi_src, lo_src).astype(np.int8)
    is_locked = np.isfinite(lock)
    lock_int = np.rint(np.nan_to_num(lock)).astype(np.int64)
    lo, hi = np.where(is_locked, lock, lo), np.where(is_locked, lock, hi)
    lo_int, hi_int = np.where(is_locked, lock_int, lo_int), np.where(is_locked, lock_int, hi_int)
    lo_src = np.where(is_locked, LOCKED, lo_src).astype(np.int8)
    hi_src = np.where(is_locked, LOCKED, hi_src).astype(np.int8)
    return RepBounds(lo, hi, lo_int, hi_int, lo_src, hi_src, lo_int > hi_int, gave_way & ~is_locked)
