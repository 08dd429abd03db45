"""Reading the company data (contract §1): load a folder, validate every rule, return a CompanyData.

Every problem is collected before anything is raised, so a user fixes a file in one
pass; :class:`~quotaopt.errors.InputError` prints them as ``file:row:column: message``.
Rows are numbered as lines of the file (the header is line 1).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.company import ROLES, STATUSES, CompanyData
from quotaopt.data_source import DataSource, Dialect
from quotaopt.errors import InputError, Problem
from quotaopt.io import _hints as hints
from quotaopt.io._memory import release_freed_memory
from quotaopt.io._problems import ProblemLog, RowProblems
from quotaopt.io._readers import RawTable, Reader
from quotaopt.io._sources import SCHEMA, read_file, read_source
from quotaopt.money import MAX_AMOUNT
from quotaopt.ordering import sort_rows

__all__ = ["load_actuals", "load_company"]

#: Dates quotaopt accepts (plan years run 1900-2200).
#: Cell texts read as a yes / no flag (``assign_lock``); an empty cell is no.
FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False, "": False}
DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31 23:59:59"))

def _isin(values: pd.Series, known: pd.Series) -> np.ndarray:
    """``values.isin(known)``, fast for millions of ids.

    pandas' Arrow-backed ``isin`` turns every element of ``known`` into a Python
    object first (12 s for 2 million account ids); Arrow's own ``is_in`` takes 1 s.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        hit = pc.is_in(pa.array(values), value_set=pa.array(known))  # a value set may repeat values
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed types: pandas can
        return values.isin(known).to_numpy(dtype=bool)
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


_NO_TEXT = pd.Series([], dtype=object)


def _as_text(raw: pd.Series) -> pd.Series:
    """Cells as text with surrounding space removed; missing is ''.

    Ids typed as numbers (Parquet, Excel, a database) become their text; a float column of
    whole numbers (integers with a gap, as pandas writes them) reads as integers.
    """
    if raw.dtype == object and pd.api.types.infer_dtype(raw.to_numpy(), skipna=False) == "string":
        # Every cell is text (as Arrow's readers give categories): Python's own strip, the
        # same result without pandas' per-cell wrapper (a third of the time).
        return pd.Series([value.strip() for value in raw.to_numpy()], index=raw.index, dtype=object)
    if pd.api.types.is_float_dtype(raw) and bool((raw.dropna() % 1 == 0).all()):
        raw = raw.astype("Int64")
    return raw.astype("str").where(raw.notna(), "").str.strip()


def _spread(per_value: Any, codes: np.ndarray, missing: Any) -> np.ndarray:
    """Values computed once per category, spread to the rows by their codes (code -1: ``missing``)."""
    table = np.asarray(per_value)
    return np.asarray(np.append(table, np.array([missing], dtype=table.dtype))[codes])


def _flags(per_value: Any, codes: np.ndarray, missing: bool) -> np.ndarray:
    """:func:`_spread` for a yes / no flag; one that no category (nor a missing cell) raises is not spread."""
    table = np.asarray(per_value, dtype=bool)
    if not table.any() and not (missing and len(codes) and codes.min() < 0):
        return np.zeros(len(codes), dtype=bool)  # the usual case: no row has the problem
    return _spread(table, codes, missing)


