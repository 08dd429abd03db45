"""Reading the company data (contract §1): load a folder, validate every rule, return a CompanyData.

Every problem is collected before anything is raised, so a user fixes a file in one
pass; :class:`~quotaopt.errors.InputError` prints them as ``file:row:column: message``.
Rows are numbered as lines of the file (the header is line 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.company import ROLES, STATUSES, CompanyData
from quotaopt.errors import InputError, Problem
from quotaopt.io._tables import find_table, read_table, sha256_file
from quotaopt.money import MAX_AMOUNT
from quotaopt.ordering import sort_rows

__all__ = ["load_actuals", "load_company"]

#: Dates quotaopt accepts (plan years run 1900-2200).
DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31 23:59:59"))

#: Required and optional columns per file, as in the contract.
SCHEMA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "teams": (("team_id", "parent_id"), ("name", "target")),
    "reps": (
        ("rep_id", "team_id", "role", "hire_date"),
        ("fte", "status", "name", "last_quota", "locked_quota"),
    ),
    "bookings": (("date", "rep_id", "amount"), ("account_id",)),
    "accounts": (("account_id", "rep_id", "tier"), ("potential", "territory_id")),
    "territories": (("territory_id", "potential"), ("market_growth",)),
    "capacity": (("rep_id", "p50"), ("p10", "p90")),
    "actuals": (("date", "rep_id", "amount"), ("account_id",)),
}


def _isin(values: pd.Series, known: pd.Series) -> np.ndarray:
    """``values.isin(known)``, fast for millions of ids.

    pandas' Arrow-backed ``isin`` turns every element of ``known`` into a Python
    object first (12 s for 2 million account ids); Arrow's own ``is_in`` takes 1 s.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        hit = pc.is_in(pa.array(values), value_set=pa.array(known.drop_duplicates()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed types: pandas can
        return values.isin(known).to_numpy(dtype=bool)
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


