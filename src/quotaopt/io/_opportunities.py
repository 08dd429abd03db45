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
from quotaopt.io._readers import RawTable
from quotaopt.io._sources import read_file

REQUIRED = ("opportunity_id", "rep_id", "amount", "stage", "close_date")
OPTIONAL = ("created_date", "account_id", "probability", "status", "snapshot_date")
OPPORTUNITY_STATUSES = ("open", "won", "lost")


_NUMBERS = ("amount", "probability")
_DATES = ("close_date", "created_date", "snapshot_date")
#: A cell pandas parses to an integer: a column of only these parses to int64 (as the text reader did).
_INTEGER = r"^\s*[+-]?\d+\s*$"


def _parse(text: pd.Series, column: str) -> tuple[pd.Series, bool]:
    """Cells of text parsed as the column's kind, and whether every non-empty one parsed."""
    empty = (text == "").to_numpy()
    if column in _NUMBERS:
        parsed = pd.to_numeric(text.where(~empty, None), errors="coerce")
        ok = bool((parsed.notna().to_numpy() | empty).all()) and bool(np.isfinite(parsed[~empty]).all())
    else:
        parsed = pd.to_datetime(text.where(~empty, None), format="%Y-%m-%d", errors="coerce")
        ok = bool((parsed.notna().to_numpy() | empty).all())
    return parsed, ok


def _parsed_when_clean(table: RawTable) -> None:
    """Number and date columns parsed in one vectorised call when every cell parses (in place).

    A pipeline runs to millions of rows; the checker's text path is for the files that have
    a bad cell, and there it still names each one (the column stays text). Text columns come
    as categories (Arrow's reader), so a date is parsed once per distinct text. A clean
    column holds what parsing its text gives, so messages show the parsed value (a date as a
    timestamp, ``-5`` of an integer column as ``-5``) whichever reader read the file.
    """
    import pyarrow.compute as pc

    frame = table.frame
    for column in (c for c in _NUMBERS + _DATES if c in frame.columns):
        raw = frame[column]
        if column in table.texts:  # a number column Arrow parsed: every cell a plain finite number or empty
            text = table.texts.pop(column)
            if not pc.any(pc.invert(pc.match_substring_regex(text, _INTEGER))).as_py():
                frame[column] = pd.to_numeric(pd.Series(text.to_pylist(), index=frame.index, dtype=object))
            continue
        if isinstance(raw.dtype, pd.CategoricalDtype):
            codes = raw.cat.codes.to_numpy()
            labels = pd.Series(raw.cat.categories.to_numpy(dtype=object)).astype("str")
            if (codes < 0).any():  # a missing cell (Parquet null) reads as an empty one
                labels, codes = pd.concat([labels, pd.Series([""])], ignore_index=True), np.where(
                    codes < 0, len(labels), codes)
            parsed, ok = _parse(labels, column)
            if ok:
                frame[column] = pd.Series(parsed.to_numpy()[codes], index=frame.index)
        elif raw.dtype == object:
            parsed, ok = _parse(raw.fillna("").astype("str"), column)
            if ok:
                frame[column] = parsed


def _lower(values: pd.Series) -> pd.Series:
    """Text in lower case, each distinct value lowered once (a stage column holds a handful)."""
    codes, uniques = pd.factorize(values)
    lowered = np.array([str(u).lower() for u in uniques] + [""], dtype=object)
    return pd.Series(lowered[codes], index=values.index, dtype=object)


def _twice_in_a_snapshot(opportunity_id: pd.Series, snapshot_date: pd.Series) -> np.ndarray:
    """Rows repeating an (opportunity, snapshot) pair seen above them (undated rows are one snapshot)."""
    oid = pd.factorize(opportunity_id)[0].astype(np.int64)
    snap = pd.factorize(snapshot_date, use_na_sentinel=False)[0].astype(np.int64)
    key = oid * (int(snap.max()) + 1 if len(snap) else 1) + snap
    return np.asarray(pd.Series(key).duplicated().to_numpy() & (opportunity_id != "").to_numpy(), dtype=bool)


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
    # Text as categories (Arrow's reader), parsed here in one call when every cell of a column parses.
    table, problems = read_file(path, "opportunities", Dialect())
    if table is None or problems:
        raise InputError(problems)
    problems = _missing_columns(table, "opportunities", Dialect())
    if problems:
        raise InputError(problems)
    table.frame = table.frame.reset_index(drop=True)
    _parsed_when_clean(table)
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
    stage = _lower(check.text("stage", required=True))
    names = tuple(str(s).lower() for s in stages)
    check.allowed(stage, "stage", names)
    out["stage"] = stage
    out["stage_index"] = stage.map({s: i for i, s in enumerate(names)}).fillna(-1).astype("int64")
    status = _lower(check.text("status", required=False))
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
    check.add(_twice_in_a_snapshot(out["opportunity_id"], out["snapshot_date"]), "opportunity_id",
              lambda v: f"listed twice in one snapshot (got {v!r}, expected each opportunity once per snapshot_date)")
    if check.problems:
        raise check.problems.error()
    return out
