"""Calendar basics of the rep-year panel: observed years, employment, yearly totals.

Pure functions over validated data, shared by the features
(:mod:`quotaopt.features`) and the company level (:mod:`quotaopt.company_level`).

* A year is *observed* when the bookings cover it from January to December.
* ``departed`` reps have no departure date in the contract: the year of their last
  booking stands in for it (they are treated as present up to that year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quotaopt.data import CompanyData
from quotaopt.errors import Problem


def year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """January 1 of ``year`` and of the year after (the end is exclusive)."""
    return pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year + 1, month=1, day=1)


def employed_share(hire_date: pd.Series, year: int) -> pd.Series:
    """Fraction of calendar ``year`` after ``hire_date`` (0 if hired later, 1 if before)."""
    start, end = year_bounds(year)
    begin = hire_date.where(hire_date > start, start)
    days = (end - begin).dt.days.astype("float64")
    return (days / (end - start).days).clip(0.0, 1.0)


def observed_years(company: CompanyData) -> list[int]:
    """Calendar years whose bookings run from January to December, ascending.

    A year inside that span in which the company booked nothing at all is a hole in
    the data, not a year of zero sales, and is left out (its neighbours are then not
    consecutive, so no growth is measured across it).
    """
    first = company.bookings["date"].min()
    if pd.isna(first):
        return []
    start = first.year if first.month == 1 else first.year + 1
    booked = set(company.bookings["date"].dt.year.unique().tolist())
    return [y for y in range(int(start), company.last_complete_year() + 1) if y in booked]


def last_booking_year(company: CompanyData) -> pd.Series:
    """Year of each rep's last booking (reps without bookings are absent)."""
    b = company.bookings
    return b.groupby("rep_id")["date"].max().dt.year.astype("int64")


def yearly_bookings(company: CompanyData) -> pd.DataFrame:
    """Per rep and calendar year: total, positive deals, their sum, H2 total, accounts booked.

    Returns
    -------
    DataFrame
        Index ``(rep_id, year)``; columns ``total``, ``deals``, ``deal_sum``, ``h2``,
        ``accounts``.
    """
    b = company.bookings
    year = b["date"].dt.year.astype("int64")
    positive = b["amount"] > 0
    frame = pd.DataFrame({
        "rep_id": b["rep_id"].to_numpy(), "year": year.to_numpy(),
        "total": b["amount"].to_numpy(),
        "deals": positive.to_numpy().astype("float64"),
        "deal_sum": b["amount"].where(positive, 0.0).to_numpy(),
        "h2": b["amount"].where(b["date"].dt.month >= 7, 0.0).to_numpy(),
    })
    out = frame.groupby(["rep_id", "year"], sort=True).sum()
    if "account_id" in b.columns and b["account_id"].notna().any():
        accounts = b.loc[b["account_id"].notna(), ["rep_id", "account_id"]].assign(year=year)
        out["accounts"] = accounts.groupby(["rep_id", "year"])["account_id"].nunique().reindex(out.index)
        out["accounts"] = out["accounts"].fillna(0.0).astype("float64")
    else:
        out["accounts"] = np.nan
    return out


def employed_reps(company: CompanyData, year: int, last_year: pd.Series) -> pd.DataFrame:
    """Rows of reps.csv (index ``rep_id``) employed at some point in ``year`` who had not left before it."""
    reps = company.reps.set_index("rep_id")
    _, end = year_bounds(year)
    hired = reps["hire_date"] < end
    departed = reps["status"] == "departed"
    # A departed rep is present up to the year of their last booking; one without
    # bookings cannot be placed in time at all.
    gone = departed & ~(last_year.reindex(reps.index) >= year).fillna(False).astype(bool)
    return reps.loc[hired & ~gone]


def full_year_reps(company: CompanyData, year: int, last_year: pd.Series) -> pd.Index:
    """Reps employed from January 1 to December 31 of ``year`` (as far as the data tell)."""
    reps = company.reps.set_index("rep_id")
    start, _ = year_bounds(year)
    departed = reps["status"] == "departed"
    stayed = ~departed | (last_year.reindex(reps.index) > year).fillna(False).astype(bool)
    return reps.index[(reps["hire_date"] <= start) & stayed]


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
