"""plan.xlsx: sheets, numbers as numbers with formats, formula injection defused, same bytes."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from quotaopt.planning import PLAN_COLUMNS, UNIT_COLUMNS, PlanResult
from quotaopt.report import excel, render_xlsx
from quotaopt.report.excel import safe_text

from report_fixtures import EVIL_REP, EVIL_TEAM, make_result


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def book() -> openpyxl.Workbook:
    return _open(render_xlsx(make_result(12)))


def _column(sheet, name: str) -> list:
    header = [c.value for c in sheet[1]]
    col = header.index(name) + 1
    return [sheet.cell(row=r, column=col) for r in range(2, sheet.max_row + 1)]


def test_sheets(book) -> None:
    assert book.sheetnames == ["Summary", "Reps", "Units", "Periods"]
    assert [c.value for c in book["Reps"][1]] == PLAN_COLUMNS
    assert [c.value for c in book["Units"][1]] == UNIT_COLUMNS
    assert book["Reps"].max_row == 13 and book["Units"].max_row == 8 and book["Periods"].max_row == 49
    for sheet in book:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
        assert sheet["A1"].font.bold


def test_numbers_are_numbers_with_formats(book) -> None:
    reps = book["Reps"]
    formats = {"quota": "#,##0", "capacity_p50": "#,##0", "expected_payout": "#,##0", "stretch": "0.00",
               "p_attain": "0.0%", "change": "0.0%"}
    for name, fmt in formats.items():
        cells = [c for c in _column(reps, name) if c.value is not None]
        assert cells, name
        assert all(isinstance(c.value, int | float) and c.number_format == fmt for c in cells), name
    # a rep without a last quota has an empty cell, not a text 'nan'
    assert any(c.value is None for c in _column(reps, "last_quota"))
    assert all(isinstance(c.value, int | float) for c in _column(book["Periods"], "quota"))
    assert all(c.number_format == "0.0%" for c in _column(book["Units"], "p_attain"))


def test_summary_is_flat_key_value(book) -> None:
    rows = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert rows["fairness.stretch_min"] == pytest.approx(0.85)
    assert rows["reps_expected.ge_100"] == pytest.approx(0.45)
    assert rows["solver.status"] == "optimal"
    assert rows["target_basis.kind"] == "growth"
    assert isinstance(rows["total_quota"], int | float)
    assert rows["scenario"] == "fy2027 <base>"
    cells = {c.value: c for c in book["Summary"]["A"]}
    assert book["Summary"].cell(row=cells["p_company_target"].row, column=2).number_format == "0.0%"
    assert book["Summary"].cell(row=cells["company_target"].row, column=2).number_format == "#,##0"


def test_formula_like_text_is_escaped(book) -> None:
    teams = [c.value for c in _column(book["Reps"], "team_id")]
    assert "'" + EVIL_TEAM in teams and EVIL_TEAM not in teams
    assert "'" + EVIL_TEAM in [c.value for c in _column(book["Units"], "unit_id")]
    assert EVIL_REP in [c.value for c in _column(book["Reps"], "rep_id")]  # harmless text stays as is
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                assert not (isinstance(cell.value, str) and cell.value[:1] in "=+-@\t\r"), cell.value


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\r=x"])
def test_safe_text(text: str) -> None:
    assert safe_text(text) == "'" + text
    assert safe_text("plain") == "plain" and safe_text("a=b") == "a=b"


def test_deterministic_bytes() -> None:
    first, second = render_xlsx(make_result(12)), render_xlsx(make_result(12))
    assert first == second
    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml").decode()
    assert "2000-01-01" in core


def test_large_tables_continue_on_numbered_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(excel, "MAX_DATA_ROWS", 30)
    book = _open(render_xlsx(make_result(12)))  # 12 reps x 4 quarters = 48 period rows
    assert book.sheetnames == ["Summary", "Reps", "Units", "Periods", "Periods (2)"]
    assert book["Periods"].max_row == 31 and book["Periods (2)"].max_row == 19
    assert [c.value for c in book["Periods (2)"][1]] == ["rep_id", "period", "quota"]


def test_empty_result() -> None:
    result = PlanResult(name="empty", plan_year=2027, plan=pd.DataFrame(columns=PLAN_COLUMNS),
                        periods=pd.DataFrame(columns=["rep_id", "period", "quota"]),
                        units=pd.DataFrame(columns=UNIT_COLUMNS), summary={"scenario": "empty", "solver": {}})
    book = _open(render_xlsx(result))
    assert book.sheetnames == ["Summary", "Reps", "Units", "Periods"]
    assert book["Reps"].max_row == 1


def test_exceptions_sheet_when_the_run_records_them() -> None:
    from openpyxl import load_workbook

    result = make_result(10)
    result.summary["exceptions"] = [{"unit": EVIL_TEAM, "rep": None, "limit": "flex", "allowed": 0.05,
                                     "used": -0.058, "amount": 50_000.0, "reps": 0, "message": "=evil"}]
    book = load_workbook(io.BytesIO(render_xlsx(result)))
    assert book.sheetnames == ["Summary", "Reps", "Units", "Periods", "Exceptions"]
    rows = list(book["Exceptions"].iter_rows(values_only=True))
    assert rows[0] == ("unit", "rep", "limit", "allowed", "used", "amount", "reps", "message")
    assert rows[1][5] == 50_000 and rows[1][7] == "'=evil"
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True)}
    assert summary["exceptions"] == "1 (sheet Exceptions)"
