"""Where each table of a company is read from: a folder of files, one workbook, or a database.

A folder holds one file per table (``reps.csv``, ``reps.parquet`` or ``reps.xlsx``, or
the file ``data.tables.reps`` names); a workbook holds a sheet per table; a database a
table per table (``data.tables.reps: crm.reps``) or a query (``data.queries.reps``).
Whatever the source, the tables come out as :class:`~quotaopt.io._readers.RawTable`
with what the manifest records about each read, and values are checked the same way.
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.company import DataRead
from quotaopt.data_source import TABLES, DataSource, Dialect, hide_password
from quotaopt.errors import Problem
from quotaopt.io import _hints as hints
from quotaopt.io._fsguard import regular_file_problem
from quotaopt.io._readers import (
    RawTable,
    Reader,
    excel_sheets,
    first_line,
    read_csv,
    read_excel,
    read_parquet,
    read_sql,
)

__all__ = ["NUMERIC", "REQUIRED_TABLES", "SCHEMA", "SUFFIXES", "SourceRead", "find_table", "read_file", "read_source",
           "sha256_file"]

REQUIRED_TABLES = ("teams", "reps", "bookings")
SUFFIXES = (".csv", ".parquet", ".xlsx")

#: Required and optional columns per table, as in the contract.
SCHEMA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "teams": (("team_id", "parent_id"), ("name", "target")),
    "reps": (
        ("rep_id", "team_id", "role", "hire_date"),
        ("fte", "status", "name", "last_quota", "locked_quota", "seniority"),
    ),
    "bookings": (("date", "rep_id", "amount"), ("account_id", "product_line")),
    "accounts": (("account_id", "rep_id", "tier"), ("potential", "territory_id", "team_id", "assign_lock")),
    "territories": (("territory_id", "potential"), ("market_growth",)),
    "capacity": (("rep_id", "p50"), ("p10", "p90")),
    "actuals": (("date", "rep_id", "amount"), ("account_id",)),
    "opportunities": (("opportunity_id", "rep_id", "amount", "stage", "close_date"),
                      ("created_date", "account_id", "probability", "status", "snapshot_date")),
    "activities": (("rep_id", "date", "metric", "value"), ()),
}

#: Columns read as numbers; text in them is parsed in the file's dialect.
NUMERIC: dict[str, set[str]] = {
    "teams": {"target"}, "reps": {"fte", "last_quota", "locked_quota"}, "bookings": {"amount"},
    "accounts": {"potential"}, "territories": {"potential", "market_growth"}, "capacity": {"p50", "p10", "p90"},
    "actuals": {"amount"}, "opportunities": {"amount", "probability"}, "activities": {"value"},
}

#: Columns that name a database row in messages (tables have no line numbers).
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "teams": ("team_id",), "reps": ("rep_id",), "bookings": ("date", "rep_id", "account_id"),
    "accounts": ("account_id",), "territories": ("territory_id",), "capacity": ("rep_id",),
}


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, streamed through one reused buffer (hashlib's ``file_digest``)."""
    import hashlib

    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@dataclass
class SourceRead:
    """The raw tables of one source and what the manifest records about reading them."""

    shown: str
    folder: Path
    tables: dict[str, RawTable] = field(default_factory=dict)
    dialects: dict[str, Dialect] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    kind: str = "folder"  # folder, workbook or database
    #: What the manifest records about the read (:class:`quotaopt.company.DataRead`), once read.
    record: DataRead = field(default_factory=DataRead)