class _Checker:
    """Collects problems for one table, with vectorised column checks.

    Text columns read as categories are cleaned and parsed once per distinct value and
    spread to the rows by their codes: two million bookings hold a thousand dates.
    """

    def __init__(self, table: RawTable, dialect: Dialect):
        self.name = table.label
        frame = table.frame
        self.frame = frame if frame.index.equals(pd.RangeIndex(len(frame))) else frame.reset_index(drop=True)
        self.row_of = table.row_of
        self.texts = table.texts
        self.dialect = dialect.effective()
        self.problems = ProblemLog()
        self.coded: dict[str, tuple[np.ndarray, pd.Series]] = {}  # column -> (codes, cleaned categories)
        self.blank: dict[str, np.ndarray] = {}  # column -> rows whose cleaned text is empty

    def _value_of(self, column: str) -> Any:
        if column in self.texts:  # numbers parsed in Arrow: messages show the text as written
            text = self.texts[column]
            return lambda i: text[i].as_py()
        raw = self.frame[column] if column in self.frame.columns else None
        return (lambda i: None) if raw is None else (lambda i: raw.iloc[i])

    def add(self, mask: np.ndarray | pd.Series, column: str, message: Any, expected: str | None = None) -> None:
        """Record a problem for every row where ``mask`` is true.

        ``message`` is a string or a callable taking the row's raw value; ``expected`` is
        what would be accepted, for the problems file.
        """
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(idx):
            self.problems.append(RowProblems(self.name, column, idx, self._value_of(column), self.row_of, message,
                                             expected))

    def note(self, message: str, column: str | None = None, row: int | str | None = None) -> None:
        """Record one problem of the table as a whole (or of one row)."""
        self.problems.append(Problem(self.name, message, row=row, column=column))

    def _cleaned(self, column: str) -> tuple[pd.Series, np.ndarray | None]:
        """The column as stripped text: per category with its codes, or per row (codes None)."""
        raw = self.frame[column]
        if isinstance(raw.dtype, pd.CategoricalDtype):
            if column not in self.coded:
                self.coded[column] = (raw.cat.codes.to_numpy(), _as_text(pd.Series(raw.cat.categories)))
            codes, cleaned = self.coded[column]
            return cleaned, codes
        return _as_text(raw), None

    def text(self, column: str, required: bool, lower: bool = False) -> pd.Series:
        """A string column with surrounding space removed (and lowered); empty cells flagged if required."""
        if column not in self.frame.columns:
            return pd.Series([""] * len(self.frame), index=self.frame.index, dtype="str")
        cleaned, codes = self._cleaned(column)
        if codes is None:
            values, empty = (cleaned.str.lower() if lower else cleaned), (cleaned == "").to_numpy()
        else:
            labels = cleaned.str.lower() if lower else cleaned  # once per category, not per row
            values = pd.Series(_spread(labels.to_numpy(dtype=object), codes, ""), index=self.frame.index,
                               dtype=object)
            empty = _flags((cleaned == "").to_numpy(), codes, True)
        self.blank[column] = empty
        if required:
            self.add(empty, column, "is empty (expected a value)", "a value")
        return values

    def ids(self, column: str, required: bool, missing: str | None) -> pd.Series:
        """:meth:`text` kept coded: the cleaned ids as categories, an empty cell as ``missing``.

        ``missing`` None is what :meth:`or_none` gives (no account), '' what :meth:`text`
        gives. The bookings' ids stay codes through the canonical sort, which then moves
        int32 codes instead of two million string references; :func:`_decoded` turns
        them into text once, in sorted order. A column that is not categorical (pandas'
        reader, Excel, a database, or no such column) is read by :meth:`text` as it always
        was, empty cells '' until :meth:`or_none` (after :meth:`exists`, which skips them).
        """
        if column not in self.frame.columns or not isinstance(self.frame[column].dtype, pd.CategoricalDtype):
            return self.text(column, required)
        cleaned, codes = self._cleaned(column)
        assert codes is not None  # a categorical column is cleaned per category
        text = cleaned.to_numpy(dtype=object)
        empty_label = text == ""
        self.blank[column] = empty = _flags(empty_label, codes, True)
        if required:
            self.add(empty, column, "is empty (expected a value)", "a value")
        # One category per cleaned id: ' RP1' and 'RP1' are one rep once stripped.
        inverse, labels = pd.factorize(np.append(text, "") if missing == "" else text[~empty_label])
        remap = np.full(len(text) + 1, -1, dtype=np.int32)  # the last slot: a cell read as missing (code -1)
        if missing == "":
            remap[:] = inverse
        else:
            remap[:-1][~empty_label] = inverse
        categories = pd.CategoricalDtype(pd.Index(labels, dtype=object))
        coded = pd.Categorical.from_codes(remap[codes], dtype=categories, validate=False)
        return pd.Series(coded, index=self.frame.index)

    def or_none(self, values: pd.Series, column: str) -> pd.Series:
        """``values`` with empty cells as None (optional ids: no account, no territory)."""
        empty = self.blank.get(column)
        if empty is None or len(empty) != len(values):
            empty = (values == "").to_numpy()
        return values.where(~empty, None)

    def _parse_numbers(self, stripped: pd.Series) -> pd.Series:
        """Text as numbers in the file's dialect (thousands marks removed, the decimal mark made '.')."""
        d = self.dialect
        text = stripped
        if d["thousands"]:
            text = text.str.replace(d["thousands"], "", regex=False)
        if d["decimal"] != ".":
            foreign = text.str.contains(".", regex=False)  # '1.5' is no number when ',' marks decimals
            text = text.str.replace(d["decimal"], ".", regex=False).where(~foreign, "not a number")
        return pd.to_numeric(text.where(stripped != "", None), errors="coerce").astype("float64")

    def number(self, column: str, required: bool, default: float = np.nan) -> pd.Series:
        """A float column; text that is not a finite number is flagged."""
        if column not in self.frame.columns:
            return pd.Series(default, index=self.frame.index, dtype="float64")
        raw = self.frame[column]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            values = raw.astype("float64")
            empty = values.isna()
        else:
            cleaned, codes = self._cleaned(column)
            parsed = self._parse_numbers(cleaned)
            failed_values = cleaned[(cleaned != "") & parsed.isna()]
            if codes is None:
                values, empty = parsed, cleaned == ""
            else:
                values = pd.Series(_spread(parsed.to_numpy(), codes, np.nan), index=self.frame.index)
                empty = pd.Series(_flags((cleaned == "").to_numpy(), codes, True), index=self.frame.index)
            tail = hints.number_hint(failed_values.drop_duplicates().head(1000), self.dialect["thousands"],
                                     self.dialect["decimal"])
            self.add(~empty & values.isna(), column, lambda v: f"not a number (got {v!r}){tail}", "a number")
        self.add(~empty & values.notna() & ~np.isfinite(values), column, lambda v: f"not a finite number (got {v!r})",
                 "a finite number")
        huge = np.isfinite(values) & (values.abs() > MAX_AMOUNT)
        self.add(huge, column, lambda v: f"too large (got {v!r}, expected a value within +-{MAX_AMOUNT:.0e})",
                 f"a value within +-{MAX_AMOUNT:.0e}")
        if required:
            self.add(empty, column, "is empty (expected a number)", "a number")
        values = values.where(np.isfinite(values) & ~huge)  # flagged values become missing
        return values if np.isnan(default) else values.fillna(default)

    def total(self, values: pd.Series, column: str, by: pd.Series | None = None) -> None:
        """Flag a column whose sum (per ``by`` group) leaves the supported range, though every value is in it."""
        sums = values.abs().groupby(by).sum() if by is not None else pd.Series({"": values.abs().sum()})
        for key, value in sums[sums > MAX_AMOUNT].items():
            where = f" in {key}" if by is not None else ""
            self.note(f"amounts{where} add up to {value:.3g} in absolute value, above the supported "
                      f"{MAX_AMOUNT:.0e}", column=column)

    def _parse_dates(self, stripped: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Text as dates in the file's format: (dates, failed, outside the supported years)."""
        fmt = self.dialect["date_format"]
        empty = stripped == ""
        values = pd.to_datetime(stripped.where(~empty, None), format=fmt, errors="coerce")
        # A well-formed date can fail only by its year (pandas 2 parses to nanoseconds): look
        # at the year of the few that failed; the parsed ones are compared as dates.
        failed = ~empty & values.isna()
        year = pd.Series(np.nan, index=stripped.index)
        if failed.any():
            year[failed] = np.array([_year_of(v, fmt) for v in stripped[failed]], dtype=float)
        too_far = year.notna() & ((year < DATE_RANGE[0].year) | (year > DATE_RANGE[1].year))
        outside = too_far | (values.notna() & ((values < DATE_RANGE[0]) | (values > DATE_RANGE[1])))
        return values.where(~outside), failed & ~too_far, outside

    def date(self, column: str, required: bool) -> pd.Series:
        """A date column (ISO YYYY-MM-DD unless the dialect says otherwise); anything else is flagged."""
        if column not in self.frame.columns:
            return pd.Series(pd.NaT, index=self.frame.index, dtype="datetime64[ns]")
        raw = self.frame[column]
        fmt = self.dialect["date_format"]
        shown = "YYYY-MM-DD" if fmt == "%Y-%m-%d" else f"a date like {_FORMAT_EXAMPLE.strftime(fmt)!r} ({fmt})"
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
            cleaned, codes = self._cleaned(column)
            cells = raw if codes is None else pd.Series(raw.cat.categories)
            # Excel and databases give date cells as dates, among text cells: those stand as they are.
            is_date = cells.map(lambda v: isinstance(v, dt.date)).to_numpy(dtype=bool)
            if is_date.any():
                cleaned = cleaned.where(~is_date, [v.strftime(fmt) if isinstance(v, dt.date) else "" for v in cells])
            parsed, failed, too_far = self._parse_dates(cleaned)
            failed_values = cleaned[failed].drop_duplicates().head(1000)
            if codes is None:
                values, empty, bad, outside = parsed, cleaned == "", failed, too_far
            else:
                values = pd.Series(_spread(parsed.to_numpy(dtype="datetime64[ns]"), codes, np.datetime64("NaT")),
                                   index=self.frame.index)
                empty = pd.Series(_flags((cleaned == "").to_numpy(), codes, True), index=self.frame.index)
                bad = pd.Series(_flags(failed.to_numpy(), codes, False), index=self.frame.index)
                outside = pd.Series(_flags(too_far.to_numpy(), codes, False), index=self.frame.index)
            tail = hints.date_hint(failed_values, fmt)
            self.add(bad, column, lambda v: f"not a date (got {v!r}, expected {shown}){tail}", shown)
        first, last = (d.strftime("%Y-%m-%d") for d in DATE_RANGE)
        self.add(outside, column, lambda v: f"outside the supported dates (got {str(v)[:30]!r}, expected {first} to "
                 f"{last})", f"{first} to {last}")
        if required:
            self.add(empty, column, f"is empty (expected a date {shown})", shown)
        return pd.Series(values, index=self.frame.index).astype("datetime64[ns]")

    def flag(self, column: str) -> pd.Series:
        """A yes / no column (true, yes, 1 / false, no, 0, empty; any case); other text is flagged."""
        if column not in self.frame.columns:
            return pd.Series(False, index=self.frame.index, dtype=bool)
        raw = self.frame[column]
        if pd.api.types.is_bool_dtype(raw):
            return raw.fillna(False).astype(bool)
        text = raw.astype("str").where(raw.notna(), "").str.strip().str.lower()
        text = text.str.removesuffix(".0") if pd.api.types.is_float_dtype(raw) else text
        known = text.isin(list(FLAGS))
        self.add(~known, column, lambda v: f"not a yes / no value (got {v!r}, expected true, false, yes, no, 1 or 0)",
                 "true, false, yes, no, 1 or 0")
        return text.map(FLAGS).fillna(False).astype(bool)

    def unique(self, values: pd.Series, column: str) -> None:
        dup = values.duplicated(keep="first") & (values != "")
        self.add(dup, column, lambda v: f"duplicate id (got {v!r}, expected unique values)", "unique values")

    def exists(self, values: pd.Series, column: str, known: pd.Series, where: str) -> None:
        if column in self.coded and len(values) == len(self.frame):
            codes, cleaned = self.coded[column]  # looked up once per distinct id
            unknown = _flags(~_isin(cleaned, known), codes, True)
        else:
            unknown = ~_isin(values, known)
        empty = self.blank.get(column)
        if empty is None or len(empty) != len(values):
            empty = (values == "").to_numpy()
        missing = ~empty & unknown
        self.add(missing, column, lambda v: f"unknown id (got {v!r}, expected an id from {where})", f"an id from {where}")

    def allowed(self, values: pd.Series, column: str, choices: tuple[str, ...]) -> None:
        bad = (values != "") & ~values.isin(choices)
        self.add(bad, column, lambda v: f"not allowed (got {v!r}, expected one of {', '.join(choices)})",
                 f"one of {', '.join(choices)}")

    def at_least(self, values: pd.Series, column: str, low: float) -> None:
        self.add(values.notna() & (values < low), column, lambda v: f"must be >= {low:g} (got {v!r})", f">= {low:g}")


#: A date every format writes distinctly (day above 12), to show a format by example.
_FORMAT_EXAMPLE = dt.date(2027, 3, 15)


def _year_of(text: str, fmt: str) -> float:
    """The year of a date that failed only by its year, or NaN when it failed otherwise."""
    if fmt == "%Y-%m-%d":  # as before dialects: any YYYY-MM-DD shape fails by its year alone
        iso = re.match(r"^(\d{4})-\d{2}-\d{2}$", text)
        return float(iso.group(1)) if iso else np.nan
    probe = re.sub(r"\d{4}", "2000", text, count=1)
    try:
        dt.datetime.strptime(probe, fmt)
    except ValueError:
        return np.nan
    found = re.search(r"\d{4}", text)
    return float(found.group()) if found else np.nan


def _check_tree(teams: pd.DataFrame, check: _Checker) -> None:
    """Exactly one root, and every unit reaches it without a cycle."""
    roots = np.flatnonzero((teams["parent_id"] == "").to_numpy())
    if len(roots) == 0:
        check.note("no root unit (expected exactly one row with an empty parent_id)", column="parent_id")
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


def _load_teams(frame: pd.DataFrame, check: _Checker, labels: dict[str, str]) -> pd.DataFrame:
    team_id = check.text("team_id", required=True)
    check.unique(team_id, "team_id")
    parent_id = check.text("parent_id", required=False)
    out = frame.copy()
    out["team_id"] = team_id
    out["parent_id"] = parent_id
    check.exists(parent_id, "parent_id", team_id, f"{labels['teams']} team_id")
    out["name"] = check.text("name", required=False).where(lambda s: s != "", team_id)
    target = check.number("target", required=False)
    check.at_least(target, "target", 0.0)
    out["target"] = target
    _check_tree(out, check)
    out["parent_id"] = out["parent_id"].where(out["parent_id"] != "", None)
    return out


def _load_reps(frame: pd.DataFrame, check: _Checker, team_ids: pd.Series, labels: dict[str, str]) -> pd.DataFrame:
    out = frame.copy()
    out["rep_id"] = check.text("rep_id", required=True)
    check.unique(out["rep_id"], "rep_id")
    out["team_id"] = check.text("team_id", required=True)
    check.exists(out["team_id"], "team_id", team_ids, labels["teams"])
    out["role"] = check.text("role", required=True, lower=True)
    check.allowed(out["role"], "role", ROLES)
    out["hire_date"] = check.date("hire_date", required=True)
    fte = check.number("fte", required=False, default=1.0)
    check.add((fte <= 0) | (fte > 1), "fte", lambda v: f"out of range (got {v!r}, expected 0 < fte <= 1)")
    out["fte"] = fte
    status = check.text("status", required=False, lower=True)
    status = status.where(status != "", "active")
    check.allowed(status, "status", STATUSES)
    out["status"] = status
    out["name"] = check.text("name", required=False)
    for column in ("last_quota", "locked_quota"):
        values = check.number(column, required=False)
        check.at_least(values, column, 0.0)
        check.total(values, column)
        out[column] = values
    if "seniority" in frame.columns:  # optional, read by assignment.eligibility.ka: seniority
        out["seniority"] = check.number("seniority", required=False)
    return out


#: The bookings' id columns, and what an empty cell of each reads as.
BOOKING_IDS = {"rep_id": "", "account_id": None, "product_line": None}


def _load_bookings(frame: pd.DataFrame, check: _Checker, rep_ids: pd.Series, account_ids: pd.Series | None,
                   labels: dict[str, str], coded: bool = False) -> pd.DataFrame:
    """The checked bookings; with ``coded`` their ids stay categories (:meth:`_Checker.ids`) until sorted."""
    def ids(column: str, required: bool) -> pd.Series:
        return check.ids(column, required, BOOKING_IDS[column]) if coded else check.text(column, required)

    def none_if_empty(values: pd.Series, column: str) -> pd.Series:  # after the id checks, which skip empty cells
        return values if isinstance(values.dtype, pd.CategoricalDtype) else check.or_none(values, column)

    columns: dict[str, Any] = {}
    columns["date"] = date = check.date("date", required=True)
    columns["rep_id"] = rep = ids("rep_id", required=True)
    check.exists(rep, "rep_id", rep_ids, labels["reps"])
    columns["amount"] = amount = check.number("amount", required=True)
    if amount.abs().sum() >= MAX_AMOUNT / 2:  # else no year's sum comes near the limit: years need not be formed
        check.total(amount, "amount", by=_years(date))
    account = ids("account_id", required=False)
    if account_ids is not None:
        check.exists(account, "account_id", account_ids, labels.get("accounts", "accounts.csv"))
    columns["account_id"] = none_if_empty(account, "account_id")
    if "product_line" in frame.columns:  # optional: only planned lines need it (quotaopt.measures)
        columns["product_line"] = none_if_empty(ids("product_line", required=False), "product_line")
    # One frame from the checked columns (all on the frame's index): no alignment per column.
    out = pd.DataFrame({name: values.array for name, values in columns.items()}, index=frame.index, copy=False)
    extra = [c for c in frame.columns if c not in out.columns]
    return pd.concat([out, frame[extra]], axis=1) if extra else out


def _years(dates: pd.Series) -> pd.Series:
    """``dates.dt.year`` (int, or float with NaN where a date is missing) by NumPy's calendar cast: 4x faster."""
    values = dates.to_numpy(dtype="datetime64[ns]")
    years = values.astype("datetime64[Y]").astype(np.int64) + 1970
    missing = np.isnat(values)
    if missing.any():
        return pd.Series(np.where(missing, np.nan, years.astype(np.float64)), index=dates.index)
    return pd.Series(years.astype(np.int32), index=dates.index)


def _decoded(frame: pd.DataFrame) -> pd.DataFrame:
    """The coded id columns of :func:`_load_bookings` as text (an id, or what an empty cell reads as)."""
    for column, missing in BOOKING_IDS.items():
        if column in frame.columns and isinstance(frame[column].dtype, pd.CategoricalDtype):
            values = frame[column].array
            frame[column] = _spread(values.categories.to_numpy(dtype=object), values.codes, missing)
    return frame


def _load_accounts(frame: pd.DataFrame, check: _Checker, rep_ids: pd.Series, territory_ids: pd.Series | None,
                   team_ids: pd.Series, labels: dict[str, str]) -> pd.DataFrame:
    out = frame.copy()
    out["account_id"] = check.text("account_id", required=True)
    check.unique(out["account_id"], "account_id")
    owner = check.text("rep_id", required=False)  # empty: nobody owns it yet (a new logo)
    check.exists(owner, "rep_id", rep_ids, labels["reps"])
    out["rep_id"] = check.or_none(owner, "rep_id")
    out["tier"] = check.text("tier", required=True, lower=True)
    check.allowed(out["tier"], "tier", ROLES)
    potential = check.number("potential", required=False)
    check.at_least(potential, "potential", 0.0)
    out["potential"] = potential
    territory = check.text("territory_id", required=False)
    if territory_ids is not None:
        check.exists(territory, "territory_id", territory_ids, labels.get("territories", "territories.csv"))
    out["territory_id"] = check.or_none(territory, "territory_id")
    if "team_id" in frame.columns:  # optional: the unit an account belongs to (placing an unowned one)
        team = check.text("team_id", required=False)
        check.exists(team, "team_id", team_ids, labels["teams"])
        out["team_id"] = check.or_none(team, "team_id")
    if "assign_lock" in frame.columns:  # optional: the account stays with its owner when books are assigned
        lock = check.flag("assign_lock")
        check.add(lock & (owner == ""), "assign_lock", "locks an account that has no owner (expected a rep_id to keep it with)",
                  "a rep_id to keep it with")
        out["assign_lock"] = lock
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


def _load_capacity(frame: pd.DataFrame, check: _Checker, rep_ids: pd.Series, labels: dict[str, str]) -> pd.DataFrame:
    out = frame.copy()
    out["rep_id"] = check.text("rep_id", required=True)
    check.unique(out["rep_id"], "rep_id")
    check.exists(out["rep_id"], "rep_id", rep_ids, labels["reps"])
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


def _missing_columns(table: RawTable, stem: str, dialect: Dialect) -> list[Problem]:
    """Required columns the header lacks, with the dialect key when the header says why."""
    required = SCHEMA[stem][0]
    header = list(table.frame.columns)
    missing = [c for c in required if c not in header]
    if not missing:
        return []
    d = dialect.effective()
    tail = hints.sep_hint(header, d["sep"]) or hints.bom_hint(header, d["encoding"])
    return [Problem(table.label, f"missing required column (expected columns {', '.join(required)}){tail}",
                    row=table.header_row, column=c)
            for c in missing]


def _plain_columns(frame: pd.DataFrame, coded: tuple[str, ...] = ()) -> pd.DataFrame:
    """Extra columns kept as read leave as text, as every reader gave them before (not categories).

    ``coded``: checked id columns left coded for the sort (:func:`_decoded` turns them into text).
    """
    for column in frame.columns:
        if column not in coded and isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = np.asarray(frame[column], dtype=object)
    return frame


def _as_source(source: str | Path | DataSource) -> DataSource:
    if isinstance(source, DataSource):
        return source
    return DataSource(path=str(Path(source)))


def load_company(source: str | Path | DataSource, reader: Reader = "arrow") -> CompanyData:
    """Load and validate a company: a data folder, one workbook, or a database (contract §1).

    Parameters
    ----------
    source : str, Path or DataSource
        A folder with teams, reps and bookings (CSV, Parquet or .xlsx) and the optional
        files; an .xlsx workbook with a sheet per table; or the scenario's ``data``
        mapping (its ``path`` resolved), which may name a database and the dialect.
    reader : {"arrow", "pandas"}
        The CSV and Parquet reader: Arrow's columnar one (default), or pandas' with
        every cell a Python string (quotaopt 0.x; the benchmark's baseline).

    Returns
    -------
    CompanyData

    Raises
    ------
    InputError
        Every problem found, one per line as ``file:row:column: message``.

    Examples
    --------
    >>> from quotaopt.data_source import DataSource
    >>> company = load_company(DataSource(path="tests/data/company15"))
    >>> len(company.reps), sorted(company.files)[:2]
    (24, ['accounts.csv', 'bookings.csv'])
    """
    read, found = read_source(_as_source(source), reader)
    problems = ProblemLog()
    problems.extend(found)
    for stem, table in read.tables.items():
        problems.extend(_missing_columns(table, stem, read.dialects[stem]))
    if problems:
        raise problems.error()
    checkers = {stem: _Checker(table, read.dialects[stem]) for stem, table in read.tables.items()}
    labels = {stem: checker.name for stem, checker in checkers.items()}

    def run(stem: str, loader: Any, *args: Any) -> pd.DataFrame | None:
        checker = checkers.get(stem)
        if checker is None:
            return None
        frame = loader(checker.frame, checker, *args)
        problems.extend(checker.problems.items)
        return _plain_columns(frame, tuple(BOOKING_IDS) if stem == "bookings" else ())

    teams = run("teams", _load_teams, labels)
    assert teams is not None
    reps = run("reps", _load_reps, teams["team_id"], labels)
    assert reps is not None
    territories = run("territories", _load_territories)
    accounts = run("accounts", _load_accounts, reps["rep_id"],
                   None if territories is None else territories["territory_id"], teams["team_id"], labels)
    bookings = run("bookings", _load_bookings, reps["rep_id"],
                   None if accounts is None else accounts["account_id"], labels, True)
    assert bookings is not None
    capacity = run("capacity", _load_capacity, reps["rep_id"], labels)
    checkers.clear()  # the raw tables go before the sort copies the bookings; only the validated frames stay
    read.tables.clear()
    if not problems and bookings.empty:
        problems.append(Problem(labels["bookings"], "has no rows (expected at least one year of history)"))
    if problems:
        raise problems.error()
    company = CompanyData(folder=read.folder, teams=_canonical(teams, ["team_id"]), reps=_canonical(reps, ["rep_id"]),
                          bookings=_decoded(sort_rows(bookings, BOOKING_ORDER, fast=2)),
                          accounts=_canonical(accounts, ["account_id"]),
                          territories=_canonical(territories, ["territory_id"]),
                          capacity=_canonical(capacity, ["rep_id"]), files=read.files, source=read.shown,
                          reads=read.record)
    del teams, reps, territories, accounts, bookings, capacity, read
    release_freed_memory()  # the temporaries of reading go back to the system, not just to malloc
    return company


#: Bookings are sorted by what they are first: rows that tie on date and amount hold equal
#: amounts, so renaming a rep or an account can reorder only rows whose sums do not change.
BOOKING_ORDER = ["date", "amount", "rep_id", "account_id"]


def _canonical(frame: pd.DataFrame | None, keys: list[str]) -> Any:
    """The rows in one order whatever order the file had (after validation, so row numbers in
    messages stay those of the file): the same data in any row order plans the same."""
    if frame is None:
        return None
    if len(keys) == 1 and frame[keys[0]].is_monotonic_increasing:  # already in order (as generated, exported)
        frame.index = pd.RangeIndex(len(frame))
        return frame
    out = frame.sort_values(keys, kind="stable", na_position="last")
    out.index = pd.RangeIndex(len(out))  # not reset_index: that copies every column again
    return out


def checked_file(path: str | Path, stem: str, what: str, dialect: Dialect | None = None) -> _Checker:
    """One plan-year file (actuals, activities) read with its dialect and its columns checked.

    Raises
    ------
    InputError
        The file is missing (``what`` names it: "actuals file not found"), cannot be read,
        or lacks a required column of ``stem``'s schema.
    """
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), f"{what} file not found")])
    dialect = dialect or Dialect()
    table, problems = read_file(path, stem, dialect)
    if table is None or problems:
        raise InputError(problems)
    missing = _missing_columns(table, stem, dialect)
    if missing:
        raise InputError(missing)
    return _Checker(table, dialect)


