"""What "fair" means, as a line the MILP can use: each rep's fair quota and deviation weights.

Both fairness modes share one linear shape, and both fill "water" between bounds: a rep
whose own bound holds it below (or above) the unit's level gets its bound as its fair
quota, and the others share the rest. For the free (not locked) reps of a unit
with free total R, rep i's fair quota is ``y_i = a_i + b_i R`` and its deviation is
``w_up_i (q_i - y_i)`` above and ``w_dn_i (y_i - q_i)`` below.

- ``stretch``: y_i = s p50_i with the unit's stretch s set so the y_i sum to R, and
  w = 1 / p50_i, so a deviation is |q_i / p50_i - s|: a rep's stretch against its unit's.
  When nobody is held by a bound, s = R / P (P = free capacity).
- ``chance``: each rep's predictive distribution is a split log-normal through its
  P10, P50 and P90 (exact at those three points). Equal chance of reaching quota
  means a common standard score z: y_i = Q_i(z) with sum_i Q_i(z) = R. We linearise
  around the unit's level z0 (exactly at the fixed total when units are solved
  separately), and weight deviations by phi(z0) dz/dq, so they are in probability
  points. ``linearisation_error`` measures what this costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

Z90 = 1.2815515655446004  # standard normal 90% quantile
_MIN_SIGMA = 1e-3


@dataclass
class FairLine:
    """Fair quota ``a + b R`` and deviation weights per free rep (scaled units)."""

    a: np.ndarray
    b: np.ndarray
    w_up: np.ndarray
    w_dn: np.ndarray
    level: np.ndarray  # per unit: stretch R / P, or z0 in chance mode


def sigmas(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-scale spreads below and above the median of the split log-normal."""
    lo = np.maximum(np.log(p50 / p10) / Z90, _MIN_SIGMA)
    hi = np.maximum(np.log(p90 / p50) / Z90, _MIN_SIGMA)
    return lo, hi


def quantile(z: np.ndarray, p50: np.ndarray, s_lo: np.ndarray, s_hi: np.ndarray) -> np.ndarray:
    """Q(z) = p50 exp(sigma z), sigma = s_lo below the median and s_hi above."""
    return cast("np.ndarray", p50 * np.exp(z * np.where(z < 0, s_lo, s_hi)))


def z_score(q: np.ndarray, p50: np.ndarray, s_lo: np.ndarray, s_hi: np.ndarray) -> np.ndarray:
    """Standard score of a quota under the split log-normal (-inf at q = 0)."""
    with np.errstate(divide="ignore"):
        log_ratio = np.log(np.maximum(q, 0.0) / p50)
    return cast("np.ndarray", log_ratio / np.where(log_ratio < 0, s_lo, s_hi))


def p_attain(quota: ArrayLike, p10: ArrayLike, p50: ArrayLike, p90: ArrayLike) -> np.ndarray:
    """Chance of selling at least ``quota`` under the split log-normal through P10/P50/P90.

    Parameters
    ----------
    quota, p10, p50, p90 : array_like
        In the same currency (or the same scaled units).

    Returns
    -------
    ndarray
        Probabilities in [0, 1]; 1 for a zero quota.
    """
    q, a, b, c = (np.asarray(v, dtype=float) for v in (quota, p10, p50, p90))
    s_lo, s_hi = sigmas(a, b, c)
    return cast("np.ndarray", 1.0 - ndtr(z_score(q, b, s_lo, s_hi)))


