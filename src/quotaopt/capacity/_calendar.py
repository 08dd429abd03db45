"""Calendar basics of the capacity history: which years are observed, who is employed when.

* A year is *observed* when the bookings cover it from January to December and the
  company booked something in it; a year inside the span with no booking at all is a
  hole in the data, not a year of zero sales.
* ``departed`` reps have no departure date in the contract: the year of their last
  booking stands in for it (they are treated as present up to that year, and that year
  is probably partial).
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from quotaopt.company import CompanyData, distinct_years
from quotaopt.errors import Problem


def year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """January 1 of ``year`` and of the year after (the end is exclusive)."""
    return pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year + 1, month=1, day=1)


def ns(moment: pd.Timestamp) -> np.datetime64:
    """``moment`` as a nanosecond ``datetime64``, to compare with date arrays."""
    return np.datetime64(int(moment.value), "ns")


def employed_share(hire_date: np.ndarray | pd.Series, year: int) -> np.ndarray:
    """Fraction of calendar ``year`` after ``hire_date`` (0 if hired later, 1 if before).

    Examples
    --------
    >>> employed_share(pd.Series(pd.to_datetime(["2020-01-01", "2021-07-02", "2022-03-01"])), 2021).round(3)
    array([1.   , 0.501, 0.   ])
    """
    start, end = year_bounds(year)
    hire = np.asarray(hire_date, dtype="datetime64[ns]")
    begin = np.maximum(hire, ns(start))
    days = (ns(end) - begin) / np.timedelta64(1, "D")
    return cast("np.ndarray", np.clip(days / (end - start).days, 0.0, 1.0))


def observed_years(company: CompanyData) -> list[int]:
    """Calendar years whose bookings run from January to December, ascending (see the module docstring)."""
    dates = company.bookings["date"]
    first = dates.min()
    if pd.isna(first):
        return []
    start = first.year if first.month == 1 else first.year + 1
    booked = set(distinct_years(dates))
    return [y for y in range(int(start), company.last_complete_year() + 1) if y in booked]


def training_years(company: CompanyData, plan_year: int) -> list[int]:
    """Years before ``plan_year`` a capacity model can learn (each needs the year before it)."""
    seen = set(observed_years(company))
    return [y for y in sorted(seen) if y < plan_year and y - 1 in seen]


def too_little_history(plan_year: int, rows: int | None = None) -> Problem:
    """The input problem of a history a capacity model cannot be trained on.

    Without ``rows``: no year has the year before it; with ``rows``: the years exist but
    hold only that many rep-years (e.g. every rep was hired after them).
    """
    why = (" (expected at least two consecutive full calendar years of bookings before it)" if rows is None else
           f": {rows} rep-year(s) with a year before them to learn from (expected at least 2)")
    return Problem("bookings.csv", f"too little history to train a capacity model for {plan_year}{why}; "
                   "use capacity.model: given")
