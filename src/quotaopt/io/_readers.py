"""Reading one raw table from a CSV, Parquet or Excel file, or a database, before any value is checked.

Every reader returns a :class:`RawTable`: raw columns (text as categories, so a column of
two million ids holds each distinct id once; numbers and dates as the source typed them),
the row each line of the frame came from, and what the manifest records about the read.
Values are checked later, the same way whatever the source (:mod:`quotaopt.io._company`).

CSV goes through pyarrow's columnar reader: text columns are dictionary-encoded in
Arrow, and number columns are parsed there when every value is a plain number (the
checker parses the others itself and names each one that fails). ``reader="pandas"``
is the reader of quotaopt 0.x (pandas' C parser, every cell a Python string), kept as
the benchmark's baseline and as a cross-check in the tests: both must give the same company.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from quotaopt.company import TableRead
from quotaopt.data_source import Dialect
from quotaopt.errors import Problem
from quotaopt.io import _hints as hints

if TYPE_CHECKING:  # pyarrow is imported where a reader needs it (a slow import)
    import pyarrow as pa

__all__ = ["RawTable", "Reader", "duplicate_names", "read_csv", "read_excel", "read_parquet", "read_sql", "rows_hash"]

Reader = Literal["arrow", "pandas"]


@dataclass
class RawTable:
    """One table as read, before any value is checked.

    Attributes
    ----------
    label : str
        How messages name the table: ``reps.csv``, ``company.xlsx[reps]``, ``crm.reps``.
    frame : DataFrame
        Raw columns, names stripped of surrounding space.
    row_of : callable
        The row a message names for the frame's i-th row: a line number for files (the
        header is line 1), the row's key for a database (``rep_id=RP000005``).
    record : TableRead
        What the manifest records: source, rows read, rows skipped, SHA-256.
    texts : dict
        Number columns parsed in Arrow: their cells as written (Arrow text), for messages.
    header_row : int or None
        The header's line or row (None for a database).
    """

    label: str
    frame: pd.DataFrame
    row_of: Callable[[int], int | str]
    record: TableRead = field(default_factory=TableRead)
    texts: dict[str, pa.Array] = field(default_factory=dict)
    header_row: int | None = 1


def duplicate_names(names: Sequence[str]) -> list[str]:
    """Names that appear more than once once surrounding space is removed, in order of first repeat.

    Examples
    --------
    >>> duplicate_names(["a", " b", "b ", "a"])
    ['b', 'a']
    """
    seen: set[str] = set()
    dups: list[str] = []
    for name in (str(n).strip() for n in names):
        if name in seen and name not in dups:
            dups.append(name)
        seen.add(name)
    return dups


def first_line(exc: BaseException) -> str:
    """An exception's first line (or its type), as a message shows a reader's failure."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _repeated(label: str, dups: list[str], row: int | None, what: str = "header") -> Problem:
    return Problem(label, f"column name repeated in the {what}: {', '.join(dups)} (expected each column once)",
                   row=row, column=dups[0])


