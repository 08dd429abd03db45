"""Targets from reachability: the quota total a share of reps can reach, the target met with a chance.

- ``target: {reps_at_quota: s}``: the expected share of reps reaching quota is the mean
  over reps of each rep's chance ``P(X_i >= q_i)`` (linearity of expectation: the
  company and team shocks of the simulation change how the share varies from draw to
  draw, not its mean), and each chance has a closed form under the simulation's own
  marginal (:meth:`quotaopt.incentives.QuantileCurve.prob_at_least`). So the total is
  found without simulating: a uniform stretch gives the first guess, then the real
  allocation (soft limits, rounding, locks) is solved at each total of a bracketing
  root search until the share is within :data:`SHARE_TOL`. The plan's simulation then
  measures the same share by Monte Carlo.
- ``target: {p_company: p}``: company bookings do not depend on quotas, so the target
  met with chance ``p`` is a quantile of the very draws the plan's simulation makes
  (:func:`quotaopt.incentives.company_bookings`): the plan's P(company target met) is
  then ``p`` exactly (to one draw).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quotaopt.incentives import QuantileCurve
from quotaopt.org_tree import OrgTree
from quotaopt.scenario import Scenario

#: The root search stops when the expected share is this close to the one asked for.
SHARE_TOL = 0.002
_MAX_SOLVES = 40


def expected_share(curve: QuantileCurve, quota: np.ndarray) -> float:
    """Expected share of reps (with a quota) whose yearly bookings reach their quota."""
    valid = quota > 0
    if not valid.any():
        return 1.0
    return float(curve.prob_at_least(quota)[valid].mean())


def _uniform_stretch(curve: QuantileCurve, p50: np.ndarray, share: float) -> float:
    """The stretch s at which quotas s x P50 would give the expected share (bisection)."""
    lo, hi = 0.0, 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if expected_share(curve, mid * p50) > share:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def quota_total_for_share(reps: pd.DataFrame, teams: pd.DataFrame, scenario: Scenario, plan_year: int,
                          share: float, **allocate_options: Any) -> tuple[float, float]:
    """The quota total whose plan has ``share`` of reps expected at quota.

    Parameters
    ----------
    reps : DataFrame
        The active reps with their capacities (as :func:`quotaopt.allocation.allocate` takes them).
    teams : DataFrame
    scenario : Scenario
    plan_year : int
    share : float
        In (0, 1).
    **allocate_options
        Passed to ``allocate`` (``executor``).

    Returns
    -------
    (total, expected) : tuple of float
        The total (a whole multiple of ``allocation.unit``) and its plan's expected share.
    """
    from quotaopt.allocation import allocate

    curve = QuantileCurve.fit(reps["capacity_p10"], reps["capacity_p50"], reps["capacity_p90"],
                              reps["rep_id"].to_numpy())
    p50 = reps["capacity_p50"].to_numpy(dtype=float)
    unit = float(scenario.allocation.unit)
    order = reps["rep_id"].astype(str)

    def measured(total: float) -> float:
        alloc = allocate(reps, teams, total, scenario.allocation, plan_year, **allocate_options)
        quota = alloc.reps.set_index("rep_id")["quota"].reindex(order).to_numpy(dtype=float)
        return expected_share(curve, quota) - share

    def snap(total: float) -> float:
        return max(unit, float(np.floor(total / unit + 0.5)) * unit)

    guess = snap(_uniform_stretch(curve, p50, share) * p50.sum())
    f_guess = measured(guess)
    if abs(f_guess) <= SHARE_TOL:
        return guess, f_guess + share
    # Bracket: the share falls as the total rises.
    step = 0.05 * guess
    a, fa = guess, f_guess
    b, fb = a, fa
    for _ in range(_MAX_SOLVES):
        b = snap(a + step if fa > 0 else max(unit, a - step))
        fb = measured(b)
        if np.sign(fb) != np.sign(fa) or b == a:
            break
        a, fa, step = b, fb, step * 2
    best, f_best = (a, fa) if abs(fa) <= abs(fb) else (b, fb)
    # Illinois regula falsi on the bracket [a, b]: few allocations, and never outside it.
    for _ in range(_MAX_SOLVES):
        if abs(f_best) <= SHARE_TOL or abs(b - a) <= unit:
            break
        c = snap(b - fb * (b - a) / (fb - fa)) if fb != fa else snap(0.5 * (a + b))
        if c in (a, b):
            c = snap(0.5 * (a + b))
            if c in (a, b):
                break
        fc = measured(c)
        if abs(fc) < abs(f_best):
            best, f_best = c, fc
        if np.sign(fc) == np.sign(fb):
            fa *= 0.5
        else:
            a, fa = b, fb
        b, fb = c, fc
    return best, f_best + share


def target_for_p_company(reps: pd.DataFrame, units: pd.DataFrame, scenario: Scenario, p: float,
                         org: OrgTree | None = None) -> float:
    """The company target met with chance ``p`` in the plan's own simulation draws (``org``: the tree of ``units``)."""
    from quotaopt.incentives import company_bookings

    draws = np.sort(company_bookings(reps, units, scenario.incentives, scenario.simulation, org))
    k = int(np.floor((1.0 - p) * draws.size + 1e-9))
    return float(draws[min(k, draws.size - 1)])
