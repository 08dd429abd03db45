"""Process metrics (activities.csv): read and checked, tracked against per-role targets, paid on in a scorecard."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main

from conftest import write_tiny_company

# ka reps (A1, B1): 100 visits a year; longtail (A2, B2): 200. Collection days: lower is better, 40.
ACTIVITIES = """\
activities:
  metrics:
    visits: {targets: {ka: 100, longtail: 200}}
    collection_days: {aggregate: mean, better: lower, targets: {ka: 40, longtail: 40}}
    satisfaction: {aggregate: mean, targets: {ka: 4}}
  """
ROWS = """\
rep_id,date,metric,value
A1,2027-02-15,visits,60
A1,2027-11-30,visits,50
B1,2027-06-30,visits,80
A2,2027-03-31,collection_days,50
A2,2027-09-30,collection_days,30
B2,2027-05-31,collection_days,80
A1,2027-05-31,satisfaction,4.4
A1,2027-06-30,calls,9
"""


def _scenario(folder: Path, extra: str = ACTIVITIES) -> Path:
    scenario = write_tiny_company(folder)
    scenario.write_text(scenario.read_text() + extra)
    return scenario


def _run(folder: Path) -> Path:
    result = CliRunner().invoke(main, ["plan", str(_scenario(folder)), "--out", str(folder / "runs")])
    assert result.exit_code == 0, result.output
    return next(p for p in (folder / "runs" / "tiny").iterdir() if p.is_dir())


def _actuals(folder: Path) -> Path:
    path = folder / "actuals.csv"
    path.write_text("date,rep_id,amount,account_id\n2027-01-20,A1,10000,K1\n")
    return path


def test_track_paces_every_metric_against_its_role_target(tmp_path: Path) -> None:
    run = _run(tmp_path)
    acts = tmp_path / "activities.csv"
    acts.write_text(ROWS)
    result = CliRunner().invoke(main, ["track", str(run), "--actuals", str(_actuals(tmp_path)), "--as-of",
                                       "2027-12-31", "--activities", str(acts)])
    assert result.exit_code == 0, result.output
    assert "activities: green 3, yellow 0, red 7" in result.output
    folder = run / "track-2027-12-31"
    status = pd.read_csv(folder / "status_activities.csv").set_index(["metric", "rep_id"])
    # The year is over: plan to date is the whole target. A1 110 of 100 visits, B1 80 of 100, A2 none of 200.
    assert status.loc[("visits", "A1"), ["plan_to_date", "actual_to_date", "pace", "status"]].tolist() == \
        [100.0, 110.0, 1.1, "green"]
    assert status.loc[("visits", "B1"), "pace"] == pytest.approx(0.8) and status.loc[("visits", "B1"), "status"] == "red"
    assert status.loc[("visits", "A2"), "actual_to_date"] == 0 and status.loc[("visits", "A2"), "status"] == "red"
    # A mean, lower is better: A2 averages 40 days against 40 (pace 1), B2 80 (pace 0.5); A1, B1 record none.
    assert status.loc[("collection_days", "A2"), ["actual_to_date", "pace", "status"]].tolist() == [40.0, 1.0, "green"]
    assert status.loc[("collection_days", "B2"), "pace"] == pytest.approx(0.5)
    assert status.loc[("collection_days", "A1"), "status"] == "red" and pd.isna(status.loc[("collection_days", "A1"),
                                                                                          "pace"])
    # satisfaction has a target for ka only: longtail reps have no row; A1 4.4 of 4.
    assert set(status.loc["satisfaction"].index) == {"A1", "B1"}
    assert status.loc[("satisfaction", "A1"), "pace"] == pytest.approx(1.1)
    import json

    meta = json.loads((folder / "track.json").read_text())
    assert meta["activities"]["rows"] == 8 and meta["activities"]["rows_without_target"] == 1
    assert "status_activities.csv" in meta["outputs"]


def test_sum_targets_are_pro_rated_by_working_days(tmp_path: Path) -> None:
    run = _run(tmp_path)
    acts = tmp_path / "activities.csv"
    acts.write_text(ROWS)
    result = CliRunner().invoke(main, ["track", str(run), "--actuals", str(_actuals(tmp_path)), "--as-of",
                                       "2027-03-31", "--activities", str(acts)])
    assert result.exit_code == 0, result.output
    status = pd.read_csv(run / "track-2027-03-31" / "status_activities.csv").set_index(["metric", "rep_id"])
    a1 = status.loc[("visits", "A1")]
    assert 23 < a1["plan_to_date"] < 27 and a1["actual_to_date"] == 60  # the November row is after the as-of date
    assert status.loc[("collection_days", "A2"), "actual_to_date"] == 50  # a level: not pro-rated
    assert status.loc[("collection_days", "A2"), "plan_to_date"] == 40


def test_without_activities_track_writes_what_it_always_did(tmp_path: Path) -> None:
    run = _run(tmp_path)
    result = CliRunner().invoke(main, ["track", str(run), "--actuals", str(_actuals(tmp_path)), "--as-of",
                                       "2027-03-31"])
    assert result.exit_code == 0 and "activities:" not in result.output
    assert not (run / "track-2027-03-31" / "status_activities.csv").exists()


@pytest.mark.parametrize(("row", "column", "message"), [
    ("ZZ,2027-02-01,visits,3", "rep_id", "reps.csv"),
    ("A1,2027-02-01,visits,lots", "value", "number"),
    ("A1,2027-02-31,visits,3", "date", "date"),
    ("A1,2026-12-01,visits,3", "date", "outside the plan year"),
    ("A1,2027-02-01,,3", "metric", ""),
])
def test_bad_activity_rows_are_exit_2_naming_file_row_and_column(tmp_path: Path, row: str, column: str,
                                                                   message: str) -> None:
    run = _run(tmp_path)
    acts = tmp_path / "activities.csv"
    acts.write_text("rep_id,date,metric,value\nA1,2027-01-05,visits,1\n" + row + "\n")
    result = CliRunner().invoke(main, ["track", str(run), "--actuals", str(_actuals(tmp_path)), "--as-of",
                                       "2027-03-31", "--activities", str(acts)])
    assert result.exit_code == 2, result.output
    assert f"activities.csv:3:{column}:" in result.output and message in result.output
    assert not (run / "track-2027-03-31").exists()


@pytest.mark.parametrize(("block", "key"), [
    ("activities:\n  metrics:\n    visits: {targets: {ae: 120}}\n", "activities.metrics.visits.targets"),
    ("activities:\n  metrics:\n    visits: {aggregate: median}\n", "activities.metrics.visits.aggregate"),
    ("activities:\n  metrics:\n    visits: {targets: {ka: -1}}\n", "activities.metrics.visits.targets.ka"),
    ("activities:\n  metrics:\n    days: {better: lower, targets: {ka: 0}}\n", "activities.metrics.days"),
])
def test_bad_activity_targets_are_exit_2_naming_the_key(tmp_path: Path, block: str, key: str) -> None:
    result = CliRunner().invoke(main, ["validate", str(_scenario(tmp_path, block))])
    assert result.exit_code == 2 and key in result.output, result.output


SCORECARD = ACTIVITIES + """
incentives:
  plans:
    - name: card
      target_incentive: 10000
      components:
        - {measure: revenue, weight: 0.5, tiers: [{from: 0, rate: 1}]}
        - {measure: "activity:visits", weight: 0.3, tiers: [{from: 0, rate: 1}]}
        - {measure: "activity:collection_days", weight: 0.2, tiers: [{from: 0, rate: 1}]}
