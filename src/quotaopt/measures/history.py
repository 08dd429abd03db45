"""What the bookings say about each rep per measure: line amounts, counts, repurchases.

All of it is read from ``bookings`` before the plan year, in bulk (one groupby per
table). New customers and repurchases need ``account_id``; product lines need
``product_line``. A booking counts for the rep who booked it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quotaopt.errors import InputError, Problem

__all__ = ["deal_counts", "line_amounts", "new_customer_counts", "repurchases", "require_column"]


def require_column(bookings: pd.DataFrame, column: str, measure: str, index: int) -> pd.DataFrame:
    """The bookings that carry ``column``; an :class:`InputError` naming ``measures[i]`` when none do."""
    if column not in bookings.columns or bookings[column].isna().all():
        raise InputError([Problem("scenario", f"measure {measure!r} needs the bookings.csv column {column}, "
                                  "which is missing or empty", column=f"measures[{index}]")])
    return bookings[bookings[column].notna()]


def line_amounts(history: pd.DataFrame) -> pd.DataFrame:
    """Bookings by rep, year and product line: a frame indexed (rep_id, year), one column per line."""
    year = history["date"].dt.year.rename("year")
    table = history.groupby([history["rep_id"], year, history["product_line"]], observed=True)["amount"].sum()
    return table.unstack("product_line").fillna(0.0).sort_index(axis=1)


def deal_counts(history: pd.DataFrame) -> pd.Series:
    """Positive bookings (deals) by (rep_id, year)."""
    deals = history[history["amount"] > 0]
    return deals.groupby([deals["rep_id"], deals["date"].dt.year.rename("year")]).size().rename("count")


def new_customer_counts(history: pd.DataFrame) -> pd.Series:
    """Accounts whose first positive booking falls in a year, by (rep_id, year) of that booking."""
    deals = history[(history["amount"] > 0) & history["account_id"].notna()]
    first = deals.sort_values(["date", "rep_id"], kind="stable").drop_duplicates("account_id")
    return first.groupby([first["rep_id"], first["date"].dt.year.rename("year")]).size().rename("count")


def repurchases(history: pd.DataFrame) -> pd.DataFrame:
    """Per (rep_id, year): ``pool`` = accounts that bought from the rep the year before, ``again`` = of
    those, how many bought again (from anyone) in the year.

    An account belongs to the pool of the rep of its last purchase that year.
    """
    deals = history[(history["amount"] > 0) & history["account_id"].notna()]
    year = deals["date"].dt.year
    last = deals.assign(year=year).sort_values(["date", "rep_id"], kind="stable")
    owner = last.drop_duplicates(["account_id", "year"], keep="last")[["account_id", "year", "rep_id"]]
    bought = pd.MultiIndex.from_arrays([owner["account_id"], owner["year"]])
    again = pd.MultiIndex.from_arrays([owner["account_id"], owner["year"] + 1]).isin(bought)
    frame = owner.assign(year=owner["year"] + 1, again=again.astype(np.int64))
    out = frame.groupby(["rep_id", "year"]).agg(pool=("again", "size"), again=("again", "sum"))
    return out