def rows_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's column names and values (what a database read is recorded by).

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1.5, 2.0], "y": ["a", "b"]})
    >>> rows_hash(a) == rows_hash(a.copy()), rows_hash(a) == rows_hash(a.iloc[::-1])
    (True, False)
    """
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    if len(frame):
        digest.update(pd.util.hash_pandas_object(frame.astype("object"), index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _numbered(first: int) -> Callable[[int], int | str]:
    """Rows numbered on from ``first`` (a file's lines): counted when asked, not held per row."""
    return lambda i: first + int(i)


def _from_rows(rows: np.ndarray) -> Callable[[int], int | str]:
    return lambda i: int(rows[i])


def _codec(encoding: str) -> str:
    """Python's name for a codec; UTF-8 always accepts a byte-order mark."""
    import codecs

    name = codecs.lookup(encoding).name
    return "utf-8-sig" if name == "utf-8" else name


def _csv_header(path: Path, d: dict[str, Any]) -> list[str]:
    """The header row of a CSV as written (pandas and Arrow rename or refuse repeated names)."""
    with path.open("r", encoding=_codec(d["encoding"]), newline="") as fh:
        reader = csv.reader(fh, delimiter=d["sep"])
        header: list[str] = []
        for _ in range(d["header_row"]):
            header = next(reader, [])
        return header


def _text_categories(column: Any) -> pd.Categorical:
    """An Arrow text column as pandas categories: each distinct value held once.

    Dictionary chunks (CSV blocks, Parquet row groups) are unified to one dictionary,
    so the codes are concatenated, never the strings.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type) and column.num_chunks > 1:
            column = pa.table({"c": column}).unify_dictionaries()["c"]
        chunks = column.chunks
    else:
        chunks = [column]
    if not chunks:
        return pd.Categorical([], categories=pd.Index([], dtype=object))
    if not pa.types.is_dictionary(chunks[0].type):
        flat = pa.concat_arrays(chunks) if len(chunks) > 1 else chunks[0]
        chunks = [pc.dictionary_encode(flat)]
    codes = np.concatenate([(c.indices.fill_null(-1) if c.null_count else c.indices)
                            .to_numpy(zero_copy_only=False).astype(np.int32, copy=False) for c in chunks])
    labels = pd.Index(chunks[0].dictionary.to_numpy(zero_copy_only=False), dtype=object)
    if labels.has_duplicates:  # a dictionary may repeat a value: one category each
        unique, inverse = np.unique(labels.to_numpy(dtype=object), return_inverse=True)
        codes = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1).astype(np.int32)
        labels = pd.Index(unique, dtype=object)
    # The codes index the labels by construction: pandas need not check two million of them.
    return pd.Categorical.from_codes(codes, categories=labels, validate=False)


def _plain_numbers(column: Any, d: dict[str, Any]) -> np.ndarray | None:
    """An Arrow text column as float64 when every cell is a plain finite number or empty, else None.

    The checker parses the columns this declines, and names each cell that fails.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = None
    if not d["thousands"] and d["decimal"] == ".":
        try:  # Arrow's cast refuses space and empty cells: when it takes the column, nothing needed trimming
            numbers = pc.cast(column, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            numbers = None
    if numbers is not None:
        if not pc.all(pc.is_finite(numbers)).as_py():
            return None
        return np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)
    text = pc.utf8_trim_whitespace(column)
    if d["thousands"]:
        text = pc.replace_substring(text, d["thousands"], "")
    if d["decimal"] != ".":
        if pc.any(pc.match_substring(text, ".")).as_py():
            return None  # '1.5' with decimal ',' is not a number of this dialect
        text = pc.replace_substring(text, d["decimal"], ".")
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    try:
        numbers = pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not pc.all(pc.is_finite(numbers)).as_py():
        return None  # 'nan' and 'inf' are refused by name in the checker
    return np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)


def _arrow_frame(table: Any, numeric: set[str], d: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """An Arrow table as a raw frame: text as categories, plain numbers parsed, the rest as typed.

    Returns the frame and, for the number columns parsed here, their text as written.
    """
    import pyarrow as pa

    columns: dict[str, Any] = {}
    texts: dict[str, Any] = {}
    for name in list(table.column_names):
        # Each Arrow column is let go once converted: two copies of a 19-million-row table never coexist.
        column = table.column(name)
        table = table.drop_columns([name])
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            if name.strip() in numeric:
                flat = column.cast(kind) if pa.types.is_dictionary(column.type) else column
                numbers = _plain_numbers(flat, d)
                if numbers is not None:
                    columns[name], texts[name.strip()] = numbers, flat
                else:
                    columns[name] = _text_categories(column)
            else:
                columns[name] = _text_categories(column)
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns), texts


def _csv_type(name: str, numeric: set[str]) -> Any:
    """Text of number columns as plain strings (parsed next), of the others dictionary-encoded."""
    import pyarrow as pa

    return pa.string() if name.strip() in numeric else pa.dictionary(pa.int32(), pa.string())


