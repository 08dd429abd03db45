"""``opportunities.csv``: the CRM pipeline for ``track --opportunities`` (contract §1), read and checked.

Checked like every company file, every problem with its file, row and column (exit 2):
known reps (and accounts, where accounts.csv exists), amounts >= 0, a stage of
``tracking.stages``, a status of :data:`OPPORTUNITY_STATUSES`, probabilities in [0, 1], a
close date not before the created date, a created date not after the snapshot date, and
each opportunity at most once per snapshot.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt.company import CompanyData
from quotaopt.data_source import Dialect
from quotaopt.errors import InputError, Problem
from quotaopt.io._company import _Checker, _missing_columns
from quotaopt.io._sources import read_file

REQUIRED = ("opportunity_id", "rep_id", "amount", "stage", "close_date")
OPTIONAL = ("created_date", "account_id", "probability", "status", "snapshot_date")
OPPORTUNITY_STATUSES = ("open", "won", "lost")


_NUMBERS = ("amount", "probability")
_DATES = ("close_date", "created_date", "snapshot_date")


def _parsed_when_clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Number and date columns of text parsed in one vectorised call when every cell parses.

    A pipeline runs to millions of rows; the checker's cell-by-cell text path is for the
    files that have a bad cell, and there it still names each one (the column stays text).
    """
    out = frame.copy()
    for column in (c for c in _NUMBERS + _DATES if c in out.columns):
        raw = out[column]
        if raw.dtype != object:
            continue
        text = raw.fillna("").astype("str")
        empty = text == ""
        if column in _NUMBERS:
            parsed = pd.to_numeric(text.where(~empty, None), errors="coerce")
            ok = bool((parsed.notna() | empty).all()) and bool(np.isfinite(parsed[~empty]).all())
        else:
            parsed = pd.to_datetime(text.where(~empty, None), format="%Y-%m-%d", errors="coerce")
            ok = bool((parsed.notna() | empty).all())
        if ok:
            out[column] = parsed
    return out


def load_opportunities(path: str | Path, company: CompanyData, stages: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Load and validate an opportunities file.

    Parameters
    ----------
    path : str or Path
        CSV or Parquet with the columns of contract §1 (``opportunities.csv``).
    company : CompanyData
        The tracked run's company (reps and accounts the rows must name).
    stages : sequence of str
        The open stages in funnel order (``tracking.stages``), lower case.

    Returns
    -------
    DataFrame
        ``opportunity_id, rep_id, account_id, amount, stage, stage_index, status, probability,
        created_date, close_date, snapshot_date`` (``snapshot_date`` NaT where the file has
        none: the rows are then the pipeline as of the as-of date).

    Raises
    ------
    InputError
        Every problem found, as ``file:row:column: message``; nothing is written.

    Examples
    --------
    >>> from quotaopt.io import load_company  # doctest: +SKIP
    >>> opps = load_opportunities("opportunities.csv", load_company("data"), ["qualify", "commit"])  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), "opportunities file not found")])
    # Cells as text (pandas' reader), parsed here in one call when every cell of a column parses.
    table, problems = read_file(path, "opportunities", Dialect(), reader="pandas")
    if table is None or problems:
        raise InputError(problems)
    problems = _missing_columns(table, "opportunities", Dialect())
    if problems:
        raise InputError(problems)
    table.frame = _parsed_when_clean(table.frame.reset_index(drop=True))
    check = _Checker(table, Dialect())
    out = pd.DataFrame(index=check.frame.index)
    out["opportunity_id"] = check.text("opportunity_id", required=True)
    out["rep_id"] = check.text("rep_id", required=True)
    check.exists(out["rep_id"], "rep_id", company.reps["rep_id"], "reps.csv")
    account = check.text("account_id", required=False)
    if company.accounts is not None:
        check.exists(account, "account_id", company.accounts["account_id"], "accounts.csv")
    out["account_id"] = account.where(account != "", None)
    amount = check.number("amount", required=True)
    check.at_least(amount, "amount", 0.0)
    check.total(amount, "amount")
    out["amount"] = amount
    stage = check.text("stage", required=True).str.lower()
    names = tuple(str(s).lower() for s in stages)
    check.allowed(stage, "stage", names)
    out["stage"] = stage
    out["stage_index"] = stage.map({s: i for i, s in enumerate(names)}).fillna(-1).astype("int64")
    status = check.text("status", required=False).str.lower()
    status = status.where(status != "", "open")
    check.allowed(status, "status", OPPORTUNITY_STATUSES)
    out["status"] = status
    probability = check.number("probability", required=False)
    check.add(probability.notna() & ((probability < 0) | (probability > 1)), "probability",
              lambda v: f"out of range (got {v!r}, expected a probability from 0 to 1)")
    out["probability"] = probability
    out["created_date"] = check.date("created_date", required=False)
    out["close_date"] = check.date("close_date", required=True)
    check.add(out["created_date"].notna() & out["close_date"].notna() & (out["close_date"] < out["created_date"]),
              "close_date", lambda v: f"before the created_date (got {v!r}, expected a close date on or after it)")
    out["snapshot_date"] = check.date("snapshot_date", required=False)
    check.add(out["created_date"].notna() & out["snapshot_date"].notna() & (out["created_date"] > out["snapshot_date"]),
              "created_date", lambda v: f"after the snapshot_date (got {v!r}, expected a date on or before it)")
    key = out["opportunity_id"] + "\x00" + out["snapshot_date"].astype("str")
    check.add(key.duplicated() & (out["opportunity_id"] != ""), "opportunity_id",
              lambda v: f"listed twice in one snapshot (got {v!r}, expected each opportunity once per snapshot_date)")
    if check.problems:
        raise check.problems.error()
    return out
