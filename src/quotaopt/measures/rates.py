"""Rate measures (repurchase rate): a target per rep in [0, 1], against its own history and pool.

A rep's expected rate is its own record of the last two years (accounts that bought
again / accounts in its pool), shrunk toward the company rate with a beta prior whose
strength is read from how much reps differ beyond binomial noise (method of moments).
The company target is the last year's company rate grown by ``measure_targets`` (relative,
held at 1), or set outright; every rep's target is its expected rate moved by one common
amount so the pool-weighted mean meets it, each held within [0, 1]. The chance of reaching
it is binomial on the rep's pool: the accounts that bought from it in the last year.
A rate is not split over periods (it is tracked per period as it stands).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from quotaopt.measures.records import RateMeasure
from quotaopt.records import TargetBasis
from quotaopt.scenario import MeasureTarget

__all__ = ["RatePlan", "plan_rate"]

#: Prior strength (pseudo accounts) is held within these when read from the data.
PRIOR_LIMITS = (2.0, 1000.0)


@dataclass
class RatePlan:
    """A rate measure planned per rep."""

    quota: np.ndarray  # target rate per rep, in [0, 1]
    expected: np.ndarray
    pool: np.ndarray
    p_attain: np.ndarray
    summary: RateMeasure


def _prior_strength(again: np.ndarray, pool: np.ndarray, mean: float) -> float:
    seen = pool > 0
    if seen.sum() < 2 or not 0.0 < mean < 1.0:
        return PRIOR_LIMITS[1]
    rates = again[seen] / pool[seen]
    between = float(np.var(rates) - np.mean(mean * (1 - mean) / pool[seen]))
    if between <= 0:
        return PRIOR_LIMITS[1]
    return float(np.clip(mean * (1 - mean) / between - 1.0, *PRIOR_LIMITS))


def plan_rate(repurchase: pd.DataFrame, rep_ids: np.ndarray, plan_year: int,
              goal: MeasureTarget | None) -> RatePlan:
    """Plan the repurchase rate of every rep (see the module).

    Parameters
    ----------
    repurchase : DataFrame
        ``pool`` and ``again`` by (rep_id, year) (:func:`quotaopt.measures.history.repurchases`).
    rep_ids : ndarray
    plan_year : int
    goal : MeasureTarget or None
    """
    years = repurchase.index.get_level_values("year")
    done = repurchase[(years < plan_year) & (years >= plan_year - 2)].groupby(level="rep_id").sum()
    again = done["again"].reindex(rep_ids, fill_value=0).to_numpy(dtype=np.float64)
    seen = done["pool"].reindex(rep_ids, fill_value=0).to_numpy(dtype=np.float64)
    mean = float(again.sum() / seen.sum()) if seen.sum() > 0 else 0.0
    strength = _prior_strength(again, seen, mean)
    expected = (again + strength * mean) / (seen + strength)
    pool_now = repurchase[years == plan_year]["pool"].droplevel("year")
    pool = pool_now.reindex(rep_ids, fill_value=0).to_numpy(dtype=np.int64)

    last = repurchase[years == plan_year - 1]
    last_rate = float(last["again"].sum() / last["pool"].sum()) if last["pool"].sum() > 0 else mean
    basis: dict[str, Any]
    if goal is not None and goal.company is not None:
        target, basis = float(goal.company), {"kind": "company"}
    else:
        growth = 0.0 if goal is None or goal.growth is None else goal.growth
        target = min(1.0, last_rate * (1.0 + growth))
        basis = {"kind": "growth", "growth": growth, "base_year": plan_year - 1, "base": last_rate}
    weight = pool if pool.sum() > 0 else np.ones(len(pool))

    def gap(shift: float) -> float:
        return float(np.average(np.clip(expected + shift, 0.0, 1.0), weights=weight) - target)

    shift = 0.0 if abs(gap(0.0)) < 1e-12 else float(optimize.brentq(gap, -1.0, 1.0, xtol=1e-12)) \
        if gap(-1.0) <= 0.0 <= gap(1.0) else (-1.0 if gap(-1.0) > 0 else 1.0)
    quota = np.clip(expected + shift, 0.0, 1.0)
    need = np.ceil(quota * pool - 1e-9)
    p_attain = np.where(pool > 0, stats.binom.sf(need - 1, pool, expected), np.nan)
    summary = RateMeasure(company_target=target, target_basis=TargetBasis.model_validate(basis),
                          company_expected=float(np.average(expected, weights=weight)), prior_strength=strength,
                          shift=shift)
    return RatePlan(quota, expected, pool, p_attain, summary)