def load_actuals(path: str | Path, company: CompanyData, plan_year: int, dialect: Dialect | None = None
                 ) -> pd.DataFrame:
    """Load actuals for tracking: bookings columns, known reps, dates inside the plan year.

    ``path`` is a CSV, Parquet or .xlsx file; ``dialect`` says how a CSV is written
    (default: the company's plain UTF-8 CSV with ISO dates).

    Raises
    ------
    InputError
        Unknown reps, dates outside the plan year, non-numeric amounts, with file and row.
    """
    check = checked_file(path, "actuals", "actuals", dialect)
    labels = {"reps": "reps.csv", "accounts": "accounts.csv"}
    out = _load_bookings(check.frame, check, company.reps["rep_id"],
                         None if company.accounts is None else company.accounts["account_id"], labels)
    years = out["date"].dt.year
    check.add(out["date"].notna() & (years != plan_year), "date",
              lambda v: f"outside the plan year (got {v!r}, expected a date in {plan_year})", f"a date in {plan_year}")
    if check.problems:
        raise check.problems.error()
    return out


def load_truth_capacity(company_folder: Path) -> pd.DataFrame | None:
    """The generator's ``truth/capacity.csv`` beside a synthetic company, if there is one (None otherwise)."""
    path = Path(company_folder) / "truth" / "capacity.csv"
    return pd.read_csv(path, dtype={"rep_id": "str"}) if path.is_file() else None
