"""plan.xlsx: sheets, numbers as numbers with formats, formula injection defused, same bytes."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from quotaopt.planning import PLAN_COLUMNS, UNIT_COLUMNS, PlanResult, Summary
from quotaopt.report import excel, render_xlsx
from quotaopt.report._words import PLAN_TITLES
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


SHEETS = ["Summary", "Reps", "Quota by quarter", "Units", "Exceptions", "Overrides", "Details"]


def test_sheets(book) -> None:
    assert book.sheetnames == SHEETS
    assert [c.value for c in book["Reps"][1]] == [PLAN_TITLES[c] for c in PLAN_COLUMNS]
    assert book["Reps"].max_row == 13 and book["Units"].max_row == 8
    assert book["Reps"].freeze_panes == "C2"  # header, rep id and name stay in view
    for name in ("Reps", "Details"):
        assert book[name].auto_filter.ref and book[name].auto_filter.ref.startswith("A1:")
        assert book[name]["A1"].font.bold


def test_numbers_are_numbers_with_formats(book) -> None:
    reps = book["Reps"]
    formats = {"quota": "#,##0", "capacity_p50": "#,##0", "expected_payout": "#,##0", "stretch": "0.00",
               "p_attain": "0.0%", "change": "0.0%"}
    for name, fmt in formats.items():
        cells = [c for c in _column(reps, PLAN_TITLES[name]) if c.value is not None]
        assert cells, name
        assert all(isinstance(c.value, int | float) and c.number_format == fmt for c in cells), name
    # a rep without a last quota has an empty cell, not a text 'nan'
    assert any(c.value is None for c in _column(reps, PLAN_TITLES["last_quota"]))
    assert all(c.number_format == "0.0%" for c in _column(book["Units"], "Chance of reaching quota"))
    colours = {r.sqref for r in reps.conditional_formatting}
    assert any(str(ref).startswith("M2") for ref in colours)  # the chance column is coloured


def test_summary_in_words(book) -> None:
    rows = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows["Chance the company target is met"] == pytest.approx(0.64)
    assert rows["Reps expected to reach quota"] == pytest.approx(0.45)
    assert rows["Stretch from"] == pytest.approx(0.85)
    assert isinstance(rows["Total of rep quotas"], int | float)
    assert "optimal" in rows["Solver (technical)"]
    assert "--overrides" in rows["How to change quotas"]
    assert book["Summary"]["A1"].value == "Plan fy2027 <base> for 2027"
    cells = {c.value: c for c in book["Summary"]["A"]}
    assert book["Summary"].cell(row=cells["Chance the company target is met"].row, column=2).number_format == "0.0%"
    assert book["Summary"].cell(row=cells["Company target"].row, column=2).number_format == "#,##0"


def test_details_is_flat_key_value(book) -> None:
    rows = {r[0]: r[1] for r in book["Details"].iter_rows(min_row=2, values_only=True)}
    assert rows["fairness.stretch_min"] == pytest.approx(0.85)
    assert rows["solver.status"] == "optimal"
    assert rows["target_basis.kind"] == "growth"
    assert rows["scenario"] == "fy2027 <base>"


def test_period_grid_has_live_totals() -> None:
    result = make_result(12)
    book = _open(render_xlsx(result))
    grid = book["Quota by quarter"]
    heads = [c.value for c in grid[1]]
    assert heads == ["Rep ID", "Name", "Team", "2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4", "Total"]
    assert grid.max_row == 14  # 12 reps and the totals row
    assert grid["H2"].value == "=SUM(D2:G2)" and grid["D14"].value == "=SUM(D2:D13)"
    assert grid["H14"].value == "=SUM(H2:H13)"
    values = _open_values(render_xlsx(result))["Quota by quarter"]
    assert values["H14"].value == pytest.approx(float(result.plan["quota"].sum()))
    for row in range(2, 14):  # each rep's cached total is their quota
        rep = values.cell(row=row, column=1).value
        quota = result.plan.set_index("rep_id")["quota"].get(rep.removeprefix("'"))
        assert values.cell(row=row, column=8).value == pytest.approx(float(quota))


def _open_values(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), data_only=True)


def test_units_are_an_indented_tree(book) -> None:
    units = book["Units"]
    names = [units.cell(row=r, column=1).value for r in range(2, units.max_row + 1)]
    assert names == ["Company", "Europe", "Team One", "Team Two", "Americas", "'" + EVIL_TEAM, "Team Three"]
    indents = [units.cell(row=r, column=1).alignment.indent for r in range(2, units.max_row + 1)]
    levels = [units.cell(row=r, column=3).value for r in range(2, units.max_row + 1)]
    assert indents == levels
    # every unit comes after its parent
    ids = [units.cell(row=r, column=2).value for r in range(2, units.max_row + 1)]
    assert ids.index("EU") < ids.index("T1") and ids.index("US") < ids.index("T3")


def test_units_sheet_lists_every_unit_of_a_broken_tree() -> None:
    # T3 names a parent that is not there and T1, T2 are each other's parent: each becomes a
    # root (sorted by id after CO) with the reps of its own subtree; no unit is lost.
    result = make_result(12)
    parents = result.units["parent_id"].where(~result.units["unit_id"].isin(["T1", "T2", "T3"]),
                                              result.units["unit_id"].map({"T1": "T2", "T2": "T1", "T3": "gone"}))
    result.units = result.units.assign(parent_id=parents)
    units = _open(render_xlsx(result))["Units"]
    ids = [c.value for c in _column(units, "Unit ID")]
    assert ids == ["CO", "EU", "US", "'" + EVIL_TEAM, "T1", "T2", "T3"]
    assert [c.value for c in _column(units, "Reps")] == [3, 0, 3, 3, 3, 3, 3]


def test_overrides_sheet_lists_every_rep_with_an_empty_quota_column(book) -> None:
    sheet = book["Overrides"]
    heads = [c.value for c in sheet[3]]
    assert heads[0] == "rep_id" and heads[-1] == "new_quota" and "name" in heads
    assert sheet.max_row == 3 + 12
    assert all(sheet.cell(row=r, column=len(heads)).value is None for r in range(4, sheet.max_row + 1))
    assert sheet.data_validations.dataValidation  # amounts >= 0 only


def test_formula_like_text_is_escaped(book) -> None:
    teams = [c.value for c in _column(book["Reps"], "Team ID")]
    assert "'" + EVIL_TEAM in teams and EVIL_TEAM not in teams
    assert "'" + EVIL_TEAM in [c.value for c in book["Units"]["B"]]
    assert EVIL_REP in [c.value for c in _column(book["Reps"], "Rep ID")]  # harmless text stays as is
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # the only formulas: the grid's SUMs
                    assert sheet.title.startswith("Quota by") and str(cell.value).startswith("=SUM("), cell.value
                    continue
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
    monkeypatch.setattr(excel, "MAX_DATA_ROWS", 8)
    book = _open(render_xlsx(make_result(12)))
    assert book.sheetnames[:3] == ["Summary", "Reps", "Reps (2)"]
    assert book["Reps"].max_row == 9 and book["Reps (2)"].max_row == 5


def test_empty_result() -> None:
    result = PlanResult(name="empty", plan_year=2027, plan=pd.DataFrame(columns=PLAN_COLUMNS),
                        periods=pd.DataFrame(columns=["rep_id", "period", "quota"]),
                        units=pd.DataFrame(columns=UNIT_COLUMNS),
                        summary=Summary(scenario="empty", plan_year=2027, company_target=0.0))
    book = _open(render_xlsx(result))
    assert book.sheetnames == ["Summary", "Reps", "Units", "Exceptions", "Overrides", "Details"]
    assert book["Reps"].max_row == 1


def test_exceptions_sheet_lists_exceptions_and_binding_reasons() -> None:
    result = make_result(10)
    exceptions = [{"unit": EVIL_TEAM, "rep": None, "limit": "flex", "allowed": 0.05,
                   "used": -0.058, "amount": 50_000.0, "reps": 0, "message": "=evil"}]
    result.summary = Summary.model_validate({**result.summary.record(), "exceptions": exceptions})
    book = _open(render_xlsx(result))
    rows = list(book["Exceptions"].iter_rows(values_only=True))
    assert rows[0] == ("unit", "rep", "limit", "allowed", "used", "amount", "reps", "message")
    assert rows[1][5] == 50_000 and rows[1][7] == "'=evil"
    reasons = {r[0]: (r[1], r[2]) for r in rows[3:] if r[0]}
    counts = result.plan["binding"].value_counts()
    for binding, count in counts.items():
        assert reasons[binding][0] == count and reasons[binding][1]
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Exceptions"] == 1