def _arrow_csv(source: Any, header: list[str], numeric: set[str], d: dict[str, Any], threads: bool = True) -> Any:
    """Arrow's CSV reader in the file's dialect: number columns as text (parsed next), others dictionary-encoded."""
    import pyarrow.csv as pa_csv

    return pa_csv.read_csv(
        source,
        read_options=pa_csv.ReadOptions(encoding=_codec(d["encoding"]).replace("utf-8-sig", "utf8"),
                                        skip_rows=d["header_row"] - 1, block_size=16 << 20, use_threads=threads),
        parse_options=pa_csv.ParseOptions(delimiter=d["sep"], newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(column_types={name: _csv_type(name, numeric) for name in header},
                                              strings_can_be_null=False, quoted_strings_can_be_null=False))


def read_csv(path: Path, label: str, numeric: set[str], dialect: Dialect, reader: Reader = "arrow"
             ) -> tuple[RawTable | None, list[Problem]]:
    """Read a CSV file with its dialect; the problems when it cannot be read or its header is wrong."""
    d = dialect.effective()
    try:
        header = _csv_header(path, d)
    except UnicodeDecodeError as exc:
        return None, [hints.not_decodable(path, label, d["encoding"], exc)]
    if not header:
        return None, [Problem(label, "is empty (expected a header row)")]
    dups = duplicate_names(header)
    if dups:
        return None, [_repeated(label, dups, d["header_row"])]
    try:
        texts: dict[str, Any] = {}
        if reader == "pandas":
            frame = pd.read_csv(path, dtype="str", keep_default_na=False, encoding=_codec(d["encoding"]),
                                sep=d["sep"], skiprows=d["header_row"] - 1)
        else:
            import pyarrow as pa

            # Mapped, not read: Arrow parses the page cache in place (reading copied the file into
            # fresh buffers first, a fifth of the reader's time at 10,000 reps).
            try:
                with pa.memory_map(str(path)) as source:
                    table = _arrow_csv(source, header, numeric, d)
            except pa.ArrowInvalid:
                # Read again on one thread, only to fail the same way every time: Arrow's parallel
                # blocks race to report, so the row its message names changed from run to run.
                with pa.memory_map(str(path)) as source:
                    table = _arrow_csv(source, header, numeric, d, threads=False)
            frame, texts = _arrow_frame(table, numeric, d)
    except UnicodeDecodeError as exc:
        return None, [hints.not_decodable(path, label, d["encoding"], exc)]
    except pd.errors.EmptyDataError:
        return None, [Problem(label, "is empty (expected a header row)")]
    except Exception as exc:  # noqa: BLE001 - any parser failure is the user's file
        if "invalid UTF8" in str(exc) or "UTF-8" in str(exc):
            return None, [hints.not_decodable(path, label, d["encoding"], None)]
        return None, [Problem(label, f"cannot be read: {first_line(exc)[:200]}{hints.sep_hint(header, d['sep'])}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    record = TableRead(source=str(path), rows=len(frame))
    return RawTable(label, frame, _numbered(d["header_row"] + 1), record, texts, d["header_row"]), []


def parquet_names(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return [str(name) for name in pq.read_schema(path).names]


def read_parquet(path: Path, label: str, numeric: set[str], dialect: Dialect, reader: Reader = "arrow"
                 ) -> tuple[RawTable | None, list[Problem]]:
    """Read a Parquet file: text columns as categories straight from its dictionary pages."""
    import pyarrow.parquet as pq

    try:
        names = parquet_names(path)
        dups = duplicate_names(names)
        if dups:
            return None, [_repeated(label, dups, 1)]
        texts: dict[str, Any] = {}
        if reader == "pandas":
            frame = pd.read_parquet(path)
        else:
            # Plain strings, encoded once per column: read_dictionary would give every row group
            # its own copy of a 200,000-id dictionary (slower, and gigabytes at 100,000 reps).
            frame, texts = _arrow_frame(pq.read_table(path), numeric, dialect.effective())
    except Exception as exc:  # noqa: BLE001 - any parser failure is the user's file
        return None, [Problem(label, f"cannot be read: {first_line(exc)[:200]}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(label, frame, _numbered(1), TableRead(source=str(path), rows=len(frame)),
                    texts), []


def excel_sheets(path: Path) -> list[str]:
    """The sheet names of a workbook, in order."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def read_excel(path: Path, sheet: str | None, label: str, dialect: Dialect) -> tuple[RawTable | None, list[Problem]]:
    """Read one sheet of an .xlsx workbook (the first sheet when ``sheet`` is None) with openpyxl.

    Cells keep the type Excel gave them (numbers, dates, text); text cells follow the
    dialect like CSV cells. Rows are the sheet's own row numbers.
    """
    d = dialect.effective()
    try:
        raw = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, header=None, dtype=object,
                            engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
        return None, [Problem(label, f"cannot be read as an .xlsx workbook: {first_line(exc)[:200]}")]
    skip = d["header_row"] - 1
    if len(raw) <= skip:
        return None, [Problem(label, "is empty (expected a header row)")]
    header = ["" if pd.isna(v) else str(v) for v in raw.iloc[skip]]
    while header and header[-1] == "":
        header.pop()
    dups = duplicate_names(header)
    if dups:
        return None, [_repeated(label, dups, d["header_row"])]
    body = raw.iloc[skip + 1:, : len(header)]
    keep = body.notna().any(axis=1).to_numpy()  # Excel's empty rows below the data are no rows
    rows = np.arange(skip + 2, skip + 2 + len(body), dtype=np.int64)[keep]
    frame = body[keep].reset_index(drop=True)
    frame.columns = [c.strip() for c in header]
    frame = frame.apply(_typed_excel_column)
    record = TableRead(source=f"{path}[{sheet}]" if sheet else str(path), rows=len(frame))
    return RawTable(label, frame, _from_rows(rows), record, header_row=d["header_row"]), []


def _typed_excel_column(values: pd.Series) -> pd.Series:
    """A sheet column as one type when its cells share one (numbers, dates), else the cells as they are."""
    import datetime as dt

    present = values.dropna()
    if len(present) and present.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool)).all():
        return values.astype("float64")
    if len(present) and present.map(lambda v: isinstance(v, dt.datetime | dt.date)).all():
        return pd.to_datetime(values)
    return values


def read_sql(connection: Any, label: str, sql: Any, key_columns: Sequence[str], query: str
             ) -> tuple[RawTable | None, list[Problem]]:
    """Read a query's result (a table's rows or the user's SQL); rows are named by their key columns."""
    try:
        frame = pd.read_sql_query(sql, connection, coerce_float=True)
    except Exception as exc:  # noqa: BLE001 - any database failure names the table and the error
        return None, [Problem(label, f"cannot be read from the database: {first_line(exc)[:300]}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    dups = duplicate_names(list(frame.columns))
    if dups:
        return None, [_repeated(label, dups, None, "result")]
    frame = frame.apply(_typed_sql_column)
    keys = [c for c in key_columns if c in frame.columns]

    def row_of(i: int) -> str:
        parts = [f"{c}={frame[c].iloc[i]}" for c in keys if str(frame[c].iloc[i]).strip() not in ("", "None", "nan")]
        return ", ".join(parts) if parts else f"result row {i + 1}"

    return RawTable(label, frame, row_of, TableRead(query=query, rows=len(frame), sha256=rows_hash(frame)), header_row=None), []


def _typed_sql_column(values: pd.Series) -> pd.Series:
    """Database values as the checker reads them: DATE columns as dates, NUMERIC (Decimal) as floats."""
    import datetime as dt
    import decimal

    if values.dtype != object:
        return values
    present = values.dropna()
    if len(present) and present.map(lambda v: isinstance(v, dt.date)).all():
        return pd.to_datetime(values)
    if len(present) and present.map(lambda v: isinstance(v, decimal.Decimal | int | float)).all():
        return values.astype("float64")
    return values