def find_table(folder: Path, stem: str) -> tuple[Path | None, list[Problem]]:
    """The one file holding table ``stem`` in ``folder`` (CSV, Parquet or .xlsx), or the problems.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "reps.csv").write_text("rep_id\\n"), (folder / "reps.parquet").write_bytes(b"")
    >>> find_table(folder, "reps")[1][0].message
    'both reps.csv and reps.parquet exist (expected one file per table: remove one)'
    """
    found = [folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").exists()]
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        return None, [Problem(found[0].name, f"both {names} exist (expected one file per table: remove one)")]
    if not found:
        old = folder / f"{stem}.xls"
        if old.exists():
            return None, [Problem(old.name, "is the old Excel format (.xls), which quotaopt does not read: save it "
                                  "as .xlsx (Excel workbook) or CSV")]
        return None, []
    problem = regular_file_problem(found[0], found[0].name)
    return (None, [problem]) if problem is not None else (found[0], [])


def read_file(path: Path, stem: str, dialect: Dialect, reader: Reader = "arrow", label: str | None = None
              ) -> tuple[RawTable | None, list[Problem]]:
    """Read one table file by its suffix (.csv, .parquet, .xlsx)."""
    label = label or path.name
    problem = regular_file_problem(path, label)
    if problem is not None:
        return None, [problem]
    numeric = NUMERIC.get(stem, set())
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return read_parquet(path, label, numeric, dialect, reader)
    if suffix == ".xlsx":
        sheets = excel_sheets(path)
        return read_excel(path, stem if stem in sheets else None, label, dialect)
    kind = hints.file_kind(path)
    if kind == "xlsx":
        return None, [Problem(label, f"is an Excel workbook, not CSV text: rename it {path.stem}.xlsx (quotaopt "
                              "reads .xlsx) or save it from Excel as CSV")]
    if kind == "xls":
        return None, [Problem(label, "is an old Excel workbook (.xls), not CSV text: save it from Excel as .xlsx "
                              "or CSV")]
    return read_csv(path, label, numeric, dialect, reader)


def _read_folder(folder: Path, source: DataSource, reader: Reader, out: SourceRead) -> list[Problem]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="quotaopt-hash") as hashing:
        return _read_files(folder, source, reader, out, hashing)


def _read_files(folder: Path, source: DataSource, reader: Reader, out: SourceRead, hashing: Executor
                ) -> list[Problem]:
    problems: list[Problem] = []
    for stem in TABLES:
        entry, dialect = source.table(stem), source.dialect_of(stem)
        if entry.name is not None:
            path = (folder / entry.name).resolve()
            if not path.is_relative_to(folder.resolve()):
                problems.append(Problem(str(folder), f"data.tables.{stem} must name a file inside the data folder "
                                        f"(got {entry.name!r})", column=f"data.tables.{stem}"))
                continue
            if not path.exists():
                problems.append(Problem(entry.name, f"not found in {folder} (named by data.tables.{stem})"))
                continue
        else:
            found, found_problems = find_table(folder, stem)
            problems.extend(found_problems)
            if found is None:
                if stem in REQUIRED_TABLES and not found_problems:
                    problems.append(Problem(f"{stem}.csv", f"required file not found in {folder} (expected "
                                            f"{stem}.csv, {stem}.parquet or {stem}.xlsx)"))
                continue
            path = found
        # The file is hashed for the manifest while it is parsed: both let go of the GIL.
        digest = hashing.submit(sha256_file, path)
        table, read_problems = read_file(path, stem, dialect, reader)
        out.files[path.name] = digest.result()
        problems.extend(read_problems)
        if table is not None and not read_problems:
            out.tables[stem], out.dialects[stem] = table, dialect
    return problems


def _read_workbook(path: Path, source: DataSource, out: SourceRead) -> list[Problem]:
    try:
        sheets = excel_sheets(path)
    except Exception as exc:  # noqa: BLE001 - a damaged workbook is the user's file
        return [Problem(path.name, f"cannot be read as an .xlsx workbook: {first_line(exc)[:200]}")]
    out.files[path.name] = sha256_file(path)
    problems: list[Problem] = []
    for stem in TABLES:
        entry, dialect = source.table(stem), source.dialect_of(stem)
        sheet = entry.name or stem
        if sheet not in sheets:
            if stem in REQUIRED_TABLES or entry.name is not None:
                problems.append(Problem(path.name, f"no sheet {sheet!r} (sheets: {', '.join(sheets) or 'none'}; "
                                        f"expected a sheet per table: {', '.join(REQUIRED_TABLES)} and the optional "
                                        "ones, or data.tables.<table> naming the sheet)"))
            continue
        table, read_problems = read_excel(path, sheet, f"{path.name}[{sheet}]", dialect)
        problems.extend(read_problems)
        if table is not None and not read_problems:
            out.tables[stem], out.dialects[stem] = table, dialect
    return problems


