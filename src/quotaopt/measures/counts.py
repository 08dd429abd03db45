"""Count measures (new customers, deals): whole-number targets allocated over the tree.

A rep's expected count is its revenue capacity times how many of the counted things it
wins per unit of revenue: its own ratio over the last two years, shrunk toward the
company's by a pseudo-amount (a rep with two deals last year is not planned on them
alone). Using the revenue capacity carries everything the capacity model knows -- tenure,
fte, ramp, trends -- into the count. The spread is Poisson around that mean.

The company number is the count of the year before the plan year grown by ``measure_targets``
(or set outright), times the plan's coverage (``target.over_assignment``); it is then
allocated by the same engine as revenue (:func:`quotaopt.allocation.allocate`) with the
unit 1 (whole customers), the same stretch, flex, fairness and ramp, and the same soft
limits giving way as exceptions. ``max_change`` (no last value), ``ka_share`` (a revenue
share) and locked quotas and fixed unit targets (they are amounts) do not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from quotaopt.measures.records import CountMeasure
from quotaopt.parallel import Executor
from quotaopt.records import LimitExceptionRecord, TargetBasis
from quotaopt.scenario import MeasureTarget, Scenario

__all__ = ["CountPlan", "SHRINK", "expected_counts", "plan_count"]

#: The company ratio weighs like this share of a median rep's two-year bookings.
SHRINK = 0.25
#: The least P10 handed to the allocation, as a share of the expected count.
FLOOR_P10 = 0.05


def expected_counts(counts: pd.Series, bookings: pd.Series, rep_ids: np.ndarray, capacity_p50: np.ndarray,
                    plan_year: int) -> np.ndarray:
    """Expected count per rep in the plan year (see the module).

    Parameters
    ----------
    counts : Series
        Count by (rep_id, year) (:mod:`quotaopt.measures.history`).
    bookings : Series
        Bookings by (rep_id, year), the same years.
    rep_ids, capacity_p50 : ndarray
        The reps planned and their revenue capacity P50.
    """
    years = [plan_year - 2, plan_year - 1]

    def recent(series: pd.Series) -> np.ndarray:
        frame = series[series.index.get_level_values("year").isin(years)].groupby(level="rep_id").sum()
        return frame.reindex(rep_ids, fill_value=0).to_numpy(dtype=np.float64)

    c, b = recent(counts), np.clip(recent(bookings), 0.0, None)
    ratio = c.sum() / b.sum() if b.sum() > 0 else 0.0
    pseudo = SHRINK * float(np.median(b[b > 0])) if (b > 0).any() else 1.0
    own = (c + pseudo * ratio) / (b + pseudo)
    return np.asarray(np.clip(own * np.clip(capacity_p50, 0.0, None), 0.0, None))


def company_count(goal: MeasureTarget | None, counts: pd.Series, plan_year: int) -> tuple[float, dict[str, Any]]:
    """The company number of a count measure and how it was reached."""
    if goal is not None and goal.company is not None:
        return float(goal.company), {"kind": "company"}
    by_year = counts.groupby(level="year").sum()
    base_year = plan_year - 1  # a year without one new customer counts 0, it is not skipped
    base = float(by_year.get(base_year, 0.0))
    growth = 0.0 if goal is None or goal.growth is None else goal.growth
    return base * (1.0 + growth), {"kind": "growth", "growth": growth, "base_year": base_year, "base": base}


@dataclass
class CountPlan:
    """One count measure planned: per rep and the company number."""

    quota: np.ndarray  # int64 per rep, in the caller's rep order
    capacity_p50: np.ndarray
    p_attain: np.ndarray
    binding: np.ndarray
    summary: CountMeasure


def plan_count(name: str, reps: pd.DataFrame, teams: pd.DataFrame, expected: np.ndarray, scenario: Scenario,
               counts: pd.Series, plan_year: int, executor: Executor | None = None) -> CountPlan:
    """Allocate one count measure over the tree (see the module).

    ``reps`` are the active reps as revenue planned them (rep_id, team_id, role, fte, hire_date).
    """
    from quotaopt.allocation import allocate

    target, basis = company_count(scenario.measure_targets.get(name), counts, plan_year)
    total = float(np.rint(target * (1.0 + scenario.target.over_assignment)))
    frame = reps[["rep_id", "team_id", "role", "fte", "hire_date"]].assign(
        last_quota=np.nan, locked_quota=np.nan,
        capacity_p10=stats.poisson.ppf(0.1, expected).astype(np.float64),
        capacity_p50=expected, capacity_p90=stats.poisson.ppf(0.9, expected).astype(np.float64))
    # Poisson quantiles are whole numbers; the P50 stays the mean (what stretch is measured on).
    # The engine reads a positive P10 (a P10 of 0 customers is common): at least FLOOR_P10 of the mean.
    frame["capacity_p10"] = np.clip(frame["capacity_p10"], FLOOR_P10 * expected, expected)
    frame["capacity_p90"] = np.maximum(frame["capacity_p90"], expected)
    config = scenario.allocation.model_copy(update={"unit": 1.0, "max_change": None, "ka_share": None})
    tree = teams.assign(target=np.nan) if "target" in teams else teams
    alloc = allocate(frame, tree, total, config, plan_year, executor=executor)
    quota = np.rint(alloc.reps["quota"].to_numpy(dtype=np.float64)).astype(np.int64)
    p_attain = stats.poisson.sf(quota - 1, expected)  # P(count >= quota)
    summary = CountMeasure(company_target=target, target_basis=TargetBasis.model_validate(basis),
                           total_quota=int(quota.sum()), capacity_p50=float(expected.sum()),
                           exceptions=[LimitExceptionRecord.model_validate(e.record()) for e in alloc.exceptions],
                           solver_status=alloc.solver.status)
    return CountPlan(quota, expected, p_attain, alloc.reps["binding"].to_numpy(dtype=object), summary)
