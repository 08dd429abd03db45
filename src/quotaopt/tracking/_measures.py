"""Tracking every planned measure beside revenue: pace and colour per rep and measure.

``track`` on a run that planned more than revenue also writes ``status_measures.csv``:
for each rep and each amount or count measure, the plan to date (its own period quotas,
read as revenue's are), the actual to date and the pace, coloured by the same
``tracking`` thresholds. Actuals count as:

- ``revenue:<line>``: the actuals' bookings on that ``product_line``;
- ``deals``: positive bookings;
- ``new_customers``: accounts whose first positive booking ever (history and actuals)
  falls in the plan year by the as-of date, for the rep who booked it;
- ``repurchase_rate``: of the rep's pool (its buyers of the last year), the share that
  bought again by the as-of date, against the annual target (a rate is not pro-rated:
  it only rises through the year, so its colour compares it with the target times the
  elapsed share of the year).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from quotaopt.measure_names import parse_measure
from quotaopt.tracking._status import pace_and_status, plan_to_date

__all__ = ["MEASURE_STATUS_COLUMNS", "measure_status"]

#: Column order of status_measures.csv.
MEASURE_STATUS_COLUMNS = ["rep_id", "measure", "plan_to_date", "actual_to_date", "pace", "status"]


def _counts(frame: pd.DataFrame, ids: pd.Series) -> np.ndarray:
    return frame.groupby(frame["rep_id"].astype(str)).size().reindex(ids, fill_value=0).to_numpy(dtype=np.float64)


def measure_status(measure_periods: pd.DataFrame, history: pd.DataFrame, actuals: pd.DataFrame,
                   rep_ids: pd.Series, hire_dates: pd.Series, plan_year: int, as_of: dt.date,
                   red: float, green: float) -> pd.DataFrame:
    """Pace and status of every rep on every non-revenue measure (see the module).

    Parameters
    ----------
    measure_periods : DataFrame
        ``rep_id, measure, period, quota``: plan_periods.csv's rows of the other measures.
    history : DataFrame
        Bookings before the plan year (for new customers and repurchase pools).
    actuals : DataFrame
        The plan year's bookings so far (``load_actuals``).
    """
    ids = rep_ids.astype(str)
    upto = actuals[pd.to_datetime(actuals["date"]) <= pd.Timestamp(as_of)]
    positive = upto[upto["amount"] > 0]
    parts = []
    for name, periods in measure_periods.groupby("measure", sort=False):
        measure = parse_measure(str(name))
        quota = pd.to_numeric(periods["quota"])
        plan_td, year_share = plan_to_date(periods.assign(quota=quota), ids, hire_dates, plan_year, as_of)
        if measure.family == "revenue_line":
            booked = upto[upto.get("product_line", pd.Series(index=upto.index, dtype=object)) == measure.qualifier]
            actual = booked.groupby(booked["rep_id"].astype(str))["amount"].sum().reindex(ids, fill_value=0.0)
            actual_td = actual.to_numpy(dtype=np.float64)
        elif measure.family == "deals":
            actual_td = _counts(positive, ids)
        elif measure.family == "new_customers":
            seen = set(history.loc[(history["amount"] > 0) & history["account_id"].notna(), "account_id"])
            fresh = positive[positive["account_id"].notna() & ~positive["account_id"].isin(seen)]
            first = fresh.sort_values(["date", "rep_id"], kind="stable").drop_duplicates("account_id")
            actual_td = _counts(first, ids)
        else:  # repurchase_rate: the share of last year's buyers who bought again
            last = history[(history["date"].dt.year == plan_year - 1) & (history["amount"] > 0)
                           & history["account_id"].notna()].sort_values(["date", "rep_id"], kind="stable")
            owner = last.drop_duplicates("account_id", keep="last")
            again = owner["account_id"].isin(set(positive["account_id"].dropna()))
            pool = owner.groupby(owner["rep_id"].astype(str)).size().reindex(ids, fill_value=0)
            hits = owner[again.to_numpy()].groupby(owner["rep_id"].astype(str)).size().reindex(ids, fill_value=0)
            actual_td = np.divide(hits.to_numpy(dtype=float), pool.to_numpy(dtype=float),
                                  out=np.full(len(ids), np.nan), where=pool.to_numpy() > 0)
            target = periods.groupby(periods["rep_id"].astype(str))["quota"].first().reindex(ids)
            plan_td = pd.to_numeric(target).to_numpy(dtype=np.float64) * year_share
        pace, status = pace_and_status(plan_td, np.nan_to_num(actual_td), red, green)
        parts.append(pd.DataFrame({"rep_id": ids.to_numpy(), "measure": str(name),
                                   "plan_to_date": np.round(plan_td, 4), "actual_to_date": np.round(actual_td, 4),
                                   "pace": pace, "status": status}))
    if not parts:
        return pd.DataFrame(columns=MEASURE_STATUS_COLUMNS)
    return pd.concat(parts, ignore_index=True)[MEASURE_STATUS_COLUMNS]
