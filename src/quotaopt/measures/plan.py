"""Every measure of a scenario planned beside revenue: ``plan_measures.csv`` and its periods.

Revenue is planned first, as always (plan.csv). Then each other measure of
``measures:`` in its own way, all per active rep:

- ``revenue:<line>``: the rep's revenue quota split over its lines (:mod:`.lines`);
  planned lines must cover every line the last two years booked.
- ``new_customers``, ``deals``: whole counts allocated over the tree (:mod:`.counts`).
- ``repurchase_rate``: a rate per rep in [0, 1] (:mod:`.rates`).

Periods: amounts and counts are split like revenue (:func:`quotaopt.periods.decompose`,
whole units, each rep's periods summing to its quota); a rate is the same in every period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.company import CompanyData
from quotaopt.errors import InputError, Problem
from quotaopt.measure_names import parse_measure
from quotaopt.measures import history as hist
from quotaopt.measures.counts import expected_counts, plan_count
from quotaopt.measures.lines import forecast_line_shares
from quotaopt.measures.rates import plan_rate
from quotaopt.measures.records import LineMeasure, MeasureSummary
from quotaopt.measures.rounding import split_by_largest_remainder
from quotaopt.money import amounts, split_whole
from quotaopt.parallel import Executor
from quotaopt.scenario import Scenario

__all__ = ["MEASURE_COLUMNS", "MeasuresResult", "check_measure_inputs", "periods_with_measures", "plan_measures",
           "split_revenue_quota"]

#: Column order of plan_measures.csv (contract §4).
MEASURE_COLUMNS = ["rep_id", "measure", "quota", "capacity_p50", "p_attain", "binding"]


@dataclass
class MeasuresResult:
    """``plan_measures.csv`` (every planned measure, revenue included), the periods of the
    other measures (``rep_id, measure, period, quota``) and ``summary.json`` ``measures``."""

    table: pd.DataFrame
    periods: pd.DataFrame
    summary: dict[str, MeasureSummary] = field(default_factory=dict)


def _rows(name: str, rep_ids: np.ndarray, quota: Any, capacity: np.ndarray, p_attain: np.ndarray,
          binding: Any, whole: bool = True) -> pd.DataFrame:
    values = _whole_where_whole(pd.Series(quota)) if whole else pd.Series(quota, dtype=object)
    return pd.DataFrame({"rep_id": rep_ids, "measure": name, "quota": values,
                         "capacity_p50": np.round(np.asarray(capacity, dtype=np.float64), 4),
                         "p_attain": np.round(np.asarray(p_attain, dtype=np.float64), 4), "binding": binding})


def split_revenue_quota(quota: np.ndarray, shares: np.ndarray, unit: float) -> np.ndarray:
    """Each rep's revenue quota over its lines: whole units by largest remainder, summing exactly.

    A quota that is not a whole number of units (a locked one) keeps the odd rest in its
    largest line.

    Examples
    --------
    >>> split_revenue_quota(np.array([101_000.0]), np.array([[0.6, 0.4]]), 1000.0).tolist()
    [[61000.0, 40000.0]]
    """
    whole, rest = split_whole(quota, unit)
    split = amounts(split_by_largest_remainder(whole, shares), unit).astype(np.float64)
    split[np.arange(len(quota)), np.argmax(shares, axis=1)] += rest
    return split


def _check_lines(bookings: pd.DataFrame, lines: dict[str, int], plan_year: int) -> None:
    recent = bookings[bookings["date"].dt.year >= plan_year - 2]["product_line"].dropna().unique()
    seen = sorted(str(x) for x in bookings["product_line"].dropna().unique())
    problems = [Problem("scenario", f"unknown product line {line!r} (bookings.csv product_line has: "
                        f"{seen[:10]})", column=f"measures[{i}]") for line, i in lines.items() if line not in seen]
    missing = sorted(str(x) for x in recent if x not in lines)
    if missing:
        problems.append(Problem("scenario", f"product lines {missing[:10]} are booked but not planned: plan every "
                                "line (revenue:<line>) or none, so a rep's lines add up to its revenue quota",
                                column="measures"))
    if problems:
        raise InputError(problems)


def check_measure_inputs(scenario: Scenario, company: CompanyData, plan_year: int) -> None:
    """What the measures need of the data, checked before any work (``validate`` and ``plan``).

    Raises
    ------
    InputError
        A product line never booked, a booked line not planned, a bookings column a
        measure needs (``product_line``, ``account_id``) missing -- each naming ``measures``.
    """
    history = company.bookings[company.bookings["date"].dt.year < plan_year]
    measures = [(i, parse_measure(m)) for i, m in enumerate(scenario.measures)]
    lines = {m.qualifier: i for i, m in measures if m.family == "revenue_line" and m.qualifier is not None}
    if lines:
        first = min(lines.values())
        _check_lines(hist.require_column(history, "product_line", scenario.measures[first], first), lines, plan_year)
    for i, m in measures:
        if m.family in ("new_customers", "repurchase_rate"):
            hist.require_column(history, "account_id", m.name, i)


def _period_frames(name: str, frame: pd.DataFrame, scenario: Scenario, plan_year: int, unit: float,
                   weights: pd.DataFrame) -> pd.DataFrame:
    from quotaopt.periods import decompose

    out = decompose(frame[["rep_id", "team_id", "role", "hire_date", "quota"]], plan_year,
                    scenario.periods.model_copy(update={"win_rate": None}), unit, weights, scenario.allocation.ramp)
    return out.assign(measure=name)[["rep_id", "measure", "period", "quota"]]


def plan_measures(scenario: Scenario, company: CompanyData, plan_year: int, reps: pd.DataFrame,
                  plan: pd.DataFrame, labels: list[str], month_weights: pd.DataFrame,
                  executor: Executor | None = None) -> MeasuresResult:
    """Plan every measure of ``scenario.measures`` beside revenue (see the module).

    Parameters
    ----------
    reps : DataFrame
        Active reps with their revenue ``quota`` and capacity quantiles (rep_id, team_id,
        role, fte, hire_date, ...).
    plan : DataFrame
        plan.csv's table (revenue): its rows become the revenue rows.
    labels : list of str
        The plan's period labels, in order (a rate is repeated over them).
    month_weights : DataFrame
        The seasonality the revenue periods were split by.
    """
    from quotaopt.incentives import QuantileCurve

    reps = reps.sort_values("rep_id", kind="stable").reset_index(drop=True)
    ids = reps["rep_id"].to_numpy(dtype=object)
    revenue = plan.set_index("rep_id").loc[ids]
    tables = [_rows("revenue", ids, revenue["quota"].to_numpy(), revenue["capacity_p50"].to_numpy(),
                    revenue["p_attain"].to_numpy(), revenue["binding"].to_numpy())]
    periods: list[pd.DataFrame] = []
    summary: dict[str, MeasureSummary] = {}
    history = company.bookings[company.bookings["date"].dt.year < plan_year]
    unit = scenario.allocation.unit
    measures = [(i, parse_measure(m)) for i, m in enumerate(scenario.measures)]

    check_measure_inputs(scenario, company, plan_year)
    lines = {m.qualifier: i for i, m in measures if m.family == "revenue_line" and m.qualifier is not None}
    if lines:
        with_lines = history[history["product_line"].notna()]
        shares = forecast_line_shares(hist.line_amounts(with_lines), ids, plan_year, list(lines))
        split = split_revenue_quota(reps["quota"].to_numpy(dtype=np.float64), shares.shares, unit)
        quantiles = reps[["capacity_p10", "capacity_p50", "capacity_p90"]].to_numpy(dtype=np.float64)
        for k, line in enumerate(lines):
            s = shares.shares[:, k]
            curve = QuantileCurve.fit(quantiles[:, 0] * s, quantiles[:, 1] * s, quantiles[:, 2] * s, ids)
            quota = split[:, k]
            quota_out = quota.astype(np.int64) if np.all(quota == np.round(quota)) and float(unit).is_integer() \
                else quota
            name = f"revenue:{line}"
            tables.append(_rows(name, ids, quota_out, quantiles[:, 1] * s, curve.prob_at_least(quota[None, :])[0],
                                "revenue_split"))
            periods.append(_period_frames(name, reps.assign(quota=quota), scenario, plan_year, unit, month_weights))
            summary[name] = LineMeasure(total_quota=float(quota.sum()),
                                        company_mix=round(float(shares.company_mix[k]), 6),
                                        line_growth=round(float(shares.line_growth[k]), 6))

    yearly = history.groupby([history["rep_id"], history["date"].dt.year.rename("year")])["amount"].sum()
    for _, m in measures:
        if m.family in ("new_customers", "deals"):
            data = history[history["account_id"].notna()] if m.family == "new_customers" else history
            counts = hist.new_customer_counts(data) if m.family == "new_customers" else hist.deal_counts(data)
            expected = expected_counts(counts, yearly, ids, reps["capacity_p50"].to_numpy(dtype=np.float64),
                                       plan_year)
            planned = plan_count(m.name, reps, company.teams, expected, scenario, counts, plan_year, executor=executor)
            tables.append(_rows(m.name, ids, planned.quota, expected, planned.p_attain, planned.binding))
            periods.append(_period_frames(m.name, reps.assign(quota=planned.quota.astype(np.float64)), scenario,
                                          plan_year, 1.0, month_weights))
            summary[m.name] = planned.summary
        elif m.family == "repurchase_rate":
            data = history[history["account_id"].notna()]
            rate = plan_rate(hist.repurchases(data), ids, plan_year, scenario.measure_targets.get(m.name))
            tables.append(_rows(m.name, ids, np.round(rate.quota, 4), rate.expected, rate.p_attain, "own_history",
                                whole=False))
            periods.append(pd.DataFrame({"rep_id": np.repeat(ids, len(labels)), "measure": m.name,
                                         "period": np.tile(np.asarray(labels, dtype=object), len(ids)),
                                         "quota": np.repeat(np.round(rate.quota, 4), len(labels))}))
            summary[m.name] = rate.summary
    order = {m: k for k, m in enumerate(scenario.measures)}
    table = pd.concat(tables, ignore_index=True)
    table = table.assign(_m=table["measure"].map(order)).sort_values(["rep_id", "_m"], kind="stable")
    return MeasuresResult(table.drop(columns="_m").reset_index(drop=True)[MEASURE_COLUMNS],
                          pd.concat(periods, ignore_index=True) if periods else pd.DataFrame(), summary)


def _whole_where_whole(values: pd.Series) -> pd.Series:
    """Integers where a frame's values are all whole (written as ``25000``, not ``25000.0``)."""
    v = values.to_numpy(dtype=np.float64)
    return pd.Series(v.astype(np.int64), index=values.index).astype(object) \
        if len(v) and bool(np.all(v == np.round(v))) else values.astype(object)


def periods_with_measures(revenue: pd.DataFrame, others: pd.DataFrame) -> pd.DataFrame:
    """plan_periods.csv with a ``measure`` column: revenue's rows, then every other measure's.

    Revenue keeps its deals and touches (empty on the other measures' rows).
    """
    rev = revenue.copy()
    rev.insert(1, "measure", "revenue")
    parts = [rev] + [g.reset_index(drop=True) for _, g in others.groupby("measure", sort=False)] if len(others) \
        else [rev]
    for part in parts:
        if len(part) and parse_measure(str(part["measure"].iloc[0])).unit != "rate":
            part["quota"] = _whole_where_whole(part["quota"])
    out = pd.concat(parts, ignore_index=True)
    for column in ("deals", "touches"):
        if column in out and pd.api.types.is_integer_dtype(revenue[column]):
            out[column] = out[column].astype("Int64")
    return out
