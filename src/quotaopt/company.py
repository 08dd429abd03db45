"""The company in memory: the validated tables of contract §1 (:func:`quotaopt.io.load_company` reads them).

No disk access here: a :class:`CompanyData` is what every stage reads, whoever built it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from quotaopt.errors import InputError, Problem
from quotaopt.org_tree import OrgTree
from quotaopt.records import Number, Record

__all__ = ["ROLES", "STATUSES", "CompanyData", "CompanySummary", "DataRead", "TableRead", "YearBookings",
           "check_plan_year", "distinct_years", "parse_date_in_year"]

ROLES = ("ka", "longtail")
#: ``leave``: employed but away for the plan year: no quota, no accounts (like ``departed``, not gone).
STATUSES = ("active", "departed", "leave")


class TableRead(Record):
    """What the manifest records about reading one table (the keys a read set, only)."""

    #: The file (``path[sheet]`` in a workbook); a database read records its ``query``.
    source: str | None = None
    query: str | None = None
    rows: int | None = None
    #: Totals lines and rows ``data.skip_rows_labelled`` names, left out.
    skipped_rows: int | None = None
    #: Of a database read's column names and values (a file is hashed in ``files``).
    sha256: str | None = None


class DataRead(Record):
    """What the manifest records about the read (``data_read``): its kind, where, and each table.

    Examples
    --------
    >>> DataRead(kind="folder", path="co", tables={"reps": TableRead(source="co/reps.csv", rows=3)}).record()
    {'kind': 'folder', 'path': 'co', 'tables': {'reps': {'source': 'co/reps.csv', 'rows': 3}}}
    >>> DataRead().record()  # a company built in memory
    {}
    """

    kind: str | None = None  # folder, workbook or database
    path: str | None = None
    url: str | None = None  # the database's, without its password
    tables: dict[str, TableRead] | None = None


class YearBookings(Record):
    """One year's bookings: rows and amount."""

    rows: int
    amount: Number


class CompanySummary(Record):
    """Headline counts of a company (``quotaopt validate``; its ``--json``)."""

    teams: int
    reps: int
    reps_by_role: dict[str, int]
    reps_by_status: dict[str, int]
    years_of_history: int
    history_years: list[int]
    bookings_per_year: dict[int, YearBookings]
    credit_notes: int
    credit_note_amount: Number
    accounts: int | None
    territories: int | None
    capacity_given: bool


@dataclass
class CompanyData:
    """A validated company folder.

    Attributes
    ----------
    folder : Path
        Where the files were read from.
    teams, reps, bookings : DataFrame
        Always present. Ids are strings; dates are ``datetime64``; amounts are floats.
        ``reps`` has ``fte`` (default 1.0) and ``status`` (default ``active``) filled.
    accounts, territories, capacity : DataFrame or None
        Present when the optional file exists.
    files : dict
        File name -> SHA-256 of every file read (for a database: table or query -> SHA-256
        of the rows read).
    source : str
        Where the data came from, as shown: the folder, the workbook, or the database URL
        without its password.
    reads : DataRead
        What the manifest records about the read: kind, and per table its source (the
        query for a database), rows read, rows skipped and hash.
    """

    folder: Path
    teams: pd.DataFrame
    reps: pd.DataFrame
    bookings: pd.DataFrame
    accounts: pd.DataFrame | None = None
    territories: pd.DataFrame | None = None
    capacity: pd.DataFrame | None = None
    files: dict[str, str] = field(default_factory=dict)
    source: str = ""
    reads: DataRead = field(default_factory=DataRead)

    @cached_property
    def org(self) -> OrgTree:
        """The unit tree of ``teams``, built once and shared by every stage that walks it.

        Raises
        ------
        InputError
            When ``teams`` is not one tree (the loader has checked this already).
        """
        return OrgTree.from_table(self.teams)

    @property
    def active_reps(self) -> pd.DataFrame:
        """Reps with status ``active`` (the ones that get a quota)."""
        return self.reps[self.reps["status"] == "active"].reset_index(drop=True)

    @property
    def history_years(self) -> list[int]:
        """Calendar years that have bookings, ascending."""
        return sorted(int(y) for y in distinct_years(self.bookings["date"]))

    def last_complete_year(self) -> int:
        """The latest year whose bookings reach into December (else the year before)."""
        dates = self.bookings["date"]
        last = dates.max()
        return int(last.year) if last.month == 12 else int(last.year) - 1

    def summary(self) -> CompanySummary:
        """Headline counts for ``quotaopt validate``."""
        reps = self.reps
        by_year = self.bookings.assign(year=self.bookings["date"].dt.year).groupby("year")["amount"]
        return CompanySummary.model_validate({
            "teams": len(self.teams),
            "reps": len(reps),
            "reps_by_role": {str(k): int(v) for k, v in reps["role"].value_counts().sort_index().items()},
            "reps_by_status": {str(k): int(v) for k, v in reps["status"].value_counts().sort_index().items()},
            "years_of_history": len(self.history_years),
            "history_years": self.history_years,
            "bookings_per_year": {
                int(str(y)): {"rows": int(c), "amount": round(float(s), 2)}
                for (y, c), s in zip(by_year.count().items(), by_year.sum().to_numpy(), strict=True)
            },
            "credit_notes": int((self.bookings["amount"] < 0).sum()),
            "credit_note_amount": round(float(self.bookings.loc[self.bookings["amount"] < 0, "amount"].sum()), 2),
            "accounts": None if self.accounts is None else len(self.accounts),
            "territories": None if self.territories is None else len(self.territories),
            "capacity_given": self.capacity is not None,
        })


def distinct_years(dates: pd.Series) -> list[Any]:
    """``dates.dt.year.unique()`` as a list, the year taken once per distinct date (a thousand, not two million)."""
    return list(pd.DatetimeIndex(dates.unique()).year.unique().tolist())


def parse_date_in_year(value: Any, plan_year: int, label: str, key: str) -> dt.date:
    """A date given as text or date object, which must fall inside ``plan_year``.

    Raises
    ------
    InputError
        Naming ``label`` and ``key`` when it is not an ISO date or outside the year.
    """
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise InputError([Problem(label, f"not a date (got {value!r}, expected YYYY-MM-DD)", column=key)]) from None
    if day.year != plan_year:
        raise InputError([Problem(label, f"outside the plan year (got {day.isoformat()}, expected a date in {plan_year})",
                                  column=key)])
    return day


def check_plan_year(company: CompanyData, plan_year: int, label: str) -> None:
    """The plan year must come after the history."""
    last = max(company.history_years)
    if plan_year <= last:
        raise InputError([Problem(label, f"plan year {plan_year} is not after the history (bookings run to {last})", column="plan_year")])
    reps = company.active_reps
    if reps.empty:
        raise InputError([Problem("reps.csv", f"no active rep ({len(company.reps)} rep(s), all departed): a plan "
                                  "needs at least one rep with status active", column="status")])
    late = reps[reps["hire_date"] > pd.Timestamp(year=plan_year, month=12, day=31)]
    if len(late):
        raise InputError([Problem("reps.csv", f"rep {rid}: hire_date {when:%Y-%m-%d} is after plan year {plan_year}, so "
                                  f"this active rep cannot carry a quota in it (expected {plan_year}-12-31 or earlier)",
                                  column="hire_date")
                          for rid, when in zip(late["rep_id"], late["hire_date"], strict=True)])
