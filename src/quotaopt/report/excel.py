"""plan.xlsx: a workbook sales ops can work in, built in memory.

Sheets: **Summary** (the plan in words, numbers formatted), **Reps** (names beside ids,
money and percentage formats, the chance of reaching quota coloured like the page),
**Quota by month** (or quarter, week: one row per rep, one column per period, totals
row and column as live SUM formulas), **Units** (the tree, indented and foldable),
**Exceptions** (every soft limit that gave way, and what each ``binding`` means),
**Overrides** (every rep with an empty ``new_quota`` column: type quotas there and feed
the file back with ``quotaopt plan SCENARIO --overrides plan.xlsx``; see
:mod:`quotaopt.planning`'s overrides) and **Details** (every summary.json key, flat).

Numbers are stored as numbers with formats; text that a spreadsheet could read as a
formula (it starts with = + - @, a tab or a carriage return) gets a leading apostrophe,
so opening or re-saving the file never runs it. The bytes are deterministic: fixed
document dates, and xlsxwriter stamps its zip entries with a fixed time.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.planning import PlanResult
from quotaopt.report._common import (
    BAND_FILLS,
    GREEN_AT,
    YELLOW_AT,
    flatten,
    key_kind,
    safe_text,
)
from quotaopt.report._workbook import add_sheets

#: Data rows per sheet: Excel's 1,048,576 rows less the header. Larger tables continue
#: on "Periods (2)", "Periods (3)" ...
MAX_DATA_ROWS = 1_048_575

_NUMBER_FORMATS = {"money": "#,##0", "percent": "0.0%", "stretch": "0.00", "integer": "#,##0",
                   "whole": "0", "plain": "General", "decimal": "#,##0.0"}
#: Format kind of each known column; other numeric columns use 'plain'.
_COLUMN_KINDS = {
    "capacity_p10": "money", "capacity_p50": "money", "capacity_p90": "money", "quota": "money",
    "last_quota": "money", "expected_payout": "money", "stretch": "stretch", "change": "percent",
    "p_attain": "percent", "level": "integer", "deals": "decimal", "touches": "decimal",
}
_SUMMARY_KINDS = {"plan_year": "whole", "target_basis.base_year": "whole", "simulation.seed": "whole"}


class _Writer:
    """Formats and sheet writing for one workbook."""

    def __init__(self, workbook: Any) -> None:
        self.book = workbook
        self.header = workbook.add_format({"bold": True, "bg_color": "#1f2937", "font_color": "#ffffff",
                                           "border": 1, "border_color": "#374151", "valign": "vcenter"})
        self.formats = {kind: workbook.add_format({"num_format": fmt}) for kind, fmt in _NUMBER_FORMATS.items()}
        self.bands = {band: workbook.add_format({"bg_color": fill}) for band, fill in BAND_FILLS.items()}

    @staticmethod
    def rows_per_sheet() -> int:
        """Data rows a sheet holds before a table continues on the next (:data:`MAX_DATA_ROWS`)."""
        return MAX_DATA_ROWS

    def table(self, name: str, frame: pd.DataFrame, kinds: dict[str, str]) -> list[Any]:
        """Write a frame as one or more sheets named ``name``, ``name (2)`` ...; return the sheets."""
        sheets = []
        starts = range(0, max(len(frame), 1), MAX_DATA_ROWS)
        for part, start in enumerate(starts, start=1):
            chunk = frame.iloc[start:start + MAX_DATA_ROWS]
            sheet = self.book.add_worksheet(name if part == 1 else f"{name} ({part})")
            self._write(sheet, chunk, kinds)
            sheets.append(sheet)
        return sheets

    def _write(self, sheet: Any, frame: pd.DataFrame, kinds: dict[str, str]) -> None:
        n = len(frame)
        for col, column in enumerate(frame.columns):
            series = frame[column]
            sheet.write_string(0, col, safe_text(str(column)), self.header)
            if pd.api.types.is_bool_dtype(series):
                width = self._booleans(sheet, col, series)
            elif pd.api.types.is_numeric_dtype(series):
                kind = kinds.get(str(column), "plain")
                self._numbers(sheet, col, series, self.formats[kind])
                width = 14 if kind in ("money", "decimal") else 11
            else:
                width = self._texts(sheet, col, series)
            sheet.set_column(col, col, max(width, len(str(column)) + 3))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(n, 1), max(len(frame.columns) - 1, 0))

    def _numbers(self, sheet: Any, col: int, series: pd.Series, fmt: Any) -> None:
        values = series.to_numpy(dtype=float, na_value=np.nan)
        write = sheet.write_number
        # Missing and non-finite values stay blank cells: Excel has no NaN.
        for row in np.flatnonzero(np.isfinite(values)).tolist():
            write(row + 1, col, values[row], fmt)

    def _texts(self, sheet: Any, col: int, series: pd.Series) -> int:
        write = sheet.write_string
        width = 8
        for row, value in enumerate(series.tolist()):
            if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
                continue
            text = safe_text(str(value))
            write(row + 1, col, text)
            if row < 2000:  # widths from a sample: scanning a million ids buys nothing
                width = max(width, len(text) + 2)
        return min(width, 48)

    def _booleans(self, sheet: Any, col: int, series: pd.Series) -> int:
        for row, value in enumerate(series.tolist()):
            if value is not None and value is not pd.NA:
                sheet.write_boolean(row + 1, col, bool(value))
        return 9

    def colour_bands(self, sheet: Any, col: int, rows: int) -> None:
        """Colour a chance-of-attainment column green / yellow / red like the HTML report."""
        if rows == 0:
            return
        rules = [("green", ">=", GREEN_AT), ("yellow", "between", (YELLOW_AT, GREEN_AT)), ("red", "<", YELLOW_AT)]
        for band, criteria, value in rules:
            options: dict[str, Any] = {"type": "cell", "criteria": criteria, "format": self.bands[band]}
            if criteria == "between":
                # 'between' is inclusive; green's rule comes first and wins at exactly GREEN_AT.
                options.update(minimum=value[0], maximum=value[1])  # type: ignore[index]
            else:
                options["value"] = value
            sheet.conditional_format(1, col, rows, col, options)

    def details(self, summary: dict[str, Any]) -> None:
        """Every summary.json key, flattened with dots, one per row."""
        sheet = self.book.add_worksheet("Details")
        sheet.write_string(0, 0, "key", self.header)
        sheet.write_string(0, 1, "value", self.header)
        rows = list(flatten(summary))
        for row, (key, value) in enumerate(rows, start=1):
            sheet.write_string(row, 0, safe_text(key))
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                continue
            if isinstance(value, list) and value and isinstance(value[0], dict):
                sheet.write_string(row, 1, f"{len(value)} (sheet {key.capitalize()})")
            elif isinstance(value, bool):
                sheet.write_boolean(row, 1, value)
            elif isinstance(value, int | float | np.integer | np.floating):
                kind = _SUMMARY_KINDS.get(key, key_kind(key))
                sheet.write_number(row, 1, float(value), self.formats[kind])
            else:
                sheet.write_string(row, 1, safe_text(value if isinstance(value, str) else repr(value)))
        sheet.set_column(0, 0, max([len(k) for k, _ in rows] + [10]) + 2)
        sheet.set_column(1, 1, 22)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(rows), 1), 1)


def render_xlsx(result: PlanResult) -> bytes:
    """The run's workbook (see the module docstring for its sheets).

    Parameters
    ----------
    result : PlanResult
        The plan to write.

    Returns
    -------
    bytes
        An .xlsx file; the same result always gives the same bytes.
    """
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    book.set_properties({"title": f"quotaopt plan {result.name} {result.plan_year}", "author": "quotaopt",
                         "created": datetime(2000, 1, 1)})
    writer = _Writer(book)
    add_sheets(writer, result)
    if result.measures is not None:  # amounts, counts and rates in one column: plain decimals
        measures = result.measures.assign(quota=pd.to_numeric(result.measures["quota"]))
        writer.table("Measures", measures, {"quota": "decimal", "capacity_p50": "decimal",
                                                   "p_attain": "percent"})
    from quotaopt.report.books import books_sheets

    money = {c: "money" for c in ("fair_share", "potential_before", "potential_after", "moved_out", "moved_in",
                                  "capacity_p50_before", "capacity_p50_after", "potential", "revenue")}
    for name, frame in books_sheets(result):
        writer.table(name, frame, money | {"accounts_before": "integer", "accounts_after": "integer"})
    writer.details(result.summary.record())
    book.close()
    return buffer.getvalue()


def render_tables_xlsx(sheets: dict[str, pd.DataFrame], title: str) -> bytes:
    """Frames as a workbook, one sheet each (``compare --out x.xlsx``), numbers formatted by column name.

    Columns named like quotas and deltas are money, ``p_attain ...`` percentages and
    ``stretch ...`` stretches; the same frames always give the same bytes.
    """
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    book.set_properties({"title": title, "author": "quotaopt", "created": datetime(2000, 1, 1)})
    writer = _Writer(book)
    for name, frame in sheets.items():
        kinds = {str(c): _compare_kind(str(c)) for c in frame.columns}
        writer.table(name, frame, kinds)
    book.close()
    return buffer.getvalue()


def _compare_kind(column: str) -> str:
    bare = column.removeprefix("delta ")
    if bare.startswith("p_attain"):
        return "percent"
    if bare.startswith("stretch"):
        return "stretch"
    return "money" if bare.startswith(("quota", "delta")) else "plain"