class _Checker:
    """Collects problems for one file, with vectorised column checks."""

    def __init__(self, name: str, frame: pd.DataFrame, row_offset: int):
        self.name = name
        self.frame = frame
        self.row_offset = row_offset
        self.problems: list[Problem] = []

    def add(self, mask: np.ndarray | pd.Series, column: str, message: Any) -> None:
        """Record a problem for every row where ``mask`` is true.

        ``message`` is a string or a callable taking the row's raw value.
        """
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        raw = self.frame[column] if column in self.frame.columns else None
        for i in idx[:50]:  # more than 50 per rule only inflates the "and N more" count
            value = None if raw is None else raw.iloc[i]
            text = message(value) if callable(message) else message
            self.problems.append(Problem(self.name, text, row=int(i) + self.row_offset, column=column))
        if len(idx) > 50:
            extra = Problem(self.name, f"... {len(idx) - 50} more rows with the same problem", column=column,
                            repeats=len(idx) - 50)
            self.problems.append(extra)

    def text(self, column: str, required: bool) -> pd.Series:
        """A string column with surrounding space removed; empty cells flagged if required."""
        if column not in self.frame.columns:
            return pd.Series([""] * len(self.frame), index=self.frame.index, dtype="str")
        raw = self.frame[column]
        # Ids typed as numbers in Parquet become their text; missing is "". A float column
        # of whole numbers (integers with a gap, as pandas writes them) reads as integers.
        if pd.api.types.is_float_dtype(raw) and bool((raw.dropna() % 1 == 0).all()):
            raw = raw.astype("Int64")
        values = raw.astype("str").where(raw.notna(), "").str.strip()
        if required:
            self.add(values == "", column, "is empty (expected a value)")
        return values

    def number(self, column: str, required: bool, default: float = np.nan) -> pd.Series:
        """A float column; text that is not a finite number is flagged."""
        if column not in self.frame.columns:
            return pd.Series(default, index=self.frame.index, dtype="float64")
        raw = self.frame[column]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            values = raw.astype("float64")
            empty = values.isna()
        else:
            stripped = raw.fillna("").astype("str").str.strip()
            empty = stripped == ""
            values = pd.to_numeric(stripped.where(~empty, None), errors="coerce").astype("float64")
            self.add(~empty & values.isna(), column, lambda v: f"not a number (got {v!r})")
        self.add(~empty & values.notna() & ~np.isfinite(values), column, lambda v: f"not a finite number (got {v!r})")
        huge = np.isfinite(values) & (values.abs() > MAX_AMOUNT)
        self.add(huge, column, lambda v: f"too large (got {v!r}, expected a value within +-{MAX_AMOUNT:.0e})")
        if required:
            self.add(empty, column, "is empty (expected a number)")
        values = values.where(np.isfinite(values) & ~huge)  # flagged values become missing
        return values if np.isnan(default) else values.fillna(default)

    def total(self, values: pd.Series, column: str, by: pd.Series | None = None) -> None:
        """Flag a column whose sum (per ``by`` group) leaves the supported range, though every value is in it."""
        sums = values.abs().groupby(by).sum() if by is not None else pd.Series({"": values.abs().sum()})
        for key, value in sums[sums > MAX_AMOUNT].items():
            where = f" in {key}" if by is not None else ""
            self.problems.append(Problem(self.name, f"amounts{where} add up to {value:.3g} in absolute value, above "
                                         f"the supported {MAX_AMOUNT:.0e}", column=column))

    def date(self, column: str, required: bool) -> pd.Series:
        """An ISO date column (YYYY-MM-DD); anything else is flagged."""
        if column not in self.frame.columns:
            return pd.Series(pd.NaT, index=self.frame.index, dtype="datetime64[ns]")
        raw = self.frame[column]
        if isinstance(raw.dtype, pd.DatetimeTZDtype):
            # A zone-aware timestamp counts on its own calendar day (local wall time), the day
            # the deal was booked where it was booked; the zone is dropped, not converted to UTC.
            raw = raw.dt.tz_localize(None)
        # Years are checked before any cast: nanosecond timestamps hold only 1677-2262.
        if pd.api.types.is_datetime64_any_dtype(raw):
            empty = raw.isna()
            outside = ~empty & ((raw < DATE_RANGE[0]) | (raw > DATE_RANGE[1]))
            values = raw.where(~outside)
        else:
            stripped = raw.fillna("").astype("str").str.strip()
            empty = stripped == ""
            values = pd.to_datetime(stripped.where(~empty, None), format="%Y-%m-%d", errors="coerce")
            # A well-formed date can fail only by its year (pandas 2 parses to nanoseconds): look
            # at the year of the few that failed; the parsed ones are compared as dates.
            failed = ~empty & values.isna()
            year = pd.Series(np.nan, index=stripped.index)
            if failed.any():
                year[failed] = pd.to_numeric(stripped[failed].str.extract(r"^(\d{4})-\d{2}-\d{2}$")[0],
                                             errors="coerce")
            too_far = year.notna() & ((year < DATE_RANGE[0].year) | (year > DATE_RANGE[1].year))
            outside = too_far | (values.notna() & ((values < DATE_RANGE[0]) | (values > DATE_RANGE[1])))
            values = values.where(~outside)
            self.add(failed & ~too_far, column, lambda v: f"not a date (got {v!r}, expected YYYY-MM-DD)")
        first, last = (d.strftime("%Y-%m-%d") for d in DATE_RANGE)
        self.add(outside, column, lambda v: f"outside the supported dates (got {str(v)[:30]!r}, expected {first} to "
                 f"{last})")
        if required:
            self.add(empty, column, "is empty (expected a date YYYY-MM-DD)")
        return values.astype("datetime64[ns]")

    def unique(self, values: pd.Series, column: str) -> None:
        dup = values.duplicated(keep="first") & (values != "")
        self.add(dup, column, lambda v: f"duplicate id (got {v!r}, expected unique values)")

    def exists(self, values: pd.Series, column: str, known: pd.Series, where: str) -> None:
        missing = (values != "") & ~_isin(values, known)
        self.add(missing, column, lambda v: f"unknown id (got {v!r}, expected an id from {where})")

    def allowed(self, values: pd.Series, column: str, choices: tuple[str, ...]) -> None:
        bad = (values != "") & ~values.isin(choices)
        self.add(bad, column, lambda v: f"not allowed (got {v!r}, expected one of {', '.join(choices)})")

    def at_least(self, values: pd.Series, column: str, low: float) -> None:
        self.add(values.notna() & (values < low), column, lambda v: f"must be >= {low:g} (got {v!r})")