def _fill(level: np.ndarray, group: np.ndarray, mode: str, p50: np.ndarray, s_lo: np.ndarray,
          s_hi: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    raw = level[group] * p50 if mode == "stretch" else quantile(level[group], p50, s_lo, s_hi)
    return cast("np.ndarray", np.clip(raw, lo, hi))


def water_level(mode: str, target: np.ndarray, group: np.ndarray, n_groups: int, p50: np.ndarray,
                s_lo: np.ndarray, s_hi: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per group, the level whose quotas, clipped to each rep's bounds, sum to ``target``.

    The level is a stretch (mode ``stretch``) or a standard score z (mode ``chance``);
    found by a vectorised bisection (60 halvings).
    """
    if mode == "stretch":
        top = np.zeros(n_groups)
        np.maximum.at(top, group, hi / p50)
        a, b = np.zeros(n_groups), top + 1.0
    else:
        a, b = np.full(n_groups, -8.0), np.full(n_groups, 8.0)
    for _ in range(60):
        mid = 0.5 * (a + b)
        total = np.bincount(group, weights=_fill(mid, group, mode, p50, s_lo, s_hi, lo, hi), minlength=n_groups)
        low = total < target
        a, b = np.where(low, mid, a), np.where(low, b, mid)
    return 0.5 * (a + b)


def fair_line(mode: str, group: np.ndarray, n_groups: int, free_total: np.ndarray,
              p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> FairLine:
    """Fair quota line and deviation weights for free reps (water-filling between bounds).

    At the unit's free total R0 (``free_total``) the fair quotas are the reps' level
    quotas clipped to their bounds, summing to R0. A clipped rep's fair quota is its
    bound (b = 0): a rep held by its own bound is not unfair to the others. The others
    share what remains, equally in stretch (exact for any R) or in chance (linearised
    at R0, exact when the unit's total is fixed).

    Parameters
    ----------
    mode : {'stretch', 'chance'}
    group : ndarray of int
        Unit (0..n_groups-1) of each free rep.
    free_total : ndarray, shape (n_groups,)
    p10, p50, p90, lo, hi : ndarray
        Capacities and integer bounds of the free reps, scaled units.
    """
    s_lo, s_hi = sigmas(p10, p50, p90)
    level = water_level(mode, free_total, group, n_groups, p50, s_lo, s_hi, lo, hi)
    li = level[group]
    raw = li * p50 if mode == "stretch" else quantile(li, p50, s_lo, s_hi)
    clipped = (raw <= lo) | (raw >= hi)
    y0 = np.clip(raw, lo, hi)
    if mode == "stretch":
        slope_up = slope_dn = p50
        density = np.ones_like(p50)
    else:
        # dQ/dz on each side of the level; the kink at the median is why up and down differ.
        slope_up = raw * np.where(li < 0, s_lo, s_hi)
        slope_dn = raw * np.where(li <= 0, s_lo, s_hi)
        density = np.exp(-0.5 * li**2) / np.sqrt(2 * np.pi)
    mid = np.where(clipped, 0.0, 0.5 * (slope_up + slope_dn))
    beta = mid / np.maximum(np.bincount(group, weights=mid, minlength=n_groups)[group], 1e-12)
    return FairLine(y0 - beta * free_total[group], beta, density / slope_up, density / slope_dn, level)


def deviations(mode: str, q: np.ndarray, group: np.ndarray, n_groups: int, p10: np.ndarray,
               p50: np.ndarray, p90: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Exact per-rep deviation from the unit's fair quota (stretch, or chance in points).

    The fair quotas are the water-filling quotas at the unit's actual free total, so
    this is the measure the model minimises (exactly in stretch mode; up to the
    linearisation in chance mode).
    """
    total = np.bincount(group, weights=q, minlength=n_groups)
    s_lo, s_hi = sigmas(p10, p50, p90)
    level = water_level(mode, total, group, n_groups, p50, s_lo, s_hi, lo, hi)
    y = _fill(level, group, mode, p50, s_lo, s_hi, lo, hi)
    if mode == "stretch":
        return cast("np.ndarray", np.abs(q - y) / p50)
    return cast("np.ndarray", np.abs(ndtr(z_score(q, p50, s_lo, s_hi)) - ndtr(z_score(y, p50, s_lo, s_hi))))


def linearisation_error(line: FairLine, q: np.ndarray, free_total: np.ndarray, group: np.ndarray,
                        n_groups: int, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray,
                        lo: np.ndarray, hi: np.ndarray) -> float:
    """Largest |model deviation - exact deviation| over reps, in probability points."""
    y = line.a + line.b * free_total[group]
    model = np.where(q >= y, line.w_up * (q - y), line.w_dn * (y - q))
    exact = deviations("chance", q, group, n_groups, p10, p50, p90, lo, hi)
    return float(np.max(np.abs(model - exact))) if q.size else 0.0