"""


def test_payout_reads_activity_attainments_from_the_file(tmp_path: Path) -> None:
    text = write_tiny_company(tmp_path).read_text()
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(text[: text.index("incentives:")] + text[text.index("simulation:"):] + SCORECARD)
    acts = tmp_path / "activities.csv"
    acts.write_text(ROWS + "A1,2027-07-31,collection_days,50\n")
    result = CliRunner().invoke(main, ["payout", str(scenario), "--plan", "card", "--quota", "100", "--sales", "90",
                                       "--activities", str(acts), "--rep", "A1"])
    assert result.exit_code == 0, result.output
    # revenue 0.9, visits 110 / 100 = 1.1, collection 40 / 50 = 0.8:
    # 10,000 x (0.5 x 0.9 + 0.3 x 1.1 + 0.2 x 0.8) = 9,400.
    assert "attainment 110.00%" in result.output and "attainment 80.00%" in result.output
    assert result.output.strip().splitlines()[-1].split()[-1] == "9,400.00"
    # Given by hand, an attainment wins over the file's.
    result = CliRunner().invoke(main, ["payout", str(scenario), "--plan", "card", "--quota", "100", "--sales", "90",
                                       "--activities", str(acts), "--rep", "A1", "--attainment",
                                       "activity:visits=1.0"])
    assert result.output.strip().splitlines()[-1].split()[-1] == "9,100.00"
    alone = CliRunner().invoke(main, ["payout", str(scenario), "--plan", "card", "--activities", str(acts)])
    assert alone.exit_code == 2 and "--activities and --rep together" in alone.output
