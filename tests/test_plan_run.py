"""The planning run end to end on the tiny company: files, determinism, crash safety, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.io import FAULT_ENV, PLAN_FILES, STAGING

RUN_FILES = {"plan.csv", "plan_periods.csv", "units.csv", "summary.json", "manifest.json", "report.html", "plan.xlsx"}


def _runs(root: Path, scenario: str = "tiny") -> list[Path]:
    folder = root / scenario
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def _plan(scenario: Path, out: Path) -> Path:
    before = set(_runs(out))
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (new,) = set(_runs(out)) - before
    return new


def test_plan_writes_the_contract_files(tiny: Path, tmp_path: Path) -> None:
    run = _plan(tiny, tmp_path / "runs")
    assert {p.name for p in run.iterdir()} == RUN_FILES
    plan = pd.read_csv(run / "plan.csv")
    assert list(plan.columns) == ["rep_id", "name", "team_id", "team_name", "role", "capacity_p10", "capacity_p50",
                                  "capacity_p90", "quota", "stretch", "last_quota", "change", "p_attain", "expected_payout", "binding"]
    assert sorted(plan["rep_id"]) == ["A1", "A2", "B1", "B2"]  # departed B3 gets no quota
    assert (plan["quota"] % 1000 == 0).all()
    periods = pd.read_csv(run / "plan_periods.csv")
    assert periods.groupby("rep_id")["quota"].sum().to_dict() == plan.set_index("rep_id")["quota"].to_dict()
    units = pd.read_csv(run / "units.csv")
    assert int(units.loc[units["unit_id"] == "CO", "quota"].iloc[0]) == int(plan["quota"].sum())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["total_quota"] == int(plan["quota"].sum())
    assert 0 <= summary["p_company_target"] <= 1
    manifest = json.loads((run / "manifest.json").read_text())
    assert set(manifest["outputs"]) == RUN_FILES - {"manifest.json"}
    assert "data/bookings.csv" in manifest["inputs"] and "scenario/tiny.yaml" in manifest["inputs"]
    audit = (tmp_path / "runs" / "audit.jsonl").read_text().splitlines()
    assert json.loads(audit[-1])["run_id"] == run.name


def test_same_inputs_give_byte_identical_plan_files(tiny: Path, tmp_path: Path) -> None:
    first = _plan(tiny, tmp_path / "runs")
    second = _plan(tiny, tmp_path / "runs")
    assert first != second
    for name in PLAN_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("fault", ["plan.csv", "summary.json", "report.html", "plan.xlsx", "manifest.json", "rename"])
def test_sigkill_while_writing_leaves_no_partial_run(tiny: Path, tmp_path: Path, fault: str) -> None:
    out = tmp_path / "runs"
    earlier = _plan(tiny, out)
    earlier_bytes = {p.name: p.read_bytes() for p in earlier.iterdir()}
    env = {**os.environ, FAULT_ENV: fault}
    proc = subprocess.run([sys.executable, "-m", "quotaopt", "plan", str(tiny), "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr  # killed by SIGKILL
    assert _runs(out) == [earlier]  # no partial run folder appeared
    assert {p.name: p.read_bytes() for p in earlier.iterdir()} == earlier_bytes
    assert len((out / "audit.jsonl").read_text().splitlines()) == 1
    # The next run completes and sweeps the dead process's staging folder away.
    _plan(tiny, out)
    assert not any((out / STAGING).iterdir())


def test_infeasible_team_target_is_exit_3_naming_team_and_numbers(tiny: Path, tmp_path: Path) -> None:
    teams = tiny.parent / "data" / "teams.csv"
    teams.write_text(teams.read_text().replace("EU,CO,Europe,", "EU,CO,Europe,5000000"))
    result = CliRunner().invoke(main, ["plan", str(tiny), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 3, result.output
    # A fixed target above the company total is a hard limit: no soft one can give way.
    assert "team EU: its fixed target 5M must fall by 3.52M" in result.output
    assert "Traceback" not in result.output and len(result.output.strip()) < 400
    assert not _runs(tmp_path / "runs")  # no run folder, only the diagnosis named in the message
    details = tmp_path / "runs" / "tiny" / "infeasibility.csv"
    assert str(details) in result.output
    table = pd.read_csv(details)
    assert "its fixed target 5M must fall by 3.52M" in table.set_index("unit_id").loc["EU", "gives_way"]


def test_bad_input_writes_nothing(tiny: Path, tmp_path: Path) -> None:
    reps = tiny.parent / "data" / "reps.csv"
    reps.write_text(reps.read_text().replace("A2,EU,longtail", "A2,EU,hunter"))
    result = CliRunner().invoke(main, ["plan", str(tiny), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert "reps.csv:3:role" in result.output
    assert not (tmp_path / "runs").exists()


def test_simulate_run_makes_a_child_run_with_new_draws(tiny: Path, tmp_path: Path) -> None:
    parent = _plan(tiny, tmp_path / "runs")
    result = CliRunner().invoke(main, ["simulate", str(parent), "--draws", "300", "--seed", "11"])
    assert result.exit_code == 0, result.output
    child = next(p for p in _runs(tmp_path / "runs") if p != parent)
    manifest = json.loads((child / "manifest.json").read_text())
    assert manifest["parent_run"] == parent.name
    summary = json.loads((child / "summary.json").read_text())
    assert summary["simulation"] == {"draws": 300, "seed": 11}
    a, b = pd.read_csv(parent / "plan.csv"), pd.read_csv(child / "plan.csv")
    assert a["quota"].tolist() == b["quota"].tolist()
    assert (parent / "plan_periods.csv").read_bytes() == (child / "plan_periods.csv").read_bytes()
    audit = [json.loads(line) for line in (tmp_path / "runs" / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["parent_run"] == parent.name


def test_simulate_run_refuses_changed_data(tiny: Path, tmp_path: Path) -> None:
    parent = _plan(tiny, tmp_path / "runs")
    with (tiny.parent / "data" / "bookings.csv").open("a") as fh:
        fh.write("2026-12-01,A1,5,K1\n")
    result = CliRunner().invoke(main, ["simulate", str(parent)])
    assert result.exit_code == 2
    assert "bookings.csv" in result.output and "changed since run" in result.output