def _scrub(text: str, url: str) -> str:
    """A driver's message without the URL's password, should the driver have repeated it."""
    from sqlalchemy.engine import make_url

    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001 - an unparsable URL has no password to hide
        return text.replace(url, hide_password(url))
    return text.replace(str(password), "***") if password else text


def _read_database(source: DataSource, out: SourceRead) -> list[Problem]:
    import sqlalchemy as sa

    assert source.url is not None
    shown = out.shown
    try:
        engine = sa.create_engine(source.url)
    except Exception as exc:  # noqa: BLE001 - a URL sqlalchemy cannot use is the user's key
        return [Problem("scenario", f"not a database URL quotaopt can use ({type(exc).__name__}: "
                        f"{_scrub(first_line(exc), source.url)[:200]})", column="data.url")]
    problems: list[Problem] = []
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            for stem in TABLES:
                entry, dialect = source.table(stem), source.dialect_of(stem)
                sql: Any
                if entry.query is not None:
                    label, sql, text = f"data.queries.{stem}", sa.text(entry.query), entry.query
                else:
                    name = entry.name or stem
                    schema, _, table_name = name.rpartition(".")
                    if not inspector.has_table(table_name, schema=schema or None):
                        if stem in REQUIRED_TABLES or entry.name is not None:
                            problems.append(Problem(name, f"table not found in the database {shown} (expected a "
                                                    f"table {name}, or data.tables.{stem} or data.queries.{stem} "
                                                    "naming where it is)"))
                        continue
                    label = name
                    sql = sa.select(sa.text("*")).select_from(sa.table(table_name, schema=schema or None))
                    text = str(sql.compile(connection))
                table, read_problems = read_sql(connection, label, sql, ROW_KEYS[stem], text)
                problems.extend(read_problems)
                if table is not None and not read_problems:
                    out.tables[stem], out.dialects[stem] = table, dialect
                    out.files[label] = str(table.record.sha256)
    except sa.exc.SQLAlchemyError as exc:
        problems.append(Problem(shown, f"cannot read the database: {_scrub(first_line(exc), source.url)[:300]}"))
    finally:
        engine.dispose()
    return problems