def _check_tree(teams: pd.DataFrame, check: _Checker) -> None:
    """Exactly one root, and every unit reaches it without a cycle."""
    roots = np.flatnonzero((teams["parent_id"] == "").to_numpy())
    if len(roots) == 0:
        check.problems.append(Problem(check.name, "no root unit (expected exactly one row with an empty parent_id)", column="parent_id"))
    elif len(roots) > 1:
        check.add(teams["parent_id"] == "", "parent_id", lambda v: f"more than one root unit ({len(roots)} rows have an empty parent_id, expected exactly one)")
    self_parent = (teams["parent_id"] == teams["team_id"]) & (teams["team_id"] != "")
    check.add(self_parent, "parent_id", lambda v: f"a unit cannot be its own parent (got {v!r})")
    in_cycle = _cycles(dict(zip(teams["team_id"], teams["parent_id"], strict=True)))
    mask = teams["team_id"].isin(in_cycle) & ~self_parent
    check.add(mask, "parent_id", lambda v: f"parent chain forms a cycle (got parent {v!r}, expected a chain ending at the root)")


def _cycles(parent: dict[str, str]) -> set[str]:
    """Units on a cycle of ``parent`` links, in one pass: every unit is walked up from once.

    A walk stops at a unit already settled, so a 10,000-level chain costs 10,000 steps,
    not the 10,000 x 10,000 a walk from every unit would.
    """
    settled: set[str] = set()
    in_cycle: set[str] = set()
    for start in parent:
        path: dict[str, int] = {}  # units of this walk, in order
        node = start
        while node and node in parent and node not in settled and node not in path:
            path[node] = len(path)
            node = parent[node]
        if node in path:
            in_cycle.update(list(path)[path[node]:])
        settled.update(path)
    return in_cycle


def _load_teams(frame: pd.DataFrame, check: _Checker) -> pd.DataFrame:
    team_id = check.text("team_id", required=True)
    check.unique(team_id, "team_id")
    parent_id = check.text("parent_id", required=False)
    out = frame.copy()
    out["team_id"] = team_id
    out["parent_id"] = parent_id
    check.exists(parent_id, "parent_id", team_id, "teams.csv team_id")
    out["name"] = check.text("name", required=False).where(lambda s: s != "", team_id)
    target = check.number("target", required=False)
    check.at_least(target, "target", 0.0)
    out["target"] = target
    _check_tree(out, check)
    out["parent_id"] = out["parent_id"].where(out["parent_id"] != "", None)
    return out


def _load_reps(frame: pd.DataFrame, check: _Checker, team_ids: pd.Series) -> pd.DataFrame:
    out = frame.copy()
    out["rep_id"] = check.text("rep_id", required=True)
    check.unique(out["rep_id"], "rep_id")
    out["team_id"] = check.text("team_id", required=True)
    check.exists(out["team_id"], "team_id", team_ids, "teams.csv")
    out["role"] = check.text("role", required=True).str.lower()
    check.allowed(out["role"], "role", ROLES)
    out["hire_date"] = check.date("hire_date", required=True)
    fte = check.number("fte", required=False, default=1.0)
    check.add((fte <= 0) | (fte > 1), "fte", lambda v: f"out of range (got {v!r}, expected 0 < fte <= 1)")
    out["fte"] = fte
    status = check.text("status", required=False).str.lower()
    status = status.where(status != "", "active")
    check.allowed(status, "status", STATUSES)
    out["status"] = status
    out["name"] = check.text("name", required=False)
    for column in ("last_quota", "locked_quota"):
        values = check.number(column, required=False)
        check.at_least(values, column, 0.0)
        check.total(values, column)
        out[column] = values
    return out


