"""Company data as companies keep it: CRM exports in their dialect, Excel workbooks, every problem in a file.

tests/data/messy15 is tests/data/company15 as a CRM and Excel export it: a UTF-8 byte-order
mark and CRLF line ends, semicolons (teams.csv keeps commas), US dates, thousands
separators, a TOTAL line under the bookings, and reps.csv in Windows cp1252 with three
accented names. Read with the right ``data`` keys it plans byte for byte like the clean
folder; without each key, the message names the key that would read it.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import quotaopt as qo
from quotaopt.cli import main
from quotaopt.data_source import DataSource
from quotaopt.errors import InputError
from quotaopt.io import load_company

DATA = Path(__file__).parent / "data"
PLAN_FILES = ("plan.csv", "units.csv", "plan_periods.csv", "summary.json")
#: The accented names of messy15/reps.csv (cp1252), and the ASCII ones of company15.
ACCENTED = {"Quinn Garcia": "Quinn García", "Tara Gross": "Tara Groß", "Karl Garcia": "Karl Müller"}
MESSY_KEYS: dict[str, Any] = {
    "sep": ";", "date_format": "%m/%d/%Y", "thousands": ",", "skip_rows_labelled": ["TOTAL"],
    "tables": {"teams": {"sep": ","}, "reps": {"encoding": "cp1252"}},
}
SCENARIO = {"name": "s15", "plan_year": 2027, "simulation": {"draws": 300}}


def _scenario(folder: Path, data: Any, name: str = "s15") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**SCENARIO, "name": name, "data": data}, sort_keys=False))
    return path


def _plan_files(scenario: Path, out: Path) -> dict[str, bytes]:
    _, written = qo.plan(scenario, out=out)
    return {name: (written.path / name).read_bytes() for name in PLAN_FILES}


@pytest.fixture(scope="module")
def clean_twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """company15 with the accented names of messy15, as plain UTF-8 CSV."""
    folder = tmp_path_factory.mktemp("twin") / "data"
    shutil.copytree(DATA / "company15", folder)
    text = (folder / "reps.csv").read_text(encoding="utf-8")
    for plain, accented in ACCENTED.items():
        text = text.replace(f",{plain},", f",{accented},")
    (folder / "reps.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def clean_plan(clean_twin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("clean")
    return _plan_files(_scenario(folder, str(clean_twin)), folder / "runs")


def _messy(**without: Any) -> dict[str, Any]:
    keys = json.loads(json.dumps(MESSY_KEYS))
    for key in without:
        if key.startswith("tables."):
            keys["tables"].pop(key.removeprefix("tables."))
        else:
            keys.pop(key)
    return {"path": str(DATA / "messy15"), **keys}


def test_the_messy_export_reads_as_the_clean_folder(clean_twin: Path) -> None:
    messy = load_company(DataSource(**_messy()))
    clean = load_company(clean_twin)
    for table in ("teams", "reps", "bookings", "accounts", "territories"):
        pd.testing.assert_frame_equal(getattr(messy, table), getattr(clean, table), check_exact=True)
    assert messy.reads.tables is not None and messy.reads.tables["bookings"].skipped_rows == 1  # the TOTAL line, counted


@pytest.mark.slow
def test_the_messy_export_plans_byte_for_byte_like_the_clean_folder(tmp_path: Path,
                                                                    clean_plan: dict[str, bytes]) -> None:
    messy = _plan_files(_scenario(tmp_path, _messy()), tmp_path / "runs")
    assert messy == clean_plan
    manifest = json.loads(next((tmp_path / "runs" / "s15").glob("*/manifest.json")).read_text())
    assert manifest["data_read"]["tables"]["bookings"]["skipped_rows"] == 1
    assert manifest["scenario"]["data"]["date_format"] == "%m/%d/%Y"


@pytest.mark.parametrize(("without", "names"), [
    ("date_format", "reps.csv:2:hire_date: not a date (got '08/13/2021', expected YYYY-MM-DD); it looks like "
     "month/day/year: set data.date_format: '%m/%d/%Y'"),
    ("thousands", "reps.csv:2:last_quota: not a number (got '1,229,000'); it looks like ',' separates thousands: "
     "set data.thousands: ','"),
    ("skip_rows_labelled", "bookings.csv:2480: looks like a totals line (first cell 'TOTAL'), not data: set "
     "data.skip_rows_labelled: ['TOTAL'] to skip it"),
    ("sep", "the header looks separated by ';': set data.sep: ';'"),
    ("tables.reps", "reps.csv:2: is not UTF-8 text; it looks like Windows Western (cp1252) text: set data.encoding: "
     "cp1252"),
    ("tables.teams", "teams.csv:1:team_id: missing required column (expected columns team_id, parent_id); the "
     "header looks separated by ',': set data.sep: ','"),
])
def test_each_dialect_fault_names_the_key_that_reads_it(tmp_path: Path, without: str, names: str) -> None:
    result = CliRunner().invoke(main, ["validate", str(_scenario(tmp_path, _messy(**{without: True})))])
    assert result.exit_code == 2, result.output
    assert names in result.stderr
    assert "Traceback" not in result.output


def test_the_pandas_reader_and_the_arrow_reader_agree(clean_twin: Path) -> None:
    """The reader of quotaopt 0.x (every cell a Python string) is the cross-check of the columnar one."""
    for source in (DataSource(path=str(clean_twin)), DataSource(**_messy())):
        arrow, pandas = load_company(source), load_company(source, reader="pandas")
        for table in ("teams", "reps", "bookings", "accounts", "territories"):
            pd.testing.assert_frame_equal(getattr(arrow, table), getattr(pandas, table), check_exact=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """A CSV table as Excel would hold it: numbers as numbers, dates as dates, the rest as text."""
    out = frame.copy()
    for column in out.columns:
        if column in ("date", "hire_date"):
            out[column] = pd.to_datetime(out[column])
        else:
            numbers = pd.to_numeric(out[column], errors="coerce")
            if numbers.notna().sum() == (out[column] != "").sum() and column not in ("team_id", "parent_id"):
                out[column] = numbers
    return out


def _workbook(folder: Path, target: Path) -> None:
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for path in sorted(folder.glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            _typed(frame).to_excel(writer, sheet_name=path.stem, index=False)


@pytest.mark.slow
def test_one_workbook_plans_byte_for_byte_like_the_csv_folder(tmp_path: Path, clean_twin: Path,
                                                             clean_plan: dict[str, bytes]) -> None:
    workbook = tmp_path / "company.xlsx"
    _workbook(clean_twin, workbook)
    assert _plan_files(_scenario(tmp_path, str(workbook)), tmp_path / "runs") == clean_plan


def test_one_xlsx_per_table_reads_like_the_csv_folder(tmp_path: Path, clean_twin: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for path in clean_twin.glob("*.csv"):
        _workbook_of_one(path, folder / f"{path.stem}.xlsx")
    excel, csv_folder = load_company(folder), load_company(clean_twin)
    for table in ("teams", "reps", "bookings", "accounts", "territories"):
        pd.testing.assert_frame_equal(getattr(excel, table), getattr(csv_folder, table), check_exact=True)
    assert sorted(excel.files) == ["accounts.xlsx", "bookings.xlsx", "reps.xlsx", "teams.xlsx", "territories.xlsx"]


def _workbook_of_one(path: Path, target: Path) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    _typed(frame).to_excel(target, sheet_name="Sheet1", index=False, engine="openpyxl")


def test_a_workbook_without_a_sheet_names_the_sheets_it_has(tmp_path: Path, clean_twin: Path) -> None:
    workbook = tmp_path / "company.xlsx"
    _workbook(clean_twin, workbook)
    from openpyxl import load_workbook

    book = load_workbook(workbook)
    book["reps"].title = "Reps export"
    book.save(workbook)
    with pytest.raises(InputError, match=r"company.xlsx: no sheet 'reps' \(sheets: .*Reps export"):
        load_company(workbook)
    company = load_company(DataSource(path=str(workbook), tables={"reps": "Reps export"}))
    assert len(company.reps) == 24


def test_excel_where_csv_is_expected_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(DATA / "company15", folder)
    _workbook_of_one(folder / "reps.csv", folder / "reps.xlsx")
    (folder / "reps.csv").write_bytes((folder / "reps.xlsx").read_bytes())  # saved as .csv by mistake
    (folder / "reps.xlsx").unlink()
    with pytest.raises(InputError, match="reps.csv: is an Excel workbook, not CSV text: rename it reps.xlsx"):
        load_company(folder)
    (folder / "reps.csv").rename(folder / "reps.xls")
    (folder / "reps.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    with pytest.raises(InputError, match=r"reps.xls: is the old Excel format \(.xls\)"):
        load_company(folder)


def test_every_problem_goes_to_the_problems_file_and_the_json(tmp_path: Path) -> None:
    """442 bad dates: the screen shows 20 and the count; the file and --json hold all 442 rows."""
    folder = tmp_path / "data"
    shutil.copytree(DATA / "company15", folder)
    bookings = pd.read_csv(folder / "bookings.csv", dtype=str, keep_default_na=False)
    bookings.loc[:441, "date"] = "31.12.2024"
    bookings.to_csv(folder / "bookings.csv", index=False)
    scenario = _scenario(tmp_path, str(folder))
    problems = tmp_path / "problems.csv"
    result = CliRunner().invoke(main, ["validate", str(scenario), "--problems", str(problems), "--json"])
    assert result.exit_code == 2
    shown = [line for line in result.stderr.splitlines() if line.startswith("bookings.csv:")]
    assert len(shown) == 20 and "... and 422 more problem(s)" in result.stderr
    rows = list(csv.DictReader(io.StringIO(problems.read_text(encoding="utf-8"))))
    assert len(rows) == 442
    assert rows[0] == {"file": "bookings.csv", "row": "2", "column": "date", "value": "31.12.2024",
                       "expected": "YYYY-MM-DD", "message": "not a date (got '31.12.2024', expected YYYY-MM-DD); it "
                       "looks like day.month.year: set data.date_format: '%d.%m.%Y'"}
    assert [r["row"] for r in rows] == [str(i) for i in range(2, 444)]
    document = json.loads(result.stdout)
    assert document["valid"] is False and document["problem_count"] == 442
    assert document["problems"][441]["row"] == 443


def test_plan_writes_the_problems_file_on_bad_input(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(DATA / "company15", folder)
    text = (folder / "reps.csv").read_text()
    (folder / "reps.csv").write_text(text.replace("2021-08-13", "13/08/2021", 1))
    problems = tmp_path / "problems.csv"
    result = CliRunner().invoke(main, ["plan", str(_scenario(tmp_path, str(folder))), "--out", str(tmp_path / "runs"),
                                       "--problems", str(problems)])
    assert result.exit_code == 2
    rows = list(csv.DictReader(io.StringIO(problems.read_text(encoding="utf-8"))))
    assert [(r["file"], r["row"], r["column"], r["value"]) for r in rows] == [("reps.csv", "2", "hire_date",
                                                                               "13/08/2021")]
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("keys", "message"), [
    ({"path": "x", "url": "sqlite://"}, "exactly one of path"),
    ({"path": "x", "queries": {"reps": "select 1"}}, "queries need a database"),
    ({"path": "x", "encoding": "klingon"}, "unknown encoding 'klingon'"),
    ({"path": "x", "date_format": "%m/%Y"}, "does not write and read back a whole date"),
    ({"path": "x", "thousands": ".", "decimal": "."}, "thousands and decimal are both '.'"),
    ({"path": "x", "tables": {"reps": {"colour": "red"}}}, "data.tables.reps.colour: unknown key"),
    ({"path": "x", "tables": {"people": "reps.csv"}}, "data.tables.people"),
])
def test_bad_data_keys_name_the_key(tmp_path: Path, keys: dict[str, Any], message: str) -> None:
    result = CliRunner().invoke(main, ["validate", str(_scenario(tmp_path, keys))])
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