def _cell_flags(raw: pd.Series, labels: set[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the cell is filled, is one of ``labels`` (any case), reads like a totals label.

    A column of categories is looked at once per distinct value.
    """
    if isinstance(raw.dtype, pd.CategoricalDtype) and raw.cat.categories.dtype == object:
        import pyarrow as pa
        import pyarrow.compute as pc

        # Arrow's string kernels: a column of 200,000 distinct ids is looked at in milliseconds.
        text = pc.utf8_trim_whitespace(pa.array(raw.cat.categories.to_numpy(dtype=object), type=pa.string()))
        lowered = pc.utf8_lower(text)
        flags = (pc.not_equal(text, ""), pc.is_in(lowered, value_set=pa.array(sorted(labels), type=pa.string())),
                 pc.match_substring_regex(text, hints.TOTAL_LABEL.pattern, ignore_case=True))
        codes = raw.cat.codes.to_numpy()
        per_value = [f.fill_null(False).to_numpy(zero_copy_only=False).astype(bool) for f in flags]
        if not per_value[1].any() and not per_value[2].any():
            # No value is a label (the usual case): only "filled" is spread to the rows, and
            # not even that when every value is filled and every cell holds one.
            none = np.zeros(len(codes), dtype=bool)
            if per_value[0].all() and (len(codes) == 0 or codes.min() >= 0):
                return np.ones(len(codes), dtype=bool), none, none
            return np.append(per_value[0], False)[codes], none, none
        return tuple(np.append(f, False)[codes] for f in per_value)  # type: ignore[return-value]
    if raw.dtype == object:
        text = raw.map(lambda v: "" if v is None or v != v else str(v).strip())
        return ((text != "").to_numpy(dtype=bool), text.str.lower().isin(labels).to_numpy(dtype=bool),
                text.str.match(hints.TOTAL_LABEL).to_numpy(dtype=bool))
    none = np.zeros(len(raw), dtype=bool)  # a number or a date is no label
    return raw.notna().to_numpy(dtype=bool), none, none


def _first_cell(frame: pd.DataFrame, row: int) -> str:
    for value in frame.iloc[row]:
        if value is not None and value == value and str(value).strip():
            return str(value).strip()
    return ""


def drop_labelled_rows(table: RawTable, dialect: Dialect, required: tuple[str, ...]) -> tuple[RawTable, list[Problem]]:
    """Skip the rows ``skip_rows_labelled`` names; a totals line it does not name is a problem.

    A row reads like a totals line when its first filled cell is 'TOTAL', 'Grand total' ...
    and a required cell is empty. Such a row is reported once (naming the key that skips
    it) and left out of the value checks, which would only repeat it.
    """
    labels = {label.strip().lower() for label in dialect.effective()["skip_rows_labelled"]}
    frame = table.frame
    n = len(frame)
    undecided = np.ones(n, dtype=bool)
    skip, looks = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for column in frame.columns:
        if not undecided.any():
            break  # every row's first cell found (almost always in the first column)
        filled, labelled, total = _cell_flags(frame[column], labels)
        first = undecided & filled
        skip |= first & labelled
        looks |= first & total & ~labelled
        undecided &= ~filled
    if looks.any():  # a totals line lacks the values of a data row
        empty_required = np.zeros(n, dtype=bool)
        for column in required:
            if column in frame.columns:
                empty_required |= ~_cell_flags(frame[column], set())[0]
        looks &= empty_required
    problems = [Problem(table.label, f"looks like a totals line (first cell {_first_cell(frame, i)!r}), not data: "
                        f"set data.skip_rows_labelled: [{_first_cell(frame, i)!r}] to skip it",
                        row=table.row_of(int(i)), value=_first_cell(frame, i), expected="a data row")
                for i in np.flatnonzero(looks)[:20]]
    drop = skip | looks
    table.record = table.record.model_copy(update={"skipped_rows": int(skip.sum())})
    if not drop.any():
        return table, problems
    keep = np.flatnonzero(~drop)
    parent = table.row_of
    texts = {name: column.take(keep) for name, column in table.texts.items()}
    kept = RawTable(table.label, frame.iloc[keep].reset_index(drop=True), lambda i: parent(int(keep[i])),
                    table.record, texts, table.header_row)
    return kept, problems


def read_source(source: DataSource, reader: Reader = "arrow") -> tuple[SourceRead, list[Problem]]:
    """Read every table of ``source`` (its ``path`` already resolved), with the problems found."""
    if source.url is not None:
        shown = hide_password(source.url)
        out = SourceRead(shown=shown, folder=Path.cwd(), kind="database")
        problems = _read_database(source, out)
    else:
        assert source.path is not None
        path = Path(source.path)
        out = SourceRead(shown=str(path), folder=path)
        if path.is_dir():
            problems = _read_folder(path, source, reader, out)
        elif path.suffix.lower() == ".xlsx" and path.is_file():
            out.kind = "workbook"
            problems = _read_workbook(path, source, out)
        elif path.suffix.lower() == ".xls" and path.is_file():
            problems = [Problem(path.name, "is the old Excel format (.xls), which quotaopt does not read: save it "
                                "as .xlsx (Excel workbook) or CSV")]
        else:
            problems = [Problem(str(path), "data folder not found (expected a folder, or an .xlsx workbook with "
                                "a sheet per table)")]
    if not problems:
        for stem, table in list(out.tables.items()):
            kept, total_problems = drop_labelled_rows(table, out.dialects[stem], SCHEMA[stem][0])
            out.tables[stem] = kept
            problems.extend(total_problems)
    tables = {stem: table.record for stem, table in out.tables.items()}
    out.record = (DataRead(kind=out.kind, url=out.shown, tables=tables) if out.kind == "database"
                  else DataRead(kind=out.kind, path=out.shown, tables=tables))
    import pyarrow as pa

    pa.default_memory_pool().release_unused()  # what Arrow read with goes back to the system, not to a cache
    return out, problems