def _load_bookings(frame: pd.DataFrame, check: _Checker, rep_ids: pd.Series, account_ids: pd.Series | None) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["date"] = check.date("date", required=True)
    out["rep_id"] = check.text("rep_id", required=True)
    check.exists(out["rep_id"], "rep_id", rep_ids, "reps.csv")
    out["amount"] = check.number("amount", required=True)
    check.total(out["amount"], "amount", by=out["date"].dt.year)
    account = check.text("account_id", required=False)
    if account_ids is not None:
        check.exists(account, "account_id", account_ids, "accounts.csv")
    out["account_id"] = account.where(account != "", None)
    extra = [c for c in frame.columns if c not in out.columns]
    return pd.concat([out, frame[extra]], axis=1) if extra else out


def _load_accounts(frame: pd.DataFrame, check: _Checker, rep_ids: pd.Series, territory_ids: pd.Series | None) -> pd.DataFrame:
    out = frame.copy()
    out["account_id"] = check.text("account_id", required=True)
    check.unique(out["account_id"], "account_id")
    out["rep_id"] = check.text("rep_id", required=True)
    check.exists(out["rep_id"], "rep_id", rep_ids, "reps.csv")
    out["tier"] = check.text("tier", required=True).str.lower()
    check.allowed(out["tier"], "tier", ROLES)
    potential = check.number("potential", required=False)
    check.at_least(potential, "potential", 0.0)
    out["potential"] = potential
    territory = check.text("territory_id", required=False)
    if territory_ids is not None:
        check.exists(territory, "territory_id", territory_ids, "territories.csv")
    out["territory_id"] = territory.where(territory != "", None)
    return out


def _load_territories(frame: pd.DataFrame, check: _Checker) -> pd.DataFrame:
    out = frame.copy()
    out["territory_id"] = check.text("territory_id", required=True)
    check.unique(out["territory_id"], "territory_id")
    potential = check.number("potential", required=True)
    check.at_least(potential, "potential", 0.0)
    out["potential"] = potential
    # A missing market_growth is unknown, never "planners say 0%".
    growth = check.number("market_growth", required=False)
    check.add(growth <= -1, "market_growth", lambda v: f"must be > -1 (got {v!r})")
    out["market_growth"] = growth
    return out


def _load_capacity(frame: pd.DataFrame, check: _Checker, rep_ids: pd.Series) -> pd.DataFrame:
    out = frame.copy()
    out["rep_id"] = check.text("rep_id", required=True)
    check.unique(out["rep_id"], "rep_id")
    check.exists(out["rep_id"], "rep_id", rep_ids, "reps.csv")
    p50 = check.number("p50", required=True)
    check.at_least(p50, "p50", 0.0)
    p10 = check.number("p10", required=False)
    p90 = check.number("p90", required=False)
    check.at_least(p10, "p10", 0.0)
    check.add(p10.notna() & p50.notna() & (p10 > p50), "p10", lambda v: f"above p50 (got {v!r}, expected p10 <= p50 <= p90)")
    check.add(p90.notna() & p50.notna() & (p90 < p50), "p90", lambda v: f"below p50 (got {v!r}, expected p10 <= p50 <= p90)")
    for column, values in (("p50", p50), ("p90", p90)):
        check.total(values, column)
    out["p50"], out["p10"], out["p90"] = p50, p10, p90
    return out


def _read(folder: Path, stem: str, problems: list[Problem], files: dict[str, str], required: bool) -> tuple[_Checker | None, Path | None]:
    path, found_problems = find_table(folder, stem)
    problems.extend(found_problems)
    if path is None:
        if required and not found_problems:
            problems.append(Problem(f"{stem}.csv", f"required file not found in {folder}"))
        return None, None
    files[path.name] = sha256_file(path)
    frame, read_problems = read_table(path, SCHEMA[stem][0])
    problems.extend(read_problems)
    if frame is None or read_problems:
        return None, path
    offset = 1 if path.suffix == ".parquet" else 2
    return _Checker(path.name, frame.reset_index(drop=True), offset), path


