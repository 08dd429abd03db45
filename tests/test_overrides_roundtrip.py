"""plan.xlsx's Overrides sheet edited with openpyxl, fed back with `plan --overrides`, and
`compare --reps` listing who moved (issue 16, acceptance)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.planning import OVERRIDES_SHEET, QUOTA_HEADER

DATA = Path(__file__).parent / "data" / "company15"


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _latest(runs: Path, name: str) -> Path:
    return runs / name / (runs / name / "latest").read_text().strip()


def _edit(workbook: Path, out: Path, quotas: dict[str, object]) -> None:
    """Type ``quotas`` into the Overrides sheet as a user would, and save under ``out``."""
    book = openpyxl.load_workbook(workbook)
    sheet = book[OVERRIDES_SHEET]
    header = next(r for r in range(1, 20) if QUOTA_HEADER in [c.value for c in sheet[r]])
    heads = [c.value for c in sheet[header]]
    id_col, quota_col = heads.index("rep_id") + 1, heads.index(QUOTA_HEADER) + 1
    for row in range(header + 1, sheet.max_row + 1):
        rep = sheet.cell(row=row, column=id_col).value
        if rep in quotas:
            sheet.cell(row=row, column=quota_col).value = quotas[rep]
    book.save(out)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("overrides")
    scenario = folder / "c15.yaml"
    scenario.write_text(f"name: c15\ndata: {DATA}\nplan_year: 2027\nsimulation: {{draws: 500}}\n")
    _invoke("plan", str(scenario))
    return folder, scenario, _latest(folder / "runs", "c15")


def test_three_edited_quotas_are_held_exactly_and_compare_lists_who_moved(planned) -> None:
    folder, scenario, first = planned
    plan = pd.read_csv(first / "plan.csv", dtype={"rep_id": str})
    team = plan["team_id"].value_counts().index[0]  # the largest team: its reps share the difference
    chosen = plan[plan["team_id"] == team].sort_values("quota").iloc[[1, 3, 5]]
    wanted = {rep: int(q * 1.1) // 1000 * 1000 for rep, q in zip(chosen["rep_id"], chosen["quota"], strict=True)}
    edited = folder / "edited.xlsx"
    _edit(first / "plan.xlsx", edited, wanted)

    output = _invoke("plan", str(scenario), "--overrides", str(edited))
    assert "overrides: 3 quota(s) locked" in output
    second = _latest(folder / "runs", "c15")
    assert second != first
    new = pd.read_csv(second / "plan.csv", dtype={"rep_id": str}).set_index("rep_id")
    for rep, quota in wanted.items():
        assert new.loc[rep, "quota"] == quota
        assert new.loc[rep, "binding"] == "locked"
    assert int(new["quota"].sum()) == int(plan["quota"].sum())  # the company total holds
    manifest = json.loads((second / "manifest.json").read_text())
    digest = hashlib.sha256(edited.read_bytes()).hexdigest()
    assert manifest["inputs"]["overrides/edited.xlsx"] == digest
    assert manifest["overrides"]["sha256"] == digest
    assert manifest["overrides"]["quotas"] == {k: float(v) for k, v in sorted(wanted.items())}

    out = folder / "reps.csv"
    shown = _invoke("compare", str(first), str(folder / "runs" / "c15" / "latest"), "--reps", "--out", str(out))
    table = pd.read_csv(out, dtype={"id": str})
    listed = set(table.loc[table["section"] == "rep", "id"])
    old = plan.set_index("rep_id")
    moved = {rep for rep in old.index
             if old.loc[rep, "quota"] != new.loc[rep, "quota"]
             or abs(old.loc[rep, "stretch"] - new.loc[rep, "stretch"]) > 5e-5
             or abs(old.loc[rep, "p_attain"] - new.loc[rep, "p_attain"]) > 5e-5}
    assert set(wanted) <= listed
    assert listed == moved
    teammates = {rep for rep in old.index[old["team_id"] == team]
                 if old.loc[rep, "quota"] != new.loc[rep, "quota"]} - set(wanted)
    assert teammates and teammates <= listed  # the money the locks moved, rep by rep
    reps = table[table["section"] == "rep"].set_index("id")
    reason = [c for c in table.columns if c.startswith("reason:")][0]
    assert all(reps.loc[rep, reason].startswith("locked") for rep in wanted)
    delta = [c for c in table.columns if c.startswith("delta quota:")][0]
    for rep, quota in wanted.items():
        assert reps.loc[rep, delta] == quota - old.loc[rep, "quota"]
    for rep in wanted:
        assert rep in shown
    assert str(plan.loc[plan["rep_id"] == next(iter(wanted)), "name"].iloc[0]) in shown  # names on screen

    workbook = folder / "reps.xlsx"
    _invoke("compare", str(first), str(second), "--reps", "--out", str(workbook))
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["Headline", "Reps", "Units"]
    assert book["Reps"].max_row == len(listed) + 1


def test_a_re_plan_keeps_the_overrides_locked(planned) -> None:
    folder, scenario, first = planned
    rep = pd.read_csv(first / "plan.csv", dtype={"rep_id": str}).iloc[2]
    edited = folder / "one.xlsx"
    _edit(first / "plan.xlsx", edited, {rep["rep_id"]: int(rep["quota"]) + 10_000})
    _invoke("plan", str(scenario), "--overrides", str(edited))
    run = _latest(folder / "runs", "c15")
    from quotaopt.commands import inputs_of_run
    from quotaopt.io import read_run

    inputs = inputs_of_run(read_run(run))
    locked = inputs.company.reps.set_index("rep_id")["locked_quota"]
    assert locked[rep["rep_id"]] == int(rep["quota"]) + 10_000


@pytest.mark.parametrize(("value", "words"), [
    ("abc", "is not a number (got 'abc')"),
    (-5000, "must be a finite amount >= 0"),
    (1234567, "is not a whole multiple of allocation.unit 1000"),
])
def test_a_bad_cell_names_sheet_and_cell_and_writes_nothing(planned, value: object, words: str) -> None:
    folder, scenario, first = planned
    rep = pd.read_csv(first / "plan.csv", dtype={"rep_id": str})["rep_id"].iloc[0]
    edited = folder / "bad.xlsx"
    _edit(first / "plan.xlsx", edited, {rep: value})
    before = sorted((folder / "runs" / "c15").iterdir())
    result = CliRunner().invoke(main, ["plan", str(scenario), "--overrides", str(edited)])
    assert result.exit_code == 2, result.output
    assert f"bad.xlsx:{OVERRIDES_SHEET}!" in result.output and words in result.output
    assert "Traceback" not in result.output
    assert sorted((folder / "runs" / "c15").iterdir()) == before


def test_an_unknown_rep_and_a_file_that_is_no_workbook(planned, tmp_path: Path) -> None:
    folder, scenario, first = planned
    book = openpyxl.load_workbook(first / "plan.xlsx")
    sheet = book[OVERRIDES_SHEET]
    sheet.cell(row=4, column=1).value = "NOBODY"
    heads = [c.value for c in sheet[3]]
    sheet.cell(row=4, column=heads.index(QUOTA_HEADER) + 1).value = 100_000
    book.save(tmp_path / "unknown.xlsx")
    result = CliRunner().invoke(main, ["plan", str(scenario), "--overrides", str(tmp_path / "unknown.xlsx")])
    assert result.exit_code == 2 and f"{OVERRIDES_SHEET}!A4: rep 'NOBODY' is not in reps.csv" in result.output
    (tmp_path / "text.xlsx").write_text("not a workbook")
    result = CliRunner().invoke(main, ["plan", str(scenario), "--overrides", str(tmp_path / "text.xlsx")])
    assert result.exit_code == 2 and "not an Excel workbook" in result.output
