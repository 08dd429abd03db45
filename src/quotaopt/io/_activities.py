"""``activities.csv``: process metrics for ``track --activities`` (contract §1), read and checked.

Checked like every company file, every problem with its file, row and column (exit 2):
a known rep, a date inside the plan year, a metric name, a finite number as value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from quotaopt.company import CompanyData
from quotaopt.data_source import Dialect
from quotaopt.io._company import checked_file

__all__ = ["load_activities"]


def load_activities(path: str | Path, company: CompanyData, plan_year: int,
                    dialect: Dialect | None = None) -> pd.DataFrame:
    """Load and validate an activities file (rep_id, date, metric, value) of the plan year.

    Parameters
    ----------
    path : str or Path
        CSV, Parquet or .xlsx.
    company : CompanyData
        The tracked run's company (the reps the rows must name).
    plan_year : int
        Every date must fall in it.
    dialect : Dialect, optional
        How a CSV is written (default plain UTF-8 with ISO dates).

    Returns
    -------
    DataFrame
        ``rep_id, date, metric, value`` (metric as written, surrounding space removed).

    Raises
    ------
    InputError
        Every problem found, as ``file:row:column: message``; nothing is written.
    """
    check = checked_file(path, "activities", "activities", dialect)
    out = pd.DataFrame(index=check.frame.index)
    out["rep_id"] = check.text("rep_id", required=True)
    check.exists(out["rep_id"], "rep_id", company.reps["rep_id"], "reps.csv")
    out["date"] = check.date("date", required=True)
    check.add(out["date"].notna() & (out["date"].dt.year != plan_year), "date",
              lambda v: f"outside the plan year (got {v!r}, expected a date in {plan_year})", f"a date in {plan_year}")
    out["metric"] = check.text("metric", required=True)
    out["value"] = check.number("value", required=True)
    if check.problems:
        raise check.problems.error()
    return out.reset_index(drop=True)