def load_company(folder: str | Path) -> CompanyData:
    """Load and validate a company data folder (contract §1).

    Parameters
    ----------
    folder : str or Path
        Folder with teams, reps and bookings (CSV or Parquet) and the optional files.

    Returns
    -------
    CompanyData

    Raises
    ------
    InputError
        Every problem found, one per line as ``file:row:column: message``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(str(folder), "data folder not found")])
    problems: list[Problem] = []
    files: dict[str, str] = {}
    checkers = {stem: _read(folder, stem, problems, files, required=stem in ("teams", "reps", "bookings"))
                for stem in ("teams", "reps", "bookings", "accounts", "territories", "capacity")}
    if problems:
        raise InputError(problems)

    def run(stem: str, loader: Any, *args: Any) -> pd.DataFrame | None:
        checker = checkers[stem][0]
        if checker is None:
            return None
        frame = loader(checker.frame, checker, *args)
        problems.extend(checker.problems)
        return frame

    teams = run("teams", _load_teams)
    assert teams is not None
    reps = run("reps", _load_reps, teams["team_id"])
    assert reps is not None
    territories = run("territories", _load_territories)
    accounts = run("accounts", _load_accounts, reps["rep_id"],
                   None if territories is None else territories["territory_id"])
    bookings = run("bookings", _load_bookings, reps["rep_id"],
                   None if accounts is None else accounts["account_id"])
    assert bookings is not None
    capacity = run("capacity", _load_capacity, reps["rep_id"])
    if not problems and bookings.empty:
        problems.append(Problem(checkers["bookings"][0].name if checkers["bookings"][0] else "bookings.csv",
                                "has no rows (expected at least one year of history)"))
    if problems:
        raise InputError(problems)
    return CompanyData(folder=folder, teams=_canonical(teams, ["team_id"]), reps=_canonical(reps, ["rep_id"]),
                       bookings=sort_rows(bookings, BOOKING_ORDER, fast=2),
                       accounts=_canonical(accounts, ["account_id"]), territories=_canonical(territories, ["territory_id"]),
                       capacity=_canonical(capacity, ["rep_id"]), files=files)


#: Bookings are sorted by what they are first: rows that tie on date and amount hold equal
#: amounts, so renaming a rep or an account can reorder only rows whose sums do not change.
BOOKING_ORDER = ["date", "amount", "rep_id", "account_id"]


def _canonical(frame: pd.DataFrame | None, keys: list[str]) -> Any:
    """The rows in one order whatever order the file had (after validation, so row numbers in
    messages stay those of the file): the same data in any row order plans the same."""
    if frame is None:
        return None
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def load_actuals(path: str | Path, company: CompanyData, plan_year: int) -> pd.DataFrame:
    """Load actuals for tracking: bookings columns, known reps, dates inside the plan year.

    Raises
    ------
    InputError
        Unknown reps, dates outside the plan year, non-numeric amounts, with file and row.
    """
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), "actuals file not found")])
    frame, problems = read_table(path, SCHEMA["actuals"][0])
    if frame is None or problems:
        raise InputError(problems)
    check = _Checker(path.name, frame.reset_index(drop=True), 1 if path.suffix == ".parquet" else 2)
    out = _load_bookings(check.frame, check, company.reps["rep_id"],
                         None if company.accounts is None else company.accounts["account_id"])
    years = out["date"].dt.year
    check.add(out["date"].notna() & (years != plan_year), "date",
              lambda v: f"outside the plan year (got {v!r}, expected a date in {plan_year})")
    if check.problems:
        raise InputError(check.problems)
    return out


def load_truth_capacity(company_folder: Path) -> pd.DataFrame | None:
    """The generator's ``truth/capacity.csv`` beside a synthetic company, if there is one (None otherwise)."""
    path = Path(company_folder) / "truth" / "capacity.csv"
    return pd.read_csv(path, dtype={"rep_id": "str"}) if path.is_file() else None
