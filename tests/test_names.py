"""Names everywhere (issue 16): reps' and units' names, and managers when the data has them,
beside the ids in plan.csv, units.csv, status.csv, the pages and the workbook."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
from click.testing import CliRunner

from quotaopt.cli import main

from conftest import write_tiny_company


def _plan(scenario: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / scenario.stem / (out / scenario.stem / "latest").read_text().strip()


def test_names_beside_ids_in_every_output(tmp_path: Path) -> None:
    run = _plan(write_tiny_company(tmp_path), tmp_path / "runs")
    plan = pd.read_csv(run / "plan.csv", dtype=str)
    assert list(plan.columns[:4]) == ["rep_id", "name", "team_id", "team_name"]
    assert "manager" not in plan.columns  # only when the data has one
    assert dict(zip(plan["rep_id"], plan["name"], strict=True)) == {"A1": "Ann", "A2": "Bob", "B1": "Cid", "B2": "Dee"}
    assert set(plan.loc[plan["team_id"] == "EU", "team_name"]) == {"Europe"}
    units = pd.read_csv(run / "units.csv", dtype=str)
    assert list(units.columns[:2]) == ["unit_id", "name"]
    assert dict(zip(units["unit_id"], units["name"], strict=True)) == {"CO": "Company", "EU": "Europe", "US": "Americas"}
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "Ann" in page and "Americas" in page
    book = openpyxl.load_workbook(run / "plan.xlsx")
    assert "Ann" in [c.value for c in book["Reps"]["B"]]
    assert "Europe" in [c.value for c in book["Units"]["A"]]
    assert "Ann" in [c.value for c in book["Overrides"]["B"]]


def test_a_manager_column_rides_along(tmp_path: Path) -> None:
    scenario = write_tiny_company(tmp_path)
    data = tmp_path / "data"
    teams = pd.read_csv(data / "teams.csv", dtype=str)
    teams["manager"] = ["Zed Boss", "Una Lead", "Vic Lead"]
    teams.to_csv(data / "teams.csv", index=False)
    reps = pd.read_csv(data / "reps.csv", dtype=str)
    reps["manager"] = ["", "", "Wes Own", "", ""]  # a rep's own manager wins over the team's
    reps.to_csv(data / "reps.csv", index=False)
    run = _plan(scenario, tmp_path / "runs")
    plan = pd.read_csv(run / "plan.csv", dtype=str).set_index("rep_id")
    assert list(plan.columns[:4]) == ["name", "team_id", "team_name", "manager"]
    assert plan["manager"].to_dict() == {"A1": "Una Lead", "A2": "Una Lead", "B1": "Wes Own", "B2": "Vic Lead"}
    units = pd.read_csv(run / "units.csv", dtype=str).set_index("unit_id")
    assert units.loc["US", "manager"] == "Vic Lead"


def test_status_csv_and_page_carry_names(tmp_path: Path) -> None:
    run = _plan(write_tiny_company(tmp_path), tmp_path / "runs")
    bookings = pd.read_csv(tmp_path / "data" / "bookings.csv")
    last = bookings[bookings["date"].str.startswith("2026-0")].copy()
    last["date"] = last["date"].str.replace("2026-", "2027-", regex=False)
    actuals = tmp_path / "actuals.csv"
    last.to_csv(actuals, index=False)
    result = CliRunner().invoke(main, ["track", str(tmp_path / "runs" / "tiny" / "latest"), "--actuals", str(actuals),
                                       "--as-of", "2027-06-30"])
    assert result.exit_code == 0, result.output
    status = pd.read_csv(run / "track-2027-06-30" / "status.csv", dtype=str)
    assert list(status.columns[:3]) == ["kind", "id", "name"]
    named = dict(zip(status["id"], status["name"], strict=True))
    assert named["A1"] == "Ann" and named["US"] == "Americas"
    page = (run / "track-2027-06-30" / "status.html").read_text(encoding="utf-8")
    assert "Ann <small>A1</small>" in page and "<b>Americas</b> <small>US</small>" in page
